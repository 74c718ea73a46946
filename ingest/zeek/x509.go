package zeek

import (
	"strconv"
	"strings"

	"github.com/cipherscope/cipherscope/ingest/batch"
)

// certRow is an x509.log row, decoded.
type certRow struct {
	fp, serial, subject, issuer string
	keyAlg, sigAlg, curve       string
	notBefore, notAfter         *int64
	keyLen                      *int64
	isCA                        *bool
	altNames                    []string
	ts                          int64
}

func (a *Assembler) addX509(r *row) *LineError {
	fp := strings.ToLower(r.Str(fFingerprint))
	if fp == "" {
		return r.Err(fFingerprint, nil, "missing certificate fingerprint (Zeek logs it since 4.0; the cert dataset is keyed by it)")
	}
	c := &certRow{fp: fp, serial: r.Str(fSerial), subject: r.Str(fSubject),
		issuer: r.Str(fIssuer), keyAlg: r.Str(fKeyAlg), sigAlg: r.Str(fSigAlg), curve: r.Str(fCertCurve)}
	var err *LineError
	if c.ts, _, err = r.Time(fTS); err != nil {
		return err
	}
	for _, f := range []struct {
		name field
		dst  **int64
	}{{fNotBefore, &c.notBefore}, {fNotAfter, &c.notAfter}} {
		us, ok, err := r.Time(f.name)
		if err != nil {
			return err
		}
		if ok {
			*f.dst = batch.Int(floorDiv(us, 1e6))
		}
	}
	n, ok, err := r.Count(fKeyLength)
	if err != nil {
		return err
	}
	if ok {
		c.keyLen = batch.Int(n)
	}
	// No basicConstraints extension means "not a CA" (RFC 5280 4.2.1.9); Zeek logs unset.
	ca, _, err := r.Bool(fCA)
	if err != nil {
		return err
	}
	c.isCA = batch.Bool(ca)
	c.altNames = []string{}
	for _, f := range []field{fSanDNS, fSanIP, fSanEmail, fSanURI} {
		for _, e := range r.List(f) {
			c.altNames = append(c.altNames, string(e))
		}
	}
	if id := r.Str(fID); id != "" {
		a.fuids[id] = fp
	}
	if old, ok := a.certs[fp]; ok {
		old.ts = min(old.ts, c.ts) // Zeek logs a certificate again when its cache expires
		return nil
	}
	a.certs[fp] = c
	a.order = append(a.order, fp)
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// OpenSSL's algorithm names, as Zeek logs them, mapped to the cert dataset's spelling
// (Go's crypto/x509 names, which the certificate-file ingester also uses).
var (
	keyAlgos = map[string]string{"rsaEncryption": "RSA", "id-ecPublicKey": "ECDSA", "ED25519": "Ed25519",
		"dsaEncryption": "DSA", "ED448": "Ed448", "rsassaPss": "RSA"}
	sigAlgos = map[string]string{
		"md5WithRSAEncryption": "MD5-RSA", "sha1WithRSAEncryption": "SHA1-RSA",
		"sha256WithRSAEncryption": "SHA256-RSA", "sha384WithRSAEncryption": "SHA384-RSA",
		"sha512WithRSAEncryption": "SHA512-RSA", "ecdsa-with-SHA1": "ECDSA-SHA1",
		"ecdsa-with-SHA256": "ECDSA-SHA256", "ecdsa-with-SHA384": "ECDSA-SHA384",
		"ecdsa-with-SHA512": "ECDSA-SHA512", "ED25519": "Ed25519", "dsaWithSHA1": "DSA-SHA1",
		"dsa_with_SHA256": "DSA-SHA256", "rsassaPss": "RSASSA-PSS",
	}
	curves = map[string]string{"prime256v1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521", "secp224r1": "P-224"}
)

// mapName translates a name through m, keeping unknown names as logged.
func mapName(m map[string]string, s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	return s
}

// cert renders the row in the cert dataset: the fields Zeek logs, source "traffic",
// NULL for what only the DER would tell (text dump, self-signature check, DER).
func (c *certRow) cert() batch.Cert {
	out := batch.Cert{Fingerprint: c.fp, Serial: strings.ToUpper(c.serial), Subject: c.subject,
		CommonName: CommonName(c.subject), AltNames: c.altNames, Issuer: c.issuer,
		NotBefore: c.notBefore, NotAfter: c.notAfter, KeyAlgo: mapName(keyAlgos, c.keyAlg),
		KeySize: c.keyLen, Curve: mapName(curves, c.curve), SigAlgo: mapName(sigAlgos, c.sigAlg),
		IsCA: c.isCA, Source: "traffic", FirstSeen: batch.Int(c.ts), LastSeen: batch.Int(c.ts)}
	if out.KeyAlgo == "Ed25519" && out.Curve == "" {
		out.Curve = "Ed25519" // the key type is its own curve; Zeek logs no curve for it
	}
	return out
}

// CommonName returns the value of the first CN attribute of an RFC 4514 / OpenSSL
// distinguished name such as `CN=a\, b,O=x` ("a, b"), or "" if there is none.
func CommonName(dn string) string {
	for _, rdn := range splitDN(dn) {
		k, v, ok := strings.Cut(rdn, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "CN") {
			return unescapeDN(v)
		}
	}
	return ""
}

// splitDN splits at the unescaped ',' and '+' separating attributes.
func splitDN(dn string) []string {
	var out []string
	start := 0
	for i := 0; i < len(dn); i++ {
		switch dn[i] {
		case '\\':
			i++
		case ',', '+':
			out = append(out, dn[start:i])
			start = i + 1
		}
	}
	return append(out, dn[start:])
}

// unescapeDN undoes RFC 4514 escapes: "\," is ',', "\2C" is the byte 0x2c.
func unescapeDN(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
				b.WriteByte(byte(n))
				i += 2
				continue
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
