package query

import (
	"fmt"
	"strings"
)

// Statement is SQL ready to run: the text, its bind arguments in order, and the fields
// of the result columns (named as the fields).
type Statement struct {
	SQL     string
	Args    []any
	Columns []Field
}

// Dialect renders a checked Plan as SQL for one database. Implementations must bind
// every value from the request as a parameter and take identifiers only from the catalog.
type Dialect interface {
	// Name identifies the dialect ("duckdb").
	Name() string
	// Select renders the rows of the plan.
	Select(p *Plan) (*Statement, error)
	// Count renders SELECT count(*) of the rows the plan's filter and time frame select,
	// ignoring columns, sorts, limit and offset.
	Count(p *Plan) (*Statement, error)
	// Numbered renders the rows of a plan without limit or offset, in any order, with
	// their 0-based position in the plan's order (sorts, then tie-break) as a trailing
	// PositionField column.
	Numbered(p *Plan) (*Statement, error)
	// Extent renders the end of the stored row positions of the plan's table: one past
	// the last, 0 for an empty table. The plan is scannable.
	Extent(p *Plan) (*Statement, error)
}

// PositionField is the trailing column of a CompileNumbered statement.
var PositionField = Field{Name: "cs_pos", Type: Int, Description: "The row's 0-based position in the request's order."}

// ExtentField describes the single column of a CompileExtent statement.
var ExtentField = Field{Name: "extent", Type: Int, Description: "One past the last stored row position."}

// CountField describes the single column of a CompileCount statement.
var CountField = Field{Name: "count", Type: Int, Description: "Number of rows (rollups for discovery) that match."}

// Compile checks req and renders its rows query in dialect d. Errors are an ErrorList.
//
// Discovery rows tie-break on the stored flow id rather than the flow key: ordering a
// top-N by one integer instead of ~13 key columns made filtered pages of 100 at 1M
// observations 15-35% faster, and the order stays total and stable within a database.
// Cursors (CompileAfter) keep the flow key, whose values they carry.
func Compile(req Request, d Dialect) (*Statement, error) {
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	tieBreakByRowID(p)
	return d.Select(p)
}

// tieBreakByRowID makes discovery break ties by the stored flow id (see Compile).
func tieBreakByRowID(p *Plan) {
	if p.Dataset == Discovery && len(p.TieBreak) > 0 {
		p.TieBreak, p.TieBreakByRowID = nil, true
	}
}

// CompileNumbered checks req, which has no limit or offset, and renders its rows in any
// order with their position in req's order (as Compile orders them) as the trailing
// column PositionField: a sorted result computed once, to be read in ranges of
// positions. Errors are an ErrorList.
func CompileNumbered(req Request, d Dialect) (*Statement, error) {
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	if req.Limit != 0 || req.Offset != 0 || req.Slice != nil {
		return nil, ErrorList{{Kind: ValueError, Message: "numbered rows cannot have a limit, an offset or a row slice"}}
	}
	tieBreakByRowID(p)
	return d.Numbered(p)
}

// CompileCount checks req and renders a count of the rows it selects (rollups for
// discovery), ignoring limit, offset, sorts and columns. Errors are an ErrorList.
func CompileCount(req Request, d Dialect) (*Statement, error) {
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	return d.Count(p)
}

// CompileExtent checks that req is Scannable and renders the extent of its table, the
// bound for its slices (Request.Slice). Errors are an ErrorList.
func CompileExtent(req Request, d Dialect) (*Statement, error) {
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	if !Scannable(req) {
		return nil, ErrorList{errNotScannable()}
	}
	return d.Extent(p)
}

func errNotScannable() *Error {
	return &Error{Kind: ValueError, Message: "a table scan (row slices) cannot have sorts, a limit, an offset or a discovery time frame"}
}

