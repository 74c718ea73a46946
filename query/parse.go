package query

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Limits on user input. They bound the work one request can cause in the parser, the
// checker, SQL generation and the database.
const (
	// MaxFilterLength is the longest accepted filter, in bytes. It leaves room for a
	// list of MaxListLength subnets (long filters arrive in POST bodies).
	MaxFilterLength = 128 << 10
	// MaxDepth is the deepest nesting of parentheses and NOTs in a filter.
	MaxDepth = 64
	// MaxListLength is the most values in one IN (...) or ANY (...) list.
	MaxListLength = 10000
	// MaxPatternLength is the longest regular expression or LIKE pattern, in bytes.
	MaxPatternLength = 4 << 10
)

// Parse parses a filter into its AST. An empty or blank filter gives a nil Expr and no
// error. Errors are an ErrorList with Param "filter".
//
// The parser is the hand-written one of rdparse.go; parseParticiple, the participle
// grammar of grammar.go, is the language's specification and the tests' oracle.
func Parse(filter string) (Expr, error) {
	if blank, err := precheck(filter); blank || err != nil {
		return nil, err
	}
	e, errs := rdParse(filter)
	if errs != nil {
		return nil, errs
	}
	return e, nil
}

// parseParticiple is Parse with the participle grammar (grammar.go) and the conversion of
// its parse tree (converter). Tests use it as the oracle for the hand-written parser.
func parseParticiple(filter string) (Expr, error) {
	if blank, err := precheck(filter); blank || err != nil {
		return nil, err
	}
	tree, err := filterParser().ParseString("", filter)
	if err != nil {
		return nil, ErrorList{syntaxError(filter, err)}
	}
	c := converter{src: filter}
	e := c.or(tree, 0)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return e, nil
}

// precheck applies the checks that come before parsing: the length limit and UTF-8. It
// reports blank filters, which parse to nothing.
func precheck(filter string) (blank bool, err error) {
	if len(filter) > MaxFilterLength {
		return false, ErrorList{{Kind: LimitError, Param: ParamFilter, Message: fmt.Sprintf(
			"filter is %d bytes long; the limit is %d", len(filter), MaxFilterLength), Source: filter}}
	}
	if !utf8.ValidString(filter) {
		off := invalidUTF8Offset(filter)
		return false, ErrorList{errAt(SyntaxError, ParamFilter, filter, off, off+1, "filter is not valid UTF-8", "")}
	}
	return strings.TrimSpace(filter) == "", nil
}

func invalidUTF8Offset(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		}
	}
	return 0
}

// syntaxError turns a participle error into a positioned Error with our own wording
// (participle's "expected" lists name grammar internals).
func syntaxError(src string, err error) *Error {
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		tok := ute.Unexpected
		off := tok.Pos.Offset
		switch {
		case tok.EOF():
			return errAt(SyntaxError, ParamFilter, src, len(src), len(src), "unexpected end of filter", expectHint(src, off))
		case tok.Type == tokUnterminated:
			return errAt(SyntaxError, ParamFilter, src, off, off+1, "unterminated string literal",
				"close the string with ' (write '' for a quote inside it)")
		}
		if e := unsupportedSyntax(src, off); e != nil {
			return e
		}
		return errAt(SyntaxError, ParamFilter, src, off, off+len(tok.Value),
			"unexpected "+describeToken(tok.Type, tok.Value), expectHint(src, off))
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		off := perr.Position().Offset
		if e := unsupportedSyntax(src, off); e != nil {
			return e
		}
		return unexpectedCharacter(src, off)
	}
	return &Error{Kind: SyntaxError, Param: ParamFilter, Message: err.Error(), Source: src}
}

// unsupportedSyntax names SQL that users try and the filter language leaves out.
func unsupportedSyntax(src string, off int) *Error {
	rest := src[off:]
	for _, u := range []struct{ prefix, msg, hint string }{
		{"--", "comments are not supported", ""},
		{"/*", "comments are not supported", ""},
		{"::", "casts (::) are not supported", "write INET '...' or TIMESTAMP '...', or a plain string: it is read as the field's type"},
		{";", "a filter is a single condition; ; is not allowed", ""},
		{`"`, "double quotes are not used in filters", "write field names without quotes (serverName) and text in single quotes ('text')"},
	} {
		if strings.HasPrefix(rest, u.prefix) {
			return errAt(SyntaxError, ParamFilter, src, off, off+len(u.prefix), u.msg, u.hint)
		}
	}
	return nil
}

