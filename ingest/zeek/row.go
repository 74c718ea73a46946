package zeek

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// field is one of the Zeek fields the assembler reads. Both parsers decode only these
// (into fixed slots of a reused row, so a line costs no map and no per-field string);
// every other field is checked for well-formedness and skipped.
type field uint8

// The fields read, by their dotted Zeek names (fieldNames).
const (
	fTS field = iota
	fUID
	fPath
	fOrigH
	fRespH
	fRespP
	fVersion
	fCipher
	fCurve
	fServerName
	fEstablished
	fChainFps
	fChainFuids
	fProto
	fService
	fConnState
	fOrigPkts
	fRespPkts
	fOrigIPBytes
	fRespIPBytes
	fFingerprint
	fID
	fSerial
	fSubject
	fIssuer
	fKeyAlg
	fSigAlg
	fCertCurve
	fNotBefore
	fNotAfter
	fKeyLength
	fCA
	fSanDNS
	fSanIP
	fSanEmail
	fSanURI
	numFields
)

// fieldNames are the Zeek names of the fields, indexed by field.
var fieldNames = [numFields]string{
	fTS: "ts", fUID: "uid", fPath: "_path", fOrigH: "id.orig_h", fRespH: "id.resp_h", fRespP: "id.resp_p",
	fVersion: "version", fCipher: "cipher", fCurve: "curve", fServerName: "server_name",
	fEstablished: "established", fChainFps: "cert_chain_fps", fChainFuids: "cert_chain_fuids",
	fProto: "proto", fService: "service", fConnState: "conn_state", fOrigPkts: "orig_pkts",
	fRespPkts: "resp_pkts", fOrigIPBytes: "orig_ip_bytes", fRespIPBytes: "resp_ip_bytes",
	fFingerprint: "fingerprint", fID: "id", fSerial: "certificate.serial", fSubject: "certificate.subject",
	fIssuer: "certificate.issuer", fKeyAlg: "certificate.key_alg", fSigAlg: "certificate.sig_alg",
	fCertCurve: "certificate.curve", fNotBefore: "certificate.not_valid_before",
	fNotAfter: "certificate.not_valid_after", fKeyLength: "certificate.key_length",
	fCA: "basic_constraints.ca", fSanDNS: "san.dns", fSanIP: "san.ip", fSanEmail: "san.email", fSanURI: "san.uri",
}

// fieldByName maps a Zeek name to its slot. Lookups with m[string(b)] do not allocate.
var fieldByName = func() map[string]field {
	m := make(map[string]field, numFields)
	for f, n := range fieldNames {
		m[n] = field(f)
	}
	return m
}()

// span is a range of row.buf: a value's bytes, or a list's elements in row.elems.
type span struct{ start, end int32 }

// row is one log line decoded into the slots of the fields read. It is reused from line
// to line: its byte slices alias the line or row.buf and are valid only until the next
// line. Unset fields (TSV "-", JSON null or a missing key) are not set.
type row struct {
	file    string
	line    int
	present uint64 // the log has the field (set or not): tells layouts apart
	set     uint64 // the field has a value
	isList  uint64 // the value is a container (TSV set/vector, JSON array)
	str     [numFields][]byte
	list    [numFields]span // into elems
	elems   [][]byte
	buf     []byte      // unescaped text that does not alias the line
	name    []byte      // the JSON scanner's key buffer, kept for reuse
	keys    []cachedKey // the JSON keys of the lines so far, in order (jsonScan.lookup)
}

// reset prepares the row for the next line.
func (r *row) reset(file string, line int) {
	r.file, r.line = file, line
	r.present, r.set, r.isList = 0, 0, 0
	r.elems = r.elems[:0]
	r.buf = r.buf[:0]
}

func bit(f field) uint64 { return 1 << f }

// has reports whether the log has the field at all (set or not), which tells layouts apart.
func (r *row) has(f field) bool { return r.present&bit(f) != 0 }

// isSet reports whether the field has a value.
func (r *row) isSet(f field) bool { return r.set&bit(f) != 0 }

// setScalar stores a scalar value of f.
func (r *row) setScalar(f field, v []byte) {
	r.present |= bit(f)
	r.set |= bit(f)
	r.isList &^= bit(f)
	r.str[f] = v
}

// setUnset records a field the log has without a value.
func (r *row) setUnset(f field) {
	r.present |= bit(f)
	r.set &^= bit(f)
	r.isList &^= bit(f)
	r.str[f] = nil
}

// setList stores the elements elems[start:] as the list value of f.
func (r *row) setList(f field, start int) {
	r.present |= bit(f)
	r.set |= bit(f)
	r.isList |= bit(f)
	r.str[f] = nil
	r.list[f] = span{int32(start), int32(len(r.elems))}
}

