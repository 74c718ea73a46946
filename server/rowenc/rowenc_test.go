package rowenc

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// testRecord builds a three-row batch covering every type the catalog produces, with
// NULLs, escaping cases and a dictionary (ENUM) column.
func testRecord(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "e", Type: dictType, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	s := b.Field(0).(*array.StringBuilder)
	s.AppendValues([]string{"plain", "q\"b\\n\nt\tc\x01 é\u2028", ""}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{-9007199254740993, 0, 42}, []bool{true, false, true})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{1.5, 1e-9, math.NaN()}, nil)
	b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false, false}, []bool{true, true, false})
	ts := b.Field(4).(*array.TimestampBuilder)
	ts.Append(arrow.Timestamp(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro()))
	ts.Append(arrow.Timestamp(time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC).UnixMicro()))
	ts.AppendNull()
	l := b.Field(5).(*array.ListBuilder)
	lv := l.ValueBuilder().(*array.StringBuilder)
	l.Append(true)
	lv.AppendValues([]string{"protocol SSLv3", "cipher RC4"}, nil)
	l.Append(true)
	l.AppendNull()
	e := b.Field(6).(*array.BinaryDictionaryBuilder)
	if err := e.AppendString("TLSv1.3"); err != nil {
		t.Fatal(err)
	}
	e.AppendNull()
	if err := e.AppendString("TLSv1.3"); err != nil {
		t.Fatal(err)
	}
	return b.NewRecordBatch()
}

func TestJSONWriter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem)
	defer rec.Release()

	tests := []struct {
		name    string
		columns []string
		want    string
	}{
		{"all columns in schema order", nil, `[` +
			`{"s":"plain","i":-9007199254740993,"f":1.5,"b":true,"ts":"2024-03-01T12:00:00Z","l":["protocol SSLv3","cipher RC4"],"e":"TLSv1.3"},` +
			`{"s":"q\"b\\n\nt\tc\u0001 é\u2028","i":null,"f":1e-9,"b":false,"ts":"2024-03-01T12:00:00.123456Z","l":[],"e":null},` +
			`{"s":"","i":42,"f":null,"b":null,"ts":null,"l":null,"e":"TLSv1.3"}]`},
		{"requested order", []string{"e", "i"}, `[{"e":"TLSv1.3","i":-9007199254740993},{"e":null,"i":null},{"e":"TLSv1.3","i":42}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w, err := NewJSONWriter(&out, rec.Schema(), tt.columns, ",")
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString("[")
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			out.WriteString("]")
			if got := out.String(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(out.Bytes()) {
				t.Errorf("invalid JSON")
			}
			if w.Rows() != 3 {
				t.Errorf("rows = %d", w.Rows())
			}
		})
	}
}

func TestCSVWriter(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem)
	defer rec.Release()
	var out bytes.Buffer
	w, err := NewCSVWriter(&out, rec.Schema(), []string{"s", "i", "f", "b", "ts", "l", "e"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "s,i,f,b,ts,l,e\n" +
		`plain,-9007199254740993,1.5,true,2024-03-01T12:00:00Z,"[""protocol SSLv3"",""cipher RC4""]",TLSv1.3` + "\n" +
		"\"q\"\"b\\n\nt\tc\x01 é\u2028\",,1e-9,false,2024-03-01T12:00:00.123456Z,[],\n" +
		`"",42,NaN,,,,TLSv1.3` + "\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestUnknownColumn(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if _, err := NewJSONWriter(&bytes.Buffer{}, schema, []string{"b"}, ","); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "abc", "\x00\x1f\x7f", "a\xffb", "日本語", "\u2029", `<&>`} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			t.Errorf("%q round-tripped to %q", s, back)
		}
	}
}

func BenchmarkJSONWriter(b *testing.B) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "serverName", Type: arrow.BinaryTypes.String},
		{Name: "byteVolume", Type: arrow.PrimitiveTypes.Int64},
		{Name: "lastSeen", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "weakCrypto", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	bld := array.NewRecordBuilder(mem, schema)
	for i := 0; i < 10000; i++ {
		bld.Field(0).(*array.StringBuilder).Append("host-12345.example.com")
		bld.Field(1).(*array.Int64Builder).Append(int64(i) * 12345)
		bld.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000000 + int64(i)))
		bld.Field(3).(*array.BooleanBuilder).Append(i%2 == 0)
	}
	rec := bld.NewRecordBatch()
	defer rec.Release()
	w, _ := NewJSONWriter(discard{}, schema, nil, ",")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = w.Write(rec)
		_ = w.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/row")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestTimestampFormatter(t *testing.T) {
	var f tsFormatter
	for _, tm := range []time.Time{
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2024, 1, 2, 23, 59, 59, 999999000, time.UTC),
		time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 120000000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0).UTC(),
		time.Date(2024, 1, 3, 12, 0, 0, 500000000, time.UTC),
	} {
		for _, unit := range []arrow.TimeUnit{arrow.Microsecond, arrow.Nanosecond} {
			if unit == arrow.Nanosecond && (tm.Year() < 1678 || tm.Year() > 2261) {
				continue // outside int64 nanoseconds
			}
			v, err := arrow.TimestampFromTime(tm, unit)
			if err != nil {
				t.Fatal(err)
			}
			sec, nsec := splitTimestamp(int64(v), unit)
			got, want := string(f.append(nil, sec, nsec)), tm.Format(time.RFC3339Nano)
			if got != want {
				t.Errorf("%v: got %s want %s", unit, got, want)
			}
		}
	}
}