// unexpectedCharacter reports the character at off, which no lexer rule accepts.
func unexpectedCharacter(src string, off int) *Error {
	off = min(off, len(src))
	_, n := utf8.DecodeRuneInString(src[off:])
	return errAt(SyntaxError, ParamFilter, src, off, off+n, fmt.Sprintf("unexpected character %q", src[off:off+n]), "")
}

// describeToken names a token of type typ and text value in an error message.
func describeToken(typ lexer.TokenType, value string) string {
	switch typ {
	case tokKeyword:
		return "keyword " + strings.ToUpper(value)
	case tokIdent:
		return fmt.Sprintf("name %q", value)
	case tokString:
		return "string " + value
	case tokNumber:
		return "number " + value
	}
	return fmt.Sprintf("%q", value)
}

// expectHint says what may come at off, judged from the token before it. It is a
// hint only: the grammar position is not available from participle's error (the
// hand-written parser knows it and gives precise hints).
func expectHint(src string, off int) string {
	prev, prev2 := lastTokens(src[:off])
	switch {
	case prev == "":
		return "a filter starts with a field name, NOT or ("
	case operatorBySymbol[prev] != 0 || prev == "=" || prev == "," || prev == "[" ||
		isKeyword(prev, "LIKE", "ILIKE", "BETWEEN", "ARRAY") ||
		prev == "(" && isKeyword(prev2, "IN", "ANY"):
		return "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"
	case isKeyword(prev, "IS"):
		return "expected NULL or NOT NULL after IS"
	case isKeyword(prev, "AND", "OR", "NOT") || prev == "(":
		return "expected a field name, NOT or ("
	case isIdent(prev) && !isKeyword(prev, "NULL", "TRUE", "FALSE"):
		return "expected an operator after the field name: = <> < <= > >= ~ ~* !~ !~* << <<= >> >>= && [NOT] LIKE, ILIKE, IN, BETWEEN, IS [NOT] NULL"
	}
	return "expected AND, OR or ) between predicates"
}

// lastTokens returns the last two tokens of s, lexed with the filter lexer.
func lastTokens(s string) (last, before string) {
	lx, err := filterLexer.LexString("", s)
	if err != nil {
		return "", ""
	}
	for {
		t, err := lx.Next()
		if err != nil || t.EOF() {
			return last, before
		}
		if strings.TrimSpace(t.Value) != "" {
			last, before = t.Value, last
		}
	}
}

