// Package jsonlex holds the pieces of JSON syntax that cipherscope's hand-rolled line
// scanners (native NDJSON, Zeek JSON logs) share. The scanners exist because
// encoding/json into maps cost most of an ingest's CPU; each falls back to encoding/json
// for what it declines, and tests compare the two.
package jsonlex

// Number scans the JSON number that starts at s[i] and returns the index just past it;
// ok is false when s[i:] does not start with a valid number (RFC 8259 grammar: an
// optional minus, no leading zeros, an optional fraction and exponent with digits).
func Number(s []byte, i int) (end int, ok bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = digits(s, i)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		d := i + 1
		if i = digits(s, d); i == d {
			return 0, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		if i = digits(s, d); i == d {
			return 0, false
		}
	}
	return i, true
}

// digits returns the index past the run of ASCII digits starting at s[i].
func digits(s []byte, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
