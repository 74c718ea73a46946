// Package server is the HTTP API of cipherscope (DESIGN section 4): a fiber application
// that turns query parameters into query.Request values, runs them on a Store and
// streams the Arrow results as JSON. It knows HTTP and nothing of SQL text.
package server

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

// Store runs queries. *engine.DB implements it.
type Store interface {
	// Select returns the rows of req; the caller releases the reader.
	Select(ctx context.Context, req query.Request) (array.RecordReader, error)
	// SelectAfter returns one keyset page: the rows of req after the row whose key
	// values (query.KeyFields order) are after, nil for the first; key fields missing
	// from req.Columns come as extra trailing columns.
	SelectAfter(ctx context.Context, req query.Request, after []any) (array.RecordReader, error)
	// Scan returns every row of req, which has no limit or offset, in its order when
	// sorted, in slices of sliceRows rows read from one snapshot, at most limit rows
	// when limit > 0; the caller releases the reader.
	Scan(ctx context.Context, req query.Request, sliceRows int, limit int64) (array.RecordReader, error)
	// Count returns how many rows req would return without Limit and Offset.
	Count(ctx context.Context, req query.Request) (int64, error)
	// Export streams every row of req (Limit caps them when set) as a file in format f,
	// produced by the database itself; the caller closes it, which stops the query.
	Export(ctx context.Context, req query.Request, f engine.ExportFormat) (io.ReadCloser, error)
	// RowCount returns the number of stored rows of a dataset; /readyz uses it as a
	// cheap probe that the database answers.
	RowCount(ctx context.Context, ds query.Dataset) (int64, error)
}

// Page sizes of the dataset routes.
const (
	// DefaultLimit is the page size when the request names none (as CipherInsights).
	DefaultLimit = 100
	// MaxLimit is the default of Config.MaxLimit: the largest page a request may ask for.
	// A bigger limit gets 507; bigger results need paging, returnAsStream or returnAsZipFile.
	MaxLimit = 10000
)

// Defaults applied by New to zero Config fields.
const (
	DefaultQueryTimeout   = 30 * time.Second
	DefaultReadTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 60 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
	DefaultMaxHeaderBytes = 32 << 10 // also bounds the URL, hence GET filter length
	DefaultBodyLimit      = 1 << 20
	DefaultExportTimeout  = time.Hour
	DefaultMaxUploadBytes = 1 << 30 // POST /ingest
	DefaultIngestTimeout  = time.Hour
)

