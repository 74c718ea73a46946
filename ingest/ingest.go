// Package ingest loads files into a cipherscope database: Zeek logs (ingest/zeek),
// certificate files and trust stores (ingest/certs) and the native CSV, NDJSON and
// Parquet files (ingest/native). Each file's kind is detected from its content.
//
// # Atomicity
//
// A run stores everything in one engine.LoadAll, one transaction: any input error
// (without SkipInvalid), a database failure, a cancellation or a killed process leaves
// the database exactly as it was, and re-running the same ingest is safe (loads
// de-duplicate). Files are recognised before anything is read, so a file of unknown
// format fails the run at once.
//
// # Streaming and memory
//
// Observations and certificates stream into the transaction: DuckDB reads record batches
// while they are parsed (on another core), so memory stays bounded by a few batches
// whatever the size of the input, with three exceptions that a join needs whole:
//
//   - Zeek conn.log rows, indexed by uid (~90 bytes a row) and x509.log certificates,
//     read before the transaction, so that each ssl.log row is joined as it is read;
//   - ssl.log rows in a file that also holds conn or x509 rows (a combined JSON stream,
//     recognised by the first row): held as Arrow batches (~300 bytes a row) until every
//     file has been read. When a file recognised as ssl.log turns out to hold other rows,
//     the transaction is rolled back and the run repeated that way;
//   - certificates of PEM/DER files (few), and per certificate what the observations
//     say about it (first and last seen, servers).
//
// Observations go first, then certificates (their first/last seen and server counts
// come from the observations of the same run).
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
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
	// Progress, when set, is called every ProgressInterval while the files are read and
	// stored, and a last time (Done) before Run returns; from one goroutine, never
	// concurrently.
	Progress func(Progress)
	// Allocator backs the Arrow batches; nil means the default allocator.
	Allocator memory.Allocator
}

// ProgressInterval is how often Options.Progress is called.
const ProgressInterval = 200 * time.Millisecond

// Progress is how far a run is.
type Progress struct {
	Files      int           // input files (not counting ignored ones)
	Bytes      int64         // bytes read so far from the files as stored (gzip: compressed)
	TotalBytes int64         // the files' sizes
	Rows       int64         // rows read so far: log lines, certificates, native rows
	Elapsed    time.Duration // since Run started
	Restarts   int           // times the run started over (a combined Zeek log; see the package doc)
	Done       bool          // the last call
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

func newSummary() Summary {
	return Summary{Kinds: map[string]int{}, Rows: map[query.Dataset]int64{}, Loaded: map[query.Dataset]engine.LoadStats{}}
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
	if opt.Format == "" {
		opt.Format = Auto
	}
	if _, err := ParseFormat(string(opt.Format)); err != nil {
		return Summary{}, err
	}
	if opt.Examples <= 0 {
		opt.Examples = 5
	}
	prog := &progress{start: start}
	defer prog.stop()
	sum, err := runOnce(ctx, db, paths, opt, prog, true)
	if errors.Is(err, zeek.ErrNotSSL) {
		// A combined Zeek log: nothing is stored; read it again, joining at the end.
		prog.restart()
		sum, err = runOnce(ctx, db, paths, opt, prog, false)
	}
	sum.Duration = time.Since(start)
	return sum, err
}

// run is the state of one pass of Run.
type run struct {
	opt    Options
	prog   *progress
	stream bool // ssl.log files stream (else they are read before the transaction)

	mu   sync.Mutex // sum, as readers run on other goroutines
	sum  Summary
	zeek *zeek.Assembler
	cert *batch.Builder                        // certificates of PEM/DER files and of x509.log
	held map[query.Dataset][]arrow.RecordBatch // native rows read before the transaction
}

func runOnce(ctx context.Context, db *engine.DB, paths []string, opt Options, prog *progress, stream bool) (Summary, error) {
	r := &run{opt: opt, prog: prog, stream: stream, sum: newSummary(),
		zeek: zeek.NewAssembler(opt.Allocator), cert: batch.NewBuilder(opt.Allocator, query.Cert, 0),
		held: map[query.Dataset][]arrow.RecordBatch{}}
	defer r.release()
	files, err := expand(paths)
	if err != nil {
		return r.sum, err
	}
	srcs, err := r.plan(files)
	if err != nil {
		return r.sum, err
	}
	var total int64
	for _, s := range srcs {
		total += s.size
	}
	prog.begin(opt.Progress, len(srcs), total, func() int64 { return r.zeek.RowsRead() })
	// Before the transaction: what the joins need whole (see the package doc).
	for _, s := range srcs {
		if err := ctx.Err(); err != nil {
			return r.sum, err
		}
		if !r.streams(s) {
			if err := r.readFile(s); err != nil {
				return r.sum, err
			}
		}
	}
	err = r.load(ctx, db, srcs)
	if err == nil {
		r.sum.Files = len(srcs)
	}
	return r.sum, err
}

func (r *run) release() {
	r.zeek.Release()
	r.cert.Release()
	for _, bs := range r.held {
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
	r.mu.Lock()
	defer r.mu.Unlock()
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

func orUnknown(k fileKind) string {
	if k == kindUnknown {
		return "an unknown format"
	}
	return string(k)
}
