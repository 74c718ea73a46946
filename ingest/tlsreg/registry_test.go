package tlsreg

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// registryPath is the IANA registry file, relative to this package's directory.
const registryPath = "../../../shared/data/registry/tls-ciphersuites.txt"

// TestTableAgreesWithRegistry re-reads the registry file with its own parser and checks
// that the shipped table has exactly its suites, in order, with every column equal.
func TestTableAgreesWithRegistry(t *testing.T) {
	f, err := os.Open(registryPath)
	if err != nil {
		t.Fatalf("registry file missing (it is required): %v", err)
	}
	defer f.Close()
	var want []Suite
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		want = append(want, parseLine(t, line))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	got := All()
	if len(got) != len(want) || len(want) != 352 {
		t.Fatalf("table has %d suites, registry %d (expected 352)", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("suite %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func parseLine(t *testing.T, line string) Suite {
	t.Helper()
	c := strings.Split(line, ":")
	if len(c) != 15 {
		t.Fatalf("line %q: %d columns", line, len(c))
	}
	hex := func(s string) uint16 {
		v, err := strconv.ParseUint(s, 16, 16)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		return uint16(v)
	}
	dec := func(s string) int {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		return v
	}
	return Suite{
		ID: hex(c[0]), Name: c[1], Kex: c[2], Auth: c[3], Enc: c[4], Mode: c[5], EncBits: dec(c[6]),
		Mac: c[7], MacBits: dec(c[8]), PRF: c[9], PRFBits: dec(c[10]), RFC: c[11], Export: c[12] == "1",
		MinVersion: hex(c[13]), MaxVersion: hex(c[14]),
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		in     string
		wantID uint16
		ok     bool
	}{
		{"TLS_AES_128_GCM_SHA256", 0x1301, true},
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f, true},
		{"tls_ecdhe_rsa_with_aes_128_gcm_sha256", 0xc02f, true},
		{" TLS_RSA_WITH_RC4_128_SHA ", 0x0005, true},
		{"SSL_RSA_WITH_RC4_128_SHA", 0x0005, true},
		{"TLS_DH_ANON_WITH_AES_128_CBC_SHA", 0x0034, true},
		{"ECDHE-RSA-AES128-GCM-SHA256", 0xc02f, true},
		{"ECDHE-ECDSA-CHACHA20-POLY1305", 0xcca9, true},
		{"DES-CBC3-SHA", 0x000a, true},
		{"AES128-SHA", 0x002f, true},
		{"EXP-RC4-MD5", 0x0003, true},
		{"TLS_NO_SUCH_SUITE", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		s, ok := Lookup(tt.in)
		if ok != tt.ok || s.ID != tt.wantID {
			t.Errorf("Lookup(%q) = %#04x, %v; want %#04x, %v", tt.in, s.ID, ok, tt.wantID, tt.ok)
		}
	}
}

func TestOpenSSLNamesResolve(t *testing.T) {
	for alias, iana := range opensslNames {
		if _, ok := byName[iana]; !ok {
			t.Errorf("alias %s -> %s: no such IANA suite", alias, iana)
		}
	}
}

func TestByID(t *testing.T) {
	tests := []struct {
		id   uint16
		name string
		ok   bool
	}{
		{0x1303, "TLS_CHACHA20_POLY1305_SHA256", true},
		{0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", true},
		{0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", true},
		{0xfafa, "", false}, // GREASE
	}
	for _, tt := range tests {
		s, ok := ByID(tt.id)
		if s.Name != tt.name || ok != tt.ok {
			t.Errorf("ByID(%#04x) = %q, %v; want %q, %v", tt.id, s.Name, ok, tt.name, tt.ok)
		}
	}
}

func TestNormalizeVersion(t *testing.T) {
	tests := map[string]string{
		"TLSv10": "TLSv1.0", "TLSv11": "TLSv1.1", "TLSv12": "TLSv1.2", "TLSv13": "TLSv1.3",
		"SSLv3": "SSLv3", "SSLv2": "SSLv2", "TLSv1": "TLSv1.0", "TLSv1.2": "TLSv1.2",
		"TLS 1.2": "TLSv1.2", "tlsv13": "TLSv1.3", "TLSv13-draft23": "TLSv1.3",
		"TLSv13-draft28": "TLSv1.3", "DTLSv10": "DTLSv1.0", "DTLSv12": "DTLSv1.2",
		"unknown-64282": "unknown-64282", "-": "", "": "", " TLSv12 ": "TLSv1.2",
	}
	for in, want := range tests {
		if got := NormalizeVersion(in); got != want {
			t.Errorf("NormalizeVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestZeekVersionRoundTrip(t *testing.T) {
	tests := map[string]string{
		SSLv3: "SSLv3", TLSv10: "TLSv10", TLSv11: "TLSv11", TLSv12: "TLSv12", TLSv13: "TLSv13",
		DTLSv12: "DTLSv12", "weird": "weird",
	}
	for canon, zeek := range tests {
		if got := ZeekVersion(canon); got != zeek {
			t.Errorf("ZeekVersion(%q) = %q, want %q", canon, got, zeek)
		}
		if canon != "weird" && NormalizeVersion(zeek) != canon {
			t.Errorf("NormalizeVersion(%q) = %q, want %q", zeek, NormalizeVersion(zeek), canon)
		}
	}
}

func TestVersionName(t *testing.T) {
	tests := map[uint16]string{0x0300: "SSLv3", 0x0301: "TLSv1.0", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3",
		0x7f17: "TLSv1.3", 0xfefd: "DTLSv1.2", 0x1234: ""}
	for v, want := range tests {
		if got := VersionName(v); got != want {
			t.Errorf("VersionName(%#04x) = %q, want %q", v, got, want)
		}
	}
}

func TestNormalizeGroup(t *testing.T) {
	tests := map[string]string{
		"prime256v1": "secp256r1", "P-256": "secp256r1", "secp384r1": "secp384r1", "X25519": "x25519",
		"x25519mlkem768": "X25519MLKEM768", "X25519Kyber768Draft00": "X25519Kyber768Draft00",
		"-": "", "": "", "brainpoolP256r1tls13": "brainpoolP256r1tls13",
	}
	for in, want := range tests {
		if got := NormalizeGroup(in); got != want {
			t.Errorf("NormalizeGroup(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceName(t *testing.T) {
	tests := map[uint16]string{443: "https", 636: "ldaps", 465: "smtps", 3306: "mysql", 993: "imaps",
		3389: "rdp", 8443: "https-alt", 5432: "postgresql", 853: "dns-over-tls", 8445: ""}
	for port, want := range tests {
		if got := ServiceName(port); got != want {
			t.Errorf("ServiceName(%d) = %q, want %q", port, got, want)
		}
	}
}