// bytes returns a scalar field's text, nil when unset or a list.
func (r *row) bytes(f field) []byte {
	if r.set&bit(f) == 0 || r.isList&bit(f) != 0 {
		return nil
	}
	return r.str[f]
}

// Str returns a scalar field's text as a new string, "" when unset.
func (r *row) Str(f field) string { return string(r.bytes(f)) }

// List returns a container field's elements (aliasing the row); nil when unset. A
// scalar where a list is expected is taken as a one-element list.
func (r *row) List(f field) [][]byte {
	switch {
	case r.set&bit(f) == 0:
		return nil
	case r.isList&bit(f) != 0:
		s := r.list[f]
		return r.elems[s.start:s.end:s.end]
	}
	return [][]byte{r.str[f]}
}

// Err builds the LineError of a field of this row.
func (r *row) Err(f field, value []byte, reason string) *LineError {
	return &LineError{File: r.file, Line: r.line, Field: fieldNames[f], Value: string(value), Reason: reason}
}

// view returns b as a string without copying; the string must not outlive b's next change.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// Time returns a time field in µs since the epoch: an epoch number (TSV, or JSON's
// default) or an ISO 8601 string (JSON with the ISO timestamp option).
func (r *row) Time(f field) (int64, bool, *LineError) {
	if !r.isSet(f) {
		return 0, false, nil
	}
	v := r.bytes(f)
	us, ok := parseEpochBytes(v)
	if !ok {
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return 0, false, r.Err(f, v, "not an epoch time or RFC 3339 timestamp")
		}
		us = t.UnixMicro()
	}
	return us, true, nil
}

// parseEpochBytes is parseEpoch without converting the common form to a string.
func parseEpochBytes(b []byte) (int64, bool) {
	// Fast path: digits, optionally '.' and up to 6 digits (what Zeek writes).
	var sec int64
	i := 0
	for ; i < len(b) && i <= 12 && '0' <= b[i] && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
	}
	if i > 0 && i <= 12 { // at most 12 digits: the micros fit int64
		if i == len(b) {
			return sec * 1e6, true
		}
		if b[i] == '.' && len(b)-i-1 <= 6 {
			frac, n := int64(0), 0
			for j := i + 1; j < len(b); j++ {
				if b[j] < '0' || b[j] > '9' {
					return parseEpoch(string(b))
				}
				frac = frac*10 + int64(b[j]-'0')
				n++
			}
			for ; n < 6; n++ {
				frac *= 10
			}
			return sec*1e6 + frac, true
		}
	}
	return parseEpoch(string(b))
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

// Count returns a count or port field (a non-negative integer below 2^63, digits only,
// as strconv.ParseUint(s, 10, 63) accepts).
func (r *row) Count(f field) (int64, bool, *LineError) {
	if !r.isSet(f) {
		return 0, false, nil
	}
	v := r.bytes(f)
	var n uint64
	ok := len(v) > 0
	for _, c := range v {
		d := uint64(c - '0')
		if c < '0' || c > '9' || n > (math.MaxInt64-d)/10 {
			ok = false
			break
		}
		n = n*10 + d
	}
	if !ok {
		return 0, false, r.Err(f, v, "not a non-negative integer")
	}
	return int64(n), true, nil
}

// Port returns a port field, which must fit 16 bits.
func (r *row) Port(f field) (int64, bool, *LineError) {
	n, ok, err := r.Count(f)
	if err == nil && ok && n > 65535 {
		return 0, false, r.Err(f, r.bytes(f), "port out of range 0..65535")
	}
	return n, ok, err
}

// Bool returns a bool field (T/F in TSV, true/false in JSON).
func (r *row) Bool(f field) (bool, bool, *LineError) {
	if !r.isSet(f) {
		return false, false, nil
	}
	switch v := r.bytes(f); view(v) {
	case "T", "true":
		return true, true, nil
	case "F", "false":
		return false, true, nil
	default:
		return false, false, r.Err(f, v, "not a bool (T or F)")
	}
}

// Addr parses a required address field; the flow key needs it, so a missing one is an
// error.
func (r *row) Addr(f field) (netip.Addr, *LineError) {
	v := r.bytes(f)
	if len(v) == 0 {
		return netip.Addr{}, r.Err(f, nil, "missing address")
	}
	a, err := netip.ParseAddr(view(v)) // does not keep the string (a zone is interned as a copy)
	if err != nil {
		return netip.Addr{}, r.Err(f, v, "not an IP address")
	}
	return a, nil
}
