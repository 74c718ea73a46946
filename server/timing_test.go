package server

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// phaseValue matches one metric of the Server-Timing header and captures its name and
// duration.
var phaseValue = regexp.MustCompile(`^([a-z]+);dur=(\d+\.\d{3})$`)

// TestServerTiming checks which phases each kind of response reports, and that they
// account for no more time than the request took.
func TestServerTiming(t *testing.T) {
	app := New(newTestDB(t), clockConfig())
	live := serveLive(t, app)
	tests := []struct {
		name   string
		target string
		accept string
		live   bool // over a real connection (exports hijack theirs)
		status int
		phases []string // nil: no header
	}{
		{"page", q(disc, "limit", "2"), "", false, 200, []string{"queue", "query", "encode"}},
		{"page with counts", q(disc, "limit", "2", "reportFilteredCount", "true"), "", false, 200, []string{"queue", "count", "query", "encode"}},
		{"CSV page", q(cert, "limit", "2"), "text/csv", false, 200, []string{"queue", "query", "encode"}},
		{"cursor page", q(disc, "sorts", "byteVolume desc", "limit", "1", "cursor", ""), "", false, 200, []string{"queue", "query", "encode"}},
		{"export", q(disc, "returnAsStream", "true"), "text/csv", true, 200, nil},
		{"bad filter", q(disc, "filter", "byteVolume >"), "", false, 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.accept != "" {
				headers = []string{"Accept", tt.accept}
			}
			start := time.Now()
			var r response
			if tt.live {
				r = live.get(t, tt.target, headers...)
			} else {
				r = get(t, app, tt.target, headers...)
			}
			elapsed := time.Since(start)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			got := r.header.Get(HeaderServerTiming)
			if tt.phases == nil {
				if got != "" {
					t.Errorf("Server-Timing %q, want none", got)
				}
				return
			}
			names, total := parseServerTiming(t, got)
			if !slices.Equal(names, tt.phases) {
				t.Errorf("phases %v, want %v (header %q)", names, tt.phases, got)
			}
			if total > elapsed {
				t.Errorf("phases add up to %v, more than the request took (%v): %q", total, elapsed, got)
			}
		})
	}
}

// parseServerTiming splits a Server-Timing value into metric names and their total.
func parseServerTiming(t *testing.T, value string) ([]string, time.Duration) {
	t.Helper()
	var names []string
	var total time.Duration
	for _, metric := range strings.Split(value, ", ") {
		m := phaseValue.FindStringSubmatch(metric)
		if m == nil {
			t.Fatalf("metric %q of %q is not name;dur=milliseconds", metric, value)
		}
		ms, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m[1])
		total += time.Duration(ms * float64(time.Millisecond))
	}
	return names, total
}
