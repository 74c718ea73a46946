package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// row is one input row by column name; missing columns are NULL.
type row map[string]any

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The hand-made dataset of the server tests. Four flows; flow A has two observations.
// Expected rollups (by byteVolume desc): B 5000, A 1500 (2 connections), D 700, C 200.
var (
	discoveryRows = []row{
		{"obsUid": "a1", "observedAt": ts("2024-05-01T10:00:00Z"), "clientIp": "10.0.0.1", "serverIp": "10.0.1.1", "serverName": "a.example.com",
			"serverPort": 443, "protocol": "tcp", "serviceName": "https", "tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
			"kexGroup": "x25519", "cipherKex": "ECDHE", "cipherEnc": "AES 128 GCM", "cipherMac": "AEAD", "forwardSecrecy": true, "pqcKex": false,
			"weakCrypto": false, "weakReasons": []string{}, "byteVolume": 1000, "packetCount": 10},
		{"obsUid": "a2", "observedAt": ts("2024-05-01T11:00:00Z"), "clientIp": "10.0.0.1", "serverIp": "10.0.1.1", "serverName": "a.example.com",
			"serverPort": 443, "protocol": "tcp", "serviceName": "https", "tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
			"kexGroup": "x25519", "cipherKex": "ECDHE", "cipherEnc": "AES 128 GCM", "cipherMac": "AEAD", "forwardSecrecy": true, "pqcKex": false,
			"weakCrypto": false, "weakReasons": []string{}, "byteVolume": 500, "packetCount": 5},
		{"obsUid": "b1", "observedAt": ts("2024-05-02T08:30:00Z"), "clientIp": "10.0.0.2", "serverIp": "10.0.1.2", "serverName": "db.example.com",
			"serverPort": 3306, "protocol": "tcp", "serviceName": "mysql", "tlsVersion": "TLSv1.2", "cipherSuite": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
			"kexGroup": "secp256r1", "cipherKex": "ECDHE", "cipherAuth": "RSA", "cipherEnc": "AES 256 GCM", "cipherMac": "SHA384", "forwardSecrecy": true,
			"pqcKex": false, "weakCrypto": false, "weakReasons": []string{}, "byteVolume": 5000, "packetCount": 40},
		{"obsUid": "c1", "observedAt": ts("2024-05-03T00:00:00Z"), "clientIp": "2001:db8::1", "serverIp": "2001:db8::2",
			"serverPort": 443, "protocol": "tcp", "serviceName": "https", "tlsVersion": "TLSv1.0", "cipherSuite": "TLS_RSA_WITH_RC4_128_SHA",
			"cipherKex": "RSA", "cipherAuth": "RSA", "cipherEnc": "RC4 128", "cipherMac": "SHA", "forwardSecrecy": false, "pqcKex": false,
			"weakCrypto": true, "weakReasons": []string{"protocol TLSv1.0", "cipher RC4"}, "byteVolume": 200, "packetCount": 4},
		{"obsUid": "d1", "observedAt": ts("2024-05-04T12:00:00Z"), "clientIp": "10.0.0.3", "serverIp": "10.0.1.3", "serverName": "pq.example.com",
			"serverPort": 8443, "protocol": "tcp", "serviceName": "https", "tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_256_GCM_SHA384",
			"kexGroup": "X25519MLKEM768", "cipherKex": "ECDHE", "cipherEnc": "AES 256 GCM", "cipherMac": "AEAD", "forwardSecrecy": true, "pqcKex": true,
			"weakCrypto": false, "weakReasons": []string{}, "byteVolume": 700, "packetCount": 7},
	}
	certRows = []row{
		{"certFingerprint": "aa" + hex62('1'), "certSerial": "01", "certSubjectAsn1s": "CN=a.example.com", "certCommonName": "a.example.com",
			"certAltNames": []string{"a.example.com", "www.a.example.com"}, "certIssuerAsn1s": "CN=Test CA", "certNotValidBeforeEpochSecs": 1700000000,
			"certNotValidAfterEpochSecs": 1800000000, "certPublicKeyAlgo": "ECDSA", "certPublicKeySize": 256, "certCurve": "P-256",
			"certSignatureAlgo": "ECDSA-SHA256", "certIsCa": false, "certSelfSigned": false, "certSource": "traffic", "certTxt": "Certificate:\n    a",
			"certFirstSeen": ts("2024-05-01T10:00:00Z"), "certLastSeen": ts("2024-05-01T11:00:00Z"), "certServerCount": 1},
		{"certFingerprint": "bb" + hex62('2'), "certSerial": "02", "certSubjectAsn1s": "CN=db.example.com", "certCommonName": "db.example.com",
			"certAltNames": []string{"db.example.com"}, "certIssuerAsn1s": "CN=Test CA", "certNotValidBeforeEpochSecs": 1600000000,
			"certNotValidAfterEpochSecs": 1700000000, "certPublicKeyAlgo": "RSA", "certPublicKeySize": 2048,
			"certSignatureAlgo": "SHA256-RSA", "certIsCa": false, "certSelfSigned": false, "certSource": "traffic", "certTxt": "Certificate:\n    b",
			"certFirstSeen": ts("2024-05-02T08:30:00Z"), "certLastSeen": ts("2024-05-02T08:30:00Z"), "certServerCount": 2},
		{"certFingerprint": "cc" + hex62('3'), "certSerial": "03", "certSubjectAsn1s": "CN=Test CA", "certCommonName": "Test CA",
			"certIssuerAsn1s": "CN=Test CA", "certNotValidBeforeEpochSecs": 1500000000, "certNotValidAfterEpochSecs": 2000000000,
			"certPublicKeyAlgo": "RSA", "certPublicKeySize": 4096, "certSignatureAlgo": "SHA256-RSA", "certIsCa": true, "certSelfSigned": true,
			"certSource": "truststore", "certTxt": "Certificate:\n    \"ca\"", "certServerCount": 0},
	}
)

