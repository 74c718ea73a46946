package ingest

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/engine"
)

// dataDir is the shared reference data, relative to this package (ingest/ -> the repository root -> ../shared).
const dataDir = "../../shared/data/"

func openDB(t *testing.T) *engine.DB {
	t.Helper()
	db, err := engine.Open(context.Background(), engine.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rows runs sql and renders every value as text ("NULL" for NULL), one slice per row.
func rows(t *testing.T, db *engine.DB, sql string, args ...any) [][]string {
	t.Helper()
	rr, err := db.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rr.Release()
	var out [][]string
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			r := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				if col.IsNull(i) {
					r[j] = "NULL"
				} else {
					r[j] = strings.Clone(col.ValueStr(i)) // Arrow strings alias buffers freed on Release
				}
			}
			out = append(out, r)
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// counts runs a "SELECT key, count" query into a map.
func counts(t *testing.T, db *engine.DB, sql string) map[string]int {
	t.Helper()
	m := map[string]int{}
	for _, r := range rows(t, db, sql) {
		var n int
		for _, c := range r[1] {
			n = n*10 + int(c-'0')
		}
		m[r[0]] = n
	}
	return m
}

// dataLines returns the data lines of a real file (not # headers), failing when the
// reference data is missing.
func dataLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reference data missing: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func mustRun(t *testing.T, db *engine.DB, opt Options, paths ...string) Summary {
	t.Helper()
	sum, err := Run(context.Background(), db, paths, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
