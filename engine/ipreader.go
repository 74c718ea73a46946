package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/query"
)

// Names of the columns the ipReader adds for an IP field (the family keeps the stored
// name). The number is split because Arrow has no 128-bit integer that DuckDB reads as
// HUGEINT; the INSERT recombines the halves.
const (
	hiSuffix = "__hi"
	loSuffix = "__lo"
)

// ipReader wraps a loader's input: it passes batches through with each IP text column
// replaced by its canonical form and three columns appended per IP field (family, high and
// low half of the number). DuckDB pulls it through an Arrow view. A bad address stops the
// stream with an error naming the row, which Load reports instead of DuckDB's.
type ipReader struct {
	ctx     context.Context
	mem     memory.Allocator
	in      array.RecordReader
	schema  *arrow.Schema
	ipCols  []ipColumn
	keyCols []int // other columns that must not hold NULL
	refs    atomic.Int64
	cur     arrow.RecordBatch
	// DuckDB calls Next on its own threads; mu orders those writes with the reads of
	// progress after the INSERT (C-side synchronisation is invisible to the race detector).
	mu      sync.Mutex
	err     error
	batches int
	rows    int64
}

type ipColumn struct {
	index    int
	name     string
	nullable bool
}

func newIPReader(ctx context.Context, mem memory.Allocator, ds query.Dataset, in array.RecordReader) *ipReader {
	in.Retain()
	r := &ipReader{ctx: ctx, mem: mem, in: in}
	r.refs.Store(1)
	fields := append([]arrow.Field(nil), in.Schema().Fields()...)
	for i, f := range InputSchema(ds).Fields() {
		if !isIPField(ds, f.Name) {
			if !f.Nullable {
				r.keyCols = append(r.keyCols, i)
			}
			continue
		}
		r.ipCols = append(r.ipCols, ipColumn{index: i, name: f.Name, nullable: f.Nullable})
		fields[i] = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.String, Nullable: true}
		fields = append(fields,
			arrow.Field{Name: f.Name + query.FamilySuffix, Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
			arrow.Field{Name: f.Name + hiSuffix, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: f.Name + loSuffix, Type: arrow.PrimitiveTypes.Uint64, Nullable: true})
	}
	r.schema = arrow.NewSchema(fields, nil)
	return r
}

// Retain adds a reference.
func (r *ipReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one releases the current batch and the input.
func (r *ipReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.releaseCurrent()
		r.in.Release()
	}
}

func (r *ipReader) releaseCurrent() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

// Schema is the extended schema.
func (r *ipReader) Schema() *arrow.Schema { return r.schema }

// Next reads and extends the next input batch. It checks ctx between batches, so that a
// cancellation stops the stream even while DuckDB waits on it.
func (r *ipReader) Next() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.releaseCurrent()
	if r.err != nil {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return false
	}
	if !r.in.Next() {
		if err := r.in.Err(); err != nil {
			r.err = errorf(inputErrorKind(r.ctx, err), "", "reading batch %d of the input: %w", r.batches+1, err)
		}
		return false
	}
	rec, err := r.extend(r.in.RecordBatch())
	if err != nil {
		r.err = err
		return false
	}
	r.cur = rec
	r.batches++
	r.rows += rec.NumRows()
	return true
}

// inputErrorKind is the kind of an error from the caller's reader: its own kind if it is
// an engine error, Canceled/Timeout if it ended with a context, else Invalid (bad input).
func inputErrorKind(ctx context.Context, err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if k := classify(ctx, err); k == Canceled || k == Timeout {
		return k
	}
	return Invalid
}

