package query

import (
	"regexp"
	"testing"
)

// TestTranslateRegexMatches checks the translated patterns by what they match, with the
// answers PostgreSQL 15 (C.UTF-8) gives; the differential test checks the same rules
// against a live server over every cased code point.
func TestTranslateRegexMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		fold    bool
		subject string
		want    bool
	}{
		{"mysql", true, "MySQL-prod", true},
		{"mysql", false, "MySQL-prod", false},
		{"école", true, "ÉCOLE", true},
		{"ſ", true, "s", false},      // allcases(ſ) = {ſ, S}: plain s is not a case form
		{"ſ", true, "S", true},       //
		{"k", true, "\u212a", false}, // Kelvin sign lowers to k, but k's case forms are k and K
		{"[[:alpha:]]", false, "é", true},
		{"[[:upper:]]", false, "É", true},
		{"[[:upper:]]", true, "é", true}, // under ~* upper means alpha
		{`\w`, false, "ß", true},
		{`\d`, false, "٣", false},    // Arabic-Indic digit: not [[:digit:]] in C.UTF-8
		{"[^a]", true, "A", false},   // negation applies after case expansion
		{"a.b", false, "a\nb", true}, // '.' matches newline in PostgreSQL
	} {
		re2, perr := translateRegex(tc.pattern, tc.fold)
		if perr != nil {
			t.Errorf("translateRegex(%q, %v): %s", tc.pattern, tc.fold, perr.Msg)
			continue
		}
		if got := regexp.MustCompile(re2).MatchString(tc.subject); got != tc.want {
			t.Errorf("%q ~%s %q = %v, want %v (RE2 %q)", tc.subject, map[bool]string{true: "*"}[tc.fold], tc.pattern, got, tc.want, re2)
		}
	}
}
