package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Defaults of the failed-authentication limits (Config.AuthFailureLimit, AuthFailureWindow).
const (
	DefaultAuthFailureLimit  = 20
	DefaultAuthFailureWindow = time.Minute
)

// errRateLimited is a 429 with Retry-After.
type errRateLimited struct{ retryAfter time.Duration }

func (e errRateLimited) Error() string {
	return "too many failed authentications from this address or for this key; retry after " +
		strconv.Itoa(e.seconds()) + " s"
}

func (e errRateLimited) seconds() int {
	return max(1, int((e.retryAfter+time.Second-1)/time.Second))
}

// failureLimiter counts failed authentications per source address and per presented
// key id in fixed windows. Once a source or key id has limit failures in its window,
// its requests get 429 until the window ends (even with a valid key), so a secret
// cannot be guessed online and a flood of bad keys does not reach the database.
type failureLimiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*failBucket
}

type failBucket struct {
	start time.Time
	n     int
}

// maxBuckets bounds the limiter's memory; expired buckets are swept when it is reached.
const maxBuckets = 100_000

func newFailureLimiter(limit int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, now: now, buckets: map[string]*failBucket{}}
}

func limiterKeys(source, keyID string) []string {
	ks := []string{"addr:" + source}
	if keyID != "" {
		ks = append(ks, "key:"+keyID)
	}
	return ks
}

// check returns errRateLimited while source or keyID is over the limit.
func (l *failureLimiter) check(source, keyID string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range limiterKeys(source, keyID) {
		b := l.buckets[k]
		if b == nil || now.Sub(b.start) >= l.window {
			continue
		}
		if b.n >= l.limit {
			wait = max(wait, b.start.Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return errRateLimited{retryAfter: wait}
	}
	return nil
}

// fail records one failed authentication.
func (l *failureLimiter) fail(source, keyID string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) >= maxBuckets {
		for k, b := range l.buckets {
			if now.Sub(b.start) >= l.window {
				delete(l.buckets, k)
			}
		}
	}
	for _, k := range limiterKeys(source, keyID) {
		b := l.buckets[k]
		if b == nil || now.Sub(b.start) >= l.window {
			if b == nil && len(l.buckets) >= maxBuckets {
				continue
			}
			b = &failBucket{start: now}
			l.buckets[k] = b
		}
		b.n++
	}
}

// setRetryAfter adds Retry-After to 429 answers (called by handleError).
func setRetryAfter(c *fiber.Ctx, e errRateLimited) {
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(e.seconds()))
}
