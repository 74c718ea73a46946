package query

import (
	"fmt"

	"github.com/alecthomas/participle/v2/lexer"
)

// rdparse.go is the parser behind Parse: a hand-written recursive-descent parser over the
// tokens of the hand-written lexer (scanToken in lexer.go), building the AST of ast.go
// directly. The participle grammar in grammar.go is the language's specification; this
// parser implements exactly that grammar (FuzzParsersAgree checks that both accept the
// same filters and build equal ASTs), about ten times faster, and knows at each error
// what the grammar allows there. In the grammar's terms:
//
//	Or       = And { OR And }
//	And      = Not { AND Not }
//	Not      = NOT Not | "(" Or ")" | Pred
//	Pred     = Ident [ Op ( ANY Any | Value ) | IS [NOT] NULL | [NOT] Negated ]
//	Negated  = BETWEEN Value AND Value | IN "(" Values ")" | (LIKE | ILIKE) Value
//	Any      = "(" ( ARRAY "[" Values "]" | Values ) ")"
//	Values   = Value { "," Value }
//	Value    = String | ["-"] Number | TRUE | FALSE | NULL | (INET | TIMESTAMP) String

// tokInvalid marks a character that no lexer rule accepts.
const tokInvalid = tokIdent - 1

// Keyword numbers: indexes into keywords (lexer.go); TestKeywordNumbers checks them.
const (
	kwAND = iota
	kwOR
	kwNOT
	kwBETWEEN
	kwIN
	kwIS
	kwNULL
	kwLIKE
	kwILIKE
	kwTRUE
	kwFALSE
	kwINET
	kwTIMESTAMP
	kwANY
	kwARRAY
	kwNone = -1
)

// rdToken is a token as the byte range [pos, end) of the source.
type rdToken struct {
	typ      lexer.TokenType
	kw       int // keyword number for tokKeyword, else kwNone
	pos, end int
}

// Hints for syntax errors, by grammar position.
const (
	hintValue = "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"
	hintTerm  = "expected a field name, NOT or ("
	hintEnd   = "expected AND, OR or the end of the filter"
	// hintValueOrAny is completed with the operator.
	hintValueOrAny = "expected a value ('text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...') or ANY (...) after "
	hintAnyValue   = "expected ARRAY [...] or a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"
)

// litBlockSize is how many Literals the parser allocates at a time.
const litBlockSize = 16

// rdBailout is the panic value that unwinds the parser after a syntax or depth error.
type rdBailout struct{}

type rdParser struct {
	src      string
	tok      rdToken // the lookahead token
	prevEnd  int     // end of the last consumed token
	errs     ErrorList
	exprs    []Expr     // stack of LogicalExpr terms being collected
	lits     []*Literal // list values being collected (lists do not nest)
	litBlock []Literal  // unused Literals of the last block allocated
	exprBuf  [32]Expr
	litBuf   [16]*Literal
}

// rdParse parses a non-blank filter of valid UTF-8 within MaxFilterLength.
func rdParse(src string) (e Expr, errs ErrorList) {
	p := rdParser{src: src}
	p.exprs, p.lits = p.exprBuf[:0], p.litBuf[:0]
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(rdBailout); !ok {
				panic(r)
			}
			e, errs = nil, p.errs
		}
	}()
	p.next()
	e = p.or(0)
	if p.tok.typ != lexer.EOF {
		p.syntax(hintEnd)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return e, nil
}

// next moves to the next token.
func (p *rdParser) next() {
	p.prevEnd = p.tok.end
	i := p.tok.end
	for i < len(p.src) && isSpace(p.src[i]) {
		i++
	}
	if i == len(p.src) {
		p.tok = rdToken{typ: lexer.EOF, kw: kwNone, pos: i, end: i}
		return
	}
	if isIdentStart(p.src[i]) {
		// A word: scanToken's rule, with keywords found by keywordNumber.
		n := i + 1
		for n < len(p.src) && (isIdentStart(p.src[n]) || isDigit(p.src[n])) {
			n++
		}
		if kw := keywordNumber(p.src[i:n]); kw != kwNone {
			p.tok = rdToken{typ: tokKeyword, kw: kw, pos: i, end: n}
		} else {
			p.tok = rdToken{typ: tokIdent, kw: kwNone, pos: i, end: n}
		}
		return
	}
	typ, n := scanToken(p.src[i:])
	if n == 0 {
		p.tok = rdToken{typ: tokInvalid, kw: kwNone, pos: i, end: i}
		return
	}
	p.tok = rdToken{typ: typ, kw: kwNone, pos: i, end: i + n}
}