func isKeyword(s string, kws ...string) bool {
	for _, k := range kws {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// converter builds the AST from the parse tree and checks the limits it can see.
type converter struct {
	src  string
	errs ErrorList
}

func (c *converter) fail(pos, end int, kind ErrorKind, msg, hint string) {
	c.errs = append(c.errs, errAt(kind, ParamFilter, c.src, pos, end, msg, hint))
}

// span returns the byte range of a parse-tree node. participle's EndPos is the position
// of the next token, so the whitespace before it is trimmed off.
func (c *converter) span(pos, end lexer.Position) Span {
	e := end.Offset
	for e > pos.Offset && isSpace(c.src[e-1]) {
		e--
	}
	return Span{pos.Offset, e}
}

func (c *converter) or(g *gOr, depth int) Expr {
	if len(g.Terms) == 1 {
		return c.and(g.Terms[0], depth)
	}
	e := &LogicalExpr{Span: c.span(g.Pos, g.EndPos), Op: OpOr, Terms: make([]Expr, len(g.Terms))}
	for i, t := range g.Terms {
		e.Terms[i] = c.and(t, depth)
	}
	e.End = e.Terms[len(e.Terms)-1].Range().End
	return e
}

func (c *converter) and(g *gAnd, depth int) Expr {
	if len(g.Terms) == 1 {
		return c.not(g.Terms[0], depth)
	}
	e := &LogicalExpr{Span: c.span(g.Pos, g.EndPos), Op: OpAnd, Terms: make([]Expr, len(g.Terms))}
	for i, t := range g.Terms {
		e.Terms[i] = c.not(t, depth)
	}
	e.End = e.Terms[len(e.Terms)-1].Range().End
	return e
}

// not converts NOT chains, parentheses and predicates; depth counts enclosing
// parentheses and NOTs.
func (c *converter) not(g *gNot, depth int) Expr {
	if g.Pred != nil {
		return c.pred(g.Pred)
	}
	width := 3 // NOT
	if g.Paren != nil {
		width = 1 // (
	}
	if depth+1 > MaxDepth {
		c.fail(g.Pos.Offset, g.Pos.Offset+width, LimitError, fmt.Sprintf("filter nests deeper than %d levels", MaxDepth), "")
		return nil
	}
	if g.Paren != nil {
		x := c.or(g.Paren, depth+1)
		if x == nil {
			return nil
		}
		return &ParenExpr{Span: c.span(g.Pos, g.EndPos), X: x}
	}
	x := c.not(g.Not, depth+1)
	if x == nil {
		return nil
	}
	return &NotExpr{Span: Span{g.Pos.Offset, x.Range().End}, X: x}
}

func (c *converter) pred(g *gPred) Expr {
	id := Ident{Span: Span{g.Pos.Offset, g.Pos.Offset + len(g.Field)}, Name: g.Field}
	sp := c.span(g.Pos, g.EndPos)
	switch {
	case g.Is != nil:
		return &IsNullExpr{Span: sp, Field: id, Not: g.Is.Not}
	case g.Cmp != nil:
		op := operatorBySymbol[g.Cmp.Op]
		opSpan := Span{g.Cmp.Pos.Offset, g.Cmp.Pos.Offset + len(g.Cmp.Op)}
		if g.Cmp.Any != nil {
			vals := g.Cmp.Any.Values
			if vals == nil {
				vals = g.Cmp.Any.Array
			}
			return &AnyExpr{Span: sp, Field: id, Op: op, OpSpan: opSpan, Values: c.list(vals)}
		}
		return &CompareExpr{Span: sp, Field: id, Op: op, OpSpan: opSpan, Value: c.value(g.Cmp.Value)}
	case g.Neg != nil:
		return c.negatable(sp, id, g.Neg)
	}
	return &BoolFieldExpr{Span: sp, Field: id}
}

func (c *converter) negatable(sp Span, id Ident, g *gNegated) Expr {
	switch {
	case g.Between != nil:
		return &BetweenExpr{Span: sp, Field: id, Not: g.Not, Lo: c.value(g.Between.Lo), Hi: c.value(g.Between.Hi)}
	case g.In != nil:
		return &InExpr{Span: sp, Field: id, Not: g.Not, Values: c.list(g.In)}
	}
	op := OpLike
	if strings.EqualFold(g.Like.Op, "ILIKE") {
		op = OpILike
	}
	if g.Not {
		op++ // OpNotLike follows OpLike, OpNotILike follows OpILike
	}
	opSpan := Span{g.Pos.Offset, g.Like.Pos.Offset + len(g.Like.Op)}
	return &CompareExpr{Span: sp, Field: id, Op: op, OpSpan: opSpan, Value: c.value(g.Like.Pattern)}
}

func (c *converter) list(gs []*gValue) []*Literal {
	if len(gs) > MaxListLength {
		c.fail(gs[MaxListLength].Pos.Offset, gs[MaxListLength].EndPos.Offset, LimitError,
			fmt.Sprintf("list has %d values; the limit is %d", len(gs), MaxListLength), "")
	}
	out := make([]*Literal, len(gs))
	for i, g := range gs {
		out[i] = c.value(g)
	}
	return out
}

func (c *converter) value(g *gValue) *Literal {
	l := &Literal{Span: c.span(g.Pos, g.EndPos)}
	switch {
	case g.Number != nil:
		l.Kind, l.Text = NumberLit, *g.Number
		if g.Minus {
			l.Text = "-" + l.Text
		}
	case g.String != nil:
		l.Kind, l.Text = StringLit, unquote(*g.String)
	case g.Bool != nil:
		l.Kind, l.Text = BoolLit, strings.ToUpper(*g.Bool)
	case g.Null:
		l.Kind, l.Text = NullLit, "NULL"
	default:
		l.Kind, l.Text = InetLit, unquote(*g.Typed)
		if strings.EqualFold(*g.Type, "TIMESTAMP") {
			l.Kind = TimestampLit
		}
	}
	return l
}

// unquote strips the quotes of a lexed string token and undoubles the quotes inside.
func unquote(tok string) string {
	return strings.ReplaceAll(tok[1:len(tok)-1], "''", "'")
}
