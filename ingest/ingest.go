// Package ingest loads files into a cipherscope database: Zeek logs (ingest/zeek),
// certificate files and trust stores (ingest/certs) and the native CSV, NDJSON and
// Parquet files (ingest/native). Each file's kind is detected from its content.
//
// # Atomicity
//
// A run parses and validates every file before it writes anything: any input error
// (without SkipInvalid) leaves the database untouched. The rows of all datasets
// (certificates, then discovery) are then stored by one engine.LoadAll, one transaction:
// a database failure, a cancellation or a killed process leaves the database exactly as
// it was, and re-running the same ingest is safe (loads de-duplicate).
package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest/batch"
	"github.com/cipherscope/cipherscope/ingest/zeek"
	"github.com/cipherscope/cipherscope/query"
)

// Format restricts how files are read.
type Format string

// The formats of the --format flag.
const (
	Auto   Format = "auto"   // detect each file's kind from its content
	Zeek   Format = "zeek"   // Zeek conn/ssl/x509 logs, TSV or JSON
	X509   Format = "x509"   // PEM or DER certificates and bundles
	Native Format = "native" // cipherscope's CSV, NDJSON or Parquet files
)

// ParseFormat validates a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Auto, Zeek, X509, Native:
		return f, nil
	case "":
		return Auto, nil
	}
	return "", fmt.Errorf("unknown format %q (want auto, zeek, x509 or native)", s)
}

// Options tune a run.
type Options struct {
	// Format forces a file family; "" or Auto detects each file.
	Format Format
	// SkipInvalid skips malformed lines and unreadable certificates instead of stopping.
	SkipInvalid bool
	// Examples is how many skipped lines the summary quotes; 0 means 5.
	Examples int
	// Progress, when set, is called after each file is read.
	Progress func(file string, done, total int)
	// Allocator backs the Arrow batches; nil means the default allocator.
	Allocator memory.Allocator
}

// Summary reports a run.
type Summary struct {
	Files    int                                // files read
	Kinds    map[string]int                     // files per detected kind (zeek-conn, pem, ...)
	Rows     map[query.Dataset]int64            // rows handed to the engine per dataset
	Loaded   map[query.Dataset]engine.LoadStats // what each Load stored
	Skipped  int64                              // malformed lines or certificates skipped
	Ignored  []string                           // files found in directories whose format is not recognised
	Examples []string                           // the first skipped lines' errors
	Duration time.Duration
}

// InputError is a problem with the input (a malformed line, an unrecognisable file);
// the command line maps it to exit code 2.
type InputError struct{ Err error }

// Error is the underlying error's message (it already names file and line).
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap gives the underlying error to errors.As.
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is caused by the input rather than the system.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// Run ingests every file under paths (directories recursively) into db.
func Run(ctx context.Context, db *engine.DB, paths []string, opt Options) (Summary, error) {
	start := time.Now()
	r, err := newRun(opt)
	if err != nil {
		return Summary{}, err
	}
	defer r.release()
	files, err := expand(paths)
	if err != nil {
		return r.sum, err
	}
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return r.sum, err
		}
		if err := r.readFile(f.path, f.walked); err != nil {
			return r.sum, err
		}
		r.sum.Files++
		if opt.Progress != nil {
			opt.Progress(f.path, i+1, len(files))
		}
	}
	err = r.load(ctx, db)
	r.sum.Duration = time.Since(start)
	return r.sum, err
}

// run is the state of one Run.
type run struct {
	opt   Options
	sum   Summary
	zeek  *zeek.Assembler
	disc  *batch.Builder
	cert  *batch.Builder
	extra map[query.Dataset][]arrow.RecordBatch // native batches, already in InputSchema
}

func newRun(opt Options) (*run, error) {
	if opt.Format == "" {
		opt.Format = Auto
	}
	if _, err := ParseFormat(string(opt.Format)); err != nil {
		return nil, err
	}
	if opt.Examples <= 0 {
		opt.Examples = 5
	}
	return &run{opt: opt, zeek: zeek.NewAssembler(),
		disc:  batch.NewBuilder(opt.Allocator, query.Discovery, 0),
		cert:  batch.NewBuilder(opt.Allocator, query.Cert, 0),
		extra: map[query.Dataset][]arrow.RecordBatch{},
		sum:   Summary{Kinds: map[string]int{}, Rows: map[query.Dataset]int64{}, Loaded: map[query.Dataset]engine.LoadStats{}}}, nil
}

