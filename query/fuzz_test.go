package query

import (
	"errors"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	for _, tc := range invalidFilters {
		f.Add(tc.in)
	}
	for _, tc := range checkErrors {
		f.Add(tc.filter)
	}
	for _, g := range append(append([]goldenCase{}, discoveryGolden...), certGolden...) {
		f.Add(g.req.Filter)
	}
	for _, s := range injectionCorpus {
		f.Add(s)
	}
}

// FuzzParse: Parse never panics, and whatever it accepts prints to text that parses to
// the same canonical text.
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse(%q) error %T %v is not an ErrorList", s, err, err)
			}
			for _, e := range list {
				if e.Offset < 0 || e.Offset > len(s) {
					t.Fatalf("Parse(%q): offset %d out of range", s, e.Offset)
				}
			}
			return
		}
		if e == nil {
			return
		}
		printed := e.String()
		again, err := Parse(printed)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q fails: %v", s, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("String not stable: %q -> %q -> %q", s, printed, again.String())
		}
	})
}

// FuzzCompile: compiling any filter against either dataset never panics, errors are
// ErrorLists, and successful statements bind exactly one argument per placeholder.
func FuzzCompile(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, ds := range Datasets {
			st, err := Compile(Request{Dataset: ds, Filter: s}, DuckDB)
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) || len(list) == 0 {
					t.Fatalf("Compile(%q) error %T %v is not an ErrorList", s, err, err)
				}
				continue
			}
			if n := countPlaceholders(st.SQL); n != len(st.Args) {
				t.Fatalf("Compile(%q): %d placeholders, %d args\n%s", s, n, len(st.Args), st.SQL)
			}
		}
	})
}

// countPlaceholders counts ? outside SQL string literals.
func countPlaceholders(sql string) int {
	n, inString := 0, false
	for i := 0; i < len(sql); i++ {
		switch sql[i] {
		case '\'':
			inString = !inString
		case '?':
			if !inString {
				n++
			}
		}
	}
	return n
}

// FuzzParsersAgree: the hand-written parser behind Parse and the participle grammar, the
// language's specification, accept the same filters and build equal ASTs (same node
// types, same canonical text, same spans).
func FuzzParsersAgree(f *testing.F) {
	for _, tc := range validFilters {
		f.Add(tc.in)
	}
	for _, tc := range invalidFilters {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParsersAgree(t, s) })
}