// keywordNumber returns the number of the keyword w (in any case), or kwNone. It is
// scanToken's keyword test without a loop over keywords.
func keywordNumber(w string) int {
	var buf [len("TIMESTAMP")]byte
	if len(w) > len(buf) {
		return kwNone
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(w)]) {
	case "AND":
		return kwAND
	case "OR":
		return kwOR
	case "NOT":
		return kwNOT
	case "BETWEEN":
		return kwBETWEEN
	case "IN":
		return kwIN
	case "IS":
		return kwIS
	case "NULL":
		return kwNULL
	case "LIKE":
		return kwLIKE
	case "ILIKE":
		return kwILIKE
	case "TRUE":
		return kwTRUE
	case "FALSE":
		return kwFALSE
	case "INET":
		return kwINET
	case "TIMESTAMP":
		return kwTIMESTAMP
	case "ANY":
		return kwANY
	case "ARRAY":
		return kwARRAY
	}
	return kwNone
}

func (p *rdParser) text() string { return p.src[p.tok.pos:p.tok.end] }

func (p *rdParser) isKw(kw int) bool { return p.tok.kw == kw }

func (p *rdParser) isPunct(c byte) bool { return p.tok.typ == tokPunct && p.src[p.tok.pos] == c }

// expectPunct consumes the punctuation c or fails with hint.
func (p *rdParser) expectPunct(c byte, hint string) {
	if !p.isPunct(c) {
		p.syntax(hint)
	}
	p.next()
}

// syntax reports the lookahead token as unexpected, with hint saying what the grammar
// allows at this point, and unwinds the parser. Syntax errors replace the limit errors
// found so far: as with participle, a filter must parse before its limits are judged.
func (p *rdParser) syntax(hint string) {
	p.errs = ErrorList{p.syntaxError(hint)}
	panic(rdBailout{})
}

func (p *rdParser) syntaxError(hint string) *Error {
	src, t := p.src, p.tok
	switch t.typ {
	case lexer.EOF:
		return errAt(SyntaxError, ParamFilter, src, len(src), len(src), "unexpected end of filter", hint)
	case tokUnterminated:
		return errAt(SyntaxError, ParamFilter, src, t.pos, t.pos+1, "unterminated string literal",
			"close the string with ' (write '' for a quote inside it)")
	}
	if e := unsupportedSyntax(src, t.pos); e != nil {
		return e
	}
	if t.typ == tokInvalid {
		return unexpectedCharacter(src, t.pos)
	}
	return errAt(SyntaxError, ParamFilter, src, t.pos, t.end,
		"unexpected "+describeToken(t.typ, src[t.pos:t.end]), hint)
}

// tooDeep reports a NOT or ( beyond MaxDepth and unwinds the parser, keeping the limit
// errors found before it (the order in which the participle converter reports them).
func (p *rdParser) tooDeep() {
	p.errs = append(p.errs, errAt(LimitError, ParamFilter, p.src, p.tok.pos, p.tok.end,
		fmt.Sprintf("filter nests deeper than %d levels", MaxDepth), ""))
	panic(rdBailout{})
}

// or parses Or; depth counts the enclosing parentheses and NOTs.
func (p *rdParser) or(depth int) Expr {
	first := p.and(depth)
	if !p.isKw(kwOR) {
		return first
	}
	return p.chain(OpOr, first, depth)
}

func (p *rdParser) and(depth int) Expr {
	first := p.not(depth)
	if !p.isKw(kwAND) {
		return first
	}
	return p.chain(OpAnd, first, depth)
}

// chain collects first and the terms after each AND (op OpAnd) or OR (op OpOr).
func (p *rdParser) chain(op LogicalOp, first Expr, depth int) Expr {
	kw := kwAND
	if op == OpOr {
		kw = kwOR
	}
	base := len(p.exprs)
	p.exprs = append(p.exprs, first)
	for p.isKw(kw) {
		p.next()
		var t Expr
		if op == OpOr {
			t = p.and(depth)
		} else {
			t = p.not(depth)
		}
		p.exprs = append(p.exprs, t)
	}
	terms := make([]Expr, len(p.exprs)-base)
	copy(terms, p.exprs[base:])
	clear(p.exprs[base:])
	p.exprs = p.exprs[:base]
	return &LogicalExpr{Span: Span{first.Range().Pos, terms[len(terms)-1].Range().End}, Op: op, Terms: terms}
}

