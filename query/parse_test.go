package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// validFilters maps filters to their canonical text (String of the parsed AST).
var validFilters = []struct{ in, want string }{
	{"a = 1", "a = 1"},
	{"a=1", "a = 1"},
	{"a != 'x'", "a <> 'x'"},
	{"a <> 'x'", "a <> 'x'"},
	{"a < 1 and b <= 2 OR c > 3 AnD d >= 4", "a < 1 AND b <= 2 OR c > 3 AND d >= 4"},
	{"NOT a = 1", "NOT a = 1"},
	{"not not a", "NOT NOT a"},
	{"NOT (a = 1 OR b = 2)", "NOT (a = 1 OR b = 2)"},
	{"((a))", "((a))"},
	{"a = 1 AND (b = 2 OR c = 3)", "a = 1 AND (b = 2 OR c = 3)"},
	{"a BETWEEN 1 AND 2 AND b NOT BETWEEN -1.5 AND 2e3", "a BETWEEN 1 AND 2 AND b NOT BETWEEN -1.5 AND 2e3"},
	{"a in (1, 2,3) or b NOT IN ('x')", "a IN (1, 2, 3) OR b NOT IN ('x')"},
	{"a IS NULL AND b is not null", "a IS NULL AND b IS NOT NULL"},
	{"a LIKE 'x%' OR a not like '_' OR a ILIKE 'y' OR a NOT ILIKE 'z'", "a LIKE 'x%' OR a NOT LIKE '_' OR a ILIKE 'y' OR a NOT ILIKE 'z'"},
	{"a ~ 'x' AND a ~* 'y' AND a !~ 'z' AND a !~* 'w'", "a ~ 'x' AND a ~* 'y' AND a !~ 'z' AND a !~* 'w'"},
	{"ip << '10.0.0.0/8' OR ip <<= INET '10.0.0.0/8' OR ip >> inet '::1' OR ip >>= '::1' OR ip && '::/0'",
		"ip << '10.0.0.0/8' OR ip <<= INET '10.0.0.0/8' OR ip >> INET '::1' OR ip >>= '::1' OR ip && '::/0'"},
	{"ip <<= ANY (INET '10.0.0.0/8', '192.168.0.0/16')", "ip <<= ANY (INET '10.0.0.0/8', '192.168.0.0/16')"},
	{"ip <<= any (array[inet '10.0.0.0/8'])", "ip <<= ANY (INET '10.0.0.0/8')"},
	{"t > TIMESTAMP '2026-01-01' AND b = true AND c = FALSE AND d = null", "t > TIMESTAMP '2026-01-01' AND b = TRUE AND c = FALSE AND d = NULL"},
	{"s = 'it''s' AND t = '\\d+'", "s = 'it''s' AND t = '\\d+'"},
	{"s = ''", "s = ''"},
	{"s = 'line1\nline2'", "s = 'line1\nline2'"},
	{"n = - 5 AND m = .5 AND k = 5.", "n = -5 AND m = .5 AND k = 5."},
	{"notes = 1 AND oracle = 2 AND android = 3", "notes = 1 AND oracle = 2 AND android = 3"},
	{"weakCrypto", "weakCrypto"},
	{"  a\t=\n1  ", "a = 1"},
}

