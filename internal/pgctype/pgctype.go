// Package pgctype reads PostgreSQL's character semantics — the case mappings and the
// POSIX character classes of its regular expressions — from a running server, and renders
// them as the Go tables of query/zz_pgctype.go.
//
// The filter language must match PostgreSQL 15 in the C.UTF-8 locale exactly, and those
// semantics come from glibc's towupper, towlower and isw* functions, which Go's unicode
// package does not reproduce (different Unicode versions, different choices for titlecase
// and special letters). So the tables are measured on PostgreSQL itself, every code point
// at once, by the generator in ./gen; internal/difftest re-measures them on every run and
// fails when the checked-in file drifts from the server.
package pgctype

import (
	"bytes"
	"context"
	"fmt"
	"go/format"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Classes lists the class tables, in bit order: the POSIX classes of bracket expressions
// and the class escapes \w, \s, \d measured on their own (so that their definitions as
// [[:alnum:]_], [[:space:]] and [[:digit:]] are checked, not assumed).
var Classes = []struct{ Name, Regex string }{
	{"alpha", `[[:alpha:]]`}, {"upper", `[[:upper:]]`}, {"lower", `[[:lower:]]`},
	{"digit", `[[:digit:]]`}, {"alnum", `[[:alnum:]]`}, {"space", `[[:space:]]`},
	{"punct", `[[:punct:]]`}, {"xdigit", `[[:xdigit:]]`}, {"cntrl", `[[:cntrl:]]`},
	{"print", `[[:print:]]`}, {"graph", `[[:graph:]]`}, {"blank", `[[:blank:]]`},
	{"word", `\w`}, {"escS", `\s`}, {"escD", `\d`},
	// Under REG_ICASE PostgreSQL reads [:upper:] and [:lower:] as [:alpha:]; measured to
	// check that rule, not emitted.
	{"iupper", `(?i)[[:upper:]]`}, {"ilower", `(?i)[[:lower:]]`},
}

// emitted is how many of Classes are rendered; the rest only verify.
const emitted = 15

// MaxRune is the largest code point; surrogates (U+D800..U+DFFF) are not characters.
const MaxRune = 0x10FFFF

// Tables are PostgreSQL's character semantics.
type Tables struct {
	Upper, Lower [][2]rune         // (c, towupper(c)) and (c, towlower(c)) where they differ from c
	Class        map[string][]rune // sorted inclusive ranges lo0, hi0, lo1, hi1, ...
}

// Fetch measures the tables over every code point in one query: upper() and lower() (which
// call towupper/towlower in C.UTF-8, as the regex engine does above ASCII) and one regex
// match per class, packed into a bit mask. Only code points with a mapping or a class are
// returned.
func Fetch(ctx context.Context, conn *pgx.Conn) (*Tables, error) {
	var enc, ctype string
	if err := conn.QueryRow(ctx, "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database WHERE datname = current_database()").Scan(&enc, &ctype); err != nil {
		return nil, err
	}
	if enc != "UTF8" || ctype != "C.UTF-8" {
		return nil, fmt.Errorf("pgctype: database is %s/%s; need UTF8/C.UTF-8", enc, ctype)
	}
	rows, err := conn.Query(ctx, query())
	if err != nil {
		return nil, err
	}
	t := &Tables{Class: map[string][]rune{}}
	member := make([][]rune, len(Classes))
	for rows.Next() {
		var c, up, lo int32
		var bits int64
		if err := rows.Scan(&c, &up, &lo, &bits); err != nil {
			return nil, err
		}
		if up != c {
			t.Upper = append(t.Upper, [2]rune{c, up})
		}
		if lo != c {
			t.Lower = append(t.Lower, [2]rune{c, lo})
		}
		for i := range Classes {
			if bits&(1<<i) != 0 {
				member[i] = append(member[i], c)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, cl := range Classes {
		t.Class[cl.Name] = ranges(member[i])
	}
	return t, t.verify()
}

// query builds the set-based measurement: code points 1..MaxRune without surrogates
// (chr(0) is not a valid text character).
func query() string {
	var bits bytes.Buffer
	for i, cl := range Classes {
		if i > 0 {
			bits.WriteString(" | ")
		}
		fmt.Fprintf(&bits, "(CASE WHEN s ~ '%s' THEN %d ELSE 0 END)", cl.Regex, int64(1)<<i)
	}
	return fmt.Sprintf(`SELECT c, ascii(upper(s)), ascii(lower(s)), bits FROM (
	  SELECT c, s, %s AS bits FROM (
	    SELECT c, chr(c) AS s FROM generate_series(1, %d) AS c WHERE c < 55296 OR c > 57343) AS cp) AS m
	WHERE bits <> 0 OR ascii(upper(s)) <> c OR ascii(lower(s)) <> c ORDER BY c`, bits.String(), MaxRune)
}

// verify checks the rules the translation in package query relies on.
func (t *Tables) verify() error {
	eq := func(a, b []rune) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
	word := union(t.Class["alnum"], []rune{'_', '_'})
	for _, c := range []struct {
		what string
		a, b []rune
	}{
		{`\w = [[:alnum:]_]`, t.Class["word"], word},
		{`\s = [[:space:]]`, t.Class["escS"], t.Class["space"]},
		{`\d = [[:digit:]]`, t.Class["escD"], t.Class["digit"]},
		{`(?i)[[:upper:]] = [[:alpha:]]`, t.Class["iupper"], t.Class["alpha"]},
		{`(?i)[[:lower:]] = [[:alpha:]]`, t.Class["ilower"], t.Class["alpha"]},
	} {
		if !eq(c.a, c.b) {
			return fmt.Errorf("pgctype: PostgreSQL does not have %s", c.what)
		}
	}
	return nil
}

// ranges turns sorted code points into inclusive ranges.
func ranges(cps []rune) []rune {
	var out []rune
	for _, c := range cps {
		if n := len(out); n > 0 && out[n-1] == c-1 {
			out[n-1] = c
			continue
		}
		out = append(out, c, c)
	}
	return out
}

// union merges two range lists.
func union(a, b []rune) []rune {
	var cps []rune
	for _, r := range [][]rune{a, b} {
		for i := 0; i < len(r); i += 2 {
			for c := r[i]; c <= r[i+1]; c++ {
				cps = append(cps, c)
			}
		}
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i] < cps[j] })
	var dedup []rune
	for i, c := range cps {
		if i == 0 || c != cps[i-1] {
			dedup = append(dedup, c)
		}
	}
	return ranges(dedup)
}

// Render returns the Go source of query/zz_pgctype.go.
func Render(t *Tables, version string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by go run -tags duckdb_arrow ./internal/pgctype/gen -out query/zz_pgctype.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package query\n\n// Measured on %s (UTF8, C.UTF-8) over U+0001..U+10FFFF without surrogates.\n\n", version)
	pairs := func(name, doc string, ps [][2]rune) {
		fmt.Fprintf(&b, "// %s\nvar %s = []rune{", doc, name)
		for i, p := range ps {
			if i%6 == 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "0x%x, 0x%x, ", p[0], p[1])
		}
		b.WriteString("\n}\n\n")
	}
	pairs("pgUpperPairs", "pgUpperPairs holds c, towupper(c) for every c whose upper() differs from c, sorted by c.", t.Upper)
	pairs("pgLowerPairs", "pgLowerPairs holds c, towlower(c) for every c whose lower() differs from c, sorted by c.", t.Lower)
	b.WriteString("// pgClassRanges holds, per class, sorted inclusive code-point ranges lo, hi, lo, hi, ...\n")
	b.WriteString("// (word is \\w, measured on its own).\nvar pgClassRanges = map[string][]rune{\n")
	for _, cl := range Classes[:emitted] {
		if cl.Name == "escS" || cl.Name == "escD" {
			continue // equal to space and digit (verified)
		}
		r := t.Class[cl.Name]
		fmt.Fprintf(&b, "%q: {", cl.Name)
		for i := 0; i < len(r); i += 2 {
			if i%12 == 0 {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "0x%x, 0x%x, ", r[i], r[i+1])
		}
		b.WriteString("\n},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// Version returns the server's version string, for the header of the generated file.
func Version(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v string
	err := conn.QueryRow(ctx, "SELECT 'PostgreSQL ' || current_setting('server_version')").Scan(&v)
	return v, err
}