func (r *run) release() {
	r.disc.Release()
	r.cert.Release()
	for _, bs := range r.extra {
		for _, b := range bs {
			b.Release()
		}
	}
}

// bad is the policy for one malformed line or item: stop, or count it and go on.
func (r *run) bad(err error) error {
	if !r.opt.SkipInvalid {
		return &InputError{Err: err}
	}
	r.sum.Skipped++
	if len(r.sum.Examples) < r.opt.Examples {
		r.sum.Examples = append(r.sum.Examples, err.Error())
	}
	return nil
}

// input is one file to read; walked marks files found inside a directory.
type input struct {
	path   string
	walked bool
}

// expand lists the regular files under paths (directories walked recursively, symbolic
// links followed for files, as trust stores are links), sorted within each directory.
func expand(paths []string) ([]input, error) {
	var out []input
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		if !st.IsDir() {
			out = append(out, input{path: p})
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
				files = append(files, path)
			}
			return nil // dangling links are not inputs
		})
		if err != nil {
			return nil, &InputError{Err: err}
		}
		sort.Strings(files)
		for _, f := range files {
			out = append(out, input{path: f, walked: true})
		}
	}
	return out, nil
}

// readFile opens one file, undoes gzip (recognised by its magic bytes), detects the
// kind and hands the content to the right reader. A file of unknown format is an error
// when named, and ignored (listed in the summary) when found in a directory: trust
// store directories also hold Java keystores and the like.
func (r *run) readFile(path string, walked bool) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Err: err}
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	var in io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return &InputError{Err: fmt.Errorf("%s: %w", path, err)}
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 1<<20)
		in = br
	}
	head, _ := br.Peek(sniffSize)
	kind := detect(head, r.opt.Format)
	if kind == kindUnknown && walked {
		r.sum.Ignored = append(r.sum.Ignored, path)
		return nil
	}
	if kind == kindUnknown && r.opt.Format != Auto {
		return &InputError{Err: fmt.Errorf("%s: not a %s file (found %s)", path, r.opt.Format, orUnknown(sniff(head)))}
	}
	if kind == kindUnknown {
		return &InputError{Err: fmt.Errorf("%s: cannot tell the format from the content (want Zeek TSV/JSON, PEM/DER, or native CSV/NDJSON/Parquet)", path)}
	}
	if err := r.read(path, kind, in); err != nil {
		var le *zeek.LineError
		if errors.As(err, &le) && !IsInputError(err) {
			return &InputError{Err: err}
		}
		return err
	}
	r.sum.Kinds[string(kind)]++
	return nil
}

func (r *run) read(path string, kind fileKind, in io.Reader) error {
	switch kind {
	case kindZeek:
		k, err := r.zeek.Add(path, in, func(le *zeek.LineError) error { return r.bad(le) })
		if err == nil && k == zeek.Unknown {
			return &InputError{Err: fmt.Errorf("%s: a Zeek log, but not conn, ssl or x509", path)}
		}
		return err
	}
	return r.readOther(path, kind, in)
}

// load builds the Zeek join and stores everything in one engine.LoadAll, one
// transaction: certificates first, then discovery.
func (r *run) load(ctx context.Context, db *engine.DB) error {
	r.zeek.Build(r.disc, r.cert)
	var inputs []engine.Input
	defer func() {
		for _, in := range inputs {
			in.Reader.Release()
		}
	}()
	for _, ds := range []query.Dataset{query.Cert, query.Discovery} {
		b := r.cert
		if ds == query.Discovery {
			b = r.disc
		}
		batches := append(b.Batches(), r.extra[ds]...)
		r.extra[ds] = nil
		var n int64
		for _, rb := range batches {
			n += rb.NumRows()
		}
		r.sum.Rows[ds] = n
		if n == 0 {
			for _, rb := range batches {
				rb.Release()
			}
			continue
		}
		rr, err := batch.Reader(ds, batches)
		if err != nil {
			return err
		}
		inputs = append(inputs, engine.Input{Dataset: ds, Reader: rr})
	}
	if len(inputs) == 0 {
		return nil
	}
	stats, err := db.LoadAll(ctx, inputs)
	if err != nil {
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

func orUnknown(k fileKind) string {
	if k == kindUnknown {
		return "an unknown format"
	}
	return string(k)
}
