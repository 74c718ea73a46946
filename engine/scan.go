package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

// Scan returns every row of req, which must be query.Scannable, reading the dataset's
// table slice by slice (query.RowSlice, sliceRows stored positions each) inside one
// transaction: the rows of one snapshot, each once, in storage order, with about one
// slice in memory (DuckDB materializes each result, see LIBRARY-NOTES). A slice is a
// range of the table, so the whole scan reads the table once, where keyset pages (each
// a top-N over the whole table) made a 10M-flow Arrow export take over 5 minutes.
// limit > 0 stops after that many rows. The first slice runs before Scan returns, so
// its errors come from Scan. Release the reader on every path: it ends the transaction
// and returns the connection. Errors as Select.
func (db *DB) Scan(ctx context.Context, req query.Request, sliceRows int, limit int64) (array.RecordReader, error) {
	op := "scan " + string(req.Dataset)
	extentStmt, err := query.CompileExtent(req, query.DuckDB)
	if err != nil {
		return nil, &Error{Kind: Invalid, Op: op, Err: err}
	}
	if sliceRows <= 0 {
		return nil, &Error{Kind: Invalid, Op: op, Err: errors.New("slice size must be positive")}
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	r := &scanReader{ctx: ctx, op: op, req: req, conn: conn, step: int64(sliceRows), left: limit}
	if limit <= 0 {
		r.left = -1
	}
	r.refs.Store(1)
	if err := r.begin(extentStmt); err != nil {
		r.Release()
		return nil, err
	}
	if err := r.openSlice(); err != nil {
		r.Release()
		return nil, err
	}
	r.schema = r.cur.Schema()
	return r, nil
}

// scanReader is the reader Scan returns.
type scanReader struct {
	ctx    context.Context
	op     string
	req    query.Request
	conn   *sql.Conn
	inTx   bool
	extent int64 // end of the stored positions in the transaction's snapshot
	next   int64 // start of the next slice
	step   int64
	left   int64 // rows still to return; -1 for no limit

	schema *arrow.Schema
	cur    array.RecordReader // the current slice's result
	rec    arrow.RecordBatch  // the batch Next returned last
	err    error

	refs atomic.Int64
	once sync.Once
}

var _ array.RecordReader = (*scanReader)(nil)

// begin starts the transaction and reads the extent of its snapshot.
func (r *scanReader) begin(extent *query.Statement) error {
	if _, err := r.conn.ExecContext(r.ctx, "BEGIN TRANSACTION"); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	r.inTx = true
	if err := r.conn.QueryRowContext(r.ctx, extent.SQL, extent.Args...).Scan(&r.extent); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	return nil
}

// openSlice runs the query of the next slice.
func (r *scanReader) openSlice() error {
	req := r.req
	req.Slice = &query.RowSlice{From: r.next, To: r.next + r.step}
	r.next += r.step
	stmt, err := query.Compile(req, query.DuckDB)
	if err != nil {
		return &Error{Kind: Invalid, Op: r.op, Err: err}
	}
	rr, err := arrowQuery(r.ctx, r.conn, stmt.SQL, stmt.Args...)
	if err != nil {
		return wrap(r.ctx, r.op, err)
	}
	if err := checkResultColumns(rr, stmt.Columns); err != nil {
		rr.Release()
		return &Error{Kind: Internal, Op: r.op, Err: err}
	}
	r.cur = rr
	return nil
}

// Next advances to the next non-empty batch, opening slices as the current one ends.
func (r *scanReader) Next() bool {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	for r.err == nil && r.left != 0 {
		if r.cur.Next() {
			if r.take(r.cur.RecordBatch()) {
				return true
			}
			continue
		}
		if err := r.cur.Err(); err != nil {
			r.err = wrap(r.ctx, r.op, err)
			return false
		}
		if r.next >= r.extent {
			return false
		}
		r.cur.Release()
		r.cur = emptySlice{}
		if err := r.openSlice(); err != nil {
			r.err = err
			return false
		}
	}
	return false
}

// take makes rec, cut to the rows still wanted, the current batch; false if it is empty.
func (r *scanReader) take(rec arrow.RecordBatch) bool {
	n := rec.NumRows()
	if n == 0 {
		return false
	}
	if r.left >= 0 && n > r.left {
		n = r.left
		r.rec = rec.NewSlice(0, n)
	} else {
		rec.Retain()
		r.rec = rec
	}
	if r.left >= 0 {
		r.left -= n
	}
	return true
}

// Schema is the schema of every batch.
func (r *scanReader) Schema() *arrow.Schema { return r.schema }

// RecordBatch is the current batch, valid until the next call to Next or Release.
func (r *scanReader) RecordBatch() arrow.RecordBatch { return r.rec }

// Record is RecordBatch under its deprecated name, kept for the interface.
func (r *scanReader) Record() arrow.RecordBatch { return r.rec }

// Err is the error that ended iteration, as an *Error, or nil.
func (r *scanReader) Err() error { return r.err }

// Retain adds a reference.
func (r *scanReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one frees the batches, ends the transaction and
// returns the connection to the pool.
func (r *scanReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.once.Do(func() {
		if r.rec != nil {
			r.rec.Release()
		}
		if r.cur != nil {
			r.cur.Release()
		}
		if r.inTx {
			// The scan only read: rolling back ends the transaction at no cost. A
			// cancelled ctx must not leave it open on a pooled connection.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := r.conn.ExecContext(ctx, "ROLLBACK")
			cancel()
			if err != nil {
				// Never pool a connection whose transaction may still be open.
				_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
		_ = r.conn.Close()
	})
}

// emptySlice stands in for a released slice result while the next one opens, so that
// Release after a failed openSlice releases nothing twice.
type emptySlice struct{ array.RecordReader }

func (emptySlice) Release()   {}
func (emptySlice) Next() bool { return false }
func (emptySlice) Err() error { return nil }
