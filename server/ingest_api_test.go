package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/ingest"
	"github.com/cipherscope/cipherscope/query"
)

// zeekData is the shared reference data (server/ -> the repository root -> ../shared).
const zeekData = "../../shared/data/zeek/"

const ingestURL = Base + "/ingest"

// sslJSON is a hand-made Zeek JSON ssl.log: two TLS connections to two servers.
const sslJSON = `{"ts": 1714557600.5, "uid": "Cingest00000000001", "id.orig_h": "10.9.0.1", "id.orig_p": 50001, "id.resp_h": "10.9.1.1", "id.resp_p": 443, "version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256", "curve": "x25519", "server_name": "one.example.org", "established": true}
{"ts": 1714561200.25, "uid": "Cingest00000000002", "id.orig_h": "10.9.0.2", "id.orig_p": 50002, "id.resp_h": "10.9.1.2", "id.resp_p": 8443, "version": "TLSv12", "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "curve": "secp256r1", "server_name": "two.example.org", "established": true}
`

// badSSLJSON has a malformed port on its second line.
const badSSLJSON = `{"ts": 1714557600.5, "uid": "Cingest00000000003", "id.orig_h": "10.9.0.3", "id.orig_p": 50003, "id.resp_h": "10.9.1.3", "id.resp_p": 443, "version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256", "server_name": "three.example.org"}
{"ts": 1714557601.5, "uid": "Cingest00000000004", "id.orig_h": "10.9.0.4", "id.orig_p": 50004, "id.resp_h": "10.9.1.4", "id.resp_p": "https", "version": "TLSv13", "cipher": "TLS_AES_128_GCM_SHA256"}
`

// ingestEnv is an application over an empty database (only the test keys) whose
// uploads are spooled under dir.
type ingestEnv struct {
	app *fiber.App
	db  *engine.DB
	dir string
}

func newIngestEnv(t *testing.T, cfg Config) *ingestEnv {
	t.Helper()
	db := newKeyDB(t)
	cfg.UploadDir = t.TempDir()
	return &ingestEnv{app: New(db, cfg), db: db, dir: cfg.UploadDir}
}

// send runs one request with the given key ("" sends none) and checks what every
// answer of the route must hold: the upload directory is empty again, and no server
// path appears in the response.
func (e *ingestEnv) send(t *testing.T, target, key, contentType string, body []byte, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set(HeaderRequestID, "test-1")
	if key != "" {
		req.Header.Set(HeaderAPIKey, key)
	}
	if contentType != "" {
		req.Header.Set(fiber.HeaderContentType, contentType)
	}
	r := do(t, e.app, req, headers...)
	e.checkClean(t, r)
	return r
}

func (e *ingestEnv) checkClean(t *testing.T, r response) {
	t.Helper()
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("upload directory not empty after the request: %v", ents)
	}
	for _, leak := range []string{e.dir, os.TempDir() + "/", uploadDirPattern} {
		if strings.Contains(r.body, leak) || strings.Contains(fmt.Sprint(r.header), leak) {
			t.Errorf("response mentions %q: %s", leak, r.body)
		}
	}
}

// counts returns the stored rows per dataset.
func (e *ingestEnv) counts(t *testing.T) map[query.Dataset]int64 {
	t.Helper()
	out := map[query.Dataset]int64{}
	for _, ds := range query.Datasets {
		n, err := e.db.RowCount(context.Background(), ds)
		if err != nil {
			t.Fatal(err)
		}
		out[ds] = n
	}
	return out
}

type part struct{ field, filename, content string }

