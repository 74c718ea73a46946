package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest/certs"
	"github.com/cipherscope/cipherscope/ingest/native"
	"github.com/cipherscope/cipherscope/ingest/zeek"
	"github.com/cipherscope/cipherscope/query"
)

// source is one input file, recognised.
type source struct {
	input
	size int64
	gz   bool
	kind fileKind
	log  zeek.Kind     // kindZeek: the log its first rows belong to (zeek.Sniff)
	ds   query.Dataset // native files: the dataset of their rows
}

// plan recognises every file before anything is read. A file of unknown format is an
// error when named, and ignored (listed in the summary) when found in a directory:
// trust store directories also hold Java keystores and the like.
func (r *run) plan(files []input) ([]source, error) {
	var out []source
	for _, f := range files {
		s, err := r.sniffFile(f)
		if err != nil {
			return nil, err
		}
		if s.kind == kindUnknown {
			r.sum.Ignored = append(r.sum.Ignored, f.path)
			continue
		}
		r.sum.Kinds[string(s.kind)]++
		out = append(out, s)
	}
	return out, nil
}

// sniffFile reads the beginning of a file (gzip undone, recognised by its magic bytes)
// and detects its kind, and for Zeek logs and native files where their rows go.
func (r *run) sniffFile(f input) (source, error) {
	s := source{input: f}
	fh, err := os.Open(f.path)
	if err != nil {
		return s, &InputError{Err: err}
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil {
		s.size = st.Size()
	}
	br := bufio.NewReaderSize(fh, sniffSize)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		s.gz = true
		gz, err := gzip.NewReader(br)
		if err != nil {
			return s, &InputError{Err: fmt.Errorf("%s: %w", f.path, err)}
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, sniffSize)
	}
	head, _ := br.Peek(sniffSize)
	s.kind = detect(head, r.opt.Format)
	switch {
	case s.kind == kindUnknown && f.walked:
		return s, nil
	case s.kind == kindUnknown && r.opt.Format != Auto:
		return s, &InputError{Err: fmt.Errorf("%s: not a %s file (found %s)", f.path, r.opt.Format, orUnknown(sniff(head)))}
	case s.kind == kindUnknown:
		return s, &InputError{Err: fmt.Errorf("%s: cannot tell the format from the content (want Zeek TSV/JSON, PEM/DER, or native CSV/NDJSON/Parquet)", f.path)}
	}
	switch s.kind {
	case kindZeek:
		s.log = zeek.Sniff(head)
		s.ds = query.Discovery // when it streams: ssl.log rows
	case kindNativeCSV:
		s.ds = query.Discovery // a bad header fails when the file is read
		if header, err := csv.NewReader(bytes.NewReader(head)).Read(); err == nil {
			if ds, err := native.DatasetOf(header); err == nil {
				s.ds = ds
			}
		}
	case kindNativeNDJSON:
		s.ds = ndjsonDataset(head)
	case kindParquet:
		if !s.gz {
			s.ds, _ = native.ParquetDataset(fh) // an error fails when the file is read
		}
	case kindPEM, kindDER, kindPKCS7:
		s.ds = query.Cert
	}
	return s, nil
}

// ndjsonDataset is the dataset of the first valid object among the complete lines of
// head, as native.OpenNDJSON decides it; discovery when there is none.
func ndjsonDataset(head []byte) query.Dataset {
	for {
		line, rest, ok := bytes.Cut(head, []byte("\n"))
		if !ok {
			return query.Discovery
		}
		head = rest
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(bytes.TrimSpace(line), &obj); err != nil || len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if _, ok := obj["obsUid"]; ok {
			return query.Discovery
		}
		return query.Cert
	}
}

// streams reports whether a file is read inside the transaction, as DuckDB reads its
// rows; the others are read before it (see the package doc).
func (r *run) streams(s source) bool {
	switch s.kind {
	case kindNativeCSV, kindNativeNDJSON:
		return true
	case kindParquet:
		return !s.gz // a compressed Parquet file is decompressed in memory: read before
	case kindZeek:
		return r.stream && s.log == zeek.SSL
	}
	return false
}

