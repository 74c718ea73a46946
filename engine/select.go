package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

// Select compiles req for DuckDB and runs it. The reader's columns are named as the
// requested fields in request order; ip fields come as their canonical text and timestamps
// as Arrow timestamp[us] (UTC). Errors: Invalid with the query package's ErrorList (every
// filter, column and sort problem, positioned) as the cause; otherwise as Query.
func (db *DB) Select(ctx context.Context, req query.Request) (array.RecordReader, error) {
	stmt, err := query.Compile(req, query.DuckDB)
	return db.runStatement(ctx, "select "+string(req.Dataset), stmt, err)
}

// runStatement runs a compiled statement (or reports its compile error as Invalid) and
// checks that the result columns are the statement's fields.
func (db *DB) runStatement(ctx context.Context, op string, stmt *query.Statement, compileErr error) (array.RecordReader, error) {
	if compileErr != nil {
		return nil, &Error{Kind: Invalid, Op: op, Err: compileErr}
	}
	rr, err := db.query(ctx, op, stmt.SQL, stmt.Args...)
	if err != nil {
		return nil, err
	}
	if err := checkResultColumns(rr, stmt.Columns); err != nil {
		rr.Release()
		return nil, &Error{Kind: Internal, Op: op, Err: err}
	}
	return rr, nil
}

// Count returns how many rows req selects (rollups for discovery), ignoring its columns,
// sorts, limit and offset. Errors as Select.
func (db *DB) Count(ctx context.Context, req query.Request) (int64, error) {
	op := "count " + string(req.Dataset)
	stmt, err := query.CompileCount(req, query.DuckDB)
	if err != nil {
		return 0, &Error{Kind: Invalid, Op: op, Err: err}
	}
	var n int64
	if err := db.sql.QueryRowContext(ctx, stmt.SQL, stmt.Args...).Scan(&n); err != nil {
		return 0, wrap(ctx, op, err)
	}
	return n, nil
}

// checkResultColumns guards the contract between the dialect and the API layers: the
// result columns are exactly the statement's fields, in order. A mismatch is a bug in the
// dialect, caught here rather than as a wrong CSV header.
func checkResultColumns(rr array.RecordReader, want []query.Field) error {
	got := rr.Schema().Fields()
	if len(got) != len(want) {
		return fmt.Errorf("dialect returned %d columns for %d fields", len(got), len(want))
	}
	for i, f := range want {
		if got[i].Name != f.Name {
			return fmt.Errorf("result column %d is %q, want field %q", i+1, got[i].Name, f.Name)
		}
	}
	return nil
}