// multipartBody encodes parts; a part without filename is a plain form field.
func multipartBody(t *testing.T, parts ...part) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var pw io.Writer
		var err error
		if p.filename != "" {
			pw, err = w.CreateFormFile(p.field, p.filename)
		} else {
			pw, err = w.CreateFormField(p.field)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(pw, p.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// summaryOf decodes a 201 answer, with the time zeroed.
func summaryOf(t *testing.T, r response) ingestSummary {
	t.Helper()
	if r.status != http.StatusCreated || r.header.Get(fiber.HeaderContentType) != fiber.MIMEApplicationJSON {
		t.Fatalf("status %d (%s): %s", r.status, r.header.Get(fiber.HeaderContentType), r.body)
	}
	var s ingestSummary
	dec := json.NewDecoder(strings.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	s.DurationMs = 0
	return s
}

func checkSummary(t *testing.T, got ingestSummary, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != want {
		t.Errorf("summary\n got %s\nwant %s", b, want)
	}
}

func readShared(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(zeekData + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestIngestRaw: a raw body named by ?name= is stored, answers an exact summary, is
// queryable at once, and uploading it again adds nothing.
func TestIngestRaw(t *testing.T) {
	e := newIngestEnv(t, Config{})
	r := e.send(t, ingestURL+"?name=ssl.log", testAdminKey, "application/x-ndjson", []byte(sslJSON))
	checkSummary(t, summaryOf(t, r), `{"files":[{"name":"ssl.log","bytes":`+fmt.Sprint(len(sslJSON))+`}],"kinds":{"zeek":1},`+
		`"datasets":{"cert":{"rows":0,"inserted":0,"updated":0,"duplicates":0},"discovery":{"rows":2,"inserted":2,"updated":0,"duplicates":0}},`+
		`"skipped":0,"examples":[],"durationMs":0}`)

	g := get(t, e.app, q(disc, "columns", "serverIp,serverName,serverPort,tlsVersion,cipherSuite,kexGroup,cipherKex,connectionCount,firstSeen",
		"sorts", "serverName asc", "reportFilteredCount", "true"))
	want := `{"data":[` +
		`{"serverIp":"10.9.1.1","serverName":"one.example.org","serverPort":443,"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","kexGroup":"x25519","cipherKex":"ECDHE","connectionCount":1,"firstSeen":"2024-05-01T10:00:00.5Z"},` +
		`{"serverIp":"10.9.1.2","serverName":"two.example.org","serverPort":8443,"tlsVersion":"TLSv1.2","cipherSuite":"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384","kexGroup":"secp256r1","cipherKex":"ECDHE","connectionCount":1,"firstSeen":"2024-05-01T11:00:00.25Z"}` +
		`],"pagination":{"limit":100,"offset":0,"returned":2},"filteredCount":2}`
	if g.status != 200 || g.body != want {
		t.Errorf("GET %d\n got %s\nwant %s", g.status, g.body, want)
	}

	// The same file again: nothing new, both rows reported as duplicates.
	before := e.counts(t)
	r = e.send(t, ingestURL+"?name=ssl.log", testAdminKey, "application/octet-stream", []byte(sslJSON))
	checkSummary(t, summaryOf(t, r), `{"files":[{"name":"ssl.log","bytes":`+fmt.Sprint(len(sslJSON))+`}],"kinds":{"zeek":1},`+
		`"datasets":{"cert":{"rows":0,"inserted":0,"updated":0,"duplicates":0},"discovery":{"rows":2,"inserted":0,"updated":0,"duplicates":2}},`+
		`"skipped":0,"examples":[],"durationMs":0}`)
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) || before[query.Discovery] != 2 {
		t.Errorf("counts before %v after %v", before, after)
	}

	// Without a name the file is called "upload"; without a Content-Type the body is a file.
	r = e.send(t, ingestURL, testAdminKey, "", []byte(sslJSON))
	if s := summaryOf(t, r); len(s.Files) != 1 || s.Files[0].Name != "upload" {
		t.Errorf("default name: %+v", s.Files)
	}
}

// TestIngestMultipartZeekReal uploads the real conn.log and ssl.log of the RITA sample and
// the x509.log of the WRCCDC slice in one multipart body: one run joins conn to ssl
// across the files, and every certificate is stored.
func TestIngestMultipartZeekReal(t *testing.T) {
	conn, ssl, x509 := readShared(t, "json-rita/conn.log"), readShared(t, "json-rita/ssl.log"), readShared(t, "tsv-wrccdc-slice/x509.log")
	// Expected from the files themselves: every ssl line is one observation; those
	// whose uid is in conn.log get its volume (orig_ip_bytes + resp_ip_bytes).
	volume := map[string]int64{}
	for _, l := range strings.Split(strings.TrimSpace(conn), "\n") {
		var raw map[string]any
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatal(err)
		}
		volume[raw["uid"].(string)] = int64(raw["orig_ip_bytes"].(float64) + raw["resp_ip_bytes"].(float64))
	}
	sslLines := strings.Split(strings.TrimSpace(ssl), "\n")
	var wantVolume int64
	joined := 0
	for _, l := range sslLines {
		var raw map[string]any
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatal(err)
		}
		if v, ok := volume[raw["uid"].(string)]; ok {
			wantVolume += v
			joined++
		}
	}
	fps := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(x509), "\n") {
		if !strings.HasPrefix(l, "#") {
			fps[strings.Split(l, "\t")[1]] = true
		}
	}
	if len(sslLines) != 10 || joined == 0 || len(fps) != 40 {
		t.Fatalf("reference data changed: %d ssl lines, %d joined, %d certificates", len(sslLines), joined, len(fps))
	}

	e := newIngestEnv(t, Config{})
	ct, body := multipartBody(t, part{"file", "conn.log", conn}, part{"file", "ssl.log", ssl}, part{"file", "x509.log", x509},
		part{"format", "", "zeek"})
	r := e.send(t, ingestURL, testAdminKey, ct, body)
	wantSummary := fmt.Sprintf(`{"files":[{"name":"conn.log","bytes":%d},{"name":"ssl.log","bytes":%d},{"name":"x509.log","bytes":%d}],"kinds":{"zeek":3},`+
		`"datasets":{"cert":{"rows":40,"inserted":40,"updated":0,"duplicates":0},"discovery":{"rows":10,"inserted":10,"updated":0,"duplicates":0}},`+
		`"skipped":0,"examples":[],"durationMs":0}`, len(conn), len(ssl), len(x509))
	checkSummary(t, summaryOf(t, r), wantSummary)

	// Queryable: every observation counted once, the joined volumes summed, every certificate.
	g := get(t, e.app, q(disc, "columns", "connectionCount,byteVolume", "limit", "1000"))
	var page struct {
		Data []struct {
			ConnectionCount int64  `json:"connectionCount"`
			ByteVolume      *int64 `json:"byteVolume"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(g.body), &page); err != nil || g.status != 200 {
		t.Fatalf("GET %d %s", g.status, g.body)
	}
	var conns, vol int64
	for _, d := range page.Data {
		conns += d.ConnectionCount
		if d.ByteVolume != nil {
			vol += *d.ByteVolume
		}
	}
	if conns != 10 || vol != wantVolume {
		t.Errorf("discovery: %d connections, byteVolume %d; want 10, %d", conns, vol, wantVolume)
	}
	if g := get(t, e.app, q("/api/v1/dta_cert", "columns", "certFingerprint", "limit", "1", "reportFilteredCount", "true")); !strings.HasSuffix(g.body, `"filteredCount":40}`) {
		t.Errorf("GET dta_cert: %d %s", g.status, g.body)
	}

	// The same upload again (another boundary): nothing new.
	before := e.counts(t)
	ct, body = multipartBody(t, part{"file", "conn.log", conn}, part{"file", "ssl.log", ssl}, part{"file", "x509.log", x509})
	s := summaryOf(t, e.send(t, ingestURL+"?format=zeek", testAdminKey, ct, body))
	if d := s.Datasets[query.Discovery]; d.Inserted != 0 || d.Duplicates != 10 {
		t.Errorf("re-upload discovery %+v", d)
	}
	if c := s.Datasets[query.Cert]; c.Inserted != 0 || c.Rows != 40 {
		t.Errorf("re-upload cert %+v", c)
	}
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts before %v after %v", before, after)
	}
}

// TestIngestMalformedLine: one bad line fails the whole upload with a problem naming
// the uploaded file and line; nothing is stored, not even the good files.
func TestIngestMalformedLine(t *testing.T) {
	e := newIngestEnv(t, Config{})
	before := e.counts(t)
	ct, body := multipartBody(t, part{"file", "good.log", sslJSON}, part{"file", "ssl.log", badSSLJSON})
	r := e.send(t, ingestURL, testAdminKey, ct, body)
	want := `{"type":"about:blank","title":"Unprocessable Entity","status":422,` +
		`"detail":"ssl.log:2: field \"id.resp_p\": value \"https\": not a non-negative integer",` +
		`"instance":"/api/v1/ingest","traceId":"test-1","file":"ssl.log","line":2,"field":"id.resp_p"}`
	if r.status != 422 || r.header.Get(fiber.HeaderContentType) != ProblemContentType || r.body != want {
		t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
	}
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts before %v after %v", before, after)
	}

	// A raw body is named by ?name=, or "upload".
	r = e.send(t, ingestURL, testAdminKey, "text/plain", []byte(badSSLJSON))
	if !strings.Contains(r.body, `"detail":"upload:2: field \"id.resp_p\"`) || !strings.Contains(r.body, `"file":"upload","line":2`) {
		t.Errorf("raw: %d %s", r.status, r.body)
	}
	// A file that is nothing ingest knows: named, without a line.
	r = e.send(t, ingestURL+"?name=notes.txt", testAdminKey, "text/plain", []byte("just some notes\n"))
	want = `{"type":"about:blank","title":"Unprocessable Entity","status":422,` +
		`"detail":"notes.txt: cannot tell the format from the content (want Zeek TSV/JSON, PEM/DER, or native CSV/NDJSON/Parquet)",` +
		`"instance":"/api/v1/ingest","traceId":"test-1","file":"notes.txt"}`
	if r.status != 422 || r.body != want {
		t.Errorf("unknown format: %d %s\nwant %s", r.status, r.body, want)
	}
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts before %v after %v", before, after)
	}
}

