package benchmarks

import (
	"math"
	"sort"
	"time"
)

// Stats summarises the timed repetitions of one path of one case.
//
// Median is the middle sample (the mean of the two middle samples for an even count);
// P95 uses the nearest-rank method (the smallest sample that at least 95% of samples do
// not exceed), so both are exact, reproducible sample values that tests can pin down.
type Stats struct {
	N      int           `json:"n"`
	Min    time.Duration `json:"minNs"`
	Median time.Duration `json:"medianNs"`
	P95    time.Duration `json:"p95Ns"`
	Max    time.Duration `json:"maxNs"`
	Mean   time.Duration `json:"meanNs"`
}

// Summarize computes Stats over samples; it does not modify its argument.
func Summarize(samples []time.Duration) Stats {
	n := len(samples)
	if n == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Stats{
		N:      n,
		Min:    s[0],
		Median: medianOf(s),
		P95:    nearestRank(s, 0.95),
		Max:    s[n-1],
		Mean:   sum / time.Duration(n),
	}
}

func medianOf(sorted []time.Duration) time.Duration {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// nearestRank returns the p-quantile of sorted samples by the nearest-rank definition:
// the value at 1-based rank ceil(p*n).
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// Rate returns amount per second for an amount processed in d, or 0 when d is zero.
func Rate(amount int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(amount) / d.Seconds()
}

// Ratio returns a/b, or 0 when either side is unknown (zero).
func Ratio(a, b time.Duration) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// medianFloat returns the median of xs (0 for none), used for suite-level summaries.
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
