package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// wrccdcVersion is the test's own reading of Zeek's version spellings.
var wrccdcVersion = map[string]string{"-": "NULL", "SSLv3": "SSLv3", "TLSv10": "TLSv1.0", "TLSv11": "TLSv1.1", "TLSv12": "TLSv1.2"}

// observations is the FROM target of one row per stored observation: the observation
// table joined with its flow's key and derived columns (not the flow's all-time rollup,
// whose names are the observation columns' own).
const observations = `discovery_obs JOIN (SELECT * EXCLUDE (connectionCount, byteVolume, packetCount, firstSeen, lastSeen) FROM discovery_flow) USING (flowId)`

func TestZeekTSVReal(t *testing.T) {
	dir := dataDir + "zeek/tsv-wrccdc-slice/"
	ssl := dataLines(t, dir+"ssl.log")
	x509 := dataLines(t, dir+"x509.log")
	wantVersion, wantCipher, wantCurve := map[string]int{}, map[string]int{}, map[string]int{}
	fps := map[string]bool{}
	for _, l := range ssl {
		f := strings.Split(l, "\t")
		v, ok := wrccdcVersion[f[6]]
		if !ok {
			t.Fatalf("test does not know version %q", f[6])
		}
		wantVersion[v]++
		wantCipher[strings.ToUpper(strings.Replace(f[7], "-", "NULL", 1))]++
		c := f[8]
		if c == "-" {
			c = "NULL"
		}
		wantCurve[c]++
	}
	for _, l := range x509 {
		fps[strings.Split(l, "\t")[1]] = true
	}
	db := openDB(t)
	sum := mustRun(t, db, Options{}, dir+"ssl.log", dir+"x509.log")
	if sum.Files != 2 || sum.Rows["discovery"] != int64(len(ssl)) || sum.Rows["cert"] != int64(len(fps)) {
		t.Errorf("summary %+v; want 2 files, %d discovery, %d cert rows", sum, len(ssl), len(fps))
	}
	checkCounts(t, "tlsVersion", counts(t, db, `SELECT coalesce(tlsVersion,'NULL'), count(*) FROM `+observations+` GROUP BY 1`), wantVersion)
	checkCounts(t, "cipherSuite", counts(t, db, `SELECT upper(coalesce(cipherSuite,'NULL')), count(*) FROM `+observations+` GROUP BY 1`), wantCipher)
	checkCounts(t, "kexGroup", counts(t, db, `SELECT coalesce(kexGroup,'NULL'), count(*) FROM `+observations+` GROUP BY 1`), wantCurve)
	if got := counts(t, db, `SELECT 'n', count(*) FROM cert WHERE certSource = 'traffic'`)["n"]; got != len(fps) {
		t.Errorf("cert rows %d, want %d", got, len(fps))
	}
	// Derived fields come from the registry: an ECDHE suite says ECDHE.
	got := rows(t, db, `SELECT cipherKex, cipherEnc, forwardSecrecy FROM `+observations+` WHERE cipherSuite = 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' LIMIT 1`)
	if fmt.Sprint(got) != "[[ECDHE AES 128 GCM true]]" {
		t.Errorf("derived %v", got)
	}
	// The escaped comma of a DN: "VMware\\, Inc" in the file is "VMware\, Inc".
	got = rows(t, db, `SELECT certSubjectAsn1s, certCommonName, certPublicKeyAlgo, certSignatureAlgo, certAltNames FROM cert WHERE certFingerprint = 'b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe'`)
	want := `[[unstructuredName=1315656901\,564d7761726520496e632e,CN=localhost.localdomain,emailAddress=ssl-certificates@vmware.com,OU=VMware ESX Server Default Certificate,O=VMware\, Inc,L=Palo Alto,ST=California,C=US localhost.localdomain RSA SHA256-RSA ["localhost.localdomain"]]]`
	if fmt.Sprint(got) != want {
		t.Errorf("cert\n got %v\nwant %s", got, want)
	}
	// Re-ingesting the same files adds nothing.
	again := mustRun(t, db, Options{}, dir+"ssl.log", dir+"x509.log")
	if again.Loaded["discovery"].Inserted != 0 || again.Loaded["cert"].Inserted != 0 {
		t.Errorf("re-ingest inserted %+v", again.Loaded)
	}
	if n := counts(t, db, `SELECT 'n', count(*) FROM `+observations)["n"]; n != len(ssl) {
		t.Errorf("after re-ingest %d rows, want %d", n, len(ssl))
	}
}

func checkCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s counts\n got %v\nwant %v", what, got, want)
	}
}

// TestZeekJSONRitaJoin checks the ssl-conn join on the RITA sample: every ssl row is
// kept, and those whose uid is in conn.log get conn's volumes.
func TestZeekJSONRitaJoin(t *testing.T) {
	dir := dataDir + "zeek/json-rita/"
	type conn struct {
		UID                string `json:"uid"`
		OrigIP, RespIP     int64
		OrigPkts, RespPkts int64
	}
	conns := map[string][2]int64{}
	for _, l := range dataLines(t, dir+"conn.log") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		conns[m["uid"].(string)] = [2]int64{int64(m["orig_ip_bytes"].(float64) + m["resp_ip_bytes"].(float64)),
			int64(m["orig_pkts"].(float64) + m["resp_pkts"].(float64))}
	}
	ssl := dataLines(t, dir+"ssl.log")
	want := map[string]string{}
	joined := 0
	for _, l := range ssl {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		uid := m["uid"].(string)
		want[uid] = "NULL NULL"
		if c, ok := conns[uid]; ok {
			joined++
			want[uid] = fmt.Sprintf("%d %d", c[0], c[1])
		}
	}
	db := openDB(t)
	mustRun(t, db, Options{}, dir+"ssl.log", dir+"conn.log") // ssl first: the join waits for all files
	got := map[string]string{}
	for _, r := range rows(t, db, `SELECT obsUid, coalesce(CAST(byteVolume AS VARCHAR),'NULL'), coalesce(CAST(packetCount AS VARCHAR),'NULL') FROM `+observations) {
		got[r[0]] = r[1] + " " + r[2]
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("join\n got %v\nwant %v", got, want)
	}
	if n := counts(t, db, `SELECT 'n', count(*) FROM `+observations+` WHERE byteVolume IS NOT NULL`)["n"]; n != joined || joined == 0 {
		t.Errorf("%d rows with a conn partner, want %d (of %d)", n, joined, len(ssl))
	}
}
