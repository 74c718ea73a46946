package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/query"
)

// queryBody is the JSON body of POST /api/v1/dta_<dataset>/query: the GET parameters
// as one document, for filters too long for a URL. Scalars may be JSON strings or
// numbers/booleans; they are read exactly as the same text in a query string.
type queryBody struct {
	Columns             []string       `json:"columns"`
	Filter              *scalar        `json:"filter"`
	Sorts               []string       `json:"sorts"`
	TimeFrame           *timeFrameBody `json:"timeFrame"`
	Limit               *scalar        `json:"limit"`
	Offset              *scalar        `json:"offset"`
	Cursor              *scalar        `json:"cursor"`
	ReportFilteredCount *scalar        `json:"reportFilteredCount"`
	ReportTotalCount    *scalar        `json:"reportTotalCount"`
	ReturnAsStream      *scalar        `json:"returnAsStream"`
	ReturnAsZipFile     *scalar        `json:"returnAsZipFile"`
}

// timeFrameBody is the timeFrame object of a query body.
type timeFrameBody struct {
	Begin            *scalar `json:"begin"`
	End              *scalar `json:"end"`
	MaterializedView *scalar `json:"materializedView"`
}

// scalar is a JSON string, number or boolean kept as the text a query string would carry.
type scalar string

// UnmarshalJSON accepts strings, numbers and booleans; null leaves the field unset by
// never reaching here (the field is a pointer).
func (s *scalar) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case bytes.Equal(b, []byte("true")), bytes.Equal(b, []byte("false")):
		*s = scalar(b)
	case len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9'):
		*s = scalar(b)
	default:
		return errors.New("expected a string, number or boolean")
	}
	return nil
}

// queryHandler serves POST /api/v1/dta_<dataset>/query with the same semantics (and
// the same code path after parsing) as GET /api/v1/dta_<dataset>.
func (s *server) queryHandler(ds query.Dataset) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !isJSONContentType(c.Get(fiber.HeaderContentType)) {
			return fiber.NewError(fiber.StatusUnsupportedMediaType, "the request body must be application/json")
		}
		pairs, err := decodeQueryBody(c.Body())
		if err != nil {
			return err
		}
		req, err := parsePairs(ds, s.cfg.Now(), pairs)
		if err != nil {
			return err
		}
		f, err := negotiate(c, req.zip)
		if err != nil {
			return err
		}
		return s.serveList(c, f, req)
	}
}

// isJSONContentType accepts application/json with any parameters (charset).
func isJSONContentType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), fiber.MIMEApplicationJSON)
}

// decodeQueryBody reads the body strictly (unknown fields and trailing data are errors)
// and returns its parameters as the query string would carry them.
func decodeQueryBody(body []byte) ([][2]string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var b queryBody
	if err := dec.Decode(&b); err != nil {
		return nil, bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bodyError(errors.New("unexpected data after the JSON object"))
	}
	return b.pairs(), nil
}

// bodyError turns a decoding error into a 400 naming the field where possible.
func bodyError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	msg := err.Error()
	param := "body"
	switch {
	case strings.HasPrefix(msg, "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		return query.ErrorList{paramError(name, name, fmt.Sprintf("unknown field %q in the request body", name),
			"known fields: columns, filter, sorts, timeFrame{begin,end,materializedView}, limit, offset, cursor, "+
				"reportFilteredCount, reportTotalCount, returnAsStream, returnAsZipFile")}
	case errors.As(err, &te):
		param = te.Field
		msg = fmt.Sprintf("field %s must be %s", te.Field, jsonKind(te.Type.String()))
	case errors.As(err, &se):
		msg = fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF):
		msg = "the request body is empty; send a JSON object"
	default:
		msg = "malformed JSON: " + strings.TrimPrefix(msg, "json: ")
	}
	return query.ErrorList{paramError(param, "", msg, "")}
}

func jsonKind(goType string) string {
	if strings.HasPrefix(goType, "[]") {
		return "an array of strings"
	}
	return "a string, number or boolean"
}

// pairs lists the body's parameters in the order of the GET parameter table.
func (b *queryBody) pairs() [][2]string {
	var out [][2]string
	add := func(key string, v *scalar) {
		if v != nil {
			out = append(out, [2]string{key, string(*v)})
		}
	}
	for _, c := range b.Columns {
		out = append(out, [2]string{paramColumns, c})
	}
	add(paramFilter, b.Filter)
	for _, s := range b.Sorts {
		out = append(out, [2]string{paramSorts, s})
	}
	if tf := b.TimeFrame; tf != nil {
		add(paramTimeFrameBegin, tf.Begin)
		add(paramTimeFrameEnd, tf.End)
		add(paramMaterialized, tf.MaterializedView)
	}
	add(paramLimit, b.Limit)
	add(paramOffset, b.Offset)
	add(paramCursor, b.Cursor)
	add(paramFilteredCount, b.ReportFilteredCount)
	add(paramTotalCount, b.ReportTotalCount)
	add(paramReturnAsStream, b.ReturnAsStream)
	add(paramReturnAsZipFile, b.ReturnAsZipFile)
	return out
}
