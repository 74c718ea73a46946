// Package certs reads certificates from PEM files and bundles and from DER files, and
// turns each into a cert row with every field of the cert dataset: the parse of
// crypto/x509, a text dump in the style of `openssl x509 -text`, the DER itself, and a
// self-signature check.
package certs

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // DSA keys still exist in old trust stores
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cipherscope/cipherscope/ingest/batch"
)

// The certSource values this package produces.
const (
	SourceFile       = "file"
	SourceTrustStore = "truststore"
)

// TrustStoreDirs are the system trust store locations; certificates read from under
// them get certSource "truststore".
var TrustStoreDirs = []string{"/etc/ssl/certs", "/usr/share/ca-certificates", "/etc/pki/tls/certs",
	"/etc/pki/ca-trust", "/etc/ca-certificates", "/usr/local/share/ca-certificates"}

// SourceOf is "truststore" for a path inside a system trust store, else "file".
func SourceOf(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return SourceFile
	}
	for _, d := range TrustStoreDirs {
		if abs == d || strings.HasPrefix(abs, d+"/") {
			return SourceTrustStore
		}
	}
	return SourceFile
}

// Error is a certificate that could not be read: file, line of its PEM block (1 for
// DER), and why.
type Error struct {
	File   string
	Line   int
	Reason string
}

// Error renders `file:line: field "certDer": value "certificate": reason`, the
// shape of every ingest input error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: field \"certDer\": value %q: %s", e.File, e.Line, "certificate", e.Reason)
}

// Parse reads every certificate in data — PEM (any number of CERTIFICATE and PKCS#7
// blocks; other blocks such as keys are ignored), a DER PKCS#7 bundle, or a single DER
// certificate. A certificate that does not parse goes to bad: nil from bad skips it, an
// error stops; a PKCS#7 bundle that does not parse goes to bad as a whole.
func Parse(name string, data []byte, source string, bad func(error) error) ([]batch.Cert, error) {
	if !bytes.Contains(data, []byte("-----BEGIN ")) {
		if IsPKCS7(data) {
			return parsePKCS7(name, 1, data, source, bad)
		}
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, bad(&Error{File: name, Line: 1, Reason: "not a DER certificate: " + err.Error()})
		}
		return []batch.Cert{Row(c, source)}, nil
	}
	var out []batch.Cert
	rest := data
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			if err := brokenBlock(name, data, len(data)-len(rest), rest, bad); err != nil {
				return nil, err
			}
			return out, nil
		}
		consumed := rest[:len(rest)-len(next)]
		own := bytes.LastIndex(consumed, []byte("-----BEGIN "+block.Type+"-----"))
		if own < 0 {
			own = 0
		}
		// pem.Decode silently passes over a block it cannot decode (bad base64, no END
		// line): one of ours among the bytes it skipped is an error.
		if err := brokenBlock(name, data, len(data)-len(rest), consumed[:own], bad); err != nil {
			return nil, err
		}
		line := 1 + bytes.Count(data[:len(data)-len(rest)+own], []byte("\n"))
		rest = next
		if IsPKCS7PEMType(block.Type) {
			rows, err := parsePKCS7(name, line, block.Bytes, source, bad)
			if err != nil {
				return nil, err
			}
			out = append(out, rows...)
			continue
		}
		if !isCertPEMType(block.Type) {
			continue
		}
		c, err := x509.ParseCertificate(firstElement(block.Bytes))
		if err != nil {
			if err := bad(&Error{File: name, Line: line, Reason: err.Error()}); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, Row(c, source))
	}
}

func isCertPEMType(t string) bool { return t == "CERTIFICATE" || t == "TRUSTED CERTIFICATE" }

// brokenBlock reports (through bad) the first certificate or PKCS#7 BEGIN line in
// skipped, the part of data at offset start that pem.Decode passed over without decoding.
func brokenBlock(name string, data []byte, start int, skipped []byte, bad func(error) error) error {
	for rest, pos := skipped, start; ; {
		i := bytes.Index(rest, []byte("-----BEGIN "))
		if i < 0 {
			return nil
		}
		label := rest[i+len("-----BEGIN "):]
		label, _, _ = bytes.Cut(label, []byte("\n"))
		t, ok := bytes.CutSuffix(bytes.TrimRight(label, "\r"), []byte("-----"))
		if ok && (isCertPEMType(string(t)) || IsPKCS7PEMType(string(t))) {
			line := 1 + bytes.Count(data[:pos+i], []byte("\n"))
			return bad(&Error{File: name, Line: line, Reason: fmt.Sprintf("malformed PEM %s block (bad base64, or no END line: truncated?)", t)})
		}
		rest, pos = rest[i+1:], pos+i+1
	}
}

// firstElement cuts OpenSSL's "TRUSTED CERTIFICATE" auxiliary data after the DER.
func firstElement(der []byte) []byte {
	if len(der) < 2 || der[0] != 0x30 {
		return der
	}
	n, hdr := int(der[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(der) < 2+k {
			return der
		}
		n = 0
		for _, b := range der[2 : 2+k] {
			n = n<<8 | int(b)
		}
		hdr += k
	}
	if hdr+n <= len(der) {
		return der[:hdr+n]
	}
	return der
}

// Row maps a parsed certificate to a cert row; first/last seen and server count are
// NULL (a file says nothing about traffic).
func Row(c *x509.Certificate, source string) batch.Cert {
	sum := sha256.Sum256(c.Raw)
	algo, size, curve := keyInfo(c)
	r := batch.Cert{Fingerprint: hex.EncodeToString(sum[:]), Serial: serial(c), Subject: c.Subject.String(),
		CommonName: c.Subject.CommonName, AltNames: altNames(c), Issuer: c.Issuer.String(),
		NotBefore: batch.Int(c.NotBefore.Unix()), NotAfter: batch.Int(c.NotAfter.Unix()),
		KeyAlgo: algo, Curve: curve, SigAlgo: c.SignatureAlgorithm.String(),
		IsCA: batch.Bool(c.BasicConstraintsValid && c.IsCA), SelfSigned: batch.Bool(SelfSigned(c)),
		Source: source, Txt: Text(c), DER: bytes.Clone(c.Raw)}
	if size > 0 {
		r.KeySize = batch.Int(int64(size))
	}
	return r
}

// serial renders the serial number in uppercase hex, as Zeek and the fixtures do.
func serial(c *x509.Certificate) string {
	if c.SerialNumber == nil {
		return ""
	}
	return strings.ToUpper(c.SerialNumber.Text(16))
}

// altNames lists DNS names, IP addresses, e-mail addresses and URIs, in that order;
// an empty list (not NULL) when there are none.
func altNames(c *x509.Certificate) []string {
	out := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// keyInfo returns the public key algorithm, its size in bits and its curve.
func keyInfo(c *x509.Certificate) (algo string, bits int, curve string) {
	algo = c.PublicKeyAlgorithm.String()
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return algo, k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return algo, k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		return algo, 256, "Ed25519"
	case *dsa.PublicKey:
		return algo, k.P.BitLen(), ""
	}
	return algo, 0, ""
}

// SelfSigned reports whether subject equals issuer and the signature verifies with the
// certificate's own key. CheckSignature is used rather than CheckSignatureFrom, which
// also demands CA basic constraints (a self-signed server certificate has none).
func SelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
