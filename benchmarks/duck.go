package benchmarks

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// duckPath runs the hand-written SQL of each case in-process on one dedicated connection
// to a DuckDB file opened read-only, reading results as Arrow (no per-row Go conversion:
// the fastest way a Go program can consume DuckDB, and so the honest baseline).
type duckPath struct {
	db     *sql.DB
	conn   *sql.Conn
	tmpDir string // where COPY TO writes export files (tmpfs when available)
}

// openDuck opens path read-only with the same instance settings the engine uses.
func openDuck(ctx context.Context, file string, threads int, memLimit, tmpDir string) (*duckPath, error) {
	v := url.Values{}
	v.Set("access_mode", "READ_ONLY")
	v.Set("autoinstall_known_extensions", "false")
	v.Set("autoload_known_extensions", "false")
	v.Set("preserve_insertion_order", "false")
	if threads > 0 {
		v.Set("threads", fmt.Sprint(threads))
	}
	if memLimit != "" {
		v.Set("memory_limit", memLimit)
	}
	connector, err := duckdb.NewConnector(file+"?"+v.Encode(), func(ex driver.ExecerContext) error {
		_, err := ex.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb open %s: %w", file, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &duckPath{db: db, conn: conn, tmpDir: tmpDir}, nil
}

// Close releases the connection and the instance.
func (d *duckPath) Close() error {
	d.conn.Close()
	return d.db.Close()
}

// Name implements runner.
func (d *duckPath) Name() string { return "duckdb" }

// Prepare implements runner: runs the plan's setup statements.
func (d *duckPath) Prepare(ctx context.Context, c Case) error {
	for _, s := range duckPlan(c).Setup {
		if _, err := d.query(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Cleanup implements runner.
func (d *duckPath) Cleanup(ctx context.Context, c Case) error {
	for _, s := range duckPlan(c).Teardown {
		if _, err := d.query(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Run implements runner. Exports go through COPY ... TO a file, DuckDB's own fastest export.
func (d *duckPath) Run(ctx context.Context, c Case) (outcome, error) {
	p := duckPlan(c)
	if c.Kind == Export {
		return d.export(ctx, c, p.Main)
	}
	start := time.Now()
	var out outcome
	for _, s := range append([]string{p.Main}, p.Extra...) {
		res, err := d.query(ctx, s)
		if err != nil {
			return outcome{}, err
		}
		out.Rows += res.rows
	}
	for _, s := range p.Counts {
		res, err := d.query(ctx, s)
		if err != nil {
			return outcome{}, err
		}
		out.Counts = append(out.Counts, res.first)
	}
	out.Elapsed = time.Since(start)
	return out, nil
}

// export writes the case's rows with COPY and measures the file; an Arrow case reads
// DuckDB's Arrow result instead.
func (d *duckPath) export(ctx context.Context, c Case, sel string) (outcome, error) {
	if c.Format == Arrow {
		start := time.Now()
		res, err := d.query(ctx, sel)
		return outcome{Rows: res.rows, Elapsed: time.Since(start)}, err
	}
	file := filepath.Join(d.tmpDir, fmt.Sprintf("bench-%s-%d.%s", c.Name, os.Getpid(), c.Format))
	defer os.Remove(file)
	opts := map[Format]string{
		CSV:    "FORMAT csv, HEADER",
		JSON:   "FORMAT json, ARRAY true",
		NDJSON: "FORMAT json",
		Zip:    "FORMAT csv, HEADER, COMPRESSION gzip",
	}[c.Format]
	stmt := fmt.Sprintf("COPY (%s) TO '%s' (%s)", sel, strings.ReplaceAll(file, "'", "''"), opts)
	start := time.Now()
	res, err := d.query(ctx, stmt)
	elapsed := time.Since(start)
	if err != nil {
		return outcome{}, err
	}
	st, err := os.Stat(file)
	if err != nil {
		return outcome{}, err
	}
	// COPY answers with the number of rows written.
	return outcome{Rows: res.first, Bytes: st.Size(), Elapsed: elapsed}, nil
}

// queryResult is what the harness keeps of a result: its row count and the first value
// of the first row when it is an integer (count(*), COPY's row count).
type queryResult struct {
	rows  int64
	first int64
}

// query runs one statement through the Arrow interface and reads every batch.
func (d *duckPath) query(ctx context.Context, stmt string) (queryResult, error) {
	var res queryResult
	err := d.conn.Raw(func(dc any) error {
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err := a.QueryContext(ctx, stmt)
		if err != nil {
			return err
		}
		defer rr.Release()
		for rr.Next() {
			rec := rr.RecordBatch()
			if res.rows == 0 && rec.NumRows() > 0 && rec.NumCols() > 0 {
				res.first = firstInt(rec.Column(0))
			}
			res.rows += rec.NumRows()
		}
		return rr.Err()
	})
	if err != nil {
		return queryResult{}, fmt.Errorf("duckdb: %w\n%s", err, stmt)
	}
	return res, nil
}

// firstInt returns the first value of an integer column, or 0.
func firstInt(col arrow.Array) int64 {
	if col.Len() == 0 || col.IsNull(0) {
		return 0
	}
	switch a := col.(type) {
	case *array.Int64:
		return a.Value(0)
	case *array.Int32:
		return int64(a.Value(0))
	case *array.Uint64:
		return int64(a.Value(0))
	}
	return 0
}

// version reports DuckDB's version string.
func (d *duckPath) version(ctx context.Context) string {
	var v string
	if err := d.conn.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return "unknown"
	}
	return v
}

// exec runs a statement for its side effect (CSV export for PostgreSQL).
func (d *duckPath) exec(ctx context.Context, stmt string) error {
	_, err := d.query(ctx, stmt)
	return err
}
