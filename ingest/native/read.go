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
	"github.com/apache/arrow-go/v18/parquet"
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

// Reader reads one native file a record batch at a time, so that a file of any size
// is loaded in bounded memory. Its dataset is known when it is opened.
type Reader struct {
	ds    query.Dataset
	next  func() (arrow.RecordBatch, error)
	close func()
	rows  int64
}

// Dataset is the dataset of the file's rows.
func (r *Reader) Dataset() query.Dataset { return r.ds }

// Next returns the next batch (in engine.InputSchema of the dataset; the caller releases
// it), or io.EOF after the last. Any other error ends the file.
func (r *Reader) Next() (arrow.RecordBatch, error) {
	b, err := r.next()
	if b != nil {
		r.rows += b.NumRows()
	}
	return b, err
}

// Rows is the number of rows returned so far.
func (r *Reader) Rows() int64 { return r.rows }

// Close releases what the reader holds; the batches returned stay valid.
func (r *Reader) Close() { r.close() }

// readAll drains a reader into a Result.
func readAll(r *Reader, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	defer r.Close()
	res := Result{Dataset: r.ds}
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			releaseAll(res.Batches)
			return Result{}, err
		}
		res.Batches = append(res.Batches, b)
	}
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

// take returns the oldest batch cut, or nil.
func (r *rowBuilder) take() arrow.RecordBatch {
	if len(r.out) == 0 {
		return nil
	}
	b := r.out[0]
	r.out[0] = nil
	r.out = r.out[1:]
	return b
}

