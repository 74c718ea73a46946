package server

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/query"
)

// Query parameters of the dataset routes (DESIGN section 4).
const (
	paramColumns         = "columns"
	paramFilter          = "filter"
	paramSorts           = "sorts"
	paramLimit           = "limit"
	paramOffset          = "offset"
	paramTimeFrameBegin  = "timeFrame[begin]"
	paramTimeFrameEnd    = "timeFrame[end]"
	paramFilteredCount   = "reportFilteredCount"
	paramTotalCount      = "reportTotalCount"
	paramMaterialized    = "timeFrame[materializedView]"
	paramCursor          = "cursor"
	paramReturnAsStream  = "returnAsStream"
	paramReturnAsZipFile = "returnAsZipFile"
)

// knownParams are the parameters of the dataset routes.
var knownParams = []string{paramColumns, paramFilter, paramSorts, paramLimit, paramOffset, paramTimeFrameBegin,
	paramTimeFrameEnd, paramMaterialized, paramFilteredCount, paramTotalCount, paramCursor, paramReturnAsStream, paramReturnAsZipFile}

// listRequest is a parsed dataset request: what to ask the store, and how to page.
type listRequest struct {
	query.Request
	// Columns of the response in order: the requested ones, else the whole catalog.
	columns []string
	// page is the offset parameter as given (pages of Limit rows).
	page                        int64
	reportFiltered, reportTotal bool
	// stream and zip ask for every matching row (returnAsStream, returnAsZipFile);
	// limitSet says that limit was given (it then caps an export).
	stream, zip, limitSet bool
	// cursor is the cursor parameter as given; timeFrameText is the time frame as given,
	// which a cursor is bound to (relative times resolve differently on each page).
	cursor, timeFrameText string
	// cursorMode says that cursor was given (empty: the first keyset page).
	cursorMode bool
}

// export reports whether the request asks for every row rather than a page.
func (r listRequest) export() bool { return r.stream || r.zip }

// paramParser collects every problem with the parameters instead of stopping at the
// first, so that one round trip shows the client all of them.
type paramParser struct {
	ds   query.Dataset
	now  time.Time
	errs query.ErrorList
	seen map[string]bool
}

// parseListRequest reads the query string of a dataset route. The returned error is a
// query.ErrorList (400) listing each bad parameter.
func parseListRequest(c *fiber.Ctx, ds query.Dataset, now time.Time) (listRequest, error) {
	var pairs [][2]string
	// VisitAll yields keys and values in request order; both are copied (fasthttp reuses them).
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		pairs = append(pairs, [2]string{string(k), string(v)})
	})
	return parsePairs(ds, now, pairs)
}

// parsePairs turns key=value parameters (from the query string or a JSON body) into a
// request. GET and POST share it, so both read every parameter the same way.
func parsePairs(ds query.Dataset, now time.Time, pairs [][2]string) (listRequest, error) {
	p := &paramParser{ds: ds, now: now, seen: map[string]bool{}}
	r := listRequest{Request: query.Request{Dataset: ds, Limit: DefaultLimit}}
	for _, kv := range pairs {
		p.param(&r, kv[0], kv[1])
	}
	p.finish(&r)
	if len(p.errs) > 0 {
		return listRequest{}, p.errs
	}
	return r, nil
}

// param handles one key=value pair of the query string.
func (p *paramParser) param(r *listRequest, key, val string) {
	repeatable := key == paramColumns || key == paramSorts
	if p.seen[key] && !repeatable {
		p.add(key, val, fmt.Sprintf("parameter %s is given more than once", key), "give it once")
		return
	}
	p.seen[key] = true
	switch key {
	case paramColumns:
		r.Columns = append(r.Columns, p.columns(val)...)
	case paramSorts:
		p.sorts(r, val)
	case paramFilter:
		r.Filter = val
	case paramLimit:
		r.Limit, r.limitSet = p.integer(key, val, 1, math.MaxInt64), true
	case paramOffset:
		r.page = p.integer(key, val, 0, math.MaxInt64)
	case paramTimeFrameBegin:
		r.TimeFrame.Begin = p.time(key, val)
		r.timeFrameText += "begin=" + val + "\n"
	case paramTimeFrameEnd:
		r.TimeFrame.End = p.time(key, val)
		r.timeFrameText += "end=" + val + "\n"
	case paramMaterialized:
		p.materializedView(r, val)
		r.timeFrameText += "view=" + val + "\n"
	case paramFilteredCount:
		r.reportFiltered = p.boolean(key, val)
	case paramTotalCount:
		r.reportTotal = p.boolean(key, val)
	case paramReturnAsStream:
		r.stream = p.boolean(key, val)
	case paramReturnAsZipFile:
		r.zip = p.boolean(key, val)
	case paramCursor:
		r.cursor, r.cursorMode = val, true
	default:
		p.unknown(key, val)
	}
}