// TestIngestSkipInvalid: with skipInvalid the good lines are stored and the summary
// counts and quotes the skipped ones, by the uploaded names.
func TestIngestSkipInvalid(t *testing.T) {
	e := newIngestEnv(t, Config{})
	ct, body := multipartBody(t, part{"file", "good.log", sslJSON}, part{"file", "ssl.log", badSSLJSON}, part{"skipInvalid", "", "true"})
	s := summaryOf(t, e.send(t, ingestURL, testAdminKey, ct, body))
	checkSummary(t, s, fmt.Sprintf(`{"files":[{"name":"good.log","bytes":%d},{"name":"ssl.log","bytes":%d}],"kinds":{"zeek":2},`+
		`"datasets":{"cert":{"rows":0,"inserted":0,"updated":0,"duplicates":0},"discovery":{"rows":3,"inserted":3,"updated":0,"duplicates":0}},`+
		`"skipped":1,"examples":["ssl.log:2: field \"id.resp_p\": value \"https\": not a non-negative integer"],"durationMs":0}`, len(sslJSON), len(badSSLJSON)))
	if n := e.counts(t)[query.Discovery]; n != 3 {
		t.Errorf("%d observations stored, want 3", n)
	}
	// The query-string form of the parameter works the same.
	s = summaryOf(t, e.send(t, ingestURL+"?skipInvalid=true&name=ssl.log", testAdminKey, "text/plain", []byte(badSSLJSON)))
	if s.Skipped != 1 || s.Datasets[query.Discovery].Duplicates != 1 {
		t.Errorf("query string skipInvalid: %+v", s)
	}
}

