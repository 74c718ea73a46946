package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/query"
)

// SelectAfter runs one keyset page: the rows of req strictly after the row whose key
// values (query.KeyFields order) are after, nil for the first page, at most req.Limit
// rows. Key fields missing from req.Columns come as extra trailing columns. Each page is
// a separate query, so a long export holds at most one page in memory (DuckDB
// materializes results, see LIBRARY-NOTES). Errors as Select.
func (db *DB) SelectAfter(ctx context.Context, req query.Request, after []any) (array.RecordReader, error) {
	stmt, err := query.CompileAfter(req, after, query.DuckDB)
	return db.runStatement(ctx, "select "+string(req.Dataset), stmt, err)
}
