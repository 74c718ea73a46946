package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
	"github.com/cipherscope/cipherscope/server"
)

// Defaults of `serve`.
const (
	defaultDB           = "cipherscope.duckdb"
	defaultListen       = "127.0.0.1:8080"
	defaultDemoRows     = 200_000
	defaultDemoCerts    = 2_000
	defaultDemoSeed     = 1
	demoBatchSize       = 16_384
	shutdownGracePeriod = 10 * time.Second
)

// serveOptions are the flags of `serve`.
type serveOptions struct {
	db, listen, memoryLimit    string
	threads                    int
	demo, accessLog            bool
	demoRows, demoCerts        int
	demoSeed                   uint64
	queryTimeout, writeTimeout time.Duration
	// Limits of the dataset routes (server.Config).
	maxLimit                    int64
	maxQueries, exportBatchRows int
	queueWait, exportTimeout    time.Duration
}

func runServe(ctx context.Context, e env, args []string) error {
	fs := newFlagSet("serve", "--db FILE --listen 127.0.0.1:8080 [--demo]", e.stderr)
	var o serveOptions
	fs.StringVar(&o.db, "db", defaultDB, "database `file`, created if missing")
	fs.StringVar(&o.listen, "listen", defaultListen, "`address` to listen on; loopback only until API keys exist")
	fs.BoolVar(&o.demo, "demo", false, "when the database is empty, load a generated demo dataset")
	fs.IntVar(&o.demoRows, "demo-rows", defaultDemoRows, "observations of the demo dataset")
	fs.IntVar(&o.demoCerts, "demo-certs", defaultDemoCerts, "certificates of the demo dataset")
	fs.Uint64Var(&o.demoSeed, "demo-seed", defaultDemoSeed, "seed of the demo dataset")
	fs.IntVar(&o.threads, "threads", 0, "DuckDB worker threads (0: one per core)")
	fs.StringVar(&o.memoryLimit, "memory-limit", "", "DuckDB memory limit, e.g. 4GB (default: 80% of RAM)")
	fs.DurationVar(&o.queryTimeout, "query-timeout", server.DefaultQueryTimeout, "time limit of one query (504 after it)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", server.DefaultWriteTimeout, "time limit for writing one response")
	fs.BoolVar(&o.accessLog, "access-log", false, "log every request to stderr")
	fs.Int64Var(&o.maxLimit, "max-limit", server.MaxLimit, "largest page (limit) without returnAsStream/returnAsZipFile (507 above)")
	fs.IntVar(&o.maxQueries, "max-concurrent-queries", server.DefaultMaxConcurrentQueries, "queries running at once (503 with Retry-After beyond, after --queue-wait)")
	fs.DurationVar(&o.queueWait, "queue-wait", server.DefaultQueueWait, "how long a request waits for a free query slot")
	fs.DurationVar(&o.exportTimeout, "export-timeout", server.DefaultExportTimeout, "time limit of one returnAsStream/returnAsZipFile export")
	fs.IntVar(&o.exportBatchRows, "export-batch-rows", server.DefaultExportBatchRows, "rows per query of a streamed export (bounds its memory)")
	pos, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if err := checkLoopback(o.listen); err != nil {
		return err
	}
	return serve(ctx, e, o)
}

// checkLoopback refuses any address a remote host could reach: the API has no
// authentication until API keys exist.
func checkLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return usagef("invalid --listen %q: %v", listen, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Unmap().IsLoopback() {
		return nil
	}
	return usagef("refusing to listen on %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until API keys are implemented", listen)
}

func serve(ctx context.Context, e env, o serveOptions) error {
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	db, err := engine.Open(ctx, engine.Config{Path: o.db, Threads: o.threads, MemoryLimit: o.memoryLimit})
	if err != nil {
		return err
	}
	defer func() {
		// Close checkpoints the file, so the next start does not replay the WAL.
		if cerr := db.Close(); cerr != nil {
			log.Error("closing the database", "err", cerr)
		}
	}()
	if o.demo {
		if err := loadDemo(ctx, log, db, o); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	app := server.New(db, server.Config{QueryTimeout: o.queryTimeout, WriteTimeout: o.writeTimeout, Logger: log, AccessLog: o.accessLog,
		MaxLimit: o.maxLimit, MaxConcurrentQueries: o.maxQueries, QueueWait: o.queueWait,
		ExportTimeout: o.exportTimeout, ExportBatchRows: o.exportBatchRows})
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "db", o.db)
	printTryIt(e.stdout, ln.Addr())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(shutdownGracePeriod); err != nil {
		return err
	}
	return <-served
}

// printTryIt prints a command that works against the running server.
func printTryIt(w io.Writer, addr net.Addr) {
	fmt.Fprintf(w, "curl -s 'http://%s/api/v1/dta_discovery?limit=5&sorts=byteVolume%%20desc'\n", addr)
}

// loadDemo fills an empty database with the generated demo dataset; a database that
// holds anything is left alone.
func loadDemo(ctx context.Context, log *slog.Logger, db *engine.DB, o serveOptions) error {
	for _, ds := range query.Datasets {
		n, err := db.RowCount(ctx, ds)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("demo: the database is not empty; nothing loaded", "dataset", ds, "rows", n)
			return nil
		}
	}
	cfg := fixtures.Config{Observations: o.demoRows, Certificates: o.demoCerts, Seed: o.demoSeed}
	start := time.Now()
	for _, ds := range []query.Dataset{query.Cert, query.Discovery} {
		dsStart := time.Now()
		rr := fixtures.Records(ds, cfg, demoBatchSize)
		stats, err := db.Load(ctx, ds, rr)
		rr.Release()
		if err != nil {
			return fmt.Errorf("demo: loading %s: %w", ds, err)
		}
		log.Info("demo: loaded", "dataset", ds, "stats", fmt.Sprintf("%+v", stats), "took", time.Since(dsStart).Round(time.Millisecond))
	}
	log.Info("demo: dataset ready", "observations", o.demoRows, "certificates", o.demoCerts, "seed", o.demoSeed, "took", time.Since(start).Round(time.Millisecond))
	return nil
}
