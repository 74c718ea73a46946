package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/query"
)

// row is one input row by column name; missing columns are NULL.
type row map[string]any

// newChecked returns an allocator that fails the test if anything built from it leaks.
func newChecked(t *testing.T) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// openTest opens an in-memory (path "") or file database with a checked allocator and
// closes it at the end of the test.
func openTest(t *testing.T, path string) *DB {
	t.Helper()
	return openTestWith(t, Config{Path: path})
}

// openTestWith is openTest with more settings; it sets Threads and the checked Allocator.
func openTestWith(t *testing.T, cfg Config) *DB {
	t.Helper()
	cfg.Threads, cfg.Allocator = 2, newChecked(t)
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open(%q): %v", cfg.Path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func tempDBPath(t *testing.T) string { return filepath.Join(t.TempDir(), "test.duckdb") }

// buildBatch builds one batch of InputSchema(ds) from rows.
func buildBatch(t *testing.T, mem memory.Allocator, ds query.Dataset, rows []row) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, InputSchema(ds))
	defer b.Release()
	for _, r := range rows {
		for i, f := range b.Schema().Fields() {
			appendValue(t, b.Field(i), f.Name, r[f.Name])
		}
	}
	return b.NewRecordBatch()
}

func appendValue(t *testing.T, fb array.Builder, name string, v any) {
	t.Helper()
	if v == nil {
		fb.AppendNull()
		return
	}
	switch b := fb.(type) {
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.Float64Builder:
		b.Append(v.(float64))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.BinaryBuilder:
		b.Append(v.([]byte))
	case *array.ListBuilder:
		b.Append(true)
		for _, s := range v.([]string) {
			b.ValueBuilder().(*array.StringBuilder).Append(s)
		}
	default:
		t.Fatalf("column %s: no test support for %T", name, fb)
	}
}

// readerOf returns a reader over batches built from each group of rows. The batches are
// released when the reader is.
func readerOf(t *testing.T, mem memory.Allocator, ds query.Dataset, groups ...[]row) array.RecordReader {
	t.Helper()
	var recs []arrow.RecordBatch
	for _, g := range groups {
		recs = append(recs, buildBatch(t, mem, ds, g))
	}
	rr, err := array.NewRecordReader(InputSchema(ds), recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release() // the reader holds them now
	}
	return rr
}

// load runs db.Load over the groups of rows and releases its input.
func load(t *testing.T, db *DB, ds query.Dataset, groups ...[]row) (LoadStats, error) {
	t.Helper()
	rr := readerOf(t, db.alloc, ds, groups...)
	defer rr.Release()
	return db.Load(context.Background(), ds, rr)
}

// mustLoad is load that fails the test on error.
func mustLoad(t *testing.T, db *DB, ds query.Dataset, groups ...[]row) LoadStats {
	t.Helper()
	st, err := load(t, db, ds, groups...)
	if err != nil {
		t.Fatalf("Load %s: %v", ds, err)
	}
	return st
}

// obs returns a discovery row with the given id and addresses and sensible defaults.
func obs(uid, client, server string) row {
	return row{
		"obsUid": uid, "observedAt": ts("2024-05-01T10:00:00Z"),
		"clientIp": client, "serverIp": server, "serverPort": 443, "protocol": "tcp",
		"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
		"byteVolume": 1000, "packetCount": 10,
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// queryStrings runs sql on db and returns every value rendered as text ("NULL" for NULL),
// one slice per row: exact, and independent of Arrow types.
func queryStrings(t *testing.T, db *DB, sql string, args ...any) [][]string {
	t.Helper()
	rows, err := db.sql.QueryContext(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				r[i] = "NULL"
			} else {
				r[i] = fmt.Sprint(v)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rowCount(t *testing.T, db *DB, ds query.Dataset) int64 {
	t.Helper()
	n, err := db.RowCount(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
