package benchmarks

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// tinyScale keeps the end-to-end tests to seconds.
const tinyScale Scale = 20_000

// TestSQLPathsAgreeTiny runs every case on raw DuckDB and PostgreSQL over a 20k-row
// dataset: the hand-written DuckDB SQL and the verbatim filter on PostgreSQL must return
// the same row counts (and counts), which is what makes their timings comparable.
func TestSQLPathsAgreeTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	o := &Options{Seed: 7, Log: io.Discard, CacheDir: t.TempDir()}
	d, err := ensureDataset(ctx, o.CacheDir, o.Seed, tinyScale, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	duck, err := openDuck(ctx, d.duckdb, 0, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	sr := &ScaleResult{Scale: tinyScale.String()}
	var m Machine
	pg, stop, err := setupPostgres(ctx, o, d, duck, sr, &m)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if sr.Build.PostgresRows != int64(tinyScale) {
		t.Errorf("PostgreSQL holds %d observations, want %d", sr.Build.PostgresRows, tinyScale)
	}
	cr := &caseRunner{paths: []runner{duck, pg}, reps: 1}
	for _, c := range Suite() {
		res := cr.run(ctx, c)
		if res.Status != StatusOK {
			t.Errorf("%s: %s: %s", c.Name, res.Status, res.Reason)
			continue
		}
		t.Logf("%-18s rows %6d  duckdb %v  postgres %v", c.Name, res.Rows,
			res.Paths["duckdb"].Stats.Median, res.Paths["postgres"].Stats.Median)
	}
}

// TestRunTiny is the whole instrument at 20k rows and one repetition: serve child, raw
// DuckDB, PostgreSQL, ingest. Every case must either agree across its paths or be
// recorded as not available with a reason.
func TestRunTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cipherscope and starts PostgreSQL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := os.Getenv("CIPHERSCOPE_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "cipherscope")
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", "duckdb_arrow", "-o", bin, "./cmd/cipherscope")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build cipherscope: %v\n%s", err, out)
		}
	}
	res, err := Run(ctx, Options{Scales: []Scale{tinyScale}, Reps: 1, Seed: 7, Binary: bin,
		CacheDir: t.TempDir(), ResultsDir: t.TempDir(), Log: io.Discard, IngestReps: 1})
	if err != nil {
		t.Fatal(err)
	}
	sr := res.Scales[0]
	for _, c := range sr.Cases {
		switch c.Status {
		case StatusOK:
			t.Logf("%-18s ok rows %d", c.Name, c.Rows)
			// The API path is what the instrument exists for: a case must not pass on the
			// SQL paths alone (an API key the server refused once made it vanish silently).
			p := c.Paths["api"]
			if p == nil || p.Status != StatusOK {
				t.Errorf("%s: API path not measured: %+v", c.Name, p)
				continue
			}
			// Pages say where their time went; exports cannot (their header goes first).
			if hasTiming := p.ServerMedian > 0; hasTiming != (c.Kind == Page) {
				t.Errorf("%s: server-reported time %v for a %s case", c.Name, p.ServerMedian, c.Kind)
			} else if p.ServerMedian > p.Stats.Median {
				t.Errorf("%s: server-reported %v, more than the request took (%v)", c.Name, p.ServerMedian, p.Stats.Median)
			}
		case StatusNotAvailable:
			if c.Reason == "" {
				t.Errorf("%s: not available without a reason", c.Name)
			}
			t.Logf("%-18s %s", c.Name, c.Reason)
		default:
			t.Errorf("%s: %s: %s", c.Name, c.Status, c.Reason)
		}
	}
	if len(res.Files) != 2 {
		t.Errorf("result files: %v", res.Files)
	}
}
