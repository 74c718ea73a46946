package ingest

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// streamDepth is how many batches a stream's producer may run ahead of DuckDB: enough
// to keep both busy, few enough to bound memory (a batch is 64K rows).
const streamDepth = 2

// errStopped ends a producer whose consumer went away (LoadAll failed or finished).
var errStopped = errors.New("ingest: stream stopped")

// stream is the array.RecordReader that LoadAll reads one dataset from. Its producer (a
// goroutine started at the first Next, so that certificates are built only after the
// observations were stored) parses the files and hands batches over a channel: parsing
// runs on one core while DuckDB converts and stores on the other.
type stream struct {
	ds      query.Dataset
	produce func(emit func(arrow.RecordBatch) error) error
	refs    atomic.Int64

	// DuckDB's threads call Next one at a time; mu orders that state with the reads
	// after LoadAll (C-side synchronisation is invisible to the race detector).
	mu      sync.Mutex
	started bool
	eof     bool
	cur     arrow.RecordBatch
	rows    int64

	ch       chan arrow.RecordBatch
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	err      error // the producer's, set before ch is closed
}

func newStream(ds query.Dataset, produce func(emit func(arrow.RecordBatch) error) error) *stream {
	s := &stream{ds: ds, produce: produce, ch: make(chan arrow.RecordBatch, streamDepth),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.refs.Store(1)
	return s
}

func (s *stream) run() {
	defer close(s.done)
	defer close(s.ch)
	s.err = s.produce(func(b arrow.RecordBatch) error {
		select {
		case s.ch <- b:
			return nil
		case <-s.stop:
			b.Release()
			return errStopped
		}
	})
}

// Schema is engine.InputSchema of the dataset.
func (s *stream) Schema() *arrow.Schema { return engine.InputSchema(s.ds) }

// Next waits for the producer's next batch.
func (s *stream) Next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		go s.run()
	}
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	b, ok := <-s.ch
	if !ok {
		s.eof = true // s.err was set before ch was closed
		return false
	}
	s.cur = b
	s.rows += b.NumRows()
	return true
}

// RecordBatch is the current batch.
func (s *stream) RecordBatch() arrow.RecordBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Record is RecordBatch under its deprecated name.
func (s *stream) Record() arrow.RecordBatch { return s.RecordBatch() }

// read is the number of rows handed to LoadAll.
func (s *stream) read() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// Err is the producer's error, after Next returned false.
func (s *stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.eof {
		return nil
	}
	return s.err
}

// Retain adds a reference.
func (s *stream) Retain() { s.refs.Add(1) }

// Release drops a reference; the last one stops the producer and frees what is left.
func (s *stream) Release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
}

// wait stops the producer (if it still runs) and waits for it to end.
func (s *stream) wait() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return
	}
	<-s.done
	for b := range s.ch {
		b.Release()
	}
}

// countingFile counts the bytes read from a file, for progress reports.
type countingFile struct {
	f *os.File
	n *atomic.Int64
}

// Read reads from the file.
func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// ReadAt reads from the file at off (Parquet).
func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// Seek seeks in the file.
func (c *countingFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }

// progress feeds Options.Progress from a ticker goroutine: readers only add to counters.
type progress struct {
	start time.Time
	bytes atomic.Int64
	rows  atomic.Int64 // rows of native files and certificates (Zeek rows: zeekRows)

	mu       sync.Mutex
	fn       func(Progress)
	files    int
	total    int64
	zeekRows func() int64
	restarts int
	quit     chan struct{}
	ended    chan struct{}
}

// begin sets what the run reads and starts the reports (once).
func (p *progress) begin(fn func(Progress), files int, total int64, zeekRows func() int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn, p.files, p.total, p.zeekRows = fn, files, total, zeekRows
	if fn == nil || p.quit != nil {
		return
	}
	p.quit, p.ended = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.ended)
		t := time.NewTicker(ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-t.C:
				p.report(false)
			}
		}
	}()
}

// restart starts the counts over for a second pass.
func (p *progress) restart() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bytes.Store(0)
	p.rows.Store(0)
	p.restarts++
}

func (p *progress) report(done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fn == nil {
		return
	}
	rows := p.rows.Load()
	if p.zeekRows != nil {
		rows += p.zeekRows()
	}
	p.fn(Progress{Files: p.files, Bytes: p.bytes.Load(), TotalBytes: p.total, Rows: rows,
		Elapsed: time.Since(p.start), Restarts: p.restarts, Done: done})
}

// stop ends the reports with a last one.
func (p *progress) stop() {
	p.mu.Lock()
	quit, ended := p.quit, p.ended
	p.mu.Unlock()
	if quit != nil {
		close(quit)
		<-ended
	}
	p.report(true)
}
