package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cipherscope/cipherscope/query"
)

// Options configure Run. The zero value (after defaults) runs the whole suite at the
// default scales, writing results under benchmarks/results.
type Options struct {
	// Scales to run, in order; empty means DefaultScales.
	Scales []Scale
	// Reps is the number of timed repetitions per path and case; 0 chooses by scale.
	Reps int
	// Budget caps the timed runs of one path of one case: once spent, no more repetitions
	// (at least one always runs). 0 means 90 s, which keeps slow PostgreSQL cases bounded.
	Budget time.Duration
	// Cases selects cases by name or glob; empty means the whole suite.
	Cases []string
	// Seed of the generated datasets (the cache is keyed by seed and scale).
	Seed uint64
	// Binary is the cipherscope executable to serve and ingest with; empty builds one
	// into the cache directory (`go build`), which needs the source tree.
	Binary string
	// CacheDir holds generated datasets; ResultsDir receives the result files. Empty:
	// benchmarks/cache and benchmarks/results of the module root.
	CacheDir, ResultsDir string
	// Threads and MemoryLimit configure DuckDB identically in the server and the harness.
	Threads     int
	MemoryLimit string
	// NoPostgres skips the PostgreSQL path; NoIngest skips the ingest comparison.
	NoPostgres, NoIngest bool
	// IngestScale is the dataset size of the ingest comparison; 0 means the smallest of
	// Scales capped at 1M. IngestReps defaults to 2.
	IngestScale Scale
	IngestReps  int
	// NoWrite keeps results in memory only (tests).
	NoWrite bool
	// Log receives progress lines; nil means os.Stderr.
	Log io.Writer
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() (Options, error) {
	if len(o.Scales) == 0 {
		o.Scales = DefaultScales
	}
	if o.Budget == 0 {
		o.Budget = 90 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.IngestReps == 0 {
		o.IngestReps = 2
	}
	if o.IngestScale == 0 {
		o.IngestScale = min(o.Scales[0], 1_000_000)
		for _, s := range o.Scales {
			o.IngestScale = min(o.IngestScale, s)
		}
	}
	root := moduleRoot()
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(root, "benchmarks", "cache")
	}
	if o.ResultsDir == "" {
		o.ResultsDir = filepath.Join(root, "benchmarks", "results")
	}
	return o, nil
}

func (o *Options) logf(format string, args ...any) {
	fmt.Fprintf(o.Log, "bench: "+format+"\n", args...)
}

// Run runs the benchmark suite at every scale of o and writes the results (one JSON file
// per scale and latest.md) unless o.NoWrite. Cases that fail or lack an API feature are
// recorded in the results, not returned as errors; an error means the harness itself
// could not run (no binary, no database, no PostgreSQL).
func Run(ctx context.Context, o Options) (*Results, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	cases, err := SelectCases(Suite(), o.Cases)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(scratchRoot(), "cipherscope-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if o.Binary == "" {
		if o.Binary, err = buildBinary(ctx, &o); err != nil {
			return nil, err
		}
	}
	res := &Results{Started: time.Now(), Machine: describeMachine(), Seed: o.Seed}
	for _, s := range o.Scales {
		sr, err := runScale(ctx, &o, s, cases, tmp, &res.Machine)
		if err != nil {
			return res, fmt.Errorf("scale %s: %w", s, err)
		}
		res.Scales = append(res.Scales, sr)
	}
	if !o.NoIngest {
		res.Ingest = runIngest(ctx, &o, o.IngestScale, tmp)
	}
	res.Duration = time.Since(res.Started)
	if o.NoWrite {
		return res, nil
	}
	return res, writeResults(&o, res)
}

// runScale measures one dataset size: build (or reuse) the DuckDB file, start serve on a
// private copy, open the original read-only in-process, load PostgreSQL, run the cases.
//
// Why a copy: DuckDB locks a file for the process that opens it read-write, and serve
// opens its database read-write; a second process could not even open it read-only. Serve
// therefore gets a byte-identical copy made before it starts, and all three paths stay
// up together, so the repetitions can interleave in one process without restarts.
func runScale(ctx context.Context, o *Options, s Scale, cases []Case, tmp string, m *Machine) (*ScaleResult, error) {
	start := time.Now()
	reps := o.Reps
	if reps == 0 {
		reps = s.DefaultReps()
	}
	if len(o.Cases) == 0 {
		cases = s.DefaultCases(cases)
	}
	d, err := ensureDataset(ctx, o.CacheDir, o.Seed, s, o.logf)
	if err != nil {
		return nil, err
	}
	sr := &ScaleResult{Scale: s.String(), Observations: s.Observations(), Certificates: s.Certificates(), Reps: reps, Build: d.build}
	duck, err := openDuck(ctx, d.duckdb, o.Threads, o.MemoryLimit, tmp)
	if err != nil {
		return nil, err
	}
	defer duck.Close()
	m.DuckDB = duck.version(ctx)
	if sr.Flows, err = countFlows(ctx, duck); err != nil {
		return nil, err
	}

	serveDB := filepath.Join(tmp, "serve.duckdb")
	if err := copyFile(d.duckdb, serveDB); err != nil {
		return nil, err
	}
	defer removeDB(serveDB)
	// The key must exist before serve starts: serve holds the file's write lock.
	key, err := apiKey(ctx, o.Binary, serveDB)
	if err != nil {
		return nil, err
	}
	srv, err := startServe(ctx, o.Binary, serveDB, o.Threads, o.MemoryLimit)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	serverRSS := procRSS{pid: fmt.Sprint(srv.Pid())}

	paths := []runner{newAPIPath(srv.base, key, tmp), duck}
	if o.NoPostgres {
		sr.Build.PostgresSkipped = "disabled by option"
	} else {
		pg, stop, err := setupPostgres(ctx, o, d, duck, sr, m)
		if err != nil {
			return nil, err
		}
		defer stop()
		paths = append(paths, pg)
	}

	cr := &caseRunner{paths: paths, reps: reps, budget: o.Budget, log: o.Log,
		rss: map[string]rssProbe{"api": serverRSS, "duckdb": procRSS{pid: "self"}}}
	for _, c := range cases {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		o.logf("%s: %s", s, c.Name)
		sr.Cases = append(sr.Cases, cr.run(ctx, c))
		sr.ServerPeakRSS = max(sr.ServerPeakRSS, sr.Cases[len(sr.Cases)-1].Paths["api"].PeakRSS)
	}
	sr.Summary = summarize(sr.Cases)
	sr.Duration = time.Since(start)
	return sr, nil
}

// setupPostgres starts a throwaway server, loads the dataset and returns the path.
func setupPostgres(ctx context.Context, o *Options, d *dataset, duck *duckPath, sr *ScaleResult, m *Machine) (*pgPath, func(), error) {
	csvs, err := d.pgCSV(ctx, duck)
	if err != nil {
		return nil, nil, fmt.Errorf("export for postgres: %w", err)
	}
	srv, err := startPostgres(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	conn, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		return nil, nil, errors.Join(err, srv.Stop())
	}
	stop := func() { conn.Close(context.Background()); _ = srv.Stop() }
	m.Postgres = pgVersion(ctx, conn)
	o.logf("loading PostgreSQL (%s)", sr.Scale)
	start := time.Now()
	if _, err := pgLoad(ctx, conn, csvs); err != nil {
		stop()
		return nil, nil, err
	}
	sr.Build.PostgresLoad = time.Since(start)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgObsTable).Scan(&sr.Build.PostgresRows); err != nil {
		stop()
		return nil, nil, err
	}
	return &pgPath{conn: conn}, stop, nil
}

