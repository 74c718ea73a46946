package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// q builds a query string from key/value pairs, escaping values as a client would.
func q(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

const (
	disc = "/api/v1/dta_discovery"
	cert = "/api/v1/dta_cert"
)

func TestDatasetRows(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name, target string
		want         string
	}{
		{
			"columns in requested order, sorted desc",
			q(disc, "columns", "serverName", "columns", "byteVolume", "sorts", "byteVolume desc"),
			`{"data":[{"serverName":"db.example.com","byteVolume":5000},{"serverName":"a.example.com","byteVolume":1500},` +
				`{"serverName":"pq.example.com","byteVolume":700},{"serverName":null,"byteVolume":200}],"pagination":{"limit":100,"offset":0,"returned":4}}`,
		},
		{
			"comma-separated columns, ascending",
			q(disc, "columns", "byteVolume,serverPort", "sorts", "byteVolume asc"),
			`{"data":[{"byteVolume":200,"serverPort":443},{"byteVolume":700,"serverPort":8443},{"byteVolume":1500,"serverPort":443},` +
				`{"byteVolume":5000,"serverPort":3306}],"pagination":{"limit":100,"offset":0,"returned":4}}`,
		},
		{
			"offset counts pages of limit",
			q(disc, "columns", "serverName", "sorts", "byteVolume desc", "limit", "1", "offset", "2"),
			`{"data":[{"serverName":"pq.example.com"}],"pagination":{"limit":1,"offset":2,"returned":1}}`,
		},
		{
			"page past the end is empty",
			q(disc, "columns", "serverName", "sorts", "byteVolume desc", "limit", "3", "offset", "5"),
			`{"data":[],"pagination":{"limit":3,"offset":5,"returned":0}}`,
		},
		{
			"filter, aggregates and typed values",
			q(disc, "columns", "clientIp,serverName,connectionCount,packetCount,firstSeen,lastSeen,forwardSecrecy,weakReasons",
				"filter", "tlsVersion = 'TLSv1.3' AND byteVolume > 1000"),
			`{"data":[{"clientIp":"10.0.0.1","serverName":"a.example.com","connectionCount":2,"packetCount":15,` +
				`"firstSeen":"2024-05-01T10:00:00Z","lastSeen":"2024-05-01T11:00:00Z","forwardSecrecy":true,"weakReasons":[]}],` +
				`"pagination":{"limit":100,"offset":0,"returned":1}}`,
		},
		{
			"IPv6 and lists",
			q(disc, "columns", "serverIp,weakCrypto,weakReasons", "filter", "serverIp <<= INET '2001:db8::/32'"),
			`{"data":[{"serverIp":"2001:db8::2","weakCrypto":true,"weakReasons":["protocol TLSv1.0","cipher RC4"]}],` +
				`"pagination":{"limit":100,"offset":0,"returned":1}}`,
		},
		{
			"empty result",
			q(disc, "columns", "serverName", "filter", "serviceName = 'ldaps'"),
			`{"data":[],"pagination":{"limit":100,"offset":0,"returned":0}}`,
		},
		{
			"counts on request",
			q(disc, "columns", "serverName", "filter", "tlsVersion = 'TLSv1.3'", "sorts", "byteVolume desc",
				"limit", "1", "reportFilteredCount", "true", "reportTotalCount", "true"),
			`{"data":[{"serverName":"a.example.com"}],"pagination":{"limit":1,"offset":0,"returned":1},"filteredCount":2,"totalCount":4}`,
		},
		{
			"cert: every column by default, catalog order",
			q(cert, "filter", "certIsCa = true"),
			`{"data":[{"certFingerprint":"cc` + hex62('3') + `","certSerial":"03","certSubjectAsn1s":"CN=Test CA","certCommonName":"Test CA",` +
				`"certAltNames":null,"certIssuerAsn1s":"CN=Test CA","certNotValidBeforeEpochSecs":1500000000,"certNotValidAfterEpochSecs":2000000000,` +
				`"certPublicKeyAlgo":"RSA","certPublicKeySize":4096,"certCurve":null,"certSignatureAlgo":"SHA256-RSA","certIsCa":true,` +
				`"certSelfSigned":true,"certSource":"truststore","certTxt":"Certificate:\n    \"ca\"","certFirstSeen":null,"certLastSeen":null,` +
				`"certServerCount":0}],"pagination":{"limit":100,"offset":0,"returned":1}}`,
		},
		{
			"cert: regex on a list field, sorted",
			q(cert, "columns", "certCommonName", "filter", "certAltNames ~* 'example\\.com$'", "sorts", "certNotValidAfterEpochSecs desc"),
			`{"data":[{"certCommonName":"a.example.com"},{"certCommonName":"db.example.com"}],"pagination":{"limit":100,"offset":0,"returned":2}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, tt.target)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if r.body != tt.want {
				t.Errorf("body\n got %s\nwant %s", r.body, tt.want)
			}
		})
	}
}

func TestTotalCountHeader(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := get(t, app, q(disc, "reportFilteredCount", "true", "limit", "1"))
	if got := r.header.Get(HeaderTotalCount); got != "4" {
		t.Errorf("%s = %q, want 4", HeaderTotalCount, got)
	}
	r = get(t, app, q(disc, "limit", "1"))
	if got := r.header.Get(HeaderTotalCount); got != "" {
		t.Errorf("%s = %q without reportFilteredCount", HeaderTotalCount, got)
	}
}

// problemBody renders the expected problem document for the test request id.
func problemBody(status int, title, detail, instance string, errs ...string) string {
	s := fmt.Sprintf(`{"type":"about:blank","title":%q,"status":%d,"detail":%s,"instance":%q,"traceId":"test-1"`,
		title, status, jsonString(detail), instance)
	if len(errs) > 0 {
		s += `,"errors":[` + strings.Join(errs, ",") + `]`
	}
	return s + "}"
}

func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func TestBadRequests(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name, target string
		status       int
		want         string
	}{
		{"unknown column with suggestions", q(disc, "columns", "serverNmae,byteVolume"), 400,
			problemBody(400, "Bad Request", `columns: unknown field "serverNmae" in dataset discovery`, disc,
				`{"kind":"unknown_field","param":"columns","message":"unknown field \"serverNmae\" in dataset discovery","hint":"did you mean serverName, serverIp, serverPort?","token":"serverNmae"}`)},
		{"unknown sort field", q(cert, "sorts", "certcommonname desc"), 400,
			problemBody(400, "Bad Request", `sorts: unknown field "certcommonname" in dataset cert`, cert,
				`{"kind":"unknown_field","param":"sorts","message":"unknown field \"certcommonname\" in dataset cert","hint":"did you mean certCommonName, certAltNames?","token":"certcommonname"}`)},
		{"limit zero and offset negative, both reported", q(disc, "limit", "0", "offset", "-1"), 400,
			problemBody(400, "Bad Request", "limit: limit must be an integer >= 1; offset: offset must be an integer >= 0", disc,
				`{"kind":"value","param":"limit","message":"limit must be an integer >= 1","token":"0"}`,
				`{"kind":"value","param":"offset","message":"offset must be an integer >= 0","token":"-1"}`)},
		{"sort without direction", q(disc, "sorts", "byteVolume"), 400,
			problemBody(400, "Bad Request", `sorts: sort "byteVolume" has no direction`, disc,
				`{"kind":"syntax","param":"sorts","message":"sort \"byteVolume\" has no direction","hint":"write \"field asc\" or \"field desc\"","offset":10,"line":1,"column":11}`)},
		{"limit not a number", q(disc, "limit", "ten"), 400,
			problemBody(400, "Bad Request", "limit: limit must be an integer >= 1", disc,
				`{"kind":"value","param":"limit","message":"limit must be an integer >= 1","token":"ten"}`)},
		{"unknown parameter", q(disc, "filer", "x"), 400,
			problemBody(400, "Bad Request", `filer: unknown parameter "filer"`, disc,
				`{"kind":"value","param":"filer","message":"unknown parameter \"filer\"","hint":"known parameters: columns, filter, sorts, limit, offset, timeFrame[begin], timeFrame[end], timeFrame[materializedView], reportFilteredCount, reportTotalCount, cursor, returnAsStream, returnAsZipFile","token":"x"}`)},
		{"filter given twice", q(disc, "filter", "protocol = 'tcp'", "filter", "protocol = 'udp'"), 400,
			problemBody(400, "Bad Request", "filter: parameter filter is given more than once", disc,
				`{"kind":"value","param":"filter","message":"parameter filter is given more than once","hint":"give it once","token":"protocol = 'udp'"}`)},
		{"time frame reversed", q(disc, "timeFrame[begin]", "2024-05-02", "timeFrame[end]", "2024-05-01T00:00:00Z"), 400,
			problemBody(400, "Bad Request", "timeFrame[end]: timeFrame[end] is before timeFrame[begin]", disc,
				`{"kind":"value","param":"timeFrame[end]","message":"timeFrame[end] is before timeFrame[begin]","token":"2024-05-01T00:00:00Z"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, tt.target)
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if ct := r.header.Get("Content-Type"); ct != ProblemContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if r.body != tt.want {
				t.Errorf("body\n got %s\nwant %s", r.body, tt.want)
			}
		})
	}
}