// RecordBatch is the current extended batch.
func (r *ipReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is RecordBatch under its deprecated name.
func (r *ipReader) Record() arrow.RecordBatch { return r.cur }

// Err is the error that stopped the stream.
func (r *ipReader) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// progress returns how much was read and the error that stopped the stream, if any.
func (r *ipReader) progress() (batches int, rows int64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.batches, r.rows, r.err
}

// checkKeys reports the first NULL in a column that must not have any. DuckDB's NOT NULL
// constraint would catch it too, but without naming the row.
func (r *ipReader) checkKeys(rec arrow.RecordBatch) error {
	for _, i := range r.keyCols {
		col := rec.Column(i)
		if col.NullN() == 0 {
			continue
		}
		for row := range col.Len() {
			if col.IsNull(row) {
				return errorf(Invalid, "", "row %d: %s is NULL", r.rows+int64(row)+1, rec.ColumnName(i))
			}
		}
	}
	return nil
}

// extend builds the extended batch: input columns shared (retained), IP columns derived.
func (r *ipReader) extend(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if err := r.checkKeys(rec); err != nil {
		return nil, err
	}
	n := int(rec.NumCols())
	cols := make([]arrow.Array, n, len(r.schema.Fields()))
	for i := range n {
		cols[i] = rec.Column(i)
		cols[i].Retain()
	}
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, c := range r.ipCols {
		text, ok := rec.Column(c.index).(*array.String)
		if !ok { // checkInputSchema makes this unreachable; keep the guard cheap and loud
			release()
			return nil, errorf(Internal, "", "column %s is %T", c.name, rec.Column(c.index))
		}
		derived, err := deriveIP(r.mem, c, text, r.rows)
		if err != nil {
			release()
			return nil, err
		}
		cols[c.index].Release()
		cols[c.index] = derived[0]
		cols = append(cols, derived[1:]...)
	}
	out := array.NewRecordBatch(r.schema, cols, rec.NumRows())
	release() // NewRecordBatch retained what it keeps
	return out, nil
}

// deriveIP parses one IP text column. It returns the canonical text (the input array
// itself, retained, when every value already is canonical: always true for IPv4, which
// netip parses only in dotted-quad form), the family, and the two halves of the number.
// rowBase is the number of rows of earlier batches, for error messages.
func deriveIP(mem memory.Allocator, c ipColumn, text *array.String, rowBase int64) ([]arrow.Array, error) {
	n := text.Len()
	fam := array.NewUint8Builder(mem)
	hi := array.NewInt64Builder(mem)
	lo := array.NewUint64Builder(mem)
	defer fam.Release()
	defer hi.Release()
	defer lo.Release()
	fam.Reserve(n)
	hi.Reserve(n)
	lo.Reserve(n)
	var canon []string // allocated at the first non-canonical value
	for i := range n {
		if text.IsNull(i) {
			if !c.nullable {
				return nil, errorf(Invalid, "", "row %d: %s is NULL", rowBase+int64(i)+1, c.name)
			}
			fam.AppendNull()
			hi.AppendNull()
			lo.AppendNull()
			continue
		}
		s := text.Value(i)
		addr, err := parseAddr(s)
		if err != nil {
			return nil, errorf(Invalid, "", "row %d: %s: invalid address %q: %v", rowBase+int64(i)+1, c.name, s, err)
		}
		cs := s // netip parses IPv4 only in canonical dotted-quad form
		if !addr.Is4() {
			cs = addr.String()
		}
		if cs != s && canon == nil {
			canon = make([]string, n)
			for j := range i {
				canon[j] = text.Value(j)
			}
		}
		if canon != nil {
			canon[i] = cs
		}
		k := query.KeyOf(addr)
		fam.UnsafeAppend(k.Family)
		hi.UnsafeAppend(k.Hi)
		lo.UnsafeAppend(k.Lo)
	}
	out := make([]arrow.Array, 0, 4)
	if canon == nil {
		text.Retain()
		out = append(out, text)
	} else {
		out = append(out, canonicalText(mem, text, canon))
	}
	return append(out, fam.NewArray(), hi.NewArray(), lo.NewArray()), nil
}

// parseAddr accepts what PostgreSQL's inet accepts for a host address, minus IPv6 zones,
// which inet rejects and the stored form cannot keep.
func parseAddr(s string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return addr, err
	}
	if addr.Zone() != "" {
		return addr, fmt.Errorf("zones are not supported")
	}
	return addr, nil
}

func canonicalText(mem memory.Allocator, text *array.String, canon []string) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.Reserve(len(canon))
	for i, s := range canon {
		if text.IsNull(i) {
			b.AppendNull()
		} else {
			b.Append(s)
		}
	}
	return b.NewArray()
}
