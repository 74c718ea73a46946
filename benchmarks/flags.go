package benchmarks

import (
	"flag"
	"strings"

	"github.com/cipherscope/cipherscope/engine"
)

// ParseFlags reads the benchmark options from command-line flags, with the environment
// as fallback (SCALE, REPS, CASES, as `make bench SCALE=100M` passes them), so that
// `cipherscope bench` and benchmarks/cmd/bench accept the same flags.
func ParseFlags(fs *flag.FlagSet, args []string, getenv func(string) string) (Options, error) {
	var o Options
	scale := fs.String("scale", getenv("SCALE"), "comma-separated dataset sizes, e.g. 1M,10M (default 1M,10M; 100M for big machines)")
	cases := fs.String("cases", getenv("CASES"), "comma-separated case names or globs (default: all)")
	fs.IntVar(&o.Reps, "reps", atoiOr(getenv("REPS"), 0), "timed repetitions per path and case (0: 5 up to 1M, 2 up to 10M, else 1)")
	fs.DurationVar(&o.Budget, "budget", 0, "time budget per path and case before repetitions stop (default 90s)")
	fs.Uint64Var(&o.Seed, "seed", 1, "dataset seed")
	fs.StringVar(&o.Binary, "bin", getenv("CIPHERSCOPE_BIN"), "cipherscope binary (default: build one into the cache)")
	fs.StringVar(&o.CacheDir, "cache", "", "dataset cache directory (default benchmarks/cache)")
	fs.StringVar(&o.ResultsDir, "results", "", "results directory (default benchmarks/results)")
	fs.IntVar(&o.Threads, "threads", 0, "DuckDB threads for server and harness (0: all cores)")
	fs.StringVar(&o.MemoryLimit, "memory-limit", engine.ServeMemoryLimit, "DuckDB memory limit for server and harness (the server's default)")
	fs.BoolVar(&o.NoPostgres, "no-postgres", false, "skip the PostgreSQL path")
	fs.BoolVar(&o.NoIngest, "no-ingest", false, "skip the ingest comparison")
	ingestScale := fs.String("ingest-scale", "", "dataset size of the ingest comparison (default: smallest scale, at most 1M)")
	fs.IntVar(&o.IngestReps, "ingest-reps", 0, "repetitions of each ingest (default 2)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	if *scale != "" {
		if o.Scales, err = ParseScales(*scale); err != nil {
			return o, err
		}
	}
	if *ingestScale != "" {
		if o.IngestScale, err = ParseScale(*ingestScale); err != nil {
			return o, err
		}
	}
	for _, c := range strings.Split(*cases, ",") {
		if c = strings.TrimSpace(c); c != "" {
			o.Cases = append(o.Cases, c)
		}
	}
	return o, nil
}

func atoiOr(s string, def int) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return def
		}
		n = n*10 + int(r-'0')
	}
	if s == "" {
		return def
	}
	return n
}
