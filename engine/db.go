package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/cipherscope/cipherscope/query"
)

// Config says which database to open and how DuckDB may use the machine.
type Config struct {
	// Path is the database file; "" or ":memory:" opens a private in-memory database.
	Path string
	// Threads caps DuckDB's worker threads; 0 keeps DuckDB's default (all cores).
	Threads int
	// MemoryLimit caps DuckDB's memory, e.g. "4GB"; "" keeps DuckDB's default (80% of RAM).
	MemoryLimit string
	// ReadOnly opens the file without write access (several processes may then share it).
	// Load fails with kind Unavailable. Not possible for an in-memory database.
	ReadOnly bool
	// ExportDir is where Export creates its private named-pipe directories; "" means
	// os.TempDir().
	ExportDir string
	// Allocator backs the Arrow buffers the engine builds while loading; nil means
	// memory.DefaultAllocator. Tests pass a checked allocator to catch leaks.
	Allocator memory.Allocator
}

// ServeMemoryLimit is the memory limit `cipherscope serve` gives DuckDB unless told
// otherwise: a server's footprint should be predictable, not 80% of the machine. DuckDB
// spills sorts and aggregates beyond it, but allocates beyond it too: exporting 10,083,462
// rollup rows as CSV seven times in one process peaked at 1.12 GB RSS with 600MB (one run
// in three to five is ~300 MB above the others; duckdb_memory() then shows nothing held
// and malloc_trim frees nothing), 990 MB with 500MB, 847 MB with 400MB. A page of the 10M
// dataset's heaviest rollup (eq_range) peaked at 1.13 GiB with 600MB, 543 MiB with 400MB,
// and took 16% longer (3.27 s). A 1M-row CSV export of that dataset takes 2.7 s with
// 400MB, 2.35 s with 2GB (peak 582 MiB either way).
const ServeMemoryLimit = "400MB"

// DB is an open cipherscope database: one DuckDB instance and a pool of connections to it.
// It is safe for concurrent use.
type DB struct {
	cfg       Config
	connector *duckdb.Connector
	sql       *sql.DB
	alloc     memory.Allocator
	// loadSlot (capacity 1) serialises loads: de-duplication reads the table it writes, and
	// two concurrent transactions would each miss the other's uncommitted rows. A channel,
	// not a mutex, so that a waiting Load still honours its context.
	loadSlot chan struct{}
}

// maxIdleConns is how many pooled connections stay open between queries.
const maxIdleConns = 8

// Open opens (creating if needed) the database described by cfg and makes sure its tables
// exist. It fails with kind Invalid for a bad Config, Conflict for a database written by a
// newer schema version, Unavailable when the file cannot be opened.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	dsn, err := cfg.dsn()
	if err != nil {
		return nil, err
	}
	connector, err := duckdb.NewConnector(dsn, initConn)
	if err != nil {
		return nil, openError(err)
	}
	db := &DB{cfg: cfg, connector: connector, sql: sql.OpenDB(connector), alloc: cfg.Allocator,
		loadSlot: make(chan struct{}, 1)}
	if db.alloc == nil {
		db.alloc = memory.DefaultAllocator
	}
	// database/sql keeps 2 idle connections by default; a burst of API queries would then
	// reconnect (and rerun initConn) each time. DuckDB connections are cheap to keep.
	db.sql.SetMaxIdleConns(maxIdleConns)
	if err := db.setup(ctx); err != nil {
		_ = db.Close() // the setup error is the one to report
		return nil, err
	}
	return db, nil
}

// openError classifies a failure to create the DuckDB instance: a rejected setting is the
// caller's mistake; anything else (missing directory, locked file, permissions) means the
// database cannot be used now. The driver reports settings only as text.
func openError(err error) error {
	var de *duckdb.Error
	switch {
	case errors.As(err, &de):
		return wrap(nil, "open", err)
	case strings.Contains(err.Error(), "option"):
		return &Error{Kind: Invalid, Op: "open", Err: err}
	}
	return &Error{Kind: Unavailable, Op: "open", Err: err}
}

// InMemory reports whether the Config opens an in-memory database.
func (cfg Config) InMemory() bool { return cfg.Path == "" || cfg.Path == ":memory:" }

// dsn encodes the instance-wide settings. They go into the DSN, not into SET statements,
// so that they hold from the first moment: nothing may try to download an extension.
func (cfg Config) dsn() (string, error) {
	const op = "open"
	if strings.ContainsAny(cfg.Path, "?#") {
		return "", errorf(Invalid, op, "database path %q must not contain '?' or '#'", cfg.Path)
	}
	if cfg.Threads < 0 {
		return "", errorf(Invalid, op, "threads must be >= 0, got %d", cfg.Threads)
	}
	if cfg.ReadOnly && cfg.InMemory() {
		return "", errorf(Invalid, op, "an in-memory database cannot be read-only")
	}
	v := url.Values{}
	v.Set("autoinstall_known_extensions", "false")
	v.Set("autoload_known_extensions", "false")
	// Every result that needs an order says so with ORDER BY (pages and cursors sort to a
	// total order); whole exports ask for any order. Keeping insertion order otherwise
	// serialises COPY of a table scan: a CSV export of the 136k flows of the 1M
	// benchmark dataset took 650-1500 ms with it and 240 ms without.
	v.Set("preserve_insertion_order", "false")
	if cfg.Threads > 0 {
		v.Set("threads", strconv.Itoa(cfg.Threads))
	}
	if cfg.MemoryLimit != "" {
		v.Set("memory_limit", cfg.MemoryLimit)
	}
	if cfg.ReadOnly {
		v.Set("access_mode", "READ_ONLY")
	}
	path := cfg.Path
	if cfg.InMemory() {
		path = ""
	}
	return path + "?" + v.Encode(), nil
}

