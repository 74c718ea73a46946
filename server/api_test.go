package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// post sends one JSON body (contentType "" means application/json).
func post(t *testing.T, app *fiber.App, target, body, contentType string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set(HeaderRequestID, "test-1")
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(HeaderAPIKey, testAdminKey)
	return do(t, app, req, headers...)
}

// fixedNow is the injected clock of the time frame tests.
var fixedNow = ts("2024-05-03T12:00:00Z")

func clockConfig() Config { return Config{Now: func() time.Time { return fixedNow }} }

func TestPostEqualsGet(t *testing.T) {
	app := New(newTestDB(t), clockConfig())
	tests := []struct {
		name string
		get  string
		body string
		path string
	}{
		{"columns, filter, sorts, paging, counts",
			q(disc, "columns", "serverName", "columns", "byteVolume", "filter", "byteVolume > 100", "sorts", "byteVolume desc",
				"limit", "2", "offset", "1", "reportFilteredCount", "true", "reportTotalCount", "true"),
			`{"columns":["serverName","byteVolume"],"filter":"byteVolume > 100","sorts":["byteVolume desc"],"limit":2,"offset":1,` +
				`"reportFilteredCount":true,"reportTotalCount":"true"}`, disc + "/query"},
		{"time frame, epoch and relative",
			q(disc, "columns", "serverName", "sorts", "serverName asc", "timeFrame[begin]", "1714608000", "timeFrame[end]", "now"),
			`{"columns":["serverName"],"sorts":["serverName asc"],"timeFrame":{"begin":1714608000,"end":"now"}}`, disc + "/query"},
		{"cert defaults", cert, `{}`, cert + "/query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := get(t, app, tt.get)
			p := post(t, app, tt.path, tt.body, "")
			if g.status != 200 || p.status != 200 || g.body != p.body || g.header.Get(HeaderTotalCount) != p.header.Get(HeaderTotalCount) {
				t.Errorf("GET %d %s\nPOST %d %s", g.status, g.body, p.status, p.body)
			}
		})
	}
}

func TestPostErrors(t *testing.T) {
	app := New(newTestDB(t), Config{BodyLimit: 256})
	path := disc + "/query"
	tests := []struct {
		name, body, contentType string
		status                  int
		detail                  string
	}{
		{"content type required", `{}`, "text/plain", 415, "the request body must be application/json"},
		{"charset allowed", `{"limit":1}`, "application/json; charset=utf-8", 200, ""},
		{"unknown field named", `{"limit":1,"fliter":"x"}`, "", 400, `fliter: unknown field "fliter" in the request body`},
		{"unknown nested field named", `{"timeFrame":{"start":1}}`, "", 400, `start: unknown field "start" in the request body`},
		{"wrong type", `{"columns":"serverName"}`, "", 400, "columns: field columns must be an array of strings"},
		{"malformed", `{"limit":`, "", 400, "body: malformed JSON: unexpected EOF"},
		{"empty", ``, "", 400, "body: the request body is empty; send a JSON object"},
		{"trailing data", `{} {}`, "", 400, "body: malformed JSON: unexpected data after the JSON object"},
		{"parameter errors as GET", `{"limit":0}`, "", 400, "limit: limit must be an integer >= 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, app, path, tt.body, tt.contentType)
			if r.status != tt.status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if tt.status == 200 {
				return
			}
			var p Problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Detail != tt.detail || r.header.Get("Content-Type") != ProblemContentType {
				t.Errorf("got %s, want detail %q", r.body, tt.detail)
			}
		})
	}
}

