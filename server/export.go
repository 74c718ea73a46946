package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/query"
)

// DefaultExportBatchRows is the default of Config.ExportBatchRows.
const DefaultExportBatchRows = 50_000

// MIMEZip is the media type of returnAsZipFile responses.
const MIMEZip = "application/zip"

// pageResult is what writePage learned while writing.
type pageResult struct {
	rows int64
	last []*string // key values of the last row written; nil if none
	more bool      // rows beyond the limit exist
}

// writePage writes at most limit rows of rr (which may hold one more, to detect a next
// page) and remembers the key values of the last one written.
func writePage(w listWriter, rr array.RecordReader, limit int64, kr keyReader) (pageResult, error) {
	var res pageResult
	for rr.Next() {
		rec := rr.RecordBatch()
		n := rec.NumRows()
		if n > limit-res.rows {
			res.more, n = true, limit-res.rows
		}
		if n <= 0 {
			continue
		}
		part := rec.NewSlice(0, n)
		err := w.Write(part)
		if err == nil {
			res.last, err = kr.row(part, int(n-1))
		}
		part.Release()
		if err != nil {
			return res, err
		}
		res.rows += n
	}
	return res, rr.Err()
}

// serveCursorPage answers one keyset page: the rows after the cursor (an empty cursor
// starts at the first row) and, when more rows exist, the cursor of the next page.
func (s *server) serveCursorPage(c *fiber.Ctx, f format, req listRequest) error {
	keys, err := query.KeyFields(req.Request)
	if err != nil {
		return err
	}
	after, tf, err := s.decodeCursor(req, keys)
	if err != nil {
		return err
	}
	req.TimeFrame = tf
	phases := startPhases()
	ctx, counts, done, err := s.beginPage(c, req, phases)
	if err != nil {
		return err
	}
	defer done()
	pageReq := req.Request
	pageReq.Limit = req.Limit + 1 // one more row tells whether a next page exists
	rr, err := s.store.SelectAfter(ctx, pageReq, after)
	if err != nil {
		return err
	}
	defer rr.Release()
	phases.end(phaseQuery)
	w, err := f.newWriter(c.Response().BodyWriter(), rr.Schema(), req.columns)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	res, err := writePage(w, rr, req.Limit, keyReader{keys})
	if err != nil {
		return err
	}
	meta := pageMeta{limit: req.Limit, cursorPaging: true, filtered: counts.filtered, total: counts.total}
	if res.more {
		meta.nextCursor = s.encodeCursor(cursorState{Binding: cursorBinding(req), Keys: res.last,
			Begin: micros(tf.Begin), End: micros(tf.End)})
		c.Set(HeaderNextCursor, meta.nextCursor)
	}
	setCountHeader(c, counts.filtered)
	if err := w.Close(meta); err != nil {
		return err
	}
	phases.end(phaseEncode)
	phases.set(c)
	return nil
}

// export is one returnAsStream/returnAsZipFile response in progress. It owns its
// context, its query slot and its source of rows until run ends.
type export struct {
	s       *server
	f       format
	req     listRequest
	ctx     context.Context
	conn    net.Conn
	zipName string // inner file name; "" for a plain stream
	// Exactly one source: bytes copied from the store (formats with copied set) or
	// record batches scanned from one snapshot (Store.Scan).
	text  *bufio.Reader
	src   io.Reader    // what text reads: the store's stream
	close func() error // ends text's query
	rows  array.RecordReader
}

// exportReadSize is how much of the store's bytes is read and flushed to the client at a
// time when they are rewritten (zip, JSON envelope); relayReadSize when they are relayed.
const exportReadSize = 64 << 10

// relayReadSize matches the store's pipe buffer (engine pipeBufferBytes): one read can
// take everything DuckDB has written so far.
const relayReadSize = 1 << 20

