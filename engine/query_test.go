package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

// readAll renders every value of a reader as text, one slice per row, and the schema as
// "name:type" strings. Arrow's ValueStr gives exact values (timestamps in full). Strings
// are cloned: ValueStr of a string column points into the batch, which Next frees.
func readAll(t *testing.T, rr array.RecordReader) (schema []string, rows [][]string) {
	t.Helper()
	for _, f := range rr.Schema().Fields() {
		schema = append(schema, f.Name+":"+f.Type.String())
	}
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := range int(rec.NumRows()) {
			var r []string
			for _, c := range rec.Columns() {
				if c.IsNull(i) {
					r = append(r, "NULL")
				} else {
					r = append(r, strings.Clone(c.ValueStr(i)))
				}
			}
			rows = append(rows, r)
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return schema, rows
}

func TestQueryReturnsArrow(t *testing.T) {
	db := openTest(t, "")
	a := obs("a", "10.0.0.1", "2001:db8::1")
	a["weakReasons"] = []string{"cipher RC4"}
	a["forwardSecrecy"] = true
	mustLoad(t, db, query.Discovery, []row{a, obs("b", "10.0.0.9", "192.0.2.1")})
	rr, err := db.Query(context.Background(),
		`SELECT "obsUid", "observedAt", "serverIp", "serverPort", "weakReasons", "forwardSecrecy"
		FROM discovery_obs JOIN discovery_flow USING ("flowId") WHERE "serverPort" = ? ORDER BY "obsUid"`, 443)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	schema, rows := readAll(t, rr)
	wantSchema := []string{"obsUid:utf8", "observedAt:timestamp[us]", "serverIp:utf8", "serverPort:int64", "weakReasons:list<l: utf8, nullable>", "forwardSecrecy:bool"}
	if fmt.Sprint(schema) != fmt.Sprint(wantSchema) {
		t.Errorf("schema = %v\n     want %v", schema, wantSchema)
	}
	want := [][]string{
		{"a", "2024-05-01T10:00:00Z", "2001:db8::1", "443", `["cipher RC4"]`, "true"},
		{"b", "2024-05-01T10:00:00Z", "192.0.2.1", "443", "NULL", "NULL"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows = %v\n want %v", rows, want)
	}
}

func TestQueryErrors(t *testing.T) {
	db := openTest(t, "")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		sql  string
		kind Kind
	}{
		{"syntax", context.Background(), "SELEC 1", Invalid},
		{"unknown column", context.Background(), "SELECT nope FROM cert", Invalid},
		{"unknown table", context.Background(), "SELECT * FROM nope", NotFound},
		{"bad cast", context.Background(), "SELECT CAST('x' AS INTEGER)", Invalid},
		{"missing parameter", context.Background(), "SELECT ? + ?", Invalid},
		{"canceled before start", canceled, "SELECT 1", Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := db.Query(tt.ctx, tt.sql)
			if err == nil {
				rr.Release()
				t.Fatal("no error")
			}
			if ErrorKind(err) != tt.kind {
				t.Errorf("Query(%q) = %v, kind %v, want %v", tt.sql, err, ErrorKind(err), tt.kind)
			}
		})
	}
}

// A cross join that would run for hours: cancellation must interrupt DuckDB itself.
const endlessSQL = `SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range = -1`

func TestQueryCancellationInterruptsDuckDB(t *testing.T) {
	db := openTest(t, "")
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		kind Kind
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}, Timeout},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			return ctx, cancel
		}, Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			rr, err := db.Query(ctx, endlessSQL)
			if err == nil {
				rr.Release()
				t.Fatal("endless query returned")
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("returned after %v; the interrupt should land within about a second", elapsed)
			}
			if ErrorKind(err) != tt.kind {
				t.Errorf("error %v has kind %v, want %v", err, ErrorKind(err), tt.kind)
			}
		})
	}
	// The interrupted connections went back to the pool: they must still work.
	for range 3 {
		if n := rowCount(t, db, query.Cert); n != 0 {
			t.Fatalf("RowCount = %d", n)
		}
	}
}