// TestIngestTooLarge: over MaxUploadBytes is 413 whether the length is declared or only
// found while reading (chunked); nothing is stored and nothing stays on disk.
func TestIngestTooLarge(t *testing.T) {
	e := newIngestEnv(t, Config{MaxUploadBytes: 1000})
	body := []byte(sslJSON + strings.Repeat("\n", 1001-len(sslJSON)))
	want := `{"type":"about:blank","title":"Request Entity Too Large","status":413,` +
		`"detail":"the upload is larger than the maximum of 1000 bytes; nothing was stored","instance":"/api/v1/ingest","traceId":"test-1"}`
	r := e.send(t, ingestURL, testAdminKey, "text/plain", body)
	if r.status != 413 || r.body != want {
		t.Errorf("declared length: %d %s", r.status, r.body)
	}
	// Exactly the limit is fine (empty lines end the JSON log).
	if r := e.send(t, ingestURL, testAdminKey, "text/plain", body[:1000]); r.status != 201 {
		t.Errorf("at the limit: %d %s", r.status, r.body)
	}
	before := e.counts(t)

	// Chunked, through a real connection: the limit is found while spooling. A raw body
	// needs a Content-Length (411): only a multipart body marks its own end.
	addr := serveLive(t, e.app).addr
	chunked := func(contentType string, body []byte) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+addr+ingestURL, io.MultiReader(bytes.NewReader(body))) // unknown length
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(HeaderAPIKey, testAdminKey)
		req.Header.Set(HeaderRequestID, "test-1")
		req.Header.Set(fiber.HeaderContentType, contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		r := response{status: resp.StatusCode, header: resp.Header, body: string(got)}
		e.checkClean(t, r)
		return r
	}
	ct, mp := multipartBody(t, part{"file", "a.log", strings.Repeat("y", 600)}, part{"file", "b.log", strings.Repeat("z", 600)})
	if r := chunked(ct, mp); r.status != 413 || r.body != want {
		t.Errorf("multipart chunked: %d %s", r.status, r.body)
	}
	ct, mp = multipartBody(t, part{"file", "ssl.log", sslJSON})
	if r := chunked(ct, mp); r.status != 201 {
		t.Errorf("multipart chunked within the limit: %d %s", r.status, r.body)
	}
	want411 := `{"type":"about:blank","title":"Length Required","status":411,"detail":"a raw upload needs a Content-Length ` +
		`(a chunked body cut short cannot be told from a complete one); send multipart/form-data to upload without one",` +
		`"instance":"/api/v1/ingest","traceId":"test-1"}`
	if r := chunked("text/plain", []byte(sslJSON)); r.status != 411 || r.body != want411 {
		t.Errorf("raw chunked: %d %s", r.status, r.body)
	}
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts before %v after %v", before, after)
	}
}

