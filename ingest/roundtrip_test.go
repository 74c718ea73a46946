package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

var roundTripConfig = fixtures.Config{Observations: 400, Certificates: 24, Seed: 11}

// reference loads fixtures.Records of the config straight into a database.
func reference(t *testing.T) *engine.DB {
	t.Helper()
	db := openDB(t)
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		rr := fixtures.Records(ds, roundTripConfig, 0)
		_, err := db.Load(context.Background(), ds, rr)
		rr.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// discoveryCols are the discovery columns Zeek carries (no clientName).
const discoveryCols = `obsUid, observedAt, clientIp, serverIp, serverName, serverPort, protocol, serviceName,
	tlsVersion, cipherSuite, kexGroup, certFingerprint, cipherKex, cipherAuth, cipherEnc, cipherMac,
	forwardSecrecy, pqcKex, weakCrypto, weakReasons, byteVolume, packetCount`

// zeekCertCols are the cert columns x509.log carries.
const zeekCertCols = `certFingerprint, certSerial, certSubjectAsn1s, certCommonName, certAltNames, certIssuerAsn1s,
	certNotValidBeforeEpochSecs, certNotValidAfterEpochSecs, certPublicKeyAlgo, certPublicKeySize, certCurve,
	certSignatureAlgo, certIsCa, certSource, certFirstSeen, certLastSeen, certServerCount`

func TestFixturesRoundTrip(t *testing.T) {
	ref := reference(t)
	allDisc := `* EXCLUDE (clientIp__fam, clientIp__num, serverIp__fam, serverIp__num)`
	for _, tc := range []struct {
		format             fixtures.Format
		discCols, certCols string
		certWhere          string
	}{
		{fixtures.ZeekTSV, discoveryCols, zeekCertCols, "certSource = 'traffic'"},
		{fixtures.ZeekJSON, discoveryCols, zeekCertCols, "certSource = 'traffic'"},
		{fixtures.CSV, allDisc, "*", "true"},
		{fixtures.NDJSON, allDisc, "*", "true"},
		{fixtures.Parquet, allDisc, "*", "true"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			paths, err := fixtures.Write(roundTripConfig, tc.format, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			db := openDB(t)
			mustRun(t, db, Options{}, paths...)
			for _, q := range []string{
				`SELECT ` + tc.discCols + ` FROM discovery_obs JOIN discovery_flow USING (flowId) ORDER BY obsUid`,
				`SELECT ` + tc.certCols + ` FROM cert WHERE ` + tc.certWhere + ` ORDER BY certFingerprint`,
			} {
				want, got := rows(t, ref, q), rows(t, db, q)
				if len(want) == 0 {
					t.Fatalf("reference has no rows for %s", q)
				}
				if len(got) != len(want) {
					t.Fatalf("%d rows, want %d: %s", len(got), len(want), q)
				}
				for i := range want {
					if g, w := strings.Join(got[i], "|"), strings.Join(want[i], "|"); g != w {
						t.Fatalf("row %d differs (%s)\n got %s\nwant %s", i, q, g, w)
					}
				}
			}
		})
	}
}

func TestMalformedLine(t *testing.T) {
	dir := t.TempDir()
	header := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tssl\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tversion\tcipher\n" +
		"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\n"
	good := "1521911720.615923\tCa\t10.0.0.1\t1000\t10.0.0.2\t443\tTLSv12\tTLS_RSA_WITH_AES_128_CBC_SHA\n"
	bad := "1521911721.000000\tCb\t10.0.0.1\t1001\t10.0.0.300\t443\tTLSv12\tTLS_RSA_WITH_AES_128_CBC_SHA\n"
	path := writeFile(t, dir, "ssl.log", header+good+bad+strings.Replace(good, "Ca", "Cc", 1))
	db := openDB(t)
	_, err := Run(context.Background(), db, []string{path}, Options{})
	line := strings.Count(header+good, "\n") + 1
	want := fmt.Sprintf("%s:%d: field", path, line) + ` "id.resp_h": value "10.0.0.300": not an IP address`
	if err == nil || err.Error() != want || !IsInputError(err) {
		t.Fatalf("error %v, want %s", err, want)
	}
	if n := counts(t, db, `SELECT 'n', count(*) FROM discovery_obs JOIN discovery_flow USING (flowId)`)["n"]; n != 0 {
		t.Fatalf("a failed run stored %d rows", n)
	}
	sum := mustRun(t, db, Options{SkipInvalid: true}, path)
	if sum.Skipped != 1 || fmt.Sprint(sum.Examples) != "["+want+"]" || sum.Rows[query.Discovery] != 2 {
		t.Fatalf("skip-invalid summary %+v", sum)
	}
}
