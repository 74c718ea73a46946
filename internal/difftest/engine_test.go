package difftest

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// batchRows is the size of the record batches handed to engine.Load; several batches per
// dataset exercise the batch boundaries of the load path too.
const batchRows = 700

// loadEngine loads the dataset into a cipherscope database.
func loadEngine(ctx context.Context, db *engine.DB, d *dataset) error {
	for _, t := range []struct {
		ds   query.Dataset
		rows []row
	}{{query.Discovery, d.obs}, {query.Cert, d.certs}} {
		rr, err := recordReader(t.ds, t.rows)
		if err != nil {
			return err
		}
		stats, err := db.Load(ctx, t.ds, rr)
		rr.Release()
		if err != nil {
			return fmt.Errorf("load %s: %w", t.ds, err)
		}
		if stats.Inserted != int64(len(t.rows)) {
			return fmt.Errorf("load %s: %d of %d rows inserted", t.ds, stats.Inserted, len(t.rows))
		}
	}
	return nil
}

// recordReader turns rows into batches with the schema engine.InputSchema(ds).
func recordReader(ds query.Dataset, rows []row) (array.RecordReader, error) {
	schema := engine.InputSchema(ds)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var recs []arrow.RecordBatch
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for i, r := range rows {
		for j, f := range schema.Fields() {
			if err := appendValue(b.Field(j), r[f.Name]); err != nil {
				return nil, fmt.Errorf("%s row %d column %s: %w", ds, i, f.Name, err)
			}
		}
		if (i+1)%batchRows == 0 || i == len(rows)-1 {
			recs = append(recs, b.NewRecordBatch())
		}
	}
	return array.NewRecordReader(schema, recs)
}

// appendValue appends one row value to a column builder.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.BinaryBuilder:
		bb.Append(v.([]byte))
	case *array.ListBuilder:
		bb.Append(true)
		vb := bb.ValueBuilder().(*array.StringBuilder)
		for _, e := range v.(list) {
			if e == nil {
				vb.AppendNull()
			} else {
				vb.Append(*e)
			}
		}
	default:
		return fmt.Errorf("no appender for %T", b)
	}
	return nil
}

// engineRows runs a request on cipherscope and renders every returned row.
func engineRows(ctx context.Context, db *engine.DB, req query.Request, types []query.Type) ([]string, error) {
	rr, err := db.Select(ctx, req)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	var out []string
	for rr.Next() {
		rec := rr.RecordBatch()
		if int(rec.NumCols()) != len(types) {
			return nil, fmt.Errorf("engine returned %d columns, want %d (%v)", rec.NumCols(), len(types), rec.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			vals := make([]any, len(types))
			for j := range types {
				v, err := arrowValue(rec.Column(j), i)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", rec.ColumnName(j), err)
				}
				vals[j] = v
			}
			out = append(out, renderRow(types, vals))
		}
	}
	return out, rr.Err()
}

// arrowValue converts one Arrow value to the Go value renderValue expects.
func arrowValue(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch c := a.(type) {
	case *array.String:
		return c.Value(i), nil
	case *array.LargeString:
		return c.Value(i), nil
	case *array.StringView:
		return c.Value(i), nil
	case *array.Int64:
		return c.Value(i), nil
	case *array.Int32:
		return int64(c.Value(i)), nil
	case *array.Uint64:
		return fmt.Sprint(c.Value(i)), nil
	case *array.Decimal128:
		// DuckDB hands HUGEINT sums over as decimal(38,0).
		scale := c.DataType().(*arrow.Decimal128Type).Scale
		return decimal128.Num.ToString(c.Value(i), scale), nil
	case *array.Boolean:
		return c.Value(i), nil
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		return c.Value(i).ToTime(unit).UTC(), nil
	case *array.List:
		return listValue(c, i)
	case *array.LargeList:
		return listValue(c, i)
	}
	return nil, fmt.Errorf("unsupported Arrow type %s", a.DataType())
}

// listValue converts element i of a list array to a list.
func listValue(c array.ListLike, i int) (any, error) {
	start, end := c.ValueOffsets(i)
	out := list{}
	for k := start; k < end; k++ {
		v, err := arrowValue(c.ListValues(), int(k))
		if err != nil {
			return nil, err
		}
		if v == nil {
			out = append(out, nil)
			continue
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("list element of type %T", v)
		}
		out = append(out, &s)
	}
	return out, nil
}
