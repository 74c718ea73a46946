package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrorKind classifies an Error so callers can map it to a status code or a message
// category without parsing the text.
type ErrorKind string

// Error kinds.
const (
	// SyntaxError: the text does not follow the grammar (unexpected token, bad literal).
	SyntaxError ErrorKind = "syntax"
	// TypeError: the text parses but an operator or value does not fit the field's type.
	TypeError ErrorKind = "type"
	// UnknownFieldError: a name is not a field of the dataset.
	UnknownFieldError ErrorKind = "unknown_field"
	// LimitError: a size or depth limit was exceeded.
	LimitError ErrorKind = "limit"
	// ValueError: a request value (limit, offset, dataset, time frame) is invalid.
	ValueError ErrorKind = "value"
)

// Request parameters that errors refer to (the Param field).
const (
	ParamFilter    = "filter"
	ParamColumns   = "columns"
	ParamSorts     = "sorts"
	ParamLimit     = "limit"
	ParamOffset    = "offset"
	ParamDataset   = "dataset"
	ParamTimeFrame = "timeFrame"
)

// Error is one positioned problem in a request. Offset is a byte offset into Source;
// Line and Column are 1-based (Column counts Unicode code points) and zero when the
// error has no position. Token is the offending text, if any.
type Error struct {
	Kind    ErrorKind `json:"kind"`
	Param   string    `json:"param"`
	Offset  int       `json:"offset"`
	Line    int       `json:"line"`
	Column  int       `json:"column"`
	Token   string    `json:"token"`
	Message string    `json:"message"`
	Hint    string    `json:"hint,omitempty"`
	// Source is the text the position refers to (the filter, or one columns/sorts
	// entry); kept for Pretty and not serialized.
	Source string `json:"-"`
}

// Error renders "param:line:col: message" (the position is left out when there is none).
func (e *Error) Error() string {
	var b strings.Builder
	if e.Param != "" {
		b.WriteString(e.Param)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Pretty renders the error for a terminal: "line:col: message", the source line, a caret
// line under the offending token, and the hint.
func (e *Error) Pretty() string {
	var b strings.Builder
	b.WriteString(e.Error())
	b.WriteString("\n")
	if e.Line > 0 && e.Source != "" {
		line := sourceLine(e.Source, e.Offset)
		b.WriteString("  ")
		b.WriteString(line)
		b.WriteString("\n  ")
		b.WriteString(strings.Repeat(" ", e.Column-1))
		b.WriteString(strings.Repeat("^", max(1, utf8.RuneCountInString(firstLine(e.Token)))))
		b.WriteString("\n")
	}
	if e.Hint != "" {
		b.WriteString("  hint: ")
		b.WriteString(e.Hint)
		b.WriteString("\n")
	}
	return b.String()
}

// sourceLine returns the line of src that contains byte offset off.
func sourceLine(src string, off int) string {
	off = min(max(off, 0), len(src))
	start := strings.LastIndexByte(src[:off], '\n') + 1
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		return src[start:]
	}
	return src[start : off+end]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ErrorList collects the errors of one request, in source order per parameter.
// It is the error type returned by Parse, Compile and CompileCount.
type ErrorList []*Error

// Error joins the errors' messages, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Pretty renders every error with Error.Pretty.
func (l ErrorList) Pretty() string {
	var b strings.Builder
	for _, e := range l {
		b.WriteString(e.Pretty())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// errAt builds an Error for the byte span [pos, end) of src.
func errAt(kind ErrorKind, param, src string, pos, end int, msg, hint string) *Error {
	pos = min(max(pos, 0), len(src))
	end = min(max(end, pos), len(src))
	line, col := lineCol(src, pos)
	return &Error{Kind: kind, Param: param, Offset: pos, Line: line, Column: col,
		Token: src[pos:end], Message: msg, Hint: hint, Source: src}
}

// lineCol converts a byte offset into a 1-based line and a 1-based column in code points.
func lineCol(src string, off int) (line, col int) {
	line = 1 + strings.Count(src[:off], "\n")
	start := strings.LastIndexByte(src[:off], '\n') + 1
	return line, 1 + utf8.RuneCountInString(src[start:off])
}

// didYouMean formats SuggestFields' answer as a hint, or "" when there is none.
func didYouMean(ds Dataset, name string) string {
	s := SuggestFields(ds, name)
	if len(s) == 0 {
		return ""
	}
	return "did you mean " + strings.Join(s, ", ") + "?"
}
