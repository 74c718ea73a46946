package query

import (
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// referenceLexer states the token rules as regular expressions; the hand-written
// filterLexer must produce exactly its tokens.
var referenceLexer = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Whitespace", Pattern: `[ \t\n\f\r]+`},
	{Name: "String", Pattern: `'(?:[^']|'')*'`},
	{Name: "Unterminated", Pattern: `'(?:[^']|'')*`},
	{Name: "Op", Pattern: `<<=|>>=|!~\*|<<|>>|&&|<=|>=|<>|!=|!~|~\*|~|=|<|>`},
	{Name: "Punct", Pattern: `[(),\[\]-]`},
	{Name: "Number", Pattern: `(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`},
	{Name: "Keyword", Pattern: `(?i)\b(?:AND|OR|NOT|BETWEEN|IN|IS|NULL|LIKE|ILIKE|TRUE|FALSE|INET|TIMESTAMP|ANY|ARRAY)\b`},
	{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_]*`},
})

type lexed struct {
	typ    string
	value  string
	offset int
}

func lexAll(def lexer.Definition, s string) ([]lexed, int) {
	names := lexer.SymbolsByRune(def)
	lx, err := def.(lexer.StringDefinition).LexString("", s)
	if err != nil {
		return nil, -1
	}
	var out []lexed
	for {
		t, err := lx.Next()
		if err != nil {
			var le *lexer.Error
			if e, ok := err.(*lexer.Error); ok {
				le = e
			}
			return out, le.Pos.Offset
		}
		if t.EOF() {
			return out, -1
		}
		if names[t.Type] != "Whitespace" {
			out = append(out, lexed{names[t.Type], t.Value, t.Pos.Offset})
		}
	}
}

func checkSameTokens(t *testing.T, s string) {
	got, gotErr := lexAll(filterLexer, s)
	want, wantErr := lexAll(referenceLexer, s)
	want = mergeUnterminated(want)
	if len(got) != len(want) || gotErr != wantErr {
		t.Fatalf("%q: hand lexer %v (error at %d), reference %v (error at %d)", s, got, gotErr, want, wantErr)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%q: token %d: hand %v, reference %v", s, i, got[i], want[i])
		}
	}
}

func TestLexerMatchesReference(t *testing.T) {
	for _, s := range []string{
		"a=1", "x <<= INET '10.0.0.0/8' and y !~* 'a''b' OR z>>=w", "1e 1e5 1e+5x .5 5. 1.2.3 10abc",
		"ANDx AND_ and AND1 not NOTé", "'unterminated", "''", "'a''", "a & b", "a ! b", "\f\r\n\t x",
		"ñ", "a = -1", "[ARRAY]", "a~~b", "a<<<b", "a>>>=b", "!=~", "$", "\"x\"",
	} {
		checkSameTokens(t, s)
	}
}

// mergeUnterminated applies the one rule the regular expressions cannot state: as in
// PostgreSQL, two quotes inside a string are always one quote, so the input
// quote-a-quote-quote is one unterminated string,
// where the regular expressions backtrack to the string 'a' and an unterminated '.
func mergeUnterminated(toks []lexed) []lexed {
	for i := 0; i+1 < len(toks); i++ {
		if toks[i].typ == "String" && toks[i+1].typ == "Unterminated" && toks[i].offset+len(toks[i].value) == toks[i+1].offset {
			toks[i] = lexed{"Unterminated", toks[i].value + toks[i+1].value, toks[i].offset}
			return append(toks[:i+1], toks[i+2:]...)
		}
	}
	return toks
}

func FuzzLexer(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) { checkSameTokens(t, s) })
}