// initConn runs on every new pooled connection. Timestamps are stored and shown in UTC
// whatever the host's zone; the setting exists only when ICU is loaded (it is built in, but
// a build without it must still open).
func initConn(ex driver.ExecerContext) error {
	_, err := ex.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog {
		return nil
	}
	return err
}

// setup creates the tables (idempotently) and checks the stored schema version. A
// read-only database is only checked.
func (db *DB) setup(ctx context.Context) error {
	const op = "open"
	if !db.cfg.ReadOnly {
		if err := db.createSchema(ctx); err != nil {
			return wrap(ctx, op, err)
		}
	}
	var stored string
	err := db.sql.QueryRowContext(ctx,
		fmt.Sprintf("SELECT value FROM %s WHERE key = 'schema_version'", MetadataTable)).Scan(&stored)
	if err != nil {
		return wrap(ctx, op, fmt.Errorf("reading the schema version: %w", err))
	}
	if v, err := strconv.Atoi(stored); err != nil || v != SchemaVersion {
		return errorf(Conflict, op, "the database has schema version %q; this build reads only version %d "+
			"(version 2 is migrated when the database is opened writable; version 1 files predate the "+
			"discovery flow table and are not migrated: re-ingest into a new database)",
			stored, SchemaVersion)
	}
	for _, ds := range query.Datasets {
		for _, t := range tables(ds) {
			if err := db.checkColumns(ctx, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// createSchema runs the DDL in one transaction, so a crash never leaves half a schema.
func (db *DB) createSchema(ctx context.Context) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	// The metadata table first.
	stmts := schemaDDL()
	if _, err := tx.ExecContext(ctx, stmts[0]); err != nil {
		return fmt.Errorf("%w\n%s", err, stmts[0])
	}
	// An older version is migrated; a database of a version with no migration path is
	// left untouched, and setup reports it.
	var stored string
	err = tx.QueryRowContext(ctx, fmt.Sprintf(
		"SELECT value FROM %s WHERE key = 'schema_version'", MetadataTable)).Scan(&stored)
	if err == nil && stored != strconv.Itoa(SchemaVersion) {
		v, verr := strconv.Atoi(stored)
		if verr != nil || v > SchemaVersion {
			return nil
		}
		if ok, err := migrate(ctx, tx, v); err != nil || !ok {
			return err
		}
	}
	for _, stmt := range stmts[1:] {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(
		"INSERT INTO %s VALUES ('schema_version', ?) ON CONFLICT DO NOTHING", MetadataTable),
		strconv.Itoa(SchemaVersion)); err != nil {
		return err
	}
	return tx.Commit()
}

// checkColumns compares a table's stored columns with what this build expects, so that a
// database from another build fails at Open with a clear message instead of at first query.
func (db *DB) checkColumns(ctx context.Context, t table) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position`, t.Name)
	if err != nil {
		return wrap(ctx, "open", err)
	}
	defer rows.Close()
	var got []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return wrap(ctx, "open", err)
		}
		got = append(got, c)
	}
	if err := rows.Err(); err != nil {
		return wrap(ctx, "open", err)
	}
	want := t.Columns
	for i, w := range want {
		if i >= len(got) || got[i].Name != w.Name || got[i].Type != w.Type {
			return errorf(Conflict, "open", "table %s: column %d should be %s %s, found %v (schema drift; migrate or recreate the database)",
				t.Name, i+1, w.Name, w.Type, columnAt(got, i))
		}
	}
	if len(got) > len(want) {
		return errorf(Conflict, "open", "table %s has unexpected column %s", t.Name, got[len(want)].Name)
	}
	return nil
}

func columnAt(cols []column, i int) string {
	if i >= len(cols) {
		return "nothing"
	}
	return cols[i].Name + " " + cols[i].Type
}

// Close closes every connection and the DuckDB instance; a file database checkpoints, so
// the next Open does not replay the write-ahead log. Release every reader returned by Query
// or Select first: each holds a connection until it is released.
func (db *DB) Close() error {
	err := db.sql.Close()
	if cerr := db.connector.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return wrap(nil, "close", err)
}

// RowCount returns the number of stored rows of a dataset: observations for discovery,
// certificates for cert. It doubles as a readiness probe.
func (db *DB) RowCount(ctx context.Context, ds query.Dataset) (int64, error) {
	if !query.ValidDataset(ds) {
		return 0, errorf(Invalid, "row count", "unknown dataset %q", ds)
	}
	var n int64
	err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(tableName(ds))).Scan(&n)
	return n, wrap(ctx, "row count", err)
}
