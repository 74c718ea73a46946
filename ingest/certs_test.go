package ingest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// TestTrustStoreBundle ingests the machine's CA bundle: every certificate is read, and
// the stored rows are the distinct ones, all from the trust store.
func TestTrustStoreBundle(t *testing.T) {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatalf("trust store missing: %v", err)
	}
	begins := strings.Count(string(data), "-----BEGIN CERTIFICATE-----")
	distinct := map[string]bool{}
	for _, block := range strings.Split(string(data), "-----BEGIN CERTIFICATE-----")[1:] {
		body, _, _ := strings.Cut(block, "-----END CERTIFICATE-----")
		distinct[strings.Join(strings.Fields(body), "")] = true
	}
	db := openDB(t)
	sum := mustRun(t, db, Options{}, bundle)
	if sum.Rows[query.Cert] != int64(begins) || sum.Skipped != 0 {
		t.Errorf("read %d certificates (skipped %d), the bundle has %d", sum.Rows[query.Cert], sum.Skipped, begins)
	}
	got := counts(t, db, `SELECT certSource, count(*) FROM cert GROUP BY 1`)
	if fmt.Sprint(got) != fmt.Sprint(map[string]int{"truststore": len(distinct)}) {
		t.Errorf("stored %v, want %d truststore rows", got, len(distinct))
	}
	// Every field a DER gives is filled.
	nulls := counts(t, db, `SELECT 'n', count(*) FROM cert WHERE certSerial IS NULL OR certSubjectAsn1s IS NULL
		OR certIssuerAsn1s IS NULL OR certNotValidAfterEpochSecs IS NULL OR certPublicKeyAlgo IS NULL OR certPublicKeySize IS NULL
		OR certSignatureAlgo IS NULL OR certIsCa IS NULL OR certSelfSigned IS NULL OR certTxt IS NULL OR certDer IS NULL`)
	if nulls["n"] != 0 {
		t.Errorf("%d trust store rows with NULL fields", nulls["n"])
	}
}

// TestCertFiles checks the fields of generated certificates read from PEM and DER.
func TestCertFiles(t *testing.T) {
	dir := t.TempDir()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	nb, na := time.Unix(1700000000, 0).UTC(), time.Unix(1800000000, 0).UTC()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(0x1234), Subject: pkix.Name{CommonName: "Test Root", Organization: []string{"Globex, Inc."}},
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(0xABCDEF), Subject: pkix.Name{CommonName: "www.example.com"},
		NotBefore: nb, NotAfter: na, DNSNames: []string{"www.example.com", "example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1")},
		EmailAddresses: []string{"ops@example.com"}, BasicConstraintsValid: true}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	pemData := "junk before\n" + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}))
	writeFile(t, dir, "bundle.txt", pemData)
	writeFile(t, dir, "leaf.bin", string(leafDER))
	db := openDB(t)
	mustRun(t, db, Options{}, dir)
	fp := func(der []byte) string { s := sha256.Sum256(der); return hex.EncodeToString(s[:]) }
	got := rows(t, db, `SELECT certFingerprint, certSerial, certSubjectAsn1s, certCommonName, certAltNames, certIssuerAsn1s,
		certNotValidBeforeEpochSecs, certNotValidAfterEpochSecs, certPublicKeyAlgo, certPublicKeySize, certCurve,
		certSignatureAlgo, certIsCa, certSelfSigned, certSource, certFirstSeen, octet_length(certDer) FROM cert ORDER BY certIsCa`)
	want := [][]string{
		{fp(leafDER), "ABCDEF", "CN=www.example.com", "www.example.com", `["www.example.com","example.com","192.0.2.1","ops@example.com"]`,
			`CN=Test Root,O=Globex\, Inc.`, "1700000000", "1800000000", "ECDSA", "384", "P-384", "ECDSA-SHA256", "false", "false", "file", "NULL", fmt.Sprint(len(leafDER))},
		{fp(rootDER), "1234", `CN=Test Root,O=Globex\, Inc.`, "Test Root", "[]", `CN=Test Root,O=Globex\, Inc.`,
			"1700000000", "1800000000", "ECDSA", "256", "P-256", "ECDSA-SHA256", "true", "true", "file", "NULL", fmt.Sprint(len(rootDER))},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cert rows\n got %v\nwant %v", got, want)
	}
	txt := rows(t, db, `SELECT certTxt FROM cert WHERE certIsCa`)[0][0]
	for _, s := range []string{"Serial Number:\n            12:34\n", "Issuer: O = \"Globex, Inc.\", CN = Test Root\n",
		"Not Before: Nov 14 22:13:20 2023 GMT", "ASN1 OID: prime256v1", "CA:TRUE"} {
		if !strings.Contains(txt, s) {
			t.Errorf("certTxt lacks %q:\n%s", s, txt)
		}
	}
	// A broken PEM block stops the run with the file and the line of its BEGIN marker.
	bad := writeFile(t, dir, "bad.pem", "x\n\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	_, err = Run(t.Context(), db, []string{bad}, Options{})
	if err == nil || !strings.HasPrefix(err.Error(), bad+":3: ") || !IsInputError(err) {
		t.Errorf("bad PEM error %v", err)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		head string
		want fileKind
	}{
		{"#separator \\x09\n#set_separator\t,", kindZeek},
		{`{"ts": 1.5, "uid": "C1", "id.orig_h": "10.0.0.1"}`, kindZeek},
		{`{"ts":1.5,"fingerprint":"ab"}`, kindZeek},
		{`{"obsUid":"C1","observedAt":"2026-09-01T00:00:00.000000Z"}`, kindNativeNDJSON},
		{`{"certFingerprint":"ab"}`, kindNativeNDJSON},
		{"obsUid,observedAt,clientIp\n", kindNativeCSV},
		{"certFingerprint,certSerial\n", kindNativeCSV},
		{"PAR1\x15\x04", kindParquet},
		{"subject=x\n-----BEGIN CERTIFICATE-----\n", kindPEM},
		{"\x30\x82\x01\x0a\x02", kindDER},
		{"hello,world\n", kindUnknown},
		{`{"a":1}`, kindUnknown},
	} {
		if got := detect([]byte(tc.head), Auto); got != tc.want {
			t.Errorf("detect(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
	if got := detect([]byte("obsUid,x\n"), X509); got != kindUnknown {
		t.Errorf("--format x509 accepted a CSV file: %q", got)
	}
}