func hex62(c byte) string {
	b := make([]byte, 62)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// newTestDB opens an in-memory engine loaded with the hand-made dataset.
func newTestDB(t *testing.T) *engine.DB {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	db, err := engine.Open(context.Background(), engine.Config{Threads: 2, Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		mem.AssertSize(t, 0)
	})
	load(t, db, mem, query.Discovery, discoveryRows)
	load(t, db, mem, query.Cert, certRows)
	addTestKeys(t, db)
	return db
}

func load(t *testing.T, db *engine.DB, mem memory.Allocator, ds query.Dataset, rows []row) {
	t.Helper()
	b := array.NewRecordBuilder(mem, engine.InputSchema(ds))
	defer b.Release()
	for _, r := range rows {
		for i, f := range b.Schema().Fields() {
			appendValue(t, b.Field(i), f.Name, r[f.Name])
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	if _, err := db.Load(context.Background(), ds, rr); err != nil {
		t.Fatalf("Load %s: %v", ds, err)
	}
}

func appendValue(t *testing.T, fb array.Builder, name string, v any) {
	t.Helper()
	if v == nil {
		fb.AppendNull()
		return
	}
	switch b := fb.(type) {
	case *array.StringBuilder:
		b.Append(v.(string))
	case *array.Int64Builder:
		b.Append(int64(v.(int)))
	case *array.BooleanBuilder:
		b.Append(v.(bool))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.ListBuilder:
		b.Append(true)
		for _, s := range v.([]string) {
			b.ValueBuilder().(*array.StringBuilder).Append(s)
		}
	default:
		t.Fatalf("column %s: no test support for %T", name, fb)
	}
}

// response is what the tests compare.
type response struct {
	status int
	header http.Header
	body   string
}

// get runs one GET through app with a fixed request id (so problem bodies are exact).
func get(t *testing.T, app *fiber.App, target string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set(HeaderRequestID, "test-1")
	req.Header.Set(HeaderAPIKey, testAdminKey)
	return do(t, app, req, headers...)
}

// do sets the extra headers (name, value pairs) on req, runs it through app and reads
// the whole response.
func do(t testing.TB, app *fiber.App, req *http.Request, headers ...string) response {
	t.Helper()
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := app.Test(req, -1)
	return readResponse(t, resp, err)
}

// readResponse reads the whole response (failing the test on err).
func readResponse(t testing.TB, resp *http.Response, err error) response {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// liveServer is an app served on a loopback listener: exports need one, because they
// take over their connection once the handler returns (hijack), which app.Test cannot
// carry.
type liveServer struct{ addr string }

// serveLive serves app until the test ends.
func serveLive(t *testing.T, app *fiber.App) *liveServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(Listener(ln)) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return &liveServer{addr: ln.Addr().String()}
}

// get works like get over a real connection.
func (l *liveServer) get(t *testing.T, target string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://"+l.addr+target, nil)
	req.RequestURI = "" // a client request
	req.Header.Set(HeaderRequestID, "test-1")
	req.Header.Set(HeaderAPIKey, testAdminKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	return readResponse(t, resp, err)
}
