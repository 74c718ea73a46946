package tlsreg

import "strings"

// The canonical protocol-version strings of the tlsVersion field.
const (
	SSLv2   = "SSLv2"
	SSLv3   = "SSLv3"
	TLSv10  = "TLSv1.0"
	TLSv11  = "TLSv1.1"
	TLSv12  = "TLSv1.2"
	TLSv13  = "TLSv1.3"
	DTLSv10 = "DTLSv1.0"
	DTLSv12 = "DTLSv1.2"
	DTLSv13 = "DTLSv1.3"
)

// versionForms maps every accepted spelling, upper-cased and without spaces, '_' or '-',
// to the canonical form. Zeek writes TLSv10..TLSv13, OpenSSL TLSv1, TLSv1.2, Wireshark "TLS 1.2".
var versionForms = map[string]string{
	"SSLV2": SSLv2, "SSL2": SSLv2, "SSL2.0": SSLv2, "SSLV2.0": SSLv2,
	"SSLV3": SSLv3, "SSL3": SSLv3, "SSL3.0": SSLv3, "SSLV3.0": SSLv3,
	"TLSV10": TLSv10, "TLSV1": TLSv10, "TLSV1.0": TLSv10, "TLS1": TLSv10, "TLS1.0": TLSv10, "TLS10": TLSv10,
	"TLSV11": TLSv11, "TLSV1.1": TLSv11, "TLS1.1": TLSv11, "TLS11": TLSv11,
	"TLSV12": TLSv12, "TLSV1.2": TLSv12, "TLS1.2": TLSv12, "TLS12": TLSv12,
	"TLSV13": TLSv13, "TLSV1.3": TLSv13, "TLS1.3": TLSv13, "TLS13": TLSv13,
	"DTLSV10": DTLSv10, "DTLSV1": DTLSv10, "DTLSV1.0": DTLSv10, "DTLS1.0": DTLSv10,
	"DTLSV12": DTLSv12, "DTLSV1.2": DTLSv12, "DTLS1.2": DTLSv12,
	"DTLSV13": DTLSv13, "DTLSV1.3": DTLSv13, "DTLS1.3": DTLSv13,
}

// versionNoise removes the separators that spellings of a version differ by.
var versionNoise = strings.NewReplacer(" ", "", "_", "", "-", "")

// NormalizeVersion returns the canonical form of a protocol version: SSLv2, SSLv3,
// TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3, DTLSv1.0, DTLSv1.2, DTLSv1.3. It accepts Zeek's
// spelling (TLSv12), OpenSSL's (TLSv1, TLSv1.2) and "TLS 1.2", in any letter case.
//
// TLS 1.3 drafts (Zeek: TLSv13-draft23, also Facebook's fizz drafts) become TLSv1.3: they
// negotiate TLS 1.3 cryptography, and the tlsVersion field has no draft values. Empty
// input and Zeek's unset marker "-" give ""; anything else unrecognised (Zeek writes
// unknown-NNNN) is returned unchanged, trimmed, so no information is lost.
func NormalizeVersion(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return ""
	}
	key := strings.ToUpper(versionNoise.Replace(s))
	if v, ok := versionForms[key]; ok {
		return v
	}
	if strings.Contains(key, "DRAFT") && (strings.HasPrefix(key, "TLSV13") || strings.HasPrefix(key, "TLS13")) {
		return TLSv13
	}
	return s
}

// ZeekVersion is the inverse of NormalizeVersion for Zeek's ssl.log: TLSv1.2 -> TLSv12,
// SSLv3 -> SSLv3, DTLSv1.2 -> DTLSv12. Unknown input is returned unchanged.
func ZeekVersion(canonical string) string {
	switch canonical {
	case TLSv10, TLSv11, TLSv12, TLSv13, DTLSv10, DTLSv12, DTLSv13:
		return strings.Replace(canonical, ".", "", 1)
	}
	return canonical
}

// VersionName returns the canonical name of a protocol-version code point
// (0x0303 -> TLSv1.2, 0xfefd -> DTLSv1.2, 0x7f17 -> TLSv1.3 as a draft), or "" if unknown.
func VersionName(v uint16) string {
	switch {
	case v == 0x0002:
		return SSLv2
	case v == 0x0300:
		return SSLv3
	case v == 0x0301:
		return TLSv10
	case v == 0x0302:
		return TLSv11
	case v == 0x0303:
		return TLSv12
	case v == 0x0304, v>>8 == 0x7f:
		return TLSv13
	case v == 0xfeff:
		return DTLSv10
	case v == 0xfefd:
		return DTLSv12
	case v == 0xfefc:
		return DTLSv13
	}
	return ""
}
