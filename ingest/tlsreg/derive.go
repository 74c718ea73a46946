package tlsreg

import (
	"strconv"
	"strings"
)

// Derived holds the attributes that cipherscope derives from a negotiated cipher suite,
// key-exchange group and protocol version (the discovery fields cipherKex, cipherAuth,
// cipherEnc, cipherMac, forwardSecrecy, pqcKex, weakCrypto, weakReasons).
type Derived struct {
	// SuiteKnown is false when the suite name is empty, unknown or a signalling value
	// (SCSV). Kex, Auth, Enc and Mac are then "" and ForwardSecrecy is false; storage
	// should record all five as NULL. PQCKex and the protocol reasons still apply.
	SuiteKnown bool
	// Kex is the key exchange: the registry's value for TLS 1.0-1.2 suites (RSA, DHE,
	// ECDHE, DH, ECDH, PSK, SRP, KRB5, ECCPWD, NULL); for TLS 1.3 suites it comes from the
	// group: ECDHE (elliptic curves, and when the group is empty or unrecognised, since
	// TLS 1.3 always uses (EC)DHE outside PSK-only resumption), DHE (ffdhe*), ECDHE-MLKEM
	// (hybrids such as X25519MLKEM768), ECDHE-KYBER (pre-standard Kyber hybrids) or MLKEM
	// (pure ML-KEM).
	Kex string
	// Auth is the authentication: RSA, DSS, ECDSA, PSK, KRB5, SRP, SRP+RSA, SRP+DSS,
	// ECCPWD, NULL (anonymous), or ANY for TLS 1.3 suites, whose authentication is decided
	// by the certificate and signature algorithms, not the suite (OpenSSL's "Au=any").
	Auth string
	// Enc is the bulk encryption in words: 'AES 128 GCM', 'AES 256 CBC', 'AES 128 CCM 8',
	// 'CHACHA20 POLY1305', '3DES EDE CBC', 'RC4 128', 'DES 40 CBC', 'CAMELLIA 256 GCM',
	// 'AEGIS 128L', 'NULL'. The pattern is "<cipher> <key bits> <mode>".
	Enc string
	// Mac is AEAD for AEAD ciphers (GCM, CCM, ChaCha20-Poly1305, AEGIS: integrity comes
	// from the cipher), else the HMAC hash: MD5, SHA1, SHA256, SHA384; NULL when none.
	Mac string
	// ForwardSecrecy is true for ephemeral key exchanges: DHE, ECDHE (also with PSK),
	// every TLS 1.3 suite, SRP and ECCPWD; false for RSA, static DH/ECDH, PSK, KRB5, NULL.
	ForwardSecrecy bool
	// PQCKex is true when the group is a hybrid or pure post-quantum key exchange
	// (X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024, MLKEM512/768/1024,
	// X25519Kyber768Draft00, ...).
	PQCKex bool
	// WeakCrypto is len(WeakReasons) > 0.
	WeakCrypto bool
	// WeakReasons lists, in this fixed order, every reason that applies (nil if none):
	//   "protocol SSLv2", "protocol SSLv3", "protocol TLSv1.0", "protocol TLSv1.1",
	//   "protocol DTLSv1.0" (deprecated by RFC 8996 / RFC 7568 / RFC 6176),
	//   "export cipher" (export-grade suites, including the EXPORT1024 drafts),
	//   "anonymous key exchange" (no server authentication),
	//   "cipher NULL", "cipher RC4", "cipher RC2", "cipher DES", "cipher 3DES",
	//   "cipher IDEA" (no encryption, broken stream cipher, 56-bit keys, 64-bit blocks),
	//   "MD5 MAC", "weak group" (curves below 224 bits: secp160*, secp192*, sect163*, sect193*).
	// Static RSA key exchange is not a reason: forwardSecrecy=false already says it, and
	// flagging it would mark most TLS 1.2 traffic weak. Neither is CBC mode.
	WeakReasons []string
}

// The stable weak-reason strings.
const (
	ReasonExport    = "export cipher"
	ReasonAnonymous = "anonymous key exchange"
	ReasonMD5       = "MD5 MAC"
	ReasonWeakGroup = "weak group"
)

