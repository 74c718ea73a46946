package query

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Conversions of literal text to typed values, following PostgreSQL's input functions
// for the types involved (int8in, float8in, boolin, inet_in, timestamp_in) closely
// enough that every value accepted here means the same as in PostgreSQL.

// maxExponent bounds the exponent of numeric literals so big.Rat never builds huge numbers.
const maxExponent = 400

// parseNumber reads a numeric literal (as lexed: digits, optional fraction and exponent,
// optional leading '-') exactly.
func parseNumber(text string) (*big.Rat, error) {
	mant, exp, hasExp := strings.Cut(strings.ToLower(text), "e")
	if hasExp {
		n, err := strconv.Atoi(exp)
		if err != nil || n > maxExponent || n < -maxExponent {
			return nil, fmt.Errorf("number %s is out of range", text)
		}
	}
	if strings.HasSuffix(mant, ".") {
		text = mant[:len(mant)-1]
		if hasExp {
			text += "e" + exp
		}
	}
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		return nil, fmt.Errorf("invalid number %s", text)
	}
	return r, nil
}

// ratToInt64 returns r as an int64 when r is an integer in range.
func ratToInt64(r *big.Rat) (int64, bool) {
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// intPattern is what PostgreSQL 15's int8in accepts: optional sign, decimal digits,
// surrounding whitespace.
var intPattern = regexp.MustCompile(`^\s*[+-]?[0-9]+\s*$`)

// parseIntString reads a string literal compared with an int field.
func parseIntString(s string) (int64, error) {
	if !intPattern.MatchString(s) {
		return 0, fmt.Errorf("invalid input syntax for type int: %s", quoteString(s))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "+")), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("value %s is out of range for type int (64-bit)", quoteString(s))
	}
	return n, nil
}

// parseFloatString reads a string literal compared with a float field (float8in).
func parseFloatString(s string) (float64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	if strings.ContainsAny(t, "xXpP_") {
		return 0, fmt.Errorf("invalid input syntax for type float: %s", quoteString(s))
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange || err == nil {
			return 0, fmt.Errorf("value %s is out of range for type float", quoteString(s))
		}
		return 0, fmt.Errorf("invalid input syntax for type float: %s", quoteString(s))
	}
	return f, nil
}

// parseBoolString is PostgreSQL's boolin: any unique prefix of true/false/yes/no, on/off
// (at least two letters), 1/0; case-insensitive, surrounding whitespace ignored.
func parseBoolString(s string) (bool, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t != "" {
		for _, w := range []struct {
			word string
			min  int
			val  bool
		}{{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false}, {"on", 2, true}, {"off", 2, false}} {
			if len(t) >= w.min && strings.HasPrefix(w.word, t) {
				return w.val, nil
			}
		}
		if t == "1" || t == "0" {
			return t == "1", nil
		}
	}
	return false, fmt.Errorf("invalid input syntax for type bool: %s", quoteString(s))
}

// parseInet reads an inet value: an IPv4 or IPv6 address with an optional /length.
// Host bits may be set (10.1.2.3/8), as in PostgreSQL's inet. A plain address is a
// full-length prefix. Zones and abbreviated IPv4 forms are rejected.
func parseInet(s string) (netip.Prefix, error) {
	t := strings.TrimSpace(s)
	if strings.Contains(t, "%") {
		return netip.Prefix{}, fmt.Errorf("invalid input syntax for type inet: %s (zones are not supported)", quoteString(s))
	}
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid input syntax for type inet: %s", quoteString(s))
		}
		return p, nil
	}
	a, err := netip.ParseAddr(t)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid input syntax for type inet: %s", quoteString(s))
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

var timestampPattern = regexp.MustCompile(`^([0-9]{4})-([0-9]{2})-([0-9]{2})` +
	`(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?` +
	`\s*(Z|z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$`)

// parseTimestamp reads YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS[.frac]][zone] or RFC 3339 ('T'
// separator). Without a zone the time is UTC (the storage time zone); with one it is
// converted to UTC. Fractions beyond microseconds are rejected rather than rounded.
func parseTimestamp(s string) (time.Time, error) {
	bad := fmt.Errorf("invalid timestamp %s; use RFC 3339 (2026-01-02T15:04:05Z), YYYY-MM-DD or YYYY-MM-DD HH:MM:SS[.ffffff][+hh:mm]", quoteString(s))
	m := timestampPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return time.Time{}, bad
	}
	num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
	if len(m[7]) > 6 {
		return time.Time{}, fmt.Errorf("timestamp %s has more than 6 fractional digits (microsecond precision)", quoteString(s))
	}
	frac, _ := strconv.Atoi((m[7] + "000000")[:6])
	loc, err := zone(m[8])
	if err != nil {
		return time.Time{}, bad
	}
	t := time.Date(num(1), time.Month(num(2)), num(3), num(4), num(5), num(6), frac*1000, loc)
	if t.Year() != num(1) || int(t.Month()) != num(2) || t.Day() != num(3) || t.Hour() != num(4) ||
		t.Minute() != num(5) || t.Second() != num(6) {
		return time.Time{}, fmt.Errorf("timestamp %s is out of range (no such date or time)", quoteString(s))
	}
	return t.UTC(), nil
}

// parseTimestampLiteral reads the text of a timestamp literal; typed is TIMESTAMP '...'.
// The catalog's timestamps are instants (PostgreSQL timestamptz), and an untyped string
// with an offset is read as timestamptz, offset honoured. PostgreSQL reads a TIMESTAMP
// literal as timestamp without time zone, silently dropping its zone, so a TIMESTAMP
// literal with a non-zero offset would mean another instant there: it is an error.
func parseTimestampLiteral(s string, typed bool) (time.Time, error) {
	t, err := parseTimestamp(s)
	if err != nil || !typed {
		return t, err
	}
	m := timestampPattern.FindStringSubmatch(strings.TrimSpace(s))
	if loc, _ := zone(m[8]); loc != nil {
		if _, off := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone(); off != 0 {
			return time.Time{}, fmt.Errorf("PostgreSQL ignores the time zone of a TIMESTAMP literal; write the time in UTC or use an untyped string such as %s", quoteString(s))
		}
	}
	return t, nil
}

// zone parses Z, UTC, +hh, +hh:mm or +hhmm ("" is UTC).
func zone(z string) (*time.Location, error) {
	switch z {
	case "", "Z", "z", "UTC":
		return time.UTC, nil
	}
	digits := strings.ReplaceAll(z[1:], ":", "")
	h, _ := strconv.Atoi(digits[:2])
	mins := 0
	if len(digits) == 4 {
		mins, _ = strconv.Atoi(digits[2:])
	}
	if h > 15 || mins > 59 {
		return nil, errors.New("bad zone")
	}
	off := h*3600 + mins*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), nil
}