func (p *rdParser) not(depth int) Expr {
	switch {
	case p.isKw(kwNOT):
		if depth+1 > MaxDepth {
			p.tooDeep()
		}
		pos := p.tok.pos
		p.next()
		x := p.not(depth + 1)
		return &NotExpr{Span: Span{pos, x.Range().End}, X: x}
	case p.isPunct('('):
		if depth+1 > MaxDepth {
			p.tooDeep()
		}
		open := p.tok.pos
		p.next()
		x := p.or(depth + 1)
		if !p.isPunct(')') {
			hint := "expected AND, OR or )"
			if p.tok.typ == lexer.EOF {
				line, col := lineCol(p.src, open)
				hint = fmt.Sprintf("expected AND, OR or ) to close the ( at line %d, column %d", line, col)
			}
			p.syntax(hint)
		}
		end := p.tok.end
		p.next()
		return &ParenExpr{Span: Span{open, end}, X: x}
	case p.tok.typ == tokIdent:
		return p.pred()
	}
	p.syntax(hintTerm)
	return nil
}

func (p *rdParser) pred() Expr {
	id := Ident{Span: Span{p.tok.pos, p.tok.end}, Name: p.text()}
	p.next()
	switch {
	case p.tok.typ == tokOp:
		sym := p.text()
		op, opSpan := operatorBySymbol[sym], Span{p.tok.pos, p.tok.end}
		p.next()
		if p.isKw(kwANY) {
			p.next()
			vals := p.anyList()
			return &AnyExpr{Span: Span{id.Pos, p.prevEnd}, Field: id, Op: op, OpSpan: opSpan, Values: vals}
		}
		v := p.value(hintValueOrAny, sym)
		return &CompareExpr{Span: Span{id.Pos, v.End}, Field: id, Op: op, OpSpan: opSpan, Value: v}
	case p.isKw(kwIS):
		p.next()
		not := p.isKw(kwNOT)
		if not {
			p.next()
			if !p.isKw(kwNULL) {
				p.syntax("expected NULL after IS NOT")
			}
		} else if !p.isKw(kwNULL) {
			p.syntax("expected NULL or NOT NULL after IS")
		}
		end := p.tok.end
		p.next()
		return &IsNullExpr{Span: Span{id.Pos, end}, Field: id, Not: not}
	case p.isKw(kwNOT), p.isKw(kwBETWEEN), p.isKw(kwIN), p.isKw(kwLIKE), p.isKw(kwILIKE):
		return p.negatable(id)
	case p.isKw(kwAND), p.isKw(kwOR), p.isPunct(')'), p.tok.typ == lexer.EOF:
		return &BoolFieldExpr{Span: id.Span, Field: id}
	}
	p.syntax(fmt.Sprintf("expected a comparison operator, IS, BETWEEN, IN, LIKE or ILIKE after field %q", id.Name))
	return nil
}

// negatable parses [NOT] BETWEEN, IN, LIKE and ILIKE.
func (p *rdParser) negatable(id Ident) Expr {
	opPos := p.tok.pos
	not := p.isKw(kwNOT)
	if not {
		p.next()
	}
	switch {
	case p.isKw(kwBETWEEN):
		p.next()
		lo := p.value(hintValue, "")
		if !p.isKw(kwAND) {
			p.syntax("expected AND between the bounds of BETWEEN")
		}
		p.next()
		hi := p.value(hintValue, "")
		return &BetweenExpr{Span: Span{id.Pos, hi.End}, Field: id, Not: not, Lo: lo, Hi: hi}
	case p.isKw(kwIN):
		p.next()
		p.expectPunct('(', "expected ( after IN, as in IN (1, 2)")
		vals := p.values(')', "IN")
		end := p.tok.end
		p.next()
		return &InExpr{Span: Span{id.Pos, end}, Field: id, Not: not, Values: vals}
	case p.isKw(kwLIKE), p.isKw(kwILIKE):
		op := OpLike
		if p.isKw(kwILIKE) {
			op = OpILike
		}
		if not {
			op++ // OpNotLike follows OpLike, OpNotILike follows OpILike
		}
		opSpan := Span{opPos, p.tok.end}
		p.next()
		v := p.value(hintValue, "")
		return &CompareExpr{Span: Span{id.Pos, v.End}, Field: id, Op: op, OpSpan: opSpan, Value: v}
	}
	p.syntax("expected BETWEEN, IN, LIKE or ILIKE after NOT")
	return nil
}