// Derive computes the derived attributes of a negotiated suite (IANA name or any form
// Lookup accepts), key-exchange group (see NormalizeGroup) and protocol version (any
// form NormalizeVersion accepts). Empty strings mean "not seen".
func Derive(suite, group, version string) Derived {
	group = NormalizeGroup(group)
	d := Derived{PQCKex: groupClass(group) >= classHybrid}
	s, ok := Lookup(suite)
	if ok && !s.Signalling() {
		d.SuiteKnown = true
		d.Kex = kexName(s, group)
		d.Auth = authName(s)
		d.Enc = EncName(s)
		d.Mac = macName(s)
		d.ForwardSecrecy = forwardSecret(d.Kex)
	}
	d.WeakReasons = weakReasons(s, d.SuiteKnown, group, NormalizeVersion(version))
	d.WeakCrypto = len(d.WeakReasons) > 0
	return d
}

func kexName(s Suite, group string) string {
	if !s.TLS13() {
		return s.Kex
	}
	switch groupClass(group) {
	case classFF:
		return "DHE"
	case classHybrid:
		return "ECDHE-MLKEM"
	case classKyber:
		return "ECDHE-KYBER"
	case classPure:
		return "MLKEM"
	}
	return "ECDHE"
}

func authName(s Suite) string {
	if s.TLS13() {
		return "ANY"
	}
	return s.Auth
}

// EncName renders a suite's bulk cipher as words, e.g. 'AES 128 GCM' (see Derived.Enc).
func EncName(s Suite) string {
	bits := strconv.Itoa(s.EncBits)
	switch s.Enc {
	case "NULL":
		return "NULL"
	case "CHACHA20_POLY1305":
		return "CHACHA20 POLY1305"
	case "3DES":
		return "3DES EDE CBC"
	case "RC4":
		return "RC4 " + bits
	case "AEGIS":
		if strings.Contains(s.Name, "AEGIS_128L") {
			return "AEGIS 128L"
		}
		return "AEGIS " + bits
	}
	out := s.Enc + " " + bits
	if s.Mode != "" && s.Mode != "NULL" {
		out += " " + s.Mode
	}
	if strings.Contains(s.Name, "_CCM_8") {
		out += " 8"
	}
	return out
}

func macName(s Suite) string {
	if s.Mac == "AEAD" || (s.TLS13() && s.Enc != "NULL") {
		return "AEAD"
	}
	return strings.TrimPrefix(s.Mac, "HMAC-")
}

func forwardSecret(kex string) bool {
	switch kex {
	case "DHE", "ECDHE", "ECDHE-MLKEM", "ECDHE-KYBER", "MLKEM", "SRP", "ECCPWD":
		return true
	}
	return false
}

// protocolReasons lists the deprecated protocol versions, canonical form -> reason.
var protocolReasons = map[string]string{
	SSLv2:   "protocol SSLv2",
	SSLv3:   "protocol SSLv3",
	TLSv10:  "protocol TLSv1.0",
	TLSv11:  "protocol TLSv1.1",
	DTLSv10: "protocol DTLSv1.0",
}

// weakCiphers maps registry ciphers to their reason.
var weakCiphers = map[string]string{
	"NULL": "cipher NULL",
	"RC4":  "cipher RC4",
	"RC2":  "cipher RC2",
	"DES":  "cipher DES",
	"3DES": "cipher 3DES",
	"IDEA": "cipher IDEA",
}

func weakReasons(s Suite, known bool, group, version string) []string {
	var r []string
	if p, ok := protocolReasons[version]; ok {
		r = append(r, p)
	}
	if known {
		if s.Export || strings.Contains(s.Name, "EXPORT") {
			r = append(r, ReasonExport)
		}
		if s.Auth == "NULL" {
			r = append(r, ReasonAnonymous)
		}
		if c, ok := weakCiphers[s.Enc]; ok {
			r = append(r, c)
		}
		if s.Mac == "HMAC-MD5" {
			r = append(r, ReasonMD5)
		}
	}
	if groupClass(group) == classWeak {
		r = append(r, ReasonWeakGroup)
	}
	return r
}