// names lists the serverName values of a JSON page, "-" for NULL.
func names(t *testing.T, body string) string {
	t.Helper()
	var doc struct {
		Data []struct {
			ServerName *string `json:"serverName"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, d := range doc.Data {
		if d.ServerName == nil {
			out = append(out, "-")
		} else {
			out = append(out, strings.TrimSuffix(*d.ServerName, ".example.com"))
		}
	}
	return strings.Join(out, ",")
}

func TestTimeFrame(t *testing.T) {
	app := New(newTestDB(t), clockConfig())
	base := []string{"columns", "serverName", "sorts", "firstSeen asc"}
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"all time by default", nil, "a,db,-,pq"},
		{"epoch seconds", []string{"timeFrame[begin]", "1714608000", "timeFrame[end]", "1714694400"}, "db"},
		{"now minus 48 hours", []string{"timeFrame[begin]", "now minus 48 hours"}, "db,-,pq"},
		{"relative end", []string{"timeFrame[end]", "NOW minus 2 days"}, "a"},
		{"weeks and minutes", []string{"timeFrame[begin]", "now minus 1 week", "timeFrame[end]", "now minus 720 minutes"}, "a,db"}, // end is exclusive
		{"RFC 3339 still works", []string{"timeFrame[begin]", "2024-05-04T00:00:00Z"}, "pq"},
		{"last24Hours", []string{"timeFrame[materializedView]", "last24Hours"}, "-,pq"},
		{"last7Days", []string{"timeFrame[materializedView]", "last7Days"}, "a,db,-,pq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, append(base, tt.kv...)...))
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := names(t, r.body); got != tt.want {
				t.Errorf("got %s want %s", got, tt.want)
			}
		})
	}
}

func TestTimeFrameErrors(t *testing.T) {
	app := New(newTestDB(t), clockConfig())
	syntax := "must be epoch seconds, an RFC 3339 timestamp, a date, now, or now minus N minutes|hours|days|weeks"
	tests := []struct {
		name   string
		kv     []string
		detail string
	}{
		{"bad begin", []string{"timeFrame[begin]", "yesterday"}, "timeFrame[begin]: timeFrame[begin] " + syntax},
		{"bad unit", []string{"timeFrame[end]", "now minus 3 fortnights"}, "timeFrame[end]: timeFrame[end] " + syntax},
		{"negative epoch", []string{"timeFrame[begin]", "-5"}, "timeFrame[begin]: timeFrame[begin] " + syntax},
		{"unknown view", []string{"timeFrame[materializedView]", "lastDecade"},
			`timeFrame[materializedView]: unknown materialized view "lastDecade"`},
		{"view with bounds", []string{"timeFrame[materializedView]", "last7Days", "timeFrame[begin]", "now"},
			"timeFrame[materializedView]: timeFrame[materializedView] cannot be combined with timeFrame[begin]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, tt.kv...))
			var p Problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 400 || p.Detail != tt.detail {
				t.Errorf("got %d %s\nwant detail %q", r.status, r.body, tt.detail)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	now := fixedNow
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"0", time.Unix(0, 0).UTC(), true},
		{"1714608000", ts("2024-05-02T00:00:00Z"), true},
		{" now ", now, true},
		{"now minus 48 hours", ts("2024-05-01T12:00:00Z"), true},
		{"now minus 1 minute", ts("2024-05-03T11:59:00Z"), true},
		{"now minus 2 weeks", ts("2024-04-19T12:00:00Z"), true},
		{"Now Minus 1 Day", ts("2024-05-02T12:00:00Z"), true},
		{"2024-05-01", ts("2024-05-01T00:00:00Z"), true},
		{"2024-05-01T02:00:00+02:00", ts("2024-05-01T00:00:00Z"), true},
		{"now plus 1 hour", time.Time{}, false},
		{"now minus -1 hours", time.Time{}, false},
		{"now minus 99999999999 weeks", time.Time{}, false},
		{"253402300800", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCountsAndHeaders(t *testing.T) {
	app := New(newTestDB(t), Config{})
	tests := []struct {
		name       string
		kv         []string
		wantHeader string
		wantTail   string
	}{
		{"both counts", []string{"filter", "byteVolume > 600", "limit", "1", "reportFilteredCount", "true", "reportTotalCount", "true"},
			"3", `"pagination":{"limit":1,"offset":0,"returned":1},"filteredCount":3,"totalCount":4}`},
		{"total only; full page proves nothing", []string{"limit", "1", "reportTotalCount", "true"},
			"", `"pagination":{"limit":1,"offset":0,"returned":1},"totalCount":4}`},
		{"short last page proves the count", []string{"limit", "3", "offset", "1"}, "4", `"pagination":{"limit":3,"offset":1,"returned":1}}`},
		{"empty page past the end proves nothing", []string{"limit", "3", "offset", "5"}, "", `"pagination":{"limit":3,"offset":5,"returned":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, app, q(disc, append([]string{"columns", "serverPort"}, tt.kv...)...))
			if r.header.Get(HeaderTotalCount) != tt.wantHeader || !strings.HasSuffix(r.body, tt.wantTail) {
				t.Errorf("header %q body %s", r.header.Get(HeaderTotalCount), r.body)
			}
			if r.header.Get("Cache-Control") != "no-cache" || r.header.Get(HeaderRequestID) != "test-1" {
				t.Errorf("common headers missing: %v", r.header)
			}
		})
	}
}