// TestFilterErrors checks that filter errors carry their position; the messages are the
// query package's, so only the shape and the position are pinned here.
func TestFilterErrors(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name, filter         string
		kind, token          string
		offset, line, column int
		hintContains         string
	}{
		{"unknown field", "tlsVersion = 'TLSv1.3' AND serverNmae = 'x'", "unknown_field", "serverNmae", 27, 1, 28, "serverName"},
		{"syntax on line 2", "tlsVersion = 'TLSv1.3'\nAND AND", "syntax", "AND", 27, 2, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, "filter", tt.filter))
			if r.status != 400 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			var p Problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Errors) != 1 {
				t.Fatalf("errors = %+v", p.Errors)
			}
			e := p.Errors[0]
			if e.Param != "filter" || e.Kind != tt.kind || e.Token != tt.token || e.Offset == nil || *e.Offset != tt.offset ||
				*e.Line != tt.line || *e.Column != tt.column || !strings.Contains(e.Hint, tt.hintContains) {
				t.Errorf("error = %s", r.body)
			}
			if p.Detail != "filter: "+e.Message {
				t.Errorf("detail = %q", p.Detail)
			}
		})
	}
}

func TestCommonHeaders(t *testing.T) {
	app := New(newTestDB(t), Config{})
	generated := regexp.MustCompile(`^[0-9a-f]{12}-[0-9]+$`)
	tests := []struct {
		name, target, sentID string
		status               int
		wantID               string // "" means generated
	}{
		{"ok echoes a sane id", "/healthz", "abc-123_X.y:z", 200, "abc-123_X.y:z"},
		{"error echoes a sane id", q(disc, "limit", "x"), "req-9", 400, "req-9"},
		{"unsafe id replaced", "/healthz", "bad id\x7f", 200, ""},
		{"too long id replaced", "/healthz", strings.Repeat("a", 129), 200, ""},
		{"not found", "/nope", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r response
			if tt.sentID == "" {
				r = get(t, app, tt.target, HeaderRequestID, "")
			} else {
				r = get(t, app, tt.target, HeaderRequestID, tt.sentID)
			}
			if r.status != tt.status {
				t.Errorf("status %d, want %d", r.status, tt.status)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control = %q", cc)
			}
			id := r.header.Get(HeaderRequestID)
			if tt.wantID != "" && id != tt.wantID || tt.wantID == "" && !generated.MatchString(id) {
				t.Errorf("X-Request-Id = %q", id)
			}
		})
	}
}

