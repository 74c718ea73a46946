package query

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
)

// patternError is a problem at byte offset Off of a pattern.
type patternError struct {
	Off, Len  int
	Msg, Hint string
}

// checkRegex validates a PostgreSQL regular expression for execution by RE2 and returns
// the pattern to run: "(?s)" (PostgreSQL's '.' matches newline by default; RE2's does
// not) plus "(?i)" for ~* and ~* variants, then the user's pattern unchanged.
// Constructs that PostgreSQL supports but RE2 lacks, or that mean something else in
// RE2, are rejected with their position rather than silently run with other semantics.
func checkRegex(p string, fold bool) (string, *patternError) {
	if len(p) > MaxPatternLength {
		return "", &patternError{0, len(p), fmt.Sprintf("regular expression is %d bytes long; the limit is %d", len(p), MaxPatternLength), ""}
	}
	if pe := scanPGOnly(p); pe != nil {
		return "", pe
	}
	prefix := "(?s)"
	if fold {
		prefix = "(?is)"
	}
	if _, err := regexp.Compile(prefix + p); err != nil {
		return "", re2Error(p, err)
	}
	return prefix + p, nil
}

// scanPGOnly looks for PostgreSQL-only syntax outside and inside bracket expressions.
func scanPGOnly(p string) *patternError {
	inBracket := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			if pe := checkEscape(p, i); pe != nil {
				return pe
			}
			i++
		case inBracket:
			if c == ']' {
				inBracket = false
			} else if c == '[' && i+1 < len(p) && p[i+1] == ':' {
				if strings.HasPrefix(p[i:], "[:<:]]") || strings.HasPrefix(p[i:], "[:>:]]") {
					return &patternError{i - 1, 7, "word boundaries [[:<:]] and [[:>:]] are supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", `use \b`}
				}
				if end := strings.Index(p[i:], ":]"); end > 0 {
					i += end + 1
				}
			}
		case c == '[':
			inBracket = true
			// A ']' right after '[' or '[^' is a literal member, not the end.
			if strings.HasPrefix(p[i+1:], "^") {
				i++
			}
			if strings.HasPrefix(p[i+1:], "]") {
				i++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?"):
			if pe := checkGroup(p, i); pe != nil {
				return pe
			}
		}
	}
	return nil
}

// checkEscape rejects escapes whose PostgreSQL meaning RE2 lacks or reads differently.
func checkEscape(p string, i int) *patternError {
	c := p[i+1]
	unsupported := func(what, hint string) *patternError {
		return &patternError{i, 2, fmt.Sprintf("%s is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", what), hint}
	}
	switch {
	case c >= '1' && c <= '9':
		return unsupported(`backreference \`+string(c), "RE2 has no backreferences; match the text explicitly")
	case c == 'm' || c == 'M' || c == 'y' || c == 'Y':
		return unsupported(`word-boundary escape \`+string(c), `use \b (word boundary) or \B`)
	case c == 'Z':
		return unsupported(`\Z (end of string)`, `use \z or $`)
	case c == 'b' || c == 'B':
		return &patternError{i, 2, fmt.Sprintf(`\%c means something else in PostgreSQL (backspace / backslash) than in RE2 (word boundary), so it is not accepted`, c), `for a word boundary use (^|[^[:alnum:]_]) or write the character itself`}
	case c == 'x' || c == 'u' || c == 'U' || c == 'e' || c == 'c' || c == '0':
		return &patternError{i, 2, fmt.Sprintf(`escape \%c is read differently by PostgreSQL and RE2, so it is not accepted`, c), "write the character itself"}
	}
	return nil
}

// checkGroup accepts (?: and leading option groups made of i and s; lookaround and other
// options (m, U, x, named groups) differ between PostgreSQL and RE2.
func checkGroup(p string, i int) *patternError {
	rest := p[i+2:]
	for _, la := range []string{"=", "!", "<=", "<!"} {
		if strings.HasPrefix(rest, la) {
			kind := map[string]string{"=": "lookahead (?=", "!": "negative lookahead (?!", "<=": "lookbehind (?<=", "<!": "negative lookbehind (?<!"}[la]
			return &patternError{i, 2 + len(la), kind + " is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}
		}
	}
	if strings.HasPrefix(rest, ":") {
		return nil
	}
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case 'i', 's':
			continue
		case ')':
			return nil
		}
		return &patternError{i, 3 + j, fmt.Sprintf("regular expression option or group (?%s is not supported", rest[:j+1]), "only (?:...), (?i) and (?s) are accepted"}
	}
	return nil
}

// re2Error locates a Go regexp/syntax error in p.
func re2Error(p string, err error) *patternError {
	var se *syntax.Error
	if errors.As(err, &se) {
		se.Expr = strings.TrimPrefix(strings.TrimPrefix(se.Expr, "(?s)"), "(?is)")
		off := strings.Index(p, se.Expr)
		if off < 0 {
			off = 0
		}
		return &patternError{off, len(se.Expr), fmt.Sprintf("invalid regular expression: %s: %s", se.Code, se.Expr), ""}
	}
	return &patternError{0, len(p), "invalid regular expression: " + err.Error(), ""}
}

// regexLiteral reports whether p is a non-empty run of printable ASCII without regular
// expression metacharacters, so that it matches only itself.
func regexLiteral(p string) bool {
	if p == "" {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x20 || c >= 0x7f || strings.IndexByte(`.^$*+?()[]{}|\`, c) >= 0 {
			return false
		}
	}
	return true
}

// foldLiteral returns the case-sensitive RE2 pattern that matches what PostgreSQL's ~*
// (C.UTF-8) matches for a literal ASCII pattern: each letter becomes [xX]. PostgreSQL
// compares every pattern character with its lower- and upper-case forms only, while
// RE2's (?i) uses Unicode case folding, which also matches U+212A KELVIN SIGN for k and
// U+017F LONG S for s; the explicit classes avoid that difference.
func foldLiteral(p string) string {
	var b strings.Builder
	b.WriteString("(?s)")
	for i := 0; i < len(p); i++ {
		c := p[i]
		lower, upper := c|0x20, c&^0x20
		if lower >= 'a' && lower <= 'z' {
			b.WriteByte('[')
			b.WriteByte(lower)
			b.WriteByte(upper)
			b.WriteByte(']')
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(c)))
	}
	return b.String()
}

// ilikeExact reports whether literal ~* p may run as ILIKE '%p%'. ILIKE lower-cases both
// sides; checked on DuckDB 1.5 and for PostgreSQL C.UTF-8, lower() maps U+0130 to i and
// U+212A to k, so ILIKE would match those for i and k where PostgreSQL's ~* does not.
// For every other ASCII character ILIKE matches exactly the lower- and upper-case forms.
func ilikeExact(p string) bool {
	return regexLiteral(p) && !strings.ContainsAny(p, "iIkK")
}

// likeEscape returns s as a LIKE pattern matching exactly s (escape character \).
func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// checkLike validates a LIKE/ILIKE pattern (escape character \, as PostgreSQL's default).
func checkLike(p string) *patternError {
	if len(p) > MaxPatternLength {
		return &patternError{0, len(p), fmt.Sprintf("LIKE pattern is %d bytes long; the limit is %d", len(p), MaxPatternLength), ""}
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' {
			if i == len(p)-1 {
				return &patternError{i, 1, "LIKE pattern must not end with escape character", `write \\ for a literal backslash`}
			}
			i++
		}
	}
	return nil
}
