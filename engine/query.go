package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"
)

// Query runs one SQL statement with positional arguments and returns its result as Arrow
// record batches. The reader holds a pooled connection until its last Release, so callers
// must release it (also after an error from Next). Canceling ctx interrupts DuckDB; the
// error then has kind Canceled (or Timeout for a deadline), from Query or from the reader's
// Err. DuckDB materializes the whole result before the first batch (LIBRARY-NOTES).
func (db *DB) Query(ctx context.Context, sqlText string, args ...any) (array.RecordReader, error) {
	return db.query(ctx, "query", sqlText, args...)
}

func (db *DB) query(ctx context.Context, op, sqlText string, args ...any) (array.RecordReader, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	rr, err := arrowQuery(ctx, conn, sqlText, args...)
	if err != nil {
		return nil, wrap(ctx, op, joinClose(err, conn))
	}
	r := &connReader{ctx: ctx, op: op, in: rr, conn: conn}
	r.refs.Store(1)
	return r, nil
}

// arrowQuery runs one query on conn, which the caller holds, with an Arrow result. The
// result reads from conn: release it before using conn again.
func arrowQuery(ctx context.Context, conn *sql.Conn, sqlText string, args ...any) (array.RecordReader, error) {
	var rr array.RecordReader
	err := conn.Raw(func(dc any) error {
		// An Arrow handle is bound to one driver connection and not safe for concurrent
		// use; a fresh handle per query on a connection we hold exclusively satisfies both.
		a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
		if err != nil {
			return err
		}
		rr, err = a.QueryContext(ctx, sqlText, args...)
		return err
	})
	return rr, err
}

// joinClose returns the connection to the pool and reports err (the close error is
// secondary and only matters if err is nil).
func joinClose(err error, conn *sql.Conn) error {
	if cerr := conn.Close(); err == nil {
		return cerr
	}
	return err
}

// connReader wraps duckdb-go's record reader: it classifies errors and, on the last
// Release, closes the result and then returns the connection to the pool. The driver's
// result reads from the connection, so the connection must stay checked out until then.
type connReader struct {
	ctx  context.Context
	op   string
	in   array.RecordReader
	conn *sql.Conn
	refs atomic.Int64
	once sync.Once
}

var _ array.RecordReader = (*connReader)(nil)

// Retain adds a reference.
func (r *connReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one frees the result and the connection.
func (r *connReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.once.Do(func() {
			r.in.Release()
			_ = r.conn.Close() // returns the connection to the pool; nothing to report
		})
	}
}

// Schema is the schema of the result.
func (r *connReader) Schema() *arrow.Schema { return r.in.Schema() }

// Next advances to the next batch.
func (r *connReader) Next() bool { return r.in.Next() }

// RecordBatch is the current batch, valid until the next call to Next or Release.
func (r *connReader) RecordBatch() arrow.RecordBatch { return r.in.RecordBatch() }

// Record is RecordBatch under its deprecated name, kept for the interface.
func (r *connReader) Record() arrow.RecordBatch { return r.in.RecordBatch() }

// Err is the error that ended iteration, as an *Error, or nil.
func (r *connReader) Err() error { return wrap(r.ctx, r.op, r.in.Err()) }
