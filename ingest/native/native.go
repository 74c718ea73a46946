// Package native reads cipherscope's own file formats — what `cipherscope fixtures
// --format csv|ndjson|parquet` writes (fixtures/doc.go): discovery and cert files whose
// columns are exactly engine.InputSchema, in order. The dataset is recognised from the
// columns (obsUid first: discovery; certFingerprint first: cert), not the file name.
package native

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// LineError is a bad value or row: `file:line: field "x": value "…": reason`.
type LineError struct {
	File         string
	Line         int
	Field, Value string
	Reason       string
}

// Error renders `file:line: field "x": value "…": reason`.
func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason)
	}
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("%s:%d: field %q: value %q: %s", e.File, e.Line, e.Field, v, e.Reason)
}

// DatasetOf recognises a dataset from its column names, which must be exactly those of
// engine.InputSchema in order.
func DatasetOf(names []string) (query.Dataset, error) {
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		s := engine.InputSchema(ds)
		if len(names) == 0 || names[0] != s.Field(0).Name {
			continue
		}
		for i, f := range s.Fields() {
			if i >= len(names) || names[i] != f.Name {
				got := "nothing"
				if i < len(names) {
					got = strconv.Quote(names[i])
				}
				return "", fmt.Errorf("column %d is %s, want %q (the %s columns of engine.InputSchema)", i+1, got, f.Name, ds)
			}
		}
		if len(names) > s.NumFields() {
			return "", fmt.Errorf("unexpected column %d %q", s.NumFields()+1, names[s.NumFields()])
		}
		return ds, nil
	}
	first := ""
	if len(names) > 0 {
		first = names[0]
	}
	return "", fmt.Errorf("first column %q is neither obsUid (discovery) nor certFingerprint (cert)", first)
}

// TimeLayout is the native text form of timestamps (fixtures.TimeLayout); any RFC 3339
// timestamp is accepted on input.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// appendText appends one CSV cell to a column builder: empty is NULL, lists are JSON
// arrays, binary is standard base64.
func appendText(b array.Builder, t arrow.DataType, s string) error {
	if s == "" {
		b.AppendNull()
		return nil
	}
	switch t.ID() {
	case arrow.STRING:
		// Append(s) would copy s into a new []byte first.
		b.(*array.StringBuilder).BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(s), len(s)))
	case arrow.INT64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		b.(*array.Int64Builder).Append(n)
	case arrow.FLOAT64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		b.(*array.Float64Builder).Append(f)
	case arrow.BOOL:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not true or false")
		}
		b.(*array.BooleanBuilder).Append(v)
	case arrow.TIMESTAMP:
		us, ok := parseTimeLayout(s)
		if !ok {
			ts, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return fmt.Errorf("not an RFC 3339 timestamp")
			}
			us = ts.UnixMicro()
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(us))
	case arrow.LIST:
		if l, ok := plainList(unsafe.Slice(unsafe.StringData(s), len(s))); ok {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for _, e := range l {
				vb.BinaryBuilder.Append(e)
			}
			return nil
		}
		var l []string
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			return fmt.Errorf("not a JSON array of strings")
		}
		appendList(b, l)
	case arrow.BINARY:
		bs, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("not standard base64")
		}
		b.(*array.BinaryBuilder).Append(bs)
	default:
		return fmt.Errorf("unsupported column type %s", t)
	}
	return nil
}

// parseTimeLayout reads exactly TimeLayout ("2006-01-02T15:04:05.000000Z", what the
// native writers write) in µs, without time.Parse; false for anything else, which
// time.Parse then judges. Out-of-range fields are left to time.Parse too (time.Date
// would normalise them instead of failing).
func parseTimeLayout(s string) (int64, bool) {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return 0, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	var f [7]int
	for i, r := range [7][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 26}} {
		var ok bool
		if f[i], ok = num(r[0], r[1]); !ok {
			return 0, false
		}
	}
	month := time.Month(f[1])
	if month < 1 || month > 12 || f[2] < 1 || f[2] > daysIn(month, f[0]) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return 0, false
	}
	return time.Date(f[0], month, f[2], f[3], f[4], f[5], f[6]*1000, time.UTC).UnixMicro(), true
}

// daysIn is the number of days of a month.
func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func appendList(b array.Builder, l []string) {
	lb := b.(*array.ListBuilder)
	lb.Append(true)
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, s := range l {
		vb.Append(s)
	}
}

// appendJSON appends one NDJSON value: null is NULL, numbers and booleans are JSON's,
// lists are arrays, timestamps and binary are strings as in CSV.
func appendJSON(b array.Builder, t arrow.DataType, raw json.RawMessage) error {
	s := strings.TrimSpace(string(raw))
	if s == "null" || s == "" {
		b.AppendNull()
		return nil
	}
	switch t.ID() {
	case arrow.STRING, arrow.TIMESTAMP, arrow.BINARY:
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("not a JSON string")
		}
		if v == "" && t.ID() == arrow.STRING {
			b.(*array.StringBuilder).Append(v) // an explicit "" is a value; null is NULL
			return nil
		}
		return appendText(b, t, v)
	case arrow.LIST:
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("not a JSON array of strings")
		}
		appendList(b, l)
		return nil
	}
	return appendText(b, t, s)
}
