package zeek

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Str returns a scalar field's text, "" when unset.
func (r *Row) Str(name string) string { return r.Get(name).Str }

// List returns a container field's elements; nil when unset. A JSON string where a
// list is expected is taken as a one-element list.
func (r *Row) List(name string) []string {
	v := r.Get(name)
	switch {
	case !v.Set:
		return nil
	case v.IsList:
		return v.List
	}
	return []string{v.Str}
}

// Time returns a time field in µs since the epoch: an epoch number (TSV, or JSON's
// default) or an ISO 8601 string (JSON with the ISO timestamp option).
func (r *Row) Time(name string) (int64, bool, *LineError) {
	v := r.Get(name)
	if !v.Set {
		return 0, false, nil
	}
	us, ok := parseEpoch(v.Str)
	if !ok {
		t, err := time.Parse(time.RFC3339Nano, v.Str)
		if err != nil {
			return 0, false, r.Err(name, v.Str, "not an epoch time or RFC 3339 timestamp")
		}
		us = t.UnixMicro()
	}
	return us, true, nil
}

// parseEpoch reads "1521911720.615923" exactly (no float rounding of the micros), and
// falls back to a float for exponent forms.
func parseEpoch(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	ip, fp, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(ip, 10, 64)
	if err == nil && len(fp) <= 9 && allDigits(fp) {
		frac := (fp + "000000")[:6]
		us, _ := strconv.ParseInt(frac, 10, 64)
		if strings.HasPrefix(ip, "-") {
			us = -us
		}
		return sec*1e6 + us, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
		return 0, false
	}
	return int64(math.Round(f * 1e6)), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Count returns a count or port field (a non-negative integer).
func (r *Row) Count(name string) (int64, bool, *LineError) {
	v := r.Get(name)
	if !v.Set {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(v.Str, 10, 63)
	if err != nil {
		return 0, false, r.Err(name, v.Str, "not a non-negative integer")
	}
	return int64(n), true, nil
}

// Port returns a port field, which must fit 16 bits.
func (r *Row) Port(name string) (int64, bool, *LineError) {
	n, ok, err := r.Count(name)
	if err == nil && ok && n > 65535 {
		return 0, false, r.Err(name, r.Str(name), "port out of range 0..65535")
	}
	return n, ok, err
}

// Bool returns a bool field (T/F in TSV, true/false in JSON).
func (r *Row) Bool(name string) (bool, bool, *LineError) {
	v := r.Get(name)
	if !v.Set {
		return false, false, nil
	}
	switch v.Str {
	case "T", "true":
		return true, true, nil
	case "F", "false":
		return false, true, nil
	}
	return false, false, r.Err(name, v.Str, "not a bool (T or F)")
}

// Addr returns an address field in canonical text form; required addresses are the
// flow key, so a missing one is an error.
func (r *Row) Addr(name string) (string, *LineError) {
	v := r.Get(name)
	if !v.Set || v.Str == "" {
		return "", r.Err(name, "", "missing address")
	}
	a, err := netip.ParseAddr(v.Str)
	if err != nil {
		return "", r.Err(name, v.Str, "not an IP address")
	}
	return a.String(), nil
}
