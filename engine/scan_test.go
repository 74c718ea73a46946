package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/query"
)

// readRows renders every row of rr as one line of text and releases rr.
func readRows(t *testing.T, rr array.RecordReader) []string {
	t.Helper()
	defer rr.Release()
	var out []string
	for rr.Next() {
		out = append(out, batchRows(rr.RecordBatch())...)
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadSynth(t *testing.T, db *DB, n int, seed uint64) {
	t.Helper()
	recs := synthBatches(memory.DefaultAllocator, n, 1_000, seed)
	rr, err := array.NewRecordReader(InputSchema(query.Discovery), recs)
	releaseAll(recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	if _, err := db.Load(context.Background(), query.Discovery, rr); err != nil {
		t.Fatal(err)
	}
}

func selectAll(t *testing.T, db *DB, req query.Request) []string {
	t.Helper()
	rr, err := db.Select(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, rr)
	slices.Sort(rows)
	return rows
}

// TestScanReadsEveryRowOnce compares scans in slices of several sizes, with and without
// a limit, with the same request as one query.
func TestScanReadsEveryRowOnce(t *testing.T) {
	db := openTest(t, "")
	loadSynth(t, db, 5_000, 3)
	ctx := context.Background()
	for _, req := range []query.Request{
		{Dataset: query.Discovery, Filter: "tlsVersion = 'TLSv1.2' AND byteVolume > 1000", Columns: []string{"clientIp", "serverIp", "tlsVersion", "byteVolume", "connectionCount", "lastSeen", "weakReasons"}},
		{Dataset: query.Discovery},
		// A time frame is no table scan: its rollups are computed into a temporary table.
		{Dataset: query.Discovery, Filter: "serverPort IN (443, 8443)", TimeFrame: query.TimeFrame{Begin: ts("2024-05-01T03:00:00Z"), End: ts("2024-05-01T21:00:00Z")},
			Columns: []string{"clientIp", "serverIp", "connectionCount", "firstSeen", "lastSeen"}},
	} {
		want := selectAll(t, db, req)
		if len(want) < 1_000 {
			t.Fatalf("%q: only %d rows; the test needs several slices", req.Filter, len(want))
		}
		for _, sliceRows := range []int{37, 700, 100_000} {
			rr, err := db.Scan(ctx, req, sliceRows, 0)
			if err != nil {
				t.Fatal(err)
			}
			got := readRows(t, rr)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%q, slices of %d: %d rows, want %d (or different rows)", req.Filter, sliceRows, len(got), len(want))
			}
		}
		rr, err := db.Scan(ctx, req, 700, 1234)
		if err != nil {
			t.Fatal(err)
		}
		got := readRows(t, rr)
		if len(got) != 1234 {
			t.Errorf("%q, limit 1234: %d rows", req.Filter, len(got))
		}
		for _, r := range got {
			if _, found := slices.BinarySearch(want, r); !found {
				t.Fatalf("%q, limit 1234: row %q is not in the result", req.Filter, r)
			}
		}
	}
	// Certificates sorted on a key with ties and NULLs; the fingerprint, which numbering
	// joins on, is also a selected column.
	var certs []row
	for i := range 1_000 {
		c := cert(fmt.Sprintf("%04x", i), "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
		c["certPublicKeySize"] = []any{256, 2048, 4096, nil}[i%4]
		certs = append(certs, c)
	}
	mustLoad(t, db, query.Cert, certs)
	// Sorted: the same rows in the same order as one query, ties by flow id included.
	for _, req := range []query.Request{
		{Dataset: query.Cert, Columns: []string{"certPublicKeySize", "certFingerprint"}, Sorts: []query.Sort{{Field: "certPublicKeySize", Desc: true}}},
		{Dataset: query.Discovery, Columns: []string{"serverIp", "byteVolume", "connectionCount"}, Sorts: []query.Sort{{Field: "serverIp"}}},
		{Dataset: query.Discovery, Filter: "tlsVersion <> 'TLSv1.0'", Columns: []string{"clientIp", "connectionCount", "lastSeen"},
			Sorts: []query.Sort{{Field: "connectionCount", Desc: true}}, TimeFrame: query.TimeFrame{Begin: ts("2024-05-01T03:00:00Z")}},
	} {
		sel, err := db.Select(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want := readRows(t, sel)
		rr, err := db.Scan(ctx, req, 333, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := readRows(t, rr); !slices.Equal(got, want) {
			t.Errorf("sorted by %v: %d rows, want the %d of Select in its order", req.Sorts, len(got), len(want))
		}
	}
	if n := db.sql.Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use after the scans", n)
	}
}

// TestScanIsOneSnapshot loads new flows and changes every stored one while a scan is
// half read: the scan returns the rows as they were when it started.
func TestScanIsOneSnapshot(t *testing.T) {
	db := openTest(t, "")
	loadSynth(t, db, 3_000, 4)
	req := query.Request{Dataset: query.Discovery, Columns: []string{"clientIp", "serverIp", "serverPort", "connectionCount", "byteVolume", "lastSeen"}}
	want := selectAll(t, db, req)
	rr, err := db.Scan(context.Background(), req, 500, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var got []string
	for i := 0; i < 2 && rr.Next(); i++ {
		got = append(got, batchRows(rr.RecordBatch())...)
	}
	loadSynth(t, db, 3_000, 5) // new flows, stored after the scan's extent
	// Every stored flow changes, in the slices read and in those still to come.
	if _, err := db.sql.Exec(`UPDATE discovery_flow SET "connectionCount" = "connectionCount" + 1000`); err != nil {
		t.Fatal(err)
	}
	if after := selectAll(t, db, req); slices.Equal(after, want) {
		t.Fatal("the second load changed nothing; the test proves nothing")
	}
	for rr.Next() {
		got = append(got, batchRows(rr.RecordBatch())...)
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("scan across loads: %d rows, want the %d rows of its start", len(got), len(want))
	}
}

// batchRows renders every row of rec as one line of text.
func batchRows(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		var vals []string
		for _, col := range rec.Columns() {
			vals = append(vals, col.ValueStr(i))
		}
		out = append(out, strings.Join(vals, "|"))
	}
	return out
}

func TestScanErrorsAndEmpty(t *testing.T) {
	db := openTest(t, "")
	ctx := context.Background()
	_, err := db.Scan(ctx, query.Request{Dataset: query.Cert, Limit: 5}, 10, 0)
	var e *Error
	if !errors.As(err, &e) || e.Kind != Invalid || err.Error() != "engine: scan cert: a scan has no limit or offset, and slices of at least one row" {
		t.Errorf("scan with a limit: %v", err)
	}
	rr, err := db.Scan(ctx, query.Request{Dataset: query.Cert, Columns: []string{"certFingerprint", "certIsCa"}}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Schema().String(); !strings.Contains(got, "certFingerprint: type=utf8") || !strings.Contains(got, "certIsCa: type=bool") {
		t.Errorf("schema of an empty scan: %s", got)
	}
	if rows := readRows(t, rr); len(rows) != 0 {
		t.Errorf("empty table: %v", rows)
	}

	loadSynth(t, db, 2_000, 6)
	cctx, cancel := context.WithCancel(ctx)
	rr, err = db.Scan(cctx, query.Request{Dataset: query.Discovery}, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Next() {
		t.Fatalf("no first batch: %v", rr.Err())
	}
	cancel()
	for rr.Next() {
	}
	if !errors.As(rr.Err(), &e) || e.Kind != Canceled {
		t.Errorf("cancelled scan: %v, want kind Canceled", rr.Err())
	}
	rr.Release()
	// The scan's transaction ended with it: the connection went back to the pool ready
	// for another one (a leaked transaction would make BEGIN fail there).
	if n := db.sql.Stats().InUse; n != 0 {
		t.Errorf("%d connections in use after Release", n)
	}
	if rows := readRows(t, mustScan(t, db, query.Request{Dataset: query.Discovery, Columns: []string{"serverPort"}})); len(rows) == 0 {
		t.Error("a scan after the cancelled one returned nothing")
	}
}

func mustScan(t *testing.T, db *DB, req query.Request) array.RecordReader {
	t.Helper()
	rr, err := db.Scan(context.Background(), req, 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}
