package certs

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// OpenSSL's names, as `openssl x509 -text` prints them.
var (
	opensslSig = map[x509.SignatureAlgorithm]string{
		x509.MD5WithRSA: "md5WithRSAEncryption", x509.SHA1WithRSA: "sha1WithRSAEncryption",
		x509.SHA256WithRSA: "sha256WithRSAEncryption", x509.SHA384WithRSA: "sha384WithRSAEncryption",
		x509.SHA512WithRSA: "sha512WithRSAEncryption", x509.ECDSAWithSHA1: "ecdsa-with-SHA1",
		x509.ECDSAWithSHA256: "ecdsa-with-SHA256", x509.ECDSAWithSHA384: "ecdsa-with-SHA384",
		x509.ECDSAWithSHA512: "ecdsa-with-SHA512", x509.PureEd25519: "ED25519",
		x509.SHA256WithRSAPSS: "rsassaPss", x509.SHA384WithRSAPSS: "rsassaPss", x509.SHA512WithRSAPSS: "rsassaPss",
		x509.DSAWithSHA1: "dsaWithSHA1", x509.DSAWithSHA256: "dsa_with_SHA256",
	}
	opensslKey   = map[x509.PublicKeyAlgorithm]string{x509.RSA: "rsaEncryption", x509.ECDSA: "id-ecPublicKey", x509.Ed25519: "ED25519", x509.DSA: "dsaEncryption"}
	opensslCurve = map[string]string{"P-224": "secp224r1", "P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1"}
	attrNames    = map[string]string{"2.5.4.6": "C", "2.5.4.8": "ST", "2.5.4.7": "L", "2.5.4.10": "O", "2.5.4.11": "OU",
		"2.5.4.3": "CN", "2.5.4.5": "serialNumber", "2.5.4.9": "street", "2.5.4.17": "postalCode",
		"1.2.840.113549.1.9.1": "emailAddress", "0.9.2342.19200300.100.1.25": "DC", "2.5.4.97": "organizationIdentifier"}
)

// Text renders c like `openssl x509 -noout -text`, without the hex dumps of the key and
// the signature (they are searchable nowhere and would dominate the text). The layout
// follows fixtures' renderer so generated and real certificates read alike.
func Text(c *x509.Certificate) string {
	var b strings.Builder
	sig := sigName(c)
	fmt.Fprintf(&b, "Certificate:\n    Data:\n        Version: %d (0x%x)\n        Serial Number:\n            %s\n",
		c.Version, c.Version-1, colonHex(c.SerialNumber))
	fmt.Fprintf(&b, "        Signature Algorithm: %s\n", sig)
	fmt.Fprintf(&b, "        Issuer: %s\n", onelineName(c.Issuer))
	fmt.Fprintf(&b, "        Validity\n            Not Before: %s\n            Not After : %s\n",
		opensslTime(c.NotBefore), opensslTime(c.NotAfter))
	fmt.Fprintf(&b, "        Subject: %s\n", onelineName(c.Subject))
	writeKey(&b, c)
	writeExtensions(&b, c)
	fmt.Fprintf(&b, "    Signature Algorithm: %s\n", sig)
	return b.String()
}

func sigName(c *x509.Certificate) string {
	if s, ok := opensslSig[c.SignatureAlgorithm]; ok {
		return s
	}
	return c.SignatureAlgorithm.String()
}

func writeKey(b *strings.Builder, c *x509.Certificate) {
	algo, ok := opensslKey[c.PublicKeyAlgorithm]
	if !ok {
		algo = c.PublicKeyAlgorithm.String()
	}
	fmt.Fprintf(b, "        Subject Public Key Info:\n            Public Key Algorithm: %s\n", algo)
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		fmt.Fprintf(b, "                Public-Key: (%d bit)\n                Exponent: %d (0x%x)\n", k.N.BitLen(), k.E, k.E)
	case *ecdsa.PublicKey:
		p := k.Curve.Params()
		fmt.Fprintf(b, "                Public-Key: (%d bit)\n                ASN1 OID: %s\n                NIST CURVE: %s\n",
			p.BitSize, opensslCurve[p.Name], p.Name)
	default:
		if c.PublicKeyAlgorithm == x509.Ed25519 {
			b.WriteString("                ED25519 Public-Key:\n")
		}
	}
}

func writeExtensions(b *strings.Builder, c *x509.Certificate) {
	if len(c.Extensions) == 0 {
		return
	}
	b.WriteString("        X509v3 extensions:\n")
	if c.BasicConstraintsValid {
		b.WriteString("            X509v3 Basic Constraints: critical\n")
		switch {
		case c.IsCA && (c.MaxPathLen > 0 || c.MaxPathLenZero):
			fmt.Fprintf(b, "                CA:TRUE, pathlen:%d\n", c.MaxPathLen)
		case c.IsCA:
			b.WriteString("                CA:TRUE\n")
		default:
			b.WriteString("                CA:FALSE\n")
		}
	}
	if usages := keyUsages(c.KeyUsage); usages != "" {
		fmt.Fprintf(b, "            X509v3 Key Usage: \n                %s\n", usages)
	}
	var parts []string
	for _, d := range c.DNSNames {
		parts = append(parts, "DNS:"+d)
	}
	for _, e := range c.EmailAddresses {
		parts = append(parts, "email:"+e)
	}
	for _, ip := range c.IPAddresses {
		parts = append(parts, "IP Address:"+ip.String())
	}
	for _, u := range c.URIs {
		parts = append(parts, "URI:"+u.String())
	}
	if len(parts) > 0 {
		fmt.Fprintf(b, "            X509v3 Subject Alternative Name: \n                %s\n", strings.Join(parts, ", "))
	}
	if len(c.SubjectKeyId) > 0 {
		fmt.Fprintf(b, "            X509v3 Subject Key Identifier: \n                %s\n", colonHexBytes(c.SubjectKeyId, true))
	}
}

func keyUsages(u x509.KeyUsage) string {
	names := []string{"Digital Signature", "Non Repudiation", "Key Encipherment", "Data Encipherment",
		"Key Agreement", "Certificate Sign", "CRL Sign", "Encipher Only", "Decipher Only"}
	var out []string
	for i, n := range names {
		if u&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

func colonHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	neg := n.Sign() < 0
	s := colonHexBytes(new(big.Int).Abs(n).Bytes(), false)
	if neg {
		return "(Negative)" + s
	}
	return s
}

func colonHexBytes(bs []byte, upper bool) string {
	parts := make([]string, len(bs))
	for i, x := range bs {
		parts[i] = fmt.Sprintf("%02x", x)
		if upper {
			parts[i] = strings.ToUpper(parts[i])
		}
	}
	return strings.Join(parts, ":")
}

// onelineName prints a name as OpenSSL 3 does by default: attributes in DER order
// (most significant first), "key = value", values with commas quoted.
func onelineName(n pkix.Name) string {
	var parts []string
	for _, a := range n.Names {
		k := attrName(a.Type)
		v := fmt.Sprint(a.Value)
		if strings.ContainsAny(v, ",+") {
			v = `"` + v + `"`
		}
		parts = append(parts, k+" = "+v)
	}
	return strings.Join(parts, ", ")
}

func attrName(oid asn1.ObjectIdentifier) string {
	if n, ok := attrNames[oid.String()]; ok {
		return n
	}
	return oid.String()
}

// opensslTime formats like OpenSSL: "Nov  3 00:00:00 2016 GMT".
func opensslTime(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }
