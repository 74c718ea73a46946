package query

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// patternError is a problem at byte offset Off of a pattern.
type patternError struct {
	Off, Len  int
	Msg, Hint string
}

// maxTranslated bounds the RE2 pattern a translation may produce: explicit classes are
// large (one [[:alpha:]] is about 14 KiB), and DuckDB compiles the pattern per query.
const maxTranslated = 64 << 10

// checkRegex validates a PostgreSQL regular expression (ARE) and translates it into an
// RE2 pattern that matches exactly the same strings, for execution by RE2 (DuckDB's
// regexp_matches). The translation makes every PostgreSQL-specific meaning explicit:
//
//   - "(?s)" prefix: PostgreSQL's '.' and [^...] match a newline by default.
//   - Case-insensitive matching (~*, or a leading (?i)) is not RE2's (?i), which uses
//     Unicode fold orbits: as in PostgreSQL's regc_locale.c, a literal c becomes the class
//     {towlower(c), towupper(c)}, a bracket member adds its lower- and upper-case forms,
//     [:upper:] and [:lower:] become [:alpha:], and negation applies after that.
//   - POSIX classes and \d \s \w (and negations) become explicit code-point sets from
//     the C.UTF-8 tables measured on PostgreSQL (zz_pgctype.go); RE2's are ASCII-only.
//
// Constructs that PostgreSQL supports but RE2 lacks, or that mean something else in RE2,
// are rejected with their position rather than silently run with other semantics.
func checkRegex(p string, fold bool) (string, *patternError) {
	if len(p) > MaxPatternLength {
		return "", &patternError{0, len(p), fmt.Sprintf("regular expression is %d bytes long; the limit is %d", len(p), MaxPatternLength), ""}
	}
	out, pe := translateRegex(p, fold)
	if pe != nil {
		return "", pe
	}
	if len(out) > maxTranslated {
		return "", &patternError{0, len(p), fmt.Sprintf("regular expression is too complex: its translation for RE2 is %d bytes; the limit is %d", len(out), maxTranslated), "use fewer character classes or case-insensitive brackets"}
	}
	if _, err := regexp.Compile(out); err != nil {
		// Report RE2's complaint at its place in the user's pattern when it has one.
		if _, err2 := regexp.Compile("(?s)" + p); err2 != nil {
			return "", re2Error(p, err2)
		}
		return "", &patternError{0, len(p), "invalid regular expression: " + err.Error(), ""}
	}
	return out, nil
}

// translator turns a PostgreSQL ARE into RE2 syntax (see checkRegex).
type translator struct {
	p    string
	fold bool
	out  strings.Builder
}

// translateRegex walks p once: leading embedded options, then atoms, escapes and
// bracket expressions; everything else (grouping, alternation, anchors, quantifiers)
// has the same meaning in both and is copied.
func translateRegex(p string, fold bool) (string, *patternError) {
	t := &translator{p: p, fold: fold}
	i, pe := t.options()
	if pe != nil {
		return "", pe
	}
	t.out.WriteString("(?s)")
	for i < len(p) {
		if i, pe = t.atom(i); pe != nil {
			return "", pe
		}
	}
	return t.out.String(), nil
}

// options reads PostgreSQL's embedded options, allowed only at the very start: i
// (case-insensitive), c (case-sensitive) and s (the default), the last one winning.
func (t *translator) options() (int, *patternError) {
	if !strings.HasPrefix(t.p, "(?") || strings.HasPrefix(t.p, "(?:") {
		return 0, nil
	}
	if pe := checkGroup(t.p, 0); pe != nil {
		return 0, pe
	}
	for j := 2; j < len(t.p); j++ {
		switch t.p[j] {
		case 'i':
			t.fold = true
		case 'c':
			t.fold = false
		case 's':
		case ')':
			return j + 1, nil
		default:
			return 0, &patternError{0, j + 1, fmt.Sprintf("regular expression option or group %s is not supported", t.p[:j+1]), "only (?:...), (?i), (?c) and (?s) are accepted"}
		}
	}
	return 0, &patternError{0, len(t.p), "invalid regular expression: missing closing ): " + t.p, ""}
}

