package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// HeaderRequestID carries the request id, echoed from the client when sane.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds a client-supplied request id; longer ones are replaced.
const maxRequestIDLen = 128

// requestIDKey is the fiber Locals key of the request id.
type requestIDKey struct{}

// idPrefix makes generated ids unique across restarts; the counter makes them unique
// within a process without a random read per request.
var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("server: no randomness for request ids: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// commonHeaders sets the headers every response carries: the request id and
// Cache-Control: no-cache (query results change as data is ingested).
func (s *server) commonHeaders(c *fiber.Ctx) error {
	ensureCommonHeaders(c)
	return c.Next()
}

// ensureCommonHeaders is idempotent, so the error handler can call it for errors that
// fasthttp raises before any middleware ran (header too large, body too large).
func ensureCommonHeaders(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestIDKey{}).(string); ok {
		return id
	}
	id := c.Get(HeaderRequestID)
	if !saneRequestID(id) {
		id = idPrefix + "-" + strconv.FormatUint(idCounter.Add(1), 10)
	}
	c.Locals(requestIDKey{}, id)
	c.Set(HeaderRequestID, id)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return id
}

// requestID returns the id of the current request.
func requestID(c *fiber.Ctx) string { return ensureCommonHeaders(c) }

// saneRequestID accepts ids that are short and made of characters that cannot inject
// anything into headers or logs.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			b == '-' || b == '_' || b == '.' || b == ':' || b == '/' || b == '+' || b == '='
		if !ok {
			return false
		}
	}
	return true
}

// accessLog logs one line per request, after the error handler has set the status.
func (s *server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Let the error handler set the status now, so the log line shows it.
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	s.log.Info("request", "method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(),
		"bytes", len(c.Response().Body()), "duration", time.Since(start), "requestId", requestID(c))
	return nil
}

// logPanic records a recovered panic with its stack; recover then turns it into a 500.
func (s *server) logPanic(c *fiber.Ctx, e any) {
	s.log.Error("panic in handler", "panic", e, "path", c.Path(), "requestId", requestID(c), "stack", string(debug.Stack()))
}