// anyList parses the parenthesized list after ANY, through its ).
func (p *rdParser) anyList() []*Literal {
	p.expectPunct('(', "expected ( after ANY, as in ANY ('a', 'b')")
	if p.isKw(kwARRAY) {
		p.next()
		p.expectPunct('[', "expected [ after ARRAY")
		vals := p.values(']', "ARRAY")
		p.next()
		p.expectPunct(')', "expected ) to close ANY (")
		return vals
	}
	vals := p.values(')', "ANY")
	p.next()
	return vals
}

// values parses Value { "," Value } up to the closing punctuation close, which it leaves
// as the lookahead token; what names the list in hints.
func (p *rdParser) values(close byte, what string) []*Literal {
	for {
		hint := hintValue
		if what == "ANY" && len(p.lits) == 0 {
			hint = hintAnyValue
		}
		p.lits = append(p.lits, p.value(hint, ""))
		if p.isPunct(',') {
			p.next()
			continue
		}
		if p.isPunct(close) {
			break
		}
		p.syntax(fmt.Sprintf("expected , or %c in the %s list", close, what))
	}
	vals := make([]*Literal, len(p.lits))
	copy(vals, p.lits)
	clear(p.lits)
	p.lits = p.lits[:0]
	if len(vals) > MaxListLength {
		v := vals[MaxListLength]
		p.errs = append(p.errs, errAt(LimitError, ParamFilter, p.src, v.Pos, v.End,
			fmt.Sprintf("list has %d values; the limit is %d", len(vals), MaxListLength), ""))
	}
	return vals
}

// value parses Value, or fails with hint followed by after.
func (p *rdParser) value(hint, after string) *Literal {
	t := p.tok
	switch t.typ {
	case tokString:
		p.next()
		return p.literal(t.pos, t.end, StringLit, unquote(p.src[t.pos:t.end]))
	case tokNumber:
		p.next()
		return p.literal(t.pos, t.end, NumberLit, p.src[t.pos:t.end])
	case tokPunct:
		if p.src[t.pos] != '-' {
			break
		}
		p.next()
		if p.tok.typ != tokNumber {
			p.syntax("expected a number after -")
		}
		n := p.tok
		p.next()
		text := p.src[t.pos:n.end] // -5
		if n.pos > t.pos+1 {
			text = "-" + p.src[n.pos:n.end] // - 5
		}
		return p.literal(t.pos, n.end, NumberLit, text)
	case tokKeyword:
		switch t.kw {
		case kwTRUE, kwFALSE:
			p.next()
			return p.literal(t.pos, t.end, BoolLit, keywords[t.kw])
		case kwNULL:
			p.next()
			return p.literal(t.pos, t.end, NullLit, "NULL")
		case kwINET, kwTIMESTAMP:
			kind, example := InetLit, "INET '10.0.0.0/8'"
			if t.kw == kwTIMESTAMP {
				kind, example = TimestampLit, "TIMESTAMP '2026-01-01'"
			}
			p.next()
			if p.tok.typ != tokString {
				p.syntax(fmt.Sprintf("expected a string after %s, as in %s", keywords[t.kw], example))
			}
			s := p.tok
			p.next()
			return p.literal(t.pos, s.end, kind, unquote(p.src[s.pos:s.end]))
		}
	}
	p.syntax(hint + after)
	return nil
}

// literal returns a new Literal. Literals are allocated in blocks: a filter has many.
func (p *rdParser) literal(pos, end int, kind LiteralKind, text string) *Literal {
	if len(p.litBlock) == 0 {
		p.litBlock = make([]Literal, litBlockSize)
	}
	l := &p.litBlock[0]
	p.litBlock = p.litBlock[1:]
	*l = Literal{Span: Span{pos, end}, Kind: kind, Text: text}
	return l
}
