package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// ProblemContentType is the media type of error responses (RFC 7807).
const ProblemContentType = "application/problem+json"

// Problem is an RFC 7807 problem document. Type is always "about:blank", so Title is the
// HTTP status phrase and the status code says what kind of problem it is; Errors lists
// each problem with a request parameter.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail"`
	Instance string         `json:"instance"`
	TraceID  string         `json:"traceId"`
	Errors   []ProblemError `json:"errors,omitempty"`
}

// ProblemError describes one problem with one request parameter. Offset (bytes, from 0),
// Line and Column (from 1) locate it in the parameter's value; they are present only for
// errors inside a value with a syntax (filter, sorts).
type ProblemError struct {
	// Kind is the query package's error kind: syntax, type, unknown_field, limit, value.
	Kind    string `json:"kind"`
	Param   string `json:"param"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	Offset  *int   `json:"offset,omitempty"`
	Line    *int   `json:"line,omitempty"`
	Column  *int   `json:"column,omitempty"`
	Token   string `json:"token,omitempty"`
}

// handleError is the application's one error handler: it maps every error a handler,
// middleware or fasthttp returns to a status and a problem document.
func (s *server) handleError(c *fiber.Ctx, err error) error {
	id := ensureCommonHeaders(c)
	p := s.problemFor(err)
	if busy, ok := asBusy(err); ok {
		c.Set(fiber.HeaderRetryAfter, busy.retryAfterSeconds())
	}
	var rl errRateLimited
	if errors.As(err, &rl) {
		setRetryAfter(c, rl)
	}
	if errors.Is(err, errUnauthorized) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="cipherscope"`)
	}
	p.Instance = c.Path()
	p.TraceID = id
	if p.Status >= 500 {
		s.log.Error("request failed", "status", p.Status, "err", err, "path", c.Path(), "requestId", id)
	}
	c.Response().ResetBody()
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, ProblemContentType)
	// Problem documents quote filters, so '<', '>' and '&' stay readable (no HTML escaping).
	enc := json.NewEncoder(c.Response().BodyWriter())
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return err
	}
	// Encode ends with a newline; the body is exactly the document.
	body := c.Response().Body()
	c.Response().SetBodyRaw(body[:len(body)-1])
	return nil
}

// problemFor classifies err. Details of internal errors stay in the log: they may name
// files or SQL, which the client has no business seeing.
func (s *server) problemFor(err error) Problem {
	var list query.ErrorList
	var qe *query.Error
	var fe *fiber.Error
	var ae *authError
	switch {
	case errors.As(err, &ae): // Unauthorized (401) and Forbidden (403)
		return newProblem(ae.status, ae.detail)
	case errors.As(err, new(errRateLimited)):
		return newProblem(fiber.StatusTooManyRequests, err.Error())
	case errors.As(err, &list):
		return badRequest(list)
	case errors.As(err, &qe):
		return badRequest(query.ErrorList{qe})
	case errors.As(err, &fe):
		return newProblem(fe.Code, fe.Message)
	case errors.As(err, new(errBusy)):
		return newProblem(fiber.StatusServiceUnavailable, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return newProblem(fiber.StatusGatewayTimeout, fmt.Sprintf("the query did not finish within %s", s.cfg.QueryTimeout))
	case errors.Is(err, context.Canceled):
		return newProblem(fiber.StatusServiceUnavailable, "the query was canceled")
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return s.engineProblem(ee)
	}
	return newProblem(fiber.StatusInternalServerError, "internal error; the server log has the details under this traceId")
}

// engineProblem maps engine error kinds to status codes. Invalid and NotFound messages are
// about the request, so they are shown; the others are not.
func (s *server) engineProblem(e *engine.Error) Problem {
	switch e.Kind {
	case engine.Invalid:
		return newProblem(fiber.StatusBadRequest, e.Error())
	case engine.NotFound:
		return newProblem(fiber.StatusNotFound, e.Error())
	case engine.Conflict:
		return newProblem(fiber.StatusConflict, "the request conflicts with concurrent changes; retry it")
	case engine.Timeout:
		return newProblem(fiber.StatusGatewayTimeout, fmt.Sprintf("the query did not finish within %s", s.cfg.QueryTimeout))
	case engine.Canceled:
		return newProblem(fiber.StatusServiceUnavailable, "the query was canceled")
	case engine.TooLarge:
		return newProblem(fiber.StatusRequestEntityTooLarge, "the query needs more memory than the server allows; narrow the filter or lower the limit")
	case engine.Unavailable:
		return newProblem(fiber.StatusServiceUnavailable, "the database is not available")
	}
	return newProblem(fiber.StatusInternalServerError, "internal error; the server log has the details under this traceId")
}

func newProblem(status int, detail string) Problem {
	return Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// badRequest turns query errors into a 400 whose detail summarises them and whose
// errors list each one with its position.
func badRequest(list query.ErrorList) Problem {
	p := newProblem(fiber.StatusBadRequest, "")
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		pe := ProblemError{Kind: string(e.Kind), Param: e.Param, Message: e.Message, Hint: e.Hint, Token: e.Token}
		if e.Line > 0 {
			pe.Offset, pe.Line, pe.Column = ptr(e.Offset), ptr(e.Line), ptr(e.Column)
		}
		p.Errors = append(p.Errors, pe)
		msgs = append(msgs, paramPrefix(e.Param)+e.Message)
	}
	p.Detail = strings.Join(msgs, "; ")
	return p
}

func paramPrefix(param string) string {
	if param == "" {
		return ""
	}
	return param + ": "
}

func ptr(v int) *int { return &v }
