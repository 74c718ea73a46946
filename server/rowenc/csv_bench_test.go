package rowenc

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchRecord is 10,000 rows shaped like a discovery page: text, integer, timestamp,
// boolean and a list column.
func benchRecord(b *testing.B) arrow.RecordBatch {
	b.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "serverName", Type: arrow.BinaryTypes.String},
		{Name: "byteVolume", Type: arrow.PrimitiveTypes.Int64},
		{Name: "lastSeen", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
		{Name: "weakCrypto", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "weakReasons", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	}, nil)
	bld := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer bld.Release()
	for i := 0; i < 10000; i++ {
		bld.Field(0).(*array.StringBuilder).Append("host-12345.example.com")
		bld.Field(1).(*array.Int64Builder).Append(int64(i) * 12345)
		bld.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1700000000000000 + int64(i)))
		bld.Field(3).(*array.BooleanBuilder).Append(i%2 == 0)
		l := bld.Field(4).(*array.ListBuilder)
		l.Append(true)
		if i%3 == 0 {
			l.ValueBuilder().(*array.StringBuilder).Append("cipher RC4")
		}
	}
	return bld.NewRecordBatch()
}

func BenchmarkCSVWriter(b *testing.B) {
	rec := benchRecord(b)
	defer rec.Release()
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewCSVWriter(discard{}, rec.Schema(), nil)
		_ = w.Write(rec)
		_ = w.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/row")
}

func BenchmarkNDJSONWriterWithLists(b *testing.B) {
	rec := benchRecord(b)
	defer rec.Release()
	b.ReportAllocs()
	for b.Loop() {
		w, _ := NewJSONWriter(discard{}, rec.Schema(), nil, "\n")
		_ = w.Write(rec)
		_ = w.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/row")
}
