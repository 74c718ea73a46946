package jsonlex

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		in  string
		end int
		ok  bool
	}{
		{"0", 1, true}, {"-0", 2, true}, {"12,", 2, true}, {"1.5e-3}", 6, true}, {"1E+2", 4, true},
		{"01", 1, true}, // the number is 0; the caller's grammar rejects what follows
		{"-", 0, false}, {"1.", 0, false}, {".5", 0, false}, {"1e", 0, false}, {"1e+", 0, false}, {"x", 0, false}, {"", 0, false},
	} {
		end, ok := Number([]byte(tt.in), 0)
		if end != tt.end || ok != tt.ok {
			t.Errorf("Number(%q) = %d, %t; want %d, %t", tt.in, end, ok, tt.end, tt.ok)
		}
	}
}

// FuzzNumber: a whole input Number accepts is a number for encoding/json too, and the
// other way round.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-12.5e+3", "1.", "01", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		end, ok := Number([]byte(s), 0)
		whole := ok && end == len(s)
		var n json.Number
		// encoding/json also allows surrounding white space and numbers in quotes.
		bare := len(s) > 0 && strings.TrimSpace(s) == s && s[0] != '"'
		valid := bare && json.Unmarshal([]byte(s), &n) == nil
		if whole != valid {
			t.Errorf("Number(%q) whole=%t, encoding/json valid=%t", s, whole, valid)
		}
	})
}
