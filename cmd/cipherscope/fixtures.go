package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cipherscope/cipherscope/fixtures"
)

// runFixtures writes a generated dataset: the same flags give byte-identical files.
// The written paths are printed to stdout, one per line.
func runFixtures(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("fixtures", "--rows N --certs M --seed S --format parquet|csv|ndjson|zeek-tsv|zeek-json --out DIR", e.stderr)
	rows := fs.Int("rows", 10_000, "observations (connections) to generate")
	certs := fs.Int("certs", 100, "certificates to generate")
	seed := fs.Uint64("seed", 1, "seed of the generator")
	format := fs.String("format", "parquet", "file `format`: parquet, csv, ndjson, zeek-tsv or zeek-json")
	out := fs.String("out", "", "output `directory`, created if missing (required)")
	pos, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *out == "":
		return usagef("--out is required")
	case *rows < 0 || *certs < 0:
		return usagef("--rows and --certs must not be negative")
	}
	f, err := fixtures.ParseFormat(*format)
	if err != nil {
		return usagef("unknown --format %q: use parquet, csv, ndjson, zeek-tsv or zeek-json", *format)
	}
	start := time.Now()
	cfg := fixtures.Config{Observations: *rows, Certificates: *certs, Seed: *seed}
	paths, err := fixtures.Write(cfg, f, *out)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(e.stdout, p)
	}
	slog.New(slog.NewTextHandler(e.stderr, nil)).Info("fixtures written", "files", len(paths), "took", time.Since(start).Round(time.Millisecond))
	return nil
}
