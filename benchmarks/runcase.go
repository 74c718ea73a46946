package benchmarks

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// rssProbe measures a process's peak resident set over an interval.
type rssProbe interface {
	Reset()      // start a new interval (best effort)
	Peak() int64 // peak RSS in bytes since the last Reset, 0 when unknown
}

// caseRunner runs cases on a set of paths with a repetition count and time budget.
type caseRunner struct {
	paths  []runner
	reps   int
	budget time.Duration // per path and case: no more reps once a path's timed runs exceed it
	rss    map[string]rssProbe
	log    io.Writer
}

// pathState tracks one path through a case.
type pathState struct {
	r       runner
	res     *PathResult
	warm    outcome
	samples []time.Duration
	server  []time.Duration // the server-reported part of each sample, when reported
	spent   time.Duration
	active  bool
}

// run executes one case: prepare, one untimed warm-up run per path whose row counts must
// agree across paths, then reps timed runs interleaved in a rotating order (so no path
// always runs first or last), then cleanup.
func (cr *caseRunner) run(ctx context.Context, c Case) CaseResult {
	res := CaseResult{Name: c.Name, Description: c.Description, Dataset: string(c.Dataset), Kind: c.Kind,
		Format: c.Format, Filter: c.Filter, Paths: map[string]*PathResult{}}
	states := cr.start(ctx, c, &res)
	defer cr.cleanup(ctx, c, states)

	if reason := checkAgreement(c, states); reason != "" {
		res.Status, res.Reason = StatusError, reason
		return res
	}
	cr.timed(ctx, c, states)
	cr.finish(c, states, &res)
	return res
}

// start prepares every path and does the warm-up/check run.
func (cr *caseRunner) start(ctx context.Context, c Case, res *CaseResult) []*pathState {
	var states []*pathState
	for _, r := range cr.paths {
		st := &pathState{r: r, res: &PathResult{}}
		res.Paths[r.Name()] = st.res
		states = append(states, st)
		if p, ok := cr.rss[r.Name()]; ok {
			p.Reset()
		}
		if err := r.Prepare(ctx, c); err != nil {
			setFailure(st.res, err)
			continue
		}
		out, err := r.Run(ctx, c)
		if err != nil {
			setFailure(st.res, err)
			continue
		}
		st.warm, st.active = out, true
		st.res.Status, st.res.Rows, st.res.Bytes, st.res.Counts = StatusOK, out.Rows, out.Bytes, out.Counts
		cr.logf("  %-8s warm-up %8.1f ms  %d rows", r.Name(), ms(out.Elapsed), out.Rows)
	}
	return states
}

// setFailure records a path's error or missing feature.
func setFailure(pr *PathResult, err error) {
	if reason, ok := isNotAvailable(err); ok {
		pr.Status, pr.Reason = StatusNotAvailable, reason
		return
	}
	pr.Status, pr.Reason = StatusError, err.Error()
}

// checkAgreement returns why the paths' warm-up results disagree, or "".
func checkAgreement(c Case, states []*pathState) string {
	var ran []*pathState
	for _, st := range states {
		if st.active {
			ran = append(ran, st)
		}
	}
	if len(ran) < 2 {
		return ""
	}
	var rows, counts []string
	rowsDiffer, countsDiffer := false, false
	for _, st := range ran {
		rows = append(rows, fmt.Sprintf("%s=%d", st.r.Name(), st.warm.Rows))
		rowsDiffer = rowsDiffer || st.warm.Rows != ran[0].warm.Rows
		if len(st.warm.Counts) > 0 {
			counts = append(counts, fmt.Sprintf("%s=%v", st.r.Name(), st.warm.Counts))
			countsDiffer = countsDiffer || (len(ran[0].warm.Counts) > 0 && fmt.Sprint(st.warm.Counts) != fmt.Sprint(ran[0].warm.Counts))
		}
	}
	switch {
	case rowsDiffer && c.NoRowCheck == "":
		return "paths disagree on row count: " + strings.Join(rows, ", ")
	case countsDiffer:
		return "paths disagree on filtered/total counts: " + strings.Join(counts, ", ")
	}
	return ""
}

