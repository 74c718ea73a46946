package zeek

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/ingest/batch"
	"github.com/cipherscope/cipherscope/query"
)

func TestUnescape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`plain`, `plain`},
		{`O=VMware\\, Inc`, `O=VMware\, Inc`},
		{`a\x09b`, "a\tb"},
		{`a\x2cb`, "a,b"},
		{`\x2d`, "-"},
		{`trailing\`, `trailing\`},
		{`bad\xZZ`, `bad\xZZ`},
	} {
		if got := unescape(tc.in); got != tc.want {
			t.Errorf("unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseEpoch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1521911720.615923", 1521911720615923, true},
		{"1517422336.04539", 1517422336045390, true},
		{"1788220800.0", 1788220800000000, true},
		{"1788220800", 1788220800000000, true},
		{"1.5e9", 1500000000000000, true},
		{"2018-03-24T17:15:20.615923Z", 0, false}, // ISO goes through Row.Time
		{"", 0, false},
	} {
		got, ok := parseEpoch(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseEpoch(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCommonName(t *testing.T) {
	for _, tc := range []struct{ dn, want string }{
		{`CN=*.cdn.mozilla.net,O=Mozilla Corporation`, "*.cdn.mozilla.net"},
		{`unstructuredName=1315656901\,564d,CN=localhost.localdomain,O=VMware\, Inc`, "localhost.localdomain"},
		{`O=Symantec Corporation+CN=cottoncandy-PC+L=Mountain View`, "cottoncandy-PC"},
		{`CN=Globex\, TLS CA,O=Globex\, Inc.`, "Globex, TLS CA"},
		{`CN=a\2Cb`, "a,b"},
		{`O=VMware Installer`, ""},
	} {
		if got := CommonName(tc.dn); got != tc.want {
			t.Errorf("CommonName(%q) = %q, want %q", tc.dn, got, tc.want)
		}
	}
}

// TestLayouts reads the same connection in TSV (current layout with an unusual header)
// and in older JSON layouts (no curve, cert_chain_fuids + x509 id, ISO timestamps,
// nested id object) and expects the same discovery row.
func TestLayouts(t *testing.T) {
	tsvSSL := "#separator \\x7c\n#set_separator|;\n#empty_field|EMPTY\n#unset_field|NONE\n#path|ssl\n" +
		"#fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|version|cipher|curve|server_name|cert_chain_fps\n" +
		"#types|time|string|addr|port|addr|port|string|string|string|string|vector[string]\n" +
		"1521911720.615923|C1|10.0.0.1|5000|10.0.0.2|993|TLSv12|ECDHE-RSA-AES128-GCM-SHA256|NONE|mail\\x7cx|ABCD;ef01\n"
	jsonSSL := `{"ts":"2018-03-24T17:15:20.615923Z","uid":"C1","id":{"orig_h":"10.0.0.1","orig_p":5000,"resp_h":"10.0.0.2","resp_p":993},` +
		`"version":"TLSv12","cipher":"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256","server_name":"mail|x","cert_chain_fuids":["F1","F2"]}` + "\n"
	jsonX509 := `{"ts":1521911720.0,"id":"F1","fingerprint":"abcd","certificate.subject":"CN=x","certificate.issuer":"CN=y"}` + "\n"
	want := "C1 1521911720615923 10.0.0.1 10.0.0.2 mail|x 993 imaps TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 abcd ECDHE [] <nil> <nil>"
	for name, files := range map[string][]string{"tsv": {tsvSSL}, "json": {jsonSSL, jsonX509}} {
		a := NewAssembler(nil)
		for i, f := range files {
			if _, err := a.Add(fmt.Sprint(name, i), strings.NewReader(f), func(e *LineError) error { return e }); err != nil {
				t.Fatal(err)
			}
		}
		c := batch.NewBuilder(nil, query.Cert, 0)
		got := a.Build(c)
		if len(got) != 1 || got[0].NumRows() != 1 {
			t.Fatalf("%s: %d batches", name, len(got))
		}
		col := func(name string) string {
			idx := got[0].Schema().FieldIndices(name)
			a := got[0].Column(idx[0])
			if a.IsNull(0) {
				return "<nil>"
			}
			if ts, ok := a.(*array.Timestamp); ok {
				return fmt.Sprint(int64(ts.Value(0))) // µs since the epoch
			}
			return a.ValueStr(0)
		}
		var s []string
		for _, f := range []string{"obsUid", "observedAt", "clientIp", "serverIp", "serverName", "serverPort",
			"serviceName", "tlsVersion", "cipherSuite", "certFingerprint", "cipherKex", "weakReasons", "byteVolume", "packetCount"} {
			s = append(s, col(f))
		}
		if got := strings.Join(s, " "); got != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		for _, b := range got {
			b.Release()
		}
		a.Release()
		c.Release()
	}
}

func TestLineErrors(t *testing.T) {
	hdr := "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tid.resp_p\tcipher\n#types\ttime\tstring\taddr\taddr\tport\tstring\n"
	for _, tc := range []struct{ in, want string }{
		{hdr + "x\tC1\t10.0.0.1\t10.0.0.2\t443\t-\n", `f:4: field "ts": value "x": not an epoch time or RFC 3339 timestamp`},
		{hdr + "1\tC1\t10.0.0.1\t10.0.0.2\t70000\t-\n", `f:4: field "id.resp_p": value "70000": port out of range 0..65535`},
		{hdr + "1\tC1\t10.0.0.1\n", `f:4: value "1\tC1\t10.0.0.1": has 3 fields, the #fields header 6`},
		{hdr + "1\t-\t10.0.0.1\t10.0.0.2\t443\t-\n", `f:4: field "uid": value "": missing connection uid`},
		{`{"uid":"C1","id.orig_h":"10.0.0.1",` + "\n", `f:1: value "{\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.1\",": invalid JSON: unexpected EOF`},
	} {
		_, err := NewAssembler(nil).Add("f", strings.NewReader(tc.in), func(e *LineError) error { return e })
		if err == nil || err.Error() != tc.want {
			t.Errorf("error %v\nwant  %s", err, tc.want)
		}
	}
}

func TestConnIndex(t *testing.T) {
	x := newConnIndex()
	const n = 100_000 // several table growths and record and uid blocks
	for i := range n {
		x.put([]byte(fmt.Sprintf("C%07d", i)), connRec{ts: int64(i)})
	}
	x.put([]byte("C0000007"), connRec{ts: -7}) // the last row wins
	x.put([]byte(strings.Repeat("u", uidBlock+1)), connRec{ts: -1})
	for i := range n {
		want := int64(i)
		if i == 7 {
			want = -7
		}
		if r, ok := x.get(fmt.Sprintf("C%07d", i)); !ok || r.ts != want {
			t.Fatalf("get(C%07d) = %v, %v", i, r, ok)
		}
	}
	if r, ok := x.get(strings.Repeat("u", uidBlock+1)); !ok || r.ts != -1 {
		t.Fatalf("long uid: %v %v", r, ok)
	}
	for _, uid := range []string{"", "C", "C00000070", "D0000001"} {
		if _, ok := x.get(uid); ok {
			t.Errorf("get(%q) found a record", uid)
		}
	}
	if x.n != n+1 {
		t.Errorf("%d records, want %d", x.n, n+1)
	}
}