// countFlows counts the discovery rollup's rows (the size of a full export).
func countFlows(ctx context.Context, duck *duckPath) (int64, error) {
	r, err := duck.query(ctx, "SELECT count(*) FROM ("+duckSource(Case{Dataset: query.Discovery}, "", "")+")")
	return r.first, err
}

// apiKey creates an Administrator key with `cipherscope keys create` when the binary has
// that command; without it the server is unauthenticated on loopback and needs none.
func apiKey(ctx context.Context, bin, db string) (string, error) {
	if k := os.Getenv("CIPHERSCOPE_BENCH_API_KEY"); k != "" {
		return k, nil
	}
	cmd := exec.CommandContext(ctx, bin, "keys", "create", "--db", db, "--roles", "Analyst", "--description", "benchmark harness")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("create an API key for the benchmark: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// buildBinary compiles cmd/cipherscope into the cache directory.
func buildBinary(ctx context.Context, o *Options) (string, error) {
	bin := filepath.Join(o.CacheDir, "bin", "cipherscope")
	o.logf("building %s", bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "duckdb_arrow", "-o", bin, "./cmd/cipherscope")
	cmd.Dir = moduleRoot()
	cmd.Stdout, cmd.Stderr = o.Log, o.Log
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build cipherscope: %w", err)
	}
	return bin, nil
}

// writeResults writes <timestamp>-<scale>.json per scale and latest.md.
func writeResults(o *Options, res *Results) error {
	for _, s := range res.Scales {
		one := *res
		one.Scales = []*ScaleResult{s}
		one.Files = nil
		f := scaleFile(o.ResultsDir, res.Started, s.Scale)
		if err := writeJSON(f, &one); err != nil {
			return err
		}
		res.Files = append(res.Files, f)
	}
	md := filepath.Join(o.ResultsDir, "latest.md")
	f, err := os.Create(md)
	if err != nil {
		return err
	}
	if err := WriteMarkdown(f, res); err != nil {
		f.Close()
		return err
	}
	res.Files = append(res.Files, md)
	return f.Close()
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if fileExists(filepath.Join(d, "go.mod")) {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// scratchRoot prefers tmpfs for export files and the serve copy, so that disk speed
// does not enter DuckDB's COPY numbers.
func scratchRoot() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}