// atom translates the construct at p[i] and returns the offset after it.
func (t *translator) atom(i int) (int, *patternError) {
	p := t.p
	switch c := p[i]; c {
	case '\\':
		return t.escape(i)
	case '[':
		return t.bracket(i)
	case '(':
		if strings.HasPrefix(p[i:], "(?") {
			if pe := checkGroup(p, i); pe != nil {
				return 0, pe
			}
			if !strings.HasPrefix(p[i:], "(?:") {
				if i+2 < len(p) && strings.IndexByte("bceimnpqstwx", p[i+2]) >= 0 {
					return 0, &patternError{i, 2, "regular expression options such as (?i) are allowed only at the start of the pattern", "move the option to the start"}
				}
				return 0, &patternError{i, min(3, len(p)-i), "regular expression group " + p[i:i+min(3, len(p)-i)] + " is not supported", "only (?:...) groups and leading options (?i), (?c), (?s) are accepted"}
			}
			t.out.WriteString("(?:")
			return i + 3, nil
		}
		t.out.WriteByte(c)
		return i + 1, nil
	case '{':
		if m := boundPattern.FindString(p[i:]); m != "" {
			if pe := checkBound(p, i); pe != nil {
				return 0, pe
			}
			t.out.WriteString(m)
			return i + len(m), nil
		}
	case '.', '^', '$', ')', '|', '*', '+', '?':
		t.out.WriteByte(c)
		return i + 1, nil
	}
	r, n := utf8.DecodeRuneInString(p[i:])
	t.literal(r)
	return i + n, nil
}

// literal writes a character that matches itself, or under case-insensitivity its
// lower- and upper-case forms (PostgreSQL's allcases).
func (t *translator) literal(r rune) {
	if t.fold {
		t.out.WriteString(re2Set(allCases(r)))
		return
	}
	t.out.WriteString(re2Rune(r))
}

// escape translates a backslash escape outside brackets.
func (t *translator) escape(i int) (int, *patternError) {
	p := t.p
	if i+1 >= len(p) {
		return 0, &patternError{i, 1, "invalid regular expression: trailing backslash at end of expression", `write \\ for a backslash`}
	}
	if pe := checkEscape(p, i); pe != nil {
		return 0, pe
	}
	if set, neg, ok := classEscape(p[i+1]); ok {
		t.out.WriteString(re2Class(set, neg))
		return i + 2, nil
	}
	if p[i+1] == 'A' {
		t.out.WriteString(`\A`)
		return i + 2, nil
	}
	r, n, pe := escapedChar(p, i)
	if pe != nil {
		return 0, pe
	}
	t.literal(r)
	return i + 1 + n, nil
}

// classEscape returns the set of \d, \s, \w and whether the escape is negated (\D \S \W).
func classEscape(c byte) (set []rune, neg, ok bool) {
	name := map[byte]string{'d': "digit", 's': "space", 'w': "word", 'D': "digit", 'S': "space", 'W': "word"}[c]
	if name == "" {
		return nil, false, false
	}
	set, _ = pgClass(name)
	return set, c >= 'A' && c <= 'Z', true
}

// escapedChar reads a character escape at p[i] (after checkEscape): \a \f \n \r \t \v
// are control characters, a backslash before a non-alphanumeric character quotes it,
// and any other letter or digit is not a PostgreSQL escape.
func escapedChar(p string, i int) (rune, int, *patternError) {
	if r, ok := map[byte]rune{'a': 7, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}[p[i+1]]; ok {
		return r, 1, nil
	}
	r, n := utf8.DecodeRuneInString(p[i+1:])
	if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
		return 0, 0, &patternError{i, 2, fmt.Sprintf(`invalid regular expression: invalid escape \%c`, r), `write the character itself, or \\ for a backslash`}
	}
	return r, n, nil
}

// checkBound rejects a repetition count above 255, PostgreSQL's limit (RE2's is 1000).
func checkBound(p string, i int) *patternError {
	m := boundPattern.FindStringSubmatch(p[i:])
	if m == nil {
		return nil
	}
	for _, s := range m[1:] {
		if n, err := strconv.Atoi(s); err == nil && n > 255 || len(s) > 3 {
			return &patternError{i, len(m[0]), "invalid regular expression: invalid repeat count: " + m[0] + " (PostgreSQL allows at most 255)", ""}
		}
	}
	return nil
}

var boundPattern = regexp.MustCompile(`^\{([0-9]+)(?:,([0-9]*))?\}`)

