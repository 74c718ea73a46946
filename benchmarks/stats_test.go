package benchmarks

import (
	"testing"
	"time"
)

func TestSummarizeExact(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name              string
		in                []time.Duration
		median, p95, mean time.Duration
	}{
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"odd unsorted", ms(30, 10, 20), 20 * time.Millisecond, 30 * time.Millisecond, 20 * time.Millisecond},
		{"even averages the middle", ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond, 2500 * time.Microsecond},
		// 20 samples 1..20: nearest rank ceil(0.95*20)=19.
		{"twenty", ms(20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1),
			10500 * time.Microsecond, 19 * time.Millisecond, 10500 * time.Microsecond},
		// 21 samples: ceil(0.95*21)=20.
		{"twenty-one", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 100),
			11 * time.Millisecond, 20 * time.Millisecond, 310 * time.Millisecond / 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			s := Summarize(tt.in)
			if s.Median != tt.median || s.P95 != tt.p95 || s.Mean != tt.mean || s.N != len(tt.in) {
				t.Errorf("got median %v p95 %v mean %v n %d, want %v %v %v", s.Median, s.P95, s.Mean, s.N, tt.median, tt.p95, tt.mean)
			}
			for i := range in {
				if in[i] != tt.in[i] {
					t.Fatal("Summarize modified its input")
				}
			}
		})
	}
	if s := Summarize(nil); s != (Stats{}) {
		t.Errorf("empty: %+v", s)
	}
}

func TestRateAndRatio(t *testing.T) {
	if r := Rate(1000, 500*time.Millisecond); r != 2000 {
		t.Errorf("Rate = %v", r)
	}
	if Rate(5, 0) != 0 || Ratio(0, time.Second) != 0 || Ratio(time.Second, 0) != 0 {
		t.Error("zero guards")
	}
	if r := Ratio(3*time.Second, 2*time.Second); r != 1.5 {
		t.Errorf("Ratio = %v", r)
	}
	if m := medianFloat([]float64{5, 1, 3, 2}); m != 2.5 {
		t.Errorf("medianFloat = %v", m)
	}
}

func TestParseScale(t *testing.T) {
	for in, want := range map[string]Scale{"20k": 20_000, "1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000, "1500": 1500, "1_000": 1000} {
		got, err := ParseScale(in)
		if err != nil || got != want {
			t.Errorf("ParseScale(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1M", "0"} {
		if _, err := ParseScale(bad); err == nil {
			t.Errorf("ParseScale(%q) succeeded", bad)
		}
	}
	if s := Scale(20_000).String(); s != "20k" {
		t.Errorf("String = %q", s)
	}
	if c := Scale(1_000_000).Certificates(); c != 2000 {
		t.Errorf("Certificates = %d", c)
	}
	scales, err := ParseScales("1M, 10M")
	if err != nil || len(scales) != 2 || scales[1] != 10_000_000 {
		t.Errorf("ParseScales = %v, %v", scales, err)
	}
}
