package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
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