func TestParseCanonical(t *testing.T) {
	for _, tc := range validFilters {
		e, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := e.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		// Printing then parsing gives the same tree up to spans.
		again, err := Parse(e.String())
		if err != nil {
			t.Errorf("reparse %q: %v", e.String(), err)
			continue
		}
		if !reflect.DeepEqual(stripSpans(e), stripSpans(again)) {
			t.Errorf("round trip of %q changed the AST", tc.in)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, f := range []string{"", "   ", "\n\t"} {
		if e, err := Parse(f); e != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nil, nil", f, e, err)
		}
	}
}

func TestParseSpans(t *testing.T) {
	src := "a = 1 AND NOT (b IN ('x', 'y') OR c IS NULL)"
	e, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(e, func(n Expr) bool {
		r := n.Range()
		got = append(got, src[r.Pos:r.End])
		return true
	})
	want := []string{
		src,
		"a = 1",
		"NOT (b IN ('x', 'y') OR c IS NULL)",
		"(b IN ('x', 'y') OR c IS NULL)",
		"b IN ('x', 'y') OR c IS NULL",
		"b IN ('x', 'y')",
		"c IS NULL",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans:\n got %q\nwant %q", got, want)
	}
	in := e.(*LogicalExpr).Terms[1].(*NotExpr).X.(*ParenExpr).X.(*LogicalExpr).Terms[0].(*InExpr)
	if v := in.Values[1]; src[v.Pos:v.End] != "'y'" || src[in.Field.Pos:in.Field.End] != "b" {
		t.Errorf("literal span %q, field span %q", src[v.Pos:v.End], src[in.Field.Pos:in.Field.End])
	}
}

// invalidFilters lists syntax errors with their exact message and position.
var invalidFilters = []struct {
	in                   string
	msg                  string
	offset, line, column int
	token, hint          string
}{
	{"a =", "unexpected end of filter", 3, 1, 4, "", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a = 1 b", `unexpected name "b"`, 6, 1, 7, "b", "expected AND, OR or ) between predicates"},
	{"(a = 1", "unexpected end of filter", 6, 1, 7, "", "expected AND, OR or ) between predicates"},
	{"a = 'abc", "unterminated string literal", 4, 1, 5, "'", "close the string with ' (write '' for a quote inside it)"},
	{"a = 1 $", `unexpected character "$"`, 6, 1, 7, "$", ""},
	{"= 1", `unexpected "="`, 0, 1, 1, "=", "a filter starts with a field name, NOT or ("},
	{"a == 1", `unexpected "="`, 3, 1, 4, "=", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a = 1 AND\nb = 2 AND\n  c = = 3", `unexpected "="`, 26, 3, 7, "=", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a IN ()", `unexpected ")"`, 6, 1, 7, ")", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a AND", "unexpected end of filter", 5, 1, 6, "", "expected a field name, NOT or ("},
	{"a = 1 -- comment", "comments are not supported", 6, 1, 7, "--", ""},
	{"a = 1 /* c */", "comments are not supported", 6, 1, 7, "/*", ""},
	{"a = 1; DROP TABLE x", "a filter is a single condition; ; is not allowed", 5, 1, 6, ";", ""},
	{"a = '1'::int", "casts (::) are not supported", 7, 1, 8, "::", "write INET '...' or TIMESTAMP '...', or a plain string: it is read as the field's type"},
	{`"a" = 1`, "double quotes are not used in filters", 0, 1, 1, `"`, "write field names without quotes (serverName) and text in single quotes ('text')"},
	{"a = 1 - 2", `unexpected "-"`, 6, 1, 7, "-", "expected AND, OR or ) between predicates"},
	{"ñ = 1", `unexpected character "ñ"`, 0, 1, 1, "ñ", ""},
	{"é = 'x' OR é", `unexpected character "é"`, 0, 1, 1, "é", ""},
	{"x = 'é' OR ü", `unexpected character "ü"`, 12, 1, 12, "ü", ""},
	{"a = 1 AND AND", "unexpected keyword AND", 10, 1, 11, "AND", "expected a field name, NOT or ("},
	{"a NOT = 1", `unexpected "="`, 6, 1, 7, "=", "expected a field name, NOT or ("},
	{"a IS 1", "unexpected number 1", 5, 1, 6, "1", "expected NULL or NOT NULL after IS"},
	{"a = 'x' 'y'", "unexpected string 'y'", 8, 1, 9, "'y'", "expected AND, OR or ) between predicates"},
	{"a = 1)", `unexpected ")"`, 5, 1, 6, ")", "expected AND, OR or ) between predicates"},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range invalidFilters {
		_, err := Parse(tc.in)
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 {
			t.Errorf("Parse(%q) = %v, want one error", tc.in, err)
			continue
		}
		e := list[0]
		got := []any{e.Kind, e.Param, e.Message, e.Offset, e.Line, e.Column, e.Token, e.Hint}
		want := []any{SyntaxError, ParamFilter, tc.msg, tc.offset, tc.line, tc.column, tc.token, tc.hint}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q):\n got %q\nwant %q", tc.in, got, want)
		}
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1)
	nots := strings.Repeat("NOT ", MaxDepth+1) + "a"
	ok := strings.Repeat("(", MaxDepth) + "a" + strings.Repeat(")", MaxDepth)
	long := "a = '" + strings.Repeat("x", MaxFilterLength+1) + "'"
	list := "a IN (" + strings.Repeat("1, ", MaxListLength) + "1)"
	for _, tc := range []struct {
		in, msg string
		offset  int
	}{
		{deep, "filter nests deeper than 64 levels", MaxDepth},
		{nots, "filter nests deeper than 64 levels", 4 * MaxDepth},
		{long, "filter is 131079 bytes long; the limit is 131072", 0},
		{list, "list has 10001 values; the limit is 10000", 6 + 3*MaxListLength},
		{"a = '\xff'", "filter is not valid UTF-8", 5},
	} {
		_, err := Parse(tc.in)
		var list ErrorList
		if !errors.As(err, &list) || len(list) != 1 || list[0].Message != tc.msg || list[0].Offset != tc.offset {
			t.Errorf("Parse(%.40q...) = %v (offset %v), want %q at %d", tc.in, err, offsets(list), tc.msg, tc.offset)
		}
	}
	if _, err := Parse(ok); err != nil {
		t.Errorf("depth %d rejected: %v", MaxDepth, err)
	}
}

func offsets(l ErrorList) []int {
	var out []int
	for _, e := range l {
		out = append(out, e.Offset)
	}
	return out
}

// stripSpans returns a copy-free comparable form of an AST: its canonical text plus the
// shape, by printing with node types.
func stripSpans(e Expr) string {
	var b strings.Builder
	Walk(e, func(n Expr) bool {
		b.WriteString(reflect.TypeOf(n).String())
		b.WriteString(":")
		b.WriteString(n.String())
		b.WriteString("|")
		return true
	})
	return b.String()
}
