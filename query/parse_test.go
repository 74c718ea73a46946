package query

import (
	"errors"
	"fmt"
	"math/rand/v2"
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
	{"a =", "unexpected end of filter", 3, 1, 4, "", "expected a value ('text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...') or ANY (...) after ="},
	{"a = 1 b", `unexpected name "b"`, 6, 1, 7, "b", "expected AND, OR or the end of the filter"},
	{"(a = 1", "unexpected end of filter", 6, 1, 7, "", "expected AND, OR or ) to close the ( at line 1, column 1"},
	{"a = 'abc", "unterminated string literal", 4, 1, 5, "'", "close the string with ' (write '' for a quote inside it)"},
	{"a = 1 $", `unexpected character "$"`, 6, 1, 7, "$", ""},
	{"= 1", `unexpected "="`, 0, 1, 1, "=", "expected a field name, NOT or ("},
	{"a == 1", `unexpected "="`, 3, 1, 4, "=", "expected a value ('text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...') or ANY (...) after ="},
	{"a = 1 AND\nb = 2 AND\n  c = = 3", `unexpected "="`, 26, 3, 7, "=", "expected a value ('text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...') or ANY (...) after ="},
	{"a IN ()", `unexpected ")"`, 6, 1, 7, ")", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a AND", "unexpected end of filter", 5, 1, 6, "", "expected a field name, NOT or ("},
	{"a = 1 -- comment", "comments are not supported", 6, 1, 7, "--", ""},
	{"a = 1 /* c */", "comments are not supported", 6, 1, 7, "/*", ""},
	{"a = 1; DROP TABLE x", "a filter is a single condition; ; is not allowed", 5, 1, 6, ";", ""},
	{"a = '1'::int", "casts (::) are not supported", 7, 1, 8, "::", "write INET '...' or TIMESTAMP '...', or a plain string: it is read as the field's type"},
	{`"a" = 1`, "double quotes are not used in filters", 0, 1, 1, `"`, "write field names without quotes (serverName) and text in single quotes ('text')"},
	{"a = 1 - 2", `unexpected "-"`, 6, 1, 7, "-", "expected AND, OR or the end of the filter"},
	{"ñ = 1", `unexpected character "ñ"`, 0, 1, 1, "ñ", ""},
	{"é = 'x' OR é", `unexpected character "é"`, 0, 1, 1, "é", ""},
	{"x = 'é' OR ü", `unexpected character "ü"`, 12, 1, 12, "ü", ""},
	{"a = 1 AND AND", "unexpected keyword AND", 10, 1, 11, "AND", "expected a field name, NOT or ("},
	{"a NOT = 1", `unexpected "="`, 6, 1, 7, "=", "expected BETWEEN, IN, LIKE or ILIKE after NOT"},
	{"a IS 1", "unexpected number 1", 5, 1, 6, "1", "expected NULL or NOT NULL after IS"},
	{"a = 'x' 'y'", "unexpected string 'y'", 8, 1, 9, "'y'", "expected AND, OR or the end of the filter"},
	{"a = 1)", `unexpected ")"`, 5, 1, 6, ")", "expected AND, OR or the end of the filter"},
	// Hints name what the grammar allows at the error.
	{"serverPort x", `unexpected name "x"`, 11, 1, 12, "x", `expected a comparison operator, IS, BETWEEN, IN, LIKE or ILIKE after field "serverPort"`},
	{"serverPort 443", "unexpected number 443", 11, 1, 12, "443", `expected a comparison operator, IS, BETWEEN, IN, LIKE or ILIKE after field "serverPort"`},
	{"(a = 1 b)", `unexpected name "b"`, 7, 1, 8, "b", "expected AND, OR or )"},
	{"(a = 1 AND\n (b", "unexpected end of filter", 14, 2, 4, "", "expected AND, OR or ) to close the ( at line 2, column 2"},
	{"a IS NOT 1", "unexpected number 1", 9, 1, 10, "1", "expected NULL after IS NOT"},
	{"a NOT", "unexpected end of filter", 5, 1, 6, "", "expected BETWEEN, IN, LIKE or ILIKE after NOT"},
	{"a BETWEEN 1 OR 2", "unexpected keyword OR", 12, 1, 13, "OR", "expected AND between the bounds of BETWEEN"},
	{"a BETWEEN 1 AND", "unexpected end of filter", 15, 1, 16, "", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a IN 1", "unexpected number 1", 5, 1, 6, "1", "expected ( after IN, as in IN (1, 2)"},
	{"a IN (1 2)", "unexpected number 2", 8, 1, 9, "2", "expected , or ) in the IN list"},
	{"a IN (1,)", `unexpected ")"`, 8, 1, 9, ")", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a = ANY 1", "unexpected number 1", 8, 1, 9, "1", "expected ( after ANY, as in ANY ('a', 'b')"},
	{"a = ANY ()", `unexpected ")"`, 9, 1, 10, ")", "expected ARRAY [...] or a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a = ANY (ARRAY 1)", "unexpected number 1", 15, 1, 16, "1", "expected [ after ARRAY"},
	{"a = ANY (ARRAY[1)", `unexpected ")"`, 16, 1, 17, ")", "expected , or ] in the ARRAY list"},
	{"a = ANY (ARRAY[1]", "unexpected end of filter", 17, 1, 18, "", "expected ) to close ANY ("},
	{"a = ANY (1 2)", "unexpected number 2", 11, 1, 12, "2", "expected , or ) in the ANY list"},
	{"a LIKE b", `unexpected name "b"`, 7, 1, 8, "b", "expected a value: 'text', a number, TRUE, FALSE, NULL, INET '...' or TIMESTAMP '...'"},
	{"a = - x", `unexpected name "x"`, 6, 1, 7, "x", "expected a number after -"},
	{"a = INET 1", "unexpected number 1", 9, 1, 10, "1", "expected a string after INET, as in INET '10.0.0.0/8'"},
	{"a > timestamp", "unexpected end of filter", 13, 1, 14, "", "expected a string after TIMESTAMP, as in TIMESTAMP '2026-01-01'"},
	{"NOT", "unexpected end of filter", 3, 1, 4, "", "expected a field name, NOT or ("},
	{"a = 1 OR (", "unexpected end of filter", 10, 1, 11, "", "expected a field name, NOT or ("},
	{"a = 1 AND b = 'x", "unterminated string literal", 14, 1, 15, "'", "close the string with ' (write '' for a quote inside it)"},
	{"a = 1 AND b = 'x'' OR c", "unterminated string literal", 14, 1, 15, "'", "close the string with ' (write '' for a quote inside it)"},
	{"a = 1 && b = 2", `unexpected "&&"`, 6, 1, 7, "&&", "expected AND, OR or the end of the filter"},
	{"a = 1 ! b", `unexpected character "!"`, 6, 1, 7, "!", ""},
	{"= 1 $", `unexpected "="`, 0, 1, 1, "=", "expected a field name, NOT or ("},
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

// TestParsersAgree runs the participle oracle (parseParticiple) and the hand-written
// parser on the parse tables; FuzzParsersAgree explores beyond them.
func TestParsersAgree(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth) + "a" + strings.Repeat(")", MaxDepth)
	list := "a IN (" + strings.Repeat("1, ", MaxListLength) + "1)"
	inputs := []string{deep, deep + ")", "(" + deep + ")", strings.Repeat("NOT ", MaxDepth) + "a", list, list + " AND b IN (" + strings.Repeat("1, ", MaxListLength) + "1)"}
	for _, tc := range validFilters {
		inputs = append(inputs, tc.in)
	}
	for _, tc := range invalidFilters {
		inputs = append(inputs, tc.in)
	}
	for _, s := range inputs {
		checkParsersAgree(t, s)
	}
}

// checkParsersAgree asserts that Parse and parseParticiple both accept s with equal ASTs
// (node types, text and every span), or both reject it.
func checkParsersAgree(t *testing.T, s string) {
	t.Helper()
	got, gotErr := Parse(s)
	want, wantErr := parseParticiple(s)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%.80q: Parse error %v, participle error %v", s, gotErr, wantErr)
	}
	if gotErr != nil {
		// When participle's tree converts with limit errors only, both must report them.
		var list ErrorList
		if errors.As(wantErr, &list) && list[0].Kind == LimitError {
			var got ErrorList
			if !errors.As(gotErr, &got) || got[0].Kind != LimitError || got[0].Offset != list[0].Offset || got[0].Message != list[0].Message {
				t.Fatalf("%.80q: Parse error %v, participle error %v", s, gotErr, wantErr)
			}
		}
		return
	}
	if (got == nil) != (want == nil) {
		t.Fatalf("%q: Parse %v, participle %v", s, got, want)
	}
	if got == nil {
		return
	}
	if got.String() != want.String() || spans(got) != spans(want) {
		t.Fatalf("%q:\n Parse      %s %s\n participle %s %s", s, got, spans(got), want, spans(want))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: ASTs differ:\n Parse      %#v\n participle %#v", s, got, want)
	}
}

// spans lists the spans of every node, field, operator and literal of e.
func spans(e Expr) string {
	var b strings.Builder
	lit := func(ls ...*Literal) {
		for _, l := range ls {
			fmt.Fprintf(&b, "lit%v ", l.Span)
		}
	}
	Walk(e, func(n Expr) bool {
		fmt.Fprintf(&b, "%T%v ", n, n.Range())
		switch n := n.(type) {
		case *CompareExpr:
			fmt.Fprintf(&b, "field%v op%v ", n.Field.Span, n.OpSpan)
			lit(n.Value)
		case *AnyExpr:
			fmt.Fprintf(&b, "field%v op%v ", n.Field.Span, n.OpSpan)
			lit(n.Values...)
		case *BetweenExpr:
			fmt.Fprintf(&b, "field%v ", n.Field.Span)
			lit(n.Lo, n.Hi)
		case *InExpr:
			fmt.Fprintf(&b, "field%v ", n.Field.Span)
			lit(n.Values...)
		case *IsNullExpr:
			fmt.Fprintf(&b, "field%v ", n.Field.Span)
		case *BoolFieldExpr:
			fmt.Fprintf(&b, "field%v ", n.Field.Span)
		}
		return true
	})
	return b.String()
}

func TestKeywordNumbers(t *testing.T) {
	for kw, name := range map[int]string{kwAND: "AND", kwOR: "OR", kwNOT: "NOT", kwBETWEEN: "BETWEEN", kwIN: "IN",
		kwIS: "IS", kwNULL: "NULL", kwLIKE: "LIKE", kwILIKE: "ILIKE", kwTRUE: "TRUE", kwFALSE: "FALSE",
		kwINET: "INET", kwTIMESTAMP: "TIMESTAMP", kwANY: "ANY", kwARRAY: "ARRAY"} {
		if keywords[kw] != name {
			t.Errorf("keywords[%d] = %s, want %s", kw, keywords[kw], name)
		}
	}
	if len(keywords) != kwARRAY+1 {
		t.Errorf("%d keywords, want %d", len(keywords), kwARRAY+1)
	}
}

// TestParsersAgreeOnTokenSoup compares the parsers on random sequences of the language's
// tokens, which reach far more grammar positions than byte-level fuzzing from the seeds.
func TestParsersAgreeOnTokenSoup(t *testing.T) {
	vocab := []string{"a", "b", "AND", "or", "NOT", "(", ")", "=", "<<=", "!~*", "IS", "NULL", "BETWEEN",
		"IN", "LIKE", "ilike", "ANY", "ARRAY", "[", "]", ",", "-", "1", "2.5e3", "'x'", "'it''s'", "TRUE",
		"false", "INET", "TIMESTAMP", "'", "$", "--", "\n"}
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	accepted := 0
	for range n {
		var b strings.Builder
		for range 1 + r.IntN(10) {
			b.WriteString(vocab[r.IntN(len(vocab))])
			if r.IntN(4) > 0 {
				b.WriteByte(' ')
			}
		}
		checkParsersAgree(t, b.String())
		if _, err := Parse(b.String()); err == nil {
			accepted++
		}
	}
	if accepted < n/100 {
		t.Errorf("only %d of %d token sequences parse; the test barely exercises valid filters", accepted, n)
	}
	t.Logf("%d of %d token sequences parse", accepted, n)
}

// TestParsersAgreeOnGeneratedFilters compares the parsers on random filters built from the
// grammar, and on the same filters with one token dropped, doubled or replaced.
func TestParsersAgreeOnGeneratedFilters(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	sp := func() string { return pick(" ", " ", " ", "", "\n  ", "\t") }
	value := func() string {
		return pick("1", "-2.5", "- 3", "1e3", "'x'", "'a''b'", "''", "TRUE", "false", "NULL", "INET '10.0.0.0/8'", "timestamp '2026-01-01'")
	}
	values := func() []string {
		out := []string{value()}
		for r.IntN(3) > 0 {
			out = append(out, ",", value())
		}
		return out
	}
	var expr func(depth int) []string
	expr = func(depth int) []string {
		switch k := r.IntN(10); {
		case k < 2 && depth < 4:
			out := expr(depth + 1)
			for range 1 + r.IntN(3) {
				out = append(append(out, pick("AND", "or")), expr(depth+1)...)
			}
			return out
		case k == 2 && depth < 4:
			return append([]string{"NOT"}, expr(depth+1)...)
		case k == 3 && depth < 4:
			return append(append([]string{"("}, expr(depth+1)...), ")")
		}
		f := pick("a", "serverPort", "x_1")
		switch r.IntN(8) {
		case 0:
			return []string{f}
		case 1:
			return []string{f, "IS", pick("NULL", "NOT NULL")}
		case 2:
			return []string{f, pick("", "NOT"), "BETWEEN", value(), "AND", value()}
		case 3:
			return append(append([]string{f, pick("", "NOT"), "IN", "("}, values()...), ")")
		case 4:
			return []string{f, pick("", "NOT"), pick("LIKE", "ilike"), value()}
		case 5:
			if r.IntN(2) == 0 {
				return append(append([]string{f, pick("=", "<<="), "ANY", "(", "ARRAY", "["}, values()...), "]", ")")
			}
			return append(append([]string{f, pick("=", "&&"), "ANY", "("}, values()...), ")")
		}
		return []string{f, pick("=", "<>", "!=", "<", "<=", ">", ">=", "~", "~*", "!~", "!~*", "<<", "<<=", ">>", ">>=", "&&"), value()}
	}
	for range 5000 {
		toks := expr(0)
		if r.IntN(2) == 0 {
			i := r.IntN(len(toks))
			switch r.IntN(3) {
			case 0:
				toks = append(toks[:i:i], toks[i+1:]...)
			case 1:
				toks = append(toks[:i+1:i+1], toks[i:]...)
			default:
				toks[i] = pick("AND", "NOT", "(", ")", ",", "=", "IS", "IN", "1", "'x'", "b", "ARRAY", "[", "-")
			}
		}
		var b strings.Builder
		for _, tok := range toks {
			b.WriteString(tok)
			b.WriteString(sp())
		}
		checkParsersAgree(t, b.String())
	}
}