// TestIngestClientAbort: a client that goes away mid-upload leaves nothing stored and
// nothing on disk.
func TestIngestClientAbort(t *testing.T) {
	e := newIngestEnv(t, Config{})
	addr := serveLive(t, e.app).addr
	before := e.counts(t)
	ct, body := multipartBody(t, part{"file", "ssl.log", sslJSON}, part{"file", "x509.log", readShared(t, "tsv-wrccdc-slice/x509.log")})
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+ingestURL, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderAPIKey, testAdminKey)
	req.Header.Set(fiber.HeaderContentType, ct)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		done <- err
	}()
	if _, err := pw.Write(body[:len(body)/2]); err != nil { // ssl.log whole, x509.log in part
		t.Fatal(err)
	}
	// The server is spooling once its upload directory exists.
	waitFor(t, "the upload to start", func() bool { ents, _ := os.ReadDir(e.dir); return len(ents) == 1 })
	cancel()
	_ = pw.CloseWithError(errors.New("client gone"))
	if err := <-done; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("client: %v", err)
	}
	waitFor(t, "the upload directory to be removed", func() bool { ents, _ := os.ReadDir(e.dir); return len(ents) == 0 })
	if after := e.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("counts before %v after %v", before, after)
	}
	// The slot was released: the next ingest runs.
	if r := e.send(t, ingestURL+"?name=ssl.log", testAdminKey, "text/plain", []byte(sslJSON)); r.status != 201 {
		t.Errorf("after an abort: %d %s", r.status, r.body)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestIngestOneAtATime: while an ingest runs, another gets 503 with Retry-After.
func TestIngestOneAtATime(t *testing.T) {
	started, proceed := make(chan struct{}), make(chan struct{})
	e := newIngestEnv(t, Config{Ingest: func(ctx context.Context, paths []string, opt ingest.Options) (ingest.Summary, error) {
		close(started)
		<-proceed
		return ingest.Summary{Files: len(paths)}, nil
	}})
	var wg sync.WaitGroup
	var first response
	wg.Add(1)
	go func() {
		defer wg.Done()
		req := httptest.NewRequest(http.MethodPost, ingestURL, strings.NewReader(sslJSON))
		req.Header.Set(HeaderAPIKey, testAdminKey)
		first = do(t, e.app, req)
	}()
	<-started
	req := httptest.NewRequest(http.MethodPost, ingestURL, strings.NewReader(sslJSON))
	req.Header.Set(HeaderRequestID, "test-1")
	req.Header.Set(HeaderAPIKey, testAdminKey)
	r := do(t, e.app, req) // the first one's upload directory still exists
	want := `{"type":"about:blank","title":"Service Unavailable","status":503,` +
		`"detail":"another ingest is running (one at a time); retry in 5s","instance":"/api/v1/ingest","traceId":"test-1"}`
	if r.status != 503 || r.header.Get(fiber.HeaderRetryAfter) != "5" || r.body != want {
		t.Errorf("second ingest: %d Retry-After %q %s", r.status, r.header.Get(fiber.HeaderRetryAfter), r.body)
	}
	close(proceed)
	wg.Wait()
	if first.status != 201 {
		t.Errorf("first ingest: %d %s", first.status, first.body)
	}
	e.checkClean(t, first)
	e.checkClean(t, r)
}

// TestIngestTimeout: a run that outlasts IngestTimeout is cancelled: 504.
func TestIngestTimeout(t *testing.T) {
	e := newIngestEnv(t, Config{IngestTimeout: 50 * time.Millisecond, Ingest: func(ctx context.Context, paths []string, opt ingest.Options) (ingest.Summary, error) {
		<-ctx.Done()
		return ingest.Summary{}, ctx.Err()
	}})
	r := e.send(t, ingestURL, testAdminKey, "text/plain", []byte(sslJSON))
	want := `{"type":"about:blank","title":"Gateway Timeout","status":504,` +
		`"detail":"the ingest did not finish within 50ms; nothing was stored","instance":"/api/v1/ingest","traceId":"test-1"}`
	if r.status != 504 || r.body != want {
		t.Errorf("got %d %s", r.status, r.body)
	}
}

// TestIngestRequestErrors: bad requests are refused before anything is read or stored.
func TestIngestRequestErrors(t *testing.T) {
	e := newIngestEnv(t, Config{})
	noFile, noFileBody := multipartBody(t, part{"format", "", "zeek"})
	nameCT, nameBody := multipartBody(t, part{"file", "ssl.log", sslJSON})
	unknownCT, unknownBody := multipartBody(t, part{"file", "ssl.log", sslJSON}, part{"fromat", "", "zeek"})
	twiceCT, twiceBody := multipartBody(t, part{"file", "ssl.log", sslJSON}, part{"format", "", "zeek"})
	for _, tc := range []struct {
		name, target, contentType string
		body                      []byte
		status                    int
		detail                    string
	}{
		{"form-urlencoded", ingestURL, "application/x-www-form-urlencoded", []byte("a=b"), 415,
			"POST /ingest takes multipart/form-data (one part named file per file) or the raw content of one file as " +
				strings.Join(rawUploadTypes, ", ") + "; not application/x-www-form-urlencoded" +
				" (curl --data-binary sends that unless told otherwise: add -H 'Content-Type: application/octet-stream')"},
		{"other type", ingestURL, "image/png", []byte("x"), 415,
			"POST /ingest takes multipart/form-data (one part named file per file) or the raw content of one file as " +
				strings.Join(rawUploadTypes, ", ") + "; not image/png"},
		{"unknown parameter", ingestURL + "?fromat=zeek", "text/plain", []byte(sslJSON), 400, `fromat: unknown parameter "fromat"`},
		{"unknown format", ingestURL + "?format=pcap", "text/plain", []byte(sslJSON), 400,
			`format: unknown format "pcap" (want auto, zeek, x509 or native)`},
		{"skipInvalid not a bool", ingestURL + "?skipInvalid=maybe", "text/plain", []byte(sslJSON), 400, "skipInvalid: skipInvalid must be true or false"},
		{"bad name", ingestURL + "?name=a/b", "text/plain", []byte(sslJSON), 400,
			`name: name must be 1-255 bytes of UTF-8 without '/', '\' or control characters`},
		{"empty body", ingestURL, "text/plain", nil, 400, "the request body is empty: send the content of a file"},
		{"no file part", ingestURL, noFile, noFileBody, 400,
			"the multipart body has no file: send each file as a part named file (curl -F file=@ssl.log)"},
		{"name with multipart", ingestURL + "?name=x.log", nameCT, nameBody, 400,
			"name: name names a raw body; the file parts of a multipart body carry their own filename"},
		{"unknown form field", ingestURL, unknownCT, unknownBody, 400, `fromat: unknown form field "fromat"`},
		{"format twice", ingestURL + "?format=auto", twiceCT, twiceBody, 400, "format: parameter format is given more than once"},
		{"no boundary", ingestURL, "multipart/form-data", []byte("x"), 400, "multipart/form-data without a boundary parameter"},
		{"broken multipart", ingestURL, "multipart/form-data; boundary=zzz", []byte("--zzz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end"), 400,
			"the upload was interrupted before its end; nothing was stored"},
		{"compressed multipart", ingestURL, nameCT, nameBody, 415,
			`Content-Encoding "br" is not supported here; upload gzip-compressed files as they are (they are recognised by their content)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.name == "compressed multipart" {
				headers = []string{fiber.HeaderContentEncoding, "br"}
			}
			r := e.send(t, tc.target, testAdminKey, tc.contentType, tc.body, headers...)
			var p Problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != tc.status || p.Detail != tc.detail {
				t.Errorf("got %d %s\nwant %d %q", r.status, r.body, tc.status, tc.detail)
			}
		})
	}
	if c := e.counts(t); c[query.Discovery] != 0 || c[query.Cert] != 0 {
		t.Errorf("stored %v", c)
	}
}

// TestIngestAuth: the route needs ingest:write (Administrator, Operator); calls are
// audited with their outcome and a summary of what was stored.
func TestIngestAuth(t *testing.T) {
	e := newIngestEnv(t, Config{})
	for _, tc := range []struct {
		key    string
		status int
		detail string
	}{
		{"", 401, "a valid API key is required in the x-api-key header (or Authorization: Bearer)"},
		{KeyPrefix + "nosuch_" + testSecret, 401, "a valid API key is required in the x-api-key header (or Authorization: Bearer)"},
		{testKeyFor("Analyst"), 403, "the API key's roles do not grant the permission ingest:write"},
		{testKeyFor("Auditor"), 403, "the API key's roles do not grant the permission ingest:write"},
		{testKeyFor("Operator"), 201, ""},
	} {
		r := e.send(t, ingestURL+"?name=ssl.log", tc.key, "text/plain", []byte(sslJSON))
		var p Problem
		_ = json.Unmarshal([]byte(r.body), &p)
		if r.status != tc.status || p.Detail != tc.detail {
			t.Errorf("key %q: %d %s", tc.key, r.status, r.body)
		}
	}
	if n := e.counts(t)[query.Discovery]; n != 2 {
		t.Errorf("%d observations stored, want 2", n)
	}
	entries, _, err := e.db.ListAudit(context.Background(), engine.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range entries {
		if en.Route == ingestURL {
			got = append(got, fmt.Sprintf("%s %s %d %s", en.KeyID, en.Method, en.Status, en.Detail))
		}
	}
	want := []string{
		" POST 401 no API key",
		"nosuch POST 401 authentication failed",
		"test-Analyst POST 403 ",
		"test-Auditor POST 403 ",
		"test-Operator POST 201 ingest: 1 files; discovery 2 rows, 2 new, 0 updated, 0 duplicates; cert 0 rows, 0 new, 0 updated, 0 duplicates",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit\n got %q\nwant %q", got, want)
	}
}

// TestIngestIdempotencyKey: the same key and upload (even with another multipart
// boundary) replay the first answer; another upload under the same key is 409.
func TestIngestIdempotencyKey(t *testing.T) {
	e := newIngestEnv(t, Config{})
	ct, body := multipartBody(t, part{"file", "ssl.log", sslJSON})
	first := e.send(t, ingestURL, testAdminKey, ct, body, HeaderIdempotencyKey, "k1")
	if first.status != 201 {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	ct, body = multipartBody(t, part{"file", "ssl.log", sslJSON})
	again := e.send(t, ingestURL, testAdminKey, ct, body, HeaderIdempotencyKey, "k1")
	if again.status != 201 || again.body != first.body || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %q %s\nfirst %s", again.status, again.header.Get("Idempotent-Replayed"), again.body, first.body)
	}
	ct, body = multipartBody(t, part{"file", "other.log", sslJSON})
	if r := e.send(t, ingestURL, testAdminKey, ct, body, HeaderIdempotencyKey, "k1"); r.status != 409 {
		t.Errorf("another upload, same key: %d %s", r.status, r.body)
	}
	if n := e.counts(t)[query.Discovery]; n != 2 {
		t.Errorf("%d observations stored, want 2", n)
	}
}

// TestIngestKeepAlive: a connection stays usable after an ingest whose body the server
// did not read (refused before the upload), and after one it read.
func TestIngestKeepAlive(t *testing.T) {
	e := newIngestEnv(t, Config{})
	addr := serveLive(t, e.app).addr
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	reused := 0
	send := func(method, path, key string, body []byte) int {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
			if i.Reused {
				reused++
			}
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, "http://"+addr+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(fiber.HeaderContentType, "text/plain")
		if key != "" {
			req.Header.Set(HeaderAPIKey, key)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// Bodies bigger than what fasthttp reads ahead (8 KiB); junk would be a bad request line.
	big := []byte(sslJSON + strings.Repeat("\n", 100<<10))
	junk := bytes.Repeat([]byte("junk "), 20<<10)
	got := []int{
		send("POST", ingestURL+"?name=ssl.log", "", junk),          // 401: body unread by the handler
		send("GET", "/healthz", "", nil),                           // the next request on the connection
		send("POST", ingestURL+"?name=ssl.log", testAdminKey, big), // 201
		send("POST", ingestURL+"?format=nope", testAdminKey, junk), // 400 before the body is read
		send("POST", disc+"/query", testAdminKey, junk),            // 415: another route, its body read before the handler
		send("GET", "/readyz", "", nil),
	}
	if fmt.Sprint(got) != "[401 200 201 400 415 200]" || reused != 5 {
		t.Errorf("statuses %v, %d connections reused (want 5: all but the first)", got, reused)
	}
}
