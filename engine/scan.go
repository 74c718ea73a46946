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

// Scan returns every row of req, which has no limit or offset, in batches read slice
// by slice from one snapshot of the database, with about one slice (sliceRows rows) in
// memory, since DuckDB materializes each result (LIBRARY-NOTES). A request that reads a
// table (query.Scannable) is read in slices of the table's stored rows (query.RowSlice),
// in storage order. Any other is computed once into a temporary table, then read in
// slices of that: a discovery time frame's rollups in any order; a sorted request with
// each row's position in its order (query.CompileNumbered), read by ranges of positions.
// Keyset pages, the alternative, re-run the query for each page: a 10M-flow Arrow export
// took over 5 minutes that way (a top-N over the whole table per page), 10.8 s in table
// slices.
//
// limit > 0 stops after that many rows. The first slice runs before Scan returns, so its
// errors come from Scan. Release the reader on every path: it ends the transaction or
// drops the temporary table, and returns the connection. Errors as Select.
func (db *DB) Scan(ctx context.Context, req query.Request, sliceRows int, limit int64) (array.RecordReader, error) {
	op := "scan " + string(req.Dataset)
	if req.Limit != 0 || req.Offset != 0 || sliceRows <= 0 {
		return nil, &Error{Kind: Invalid, Op: op, Err: errors.New("a scan has no limit or offset, and slices of at least one row")}
	}
	req.AnyOrder = true
	compile := query.Compile
	if len(req.Sorts) > 0 {
		compile = query.CompileNumbered
	}
	stmt, err := compile(req, query.DuckDB)
	if err != nil {
		return nil, &Error{Kind: Invalid, Op: op, Err: err}
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	r := &scanReader{ctx: ctx, op: op, req: req, cols: stmt.Columns, conn: conn, step: int64(sliceRows), left: limit}
	if limit <= 0 {
		r.left = -1
	}
	r.refs.Store(1)
	if err := r.begin(stmt); err != nil {
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
	cols   []query.Field // the result's columns (and the position column when sorted)
	temp   string        // the temporary table read when req is not a table scan
	inTx   bool          // a table scan's transaction is open
	conn   *sql.Conn
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

// begin fixes what the slices cover: for a table scan, the table's stored positions in
// the snapshot of a transaction it starts; otherwise the rows of stmt, computed into a
// temporary table.
func (r *scanReader) begin(stmt *query.Statement) error {
	if !query.Scannable(r.req) {
		return r.materialize(stmt)
	}
	extent, err := query.CompileExtent(r.req, query.DuckDB)
	if err != nil {
		return &Error{Kind: Invalid, Op: r.op, Err: err}
	}
	if _, err := r.conn.ExecContext(r.ctx, "BEGIN TRANSACTION"); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	r.inTx = true
	if err := r.conn.QueryRowContext(r.ctx, extent.SQL, extent.Args...).Scan(&r.extent); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	return nil
}

// materialize computes the rows of stmt into a temporary table of the connection, whose
// rows are numbered densely from 0 (rowid, or their position when sorted). Not inside a
// transaction: rows a transaction appends carry provisional row ids until it commits,
// and slices by rowid missed them. One statement reads one snapshot anyway, and nothing
// else writes the table.
func (r *scanReader) materialize(stmt *query.Statement) error {
	r.temp = "cs_scan_" + randomHex()
	if _, err := r.conn.ExecContext(r.ctx, "CREATE TEMP TABLE "+quoteIdent(r.temp)+" AS "+stmt.SQL, stmt.Args...); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	if err := r.conn.QueryRowContext(r.ctx, "SELECT count(*) FROM "+quoteIdent(r.temp)).Scan(&r.extent); err != nil {
		return wrap(r.ctx, r.op, err)
	}
	return nil
}

// openSlice runs the query of the next slice.
func (r *scanReader) openSlice() error {
	from, to := r.next, r.next+r.step
	r.next = to
	sqlText, args, cols, err := r.sliceQuery(from, to)
	if err != nil {
		return err
	}
	rr, err := arrowQuery(r.ctx, r.conn, sqlText, args...)
	if err != nil {
		return wrap(r.ctx, r.op, err)
	}
	if err := checkResultColumns(rr, cols); err != nil {
		rr.Release()
		return &Error{Kind: Internal, Op: r.op, Err: err}
	}
	r.cur = rr
	return nil
}

// sliceQuery is the query of the rows numbered [from, to) and the columns it returns.
func (r *scanReader) sliceQuery(from, to int64) (string, []any, []query.Field, error) {
	temp := quoteIdent(r.temp)
	switch {
	case r.temp == "":
		req := r.req
		req.Slice = &query.RowSlice{From: from, To: to}
		stmt, err := query.Compile(req, query.DuckDB)
		if err != nil {
			return "", nil, nil, &Error{Kind: Invalid, Op: r.op, Err: err}
		}
		return stmt.SQL, stmt.Args, r.cols, nil
	case len(r.req.Sorts) > 0:
		// The numbered table is written in position order, which lets a slice's filter
		// prune, but a table's storage order is not guaranteed: each slice filters the
		// position column and sorts its own rows.
		pos := quoteIdent(query.PositionField.Name)
		return "SELECT * EXCLUDE (" + pos + ") FROM " + temp + " WHERE " + pos + " >= ? AND " + pos + " < ? ORDER BY " + pos,
			[]any{from, to}, r.cols[:len(r.cols)-1], nil
	default:
		return "SELECT * FROM " + temp + " WHERE rowid >= ? AND rowid < ?", []any{from, to}, r.cols, nil
	}
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
		// Not with r.ctx: a cancelled scan must not leave its transaction open or its
		// table behind on a pooled connection.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		if r.inTx {
			_, err = r.conn.ExecContext(ctx, "ROLLBACK") // the scan only read
		}
		if r.temp != "" {
			_, err = r.conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(r.temp))
		}
		if err != nil {
			// Closing the connection ends both.
			_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
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