// bracket translates a bracket expression at p[i] into one explicit RE2 class, with
// PostgreSQL's rules: ']' first is a member, '-' first or last is a member, ranges are
// by code point, classes [:name:], [=c=] and single-character [.c.] elements, and
// escapes; under case-insensitivity every member adds its case forms before negation.
func (t *translator) bracket(i int) (int, *patternError) {
	p := t.p
	j := i + 1
	neg := strings.HasPrefix(p[j:], "^")
	if neg {
		j++
	}
	var set runeSet
	for first := true; ; first = false {
		if j >= len(p) {
			return 0, &patternError{i, len(p) - i, "invalid regular expression: missing closing ]: " + p[i:], ""}
		}
		if p[j] == ']' && !first {
			j++
			break
		}
		start := j
		e, pe := t.element(j, first)
		if pe != nil {
			return 0, pe
		}
		j = e.end
		if e.set != nil {
			set.addRanges(e.set)
			continue
		}
		hi, single := e.c, !e.collating
		if strings.HasPrefix(p[j:], "-") && j+1 < len(p) && p[j+1] != ']' {
			e2, pe := t.element(j+1, false)
			if pe != nil {
				return 0, pe
			}
			if e2.set != nil || e2.c < e.c {
				return 0, &patternError{start, e2.end - start, "invalid regular expression: invalid character class range: " + p[start:e2.end], ""}
			}
			hi, j, single = e2.c, e2.end, false
		}
		t.addRange(&set, e.c, hi, single)
	}
	t.out.WriteString(re2Class(set.ranges(), neg))
	return j, nil
}

// addRange adds lo..hi, with case counterparts under case-insensitivity (regcomp.c
// range(): the range itself plus each member's towlower and towupper). A single character
// member (c or [=c=], but not [.c.]) under case-insensitivity is allcases(c), which need
// not contain c: measured on PostgreSQL 15, 'ǅ' ~* '[ǅ]' is false, 'ǅ' ~* '[ǅ-ǅ]' true.
func (t *translator) addRange(set *runeSet, lo, hi rune, single bool) {
	switch {
	case !t.fold:
		set.addRange(lo, hi)
	case single:
		set.add(allCases(lo)...)
	default:
		set.addRange(lo, hi)
		addCaseForms(set, lo, hi)
	}
}

// addCaseForms adds towlower(c) and towupper(c) for every c in lo..hi that has them,
// walking the sparse mapping tables rather than the (possibly huge) range.
func addCaseForms(set *runeSet, lo, hi rune) {
	for _, pairs := range [][]rune{pgLowerPairs, pgUpperPairs} {
		n := len(pairs) / 2
		k := sort.Search(n, func(k int) bool { return pairs[2*k] >= lo })
		for ; k < n && pairs[2*k] <= hi; k++ {
			set.add(pairs[2*k+1])
		}
	}
}

// bracketElem is one member of a bracket expression: a character c (collating when
// written [.c.]) or a set (a class or class escape), and the offset after it.
type bracketElem struct {
	c         rune
	set       []rune
	collating bool
	end       int
}

// element reads one bracket member at p[j].
func (t *translator) element(j int, first bool) (bracketElem, *patternError) {
	p := t.p
	switch {
	case strings.HasPrefix(p[j:], "[:"):
		return t.class(j)
	case strings.HasPrefix(p[j:], "[="), strings.HasPrefix(p[j:], "[."):
		delim := p[j+1 : j+2]
		end := strings.Index(p[j+2:], delim+"]")
		if end < 0 {
			return bracketElem{}, &patternError{j, len(p) - j, "invalid regular expression: missing closing " + delim + "]: " + p[j:], ""}
		}
		name := p[j+2 : j+2+end]
		r, n := utf8.DecodeRuneInString(name)
		if n == 0 || n != len(name) {
			return bracketElem{}, &patternError{j, end + 4, "collating element or equivalence class " + p[j:j+4+end] + " is not supported; only single characters are", "write the character itself"}
		}
		return bracketElem{c: r, collating: delim == ".", end: j + 4 + end}, nil
	case p[j] == '\\' && j+1 < len(p):
		if pe := checkEscape(p, j); pe != nil {
			return bracketElem{}, pe
		}
		if set, neg, ok := classEscape(p[j+1]); ok {
			if neg {
				var s runeSet
				s.addComplement(set)
				set = s.ranges()
			}
			return bracketElem{set: set, end: j + 2}, nil
		}
		r, n, pe := escapedChar(p, j)
		if pe != nil {
			return bracketElem{}, pe
		}
		return bracketElem{c: r, end: j + 1 + n}, nil
	}
	r, n := utf8.DecodeRuneInString(p[j:])
	return bracketElem{c: r, end: j + n}, nil
}

