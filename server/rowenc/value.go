// Package rowenc renders Arrow record batches as JSON objects or CSV lines, column by
// column, without building a map or an interface value per row. It is on the hot path
// of every query response, so values are appended to a reused byte buffer with the
// strconv Append functions and a hand-written string escaper.
package rowenc

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// appendFunc appends the rendering of row i of one column to dst.
type appendFunc func(dst []byte, i int) []byte

// mode selects how scalar values are rendered: in JSON strings and timestamps are quoted,
// in CSV they are bare text (the CSV writer quotes whole fields where needed).
type mode uint8

const (
	jsonMode mode = iota
	csvMode
)

// newAppender binds an appender to one column array. The type switch runs once per
// batch and column, never per value. Nulls render as `null` in JSON and as nothing in CSV.
func newAppender(arr arrow.Array, m mode) appendFunc {
	value := valueAppender(arr, m)
	if arr.NullN() == 0 {
		return value
	}
	null := nullText(m)
	return func(dst []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(dst, null...)
		}
		return value(dst, i)
	}
}

func nullText(m mode) string {
	if m == csvMode {
		return ""
	}
	return "null"
}

// valueAppender renders non-null values of arr.
func valueAppender(arr arrow.Array, m mode) appendFunc {
	switch a := arr.(type) {
	case *array.String:
		return stringAppender(a.Value, m)
	case *array.LargeString:
		return stringAppender(a.Value, m)
	case *array.StringView:
		return stringAppender(a.Value, m)
	case *array.Int64:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, a.Value(i), 10) }
	case *array.Int32:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int16:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int8:
		return func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Uint64:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }
	case *array.Uint32:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint16:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint8:
		return func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Float64:
		return func(dst []byte, i int) []byte { return appendFloat(dst, a.Value(i), 64, m) }
	case *array.Float32:
		return func(dst []byte, i int) []byte { return appendFloat(dst, float64(a.Value(i)), 32, m) }
	case *array.Boolean:
		return func(dst []byte, i int) []byte { return strconv.AppendBool(dst, a.Value(i)) }
	case *array.Timestamp:
		return timestampAppender(a, m)
	case *array.Date32:
		return func(dst []byte, i int) []byte {
			return quoted(dst, m, func(d []byte) []byte { return a.Value(i).ToTime().AppendFormat(d, time.DateOnly) })
		}
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		// A whole-number decimal (DuckDB's HUGEINT sums) is a JSON number; a scaled one too.
		return func(dst []byte, i int) []byte { return append(dst, a.Value(i).ToString(scale)...) }
	case *array.Binary:
		return func(dst []byte, i int) []byte {
			return quoted(dst, m, func(d []byte) []byte { return base64.StdEncoding.AppendEncode(d, a.Value(i)) })
		}
	case *array.Dictionary:
		return dictionaryAppender(a, m)
	case array.ListLike:
		return listAppender(a)
	}
	return fallbackAppender(arr, m)
}

func stringAppender(value func(int) string, m mode) appendFunc {
	if m == csvMode {
		return func(dst []byte, i int) []byte { return append(dst, value(i)...) }
	}
	return func(dst []byte, i int) []byte { return AppendString(dst, value(i)) }
}

// quoted wraps what body appends in double quotes in JSON mode. Only used for values
// whose text never needs escaping (dates, base64).
func quoted(dst []byte, m mode, body func([]byte) []byte) []byte {
	if m == csvMode {
		return body(dst)
	}
	dst = append(dst, '"')
	dst = body(dst)
	return append(dst, '"')
}

// timestampAppender renders timestamps as RFC 3339 in UTC, whatever zone the column
// carries: the API promises UTC, and Arrow timestamps are instants.
func timestampAppender(a *array.Timestamp, m mode) appendFunc {
	unit := a.DataType().(*arrow.TimestampType).Unit
	var f tsFormatter
	return func(dst []byte, i int) []byte {
		sec, nsec := splitTimestamp(int64(a.Value(i)), unit)
		return quoted(dst, m, func(d []byte) []byte { return f.append(d, sec, nsec) })
	}
}

