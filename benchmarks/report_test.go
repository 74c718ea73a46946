package benchmarks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleResults is a fixed Results value covering ok, error, not-available and ingest rows.
func sampleResults() *Results {
	ok := func(med, p95 time.Duration, rows, bytes int64, rss int64) *PathResult {
		return &PathResult{Status: StatusOK, Rows: rows, Bytes: bytes, Stats: Stats{N: 5, Median: med, P95: p95},
			RowsPerSec: Rate(rows, med), MBPerSec: Rate(bytes, med) / 1e6, PeakRSS: rss}
	}
	withServer := func(p *PathResult, server time.Duration) *PathResult {
		p.ServerMedian = server
		return p
	}
	cases := []CaseResult{
		{Name: "eq_range", Kind: Page, Status: StatusOK, Rows: 100, Paths: map[string]*PathResult{
			"api": withServer(ok(12*time.Millisecond, 15*time.Millisecond, 100, 40_000, 300<<20), 11*time.Millisecond), "duckdb": ok(10*time.Millisecond, 11*time.Millisecond, 100, 0, 0),
			"postgres": ok(90*time.Millisecond, 95*time.Millisecond, 100, 0, 0)}, APIOverDuckDB: 1.2, ServerOverDuckDB: 1.1, PostgresOverAPI: 7.5},
		{Name: "cidr_v4", Kind: Page, Status: StatusOK, Rows: 100, Paths: map[string]*PathResult{
			"api": withServer(ok(5*time.Millisecond, 6*time.Millisecond, 100, 40_000, 310<<20), 3*time.Millisecond), "duckdb": ok(2*time.Millisecond, 3*time.Millisecond, 100, 0, 0),
			"postgres": ok(20*time.Millisecond, 25*time.Millisecond, 100, 0, 0)}, APIOverDuckDB: 2.5, ServerOverDuckDB: 1.5, PostgresOverAPI: 4},
		{Name: "export_csv_1m", Kind: Export, Format: CSV, Status: StatusOK, Rows: 1_000_000, Paths: map[string]*PathResult{
			"api": ok(2*time.Second, 2100*time.Millisecond, 1_000_000, 300_000_000, 900<<20), "duckdb": ok(1500*time.Millisecond, 1600*time.Millisecond, 1_000_000, 310_000_000, 0),
			"postgres": ok(12*time.Second, 13*time.Second, 1_000_000, 320_000_000, 0)}, APIOverDuckDB: 1.333, PostgresOverAPI: 6},
		{Name: "export_zip_1m", Kind: Export, Format: Zip, Status: StatusNotAvailable, Reason: "zip export (returnAsZipFile): HTTP 400 Bad Request: unknown parameter",
			Paths: map[string]*PathResult{"api": {Status: StatusNotAvailable, Reason: "zip export: HTTP 400"}, "duckdb": ok(3*time.Second, 3*time.Second, 1_000_000, 90_000_000, 0)}},
		{Name: "nested_bool", Kind: Page, Status: StatusError, Reason: "paths disagree on row count: api=100, duckdb=99",
			Paths: map[string]*PathResult{"api": {Status: StatusOK, Rows: 100}, "duckdb": {Status: StatusOK, Rows: 99}}},
	}
	return &Results{
		Started: time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), Duration: 754 * time.Second, Seed: 1,
		Machine: Machine{CPUs: 2, CPUModel: "Test CPU", MemoryBytes: 24 << 30, OS: "linux/amd64", Go: "go1.26", DuckDB: "v1.5.6", Postgres: "15.8"},
		Scales: []*ScaleResult{{Scale: "1M", Observations: 1_000_000, Certificates: 2000, Flows: 180_000, Reps: 5,
			Build: BuildInfo{DuckDBBytes: 200 << 20, NativeLoad: 4 * time.Second, NativeLoadRows: 1_002_000, PostgresLoad: 20 * time.Second, PostgresRows: 1_000_000},
			Cases: cases, Summary: summarize(cases), ServerPeakRSS: 900 << 20}},
		Ingest: []IngestResult{{Format: "parquet", Rows: 1_000_000, Bytes: 80 << 20,
			Cipherscope: ok(5*time.Second, 5*time.Second, 1_000_000, 80<<20, 700<<20), DuckDB: ok(2*time.Second, 2*time.Second, 1_000_000, 80<<20, 0), Ratio: 0.4},
			{Format: "zeek-tsv", Cipherscope: &PathResult{Status: StatusNotAvailable, Reason: "cipherscope ingest: unknown command \"ingest\""}, DuckDB: ok(time.Second, time.Second, 10, 100, 0)}},
	}
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, sampleResults()); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "latest.golden.md")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("markdown differs from %s (run with -update after checking):\n%s", golden, buf.String())
	}
}

func TestSummaryTargets(t *testing.T) {
	s := sampleResults().Scales[0].Summary
	if s.OK != 3 || s.Errors != 1 || s.Missing != 1 {
		t.Errorf("counts %+v", s)
	}
	byName := map[string]Target{}
	for _, tg := range s.Targets {
		byName[tg.Name] = tg
	}
	// Page ratios 1.2 and 2.5: median 1.85 > 1.2.
	if tg := byName["API overhead on filtered pages"]; tg.Met || tg.Value != 1.85 ||
		tg.Detail != "median of API/DuckDB over 2 page cases; 1 of them within on their own, worst 2.50; inside the server (Server-Timing, without HTTP): median 1.30, worst 1.50" {
		t.Errorf("api target %+v", tg)
	}
	// PG/API over three cases: 7.5, 4, 6 -> median 6.
	if tg := byName["Faster than PostgreSQL"]; !tg.Met || tg.Value != 6 {
		t.Errorf("pg target %+v", tg)
	}
	// 1M rows in 2 s vs 1.5 s: 0.75 < 0.8.
	if tg := byName["CSV export throughput"]; tg.Met || tg.Value != 0.75 {
		t.Errorf("csv target %+v", tg)
	}
}
