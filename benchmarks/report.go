package benchmarks

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteMarkdown renders the results as the tables of benchmarks/results/latest.md.
func WriteMarkdown(w io.Writer, r *Results) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# cipherscope benchmarks\n\n")
	fmt.Fprintf(&b, "Run %s, took %s, seed %d.\n\n", r.Started.UTC().Format(time.RFC3339), r.Duration.Round(time.Second), r.Seed)
	writeMachine(&b, r.Machine)
	for _, s := range r.Scales {
		writeScale(&b, s)
	}
	if len(r.Ingest) > 0 {
		writeIngest(&b, r.Ingest)
	}
	b.WriteString("Latencies are medians and nearest-rank p95 of the timed repetitions, after one untimed warm-up run " +
		"per path whose row counts must agree across paths. API = `cipherscope serve` over loopback until the whole body " +
		"is read; DuckDB = the hand-written SQL in-process on the same file opened read-only (serve reads a byte-identical copy) (Arrow results; exports via " +
		"`COPY ... TO`); PostgreSQL = the identical filter text on the `discovery` view / `cert` table. Paths run interleaved, " +
		"in a rotating order. Peak RSS: serve child (VmHWM, reset per case) for API, harness process for DuckDB.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMachine(b *strings.Builder, m Machine) {
	fmt.Fprintf(b, "| machine | |\n|---|---|\n")
	fmt.Fprintf(b, "| CPU | %s (%d cores) |\n| memory | %s |\n| OS | %s |\n", m.CPUModel, m.CPUs, humanBytes(m.MemoryBytes), m.OS)
	fmt.Fprintf(b, "| Go | %s |\n| DuckDB | %s |\n| PostgreSQL | %s |\n", m.Go, m.DuckDB, m.Postgres)
	if m.Commit != "" {
		fmt.Fprintf(b, "| commit | %s |\n", m.Commit)
	}
	b.WriteString("\n")
}

func writeScale(b *strings.Builder, s *ScaleResult) {
	fmt.Fprintf(b, "## Scale %s: %d observations, %d certificates, %d flows, %d reps\n\n",
		s.Scale, s.Observations, s.Certificates, s.Flows, s.Reps)
	cached := ""
	if s.Build.Cached {
		cached = " (cached; load time from the original build)"
	}
	fmt.Fprintf(b, "DuckDB file %s%s: native load %d rows in %s (%s rows/s). PostgreSQL COPY: %d rows in %s.",
		humanBytes(s.Build.DuckDBBytes), cached, s.Build.NativeLoadRows, fmtDur(s.Build.NativeLoad),
		fmtRate(Rate(s.Build.NativeLoadRows, s.Build.NativeLoad)), s.Build.PostgresRows, fmtDur(s.Build.PostgresLoad))
	if s.Build.PostgresSkipped != "" {
		fmt.Fprintf(b, " PostgreSQL skipped: %s.", s.Build.PostgresSkipped)
	}
	fmt.Fprintf(b, " Server peak RSS over the scale: %s.\n\n", humanBytes(s.ServerPeakRSS))

	b.WriteString("| case | rows | API median | API p95 | in server | DuckDB median | DuckDB p95 | PostgreSQL median | API/DuckDB | in server/DuckDB | PG/API | API rows/s | API MB/s | server RSS | status |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, c := range s.Cases {
		writeCaseRow(b, c)
	}
	b.WriteString("\n\"in server\": the median time the server reports in its Server-Timing header (queue, counts, query, encoding) for the API's requests; the rest of the API median is HTTP on loopback.\n\n")
	writeTargets(b, s.Summary)
}

