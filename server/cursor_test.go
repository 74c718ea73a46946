package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// cursorPage is a JSON page in cursor mode.
type cursorPage struct {
	Data       []map[string]any `json:"data"`
	Pagination struct {
		Limit      int64   `json:"limit"`
		Returned   int64   `json:"returned"`
		NextCursor *string `json:"nextCursor"`
	} `json:"pagination"`
}

// walk follows cursors from the first page and returns every row's value of col.
func walk(t *testing.T, get func(cursor string) response, col string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("no end")
		}
		r := get(cursor)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var p cursorPage
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatalf("%v: %s", err, r.body)
		}
		for _, row := range p.Data {
			out = append(out, fmt.Sprint(row[col]))
		}
		if p.Pagination.NextCursor == nil {
			if r.header.Get(HeaderNextCursor) != "" {
				t.Errorf("header cursor on the last page")
			}
			return out
		}
		if r.header.Get(HeaderNextCursor) != *p.Pagination.NextCursor {
			t.Errorf("header and body cursors differ")
		}
		cursor = *p.Pagination.NextCursor
	}
}

func TestCursorOrder(t *testing.T) {
	app := New(newTestDB(t), clockConfig())
	tests := []struct {
		name string
		kv   []string
		col  string
		want string
	}{
		{"aggregate desc", []string{"sorts", "byteVolume desc", "columns", "serverName"}, "serverName",
			"db.example.com,a.example.com,pq.example.com,<nil>"},
		{"NULLs last ascending", []string{"sorts", "serverName asc", "columns", "serverName"}, "serverName",
			"a.example.com,db.example.com,pq.example.com,<nil>"},
		{"NULLs first descending", []string{"sorts", "serverName desc", "columns", "serverName"}, "serverName",
			"<nil>,pq.example.com,db.example.com,a.example.com"},
		{"ip order (IPv4 before IPv6), key column not requested", []string{"sorts", "serverIp desc", "columns", "serverPort"}, "serverPort",
			"443,8443,3306,443"},
		{"time frame pinned by the cursor", []string{"timeFrame[begin]", "now minus 48 hours", "sorts", "lastSeen asc", "columns", "serverName"},
			"serverName", "db.example.com,<nil>,pq.example.com"},
		{"cert tie-break only", []string{"columns", "certSerial"}, "certSerial", "01,02,03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := disc
			if tt.col == "certSerial" {
				path = cert
			}
			got := walk(t, func(cursor string) response {
				return get(t, app, q(path, append(tt.kv, "limit", "1", "cursor", cursor)...))
			}, tt.col)
			if strings.Join(got, ",") != tt.want {
				t.Errorf("got %s want %s", strings.Join(got, ","), tt.want)
			}
		})
	}
}

// TestCursorPinsTimeFrame runs with a clock that jumps two days per request: a relative
// time frame must keep its first-page meaning on later pages.
func TestCursorPinsTimeFrame(t *testing.T) {
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(48 * time.Hour)
		return now.Add(-48 * time.Hour)
	}
	app := New(newTestDB(t), Config{Now: clock})
	got := walk(t, func(cursor string) response {
		return get(t, app, q(disc, "timeFrame[begin]", "now minus 48 hours", "sorts", "lastSeen asc", "columns", "serverName",
			"limit", "1", "cursor", cursor))
	}, "serverName")
	if strings.Join(got, ",") != "db.example.com,<nil>,pq.example.com" {
		t.Errorf("got %v", got)
	}
}

func TestCursorIsValidated(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := get(t, app, q(disc, "sorts", "byteVolume desc", "limit", "1", "cursor", ""))
	next := r.header.Get(HeaderNextCursor)
	if next == "" {
		t.Fatalf("no cursor: %s", r.body)
	}
	detail := "cursor: the cursor is invalid or belongs to another query (filter, sorts, timeFrame)"
	tests := []struct {
		name string
		kv   []string
	}{
		{"tampered", []string{"sorts", "byteVolume desc", "cursor", "x" + next[1:]}},
		{"garbage", []string{"sorts", "byteVolume desc", "cursor", "not-a-cursor"}},
		{"other sort", []string{"sorts", "byteVolume asc", "cursor", next}},
		{"other filter", []string{"sorts", "byteVolume desc", "filter", "serverPort = 443", "cursor", next}},
		{"from another server (key)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := q(disc, tt.kv...)
			a := app
			if tt.kv == nil {
				a = New(newTestDB(t), Config{})
				target = q(disc, "sorts", "byteVolume desc", "cursor", next)
			}
			r := get(t, a, target)
			var p Problem
			if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 400 || p.Detail != detail {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}
	r = get(t, app, q(disc, "cursor", "", "offset", "1"))
	if r.status != 400 || !strings.Contains(r.body, "cursor cannot be combined with offset") {
		t.Errorf("cursor with offset: %d %s", r.status, r.body)
	}
	r = get(t, app, q(disc, "cursor", "", "sorts", "weakReasons asc"))
	if r.status != 400 || !strings.Contains(r.body, "list field weakReasons") {
		t.Errorf("list sort: %d %s", r.status, r.body)
	}
}

// certRow is a minimal certificate row with the given fingerprint.
func certRow(fp string) row {
	return row{"certFingerprint": fp, "certSerial": fp[:8], "certSubjectAsn1s": "CN=x", "certIssuerAsn1s": "CN=x",
		"certSource": "file", "certServerCount": 0, "certIsCa": false, "certSelfSigned": true}
}

func randomFingerprints(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}
	return out
}

func loadCerts(t *testing.T, db *engine.DB, fps []string) {
	rows := make([]row, len(fps))
	for i, fp := range fps {
		rows[i] = certRow(fp)
	}
	load(t, db, memory.NewGoAllocator(), query.Cert, rows)
}

// TestCursorWithConcurrentIngest walks cert pages while new certificates (sorting
// anywhere among the old ones) are loaded: every original row appears exactly once.
func TestCursorWithConcurrentIngest(t *testing.T) {
	db := newTestDB(t)
	r := rand.New(rand.NewPCG(1, 2))
	original := randomFingerprints(r, 3000)
	loadCerts(t, db, original)
	app := New(db, Config{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			loadCerts(t, db, randomFingerprints(r, 50))
		}
	}()
	got := walk(t, func(cursor string) response {
		return get(t, app, q(cert, "columns", "certFingerprint", "sorts", "certSource desc", "limit", "97", "cursor", cursor))
	}, "certFingerprint")
	close(stop)
	wg.Wait()
	seen := map[string]int{}
	for _, fp := range got {
		seen[fp]++
		if seen[fp] == 2 {
			t.Errorf("duplicate %s", fp)
		}
	}
	for _, fp := range original {
		if seen[fp] != 1 {
			t.Errorf("original row %s seen %d times", fp, seen[fp])
		}
	}
	n, _ := db.RowCount(context.Background(), query.Cert)
	t.Logf("walked %d rows; %d original, %d in the table at the end", len(got), len(original), n)
	if int64(len(got)) == n {
		t.Log("note: no rows were ingested during the walk")
	}
}
