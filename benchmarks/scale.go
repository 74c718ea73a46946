package benchmarks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Scale is a dataset size, counted in discovery observations.
type Scale int64

// CertsPerObservation is the divisor that keeps certificate counts proportional to the
// observations: one distinct certificate per this many observations.
const CertsPerObservation = 500

// DefaultScales are run by `make bench` when no scale is chosen. 100M is documented for
// bigger machines (SCALE=100M); it needs tens of GB of disk and several hours on 2 cores.
var DefaultScales = []Scale{1_000_000, 10_000_000}

// ParseScale reads sizes such as "20k", "1M", "10M", "100M" or a plain number.
func ParseScale(s string) (Scale, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "k"), strings.HasSuffix(t, "K"):
		mult, t = 1_000, t[:len(t)-1]
	case strings.HasSuffix(t, "M"), strings.HasSuffix(t, "m"):
		mult, t = 1_000_000, t[:len(t)-1]
	case strings.HasSuffix(t, "G"), strings.HasSuffix(t, "B"):
		mult, t = 1_000_000_000, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("benchmarks: bad scale %q (want e.g. 20k, 1M, 10M)", s)
	}
	return Scale(n * mult), nil
}

// ParseScales reads a comma-separated list of scales.
func ParseScales(s string) ([]Scale, error) {
	var out []Scale
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		sc, err := ParseScale(part)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// String renders the scale in the short form ParseScale reads ("1M", "20k").
func (s Scale) String() string {
	n := int64(s)
	switch {
	case n%1_000_000_000 == 0:
		return fmt.Sprintf("%dG", n/1_000_000_000)
	case n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return strconv.FormatInt(n, 10)
}

// Observations is the number of discovery observations generated at this scale.
func (s Scale) Observations() int { return int(s) }

// Certificates is the number of distinct certificates generated at this scale.
func (s Scale) Certificates() int { return max(10, int(s)/CertsPerObservation) }

// DefaultReps chooses how many timed repetitions fit the 30-minute budget on 2 cores:
// small datasets get more repetitions (cheap, and tighter percentiles), big ones fewer.
func (s Scale) DefaultReps() int {
	switch {
	case s <= 1_000_000:
		return 5
	case s <= 10_000_000:
		return 2
	}
	return 1
}

// LargeScaleCases are the cases a default run measures above 1M observations: one per
// cost class that grows with the data (post-rollup filter, CIDR range scan, regex, sort
// over every flow, a bounded-memory stream). The whole suite at 10M takes over an hour on
// 2 cores, mostly PostgreSQL's rollups, which would break the 30-minute budget of
// `make bench`; CASES='*' SCALE=10M measures everything.
var LargeScaleCases = []string{"eq_range", "regex_ci", "cidr_v4", "multi_sort_page", "stream_ndjson_1m"}

// DefaultCases narrows a default run's cases at this scale (see LargeScaleCases).
func (s Scale) DefaultCases(all []Case) []Case {
	if s <= 1_000_000 {
		return all
	}
	var out []Case
	for _, c := range all {
		if slices.Contains(LargeScaleCases, c.Name) {
			out = append(out, c)
		}
	}
	return out
}