func TestProbesAndRouting(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name, target string
		headers      []string
		status       int
		want         string
	}{
		{"healthz", "/healthz", nil, 200, `{"status":"ok"}`},
		{"readyz", "/readyz", nil, 200, `{"status":"ready"}`},
		{"unknown route", "/api/v1/dta_nothing", nil, 404,
			problemBody(404, "Not Found", "Cannot GET /api/v1/dta_nothing", "/api/v1/dta_nothing")},
		{"routes are case-sensitive", "/api/v1/DTA_CERT", nil, 404,
			problemBody(404, "Not Found", "Cannot GET /api/v1/DTA_CERT", "/api/v1/DTA_CERT")},
		{"unacceptable media type", disc, []string{"Accept", "image/png"}, 406,
			problemBody(406, "Not Acceptable", "no acceptable media type; this route produces application/json, text/csv, application/x-ndjson, application/vnd.apache.arrow.stream, application/vnd.apache.parquet (and application/zip with returnAsZipFile=true)", disc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, tt.target, tt.headers...)
			if r.status != tt.status || r.body != tt.want {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tt.status, tt.want)
			}
		})
	}
}

// fakeStore fails in chosen ways; it is used only for error paths that a real database
// cannot produce on demand.
type fakeStore struct {
	selectFn func(ctx context.Context) (array.RecordReader, error)
	rowErr   error
}

func (f fakeStore) Select(ctx context.Context, _ query.Request) (array.RecordReader, error) {
	return f.selectFn(ctx)
}
func (f fakeStore) SelectAfter(ctx context.Context, _ query.Request, _ []any) (array.RecordReader, error) {
	return f.selectFn(ctx)
}
func (f fakeStore) Scan(ctx context.Context, _ query.Request, _ int, _ int64) (array.RecordReader, error) {
	return f.selectFn(ctx)
}
func (f fakeStore) Export(ctx context.Context, _ query.Request, _ engine.ExportFormat) (io.ReadCloser, error) {
	rr, err := f.selectFn(ctx)
	if err != nil {
		return nil, err
	}
	rr.Release()
	return io.NopCloser(strings.NewReader("")), nil
}
func (f fakeStore) Count(context.Context, query.Request) (int64, error) { return 0, nil }
func (f fakeStore) RowCount(context.Context, query.Dataset) (int64, error) {
	return 0, f.rowErr
}

func TestErrorMapping(t *testing.T) {
	fail := func(err error) func(context.Context) (array.RecordReader, error) {
		return func(context.Context) (array.RecordReader, error) { return nil, err }
	}
	tests := []struct {
		name   string
		store  fakeStore
		target string
		status int
		detail string
	}{
		{"timeout", fakeStore{selectFn: func(ctx context.Context) (array.RecordReader, error) {
			<-ctx.Done()
			return nil, &engine.Error{Kind: engine.Timeout, Op: "query", Err: ctx.Err()}
		}}, disc, 504, "the query did not finish within 50ms"},
		{"raw deadline", fakeStore{selectFn: fail(context.DeadlineExceeded)}, disc, 504, "the query did not finish within 50ms"},
		{"engine invalid", fakeStore{selectFn: fail(&engine.Error{Kind: engine.Invalid, Op: "query", Err: errors.New("bad")})}, disc, 400, "engine: query: bad"},
		{"engine not found", fakeStore{selectFn: fail(&engine.Error{Kind: engine.NotFound, Op: "query", Err: errors.New("no table")})}, disc, 404, "engine: query: no table"},
		{"engine conflict", fakeStore{selectFn: fail(&engine.Error{Kind: engine.Conflict, Err: errors.New("x")})}, disc, 409, "the request conflicts with concurrent changes; retry it"},
		{"engine too large", fakeStore{selectFn: fail(&engine.Error{Kind: engine.TooLarge, Err: errors.New("oom")})}, disc, 413,
			"the query needs more memory than the server allows; narrow the filter or lower the limit"},
		{"engine unavailable", fakeStore{selectFn: fail(&engine.Error{Kind: engine.Unavailable, Err: errors.New("io")})}, disc, 503, "the database is not available"},
		{"internal hides details", fakeStore{selectFn: fail(errors.New("secret /path/to/file"))}, disc, 500,
			"internal error; the server log has the details under this traceId"},
		{"panic recovered", fakeStore{selectFn: func(context.Context) (array.RecordReader, error) { panic("boom") }}, disc, 500,
			"internal error; the server log has the details under this traceId"},
		{"readyz down", fakeStore{rowErr: errors.New("closed")}, "/readyz", 503, "database not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := New(tt.store, Config{QueryTimeout: 50 * time.Millisecond, Keys: newKeyDB(t)})
			r := get(t, app, tt.target)
			want := problemBody(tt.status, httpStatusText(tt.status), tt.detail, strings.SplitN(tt.target, "?", 2)[0])
			if r.status != tt.status || r.body != want {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tt.status, want)
			}
			if r.header.Get("Cache-Control") != "no-cache" || r.header.Get(HeaderRequestID) != "test-1" {
				t.Errorf("headers %v", r.header)
			}
		})
	}
}

func httpStatusText(code int) string {
	return map[int]string{400: "Bad Request", 404: "Not Found", 409: "Conflict", 413: "Request Entity Too Large",
		500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}[code]
}

// TestRequestLimits runs a real listener: app.Test bypasses fasthttp's header reading.
func TestRequestLimits(t *testing.T) {
	app := New(newTestDB(t), Config{MaxHeaderBytes: 4096})
	base := "http://" + serveLive(t, app).addr
	tests := []struct {
		name, target string
		status       int
		detail       string
	}{
		{"URL over the header limit", q(disc, "filter", strings.Repeat("x", 5000)), 431, "Request Header Fields Too Large"},
		{"within the limit", q(disc, "limit", "1", "columns", "serverPort", "sorts", "serverPort desc"), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := keyClient.Get(base + tt.target)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tt.status == 200 {
				return
			}
			var p Problem
			if err := json.Unmarshal(body, &p); err != nil || p.Status != tt.status || p.Detail != tt.detail ||
				resp.Header.Get("Cache-Control") != "no-cache" || resp.Header.Get(HeaderRequestID) == "" {
				t.Errorf("problem %s, headers %v", body, resp.Header)
			}
		})
	}
}