func writeCaseRow(b *strings.Builder, c CaseResult) {
	api, duck, pg := c.Paths["api"], c.Paths["duckdb"], c.Paths["postgres"]
	ratio := func(v, goal float64, le bool) string {
		if v == 0 {
			return "–"
		}
		mark := ""
		if goal > 0 && ((le && v > goal) || (!le && v < goal)) {
			mark = " ✗"
		}
		return fmt.Sprintf("%.2fx%s", v, mark)
	}
	apiGoal := 0.0
	if c.Kind == Page {
		apiGoal = MaxAPIOverDuckDB
	}
	status := c.Status
	if c.Reason != "" {
		status += ": " + mdEscape(firstLine(c.Reason))
	}
	fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		c.Name, c.Rows, medianCell(api), p95(api), serverCell(api), medianCell(duck), p95(duck), medianCell(pg),
		ratio(c.APIOverDuckDB, apiGoal, true), ratio(c.ServerOverDuckDB, 0, true), ratio(c.PostgresOverAPI, MinPostgresOverAPI, false),
		rate(api, false), rate(api, true), rss(api), status)
}

func writeTargets(b *strings.Builder, s Summary) {
	fmt.Fprintf(b, "Cases: %d ok, %d error, %d not available.\n\n", s.OK, s.Errors, s.Missing)
	b.WriteString("| target | goal | measured | met | detail |\n|---|---|---:|---|---|\n")
	for _, t := range s.Targets {
		val, met := "–", "not measured"
		if t.Measured {
			val, met = fmt.Sprintf("%.2f", t.Value), "no"
			if t.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", t.Name, t.Goal, val, met, mdEscape(t.Detail))
	}
	b.WriteString("\n")
}

func writeIngest(b *strings.Builder, in []IngestResult) {
	b.WriteString("## Ingest\n\n| format | rows | file size | cipherscope median | rows/s | MB/s | peak RSS | DuckDB reader median | rows/s | MB/s | ratio | status |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range in {
		status := StatusOK
		for _, p := range []*PathResult{r.Cipherscope, r.DuckDB} {
			if p != nil && p.Status != StatusOK {
				status = p.Status + ": " + mdEscape(firstLine(p.Reason))
			}
		}
		ratio := "–"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2fx", r.Ratio)
		}
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Format, r.Rows, humanBytes(r.Bytes),
			medianCell(r.Cipherscope), rate(r.Cipherscope, false), rate(r.Cipherscope, true), rss(r.Cipherscope),
			medianCell(r.DuckDB), rate(r.DuckDB, false), rate(r.DuckDB, true), ratio, status)
	}
	b.WriteString("\n")
}

func medianCell(p *PathResult) string {
	if p == nil || p.Status != StatusOK || p.Stats.N == 0 {
		return pathMissing(p)
	}
	return fmtDur(p.Stats.Median)
}

// serverCell is the server-reported median of a path, "–" when it reported none.
func serverCell(p *PathResult) string {
	if p == nil || p.ServerMedian == 0 {
		return "–"
	}
	return fmtDur(p.ServerMedian)
}

func p95(p *PathResult) string {
	if p == nil || p.Status != StatusOK || p.Stats.N == 0 {
		return "–"
	}
	return fmtDur(p.Stats.P95)
}

func rate(p *PathResult, mb bool) string {
	if p == nil || p.Status != StatusOK || p.Stats.N == 0 {
		return "–"
	}
	if mb {
		return fmt.Sprintf("%.1f", p.MBPerSec)
	}
	return fmtRate(p.RowsPerSec)
}

func rss(p *PathResult) string {
	if p == nil || p.PeakRSS == 0 {
		return "–"
	}
	return humanBytes(p.PeakRSS)
}

// pathMissing says briefly why a path has no timing.
func pathMissing(p *PathResult) string {
	switch {
	case p == nil:
		return "–"
	case p.Status == StatusNotAvailable:
		return "n/a"
	case p.Status == StatusError:
		return "error"
	}
	return "–"
}

// fmtDur prints a duration in ms with precision that suits its size.
func fmtDur(d time.Duration) string {
	msec := ms(d)
	switch {
	case d == 0:
		return "–"
	case msec < 10:
		return fmt.Sprintf("%.2f ms", msec)
	case msec < 1000:
		return fmt.Sprintf("%.1f ms", msec)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtRate(r float64) string {
	switch {
	case r == 0:
		return "–"
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

func humanBytes(n int64) string {
	switch {
	case n == 0:
		return "–"
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func mdEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