// fail releases everything after an error or at Close.
func (r *rowBuilder) fail() {
	releaseAll(r.out)
	r.out = nil
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

// ReadCSV reads a whole native CSV file (see OpenCSV).
func ReadCSV(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (Result, error) {
	return readAll(OpenCSV(name, in, mem, bad))
}

// OpenCSV reads the header of a native CSV file (InputSchema names) and returns a reader
// of its rows. bad decides about a malformed row as in the other readers: nil skips it.
func OpenCSV(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (*Reader, error) {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, &LineError{File: name, Line: 1, Reason: "no CSV header: " + err.Error()}
	}
	ds, err := DatasetOf(header)
	if err != nil {
		return nil, &LineError{File: name, Line: 1, Reason: err.Error()}
	}
	rb := newRowBuilder(mem, ds)
	eof := false
	next := func() (arrow.RecordBatch, error) {
		for len(rb.out) == 0 && !eof {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				rb.cut()
				eof = true
				break
			}
			line, _ := cr.FieldPos(0)
			if err == nil {
				err = rb.appendCSV(name, line, rec)
			} else {
				err = &LineError{File: name, Line: line, Reason: err.Error()}
			}
			if err != nil {
				if berr := bad(err); berr != nil {
					return nil, berr
				}
				var pe *csv.ParseError
				if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
					return nil, err // the reader cannot resynchronise after a quoting error
				}
			}
		}
		if b := rb.take(); b != nil {
			return b, nil
		}
		return nil, io.EOF
	}
	return &Reader{ds: ds, next: next, close: rb.fail}, nil
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

// ReadNDJSON reads a whole native NDJSON file (see OpenNDJSON).
func ReadNDJSON(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (Result, error) {
	return readAll(OpenNDJSON(name, in, mem, bad))
}

// maxNDJSONLine bounds one NDJSON line (a certificate with its DER and text dump).
const maxNDJSONLine = 64 << 20

// OpenNDJSON returns a reader of a native NDJSON file: one object per line, keys the
// InputSchema names (a missing key is NULL, an unknown key an error). The dataset is
// that of the first object (obsUid: discovery, else cert); a file without objects is an
// empty discovery file. Invalid lines before the first valid object go to bad.
func OpenNDJSON(name string, in io.Reader, mem memory.Allocator, bad func(error) error) (*Reader, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 256<<10), maxNDJSONLine)
	var (
		rb   *rowBuilder
		line int
		ndj  ndjsonScan
		eof  bool
	)
	// step reads one line into rb (created at the first valid object).
	step := func() error {
		if !sc.Scan() {
			eof = true
			if err := sc.Err(); err != nil {
				return fmt.Errorf("%s:%d: %w", name, line+1, err)
			}
			return nil
		}
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			return nil
		}
		ok := ndj.scan(text)
		var obj map[string]json.RawMessage
		if !ok {
			if err := json.Unmarshal(text, &obj); err != nil {
				return bad(&LineError{File: name, Line: line, Reason: "invalid JSON: " + err.Error()})
			}
		}
		if rb == nil {
			ds := query.Cert
			if ok && ndj.has("obsUid") || !ok && obj["obsUid"] != nil {
				ds = query.Discovery
			}
			rb = newRowBuilder(mem, ds)
			ndj.bind(rb.schema)
		}
		var err error
		if ok {
			err = rb.appendScanned(name, line, &ndj)
		} else {
			err = rb.appendObject(name, line, obj)
		}
		if err != nil {
			return bad(err)
		}
		return nil
	}
	for rb == nil && !eof {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if rb == nil {
		rb = newRowBuilder(mem, query.Discovery)
	}
	next := func() (arrow.RecordBatch, error) {
		for len(rb.out) == 0 && !eof {
			if err := step(); err != nil {
				return nil, err
			}
		}
		if eof {
			rb.cut()
		}
		if b := rb.take(); b != nil {
			return b, nil
		}
		return nil, io.EOF
	}
	return &Reader{ds: rb.ds, next: next, close: rb.fail}, nil
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

// appendScanned appends a line the fast scanner took (see ndjsonScan), with the
// semantics of appendObject.
func (r *rowBuilder) appendScanned(name string, line int, s *ndjsonScan) error {
	if s.unknown >= 0 {
		k := s.keys[s.unknown]
		return &LineError{File: name, Line: line, Field: string(k.name), Value: string(k.raw), Reason: "not a " + string(r.ds) + " column"}
	}
	for i, f := range r.schema.Fields() {
		raw := s.vals[i]
		if err := appendJSONBytes(r.rb.Field(i), f.Type, raw); err != nil {
			r.rollback()
			return &LineError{File: name, Line: line, Field: f.Name, Value: string(raw), Reason: err.Error()}
		}
	}
	r.endRow()
	return nil
}

// ReadParquet reads a whole native Parquet file held in memory (see OpenParquet).
func ReadParquet(ctx context.Context, name string, data []byte, mem memory.Allocator) (Result, error) {
	return readAll(OpenParquet(ctx, name, bytes.NewReader(data), mem))
}

// OpenParquet returns a reader of a native Parquet file (random access: a file, or the
// decompressed content of a gzip-compressed one). Columns are read in parallel.
func OpenParquet(ctx context.Context, name string, in parquet.ReaderAtSeeker, mem memory.Allocator) (*Reader, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	pf, err := file.NewParquetReader(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batchRows, Parallel: true}, mem)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	closeAll := func() {
		rr.Release()
		pf.Close()
	}
	names := make([]string, rr.Schema().NumFields())
	for i, f := range rr.Schema().Fields() {
		names[i] = f.Name
	}
	ds, err := DatasetOf(names)
	if err != nil {
		closeAll()
		return nil, &LineError{File: name, Line: 1, Reason: err.Error()}
	}
	want := engine.InputSchema(ds)
	next := func() (arrow.RecordBatch, error) {
		if !rr.Next() {
			if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return nil, io.EOF
		}
		rec, err := conform(rr.RecordBatch(), want)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return rec, nil
	}
	return &Reader{ds: ds, next: next, close: closeAll}, nil
}

// ParquetDataset reads the schema of a Parquet file and recognises its dataset.
func ParquetDataset(in parquet.ReaderAtSeeker) (query.Dataset, error) {
	pf, err := file.NewParquetReader(in)
	if err != nil {
		return "", err
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	names := make([]string, sc.Root().NumFields())
	for i := range names {
		names[i] = sc.Root().Field(i).Name()
	}
	return DatasetOf(names)
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