// opened is a file opened for reading: its decompressed content, counted as read.
type opened struct {
	f  *countingFile
	in io.Reader
	gz *gzip.Reader
}

func (r *run) open(s source) (*opened, error) {
	fh, err := os.Open(s.path)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	o := &opened{f: &countingFile{f: fh, n: &r.prog.bytes}}
	br := bufio.NewReaderSize(o.f, 1<<20)
	o.in = br
	if s.gz {
		if o.gz, err = gzip.NewReader(br); err != nil {
			fh.Close()
			return nil, &InputError{Err: fmt.Errorf("%s: %w", s.path, err)}
		}
		o.in = bufio.NewReaderSize(o.gz, 1<<20)
	}
	return o, nil
}

func (o *opened) close() {
	if o.gz != nil {
		o.gz.Close()
	}
	o.f.f.Close()
}

// inputErr classifies a reader's error: malformed input becomes an InputError.
func inputErr(err error) error {
	if err == nil || IsInputError(err) {
		return err
	}
	var le *zeek.LineError
	var ne *native.LineError
	if errors.As(err, &le) || errors.As(err, &ne) {
		return &InputError{Err: err}
	}
	return err
}

// readFile reads a file before the transaction: Zeek logs into the assembler,
// certificates into r.cert, a compressed Parquet file into r.held.
func (r *run) readFile(s source) error {
	o, err := r.open(s)
	if err != nil {
		return err
	}
	defer o.close()
	switch s.kind {
	case kindZeek:
		k, err := r.zeek.Add(s.path, o.in, func(le *zeek.LineError) error { return r.bad(le) })
		if err == nil && k == zeek.Unknown {
			return &InputError{Err: fmt.Errorf("%s: a Zeek log, but not conn, ssl or x509", s.path)}
		}
		return inputErr(err)
	case kindPEM, kindDER, kindPKCS7:
		return r.readCerts(s.path, o.in)
	case kindParquet:
		data, err := io.ReadAll(o.in)
		if err != nil {
			return fmt.Errorf("%s: %w", s.path, err)
		}
		res, err := native.ReadParquet(context.Background(), s.path, data, r.opt.Allocator)
		if err != nil {
			return inputErr(err)
		}
		r.held[res.Dataset] = append(r.held[res.Dataset], res.Batches...)
		r.prog.rows.Add(rowsOf(res.Batches))
		return nil
	}
	return &InputError{Err: fmt.Errorf("%s: unsupported file kind %s", s.path, s.kind)}
}

func rowsOf(bs []arrow.RecordBatch) int64 {
	var n int64
	for _, b := range bs {
		n += b.NumRows()
	}
	return n
}

// readCerts reads a PEM file or bundle, PKCS#7 bundle, or one DER certificate.
func (r *run) readCerts(path string, in io.Reader) error {
	data, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	rows, err := certs.Parse(path, data, certs.SourceOf(path), func(err error) error { return r.bad(err) })
	if err != nil {
		if !IsInputError(err) {
			err = &InputError{Err: err}
		}
		return err
	}
	for i := range rows {
		r.cert.AppendCert(&rows[i])
	}
	r.prog.rows.Add(int64(len(rows)))
	return nil
}

