package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
)

// Kind classifies an engine error by what the caller can do about it. The HTTP layer maps
// kinds to status codes in one place; the engine never mentions HTTP.
type Kind int

// Error kinds. Internal is the zero value: an error the engine could not classify is a bug
// or an environment problem, never the caller's fault.
const (
	// Internal is an unexpected failure (a bug, a corrupt database).
	Internal Kind = iota
	// Invalid means the request or the input data is wrong (bad SQL, bad batch, bad address).
	Invalid
	// NotFound means a named object (table, snapshot, column) does not exist.
	NotFound
	// Conflict means the request clashes with stored state (duplicate key, concurrent write).
	Conflict
	// Canceled means the caller's context was canceled.
	Canceled
	// Timeout means the caller's deadline passed before the work finished.
	Timeout
	// TooLarge means the work needed more memory (or other resources) than allowed.
	TooLarge
	// Unavailable means the database cannot serve the request right now (closed, I/O error,
	// opened read-only for a write).
	Unavailable
)

var kindNames = [...]string{"internal", "invalid", "not found", "conflict", "canceled", "timeout", "too large", "unavailable"}

// String returns the kind's lowercase name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error type of every failing engine call.
type Error struct {
	Kind Kind
	Op   string // what the engine was doing, e.g. "load discovery", "query"
	Err  error  // the cause; errors.Is/As see through Error to it
}

// Error formats the error as "engine: <op>: <cause>".
func (e *Error) Error() string {
	if e.Op == "" {
		return "engine: " + e.Err.Error()
	}
	return "engine: " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrorKind returns the kind of err: the Kind of the outermost *Error in its chain, else the
// classification of context and DuckDB errors, else Internal. ErrorKind(nil) is Internal;
// check err != nil first.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return classify(nil, err)
}

// errorf builds an *Error whose cause is formatted like fmt.Errorf (so %w works).
func errorf(kind Kind, op, format string, args ...any) *Error {
	return &Error{Kind: kind, Op: op, Err: fmt.Errorf(format, args...)}
}

// wrap turns any error from DuckDB, database/sql or a context into an *Error for op, keeping
// an existing *Error's kind. ctx (may be nil) decides between Canceled and Timeout when
// DuckDB reports only that it was interrupted.
func wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Op == "" {
			return &Error{Kind: e.Kind, Op: op, Err: e.Err}
		}
		return err
	}
	return &Error{Kind: classify(ctx, err), Op: op, Err: err}
}

// classify maps a raw error to a Kind. Context errors come first because the driver wraps
// ctx.Err() into the interrupt error it returns.
func classify(ctx context.Context, err error) Kind {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		return classifyDuckDB(ctx, de)
	}
	// The driver checks arguments before DuckDB sees them and reports plain errors.
	if strings.Contains(err.Error(), "argument count") || strings.Contains(err.Error(), "unsupported type") {
		return Invalid
	}
	return Internal
}

func classifyDuckDB(ctx context.Context, de *duckdb.Error) Kind {
	switch de.Type {
	case duckdb.ErrorTypeInterrupt:
		if ctx != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Timeout
		}
		return Canceled
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax, duckdb.ErrorTypeBinder,
		duckdb.ErrorTypeConversion, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeInvalidInput,
		duckdb.ErrorTypeMismatchType, duckdb.ErrorTypeInvalidType, duckdb.ErrorTypeDivideByZero,
		duckdb.ErrorTypeParameterNotResolved, duckdb.ErrorTypeParameterNotAllowed,
		duckdb.ErrorTypeNotImplemented, duckdb.ErrorTypeExpression, duckdb.ErrorTypeSettings:
		return Invalid
	case duckdb.ErrorTypeCatalog:
		return NotFound
	case duckdb.ErrorTypeConstraint:
		// A NOT NULL or CHECK failure is bad input; a duplicate key clashes with stored rows.
		if strings.Contains(de.Msg, "NOT NULL") || strings.Contains(de.Msg, "CHECK") {
			return Invalid
		}
		return Conflict
	case duckdb.ErrorTypeTransaction:
		return Conflict
	case duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeObjectSize:
		return TooLarge
	case duckdb.ErrorTypeIO, duckdb.ErrorTypeConnection, duckdb.ErrorTypePermission,
		duckdb.ErrorTypeNetwork, duckdb.ErrorTypeMissingExtension, duckdb.ErrorTypeAutoLoad:
		return Unavailable
	}
	return Internal
}
