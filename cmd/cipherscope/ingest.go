package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

// runIngest loads files into a database: one all-or-nothing run (see package ingest).
// The summary goes to stderr; input errors (a malformed line, named file:line) exit 2.
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
	if isTerminal(e.stderr) {
		opt.Progress = func(file string, done, total int) {
			fmt.Fprintf(e.stderr, "\r\033[Kread %d/%d files: %s", done, total, file)
			if done == total {
				fmt.Fprintln(e.stderr)
			}
		}
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

// isTerminal reports whether w is a character device (progress is for people only).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
