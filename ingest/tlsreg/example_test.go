package tlsreg_test

import (
	"fmt"

	"github.com/cipherscope/cipherscope/ingest/tlsreg"
)

func ExampleLookup() {
	s, ok := tlsreg.Lookup("ECDHE-RSA-AES128-GCM-SHA256")
	fmt.Printf("%v %#04x %s\n", ok, s.ID, s.Name)
	// Output: true 0xc02f TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
}

func ExampleDerive() {
	d := tlsreg.Derive("TLS_AES_128_GCM_SHA256", "X25519MLKEM768", "TLSv13")
	fmt.Println(d.Kex, "|", d.Auth, "|", d.Enc, "|", d.Mac, "|", d.ForwardSecrecy, d.PQCKex, d.WeakCrypto)
	w := tlsreg.Derive("TLS_RSA_WITH_RC4_128_SHA", "", "TLSv10")
	fmt.Printf("%q\n", w.WeakReasons)
	// Output:
	// ECDHE-MLKEM | ANY | AES 128 GCM | AEAD | true true false
	// ["protocol TLSv1.0" "cipher RC4"]
}

func ExampleNormalizeVersion() {
	for _, v := range []string{"TLSv12", "TLSv10", "SSLv3", "TLSv13-draft23", "TLS 1.1"} {
		fmt.Println(tlsreg.NormalizeVersion(v))
	}
	// Output:
	// TLSv1.2
	// TLSv1.0
	// SSLv3
	// TLSv1.3
	// TLSv1.1
}

func ExampleByID() {
	s, _ := tlsreg.ByID(0x1303)
	fmt.Println(s.Name, s.TLS13())
	// Output: TLS_CHACHA20_POLY1305_SHA256 true
}

func ExampleServiceName() {
	fmt.Println(tlsreg.ServiceName(3306), tlsreg.ServiceName(636))
	// Output: mysql ldaps
}
