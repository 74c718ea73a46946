package query

import (
	"errors"
	"strings"
	"testing"
)

// injectionCorpus holds hostile filters. Each must either fail to compile or compile to
// SQL that contains none of the user's text: values travel as arguments.
var injectionCorpus = []string{
	"serverName = 'x'' OR 1=1 --'",
	"serverName = 'x''; DROP TABLE discovery_obs; --'",
	"serverName = 'a' ; DROP TABLE cert",
	"serverName = '/* comment */' OR serviceName = '*/ UNION SELECT 1 /*'",
	"serverName = '\\'' OR '1'='1'",
	"serverName = 'caf\u00e9 \u202e\u2066 \U0001F600'",
	"serverName = 'nul\x00byte'",
	"serverName LIKE '%\\x00%' OR serverName ~ 'ab\x00c'",
	"serverName = \"quoted\"",
	"\"serverName\" = 'x'",
	"serverName = 'x' -- trailing comment",
	"serverName = 'x' /* block */",
	"serverPort = 9223372036854775807",
	"serverPort = 9223372036854775808",
	"serverPort = -9223372036854775809",
	"serverPort = 1e308",
	"serverPort = '18446744073709551616'",
	"serverPort > 99999999999999999999999999999999999999999999.5",
	"byteVolume > 1e-400",
	"serverIp <<= 'x'' OR 1=1 --'",
	"firstSeen > '2026-01-01''; SELECT 1'",
	"weakReasons = 'x''); SELECT * FROM cert; --'",
	"certTxt ~* 'pwn''ed' AND certCommonName ILIKE '%''%'",
	"serverName IN ('a', 'b'')--', 'c')",
	"serverName = E'\\x27'",
	"serverName = $$x$$",
	"serverName = 'x'::text",
	"serverName = U&'\\0041'",
}

// userTokens returns the texts of a filter's literals (three bytes or longer, so that
// they cannot match SQL keywords by accident).
func userTokens(filter string) []string {
	e, err := Parse(filter)
	if err != nil || e == nil {
		return nil
	}
	var out []string
	add := func(ls ...*Literal) {
		for _, l := range ls {
			if len(l.Text) >= 3 {
				out = append(out, l.Text)
			}
		}
	}
	Walk(e, func(n Expr) bool {
		switch p := n.(type) {
		case *CompareExpr:
			add(p.Value)
		case *AnyExpr:
			add(p.Values...)
		case *InExpr:
			add(p.Values...)
		case *BetweenExpr:
			add(p.Lo, p.Hi)
		}
		return true
	})
	return out
}

func TestInjectionCorpus(t *testing.T) {
	for _, f := range injectionCorpus {
		for _, ds := range Datasets {
			st, err := Compile(Request{Dataset: ds, Filter: f}, DuckDB)
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) {
					t.Errorf("%q: error %v is not an ErrorList", f, err)
				}
				continue
			}
			toks := userTokens(f)
			if len(toks) == 0 {
				t.Errorf("%q compiled but has no literal to look for", f)
			}
			for _, tok := range toks {
				if strings.Contains(st.SQL, tok) {
					t.Errorf("%q: user text %q appears in SQL:\n%s", f, tok, st.SQL)
				}
			}
			if strings.ContainsAny(st.SQL, "\x00;") || strings.Contains(st.SQL, "--") || strings.Contains(st.SQL, "/*") {
				t.Errorf("%q: suspicious SQL:\n%s", f, st.SQL)
			}
			if countPlaceholders(st.SQL) != len(st.Args) {
				t.Errorf("%q: placeholders and args differ", f)
			}
		}
	}
}

// TestInjectionOutcomes pins what happens to the corpus entries that deserve a specific
// answer: large numbers are errors with a clear message, strings become arguments.
func TestInjectionOutcomes(t *testing.T) {
	for _, tc := range []struct{ filter, err string }{
		{"serverPort = 9223372036854775808", "number 9223372036854775808 is out of range for int field serverPort (64-bit)"},
		{"serverPort = -9223372036854775809", "number -9223372036854775809 is out of range for int field serverPort (64-bit)"},
		{"serverPort = 1e308", "number 1e308 is out of range for int field serverPort (64-bit)"},
		{"serverPort = '18446744073709551616'", "value '18446744073709551616' is out of range for type int (64-bit)"},
		{"serverName = 'a' ; DROP TABLE cert", "a filter is a single condition; ; is not allowed"},
		{"serverName = \"quoted\"", "double quotes are not used in filters"},
		{"serverName = 'x' -- trailing comment", "comments are not supported"},
		{"serverName = 'x'::text", "casts (::) are not supported"},
		{"serverName = $$x$$", `unexpected character "$"`},
		{"serverPort = 9223372036854775807", ""},
		{"serverName = 'nul\x00byte'", ""},
	} {
		st, err := Compile(Request{Dataset: Discovery, Filter: tc.filter}, DuckDB)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.filter, err)
		case tc.err != "" && (err == nil || err.(ErrorList)[0].Message != tc.err):
			t.Errorf("%q: got %v, want %q", tc.filter, err, tc.err)
		case tc.err == "" && len(st.Args) == 0:
			t.Errorf("%q: no argument bound", tc.filter)
		}
	}
	st, err := Compile(Request{Dataset: Discovery, Filter: "serverName = 'nul\x00byte'"}, DuckDB)
	if err != nil || st.Args[0] != "nul\x00byte" {
		t.Errorf("NUL byte: args %v, err %v", st.Args, err)
	}
}
