package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// outcome is what one run of one path of a case produced.
type outcome struct {
	Rows    int64         // result rows (pages, exports) or diff rows
	Bytes   int64         // bytes produced (response body, exported file, COPY stream)
	Counts  []int64       // filtered and total counts, when the case asks for them
	Elapsed time.Duration // timed part only
	// Server is the time the server reports it spent on the request (its Server-Timing
	// phases: queue, counts, query, encoding), 0 when it reports none. Elapsed minus
	// Server is HTTP: the request, the network and reading the body.
	Server time.Duration
}

// runner is one way of running a case: the API, raw DuckDB or PostgreSQL.
type runner interface {
	// Name is the path's label in results: "api", "duckdb" or "postgres".
	Name() string
	// Prepare does untimed per-case setup (a snapshot to diff against).
	Prepare(ctx context.Context, c Case) error
	// Run executes the case once and times only the work being measured.
	Run(ctx context.Context, c Case) (outcome, error)
	// Cleanup undoes Prepare; errors are reported but do not fail the case.
	Cleanup(ctx context.Context, c Case) error
}

// NotAvailableError marks a case that a path cannot run yet (an API feature answering
// 400/404/406/501/507, or a server without a route): the case is recorded as
// "not available: <Reason>", never dropped silently.
type NotAvailableError struct{ Reason string }

// Error implements error.
func (e *NotAvailableError) Error() string { return "not available: " + e.Reason }

func notAvailable(format string, args ...any) error {
	return &NotAvailableError{Reason: fmt.Sprintf(format, args...)}
}

// isNotAvailable reports whether err says the feature is missing, and why.
func isNotAvailable(err error) (string, bool) {
	var na *NotAvailableError
	if errors.As(err, &na) {
		return na.Reason, true
	}
	return "", false
}
