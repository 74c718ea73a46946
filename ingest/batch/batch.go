// Package batch turns typed discovery and cert rows into Arrow record batches in
// engine.InputSchema, the only form engine.Load accepts. Every ingest source (Zeek logs,
// certificate files, native files) fills the same row structs, so the mapping from Go
// values to columns, NULLs included, lives in one place.
package batch

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// Discovery is one observation. Empty strings, nil pointers and nil lists are NULL; a
// non-nil empty list is an empty list.
type Discovery struct {
	ObsUID                                      string
	ObservedAt                                  int64 // µs since the epoch, UTC
	ClientIP, ClientName, ServerIP, ServerName  string
	ServerPort                                  *int64
	Protocol, ServiceName, TLSVersion           string
	CipherSuite, KexGroup, CertFingerprint      string
	CipherKex, CipherAuth, CipherEnc, CipherMac string
	ForwardSecrecy, PQCKex, WeakCrypto          *bool
	WeakReasons                                 []string
	ByteVolume, PacketCount                     *int64
}

// Cert is one certificate. Empty strings, nil pointers and nil slices are NULL.
type Cert struct {
	Fingerprint, Serial, Subject, CommonName string
	AltNames                                 []string
	Issuer                                   string
	NotBefore, NotAfter                      *int64 // seconds since the epoch
	KeyAlgo                                  string
	KeySize                                  *int64
	Curve, SigAlgo                           string
	IsCA, SelfSigned                         *bool
	Source, Txt                              string
	FirstSeen, LastSeen                      *int64 // µs since the epoch
	ServerCount                              *int64
	DER                                      []byte
}

// Int returns a pointer to v, for the nullable fields.
func Int(v int64) *int64 { return &v }

// Bool returns a pointer to v, for the nullable fields.
func Bool(v bool) *bool { return &v }

// DefaultSize is the number of rows per record batch.
const DefaultSize = 64 * 1024

// Builder accumulates rows of one dataset and cuts them into record batches.
type Builder struct {
	ds      query.Dataset
	schema  *arrow.Schema
	rb      *array.RecordBuilder
	rows    int
	size    int
	batches []arrow.RecordBatch
}

// NewBuilder returns a builder for dataset ds; size <= 0 means DefaultSize.
func NewBuilder(mem memory.Allocator, ds query.Dataset, size int) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if size <= 0 {
		size = DefaultSize
	}
	s := engine.InputSchema(ds)
	return &Builder{ds: ds, schema: s, rb: array.NewRecordBuilder(mem, s), size: size}
}

// Schema is engine.InputSchema of the builder's dataset.
func (b *Builder) Schema() *arrow.Schema { return b.schema }

// Rows is the number of rows appended so far.
func (b *Builder) Rows() int64 {
	var n int64
	for _, r := range b.batches {
		n += r.NumRows()
	}
	return n + int64(b.rows)
}

// AppendDiscovery appends one observation; it panics if the builder is for certs.
func (b *Builder) AppendDiscovery(d *Discovery) {
	// The order is engine.InputSchema(Discovery); TestColumnOrder pins it.
	vals := []any{d.ObsUID, d.ObservedAt, d.ClientIP, d.ClientName, d.ServerIP, d.ServerName, d.ServerPort,
		d.Protocol, d.ServiceName, d.TLSVersion, d.CipherSuite, d.KexGroup, d.CertFingerprint,
		d.CipherKex, d.CipherAuth, d.CipherEnc, d.CipherMac, d.ForwardSecrecy, d.PQCKex, d.WeakCrypto,
		d.WeakReasons, d.ByteVolume, d.PacketCount}
	b.append(query.Discovery, vals)
}

// AppendCert appends one certificate; it panics if the builder is for discovery.
func (b *Builder) AppendCert(c *Cert) {
	vals := []any{c.Fingerprint, c.Serial, c.Subject, c.CommonName, c.AltNames, c.Issuer, c.NotBefore,
		c.NotAfter, c.KeyAlgo, c.KeySize, c.Curve, c.SigAlgo, c.IsCA, c.SelfSigned, c.Source, c.Txt,
		timestamp(c.FirstSeen), timestamp(c.LastSeen), c.ServerCount, c.DER}
	b.append(query.Cert, vals)
}

// ts marks an int64 pointer that is a timestamp (µs) rather than an integer.
type ts struct{ v *int64 }

func timestamp(v *int64) ts { return ts{v} }

func (b *Builder) append(ds query.Dataset, vals []any) {
	if ds != b.ds || len(vals) != b.schema.NumFields() {
		panic(fmt.Sprintf("batch: %d %s values for a %s builder of %d columns", len(vals), ds, b.ds, b.schema.NumFields()))
	}
	if ds == query.Discovery {
		// observedAt is the only non-pointer timestamp: wrap it here.
		v := vals[1].(int64)
		vals[1] = ts{&v}
	}
	for i, v := range vals {
		appendValue(b.rb.Field(i), v)
	}
	b.rows++
	if b.rows >= b.size {
		b.cut()
	}
}

func appendValue(fb array.Builder, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			fb.AppendNull()
			return
		}
		fb.(*array.StringBuilder).Append(x)
	case *int64:
		if x == nil {
			fb.AppendNull()
			return
		}
		fb.(*array.Int64Builder).Append(*x)
	case *bool:
		if x == nil {
			fb.AppendNull()
			return
		}
		fb.(*array.BooleanBuilder).Append(*x)
	case ts:
		if x.v == nil {
			fb.AppendNull()
			return
		}
		fb.(*array.TimestampBuilder).Append(arrow.Timestamp(*x.v))
	case []string:
		lb := fb.(*array.ListBuilder)
		if x == nil {
			lb.AppendNull()
			return
		}
		lb.Append(true)
		vb := lb.ValueBuilder().(*array.StringBuilder)
		for _, s := range x {
			vb.Append(s)
		}
	case []byte:
		if x == nil {
			fb.AppendNull()
			return
		}
		fb.(*array.BinaryBuilder).Append(x)
	default:
		panic(fmt.Sprintf("batch: unsupported value %T", v))
	}
}

func (b *Builder) cut() {
	if b.rows == 0 {
		return
	}
	b.batches = append(b.batches, b.rb.NewRecordBatch())
	b.rows = 0
}

// Batches returns the record batches built so far (the builder keeps no reference to
// them: the caller releases them) and resets the builder.
func (b *Builder) Batches() []arrow.RecordBatch {
	b.cut()
	out := b.batches
	b.batches = nil
	return out
}

// Release frees the builder and any batches not taken with Batches.
func (b *Builder) Release() {
	for _, r := range b.batches {
		r.Release()
	}
	b.batches = nil
	b.rb.Release()
}

// Reader returns a record reader over batches with the schema of ds; it takes over
// the caller's references.
func Reader(ds query.Dataset, batches []arrow.RecordBatch) (array.RecordReader, error) {
	rr, err := array.NewRecordReader(engine.InputSchema(ds), batches)
	if err != nil {
		return nil, err
	}
	for _, r := range batches {
		r.Release() // NewRecordReader retained them
	}
	return rr, nil
}