// streamFile reads a file inside the transaction, handing its batches to emit.
func (r *run) streamFile(ctx context.Context, s source, emit func(arrow.RecordBatch) error) error {
	o, err := r.open(s)
	if err != nil {
		return err
	}
	defer o.close()
	bad := func(err error) error { return r.bad(err) }
	var rd *native.Reader
	switch s.kind {
	case kindZeek:
		k, err := r.zeek.Stream(s.path, o.in, func(le *zeek.LineError) error { return r.bad(le) }, emit)
		if err == nil && k == zeek.Unknown {
			return &InputError{Err: fmt.Errorf("%s: a Zeek log, but not conn, ssl or x509", s.path)}
		}
		return inputErr(err)
	case kindNativeCSV:
		rd, err = native.OpenCSV(s.path, o.in, r.opt.Allocator, bad)
	case kindNativeNDJSON:
		rd, err = native.OpenNDJSON(s.path, o.in, r.opt.Allocator, bad)
	case kindParquet:
		rd, err = native.OpenParquet(ctx, s.path, o.f, r.opt.Allocator)
	default:
		return &InputError{Err: fmt.Errorf("%s: unsupported file kind %s", s.path, s.kind)}
	}
	if err != nil {
		return inputErr(err)
	}
	defer rd.Close()
	if rd.Dataset() != s.ds {
		return &InputError{Err: fmt.Errorf("%s: the first rows looked like %s rows, the file holds %s rows", s.path, s.ds, rd.Dataset())}
	}
	for {
		b, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return inputErr(err)
		}
		r.prog.rows.Add(b.NumRows())
		if err := emit(b); err != nil {
			return err
		}
	}
}

// load stores everything in one engine.LoadAll: observations, streamed from the files
// not read yet while DuckDB reads them, then certificates.
func (r *run) load(ctx context.Context, db *engine.DB, srcs []source) error {
	r.sum.Rows[query.Discovery], r.sum.Rows[query.Cert] = 0, 0
	var inputs []engine.Input
	var streams []*stream
	defer func() {
		for _, s := range streams {
			s.Release()
		}
	}()
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		var files []source
		for _, s := range srcs {
			if r.streams(s) && s.ds == ds {
				files = append(files, s)
			}
		}
		if len(files) == 0 && !r.hasHeld(ds) {
			continue
		}
		st := newStream(ds, func(emit func(arrow.RecordBatch) error) error {
			return r.produce(ctx, ds, files, emit)
		})
		streams = append(streams, st)
		inputs = append(inputs, engine.Input{Dataset: ds, Reader: st})
	}
	if len(inputs) == 0 {
		return nil
	}
	stats, err := db.LoadAll(ctx, inputs)
	for _, s := range streams {
		s.wait() // the readers are done with the summary
		r.sum.Rows[s.ds] = s.read()
	}
	if err != nil {
		for _, s := range streams {
			if s.err != nil && (IsInputError(s.err) || errors.Is(s.err, zeek.ErrNotSSL)) {
				return s.err // the file's own words, not "reading batch N of the input: ..."
			}
		}
		if engine.ErrorKind(err) == engine.Invalid {
			return &InputError{Err: err}
		}
		return err
	}
	for _, st := range stats {
		r.sum.Loaded[st.Dataset] = st
	}
	return nil
}

// hasHeld reports whether rows of ds were read before the transaction.
func (r *run) hasHeld(ds query.Dataset) bool {
	if len(r.held[ds]) > 0 {
		return true
	}
	if ds == query.Discovery {
		return r.zeek.Rows(zeek.SSL) > 0
	}
	return r.zeek.Rows(zeek.X509) > 0 || r.cert.Rows() > 0
}

// produce hands the rows of ds to emit: those read before the transaction, then the
// files'. Certificates come after the observations: Zeek's need the observations'
// first/last seen and server counts.
func (r *run) produce(ctx context.Context, ds query.Dataset, files []source, emit func(arrow.RecordBatch) error) error {
	var held []arrow.RecordBatch
	if ds == query.Discovery {
		held = r.zeek.Pending()
	} else {
		r.zeek.Certs(r.cert)
		held = r.cert.Batches()
	}
	held = append(held, r.held[ds]...)
	r.held[ds] = nil
	for i, b := range held {
		if err := emit(b); err != nil {
			for _, x := range held[i+1:] {
				x.Release()
			}
			return err
		}
	}
	for _, s := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.streamFile(ctx, s, emit); err != nil {
			return err
		}
	}
	return nil
}
