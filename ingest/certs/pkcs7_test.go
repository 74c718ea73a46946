package certs_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/ingest/certs"
	"github.com/cipherscope/cipherscope/query"
)

// twoCerts makes a root CA and a leaf it signed, with Ed25519 keys (fast).
func twoCerts(t *testing.T) [][]byte {
	t.Helper()
	rootPub, rootKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	root := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "p7 root"},
		NotBefore: now, NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, rootPub, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "p7.example"},
		DNSNames: []string{"p7.example"}, NotBefore: now, NotAfter: now.Add(24 * time.Hour)}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, root, leafPub, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{rootDER, leafDER}
}

// bundle builds a degenerate (certificates-only) PKCS#7 signedData, the shape of
// `openssl crl2pkcs7 -nocrl` output, of the given content type.
func bundle(t *testing.T, contentType asn1.ObjectIdentifier, ders ...[]byte) []byte {
	t.Helper()
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	emptySet := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true}
	dataOID := must(asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}))
	var sd []byte
	sd = append(sd, must(asn1.Marshal(1))...)
	sd = append(sd, must(asn1.Marshal(emptySet))...)
	sd = append(sd, must(asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: dataOID}))...)
	if ders != nil {
		sd = append(sd, must(asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: bytes.Join(ders, nil)}))...)
	}
	sd = append(sd, must(asn1.Marshal(emptySet))...)
	sdSeq := must(asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: sd}))
	ci := must(asn1.Marshal(contentType))
	ci = append(ci, must(asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdSeq}))...)
	return must(asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: ci}))
}

var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

func fingerprints(ders ...[]byte) []string {
	var out []string
	for _, d := range ders {
		s := sha256.Sum256(d)
		out = append(out, hex.EncodeToString(s[:]))
	}
	slices.Sort(out)
	return out
}

func TestParsePKCS7(t *testing.T) {
	ders := twoCerts(t)
	der := bundle(t, oidSignedData, ders...)
	if !certs.IsPKCS7(der) || !certs.IsPKCS7(der[:16]) {
		t.Fatal("IsPKCS7 does not recognise a bundle (or its first 16 bytes)")
	}
	if certs.IsPKCS7(ders[0]) {
		t.Fatal("IsPKCS7 takes a certificate for a bundle")
	}
	got, err := certs.ParsePKCS7(der)
	if err != nil || len(got) != 2 || got[0].Err != nil || got[1].Err != nil ||
		!bytes.Equal(got[0].Cert.Raw, ders[0]) || !bytes.Equal(got[1].Cert.Raw, ders[1]) {
		t.Fatalf("ParsePKCS7 = %+v, %v", got, err)
	}
	// A bundle without a certificates field is valid and empty.
	if got, err := certs.ParsePKCS7(bundle(t, oidSignedData)); err != nil || len(got) != 0 {
		t.Errorf("empty bundle: %v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		der  []byte
		want string
	}{
		{"truncated", der[:len(der)-40], "PKCS#7 bundle: malformed ContentInfo: truncated: the ContentInfo declares"},
		{"not signedData", bundle(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}, ders...), "content type 1.2.840.113549.1.7.3 is not signedData"},
		{"trailing bytes", append(slices.Clone(der), 1, 2, 3), "PKCS#7 bundle: 3 unexpected bytes after the ContentInfo"},
		{"BER indefinite length", append([]byte{0x30, 0x80}, append(slices.Clone(der[4:]), 0, 0)...), "indefinite length"},
	} {
		if _, err := certs.ParsePKCS7(tc.der); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestIngestPKCS7 ingests the same two certificates as a DER and as a PEM bundle, in
// files whose names say nothing of the format, and checks the exact rows stored.
func TestIngestPKCS7(t *testing.T) {
	ders := twoCerts(t)
	der := bundle(t, oidSignedData, ders...)
	pemData := pem.EncodeToMemory(&pem.Block{Type: "PKCS7", Bytes: der})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	want := fingerprints(ders...)
	for _, tc := range []struct{ name, file string }{
		{"der", write("chain-one", der)},
		{"pem", write("chain-two.txt", append([]byte("comment line\n"), pemData...))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []ingest.Format{ingest.Auto, ingest.X509} {
				db := openDB(t)
				sum, err := ingest.Run(t.Context(), db, []string{tc.file}, ingest.Options{Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Kinds["pkcs7"] != 1 || sum.Rows[query.Cert] != 2 || sum.Loaded[query.Cert].Inserted != 2 {
					t.Errorf("%s: summary kinds %v rows %v loaded %+v", format, sum.Kinds, sum.Rows, sum.Loaded)
				}
				if got := certFingerprints(t, db); !slices.Equal(got, want) {
					t.Errorf("%s: stored %v, want %v", format, got, want)
				}
			}
		})
	}

	// Broken bundles stop the run with the file, the line and why, and store nothing.
	bad := slices.Clone(der)
	i := bytes.Index(bad, ders[1]) // garble the leaf's signature algorithm
	bad[i+len(ders[1])-70] ^= 0xff
	truncPEM := pemData[:len(pemData)/2]
	for _, tc := range []struct {
		name, file, want string
	}{
		{"truncated DER", write("trunc-der", der[:len(der)-100]), ":1: field \"certDer\": value \"certificate\": PKCS#7 bundle: malformed ContentInfo: truncated: the ContentInfo declares"},
		{"truncated PEM", write("trunc-pem", append([]byte("x\n"), truncPEM...)), ":2: field \"certDer\": value \"certificate\": malformed PEM PKCS7 block"},
		{"garbled certificate", write("garbled", bad), ":1: field \"certDer\": value \"certificate\": PKCS#7 bundle: certificate 2 of 2: x509: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			_, err := ingest.Run(t.Context(), db, []string{tc.file}, ingest.Options{})
			if err == nil || !ingest.IsInputError(err) || !strings.HasPrefix(err.Error(), tc.file+tc.want) {
				t.Fatalf("error %v\nwant prefix %s", err, tc.file+tc.want)
			}
			if got := certFingerprints(t, db); len(got) != 0 {
				t.Errorf("stored %v after an input error", got)
			}
		})
	}

	// With SkipInvalid the garbled certificate is skipped and the other one kept.
	db := openDB(t)
	sum, err := ingest.Run(t.Context(), db, []string{filepath.Join(dir, "garbled")}, ingest.Options{SkipInvalid: true})
	if err != nil || sum.Skipped != 1 || sum.Rows[query.Cert] != 1 {
		t.Fatalf("skip-invalid: %+v, %v", sum, err)
	}
	if got := certFingerprints(t, db); !slices.Equal(got, fingerprints(ders[0])) {
		t.Errorf("skip-invalid stored %v", got)
	}
}

func openDB(t *testing.T) *engine.DB {
	t.Helper()
	db, err := engine.Open(context.Background(), engine.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func certFingerprints(t *testing.T, db *engine.DB) []string {
	t.Helper()
	rr, err := db.Query(t.Context(), "SELECT certFingerprint FROM "+query.CertTable+" ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var out []string
	for rr.Next() {
		col := rr.RecordBatch().Column(0)
		for i := 0; i < col.Len(); i++ {
			out = append(out, strings.Clone(col.ValueStr(i)))
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
