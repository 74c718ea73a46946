package server

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
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
	ctx, counts, done, err := s.beginPage(c, req)
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
	return w.Close(meta)
}

// export is one returnAsStream/returnAsZipFile response in progress. It owns its
// context, its query slot and the first page's reader until run ends.
type export struct {
	s       *server
	f       format
	req     listRequest
	keys    keyReader
	ctx     context.Context
	first   array.RecordReader
	conn    net.Conn
	zipName string // inner file name; "" for a plain stream
}

// serveExport sends every matching row (capped by limit when given) in bounded memory:
// keyset pages of Config.ExportBatchRows rows, each a separate query, written as they
// arrive. The first page runs before the status is sent, so a bad request still gets a
// problem document; later failures cut the body short (see README).
func (s *server) serveExport(c *fiber.Ctx, f format, req listRequest) error {
	keys, err := query.KeyFields(req.Request)
	if err != nil {
		return err
	}
	release, err := s.acquire(c.UserContext())
	if err != nil {
		return err
	}
	// The export outlives the handler; its budget is ExportTimeout, not QueryTimeout.
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ExportTimeout)
	e := &export{s: s, f: f, req: req, keys: keyReader{keys}, ctx: ctx, conn: c.Context().Conn()}
	first, err := e.prepare(c)
	if err != nil {
		cancel()
		release()
		return err
	}
	e.first = first
	// Parameters were copied into req (fiber reuses its buffers); the stream writer
	// touches only e.
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer release()
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in export stream", "panic", p)
			}
		}()
		if err := e.run(bw); err != nil {
			// The status is out: the body ends without its closing part, so readers fail.
			s.log.Warn("export stream ended early", "err", err, "dataset", req.Dataset)
		}
	})
	return nil
}

// prepare runs the count (if asked) and the first page, and sets the headers.
func (e *export) prepare(c *fiber.Ctx) (array.RecordReader, error) {
	counts, err := e.s.counts(e.ctx, e.req)
	if err != nil {
		return nil, err
	}
	first, err := e.s.store.SelectAfter(e.ctx, e.pageRequest(0), nil)
	if err != nil {
		return nil, err
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
	return first, nil
}

// pageRequest is the request of one export page, given the rows sent so far.
func (e *export) pageRequest(sent int64) query.Request {
	r := e.req.Request
	r.Offset = 0
	r.Limit = int64(e.s.cfg.ExportBatchRows)
	if e.req.limitSet {
		r.Limit = min(r.Limit, e.req.Limit-sent)
	}
	return r
}

// run writes every page to bw, flushing after each so memory stays bounded and a gone
// client shows up as a write error (which ends the export and, via the context, the query).
func (e *export) run(bw *bufio.Writer) error {
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
	rr := e.first
	defer func() { rr.Release() }()
	w, err := e.f.newWriter(out, rr.Schema(), e.req.columns)
	if err != nil {
		return err
	}
	var sent int64
	for {
		limit := e.pageRequest(sent).Limit
		res, err := writePage(w, rr, limit, e.keys)
		if err != nil {
			return err
		}
		sent += res.rows
		if err := e.flush(bw); err != nil {
			return err
		}
		if res.rows < limit || e.req.limitSet && sent >= e.req.Limit {
			break
		}
		rr.Release()
		rr = emptyReader{}
		after, err := afterValues(e.keys.keys, res.last)
		if err != nil {
			return err
		}
		if rr, err = e.s.store.SelectAfter(e.ctx, e.pageRequest(sent), after); err != nil {
			rr = emptyReader{}
			return err
		}
	}
	if err := w.Close(pageMeta{limit: sent, streamedWhole: true, filtered: -1, total: -1}); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// flush pushes the buffered bytes to the client and gives the connection another
// WriteTimeout: fasthttp's deadline covers the whole body, which an export may exceed.
func (e *export) flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return err
	}
	if e.conn != nil {
		_ = e.conn.SetWriteDeadline(time.Now().Add(e.s.cfg.WriteTimeout))
	}
	return e.ctx.Err()
}

// afterValues converts the last row's key text back to typed values.
func afterValues(keys []query.SortKey, last []*string) ([]any, error) {
	after := make([]any, len(keys))
	for i, k := range keys {
		v, err := parseKeyText(k.Field, last[i])
		if err != nil {
			return nil, fmt.Errorf("server: key %s: %w", k.Field.Name, err)
		}
		after[i] = v
	}
	return after, nil
}

// emptyReader stands in for a released page reader so the deferred Release stays safe.
type emptyReader struct{ array.RecordReader }

func (emptyReader) Release() {}
