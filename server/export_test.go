package server

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

func TestStreamFormats(t *testing.T) {
	// One row per page, so the export crosses page boundaries on every row.
	app := New(newTestDB(t), Config{ExportBatchRows: 1, Now: func() time.Time { return fixedNow }})
	page := get(t, app, q(disc, fmtColumns...), "Accept", "text/csv")
	live := serveLive(t, app)
	tests := []struct {
		name, accept string
		kv           []string
		want         string
	}{
		{"csv equals the page", "text/csv", nil, page.body},
		{"ndjson", "application/x-ndjson", []string{"columns", "serverPort"},
			"{\"serverPort\":3306}\n{\"serverPort\":443}\n{\"serverPort\":8443}\n{\"serverPort\":443}\n"},
		{"json envelope", "", []string{"columns", "serverPort"},
			`{"data":[{"serverPort":3306},{"serverPort":443},{"serverPort":8443},{"serverPort":443}],"pagination":{"returned":4}}`},
		{"limit caps an export", "", []string{"columns", "serverPort", "limit", "2"},
			`{"data":[{"serverPort":3306},{"serverPort":443}],"pagination":{"returned":2}}`},
		{"empty csv has its header", "text/csv", []string{"filter", "serverPort = 1"}, "serverName,serverIp,weakReasons,lastSeen,byteVolume\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := append(append([]string{}, fmtColumns...), tt.kv...)
			if tt.kv != nil && tt.kv[0] == "columns" {
				kv = append([]string{"sorts", "byteVolume desc"}, tt.kv...)
			}
			r := live.get(t, q(disc, append(kv, "returnAsStream", "true")...), "Accept", tt.accept)
			if r.status != 200 || r.body != tt.want {
				t.Errorf("got %d %q\nwant %q", r.status, r.body, tt.want)
			}
			if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="dta_discovery_20240503T120000Z.`) {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
	}
}

func TestStreamErrorsBeforeTheBody(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := get(t, app, q(disc, "returnAsStream", "true", "filter", "nope = 1"))
	if r.status != 400 || r.header.Get("Content-Type") != ProblemContentType {
		t.Errorf("got %d %s", r.status, r.body)
	}
	r = get(t, app, q(disc, "returnAsStream", "true", "offset", "1"))
	if r.status != 400 || !strings.Contains(r.body, "offset cannot be combined with returnAsStream") {
		t.Errorf("got %d %s", r.status, r.body)
	}
}

func TestZipFile(t *testing.T) {
	app := New(newTestDB(t), Config{ExportBatchRows: 3, Now: func() time.Time { return fixedNow }})
	page := get(t, app, q(disc, fmtColumns...), "Accept", "text/csv")
	live := serveLive(t, app)
	for _, tt := range []struct{ accept, name, want string }{
		{"text/csv", "dta_discovery_20240503T120000Z.csv", page.body},
		{"application/zip", "dta_discovery_20240503T120000Z.json", ""},
	} {
		t.Run(tt.accept, func(t *testing.T) {
			r := live.get(t, q(disc, append(fmtColumns, "returnAsZipFile", "true", "reportFilteredCount", "true")...), "Accept", tt.accept)
			if r.status != 200 || r.header.Get("Content-Type") != MIMEZip || r.header.Get(HeaderTotalCount) != "4" ||
				r.header.Get("Content-Disposition") != `attachment; filename="dta_discovery_20240503T120000Z.zip"` {
				t.Fatalf("%d %v", r.status, r.header)
			}
			zr, err := zip.NewReader(bytes.NewReader([]byte(r.body)), int64(len(r.body)))
			if err != nil {
				t.Fatal(err)
			}
			if len(zr.File) != 1 || zr.File[0].Name != tt.name {
				t.Fatalf("files %v", zr.File)
			}
			rc, err := zr.File[0].Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && string(b) != tt.want {
				t.Errorf("got %q want %q", b, tt.want)
			}
			if tt.want == "" {
				var doc struct{ Data []map[string]any }
				if err := json.Unmarshal(b, &doc); err != nil || len(doc.Data) != 4 {
					t.Errorf("json %v: %s", err, b)
				}
			}
			if _, err := csv.NewReader(bytes.NewReader(b)).ReadAll(); tt.accept == "text/csv" && err != nil {
				t.Error(err)
			}
		})
	}
}

// TestStreamCancel disconnects in the middle of a large export: the query slot (which
// the export holds until its query and writer goroutine end) must come free, and the
// goroutines must go back to where they were.
func TestStreamCancel(t *testing.T) {
	db := newTestDB(t)
	rr := fixtures.Records(query.Discovery, fixtures.Config{Observations: 60_000, Certificates: 200, Seed: 7}, 16384)
	if _, err := db.Load(context.Background(), query.Discovery, rr); err != nil {
		t.Fatal(err)
	}
	rr.Release()
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	app := New(db, Config{ExportBatchRows: 2000, MaxConcurrentQueries: 1, QueueWait: 100 * time.Millisecond, Logger: log})
	base := "http://" + serveLive(t, app).addr
	client := &http.Client{Transport: withTestKey(&http.Transport{DisableKeepAlives: true})}

	// CSV is written by DuckDB through a pipe; Arrow comes from slices of one snapshot.
	for _, accept := range []string{"text/csv", "application/vnd.apache.arrow.stream"} {
		t.Run(accept, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+disc+"?returnAsStream=true", nil)
			req.Header.Set("Accept", accept)
			endedEarly := strings.Count(logs.String(), "export stream ended early")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 4096)); err != nil {
				t.Fatal(err)
			}
			cancel()
			resp.Body.Close()

			// The slot is free again once the export noticed the disconnect and stopped.
			deadline := time.Now().Add(10 * time.Second)
			for {
				r, err := client.Get(base + disc + "?limit=1")
				if err == nil {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
					if r.StatusCode == 200 {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatal("the cancelled export still holds its query slot")
				}
				time.Sleep(50 * time.Millisecond)
			}
			if strings.Count(logs.String(), "export stream ended early") == endedEarly {
				t.Errorf("the export was not cut short (too small to notice the disconnect?): %s", logs.String())
			}
			// No goroutine of the export (its writer) or of the driver (its query) is left.
			var stacks string
			for time.Now().Before(deadline) {
				buf := make([]byte, 1<<20)
				stacks = string(buf[:runtime.Stack(buf, true)])
				if !strings.Contains(stacks, "server.(*export)") && !strings.Contains(stacks, "duckdb-go") {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Errorf("export or query goroutines left:\n%s", stacks)
		})
	}
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestExportEqualsPages checks the database-written exports against the server's own
// page encoders on generated data (every field, lists, IPv6, NULLs, certificate text
// with newlines): an export must equal its pages joined, byte for byte,
// in the same order, with DuckDB running on several threads.
func TestExportEqualsPages(t *testing.T) {
	db := newTestDB(t)
	cfg := fixtures.Config{Observations: 30_000, Certificates: 300, Seed: 11}
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		rr := fixtures.Records(ds, cfg, 8192)
		if _, err := db.Load(context.Background(), ds, rr); err != nil {
			t.Fatal(err)
		}
		rr.Release()
	}
	app := New(db, Config{})
	live := serveLive(t, app)
	week := []string{"timeFrame[begin]", fmt.Sprint(fixtures.DefaultStart.AddDate(0, 0, 7).Unix()),
		"timeFrame[end]", fmt.Sprint(fixtures.DefaultStart.AddDate(0, 0, 14).Unix())}
	tests := []struct {
		path, sorts, limit string
		params             []string
	}{
		{disc, "lastSeen desc", "1000", nil},
		{disc, "serverIp asc", "1000", nil},
		{"/api/v1/dta_cert", "certNotValidAfterEpochSecs asc", "50", nil},
		{disc, "", "1000", nil}, // any order: compared as sets of lines
		{disc, "", "300", week},
		{disc, "serverIp asc", "300", week},
	}
	for _, tt := range tests {
		// Arrow exports are read in slices: of the table; of the rollups computed once
		// (time frame); of the rows numbered once in sort order (sorts).
		for _, accept := range []string{"text/csv", "application/x-ndjson", MIMEArrow} {
			if tt.sorts == "" && accept == "text/csv" {
				continue // unordered rows are compared as NDJSON lines
			}
			text := func(body string) string {
				if accept == MIMEArrow {
					return arrowLines(t, body)
				}
				return body
			}
			t.Run(tt.path+" "+tt.sorts+" "+strings.Join(tt.params, " ")+" "+accept, func(t *testing.T) {
				params := append([]string{"returnAsStream", "true"}, tt.params...)
				if tt.sorts != "" {
					params = append(params, "sorts", tt.sorts)
				}
				whole := live.get(t, q(tt.path, params...), "Accept", accept)
				if whole.status != 200 {
					t.Fatalf("export: %d %s", whole.status, whole.body)
				}
				var pages strings.Builder
				for page := 0; ; page++ {
					r := get(t, app, q(tt.path, append([]string{"sorts", cmp.Or(tt.sorts, "byteVolume desc"), "limit", tt.limit, "offset", fmt.Sprint(page)}, tt.params...)...), "Accept", accept)
					if r.status != 200 {
						t.Fatalf("page %d: %d %s", page, r.status, r.body)
					}
					body := text(r.body)
					if page > 0 && accept == "text/csv" {
						body = body[strings.IndexByte(body, '\n')+1:] // one header
					}
					if page > 0 && body == "" {
						if page < 3 {
							t.Fatalf("only %d pages: the export is too small to test paging", page)
						}
						break
					}
					pages.WriteString(body)
				}
				got, want := text(whole.body), pages.String()
				if tt.sorts == "" {
					got, want = sortedLines(got), sortedLines(want)
				}
				if got != want {
					t.Errorf("export differs from its pages at byte %d of %d/%d:\nexport %.300q\npages  %.300q",
						firstDiff(got, want), len(got), len(want), got[firstDiff(got, want):], want[firstDiff(got, want):])
				}
			})
		}
	}
}

