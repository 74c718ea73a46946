package server

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// HeaderIdempotencyKey makes a creating POST safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// DefaultIdempotencyTTL is how long a stored response is replayed.
const DefaultIdempotencyTTL = 24 * time.Hour

// Bounds of the idempotency store (it lives in memory; a restart forgets it).
const (
	maxIdempotencyEntries = 10_000
	maxIdempotencyKeyLen  = 255
)

// idemStore remembers the responses of POSTs sent with an Idempotency-Key, per API
// key, route and Idempotency-Key: the same key and body within the TTL get the stored
// response; another body gets 409. Responses with status 5xx are not stored.
type idemStore struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*idemEntry
}

type idemEntry struct {
	bodyHash    [32]byte
	created     time.Time
	done        bool
	status      int
	contentType string
	location    string
	body        []byte
}

func newIdemStore(ttl time.Duration, now func() time.Time) *idemStore {
	return &idemStore{ttl: ttl, now: now, entries: map[string]*idemEntry{}}
}

// begin returns the finished entry to replay, or nil after reserving the key; an error
// for a key reused with another body, a request still in flight or a full store.
func (st *idemStore) begin(key string, bodyHash [32]byte) (*idemEntry, error) {
	now := st.now()
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.entries[key]; ok && now.Sub(e.created) < st.ttl {
		switch {
		case e.bodyHash != bodyHash:
			return nil, fiber.NewError(fiber.StatusConflict, "the Idempotency-Key was used with another request body")
		case !e.done:
			return nil, fiber.NewError(fiber.StatusConflict, "a request with this Idempotency-Key is still in progress")
		}
		return e, nil
	}
	if len(st.entries) >= maxIdempotencyEntries {
		for k, e := range st.entries {
			if now.Sub(e.created) >= st.ttl {
				delete(st.entries, k)
			}
		}
		if len(st.entries) >= maxIdempotencyEntries {
			return nil, errBusy{retryAfter: time.Minute}
		}
	}
	st.entries[key] = &idemEntry{bodyHash: bodyHash, created: now}
	return nil, nil
}

func (st *idemStore) finish(key string, status int, contentType, location string, body []byte) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e, ok := st.entries[key]; ok {
		e.done, e.status, e.contentType, e.location, e.body = true, status, contentType, location, body
	}
}

func (st *idemStore) abort(key string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.entries, key)
}

// idempotent runs the rest of the chain, replaying or recording the response when a
// creating POST carries an Idempotency-Key. Errors of the chain are rendered here.
func (s *server) idempotent(c *fiber.Ctx, op Operation, known bool) error {
	ik := c.Get(HeaderIdempotencyKey)
	if ik == "" || !known || c.Method() != fiber.MethodPost || op.Kind == KindQuery {
		return c.Next()
	}
	if len(ik) > maxIdempotencyKeyLen {
		return fiber.NewError(fiber.StatusBadRequest, "the Idempotency-Key is longer than 255 characters")
	}
	return s.idempotentRun(c, idemKey(c, ik), sha256.Sum256(c.Body()), c.Next)
}

// idemKey scopes an Idempotency-Key to the caller's API key and the route.
func idemKey(c *fiber.Ctx, ik string) string {
	p, _ := c.Locals(principalKey{}).(principal)
	return p.keyID + "\x00" + c.Path() + "\x00" + ik
}

// idempotentRun replays the response recorded under key when the request digest
// matches (409 when it does not), or runs run and records its response (not a 5xx, which
// the client may retry). Errors of run are rendered here.
func (s *server) idempotentRun(c *fiber.Ctx, key string, digest [32]byte, run func() error) error {
	e, err := s.idem.begin(key, digest)
	if err != nil {
		return err
	}
	if e != nil {
		c.Locals(auditDetailKey{}, "idempotent replay")
		c.Status(e.status)
		c.Set(fiber.HeaderContentType, e.contentType)
		if e.location != "" {
			c.Set(fiber.HeaderLocation, e.location)
		}
		c.Set("Idempotent-Replayed", "true")
		return c.Send(e.body)
	}
	if err := run(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.idem.abort(key)
			return herr
		}
	}
	status := c.Response().StatusCode()
	if status >= 500 {
		s.idem.abort(key)
		return nil
	}
	s.idem.finish(key, status, string(c.Response().Header.ContentType()),
		string(c.Response().Header.Peek(fiber.HeaderLocation)), bytes.Clone(c.Response().Body()))
	return nil
}
