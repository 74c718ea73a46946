package server

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// fmtColumns are the columns of the format tests: a string with NULL, an ip, a list,
// a timestamp and an integer.
var fmtColumns = []string{"columns", "serverName,serverIp,weakReasons,lastSeen,byteVolume", "sorts", "byteVolume desc"}

func TestFormatsByAccept(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name, accept, contentType string
	}{
		{"no Accept is JSON", "", "application/json; charset=utf-8"},
		{"wildcard is JSON", "*/*", "application/json; charset=utf-8"},
		{"csv", "text/csv", "text/csv; charset=utf-8; header=present"},
		{"q-values pick the best", "application/json;q=0.5, text/csv;q=0.9", "text/csv; charset=utf-8; header=present"},
		{"ndjson", "application/x-ndjson", "application/x-ndjson"},
		{"arrow", "application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.stream"},
		{"parquet", "application/vnd.apache.parquet", "application/vnd.apache.parquet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, fmtColumns...), "Accept", tt.accept)
			if r.status != 200 || r.header.Get("Content-Type") != tt.contentType {
				t.Fatalf("%d %q %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			if got := r.header.Get(HeaderTotalCount); got != "4" {
				t.Errorf("X-Total-Count = %q (a short first page proves the count)", got)
			}
		})
	}
}

// wantFmtRows is the result of fmtColumns as text, NULL as "".
var wantFmtRows = [][]string{
	{"serverName", "serverIp", "weakReasons", "lastSeen", "byteVolume"},
	{"db.example.com", "10.0.1.2", "[]", "2024-05-02T08:30:00Z", "5000"},
	{"a.example.com", "10.0.1.1", "[]", "2024-05-01T11:00:00Z", "1500"},
	{"pq.example.com", "10.0.1.3", "[]", "2024-05-04T12:00:00Z", "700"},
	{"", "2001:db8::2", `["protocol TLSv1.0","cipher RC4"]`, "2024-05-03T00:00:00Z", "200"},
}

func TestCSVParsesBack(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := get(t, app, q(disc, fmtColumns...), "Accept", "text/csv")
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !equalRows(recs, wantFmtRows) {
		t.Errorf("got %q\nwant %q", recs, wantFmtRows)
	}
	// An empty result still has its header line.
	r = get(t, app, q(disc, append(fmtColumns, "filter", "serverPort = 1")...), "Accept", "text/csv")
	if r.body != "serverName,serverIp,weakReasons,lastSeen,byteVolume\n" || r.header.Get(HeaderTotalCount) != "0" {
		t.Errorf("empty CSV %q, count %q", r.body, r.header.Get(HeaderTotalCount))
	}
}

func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

func TestNDJSON(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := get(t, app, q(disc, "columns", "serverName,byteVolume", "sorts", "byteVolume desc", "limit", "2"), "Accept", "application/x-ndjson")
	want := `{"serverName":"db.example.com","byteVolume":5000}` + "\n" + `{"serverName":"a.example.com","byteVolume":1500}` + "\n"
	if r.body != want {
		t.Errorf("got %q want %q", r.body, want)
	}
	r = get(t, app, q(disc, "filter", "serverPort = 1"), "Accept", "application/x-ndjson")
	if r.status != 200 || r.body != "" {
		t.Errorf("empty NDJSON: %d %q", r.status, r.body)
	}
}

// arrowRows renders the rows of Arrow batches as text, NULL as "", for comparison.
// decodeArrow reads an Arrow IPC stream with mem and returns its header and rows as
// arrowRows renders them.
func decodeArrow(t *testing.T, body string, mem memory.Allocator) [][]string {
	t.Helper()
	rd, err := ipc.NewReader(strings.NewReader(body), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("%v: %.200q", err, body)
	}
	defer rd.Release()
	recs := retainAll(rd)
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	return arrowRows(t, rd.Schema(), recs)
}

// retainAll reads rr to its end and keeps every batch; the caller releases them.
func retainAll(rr array.RecordReader) []arrow.RecordBatch {
	var recs []arrow.RecordBatch
	for rr.Next() {
		rec := rr.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	return recs
}

func arrowRows(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch) [][]string {
	t.Helper()
	var out [][]string
	var header []string
	for _, f := range schema.Fields() {
		header = append(header, f.Name)
	}
	out = append(out, header)
	for _, rec := range recs {
		for i := 0; i < int(rec.NumRows()); i++ {
			var row []string
			for c := 0; c < int(rec.NumCols()); c++ {
				col := rec.Column(c)
				switch {
				case col.IsNull(i):
					row = append(row, "")
				case col.DataType().ID() == arrow.TIMESTAMP:
					ts := col.(*array.Timestamp).Value(i).ToTime(col.DataType().(*arrow.TimestampType).Unit)
					row = append(row, ts.UTC().Format("2006-01-02T15:04:05Z07:00"))
				case col.DataType().ID() == arrow.LIST:
					row = append(row, strings.ReplaceAll(col.ValueStr(i), "\" \"", "\",\""))
				default:
					row = append(row, col.ValueStr(i))
				}
			}
			out = append(out, row)
		}
	}
	return out
}

func TestArrowStreamReadsBack(t *testing.T) {
	app := New(newTestDB(t), Config{})
	for _, tt := range []struct {
		name  string
		extra []string
		want  [][]string
	}{
		{"rows", nil, wantFmtRows},
		{"empty result keeps the schema", []string{"filter", "serverPort = 1"}, wantFmtRows[:1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, append(fmtColumns, tt.extra...)...), "Accept", MIMEArrow)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			got := decodeArrow(t, r.body, mem)
			if !equalRows(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParquetReadsBack(t *testing.T) {
	app := New(newTestDB(t), Config{})
	live := serveLive(t, app)
	pageSchema, _ := readParquet(t, get(t, app, q(disc, fmtColumns...), "Accept", MIMEParquet))
	for _, tt := range []struct {
		name  string
		extra []string
		want  [][]string
	}{
		{"rows", nil, wantFmtRows},
		{"empty result keeps the schema", []string{"filter", "serverPort = 1"}, wantFmtRows[:1]},
	} {
		for _, export := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s export=%t", tt.name, export), func(t *testing.T) {
				params := append(fmtColumns, tt.extra...)
				r := get(t, app, q(disc, params...), "Accept", MIMEParquet)
				if export { // written by DuckDB, not by the server's Parquet writer
					r = live.get(t, q(disc, append(params, "returnAsStream", "true")...), "Accept", MIMEParquet)
				}
				schema, got := readParquet(t, r)
				if !equalRows(got, tt.want) {
					t.Errorf("got %q\nwant %q", got, tt.want)
				}
				if !schemaTypesEqual(schema, pageSchema) {
					t.Errorf("schema %v\nwant %v", schema, pageSchema)
				}
			})
		}
	}
}

// readParquet reads a Parquet response back with arrow-go: its schema and rows.
func readParquet(t *testing.T, r response) (*arrow.Schema, [][]string) {
	t.Helper()
	pf, err := file.NewParquetReader(bytes.NewReader([]byte(r.body)))
	if err != nil {
		t.Fatalf("%v (status %d)", err, r.status)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 0)
	defer tr.Release()
	recs := retainAll(tr)
	got := arrowRows(t, tbl.Schema(), recs)
	for _, rec := range recs {
		rec.Release()
	}
	return tbl.Schema(), got
}

// schemaTypesEqual compares column names and types, ignoring metadata and nullability.
func schemaTypesEqual(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}