// timed runs the repetitions, rotating the order of the paths each time.
func (cr *caseRunner) timed(ctx context.Context, c Case, states []*pathState) {
	for rep := 0; rep < cr.reps; rep++ {
		for i := range states {
			st := states[(rep+i)%len(states)]
			if !st.active {
				continue
			}
			if len(st.samples) > 0 && cr.budget > 0 && st.spent >= cr.budget {
				st.res.Budgeted = true
				continue
			}
			// Settle the garbage of the previous run (an export's body is parsed after
			// its clock stops) so that no collection runs inside the next timed run.
			runtime.GC()
			out, err := st.r.Run(ctx, c)
			if err == nil && out.Rows != st.warm.Rows {
				err = fmt.Errorf("row count changed between runs: %d then %d", st.warm.Rows, out.Rows)
			}
			if err != nil {
				setFailure(st.res, err)
				st.active = false
				continue
			}
			st.samples = append(st.samples, out.Elapsed)
			if out.Server > 0 {
				st.server = append(st.server, out.Server)
			}
			st.spent += out.Elapsed
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// finish computes statistics, throughput, peaks and ratios.
func (cr *caseRunner) finish(c Case, states []*pathState, res *CaseResult) {
	for _, st := range states {
		pr := st.res
		if p, ok := cr.rss[st.r.Name()]; ok {
			pr.PeakRSS = p.Peak()
		}
		if pr.Status != StatusOK || len(st.samples) == 0 {
			continue
		}
		pr.Stats = Summarize(st.samples)
		if len(st.server) == len(st.samples) {
			pr.ServerMedian = Summarize(st.server).Median
		}
		for _, s := range st.samples {
			pr.Samples = append(pr.Samples, int64(s))
		}
		pr.RowsPerSec = Rate(pr.Rows, pr.Stats.Median)
		pr.MBPerSec = Rate(pr.Bytes, pr.Stats.Median) / 1e6
		cr.logf("  %-8s median %8.1f ms  p95 %8.1f ms  (%d reps)", st.r.Name(), ms(pr.Stats.Median), ms(pr.Stats.P95), pr.Stats.N)
	}
	res.Status, res.Reason = caseStatus(res.Paths)
	for _, pr := range res.Paths {
		if pr.Status == StatusOK && res.Rows == 0 {
			res.Rows = pr.Rows
		}
	}
	api, duck, pg := res.Paths["api"], res.Paths["duckdb"], res.Paths["postgres"]
	res.APIOverDuckDB = ratioOf(api, duck)
	if api != nil && api.ServerMedian > 0 && duck != nil && duck.Status == StatusOK && duck.Stats.Median > 0 {
		res.ServerOverDuckDB = float64(api.ServerMedian) / float64(duck.Stats.Median)
	}
	res.PostgresOverAPI = ratioOf(pg, api)
	res.PostgresOverDuckDB = ratioOf(pg, duck)
}

// caseStatus is error when any path failed, not available when the API path lacks the
// feature, ok otherwise.
func caseStatus(paths map[string]*PathResult) (string, string) {
	var errs []string
	for _, name := range []string{"api", "duckdb", "postgres"} {
		if pr, ok := paths[name]; ok && pr.Status == StatusError {
			errs = append(errs, name+": "+firstLine(pr.Reason))
		}
	}
	if len(errs) > 0 {
		return StatusError, strings.Join(errs, "; ")
	}
	if api, ok := paths["api"]; ok && api.Status == StatusNotAvailable {
		return StatusNotAvailable, api.Reason
	}
	return StatusOK, ""
}

// ratioOf is a's median latency over b's, when both ran.
func ratioOf(a, b *PathResult) float64 {
	if a == nil || b == nil || a.Status != StatusOK || b.Status != StatusOK {
		return 0
	}
	return Ratio(a.Stats.Median, b.Stats.Median)
}

// cleanup undoes every path's Prepare.
func (cr *caseRunner) cleanup(ctx context.Context, c Case, states []*pathState) {
	for _, st := range states {
		if err := st.r.Cleanup(ctx, c); err != nil {
			cr.logf("  %-8s cleanup: %v", st.r.Name(), err)
		}
	}
}

func (cr *caseRunner) logf(format string, args ...any) {
	if cr.log != nil {
		fmt.Fprintf(cr.log, format+"\n", args...)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
