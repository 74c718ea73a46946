package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/ingest"
)

// TestIngestProgressOnlyOnATerminal: the summary goes to stderr on every run; the
// progress bar only when stderr is a terminal, so scripts see the summary alone.
func TestIngestProgressOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	paths, err := fixtures.Write(fixtures.Config{Observations: 200, Certificates: 10, Seed: 2}, fixtures.ZeekTSV, filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func(io.Writer) bool) { stderrIsTerminal = f }(stderrIsTerminal)
	for _, term := range []bool{false, true} {
		stderrIsTerminal = func(io.Writer) bool { return term }
		db := filepath.Join(dir, "cs.duckdb")
		code, stdout, stderr := runCLI(nil, append([]string{"ingest", "--db", db}, paths...)...)
		if code != 0 || stdout != "" {
			t.Fatalf("terminal %v: exit %d, stdout %q, stderr %q", term, code, stdout, stderr)
		}
		summary := strings.Index(stderr, "ingested 3 files in ")
		if summary < 0 || !strings.Contains(stderr[summary:], "discovery 200 rows read") {
			t.Fatalf("terminal %v: no summary in %q", term, stderr)
		}
		// A run this small ends before the first report: the bar shows and is cleared.
		if before := stderr[:summary]; term != strings.Contains(before, "% |") || !term && before != "" {
			t.Errorf("terminal %v: before the summary %q", term, before)
		}
	}
}

func TestIngestBar(t *testing.T) {
	var out strings.Builder
	b := newIngestBar(&out)
	b.update(ingest.Progress{Files: 1, Bytes: 50, TotalBytes: 100, Rows: 2500, Elapsed: 2e9})
	b.update(ingest.Progress{Files: 1, Bytes: 100, TotalBytes: 100, Rows: 5000, Elapsed: 4e9})
	if s := out.String(); !strings.Contains(s, "5.0k rows read, storing, 1.2k rows/s") || !strings.Contains(s, "99%") {
		t.Errorf("bar output %q", s)
	}
	b.update(ingest.Progress{Files: 1, Bytes: 100, TotalBytes: 100, Rows: 5000, Elapsed: 4e9, Done: true})
	if s := out.String(); !strings.HasSuffix(s, "\r") {
		t.Errorf("the bar is not cleared at the end: %q", s)
	}
	for n, want := range map[float64]string{950: "950", 12345: "12.3k", 4.56e6: "4.56M", 7.1e9: "7.10G"} {
		if got := count(n); got != want {
			t.Errorf("count(%v) = %q, want %q", n, got, want)
		}
	}
}
