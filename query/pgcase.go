package query

import (
	"fmt"
	"sort"
	"strings"
)

//go:generate go run -tags duckdb_arrow ../internal/pgctype/gen -out zz_pgctype.go

// PostgreSQL's character semantics in C.UTF-8 (towupper, towlower and the isw* classes of
// glibc), from the measured tables in zz_pgctype.go. Go's unicode package differs from
// them (Unicode version, titlecase letters, U+0130, the sigma and Kelvin orbits), so every
// case or class decision of the regex and ILIKE translations goes through these functions.

// pgUpper is towupper(c) as PostgreSQL's upper() and regex engine apply it.
func pgUpper(c rune) rune { return lookupPair(pgUpperPairs, c) }

// pgLower is towlower(c) as PostgreSQL's lower() and regex engine apply it.
func pgLower(c rune) rune { return lookupPair(pgLowerPairs, c) }

// lookupPair finds c in a flat sorted list of (c, mapped) pairs; unmapped c maps to itself.
func lookupPair(pairs []rune, c rune) rune {
	n := len(pairs) / 2
	i := sort.Search(n, func(i int) bool { return pairs[2*i] >= c })
	if i < n && pairs[2*i] == c {
		return pairs[2*i+1]
	}
	return c
}

// lowerPreimage maps l to every c != l with pgLower(c) == l.
var lowerPreimage = func() map[rune][]rune {
	m := map[rune][]rune{}
	for i := 0; i < len(pgLowerPairs); i += 2 {
		m[pgLowerPairs[i+1]] = append(m[pgLowerPairs[i+1]], pgLowerPairs[i])
	}
	return m
}()

// sameLower returns {x : pgLower(x) == pgLower(c)}, the characters an ILIKE pattern
// character c matches, sorted.
func sameLower(c rune) []rune {
	l := pgLower(c)
	set := []rune{}
	if pgLower(l) == l {
		set = append(set, l)
	}
	set = append(set, lowerPreimage[l]...)
	sort.Slice(set, func(i, j int) bool { return set[i] < set[j] })
	return set
}

// allCases returns what PostgreSQL's regex engine matches for a literal c under REG_ICASE
// outside brackets (allcases in regc_locale.c): towlower(c) and towupper(c), which need
// not include c itself (U+01C5 matches only U+01C4 and U+01C6).
func allCases(c rune) []rune {
	lo, up := pgLower(c), pgUpper(c)
	switch {
	case lo == up:
		return []rune{lo}
	case lo < up:
		return []rune{lo, up}
	}
	return []rune{up, lo}
}

// pgClass returns the code-point ranges of a POSIX class name ("alpha", ..., "word") as
// PostgreSQL's regex engine sees them, and whether the name is known.
func pgClass(name string) ([]rune, bool) {
	r, ok := pgClassRanges[name]
	return r, ok
}

// runeSet is a set of code points as inclusive ranges, built up and normalised on demand.
type runeSet struct{ r []rune }

func (s *runeSet) addRange(lo, hi rune) { s.r = append(s.r, lo, hi) }
func (s *runeSet) add(cs ...rune) {
	for _, c := range cs {
		s.r = append(s.r, c, c)
	}
}
func (s *runeSet) addRanges(r []rune) { s.r = append(s.r, r...) }

// addComplement adds every code point outside the sorted, disjoint ranges r.
func (s *runeSet) addComplement(r []rune) {
	next := rune(0)
	for i := 0; i < len(r); i += 2 {
		if r[i] > next {
			s.addRange(next, r[i]-1)
		}
		next = r[i+1] + 1
	}
	if next <= maxRune {
		s.addRange(next, maxRune)
	}
}

const maxRune = 0x10FFFF

// ranges returns the set as sorted, disjoint, non-adjacent ranges.
func (s *runeSet) ranges() []rune {
	type rg struct{ lo, hi rune }
	rs := make([]rg, 0, len(s.r)/2)
	for i := 0; i < len(s.r); i += 2 {
		rs = append(rs, rg{s.r[i], s.r[i+1]})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo < rs[j].lo })
	var out []rune
	for _, x := range rs {
		if n := len(out); n > 0 && x.lo <= out[n-1]+1 {
			out[n-1] = max(out[n-1], x.hi)
			continue
		}
		out = append(out, x.lo, x.hi)
	}
	return out
}

// re2Class renders ranges as an RE2 character class with explicit code points; negate
// makes it [^...]. An empty positive set is written [^\x{0}-\x{10ffff}] (matches nothing).
func re2Class(r []rune, negate bool) string {
	if len(r) == 0 {
		if negate {
			return `(?s:.)`
		}
		return `[^\x{0}-\x{10ffff}]`
	}
	var b strings.Builder
	b.WriteByte('[')
	if negate {
		b.WriteByte('^')
	}
	for i := 0; i < len(r); i += 2 {
		b.WriteString(re2Rune(r[i]))
		if r[i+1] != r[i] {
			b.WriteByte('-')
			b.WriteString(re2Rune(r[i+1]))
		}
	}
	b.WriteByte(']')
	return b.String()
}

// re2Rune writes a code point for use inside or outside an RE2 class: ASCII letters and
// digits as themselves, everything else as \x{hex}, so no character is ever special.
func re2Rune(c rune) string {
	if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return string(c)
	}
	return fmt.Sprintf(`\x{%x}`, c)
}

// re2Set renders a small set of code points: one code point bare, more as a class.
func re2Set(cs []rune) string {
	if len(cs) == 1 {
		return re2Rune(cs[0])
	}
	var s runeSet
	s.add(cs...)
	return re2Class(s.ranges(), false)
}