// Analyze parses and checks every part of req and returns the dialect-neutral plan.
// It reports all the errors it finds (filter, columns, sorts, limits) as one ErrorList.
func Analyze(req Request) (*Plan, error) {
	if !ValidDataset(req.Dataset) {
		return nil, ErrorList{{Kind: ValueError, Param: ParamDataset, Token: string(req.Dataset),
			Message: fmt.Sprintf("unknown dataset %q", req.Dataset), Hint: "use discovery or cert"}}
	}
	p := &Plan{Dataset: req.Dataset, TimeFrame: req.TimeFrame, Limit: req.Limit, Offset: req.Offset, Slice: req.Slice}
	var errs ErrorList
	expr, err := Parse(req.Filter)
	if err != nil {
		errs = append(errs, err.(ErrorList)...)
	} else if expr != nil {
		p.Filter = expr
		cond, err := Check(req.Dataset, req.Filter, expr)
		if err != nil {
			errs = append(errs, err.(ErrorList)...)
		} else {
			p.Where = cond
			p.Pre, p.Post = splitRollup(cond)
		}
	}
	p.Columns, errs = resolveColumns(req, errs)
	p.Sorts, errs = resolveSorts(req, errs)
	if !req.AnyOrder || len(req.Sorts) > 0 {
		p.TieBreak = tieBreak(req.Dataset)
	}
	errs = checkPaging(req, errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// splitRollup puts each top-level conjunct that reads only pre-aggregate fields in pre:
// such fields are constant within a discovery flow, so filtering observations by them
// keeps or drops whole flows, the same as filtering the rollups.
func splitRollup(c Cond) (pre, post []Cond) {
	for _, t := range conjuncts(c) {
		early := true
		condFields(t, func(f Field) { early = early && f.PreAggregate() })
		if early {
			pre = append(pre, t)
		} else {
			post = append(post, t)
		}
	}
	return pre, post
}

func resolveColumns(req Request, errs ErrorList) ([]Field, ErrorList) {
	if len(req.Columns) == 0 {
		return Fields(req.Dataset), errs
	}
	seen := map[string]bool{}
	cols := make([]Field, 0, len(req.Columns))
	for _, name := range req.Columns {
		f, ok := LookupField(req.Dataset, name)
		switch {
		case !ok:
			errs = append(errs, nameError(ParamColumns, req.Dataset, name, fmt.Sprintf("unknown column %q in dataset %s", name, req.Dataset)))
		case seen[name]:
			errs = append(errs, nameError(ParamColumns, req.Dataset, name, fmt.Sprintf("column %q is listed twice", name)))
		default:
			seen[name] = true
			cols = append(cols, f)
		}
	}
	return cols, errs
}

func resolveSorts(req Request, errs ErrorList) ([]SortKey, ErrorList) {
	keys := make([]SortKey, 0, len(req.Sorts))
	for _, s := range req.Sorts {
		f, ok := LookupField(req.Dataset, s.Field)
		if !ok {
			errs = append(errs, nameError(ParamSorts, req.Dataset, s.Field, fmt.Sprintf("unknown sort field %q in dataset %s", s.Field, req.Dataset)))
			continue
		}
		keys = append(keys, SortKey{Field: f, Desc: s.Desc})
	}
	return keys, errs
}

// nameError reports a bad field name given outside the filter; its source is the name.
func nameError(param string, ds Dataset, name, msg string) *Error {
	e := errAt(UnknownFieldError, param, name, 0, len(name), msg, "")
	if _, known := LookupField(ds, name); known {
		e.Kind = ValueError
	} else {
		e.Hint = didYouMean(ds, name)
	}
	return e
}

// tieBreak returns the fields that identify a row: the flow key for discovery, the
// fingerprint for cert.
func tieBreak(ds Dataset) []Field {
	if ds == Cert {
		return certTieBreak
	}
	return discoveryTieBreak
}

// The tie-breaks are fixed by the catalog, so they are computed once; callers must not
// modify them.
var discoveryTieBreak, certTieBreak = keyFields(Discovery), keyFields(Cert)

func keyFields(ds Dataset) []Field {
	if ds == Cert {
		f, _ := LookupField(Cert, "certFingerprint")
		return []Field{f}
	}
	var keys []Field
	for _, f := range Fields(Discovery) {
		if f.Role == Key {
			keys = append(keys, f)
		}
	}
	return keys
}

func checkPaging(req Request, errs ErrorList) ErrorList {
	if req.Limit < 0 {
		errs = append(errs, &Error{Kind: ValueError, Param: ParamLimit, Token: fmt.Sprint(req.Limit), Message: "limit must not be negative"})
	}
	if req.Offset < 0 {
		errs = append(errs, &Error{Kind: ValueError, Param: ParamOffset, Token: fmt.Sprint(req.Offset), Message: "offset must not be negative"})
	}
	tf := req.TimeFrame
	if !tf.Begin.IsZero() && !tf.End.IsZero() && tf.End.Before(tf.Begin) {
		errs = append(errs, &Error{Kind: ValueError, Param: ParamTimeFrame, Message: "timeFrame end is before its begin"})
	}
	if s := req.Slice; s != nil {
		if !Scannable(req) {
			errs = append(errs, errNotScannable())
		}
		if s.From < 0 || s.To < s.From {
			errs = append(errs, &Error{Kind: ValueError, Token: fmt.Sprintf("[%d, %d)", s.From, s.To), Message: "a row slice needs 0 <= from <= to"})
		}
	}
	return errs
}

// ParseSort reads "field asc|desc" (direction required, any case). Field names are
// checked against the dataset by Compile. Errors are an ErrorList with Param "sorts".
func ParseSort(s string) (Sort, error) {
	fields := strings.Fields(s)
	fail := func(tok, msg string) (Sort, error) {
		off := strings.Index(s, tok)
		if tok == "" {
			off = len(s)
		}
		return Sort{}, ErrorList{errAt(SyntaxError, ParamSorts, s, off, off+len(tok), msg, `write "field asc" or "field desc"`)}
	}
	switch {
	case len(fields) == 0:
		return fail("", "empty sort")
	case len(fields) == 1:
		return fail("", fmt.Sprintf("sort %q has no direction", fields[0]))
	case len(fields) > 2:
		return fail(fields[2], fmt.Sprintf("unexpected %q after the sort direction", fields[2]))
	}
	switch strings.ToLower(fields[1]) {
	case "asc":
		return Sort{Field: fields[0]}, nil
	case "desc":
		return Sort{Field: fields[0], Desc: true}, nil
	}
	return fail(fields[1], fmt.Sprintf("sort direction %q is neither asc nor desc", fields[1]))
}

// String prints the sort as ParseSort reads it.
func (s Sort) String() string {
	if s.Desc {
		return s.Field + " desc"
	}
	return s.Field + " asc"
}