// class reads [:name:]; under case-insensitivity upper and lower mean alpha.
func (t *translator) class(j int) (bracketElem, *patternError) {
	p := t.p
	if strings.HasPrefix(p[j:], "[:<:]]") || strings.HasPrefix(p[j:], "[:>:]]") {
		return bracketElem{}, &patternError{j - 1, 7, "word boundaries [[:<:]] and [[:>:]] are supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "match the neighbouring characters explicitly, e.g. (^|[^[:alnum:]_])"}
	}
	end := strings.Index(p[j+2:], ":]")
	if end < 0 {
		return bracketElem{}, &patternError{j, len(p) - j, "invalid regular expression: missing closing :]: " + p[j:], ""}
	}
	name := p[j+2 : j+2+end]
	if t.fold && (name == "upper" || name == "lower") {
		name = "alpha"
	}
	set, ok := pgClass(name)
	if !ok {
		return bracketElem{}, &patternError{j, end + 4, "invalid regular expression: invalid character class " + p[j:j+4+end], "classes: alpha upper lower digit alnum space punct xdigit cntrl print graph blank word"}
	}
	return bracketElem{set: set, end: j + 4 + end}, nil
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
		return unsupported(`\Z (end of string)`, `use $, which is the end of the string`)
	case c == 'b' || c == 'B':
		return &patternError{i, 2, fmt.Sprintf(`\%c means something else in PostgreSQL (backspace / backslash) than in RE2 (word boundary), so it is not accepted`, c), `for a word boundary use (^|[^[:alnum:]_]) or write the character itself`}
	case c == 'x' || c == 'u' || c == 'U' || c == 'e' || c == 'c' || c == '0':
		return &patternError{i, 2, fmt.Sprintf(`escape \%c is read differently by PostgreSQL and RE2, so it is not accepted`, c), "write the character itself"}
	}
	return nil
}

// checkGroup rejects lookaround groups, which RE2 lacks.
func checkGroup(p string, i int) *patternError {
	rest := p[i+2:]
	for _, la := range []string{"=", "!", "<=", "<!"} {
		if strings.HasPrefix(rest, la) {
			kind := map[string]string{"=": "lookahead (?=", "!": "negative lookahead (?!", "<=": "lookbehind (?<=", "<!": "negative lookbehind (?<!"}[la]
			return &patternError{i, 2 + len(la), kind + " is supported by PostgreSQL but not by cipherscope's regular expressions (RE2)", "rewrite the pattern without lookaround, or combine two predicates with AND NOT"}
		}
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

// ilikeExact reports whether literal ~* p may run as ILIKE '%p%': p is a plain ASCII
// literal (regexLiteral) and for each of its characters c, what PostgreSQL's ~* matches
// ({towlower(c), towupper(c)}) equals what ILIKE matches ({x : towlower(x) ==
// towlower(c)}). That excludes i and k, because lower() maps U+0130 to i and U+212A to k,
// so ILIKE would match those where ~* does not. DuckDB's ILIKE agrees with PostgreSQL's on
// every ASCII pattern character (see ilikeFast).
func ilikeExact(p string) bool {
	if !regexLiteral(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !equalRunes(allCases(rune(p[i])), sameLower(rune(p[i]))) {
			return false
		}
	}
	return true
}

func equalRunes(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ilikeFast reports whether an ILIKE pattern may run as DuckDB's ILIKE: every character
// it matches literally is ASCII. PostgreSQL's ILIKE compares towlower of each character
// (C.UTF-8), DuckDB's lowercases with its own Unicode tables; for an ASCII pattern
// character c both match exactly {x : lower(x) == lower(c)} (internal/difftest measures
// DuckDB's lower() on every code point and asserts this), while for non-ASCII characters
// the tables differ (Unicode versions, titlecase letters), so those patterns run as the
// exact translation ilikeRegex.
func ilikeFast(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ilikeRegex translates an ILIKE pattern (escape character backslash, already checked by
// checkLike) into an RE2 pattern for a full match with PostgreSQL's C.UTF-8 semantics:
// % is any sequence, _ any one character, and every other character c (escaped or not)
// the class {x : towlower(x) == towlower(c)}.
func ilikeRegex(p string) string {
	var b strings.Builder
	b.WriteString("(?s)")
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		switch r {
		case '%':
			b.WriteString(".*")
			continue
		case '_':
			b.WriteString(".")
			continue
		case '\\':
			if i < len(p) {
				r, n = utf8.DecodeRuneInString(p[i:])
				i += n
			}
		}
		b.WriteString(re2Set(sameLower(r)))
	}
	return b.String()
}

// likeEscaper escapes LIKE's wildcards and escape character; built once, as building a
// Replacer costs more than using it.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likeEscape returns s as a LIKE pattern matching exactly s (escape character \).
func likeEscape(s string) string { return likeEscaper.Replace(s) }

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