func TestConcurrentQueries(t *testing.T) {
	db := openTest(t, "")
	var rows []row
	for i := range 100 {
		rows = append(rows, obs(fmt.Sprintf("u%03d", i), fmt.Sprintf("10.0.0.%d", i), "10.1.0.1"))
	}
	mustLoad(t, db, query.Discovery, rows)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range 5 {
				rr, err := db.Query(context.Background(),
					`SELECT "clientIp" FROM discovery_obs JOIN discovery_flow USING ("flowId") WHERE "obsUid" = ?`, fmt.Sprintf("u%03d", (w*5+i)%100))
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for rr.Next() {
					rec := rr.RecordBatch()
					if got, want := rec.Column(0).ValueStr(0), fmt.Sprintf("10.0.0.%d", (w*5+i)%100); got != want {
						errs <- fmt.Errorf("worker %d: got %s, want %s", w, got, want)
					}
					n += int(rec.NumRows())
				}
				if err := rr.Err(); err != nil || n != 1 {
					errs <- fmt.Errorf("worker %d: %d rows, err %v", w, n, err)
				}
				rr.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestReaderReleaseReturnsConnection(t *testing.T) {
	db := openTest(t, "")
	for i := range 50 { // far more than the pool would hold if releases leaked connections
		rr, err := db.Query(context.Background(), "SELECT 1 AS x")
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		rr.Retain()
		rr.Release()
		rr.Release()
		rr.Release() // extra releases must be harmless
	}
	if s := db.sql.Stats(); s.InUse != 0 {
		t.Errorf("%d connections still in use", s.InUse)
	}
}

func TestErrorKindOfPlainErrors(t *testing.T) {
	tests := []struct {
		err  error
		kind Kind
	}{
		{context.Canceled, Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), Timeout},
		{&Error{Kind: Conflict, Err: fmt.Errorf("dup")}, Conflict},
		{fmt.Errorf("outer: %w", &Error{Kind: TooLarge, Err: fmt.Errorf("big")}), TooLarge},
		{fmt.Errorf("plain"), Internal},
	}
	for _, tt := range tests {
		if got := ErrorKind(tt.err); got != tt.kind {
			t.Errorf("ErrorKind(%v) = %v, want %v", tt.err, got, tt.kind)
		}
	}
	if s := Timeout.String(); s != "timeout" {
		t.Errorf("Timeout.String() = %q", s)
	}
	e := &Error{Kind: Invalid, Op: "load cert", Err: fmt.Errorf("row 3: bad")}
	if got := e.Error(); got != "engine: load cert: row 3: bad" {
		t.Errorf("Error() = %q", got)
	}
}

func TestConcurrentLoadsAndQueries(t *testing.T) {
	db := openTest(t, "")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 4 {
		wg.Go(func() { // loaders: each adds its own 10 rows, twice (the second time all skipped)
			var rows []row
			for i := range 10 {
				rows = append(rows, obs(fmt.Sprintf("w%d-%d", w, i), "10.0.0.1", "10.0.0.2"))
			}
			for range 2 {
				rr := readerOf(t, db.alloc, query.Discovery, rows)
				_, err := db.Load(context.Background(), query.Discovery, rr)
				rr.Release()
				if err != nil {
					errs <- err
				}
			}
		})
		wg.Go(func() { // readers
			for range 5 {
				if _, err := db.RowCount(context.Background(), query.Discovery); err != nil {
					errs <- err
				}
				rr, err := db.Query(context.Background(), `SELECT count(DISTINCT "obsUid") FROM discovery_obs JOIN discovery_flow USING ("flowId")`)
				if err != nil {
					errs <- err
					continue
				}
				for rr.Next() {
				}
				rr.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := rowCount(t, db, query.Discovery); n != 40 {
		t.Errorf("%d rows after concurrent loads, want 40", n)
	}
}