func TestLimitAboveMaximum(t *testing.T) {
	app := New(newTestDB(t), Config{MaxLimit: 3})
	r := get(t, app, q(disc, "limit", "4"))
	want := problemBody(507, "Insufficient Storage", "limit 4 is above the maximum page of 3 rows; narrow the result with timeFrame or filter, "+
		"lower limit and page with offset or cursor, or set returnAsStream=true (every matching row, streamed) "+
		"or returnAsZipFile=true (every matching row in a zip file)", disc)
	if r.status != 507 || r.body != want {
		t.Errorf("got %d %s\nwant %s", r.status, r.body, want)
	}
	if r = get(t, app, q(disc, "limit", "3")); r.status != 200 {
		t.Errorf("limit at the maximum: %d", r.status)
	}
}

// slowStore runs a real DuckDB query that takes far longer than any test timeout.
type slowStore struct{ *engine.DB }

func (s slowStore) Select(ctx context.Context, _ query.Request) (array.RecordReader, error) {
	return s.DB.Query(ctx, "SELECT sum(a.range * b.range) AS s FROM range(200000) a, range(200000) b")
}

func TestQueryTimeoutInterruptsDuckDB(t *testing.T) {
	db := newTestDB(t)
	app := New(slowStore{db}, Config{QueryTimeout: 100 * time.Millisecond})
	start := time.Now()
	r := get(t, app, disc)
	took := time.Since(start)
	want := problemBody(504, "Gateway Timeout", "the query did not finish within 100ms", disc)
	if r.status != 504 || r.body != want {
		t.Errorf("got %d %s", r.status, r.body)
	}
	// Without the interrupt the cross join runs for minutes; the connection must also be
	// free again (the pool would otherwise hold a busy one).
	if took > 3*time.Second {
		t.Errorf("took %s: DuckDB was not interrupted", took)
	}
	if n, err := db.RowCount(context.Background(), query.Cert); err != nil || n != 3 {
		t.Errorf("after the timeout: %d %v", n, err)
	}
}

// blockingStore holds every Select until release is closed.
type blockingStore struct {
	*engine.DB
	entered chan struct{}
	release chan struct{}
}

func (s blockingStore) Select(ctx context.Context, req query.Request) (array.RecordReader, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.DB.Select(ctx, req)
}

func TestConcurrencyCap(t *testing.T) {
	st := blockingStore{DB: newTestDB(t), entered: make(chan struct{}, 4), release: make(chan struct{})}
	app := New(st, Config{MaxConcurrentQueries: 1, QueueWait: 50 * time.Millisecond})
	var wg sync.WaitGroup
	var first response
	wg.Add(1)
	go func() { defer wg.Done(); first = get(t, app, q(disc, "limit", "1")) }()
	<-st.entered
	r := get(t, app, q(disc, "limit", "1"))
	want := problemBody(503, "Service Unavailable", "the server is running its maximum number of queries; retry in 50ms", disc)
	if r.status != 503 || r.body != want || r.header.Get("Retry-After") != "1" {
		t.Errorf("got %d %s Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	close(st.release)
	wg.Wait()
	if first.status != 200 {
		t.Errorf("first request: %d %s", first.status, first.body)
	}
	if r := get(t, app, q(disc, "limit", "1")); r.status != 200 {
		t.Errorf("slot not released: %d", r.status)
	}
}

// TestPostBodyLimit runs a real listener: app.Test fails outright on an oversized body.
func TestPostBodyLimit(t *testing.T) {
	app := New(newTestDB(t), Config{BodyLimit: 256})
	addr := serveLive(t, app).addr
	body := `{"filter":"` + strings.Repeat("x", 300) + `"}`
	resp, err := http.Post("http://"+addr+disc+"/query", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p Problem
	if err := json.Unmarshal(b, &p); err != nil || resp.StatusCode != 413 || p.Status != 413 || p.Detail != "Request Entity Too Large" {
		t.Errorf("got %d %s", resp.StatusCode, b)
	}
}
