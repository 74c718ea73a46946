package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Defaults of the query admission limits (Config.MaxConcurrentQueries, Config.QueueWait).
const (
	// DefaultMaxConcurrentQueries matches a small machine: DuckDB already uses every core
	// for one query, so more concurrent queries only share the same CPUs and memory.
	DefaultMaxConcurrentQueries = 4
	// DefaultQueueWait is how long a request waits for a query slot before 503.
	DefaultQueueWait = 2 * time.Second
)

// errBusy is returned when no query slot became free within the queue wait.
type errBusy struct{ retryAfter time.Duration }

func (e errBusy) Error() string {
	return fmt.Sprintf("the server is running its maximum number of queries; retry in %s", e.retryAfter)
}

// retryAfterSeconds renders the Retry-After header value (whole seconds, at least 1).
func (e errBusy) retryAfterSeconds() string {
	return strconv.Itoa(max(1, int((e.retryAfter+time.Second-1)/time.Second)))
}

// querySlots caps concurrent queries. A nil *querySlots admits everything.
type querySlots struct {
	ch   chan struct{}
	wait time.Duration
}

func newQuerySlots(n int, wait time.Duration) *querySlots {
	return &querySlots{ch: make(chan struct{}, n), wait: wait}
}

// acquire waits up to the queue wait for a slot and returns its release function.
// The release is idempotent, because streaming handlers hand it to their writer.
func (s *server) acquire(ctx context.Context) (func(), error) {
	q := s.slots
	t := time.NewTimer(q.wait)
	defer t.Stop()
	select {
	case q.ch <- struct{}{}:
	case <-t.C:
		return nil, errBusy{retryAfter: q.wait}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	released := false
	return func() {
		if !released {
			released = true
			<-q.ch
		}
	}, nil
}

// errTooLarge explains how to get a result bigger than one page (507).
func errTooLarge(limit, maxLimit int64) error {
	return fiber.NewError(fiber.StatusInsufficientStorage, fmt.Sprintf(
		"limit %d is above the maximum page of %d rows; narrow the result with timeFrame or filter, "+
			"lower limit and page with offset or cursor, or set returnAsStream=true (every matching row, streamed) "+
			"or returnAsZipFile=true (every matching row in a zip file)", limit, maxLimit))
}

// asBusy reports whether err is a full-queue error.
func asBusy(err error) (errBusy, bool) {
	var b errBusy
	ok := errors.As(err, &b)
	return b, ok
}

// Request bodies. The application runs with fasthttp's StreamRequestBody, so that
// POST /ingest can spool an upload of up to Config.MaxUploadBytes to disk as it arrives
// instead of holding it in memory. fasthttp then hands every handler a stream of which
// at most 8 KiB have been read, and does not read the rest after the handler: requestBody
// restores the usual contract for every other route (the whole body, at most
// Config.BodyLimit bytes, read before any handler; 413 beyond), and leaves no unread body
// on a connection that stays open.

// maxDrainBytes is how much of an unread request body is read and discarded after the
// handler so that the connection can serve the next request; with more left, the
// connection is closed instead (as net/http does).
const maxDrainBytes = 256 << 10

// ingestPath is the route whose body is streamed.
const ingestPath = Base + "/ingest"

// isIngestRoute reports whether method and path (as the router sees it: a trailing
// slash is ignored) are POST /api/v1/ingest.
func isIngestRoute(method, path string) bool {
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	return method == fiber.MethodPost && path == ingestPath
}

// requestBody reads the body of every request but POST /ingest before the handlers run,
// and accounts for the upload of POST /ingest (see uploadBody).
func (s *server) requestBody(c *fiber.Ctx) error {
	if isIngestRoute(c.Method(), c.Path()) {
		return s.streamUpload(c)
	}
	req := c.Request()
	if !req.IsBodyStream() || req.Header.ContentLength() == 0 {
		return c.Next()
	}
	if req.Header.ContentLength() > s.cfg.BodyLimit {
		c.Context().SetConnectionClose() // the body stays unread
		return fiber.ErrRequestEntityTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(req.BodyStream(), int64(s.cfg.BodyLimit)+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return fiber.NewError(fiber.StatusBadRequest, "the request body could not be read: "+err.Error())
	}
	if len(body) > s.cfg.BodyLimit { // chunked, without a Content-Length
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	req.SetBodyRaw(body)
	return c.Next()
}

// requestConfig is fasthttp's HeaderReceived hook: an upload to POST /ingest may take
// longer than Config.ReadTimeout to arrive, so its connection read deadline is
// Config.IngestTimeout from the end of its headers.
func (s *server) requestConfig(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if isIngestRoute(string(h.Method()), requestPath(h.RequestURI())) {
		return fasthttp.RequestConfig{ReadTimeout: s.cfg.IngestTimeout}
	}
	return fasthttp.RequestConfig{}
}

// requestPath is the path of a raw request target (origin or absolute form).
func requestPath(uri []byte) string {
	p := string(uri)
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if _, rest, ok := strings.Cut(p, "://"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return rest[i:]
		}
		return "/"
	}
	return p
}