// splitTimestamp converts a timestamp in unit to seconds and nanoseconds since the epoch,
// flooring towards minus infinity so that times before 1970 keep a positive fraction.
func splitTimestamp(v int64, unit arrow.TimeUnit) (sec, nsec int64) {
	var per int64
	switch unit {
	case arrow.Second:
		return v, 0
	case arrow.Millisecond:
		per = 1e3
	case arrow.Microsecond:
		per = 1e6
	default:
		per = 1e9
	}
	sec, rem := v/per, v%per
	if rem < 0 {
		sec, rem = sec-1, rem+per
	}
	return sec, rem * (1e9 / per)
}

// tsFormatter formats like time.RFC3339Nano in UTC. Query results have many timestamps
// on the same day, so the date part is computed once per day and reused: this is
// several times faster than time.Time.AppendFormat, which re-reads its layout each call.
type tsFormatter struct {
	day    int64
	prefix []byte // "YYYY-MM-DDT" of day, nil before the first call or for odd years
}

func (f *tsFormatter) append(dst []byte, sec, nsec int64) []byte {
	day := sec / 86400
	if sec%86400 < 0 {
		day--
	}
	if f.prefix == nil || day != f.day {
		t := time.Unix(sec, nsec).UTC()
		if y := t.Year(); y < 0 || y > 9999 {
			f.prefix = nil
			return t.AppendFormat(dst, time.RFC3339Nano)
		}
		f.day = day
		f.prefix = t.AppendFormat(f.prefix[:0], "2006-01-02T")
	}
	sod := sec - day*86400
	h, mi, s := sod/3600, sod/60%60, sod%60
	dst = append(dst, f.prefix...)
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
	if nsec != 0 {
		var frac [9]byte
		for i := 8; i >= 0; i-- {
			frac[i] = byte('0' + nsec%10)
			nsec /= 10
		}
		n := 9
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, '.')
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// dictionaryAppender renders dictionary-encoded columns (DuckDB exports ENUM this way)
// through the appender of the dictionary itself.
func dictionaryAppender(a *array.Dictionary, m mode) appendFunc {
	dict := newAppender(a.Dictionary(), m)
	return func(dst []byte, i int) []byte { return dict(dst, a.GetValueIndex(i)) }
}

// listAppender renders lists as JSON arrays in both modes: CSV has no list syntax, and a
// JSON array is unambiguous for any element text.
func listAppender(a array.ListLike) appendFunc {
	elems := newAppender(a.ListValues(), jsonMode)
	return func(dst []byte, i int) []byte {
		start, end := a.ValueOffsets(i)
		dst = append(dst, '[')
		for j := start; j < end; j++ {
			if j > start {
				dst = append(dst, ',')
			}
			dst = elems(dst, int(j))
		}
		return append(dst, ']')
	}
}

// fallbackAppender covers types the catalog does not produce today (structs, maps,
// intervals) through arrow-go's own JSON rendering: slower, but correct.
func fallbackAppender(arr arrow.Array, m mode) appendFunc {
	return func(dst []byte, i int) []byte {
		b, err := json.Marshal(arr.GetOneForMarshal(i))
		if err != nil {
			b = []byte(strconv.Quote(arr.ValueStr(i)))
		}
		if m == csvMode && len(b) > 0 && b[0] == '"' {
			var s string
			if json.Unmarshal(b, &s) == nil {
				return append(dst, s...)
			}
		}
		return append(dst, b...)
	}
}

// appendFloat renders a float as encoding/json does; NaN and infinities, which JSON
// cannot represent, become null in JSON and NaN, +Inf, -Inf in CSV.
func appendFloat(dst []byte, f float64, bits int, m mode) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if m == csvMode {
			return strconv.AppendFloat(dst, f, 'g', -1, bits)
		}
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
