package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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
				`SELECT ` + tc.discCols + ` FROM ` + observations + ` ORDER BY obsUid`,
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

// zeekLargeEnv overrides the number of observations of TestZeekLargeMatchesNative;
// CIPHERSCOPE_ZEEK_OBSERVATIONS=1000000 is the full size.
const zeekLargeEnv = "CIPHERSCOPE_ZEEK_OBSERVATIONS"

// TestZeekLargeMatchesNative is the issue's "fixture-generated Zeek TSV and JSON of 1M
// lines ingest with identical results to the native path for the same seed": the
// observations (conn.log and ssl.log of one line each per observation, plus x509.log) in
// each Zeek format, each ingested into a fresh database and compared with fixtures.Records
// loaded directly. Compared exactly: the row count of every dataset and an
// order-independent checksum over every column Zeek carries (discovery: all but
// clientName; cert: the x509.log columns of the traffic certificates).
//
// By default 100,000 observations (~200,000 conn+ssl lines, ~8 s on 2 shared cores). The
// full million (2M lines per format) takes ~47 s: 30 s of it writing the fixture files,
// ~4.2 s (TSV) and ~5 s (JSON) ingesting them (it was 292 s before the Zeek reader kept
// its rows compactly and streamed them). Set CIPHERSCOPE_ZEEK_OBSERVATIONS=1000000 to run
// the full size. Skipped with -short.
func TestZeekLargeMatchesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and ingests a large Zeek dataset twice")
	}
	cfg := fixtures.Config{Observations: 100_000, Certificates: 2_000, Seed: 21}
	if v := os.Getenv(zeekLargeEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", zeekLargeEnv, v)
		}
		cfg.Observations = n
	}
	ctx := context.Background()
	open := func(t *testing.T) *engine.DB {
		db, err := engine.Open(ctx, engine.Config{}) // all cores: this test is about volume
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	checksums := func(t *testing.T, db *engine.DB) []string {
		var out []string
		for _, q := range []string{
			`SELECT 'discovery', count(*), sum(hash(` + discoveryCols + `)) FROM ` + observations,
			`SELECT 'cert', count(*), sum(hash(` + zeekCertCols + `)) FROM cert WHERE certSource = 'traffic'`,
			// Every flow with its all-time rollup, whatever batches the observations came in.
			`SELECT 'flows', count(*), sum(hash(clientIp, serverIp, serverName, serverPort, protocol, tlsVersion, cipherSuite,
				certFingerprint, connectionCount, byteVolume, packetCount, firstSeen, lastSeen)) FROM discovery_flow`,
		} {
			r := rows(t, db, q)[0]
			out = append(out, strings.Join(r, " "))
		}
		return out
	}

	start := time.Now()
	ref := open(t)
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		rr := fixtures.Records(ds, cfg, 0)
		_, err := ref.Load(ctx, ds, rr)
		rr.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := checksums(t, ref)
	if err := ref.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("reference (fixtures.Records, native path): %v in %s", want, time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(want[0], fmt.Sprintf("discovery %d ", cfg.Observations)) {
		t.Fatalf("reference holds %v, want %d observations", want, cfg.Observations)
	}

	for _, format := range []fixtures.Format{fixtures.ZeekTSV, fixtures.ZeekJSON} {
		t.Run(string(format), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			start := time.Now()
			paths, err := fixtures.Write(cfg, format, dir)
			if err != nil {
				t.Fatal(err)
			}
			var lines, bytes int64
			for _, p := range paths {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				bytes += int64(len(data))
				lines += int64(strings.Count(string(data), "\n"))
			}
			t.Logf("wrote %d lines (%.0f MB) in %s", lines, float64(bytes)/1e6, time.Since(start).Round(time.Millisecond))

			db := open(t)
			defer db.Close()
			start = time.Now()
			sum, err := Run(ctx, db, paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			loaded := sum.Loaded[query.Discovery]
			t.Logf("ingested %d lines in %s (%.0f lines/s, %.0f observations/s; load %s)", lines,
				elapsed.Round(time.Millisecond), float64(lines)/elapsed.Seconds(),
				float64(loaded.Inserted)/elapsed.Seconds(), loaded.Duration.Round(time.Millisecond))
			_ = os.RemoveAll(dir)
			if got := checksums(t, db); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s ingest holds\n%v\nwant (native path)\n%v", format, got, want)
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
	if n := counts(t, db, `SELECT 'n', count(*) FROM `+observations)["n"]; n != 0 {
		t.Fatalf("a failed run stored %d rows", n)
	}
	sum := mustRun(t, db, Options{SkipInvalid: true}, path)
	if sum.Skipped != 1 || fmt.Sprint(sum.Examples) != "["+want+"]" || sum.Rows[query.Discovery] != 2 {
		t.Fatalf("skip-invalid summary %+v", sum)
	}
}
