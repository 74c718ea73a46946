package benchmarks

import (
	"fmt"
	"slices"
)

// Target thresholds (DESIGN section 5 and the benchmark issue).
const (
	// MaxAPIOverDuckDB: the API may add at most 20% to raw DuckDB on filtered pages,
	// judged on the median ratio over the page cases. One case's ratio is too noisy to
	// judge alone on a small machine: with 15 repetitions on a 2-vCPU VM, cert_page
	// measured 2.10x in one run and 1.03x in the next, eq_port_range 0.98x then 1.36x,
	// while the median over the 14 page cases stayed between 1.02 and 1.05. The
	// per-case ratios are still reported, and marked when above.
	MaxAPIOverDuckDB = 1.2
	// MinPostgresOverAPI: the API should be at least 5x faster than PostgreSQL (suite median).
	MinPostgresOverAPI = 5.0
	// MinCSVExportShare: CSV export should reach 80% of DuckDB's COPY TO CSV rows/s.
	MinCSVExportShare = 0.8
)

// summarize computes the targets of a scale from its cases.
func summarize(cases []CaseResult) Summary {
	var s Summary
	var pageRatios, serverRatios, pgRatios []float64
	worst, within := 0.0, 0
	for _, c := range cases {
		switch c.Status {
		case StatusOK:
			s.OK++
		case StatusError:
			s.Errors++
		default:
			s.Missing++
		}
		if c.Kind == Page && c.APIOverDuckDB > 0 {
			pageRatios = append(pageRatios, c.APIOverDuckDB)
			worst = max(worst, c.APIOverDuckDB)
			if c.APIOverDuckDB <= MaxAPIOverDuckDB {
				within++
			}
			if c.ServerOverDuckDB > 0 {
				serverRatios = append(serverRatios, c.ServerOverDuckDB)
			}
		}
		if c.PostgresOverAPI > 0 {
			pgRatios = append(pgRatios, c.PostgresOverAPI)
		}
	}
	pageMed := medianFloat(pageRatios)
	detail := fmt.Sprintf("median of API/DuckDB over %d page cases; %d of them within on their own, worst %.2f",
		len(pageRatios), within, worst)
	if len(serverRatios) > 0 {
		detail += fmt.Sprintf("; inside the server (Server-Timing, without HTTP): median %.2f, worst %.2f",
			medianFloat(serverRatios), slices.Max(serverRatios))
	}
	s.Targets = append(s.Targets, Target{
		Name: "API overhead on filtered pages", Goal: fmt.Sprintf("API <= %.1fx raw DuckDB (median over page cases)", MaxAPIOverDuckDB),
		Value: pageMed, Measured: len(pageRatios) > 0, Met: len(pageRatios) > 0 && pageMed <= MaxAPIOverDuckDB,
		Detail: detail,
	})
	pgMed := medianFloat(pgRatios)
	s.Targets = append(s.Targets, Target{
		Name: "Faster than PostgreSQL", Goal: fmt.Sprintf(">= %.0fx faster than PostgreSQL (median over cases)", MinPostgresOverAPI),
		Value: pgMed, Measured: len(pgRatios) > 0, Met: len(pgRatios) > 0 && pgMed >= MinPostgresOverAPI,
		Detail: fmt.Sprintf("median of PostgreSQL/API over %d cases", len(pgRatios)),
	})
	s.Targets = append(s.Targets, csvTarget(cases))
	return s
}

// csvTarget compares the API's CSV export rows/s with DuckDB's COPY TO CSV.
func csvTarget(cases []CaseResult) Target {
	t := Target{Name: "CSV export throughput", Goal: fmt.Sprintf(">= %.1fx DuckDB COPY TO CSV rows/s", MinCSVExportShare)}
	for _, c := range cases {
		if c.Kind != Export || c.Format != CSV {
			continue
		}
		api, duck := c.Paths["api"], c.Paths["duckdb"]
		if api == nil || duck == nil || api.Status != StatusOK || duck.Status != StatusOK || duck.RowsPerSec == 0 {
			t.Detail = "not measured: " + c.Status + " " + c.Reason
			continue
		}
		t.Value, t.Measured = api.RowsPerSec/duck.RowsPerSec, true
		t.Met = t.Value >= MinCSVExportShare
		t.Detail = fmt.Sprintf("%s: API %.0f rows/s (%.1f MB/s), DuckDB COPY %.0f rows/s (%.1f MB/s)",
			c.Name, api.RowsPerSec, api.MBPerSec, duck.RowsPerSec, duck.MBPerSec)
	}
	return t
}
