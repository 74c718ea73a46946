package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
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
	// Uploads of POST /api/v1/ingest (server.Config).
	maxUploadBytes int64
	uploadDir      string
	ingestTimeout  time.Duration
	// auditKey is the ed25519 signing key file of the audit log ("" = next to the database).
	auditKey string
	// public is set when --listen is not a loopback address: the database must hold keys.
	public bool
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
	fs.StringVar(&o.memoryLimit, "memory-limit", engine.ServeMemoryLimit, "DuckDB memory limit, e.g. 4GB (\"\": DuckDB's default, 80% of RAM)")
	fs.DurationVar(&o.queryTimeout, "query-timeout", server.DefaultQueryTimeout, "time limit of one query (504 after it)")
	fs.DurationVar(&o.writeTimeout, "write-timeout", server.DefaultWriteTimeout, "time limit for writing one response")
	fs.BoolVar(&o.accessLog, "access-log", false, "log every request to stderr")
	fs.Int64Var(&o.maxLimit, "max-limit", server.MaxLimit, "largest page (limit) without returnAsStream/returnAsZipFile (507 above)")
	fs.IntVar(&o.maxQueries, "max-concurrent-queries", server.DefaultMaxConcurrentQueries, "queries running at once (503 with Retry-After beyond, after --queue-wait)")
	fs.DurationVar(&o.queueWait, "queue-wait", server.DefaultQueueWait, "how long a request waits for a free query slot")
	fs.DurationVar(&o.exportTimeout, "export-timeout", server.DefaultExportTimeout, "time limit of one returnAsStream/returnAsZipFile export")
	fs.IntVar(&o.exportBatchRows, "export-batch-rows", server.DefaultExportBatchRows, "rows per query of an Arrow export (bounds its memory)")
	fs.Int64Var(&o.maxUploadBytes, "max-upload-bytes", server.DefaultMaxUploadBytes, "largest upload to POST /api/v1/ingest in bytes, multipart framing included (413 above)")
	fs.StringVar(&o.uploadDir, "upload-dir", "", "`directory` where POST /api/v1/ingest spools uploads, one private subdirectory per request, removed after it (default: the system temporary directory)")
	fs.DurationVar(&o.ingestTimeout, "ingest-timeout", server.DefaultIngestTimeout, "time limit of one POST /api/v1/ingest: upload, parsing and loading (504 after it)")
	fs.StringVar(&o.auditKey, "audit-key", "", "ed25519 signing key `file` of the audit log, created (mode 0600) if missing (default: the database file + .audit-key)")
	pos, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if o.uploadDir != "" {
		if st, err := os.Stat(o.uploadDir); err != nil || !st.IsDir() {
			return usagef("--upload-dir %q is not a directory", o.uploadDir)
		}
	}
	loopback, err := isLoopback(o.listen)
	if err != nil {
		return err
	}
	if !loopback {
		// A database that does not exist yet has no keys: refuse before creating it.
		if _, err := os.Stat(o.db); err != nil || o.db == ":memory:" {
			return errNoKeysForPublic(o.listen)
		}
		o.public = true
	}
	return serve(ctx, e, o)
}

// isLoopback reports whether listen is a loopback address. Any other address is
// allowed only when the database holds at least one API key (checked in serve).
func isLoopback(listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, usagef("invalid --listen %q: %v", listen, err)
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Unmap().IsLoopback() {
		return true, nil
	}
	return false, nil
}

func errNoKeysForPublic(listen string) error {
	return usagef("refusing to listen on %q: the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) "+
		"are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)", listen)
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
	if o.public {
		n, err := db.CountKeys(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNoKeysForPublic(o.listen)
		}
	}
	auditKey, err := loadAuditKey(auditKeyPath(o.db, o.auditKey), e.stderr)
	if err != nil {
		return err
	}
	demoKey := ""
	if o.demo {
		if err := loadDemo(ctx, log, db, o); err != nil {
			return err
		}
		if demoKey, err = createDemoKey(ctx, db); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	app := server.New(db, server.Config{QueryTimeout: o.queryTimeout, WriteTimeout: o.writeTimeout, Logger: log, AccessLog: o.accessLog,
		MaxLimit: o.maxLimit, MaxConcurrentQueries: o.maxQueries, QueueWait: o.queueWait,
		ExportTimeout: o.exportTimeout, ExportBatchRows: o.exportBatchRows, AuditKey: auditKey, CursorKey: cursorKey(auditKey),
		MaxUploadBytes: o.maxUploadBytes, UploadDir: o.uploadDir, IngestTimeout: o.ingestTimeout})
	served := make(chan error, 1)
	go func() { served <- app.Listener(server.Listener(ln)) }()
	log.Info("listening", "addr", ln.Addr().String(), "db", o.db)
	if demoKey != "" {
		fmt.Fprintf(e.stdout, "demo API key: %s\n", demoKey)
	}
	printTryIt(e.stdout, ln.Addr(), demoKey)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(shutdownGracePeriod); err != nil {
		return err
	}
	// A signal that comes before fasthttp has registered the listener would leave it
	// serving for ever: close the listener ourselves.
	_ = ln.Close()
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// printTryIt prints a command that works against the running server: with the demo
// key when one was just created, else with $CIPHERSCOPE_API_KEY for the user's own key.
func printTryIt(w io.Writer, addr net.Addr, key string) {
	header := `"x-api-key: $CIPHERSCOPE_API_KEY"`
	if key != "" {
		header = "'x-api-key: " + key + "'"
	}
	fmt.Fprintf(w, "curl -s -H %s 'http://%s/api/v1/dta_discovery?limit=5&sorts=byteVolume%%20desc'\n", header, addr)
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