// arrowLines decodes an Arrow IPC stream into one line of text per row.
func arrowLines(t *testing.T, body string) string {
	t.Helper()
	var b strings.Builder
	for _, row := range decodeArrow(t, body, memory.DefaultAllocator)[1:] {
		b.WriteString(strings.Join(row, "\t") + "\n")
	}
	return b.String()
}

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// TestExportHTTP10AndHEAD: an HTTP/1.0 client gets the body unframed, ended by the
// connection; HEAD gets the export's headers and no body (and runs no export).
func TestExportHTTP10AndHEAD(t *testing.T) {
	app := New(newTestDB(t), Config{Now: func() time.Time { return fixedNow }})
	live := serveLive(t, app)
	want := live.get(t, q(disc, append(fmtColumns, "returnAsStream", "true")...), "Accept", "text/csv")
	if want.status != 200 || want.body == "" {
		t.Fatalf("HTTP/1.1: %d %q", want.status, want.body)
	}
	for _, method := range []string{"GET", "HEAD"} {
		conn, err := net.Dial("tcp", live.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "%s %s HTTP/1.0\r\nAccept: text/csv\r\n%s: %s\r\n\r\n", method,
			q(disc, append(fmtColumns, "returnAsStream", "true")...), HeaderAPIKey, testAdminKey)
		raw, err := io.ReadAll(conn) // the server closes the connection after the body
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || strings.Contains(head, "chunked") ||
			!strings.Contains(head, "Content-Type: text/csv; charset=utf-8; header=present") {
			t.Errorf("%s header:\n%s", method, head)
		}
		wantBody := want.body
		if method == "HEAD" {
			wantBody = ""
		}
		if body != wantBody {
			t.Errorf("%s body %q, want %q", method, body, wantBody)
		}
	}
}

