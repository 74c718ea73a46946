package native

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// batchRows is the number of rows per record batch the text readers build.
const batchRows = 64 * 1024

// Result is what one file held: its dataset and its rows as batches in InputSchema.
// The caller owns (and releases) the batches.
type Result struct {
	Dataset query.Dataset
	Batches []arrow.RecordBatch
}

// rowBuilder fills batches of one dataset, cutting every batchRows rows.
type rowBuilder struct {
	ds     query.Dataset
	schema *arrow.Schema
	rb     *array.RecordBuilder
	n      int
	out    []arrow.RecordBatch
}

func newRowBuilder(mem memory.Allocator, ds query.Dataset) *rowBuilder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	s := engine.InputSchema(ds)
	return &rowBuilder{ds: ds, schema: s, rb: array.NewRecordBuilder(mem, s)}
}

func (r *rowBuilder) endRow() {
	r.n++
	if r.n == batchRows {
		r.cut()
	}
}

func (r *rowBuilder) cut() {
	if r.n > 0 {
		r.out = append(r.out, r.rb.NewRecordBatch())
		r.n = 0
	}
}

// done returns the result; fail releases everything after an error.
func (r *rowBuilder) done() Result {
	r.cut()
	r.rb.Release()
	return Result{Dataset: r.ds, Batches: r.out}
}

func (r *rowBuilder) fail() {
	for _, b := range r.out {
		b.Release()
	}
	r.rb.Release()
}

// rollback drops a half-appended row: a bad value leaves the columns uneven, so every
// column is cut to the complete rows, which become a batch of their own.
func (r *rowBuilder) rollback() {
	cols := make([]arrow.Array, r.schema.NumFields())
	for i := range cols {
		a := r.rb.Field(i).NewArray()
		cols[i] = array.NewSlice(a, 0, int64(r.n))
		a.Release()
	}
	if r.n > 0 {
		r.out = append(r.out, array.NewRecordBatch(r.schema, cols, int64(r.n)))
	}
	for _, c := range cols {
		c.Release()
	}
	r.n = 0
}

// ReadCSV reads a native CSV file (header row of InputSchema names). bad decides about a
// malformed row as in the other readers: nil skips it.
func ReadCSV(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (Result, error) {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return Result{}, &LineError{File: name, Line: 1, Reason: "no CSV header: " + err.Error()}
	}
	ds, err := DatasetOf(header)
	if err != nil {
		return Result{}, &LineError{File: name, Line: 1, Reason: err.Error()}
	}
	rb := newRowBuilder(mem, ds)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rb.done(), nil
		}
		line, _ := cr.FieldPos(0)
		if err == nil {
			err = rb.appendCSV(name, line, rec)
		} else {
			err = &LineError{File: name, Line: line, Reason: err.Error()}
		}
		if err != nil {
			if berr := bad(err); berr != nil {
				rb.fail()
				return Result{}, berr
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
				rb.fail()
				return Result{}, err // the reader cannot resynchronise after a quoting error
			}
		}
	}
}

func (r *rowBuilder) appendCSV(name string, line int, rec []string) error {
	for i, f := range r.schema.Fields() {
		if err := appendText(r.rb.Field(i), f.Type, rec[i]); err != nil {
			r.rollback()
			return &LineError{File: name, Line: line, Field: f.Name, Value: rec[i], Reason: err.Error()}
		}
	}
	r.endRow()
	return nil
}

// ReadNDJSON reads a native NDJSON file: one object per line, keys the InputSchema names
// (a missing key is NULL, an unknown key an error).
func ReadNDJSON(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (Result, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	var rb *rowBuilder
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(text, &obj); err != nil {
			if berr := bad(&LineError{File: name, Line: line, Reason: "invalid JSON: " + err.Error()}); berr != nil {
				return Result{}, failWith(rb, berr)
			}
			continue
		}
		if rb == nil {
			ds := query.Cert
			if _, ok := obj["obsUid"]; ok {
				ds = query.Discovery
			}
			rb = newRowBuilder(mem, ds)
		}
		if err := rb.appendObject(name, line, obj); err != nil {
			if berr := bad(err); berr != nil {
				return Result{}, failWith(rb, berr)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Result{}, failWith(rb, fmt.Errorf("%s:%d: %w", name, line+1, err))
	}
	if rb == nil {
		return Result{Dataset: query.Discovery}, nil
	}
	return rb.done(), nil
}

func failWith(rb *rowBuilder, err error) error {
	if rb != nil {
		rb.fail()
	}
	return err
}

func (r *rowBuilder) appendObject(name string, line int, obj map[string]json.RawMessage) error {
	for k := range obj {
		if r.schema.FieldIndices(k) == nil {
			return &LineError{File: name, Line: line, Field: k, Value: string(obj[k]), Reason: "not a " + string(r.ds) + " column"}
		}
	}
	for i, f := range r.schema.Fields() {
		if err := appendJSON(r.rb.Field(i), f.Type, obj[f.Name]); err != nil {
			r.rollback()
			return &LineError{File: name, Line: line, Field: f.Name, Value: string(obj[f.Name]), Reason: err.Error()}
		}
	}
	r.endRow()
	return nil
}

// ReadParquet reads a native Parquet file (held in memory: Parquet needs random access,
// and the input may have been gzip-compressed).
func ReadParquet(ctx context.Context, name string, data []byte, mem memory.Allocator) (Result, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows}, mem)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	defer rr.Release()
	names := make([]string, rr.Schema().NumFields())
	for i, f := range rr.Schema().Fields() {
		names[i] = f.Name
	}
	ds, err := DatasetOf(names)
	if err != nil {
		return Result{}, &LineError{File: name, Line: 1, Reason: err.Error()}
	}
	want := engine.InputSchema(ds)
	res := Result{Dataset: ds}
	for rr.Next() {
		rec, err := conform(rr.RecordBatch(), want)
		if err != nil {
			releaseAll(res.Batches)
			return Result{}, fmt.Errorf("%s: %w", name, err)
		}
		res.Batches = append(res.Batches, rec)
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		releaseAll(res.Batches)
		return Result{}, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

func releaseAll(bs []arrow.RecordBatch) {
	for _, b := range bs {
		b.Release()
	}
}

// conform relabels a batch with the exact InputSchema: file readers mark columns
// nullable, name list elements "element" and may attach a UTC zone, none of which
// changes the data. Buffers are shared, not copied.
func conform(rec arrow.RecordBatch, want *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	for i, c := range rec.Columns() {
		wt := want.Field(i).Type
		if arrow.TypeEqual(c.DataType(), wt) {
			c.Retain()
			cols[i] = c
			continue
		}
		if c.DataType().ID() != wt.ID() {
			for _, x := range cols[:i] {
				x.Release()
			}
			return nil, fmt.Errorf("column %s is %s, want %s", want.Field(i).Name, c.DataType(), wt)
		}
		d := c.Data()
		nd := array.NewData(wt, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
		cols[i] = array.MakeFromData(nd)
		nd.Release()
	}
	out := array.NewRecordBatch(want, cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}