// Config holds the server's tunables. The command line fills it; the server reads no
// flags or environment variables itself.
type Config struct {
	// QueryTimeout bounds each query (context deadline); exceeding it gives 504.
	QueryTimeout time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout bound connections (fasthttp semantics).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers; larger requests get 431.
	MaxHeaderBytes int
	// BodyLimit bounds request bodies; larger ones get 413. POST /ingest has its own
	// limit, MaxUploadBytes.
	BodyLimit int
	// Logger receives server errors, panics and (with AccessLog) one line per request.
	// Nil discards them.
	Logger *slog.Logger
	// AccessLog logs every request at Info level.
	AccessLog bool
	// MaxLimit is the largest page (limit) without returnAsStream/returnAsZipFile.
	MaxLimit int64
	// MaxConcurrentQueries caps the queries running at once; a request that finds no
	// free slot within QueueWait gets 503 with Retry-After.
	MaxConcurrentQueries int
	QueueWait            time.Duration
	// ExportTimeout bounds a returnAsStream or returnAsZipFile export, query and
	// transfer together (QueryTimeout is for pages).
	ExportTimeout time.Duration
	// ExportBatchRows is the slice size of Arrow exports, which are encoded from
	// slices of one snapshot (Store.Scan): the most rows held in memory at once.
	ExportBatchRows int
	// Now is the clock of relative time frames; nil means time.Now. Tests inject one.
	Now func() time.Time
	// CursorKey signs pagination cursors; empty means a random key per process (cursors
	// then do not survive a restart).
	CursorKey []byte
	// Keys stores API keys, roles and the audit log. Nil means the Store when it
	// implements KeyStore (*engine.DB does); with neither, every protected route is 401.
	Keys KeyStore
	// AuditKey signs audit records; nil means a random key per process (records then
	// verify only with that process's public key).
	AuditKey ed25519.PrivateKey
	// AuthFailureLimit failed authentications per source address or key id within
	// AuthFailureWindow make further requests from them 429 until the window ends.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	// IdempotencyTTL is how long responses to POSTs with an Idempotency-Key are replayed.
	IdempotencyTTL time.Duration
	// AuthNow is the clock of key validation caching, rate limits, idempotency and audit
	// times; nil means time.Now. Tests inject one.
	AuthNow func() time.Time
	// MaxUploadBytes bounds the request body of POST /ingest (multipart framing
	// included); larger uploads get 413 and store nothing.
	MaxUploadBytes int64
	// UploadDir is where POST /ingest spools uploads, each in its own private (0700)
	// directory that is removed when the request ends; "" means os.TempDir().
	UploadDir string
	// IngestTimeout bounds one POST /ingest: receiving the upload, parsing and loading
	// (504 after it; nothing is stored).
	IngestTimeout time.Duration
	// Ingest runs one ingest over the spooled files. Nil means ingest.Run on the Store
	// when it is an *engine.DB; with neither, POST /ingest answers 503. Tests inject one.
	Ingest func(ctx context.Context, paths []string, opt ingest.Options) (ingest.Summary, error)
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.QueryTimeout, DefaultQueryTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if c.BodyLimit <= 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.MaxLimit <= 0 {
		c.MaxLimit = MaxLimit
	}
	if c.MaxConcurrentQueries <= 0 {
		c.MaxConcurrentQueries = DefaultMaxConcurrentQueries
	}
	def(&c.QueueWait, DefaultQueueWait)
	def(&c.ExportTimeout, DefaultExportTimeout)
	if c.ExportBatchRows <= 0 {
		c.ExportBatchRows = DefaultExportBatchRows
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.CursorKey) == 0 {
		c.CursorKey = randomKey()
	}
	if c.AuthNow == nil {
		c.AuthNow = time.Now
	}
	if c.AuditKey == nil {
		_, c.AuditKey, _ = ed25519.GenerateKey(nil)
	}
	if c.AuthFailureLimit <= 0 {
		c.AuthFailureLimit = DefaultAuthFailureLimit
	}
	def(&c.AuthFailureWindow, DefaultAuthFailureWindow)
	def(&c.IdempotencyTTL, DefaultIdempotencyTTL)
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.UploadDir == "" {
		c.UploadDir = os.TempDir()
	}
	def(&c.IngestTimeout, DefaultIngestTimeout)
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// server carries what the handlers share.
type server struct {
	store Store
	cfg   Config
	log   *slog.Logger
	slots *querySlots
	// exports is the parent context of every export; stopExports ends them all when the
	// app shuts down (fiber does not wait for a hijacked connection).
	exports     context.Context
	stopExports context.CancelFunc
	// keys, auth, limiter and idem serve authentication, the key routes, the audit log
	// (auth.go).
	keys    KeyStore
	auth    *authenticator
	limiter *failureLimiter
	idem    *idemStore
	// ingest runs POST /ingest; ingestSlot admits one at a time (ingest_api.go).
	ingest     func(ctx context.Context, paths []string, opt ingest.Options) (ingest.Summary, error)
	ingestSlot chan struct{}
}

// New returns the API application over store. Serve it with app.Listener or app.Listen;
// stop it with app.ShutdownWithContext.
func New(store Store, cfg Config) *fiber.App {
	cfg = cfg.withDefaults()
	s := &server{store: store, cfg: cfg, log: cfg.Logger, slots: newQuerySlots(cfg.MaxConcurrentQueries, cfg.QueueWait)}
	s.exports, s.stopExports = context.WithCancel(context.Background())
	s.keys = cfg.Keys
	if ks, ok := store.(KeyStore); ok && s.keys == nil {
		s.keys = ks
	}
	s.auth = newAuthenticator(s.keys, cfg.AuthNow)
	s.limiter = newFailureLimiter(cfg.AuthFailureLimit, cfg.AuthFailureWindow, cfg.AuthNow)
	s.idem = newIdemStore(cfg.IdempotencyTTL, cfg.AuthNow)
	s.ingest, s.ingestSlot = cfg.Ingest, make(chan struct{}, 1)
	if db, ok := store.(*engine.DB); ok && s.ingest == nil {
		s.ingest = func(ctx context.Context, paths []string, opt ingest.Options) (ingest.Summary, error) {
			return ingest.Run(ctx, db, paths, opt)
		}
	}
	app := fiber.New(fiber.Config{
		AppName:               "cipherscope",
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ReadBufferSize:        cfg.MaxHeaderBytes,
		BodyLimit:             cfg.BodyLimit,
		// Bodies are read by the handlers, not before: POST /ingest streams its upload to
		// disk; every other route gets its body read whole, at most BodyLimit bytes, by
		// s.requestBody (limits.go). Multipart bodies are parsed by the ingest handler
		// only (fasthttp would otherwise spool them to os.TempDir before any check).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		// Case-sensitive, strict routes: field and route names are case-sensitive too.
		CaseSensitive: true,
	})
	app.Hooks().OnShutdown(func() error {
		s.stopExports()
		return nil
	})
	app.Use(s.commonHeaders)
	if cfg.AccessLog {
		app.Use(s.accessLog)
	}
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))
	app.Use(s.requestBody)
	// An upload may take longer than ReadTimeout to arrive: POST /ingest reads its body
	// within IngestTimeout instead.
	app.Server().HeaderReceived = s.requestConfig

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	api := app.Group("/api/v1")
	// Authentication, authorization, idempotency and audit for every /api/v1 route
	// (auth.go); must stay before the routes.
	api.Use(s.guard)
	s.registerKeyRoutes(api)
	api.Get("/dta_discovery", s.datasetHandler(query.Discovery))
	api.Get("/dta_cert", s.datasetHandler(query.Cert))
	api.Post("/dta_discovery/query", s.queryHandler(query.Discovery))
	api.Post("/dta_cert/query", s.queryHandler(query.Cert))
	api.Post("/ingest", s.ingestHandler)
	// The OpenAPI document and the /docs page (docs.go); open routes.
	s.registerDocs(app)
	return app
}

// healthz is liveness: the process serves requests.
func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz is readiness: the database answers.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
	if _, err := s.store.RowCount(ctx, query.Cert); err != nil {
		s.log.Error("readiness check failed", "err", err, "requestId", requestID(c))
		return fiber.NewError(fiber.StatusServiceUnavailable, "database not reachable")
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
