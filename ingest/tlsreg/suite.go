package tlsreg

import "strings"

// Suite is one IANA TLS cipher suite. The fields are the registry columns verbatim
// (e.g. Kex "ECDHE", Auth "RSA", Enc "AES", Mode "GCM", Mac "AEAD"); TLS 1.3 suites have
// Kex and Auth "TLS13" because the handshake, not the suite, decides them. Use Derive for
// the normalised, human-readable attributes.
type Suite struct {
	// ID is the two-byte code point, e.g. 0xc02f.
	ID uint16
	// Name is the IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
	Name string
	// Kex is the key exchange: NULL, RSA, DH, DHE, ECDH, ECDHE, PSK, KRB5, SRP, ECCPWD, TLS13.
	Kex string
	// Auth is the authentication: NULL (anonymous), RSA, DSS, ECDSA, PSK, KRB5, SRP, SRP+RSA, SRP+DSS, ECCPWD, TLS13.
	Auth string
	// Enc is the bulk cipher: NULL, AES, CHACHA20_POLY1305, 3DES, DES, RC4, RC2, IDEA, SEED, CAMELLIA, ARIA, SM4, AEGIS.
	Enc string
	// Mode is the cipher mode: CBC, GCM, CCM, NULL or empty for stream ciphers.
	Mode string
	// EncBits is the effective key size in bits (40 for export ciphers, 168 for 3DES).
	EncBits int
	// Mac is the record MAC: HMAC-MD5, HMAC-SHA1, HMAC-SHA256, HMAC-SHA384, HMAC-SHA512, AEAD or NULL.
	Mac string
	// MacBits is the MAC size in bits.
	MacBits int
	// PRF is the handshake PRF hash; DEFAULT means the protocol version's default.
	PRF string
	// PRFBits is the PRF hash size in bits (0 for DEFAULT).
	PRFBits int
	// RFC lists the defining documents, comma-separated.
	RFC string
	// Export reports the registry's export flag (the EXPORT1024 draft suites are not flagged
	// there; Derive treats every suite whose name contains EXPORT as export-grade).
	Export bool
	// MinVersion and MaxVersion are the registry's protocol bounds (0x0300 = SSLv3,
	// 0xffff = no bound; 0 for signalling values).
	MinVersion, MaxVersion uint16
}

// TLS13 reports whether the suite is a TLS 1.3 suite (key exchange and authentication
// negotiated outside the suite).
func (s Suite) TLS13() bool { return s.Kex == "TLS13" }

// Signalling reports whether the code point is a signalling value (SCSV), not a suite
// that can be negotiated.
func (s Suite) Signalling() bool { return strings.HasSuffix(s.Name, "_SCSV") }

var (
	byName = map[string]int{}
	byID   = map[uint16]int{}
)

func init() {
	for i, s := range suites {
		byName[s.Name] = i
		byID[s.ID] = i
	}
	for alias, iana := range opensslNames {
		if i, ok := byName[iana]; ok {
			byName[alias] = i
		}
	}
}

// All returns every registered suite in registry-file order. The slice is a copy.
func All() []Suite {
	out := make([]Suite, len(suites))
	copy(out, suites[:])
	return out
}

// ByID returns the suite with code point id.
func ByID(id uint16) (Suite, bool) {
	i, ok := byID[id]
	if !ok {
		return Suite{}, false
	}
	return suites[i], true
}

// Lookup finds a suite by name. It accepts the IANA name exactly, the same name in any
// letter case, the SSL_ prefix of Java and old OpenSSL (SSL_RSA_WITH_RC4_128_SHA), and
// the OpenSSL names of common suites (ECDHE-RSA-AES128-GCM-SHA256, AES128-SHA, ...).
func Lookup(name string) (Suite, bool) {
	name = strings.TrimSpace(name)
	if i, ok := byName[name]; ok {
		return suites[i], true
	}
	upper := strings.ToUpper(name)
	if rest, ok := strings.CutPrefix(upper, "SSL_"); ok {
		upper = "TLS_" + rest
	}
	if i, ok := byName[upper]; ok {
		return suites[i], true
	}
	// IANA spells anonymous suites DH_anon / ECDH_anon.
	if i, ok := byName[strings.ReplaceAll(upper, "_ANON_", "_anon_")]; ok {
		return suites[i], true
	}
	return Suite{}, false
}
