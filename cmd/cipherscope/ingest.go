package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

// runIngest loads files into a database: one all-or-nothing run (see package ingest).
// A progress bar goes to stderr when it is a terminal; the summary goes to stderr on
// every run. Input errors (a malformed line, named file:line) exit 2.
func runIngest(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("ingest", "--db FILE [--format auto|zeek|x509|native] [--skip-invalid] PATH...", e.stderr)
	db := fs.String("db", defaultDB, "database `file`, created if missing")
	format := fs.String("format", "auto", "input `format`: auto (detect each file from its content), zeek, x509 or native")
	skip := fs.Bool("skip-invalid", false, "skip malformed lines and certificates instead of stopping (the summary counts them)")
	paths, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("give at least one file or directory to ingest")
	}
	f, err := ingest.ParseFormat(*format)
	if err != nil {
		return usagef("%v", err)
	}
	opt := ingest.Options{Format: f, SkipInvalid: *skip}
	if stderrIsTerminal(e.stderr) {
		opt.Progress = newIngestBar(e.stderr).update
	}
	d, err := engine.Open(ctx, engine.Config{Path: *db})
	if err != nil {
		return err
	}
	defer d.Close()
	sum, err := ingest.Run(ctx, d, paths, opt)
	if err != nil {
		if ingest.IsInputError(err) {
			return usagef("%v (nothing was stored)", err)
		}
		return err
	}
	printSummary(e.stderr, sum)
	return nil
}

// printSummary writes the run's counts: files, rows read and stored per dataset,
// skipped lines with the first examples, and the time taken.
func printSummary(w io.Writer, s ingest.Summary) {
	fmt.Fprintf(w, "ingested %d files in %s\n", s.Files, s.Duration.Round(time.Millisecond))
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		st := s.Loaded[ds]
		fmt.Fprintf(w, "  %-9s %d rows read, %d new, %d updated, %d already stored (load %s)\n", ds, s.Rows[ds], st.Inserted, st.Updated, st.Skipped, st.Duration.Round(time.Millisecond))
	}
	if len(s.Ignored) > 0 {
		fmt.Fprintf(w, "  ignored   %d files of unknown format in directories, first: %s\n", len(s.Ignored), s.Ignored[0])
	}
	if s.Skipped > 0 {
		fmt.Fprintf(w, "  skipped   %d invalid lines or certificates, first:\n", s.Skipped)
		for _, ex := range s.Examples {
			fmt.Fprintf(w, "    %s\n", ex)
		}
	}
}

// stderrIsTerminal decides whether the progress bar is drawn; a variable so that tests
// can pretend (progress is for people only: scripts and pipes get the summary alone).
var stderrIsTerminal = isTerminal

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ingestBar draws ingest.Progress with progressbar: the bytes read of all input files
// (compressed bytes for gzip files) against their total size, with the rate and the
// time left, and the rows read and rows per second as the description.
type ingestBar struct {
	w        io.Writer
	bar      *progressbar.ProgressBar
	restarts int
}

func newIngestBar(w io.Writer) *ingestBar { return &ingestBar{w: w} }

// update is the ingest.Options.Progress callback (never called concurrently).
func (b *ingestBar) update(p ingest.Progress) {
	if b.bar == nil || p.Restarts != b.restarts {
		if b.bar != nil {
			_ = b.bar.Clear()
		}
		b.restarts = p.Restarts
		desc := "reading"
		if p.Restarts > 0 {
			desc = "reading again (a combined Zeek log)"
		}
		// One unit more than the bytes: the bar finishes (and clears) when it reaches its
		// maximum, which must wait for the commit after the last byte is read.
		b.bar = progressbar.NewOptions64(p.TotalBytes+1,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(24),
			progressbar.OptionClearOnFinish(), // the summary follows
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Rows) / s
	}
	what := "read"
	if p.Bytes >= p.TotalBytes {
		what = "read, storing" // DuckDB finishes the transaction
	}
	// Not throttled: the reports come every ingest.ProgressInterval anyway.
	b.bar.Describe(fmt.Sprintf("%s rows %s, %s rows/s", count(float64(p.Rows)), what, count(rate)))
	_ = b.bar.Set64(min(p.Bytes, p.TotalBytes))
	if p.Done {
		_ = b.bar.Finish()
	}
}

// count renders a count compactly: 950, 12.3k, 4.56M.
func count(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}