// finish checks what depends on several parameters and fills the derived fields.
func (p *paramParser) finish(r *listRequest) {
	if r.Limit > 0 && r.page > math.MaxInt64/r.Limit {
		p.add(paramOffset, strconv.FormatInt(r.page, 10), "offset is too large", "")
	} else {
		r.Offset = r.page * r.Limit
	}
	p.exclusive(r, paramMaterialized, paramTimeFrameBegin, paramTimeFrameEnd)
	p.exclusive(r, paramCursor, paramOffset, paramReturnAsStream, paramReturnAsZipFile)
	p.exclusive(r, paramOffset, paramReturnAsStream, paramReturnAsZipFile)
	tf := r.TimeFrame
	if !tf.Begin.IsZero() && !tf.End.IsZero() && tf.End.Before(tf.Begin) {
		p.add(paramTimeFrameEnd, tf.End.Format(time.RFC3339Nano), "timeFrame[end] is before timeFrame[begin]", "")
	}
	r.columns = r.Columns
	if len(r.columns) == 0 {
		r.Columns = nil
		for _, f := range query.Fields(p.ds) {
			r.columns = append(r.columns, f.Name)
		}
	}
}

// exclusive reports first given together with any of others (a true boolean counts as
// given; false does not).
func (p *paramParser) exclusive(r *listRequest, first string, others ...string) {
	given := func(k string) bool {
		switch k {
		case paramReturnAsStream:
			return r.stream
		case paramReturnAsZipFile:
			return r.zip
		}
		return p.seen[k]
	}
	if !given(first) {
		return
	}
	for _, o := range others {
		if given(o) {
			p.add(first, "", fmt.Sprintf("%s cannot be combined with %s", first, o), "")
			return
		}
	}
}

// columns splits one columns value on commas and checks each name against the catalog,
// so that the error names the closest valid fields.
func (p *paramParser) columns(val string) []string {
	var out []string
	for name := range strings.SplitSeq(val, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			p.add(paramColumns, val, "empty column name", "list field names separated by commas, or repeat the parameter")
			continue
		}
		if _, ok := query.LookupField(p.ds, name); !ok {
			p.unknownField(paramColumns, name)
			continue
		}
		out = append(out, name)
	}
	return out
}

// sorts parses one sorts value ("field asc|desc"; several may be comma-separated).
func (p *paramParser) sorts(r *listRequest, val string) {
	for part := range strings.SplitSeq(val, ",") {
		s, err := query.ParseSort(strings.TrimSpace(part))
		if err != nil {
			p.addErr(paramSorts, err)
			continue
		}
		if _, ok := query.LookupField(p.ds, s.Field); !ok {
			p.unknownField(paramSorts, s.Field)
			continue
		}
		r.Sorts = append(r.Sorts, s)
	}
}

func (p *paramParser) integer(key, val string, lo, hi int64) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
	if err != nil || n < lo || n > hi {
		hint := fmt.Sprintf("an integer from %d to %d", lo, hi)
		if hi == math.MaxInt64 {
			hint = fmt.Sprintf("an integer >= %d", lo)
		}
		p.add(key, val, fmt.Sprintf("%s must be %s", key, hint), "")
		return 0
	}
	return n
}

func (p *paramParser) boolean(key, val string) bool {
	b, err := strconv.ParseBool(val)
	if err != nil {
		p.add(key, val, fmt.Sprintf("%s must be true or false", key), "")
	}
	return b
}

// time reads a time frame bound (see parseTime).
func (p *paramParser) time(key, val string) time.Time {
	t, err := parseTime(val, p.now)
	if err != nil {
		p.add(key, val, fmt.Sprintf("%s must be %s", key, timeSyntax), timeExamples)
		return time.Time{}
	}
	return t
}

// materializedView sets the time frame of a named view (see materializedViews).
func (p *paramParser) materializedView(r *listRequest, val string) {
	d, ok := materializedViews[val]
	if !ok {
		p.add(paramMaterialized, val, fmt.Sprintf("unknown materialized view %q", val), "use one of "+strings.Join(materializedViewNames, ", "))
		return
	}
	r.TimeFrame.Begin = p.now.Add(-d).UTC()
}

func (p *paramParser) unknown(key, val string) {
	hint := "known parameters: " + strings.Join(knownParams, ", ")
	p.add(key, val, fmt.Sprintf("unknown parameter %q", key), hint)
}

func (p *paramParser) unknownField(param, name string) {
	hint := ""
	if sugg := query.SuggestFields(p.ds, name); len(sugg) > 0 {
		hint = "did you mean " + strings.Join(sugg, ", ") + "?"
	}
	p.errs = append(p.errs, &query.Error{Kind: query.UnknownFieldError, Param: param, Token: name,
		Message: fmt.Sprintf("unknown field %q in dataset %s", name, p.ds), Hint: hint})
}

func (p *paramParser) add(param, token, msg, hint string) {
	p.errs = append(p.errs, paramError(param, token, msg, hint))
}

// paramError is a problem with a parameter's value as a whole (no position inside it).
func paramError(param, token, msg, hint string) *query.Error {
	return &query.Error{Kind: query.ValueError, Param: param, Token: token, Message: msg, Hint: hint}
}

// addErr records an error from the query package under param.
func (p *paramParser) addErr(param string, err error) {
	if list, ok := err.(query.ErrorList); ok {
		for _, e := range list {
			e.Param = param
			p.errs = append(p.errs, e)
		}
		return
	}
	if e, ok := err.(*query.Error); ok {
		e.Param = param
		p.errs = append(p.errs, e)
		return
	}
	p.errs = append(p.errs, paramError(param, "", err.Error(), ""))
}
