package benchmarks

import (
	"testing"
	"time"
)

func TestServerTime(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
		err    bool
	}{
		{"", 0, false},
		{"queue;dur=0.004, query;dur=3.871, encode;dur=0.412", 4287 * time.Microsecond, false},
		{"db;desc=\"DuckDB\";dur=2.5", 2500 * time.Microsecond, false},
		{"cache", 0, false}, // a metric without a duration adds nothing
		{"query;dur=fast", 0, true},
		{"query;dur=-1", 0, true},
	}
	for _, tt := range tests {
		got, err := serverTime(tt.header)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("serverTime(%q) = %v, %v; want %v, error %v", tt.header, got, err, tt.want, tt.err)
		}
	}
}
