package tlsreg

import (
	"reflect"
	"testing"
)

func TestDerive(t *testing.T) {
	tests := []struct {
		suite, group, version string
		want                  Derived
	}{
		{"TLS_AES_128_GCM_SHA256", "x25519", "TLSv13", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ANY", Enc: "AES 128 GCM", Mac: "AEAD", ForwardSecrecy: true}},
		{"TLS_AES_256_GCM_SHA384", "X25519MLKEM768", "TLSv1.3", Derived{SuiteKnown: true,
			Kex: "ECDHE-MLKEM", Auth: "ANY", Enc: "AES 256 GCM", Mac: "AEAD", ForwardSecrecy: true, PQCKex: true}},
		{"TLS_CHACHA20_POLY1305_SHA256", "MLKEM1024", "TLSv13", Derived{SuiteKnown: true,
			Kex: "MLKEM", Auth: "ANY", Enc: "CHACHA20 POLY1305", Mac: "AEAD", ForwardSecrecy: true, PQCKex: true}},
		{"TLS_AES_128_GCM_SHA256", "X25519Kyber768Draft00", "TLSv13-draft23", Derived{SuiteKnown: true,
			Kex: "ECDHE-KYBER", Auth: "ANY", Enc: "AES 128 GCM", Mac: "AEAD", ForwardSecrecy: true, PQCKex: true}},
		{"TLS_AES_128_GCM_SHA256", "ffdhe2048", "TLSv13", Derived{SuiteKnown: true,
			Kex: "DHE", Auth: "ANY", Enc: "AES 128 GCM", Mac: "AEAD", ForwardSecrecy: true}},
		{"TLS_AES_128_CCM_8_SHA256", "", "TLSv13", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ANY", Enc: "AES 128 CCM 8", Mac: "AEAD", ForwardSecrecy: true}},
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "secp256r1", "TLSv12", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "RSA", Enc: "AES 128 GCM", Mac: "AEAD", ForwardSecrecy: true}},
		{"ECDHE-ECDSA-AES256-SHA384", "prime256v1", "TLSv12", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ECDSA", Enc: "AES 256 CBC", Mac: "SHA384", ForwardSecrecy: true}},
		{"TLS_RSA_WITH_AES_256_CBC_SHA", "", "TLSv10", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "AES 256 CBC", Mac: "SHA1",
			WeakCrypto: true, WeakReasons: []string{"protocol TLSv1.0"}}},
		{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "", "TLSv11", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "3DES EDE CBC", Mac: "SHA1",
			WeakCrypto: true, WeakReasons: []string{"protocol TLSv1.1", "cipher 3DES"}}},
		{"TLS_RSA_WITH_RC4_128_MD5", "", "SSLv3", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "RC4 128", Mac: "MD5",
			WeakCrypto: true, WeakReasons: []string{"protocol SSLv3", "cipher RC4", "MD5 MAC"}}},
		{"TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "", "TLSv10", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "DES 40 CBC", Mac: "SHA1",
			WeakCrypto: true, WeakReasons: []string{"protocol TLSv1.0", "export cipher", "cipher DES"}}},
		{"TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", "", "TLSv12", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "RC4 56", Mac: "SHA1",
			WeakCrypto: true, WeakReasons: []string{"export cipher", "cipher RC4"}}},
		{"TLS_ECDH_anon_WITH_NULL_SHA", "", "TLSv12", Derived{SuiteKnown: true,
			Kex: "ECDH", Auth: "NULL", Enc: "NULL", Mac: "SHA1",
			WeakCrypto: true, WeakReasons: []string{"anonymous key exchange", "cipher NULL"}}},
		{"TLS_RSA_WITH_NULL_SHA256", "", "TLSv12", Derived{SuiteKnown: true,
			Kex: "RSA", Auth: "RSA", Enc: "NULL", Mac: "SHA256",
			WeakCrypto: true, WeakReasons: []string{"cipher NULL"}}},
		{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "secp192r1", "TLSv12", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ECDSA", Enc: "AES 128 CBC", Mac: "SHA1", ForwardSecrecy: true,
			WeakCrypto: true, WeakReasons: []string{"weak group"}}},
		{"TLS_SHA256_SHA256", "x25519", "TLSv13", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ANY", Enc: "NULL", Mac: "SHA256", ForwardSecrecy: true,
			WeakCrypto: true, WeakReasons: []string{"cipher NULL"}}},
		{"TLS_DHE_RSA_WITH_AES_128_CCM", "", "TLSv12", Derived{SuiteKnown: true,
			Kex: "DHE", Auth: "RSA", Enc: "AES 128 CCM", Mac: "AEAD", ForwardSecrecy: true}},
		{"TLS_AEGIS_128L_SHA256", "x25519", "TLSv13", Derived{SuiteKnown: true,
			Kex: "ECDHE", Auth: "ANY", Enc: "AEGIS 128L", Mac: "AEAD", ForwardSecrecy: true}},
		// Unknown, empty and signalling suites: only protocol and group facts remain.
		{"", "", "TLSv10", Derived{WeakCrypto: true, WeakReasons: []string{"protocol TLSv1.0"}}},
		{"TLS_FALLBACK_SCSV", "X25519MLKEM768", "TLSv12", Derived{PQCKex: true}},
		{"TLS_BOGUS", "", "unknown-1234", Derived{}},
	}
	for _, tt := range tests {
		got := Derive(tt.suite, tt.group, tt.version)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Derive(%q, %q, %q)\n got %+v\nwant %+v", tt.suite, tt.group, tt.version, got, tt.want)
		}
	}
}

// TestDeriveEveryRegistrySuite checks invariants over the whole registry: every
// negotiable suite gets non-empty attributes and WeakCrypto mirrors WeakReasons.
func TestDeriveEveryRegistrySuite(t *testing.T) {
	for _, s := range All() {
		d := Derive(s.Name, "", "TLSv1.2")
		if s.Signalling() {
			if d.SuiteKnown {
				t.Errorf("%s: signalling value treated as a suite", s.Name)
			}
			continue
		}
		if d.Kex == "" || d.Auth == "" || d.Enc == "" || d.Mac == "" {
			t.Errorf("%s: empty attribute in %+v", s.Name, d)
		}
		if d.WeakCrypto != (len(d.WeakReasons) > 0) {
			t.Errorf("%s: WeakCrypto %v with reasons %v", s.Name, d.WeakCrypto, d.WeakReasons)
		}
	}
}

func TestPQCGroup(t *testing.T) {
	tests := map[string]bool{
		"X25519MLKEM768": true, "SecP256r1MLKEM768": true, "SecP384r1MLKEM1024": true,
		"MLKEM512": true, "MLKEM768": true, "mlkem1024": true, "X25519Kyber768Draft00": true,
		"x25519": false, "secp256r1": false, "ffdhe2048": false, "": false,
	}
	for g, want := range tests {
		if got := PQCGroup(g); got != want {
			t.Errorf("PQCGroup(%q) = %v, want %v", g, got, want)
		}
	}
}
