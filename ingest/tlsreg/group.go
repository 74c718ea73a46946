package tlsreg

import "strings"

// Canonical names (IANA TLS Supported Groups) of the groups cipherscope generates and
// recognises by name.
const (
	GroupX25519             = "x25519"
	GroupX448               = "x448"
	GroupSecp256r1          = "secp256r1"
	GroupSecp384r1          = "secp384r1"
	GroupSecp521r1          = "secp521r1"
	GroupFFDHE2048          = "ffdhe2048"
	GroupFFDHE3072          = "ffdhe3072"
	GroupX25519MLKEM768     = "X25519MLKEM768"
	GroupSecP256r1MLKEM768  = "SecP256r1MLKEM768"
	GroupSecP384r1MLKEM1024 = "SecP384r1MLKEM1024"
	GroupMLKEM512           = "MLKEM512"
	GroupMLKEM768           = "MLKEM768"
	GroupMLKEM1024          = "MLKEM1024"
	GroupX25519Kyber768     = "X25519Kyber768Draft00"
)

// groupAliases maps other spellings (OpenSSL, NIST, Go, lower case) to IANA names. Keys
// are lower case.
var groupAliases = map[string]string{
	"prime256v1": GroupSecp256r1, "p-256": GroupSecp256r1, "p256": GroupSecp256r1, "secp256r1": GroupSecp256r1,
	"p-384": GroupSecp384r1, "p384": GroupSecp384r1, "secp384r1": GroupSecp384r1,
	"p-521": GroupSecp521r1, "p521": GroupSecp521r1, "secp521r1": GroupSecp521r1,
	"x25519": GroupX25519, "curve25519": GroupX25519, "x448": GroupX448, "curve448": GroupX448,
	"x25519mlkem768": GroupX25519MLKEM768, "secp256r1mlkem768": GroupSecP256r1MLKEM768,
	"secp384r1mlkem1024": GroupSecP384r1MLKEM1024, "mlkem512": GroupMLKEM512,
	"mlkem768": GroupMLKEM768, "mlkem1024": GroupMLKEM1024,
	"x25519kyber768draft00": GroupX25519Kyber768, "x25519kyber768": GroupX25519Kyber768,
}

// NormalizeGroup returns the IANA name of a key-exchange group given in any common
// spelling (prime256v1 and P-256 -> secp256r1, x25519mlkem768 -> X25519MLKEM768). Empty
// input and Zeek's "-" give ""; unrecognised names are returned unchanged, trimmed.
func NormalizeGroup(s string) string {
	s = strings.TrimSpace(s)
	if s == "-" {
		return ""
	}
	if g, ok := groupAliases[strings.ToLower(s)]; ok {
		return g
	}
	return s
}

// groupKind classifies a group for key-exchange naming and the weak and PQC tests.
type groupKind int

const (
	classEC groupKind = iota // also: empty or unknown
	classWeak
	classFF
	classHybrid // ECDHE + ML-KEM
	classKyber  // ECDHE + pre-standard Kyber
	classPure   // ML-KEM alone
)

// groupClass works on names, so new hybrids (curveSM2MLKEM768) are classified without a
// table entry.
func groupClass(g string) groupKind {
	l := strings.ToLower(g)
	switch {
	case strings.HasPrefix(l, "mlkem"):
		return classPure
	case strings.Contains(l, "mlkem"):
		return classHybrid
	case strings.Contains(l, "kyber"):
		return classKyber
	case strings.HasPrefix(l, "ffdhe"):
		return classFF
	case strings.HasPrefix(l, "secp160"), strings.HasPrefix(l, "secp192"),
		strings.HasPrefix(l, "sect163"), strings.HasPrefix(l, "sect193"):
		return classWeak
	}
	return classEC
}

// PQCGroup reports whether a group is a hybrid or pure post-quantum key exchange.
func PQCGroup(g string) bool { return groupClass(NormalizeGroup(g)) >= classHybrid }
