package query

import (
	"io"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// filterLexer is a hand-written lexer for participle, about ten times faster than the
// equivalent regular-expression lexer (lexer_test.go checks that both produce the
// same tokens). The rules, tried in this order at each position:
//
//	Whitespace    [ \t\n\f\r]+           (skipped, never returned)
//	String        '(?:[^']|'')*'
//	Unterminated  '(?:[^']|'')*          (a string missing its closing quote; as in
//	                                      PostgreSQL, '' is always a quote, so 'a'' is unterminated)
//	Op            <<= >>= << >> && <= >= <> != !~* !~ ~* ~ = < >
//	Punct         ( ) , [ ] -
//	Number        (?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
//	Keyword       a whole word among AND OR NOT BETWEEN IN IS NULL LIKE ILIKE TRUE FALSE
//	              INET TIMESTAMP ANY ARRAY, in any case
//	Ident         [A-Za-z_][A-Za-z0-9_]*
var filterLexer = &handLexer{symbols: lexerSymbols}

// Token types; participle needs them negative, with EOF = -1.
const (
	tokWhitespace lexer.TokenType = -2 - iota
	tokString
	tokUnterminated
	tokOp
	tokPunct
	tokNumber
	tokKeyword
	tokIdent
)

var lexerSymbols = map[string]lexer.TokenType{
	"EOF": lexer.EOF, "Whitespace": tokWhitespace, "String": tokString, "Unterminated": tokUnterminated,
	"Op": tokOp, "Punct": tokPunct, "Number": tokNumber, "Keyword": tokKeyword, "Ident": tokIdent,
}

var keywords = []string{"AND", "OR", "NOT", "BETWEEN", "IN", "IS", "NULL", "LIKE", "ILIKE", "TRUE", "FALSE", "INET", "TIMESTAMP", "ANY", "ARRAY"}

// operators, longest first so that a prefix never wins over a longer operator.
var operators = []string{"<<=", ">>=", "!~*", "<<", ">>", "&&", "<=", ">=", "<>", "!=", "!~", "~*", "~", "=", "<", ">"}

// handLexer holds its symbol table so that package initialization orders it first.
type handLexer struct{ symbols map[string]lexer.TokenType }

// Symbols names the token types for participle.
func (l *handLexer) Symbols() map[string]lexer.TokenType { return l.symbols }

// Lex reads all of r and lexes it.
func (l *handLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return l.LexString(filename, string(b))
}

// LexString lexes s without copying it (participle uses this path).
func (*handLexer) LexString(filename, s string) (lexer.Lexer, error) {
	return &scanner{src: s, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

type scanner struct {
	src string
	pos lexer.Position
}

// Next returns the next token, or a *lexer.Error for a character no rule accepts.
func (s *scanner) Next() (lexer.Token, error) {
	rest := s.src[s.pos.Offset:]
	// Whitespace separates tokens but is not one: participle then has half the tokens
	// to handle. Node ends are recovered by trimming trailing whitespace (converter.span).
	if rest != "" && isSpace(rest[0]) {
		_, n := scanToken(rest)
		s.advance(rest[:n])
		rest = rest[n:]
	}
	if rest == "" {
		return lexer.Token{Type: lexer.EOF, Pos: s.pos}, nil
	}
	typ, n := scanToken(rest)
	if n == 0 {
		return lexer.Token{}, &lexer.Error{Msg: "invalid input text", Pos: s.pos}
	}
	tok := lexer.Token{Type: typ, Value: rest[:n], Pos: s.pos}
	s.advance(rest[:n])
	return tok, nil
}

func (s *scanner) advance(text string) {
	s.pos.Offset += len(text)
	if nl := strings.Count(text, "\n"); nl > 0 {
		s.pos.Line += nl
		s.pos.Column = len(text) - strings.LastIndexByte(text, '\n')
	} else {
		s.pos.Column += len(text)
	}
}

// scanToken returns the type and byte length of the token at the start of s (0: none).
func scanToken(s string) (lexer.TokenType, int) {
	c := s[0]
	switch {
	case isSpace(c):
		n := 1
		for n < len(s) && isSpace(s[n]) {
			n++
		}
		return tokWhitespace, n
	case c == '\'':
		return scanString(s)
	case strings.IndexByte("<>&!~=", c) >= 0:
		for _, op := range operators {
			if strings.HasPrefix(s, op) {
				return tokOp, len(op)
			}
		}
		return 0, 0 // a lone & or !
	case strings.IndexByte("(),[]-", c) >= 0:
		return tokPunct, 1
	case isDigit(c) || c == '.' && len(s) > 1 && isDigit(s[1]):
		return tokNumber, scanNumber(s)
	case isIdentStart(c):
		n := 1
		for n < len(s) && (isIdentStart(s[n]) || isDigit(s[n])) {
			n++
		}
		for _, k := range keywords {
			if strings.EqualFold(s[:n], k) {
				return tokKeyword, n
			}
		}
		return tokIdent, n
	}
	return 0, 0
}

func scanString(s string) (lexer.TokenType, int) {
	for i := 1; i < len(s); i++ {
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return tokString, i + 1
		}
	}
	return tokUnterminated, len(s)
}

func scanNumber(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && isDigit(s[n]) {
			n++
		}
	}
	// An exponent counts only when digits follow: "1e" is the number 1 and the name e.
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && isDigit(s[m]) {
			for m < len(s) && isDigit(s[m]) {
				m++
			}
			n = m
		}
	}
	return n
}

func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