// TestRelayFraming relays reads of assorted sizes (up to a full relay buffer) and reads
// the wire back: as one chunk per read, decoded by net/http's chunked reader, and as the
// bare bytes for HTTP/1.0.
func TestRelayFraming(t *testing.T) {
	reads := [][]byte{[]byte("a"), bytes.Repeat([]byte("b"), 15), bytes.Repeat([]byte("c"), 16),
		bytes.Repeat([]byte("d"), 4097), bytes.Repeat([]byte("e"), relayReadSize)}
	var want []byte
	for _, r := range reads {
		want = append(want, r...)
	}
	for _, chunked := range []bool{true, false} {
		var wire bytes.Buffer
		bw := &bodyWriter{conn: &wire, wire: bufio.NewWriter(&wire), chunked: chunked}
		bw.buf = bufio.NewWriter(bw.frame())
		bw.Write([]byte("pre")) // buffered bytes go out before the relayed ones
		calls := 0
		src := &scriptedReader{reads: slices.Clone(reads)}
		r := bufio.NewReader(src)
		r.Peek(1) // as the export does: the first read's bytes wait in r
		if err := bw.relay(r, src, func() error { calls++; return nil }); err != nil {
			t.Fatal(err)
		}
		if calls != len(reads) {
			t.Errorf("chunked=%v: afterEach ran %d times, want %d", chunked, calls, len(reads))
		}
		got := wire.Bytes()
		if chunked {
			wire.WriteString("0\r\n\r\n")
			var err error
			if got, err = io.ReadAll(httputil.NewChunkedReader(&wire)); err != nil {
				t.Fatalf("chunked body does not parse: %v", err)
			}
		}
		if !bytes.Equal(got, append([]byte("pre"), want...)) {
			t.Errorf("chunked=%v: relayed %d bytes, want %d", chunked, len(got), len(want)+3)
		}
	}
}

// scriptedReader returns its reads one per call, then io.EOF.
type scriptedReader struct{ reads [][]byte }

func (r *scriptedReader) Read(p []byte) (int, error) {
	if len(r.reads) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.reads[0])
	if n < len(r.reads[0]) {
		r.reads[0] = r.reads[0][n:]
	} else {
		r.reads = r.reads[1:]
	}
	return n, nil
}