// serveExport sends every matching row (capped by limit when given) in bounded memory.
// JSON, CSV, NDJSON and Parquet are written by the database itself, streamed as it
// computes them (Store.Export); Arrow is encoded from slices of Config.ExportBatchRows
// rows of one snapshot, each one query (Store.Scan). The query starts, and its first
// bytes or slice arrive, before the status is sent, so a bad request still gets a
// problem document; later failures cut the body short (see README).
//
// The body bypasses fasthttp's streaming, which frames and flushes every 4 KiB as its
// own chunk: the export takes over the connection (hijack) once the handler returns and
// writes the headers fasthttp would have sent, then chunks of up to exportReadSize.
// Streaming 10M rows (6.2 GB of NDJSON) took 31 s this way, 78 s through fasthttp. The
// connection closes after the export.
func (s *server) serveExport(c *fiber.Ctx, f format, req listRequest) error {
	release, err := s.acquire(c.UserContext())
	if err != nil {
		return err
	}
	// The export outlives the handler; its budget is ExportTimeout, not QueryTimeout,
	// and a server shutdown ends it.
	ctx, cancel := context.WithTimeout(s.exports, s.cfg.ExportTimeout)
	e := &export{s: s, f: f, req: req, ctx: ctx}
	finish := func() {
		e.end()
		cancel()
		release()
	}
	if err := e.prepare(c); err != nil {
		finish()
		return err
	}
	if c.Method() == fiber.MethodHead {
		finish()
		return nil
	}
	// The headers are complete: every middleware sets its headers before the handler.
	c.Status(fiber.StatusOK)
	chunked := c.Request().Header.IsHTTP11()
	if chunked {
		c.Response().Header.SetContentLength(-1)
	} else {
		c.Response().Header.SetContentLength(-2) // HTTP/1.0: the body ends with the connection
	}
	c.Response().Header.SetConnectionClose()
	header := append([]byte(nil), c.Response().Header.Header()...)
	// The socket itself, for splice(2): the hijacked connection fasthttp passes wraps it.
	sock := c.Context().Conn()
	c.Context().HijackSetNoResponse(true)
	// Parameters were copied into req (fiber reuses its buffers); the hijack handler
	// touches only e and header.
	c.Context().Hijack(func(conn net.Conn) {
		defer finish()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in export stream", "panic", p)
			}
		}()
		e.conn = conn
		if err := e.send(conn, sock, header, chunked); err != nil {
			// The status is out: the body ends without its closing part, so readers fail.
			s.log.Warn("export stream ended early", "err", err, "dataset", req.Dataset)
		}
	})
	return nil
}

// send writes the response on the hijacked connection: header, body, end of body. sock
// is the socket under conn, which relayed bodies may write to directly.
func (e *export) send(conn, sock net.Conn, header []byte, chunked bool) error {
	_ = conn.SetWriteDeadline(time.Now().Add(e.s.cfg.WriteTimeout))
	wire := bufio.NewWriterSize(conn, 64<<10)
	if _, err := wire.Write(header); err != nil {
		return err
	}
	body := &bodyWriter{conn: conn, sock: sock, wire: wire, chunked: chunked}
	body.buf = bufio.NewWriterSize(body.frame(), exportReadSize)
	if err := e.run(body); err != nil {
		return err
	}
	if chunked {
		if _, err := wire.WriteString("0\r\n\r\n"); err != nil {
			return err
		}
	}
	return wire.Flush()
}

// bodyWriter buffers the response body and frames each flushed buffer as one HTTP/1.1
// chunk (or writes it as is for HTTP/1.0); Flush sends everything to the connection.
type bodyWriter struct {
	conn    io.Writer
	sock    net.Conn      // the socket under conn, for splice; nil when there is none
	wire    *bufio.Writer // buffers conn
	buf     *bufio.Writer
	chunked bool
}

func (b *bodyWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }

// Flush frames what is buffered and pushes it to the connection.
func (b *bodyWriter) Flush() error {
	if err := b.buf.Flush(); err != nil {
		return err
	}
	return b.wire.Flush()
}

// frame is the writer under buf: one chunk per write.
func (b *bodyWriter) frame() io.Writer {
	if !b.chunked {
		return b.wire
	}
	return chunkFramer{b.wire}
}

// relayHeadroom is the room before the data in a relay buffer: a chunk size of up to 16
// hex digits and its CRLF.
const relayHeadroom = 18

