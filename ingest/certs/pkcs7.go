package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/cipherscope/cipherscope/ingest/batch"
)

// PKCS#7 (RFC 2315) / CMS (RFC 5652) certificate bundles, the .p7b/.p7c files that
// Windows and OpenSSL (`openssl crl2pkcs7 -nocrl`) export: a ContentInfo of type
// signedData whose SignedData carries the certificates and, usually, no signers.
//
//	ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, content [0] EXPLICIT ANY }
//	SignedData  ::= SEQUENCE { version INTEGER, digestAlgorithms SET, encapContentInfo SEQUENCE,
//	                           certificates [0] IMPLICIT SET OF CertificateChoices OPTIONAL,
//	                           crls [1] IMPLICIT SET OF ... OPTIONAL, signerInfos SET }
//
// Only DER (definite lengths) is read: encoding/asn1 rejects BER's indefinite lengths,
// which some old tools emit; such a file gets an error saying so.

var (
	oidPKCS7           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7}
	oidPKCS7SignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
)

// pkcs7PEMTypes are the PEM labels of a PKCS#7 bundle (RFC 7468 section 8 names PKCS7
// and CMS; "PKCS #7 SIGNED DATA" is OpenSSL's legacy label).
var pkcs7PEMTypes = map[string]bool{"PKCS7": true, "CMS": true, "PKCS #7 SIGNED DATA": true}

// IsPKCS7PEMType reports whether a PEM block label is a PKCS#7 bundle's.
func IsPKCS7PEMType(t string) bool { return pkcs7PEMTypes[t] }

// HasPKCS7PEM reports whether head holds the BEGIN line of a PKCS#7 PEM block.
func HasPKCS7PEM(head []byte) bool {
	for t := range pkcs7PEMTypes {
		if bytes.Contains(head, []byte("-----BEGIN "+t+"-----")) {
			return true
		}
	}
	return false
}

// IsPKCS7 reports whether head, the first bytes of a file, starts a DER (or BER) PKCS#7
// ContentInfo: a SEQUENCE whose first element is an OID under 1.2.840.113549.1.7. It
// looks only at the headers, so a truncated file is still recognised (and then fails
// to parse with a precise error).
func IsPKCS7(head []byte) bool {
	if len(head) < 2 || head[0] != 0x30 {
		return false
	}
	i := 2
	switch l := head[1]; {
	case l == 0x80: // BER indefinite length
	case l > 0x80:
		i += int(l & 0x7f)
	}
	prefix, _ := asn1.Marshal(oidPKCS7) // 06 08 2a 86 48 86 f7 0d 01 07
	body := prefix[2:]
	if len(head) < i+2+len(body) || head[i] != 0x06 || int(head[i+1]) != len(body)+1 {
		return false
	}
	return bytes.HasPrefix(head[i+2:], body)
}

// pkcs7Error is why a bundle could not be read; ParsePKCS7 returns it.
type pkcs7Error struct{ reason string }

func (e *pkcs7Error) Error() string { return e.reason }

func p7errorf(format string, args ...any) error {
	return &pkcs7Error{reason: fmt.Sprintf(format, args...)}
}

// PKCS7Cert is one certificate of a bundle: its position (1-based, counting only
// X.509 certificates) and the parse, or the error of a certificate that did not parse.
type PKCS7Cert struct {
	Index int
	Cert  *x509.Certificate
	Err   error
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue `asn1:"set"`
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue `asn1:"set"`
}

// ParsePKCS7 reads the certificates of a DER PKCS#7 signedData bundle. A structural
// problem (truncation, wrong content type, trailing bytes) is an error for the whole
// bundle; a certificate that does not parse is reported in its PKCS7Cert.Err so the
// caller can skip it. Attribute certificates and other non-X.509 choices are ignored.
// A bundle without certificates is valid and yields none.
func ParsePKCS7(der []byte) ([]PKCS7Cert, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, p7errorf("PKCS#7 bundle: malformed ContentInfo: %v", asn1Reason(err, der))
	}
	if len(bytes.TrimRight(rest, "\x00\r\n\t ")) > 0 {
		return nil, p7errorf("PKCS#7 bundle: %d unexpected bytes after the ContentInfo", len(rest))
	}
	if !ci.ContentType.Equal(oidPKCS7SignedData) {
		return nil, p7errorf("PKCS#7 bundle: content type %s is not signedData (%s), which is what carries certificates", ci.ContentType, oidPKCS7SignedData)
	}
	if len(ci.Content.FullBytes) == 0 {
		return nil, p7errorf("PKCS#7 bundle: signedData has no content")
	}
	var sd signedData
	rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd)
	if err != nil {
		return nil, p7errorf("PKCS#7 bundle: malformed SignedData: %v", err)
	}
	if len(rest) > 0 {
		return nil, p7errorf("PKCS#7 bundle: %d unexpected bytes after the SignedData", len(rest))
	}
	if len(sd.Certificates.FullBytes) == 0 {
		return nil, nil
	}
	if !sd.Certificates.IsCompound {
		return nil, p7errorf("PKCS#7 bundle: the certificates field is not a SET")
	}
	var out []PKCS7Cert
	set := sd.Certificates.Bytes
	for n := 1; len(set) > 0; {
		var elem asn1.RawValue
		set, err = asn1.Unmarshal(set, &elem)
		if err != nil {
			return nil, p7errorf("PKCS#7 bundle: malformed element after certificate %d: %v", n-1, err)
		}
		if elem.Class != asn1.ClassUniversal || elem.Tag != asn1.TagSequence {
			continue // [0] extendedCertificate, [1]/[2] attribute certificates, [3] other
		}
		c, err := x509.ParseCertificate(elem.FullBytes)
		out = append(out, PKCS7Cert{Index: n, Cert: c, Err: err})
		n++
	}
	return out, nil
}

// asn1Reason names a truncated file as such: encoding/asn1's "data truncated" does not
// say how much was expected.
func asn1Reason(err error, der []byte) string {
	if want, ok := derLength(der); ok && want > len(der) {
		return fmt.Sprintf("truncated: the ContentInfo declares %d bytes, the data has %d (%v)", want, len(der), err)
	}
	return err.Error()
}

// derLength is the total size (header included) that a DER element's header declares.
func derLength(der []byte) (int, bool) {
	if len(der) < 2 {
		return 0, false
	}
	l := int(der[1])
	if l < 0x80 {
		return 2 + l, true
	}
	k := l & 0x7f
	if k == 0 || k > 4 || len(der) < 2+k {
		return 0, false
	}
	n := 0
	for _, b := range der[2 : 2+k] {
		n = n<<8 | int(b)
	}
	return 2 + k + n, true
}

// parsePKCS7 turns a bundle found at line of file name into cert rows, sending
// problems to bad as *Error (nil from bad skips the bundle or the certificate).
func parsePKCS7(name string, line int, der []byte, source string, bad func(error) error) ([]batch.Cert, error) {
	certs, err := ParsePKCS7(der)
	if err != nil {
		return nil, bad(&Error{File: name, Line: line, Reason: err.Error()})
	}
	var out []batch.Cert
	for _, c := range certs {
		if c.Err != nil {
			if err := bad(&Error{File: name, Line: line, Reason: fmt.Sprintf("PKCS#7 bundle: certificate %d of %d: %v", c.Index, len(certs), c.Err)}); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, Row(c.Cert, source))
	}
	return out, nil
}