// relay sends the rest of the store's stream src to the connection, calling afterEach
// after every chunk; r is the buffered reader over src, whose buffered bytes go first.
// The rest moves by splice(2) when both ends are descriptors (spliceBody), else by copy:
// each read lands in a buffer with room for the chunk framing around it, and the frame
// goes out in one write: no copies through the buffered writers, and one read and one
// write per ~600 KB that DuckDB writes instead of per 64 KiB.
func (b *bodyWriter) relay(r *bufio.Reader, src io.Reader, afterEach func() error) error {
	if err := b.Flush(); err != nil {
		return err
	}
	buf := make([]byte, relayHeadroom+relayReadSize+len("\r\n"))
	send := func(n int) error {
		if _, err := b.conn.Write(b.framed(buf, n)); err != nil {
			return err
		}
		return afterEach()
	}
	if n := r.Buffered(); n > 0 {
		if _, err := io.ReadFull(r, buf[relayHeadroom:relayHeadroom+n]); err != nil {
			return err
		}
		if err := send(n); err != nil {
			return err
		}
	}
	if b.sock != nil {
		if handled, err := spliceBody(b.sock, src, b.chunked, afterEach); handled {
			return err
		}
	}
	for {
		n, rerr := r.Read(buf[relayHeadroom : relayHeadroom+relayReadSize])
		if n > 0 {
			if err := send(n); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// framed returns the n bytes read into buf after relayHeadroom as they go on the wire:
// as one chunk, written around them in buf, or as they are for HTTP/1.0.
func (b *bodyWriter) framed(buf []byte, n int) []byte {
	end := relayHeadroom + n
	if !b.chunked {
		return buf[relayHeadroom:end]
	}
	var size [relayHeadroom]byte
	header := appendChunkHeader(size[:0], n)
	start := relayHeadroom - len(header)
	copy(buf[start:], header)
	buf[end], buf[end+1] = '\r', '\n'
	return buf[start : end+2]
}

// appendChunkHeader appends the line that opens an HTTP/1.1 chunk of n bytes: its size in
// hex and CRLF. The chunk's data and a closing CRLF follow it.
func appendChunkHeader(dst []byte, n int) []byte {
	return append(strconv.AppendInt(dst, int64(n), 16), '\r', '\n')
}

// chunkFramer writes each non-empty write as one chunk of a chunked body.
type chunkFramer struct{ w *bufio.Writer }

func (c chunkFramer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var size [relayHeadroom]byte
	c.w.Write(appendChunkHeader(size[:0], len(p)))
	c.w.Write(p)
	if _, err := c.w.WriteString("\r\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}

// prepare runs the count (if asked), starts the rows and sets the headers.
func (e *export) prepare(c *fiber.Ctx) error {
	counts, err := e.s.counts(e.ctx, e.req)
	if err != nil {
		return err
	}
	if err := e.start(); err != nil {
		return err
	}
	setCountHeader(c, counts.filtered)
	stamp := e.s.cfg.Now().UTC().Format("20060102T150405Z")
	base := "dta_" + string(e.req.Dataset) + "_" + stamp
	if e.req.zip {
		e.zipName = base + "." + e.f.ext
		c.Set(fiber.HeaderContentType, MIMEZip)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+base+`.zip"`)
	} else {
		c.Set(fiber.HeaderContentType, e.f.contentType)
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+base+"."+e.f.ext+`"`)
	}
	return nil
}

// start opens the source of rows and waits for its first bytes or slice, so that an
// error of the query itself is still reported with a status.
func (e *export) start() error {
	r, limit := e.wholeRequest()
	if e.f.copied == nil {
		var err error
		e.rows, err = e.s.store.Scan(e.ctx, r, e.s.cfg.ExportBatchRows, limit)
		return err
	}
	r.Limit = limit
	rc, err := e.s.store.Export(e.ctx, r, e.f.copied.file)
	if err != nil {
		return err
	}
	e.src, e.text, e.close = rc, bufio.NewReaderSize(rc, exportReadSize), rc.Close
	if _, err := e.text.Peek(1); err != nil && err != io.EOF {
		return err
	}
	return nil
}

// wholeRequest is the request of every row of the export, in any order unless sorted,
// without its limit, and the limit (0 for none): an export ignores offset, and limit
// only caps it when given.
func (e *export) wholeRequest() (query.Request, int64) {
	r := e.req.Request
	r.Offset, r.Limit, r.AnyOrder = 0, 0, true
	if e.req.limitSet {
		return r, e.req.Limit
	}
	return r, 0
}

// end releases the source of rows: it stops a query still running.
func (e *export) end() {
	if e.close != nil {
		_ = e.close()
		e.close = nil
	}
	if e.rows != nil {
		e.rows.Release()
		e.rows = nil
	}
}

// run writes every row to bw, inside a zip entry when asked, flushing as it goes so
// memory stays bounded and a gone client shows up as a write error (which ends the
// export and, via end and the context, the query).
func (e *export) run(bw *bodyWriter) error {
	out := io.Writer(bw)
	var zw *zip.Writer
	if e.zipName != "" {
		zw = zip.NewWriter(bw)
		entry, err := zw.CreateHeader(&zip.FileHeader{Name: e.zipName, Method: zip.Deflate, Modified: e.s.cfg.Now().UTC()})
		if err != nil {
			return err
		}
		out = entry
	}
	var err error
	switch {
	case e.text != nil && zw == nil && !e.f.copied.envelope:
		err = bw.relay(e.text, e.src, func() error { return e.flush(bw) })
	case e.text != nil:
		err = e.copyText(out, bw)
	default:
		err = e.writeRows(out, bw)
	}
	if err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// copyText passes the store's text through, as a JSON document when the format asks.
func (e *export) copyText(out io.Writer, bw *bodyWriter) error {
	var env *ndjsonToArray
	if e.f.copied.envelope {
		env = &ndjsonToArray{w: out}
		if _, err := io.WriteString(out, `{"data":[`); err != nil {
			return err
		}
		out = env
	}
	buf := make([]byte, exportReadSize)
	for {
		n, rerr := e.text.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			if err := e.flush(bw); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if env != nil {
		tail := appendEnvelopeTail(nil, pageMeta{streamedWhole: true, filtered: -1, total: -1}, env.rows)
		if _, err := env.w.Write(tail); err != nil {
			return err
		}
	}
	return nil
}

// ndjsonToArray turns NDJSON into the inside of a JSON array: each line's newline
// becomes the comma before the next line. JSON text never holds a raw newline, so every
// newline ends a row.
type ndjsonToArray struct {
	w       io.Writer
	rows    int64
	pending bool // a row ended; a comma is due before the next byte
}

func (a *ndjsonToArray) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if a.pending {
			if _, err := a.w.Write([]byte{','}); err != nil {
				return written, err
			}
			a.pending = false
		}
		line := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			line, a.pending = p[:i], true
			a.rows++
		}
		if _, err := a.w.Write(line); err != nil {
			return written, err
		}
		skip := len(line)
		if a.pending {
			skip++
		}
		written += skip
		p = p[skip:]
	}
	return written, nil
}

// writeRows encodes every batch of the scan, flushing after each.
func (e *export) writeRows(out io.Writer, bw *bodyWriter) error {
	w, err := e.f.newWriter(out, e.rows.Schema(), e.req.columns)
	if err != nil {
		return err
	}
	var sent int64
	for e.rows.Next() {
		rec := e.rows.RecordBatch()
		if err := w.Write(rec); err != nil {
			return err
		}
		sent += rec.NumRows()
		if err := e.flush(bw); err != nil {
			return err
		}
	}
	if err := e.rows.Err(); err != nil {
		return err
	}
	return w.Close(pageMeta{limit: sent, streamedWhole: true, filtered: -1, total: -1})
}

// flush pushes the buffered bytes to the client and gives the connection another
// WriteTimeout, so that the deadline bounds each write, not the whole export.
func (e *export) flush(bw *bodyWriter) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if e.conn != nil {
		_ = e.conn.SetWriteDeadline(time.Now().Add(e.s.cfg.WriteTimeout))
	}
	return e.ctx.Err()
}
