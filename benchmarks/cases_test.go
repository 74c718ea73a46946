package benchmarks

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/query"
)

func TestSuiteWellFormed(t *testing.T) {
	suite := Suite()
	if len(suite) < 12 {
		t.Fatalf("suite has %d cases, want >= 12", len(suite))
	}
	seen := map[string]bool{}
	for _, c := range suite {
		if seen[c.Name] {
			t.Errorf("duplicate case %s", c.Name)
		}
		seen[c.Name] = true
		if !query.ValidDataset(c.Dataset) {
			t.Errorf("%s: bad dataset %q", c.Name, c.Dataset)
		}
		// Every field a case names must exist in its dataset.
		for _, f := range append(append([]string{}, c.Columns...), sortFields(c)...) {
			if _, ok := query.LookupField(c.Dataset, f); !ok {
				t.Errorf("%s: unknown field %q", c.Name, f)
			}
		}
		// A filter without its DuckDB translation would compare different queries.
		if c.Filter != "" && c.DuckPre == "" && c.DuckPost == "" {
			t.Errorf("%s: filter without hand-written DuckDB predicate", c.Name)
		}
		if c.Kind == Export && c.Format == "" {
			t.Errorf("%s: export without format", c.Name)
		}
	}
}

func sortFields(c Case) []string {
	var out []string
	for _, s := range c.Sorts {
		out = append(out, s.Field)
	}
	return out
}

func TestSelectCases(t *testing.T) {
	got, err := SelectCases(Suite(), []string{"cidr_*", "eq_range", "cidr_v4"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "cidr_v4,cidr_v6,eq_range" {
		t.Errorf("got %v", names)
	}
	if _, err := SelectCases(Suite(), []string{"nope"}); err == nil {
		t.Error("unknown case accepted")
	}
}

func TestSQLShapes(t *testing.T) {
	c := caseNamed(t, "eq_range")
	d := duckPlan(c)
	// All time: the flow table's rollup columns, pre and post predicates in one WHERE.
	if want := `FROM (SELECT * FROM discovery_flow WHERE ("cipherKex" = 'ECDHE') AND ("byteVolume" > 1000000)) ORDER BY "byteVolume" DESC LIMIT 100`; !strings.HasSuffix(d.Main, want) {
		t.Errorf("duck SQL = %s", d.Main)
	}
	p := pgPlan(c)
	if want := "FROM discovery WHERE cipherKex = 'ECDHE' AND byteVolume > 1000000 ORDER BY byteVolume DESC LIMIT 100"; !strings.HasSuffix(p.Main, want) {
		t.Errorf("pg SQL = %s", p.Main)
	}
	// A time frame: the frame's observations grouped per flow, on all three paths.
	tf := caseNamed(t, "timeframe_page")
	d = duckPlan(tf)
	for _, want := range []string{`WITH f AS (SELECT * EXCLUDE ("connectionCount", "byteVolume", "packetCount", "firstSeen", "lastSeen") FROM discovery_flow WHERE "cipherKex" = 'ECDHE')`,
		`WHERE "observedAt" >= TIMESTAMP '2026-09-08 00:00:00' AND "observedAt" < TIMESTAMP '2026-09-15 00:00:00' GROUP BY "flowId"`} {
		if !strings.Contains(d.Main, want) {
			t.Errorf("duck SQL lacks %q:\n%s", want, d.Main)
		}
	}
	p = pgPlan(tf)
	if want := "WHERE observedAt >= '2026-09-08 00:00:00' AND observedAt < '2026-09-15 00:00:00' GROUP BY"; !strings.Contains(p.Main, want) {
		t.Errorf("pg SQL lacks %q:\n%s", want, p.Main)
	}
	if u := (&apiPath{base: "http://x"}).requestURL(tf); !strings.Contains(u, "timeFrame%5Bbegin%5D=1788825600&timeFrame%5Bend%5D=1789430400") {
		t.Errorf("API URL = %s", u)
	}
	deep := pgPlan(caseNamed(t, "deep_offset"))
	if !strings.HasSuffix(deep.Main, "LIMIT 100 OFFSET 20000") {
		t.Errorf("offset pages: %s", deep.Main)
	}
	counts := duckPlan(caseNamed(t, "count_reporting"))
	if len(counts.Counts) != 2 {
		t.Errorf("count_reporting has %d count statements", len(counts.Counts))
	}
}

func TestCIDRPredicate(t *testing.T) {
	got := cidrPredicate("serverIp", "10.10.0.0/16")
	// 10.10.0.0 = 168427520, 10.10.255.255 = 168493055; -2^127 = -170141183460469231731687303715884105728. IPv4 sits in the low bits of a
	// 128-bit number whose top bit is flipped, i.e. -2^127 + address.
	want := `"serverIp__fam" = 4 AND "serverIp__num" BETWEEN '-170141183460469231731687303715715678208'::HUGEINT AND '-170141183460469231731687303715715612673'::HUGEINT`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPGArrayExpr(t *testing.T) {
	got := pgArrayExpr(`"weakReasons"`)
	if !strings.Contains(got, `array_to_string(list_transform("weakReasons", lambda e:`) {
		t.Errorf("pgArrayExpr = %s", got)
	}
}

func caseNamed(t *testing.T, name string) Case {
	t.Helper()
	for _, c := range Suite() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return Case{}
}

// fakeRunner returns fixed outcomes, for testing the case runner's logic.
type fakeRunner struct {
	name string
	rows int64
	err  error
	runs int
}

func (f *fakeRunner) Name() string                        { return f.name }
func (f *fakeRunner) Prepare(context.Context, Case) error { return nil }
func (f *fakeRunner) Cleanup(context.Context, Case) error { return nil }
func (f *fakeRunner) Run(context.Context, Case) (outcome, error) {
	f.runs++
	if f.err != nil {
		return outcome{}, f.err
	}
	return outcome{Rows: f.rows, Bytes: 1000, Elapsed: time.Duration(f.runs) * time.Millisecond}, nil
}

func TestCaseRunnerAgreementAndReps(t *testing.T) {
	api, duck, pg := &fakeRunner{name: "api", rows: 5}, &fakeRunner{name: "duckdb", rows: 5}, &fakeRunner{name: "postgres", rows: 5}
	cr := &caseRunner{paths: []runner{api, duck, pg}, reps: 3}
	res := cr.run(context.Background(), Case{Name: "x", Kind: Page})
	if res.Status != StatusOK || res.Rows != 5 {
		t.Fatalf("status %s %s rows %d", res.Status, res.Reason, res.Rows)
	}
	// warm-up + 3 timed runs each; samples 2,3,4 ms.
	if api.runs != 4 || res.Paths["api"].Stats.Median != 3*time.Millisecond {
		t.Errorf("runs %d median %v", api.runs, res.Paths["api"].Stats.Median)
	}
	if res.APIOverDuckDB != 1 || res.PostgresOverAPI != 1 {
		t.Errorf("ratios %v %v", res.APIOverDuckDB, res.PostgresOverAPI)
	}

	// Disagreeing paths: an error, and nothing is timed.
	pg2 := &fakeRunner{name: "postgres", rows: 6}
	api2 := &fakeRunner{name: "api", rows: 5}
	cr = &caseRunner{paths: []runner{api2, &fakeRunner{name: "duckdb", rows: 5}, pg2}, reps: 3}
	res = cr.run(context.Background(), Case{Name: "y", Kind: Page})
	if res.Status != StatusError || !strings.Contains(res.Reason, "postgres=6") || api2.runs != 1 {
		t.Errorf("disagreement: %s %q runs %d", res.Status, res.Reason, api2.runs)
	}

	// A missing API feature: recorded as not available, the other paths still measured.
	na := &fakeRunner{name: "api", err: notAvailable("CSV export: HTTP 406 ")}
	cr = &caseRunner{paths: []runner{na, &fakeRunner{name: "duckdb", rows: 5}}, reps: 2}
	res = cr.run(context.Background(), Case{Name: "z", Kind: Export})
	if res.Status != StatusNotAvailable || !strings.Contains(res.Reason, "406") || res.Paths["duckdb"].Stats.N != 2 {
		t.Errorf("not available: %+v", res)
	}

	// A plain error is an error.
	bad := &fakeRunner{name: "api", err: errors.New("boom")}
	cr = &caseRunner{paths: []runner{bad}, reps: 1}
	if res = cr.run(context.Background(), Case{Name: "w"}); res.Status != StatusError {
		t.Errorf("error: %+v", res)
	}
}

func TestCaseRunnerBudget(t *testing.T) {
	slow := &fakeRunner{name: "postgres", rows: 1}
	cr := &caseRunner{paths: []runner{slow}, reps: 10, budget: 5 * time.Millisecond}
	res := cr.run(context.Background(), Case{Name: "b"})
	// Samples are 2, 3 ms: the budget is spent after two timed runs.
	if got := res.Paths["postgres"]; got.Stats.N != 2 || !got.Budgeted {
		t.Errorf("budget: n=%d budgeted=%v", got.Stats.N, got.Budgeted)
	}
}

func TestParseBodies(t *testing.T) {
	page := Case{Counts: true, Feature: "count reporting"}
	out, err := parsePage(page, []byte(`{"data":[{},{}],"pagination":{"filteredCount":7,"totalCount":9}}`))
	if err != nil || out.Rows != 2 || out.Counts[0] != 7 || out.Counts[1] != 9 {
		t.Errorf("page: %+v %v", out, err)
	}
	if _, err := parsePage(page, []byte(`{"data":[]}`)); err == nil {
		t.Error("missing counts accepted")
	} else if _, ok := isNotAvailable(err); !ok {
		t.Errorf("missing counts: %v", err)
	}
	n, err := csvRows(strings.NewReader("a,b\n1,\"x\ny\"\n2,z\n"))
	if err != nil || n != 2 {
		t.Errorf("csv rows %d %v", n, err)
	}
	out, _ = parseBody(Case{Format: NDJSON}, []byte("{}\n{}\n{}\n"))
	if out.Rows != 3 {
		t.Errorf("ndjson rows %d", out.Rows)
	}
	stream := arrowStream(t, 3, 2)
	out, err = parseBody(Case{Format: Arrow}, stream)
	if err != nil || out.Rows != 5 {
		t.Errorf("arrow rows %d %v", out.Rows, err)
	}
	// A stream cut short (its end marker missing, or mid-batch) is an error, not fewer rows.
	if _, err := parseBody(Case{Format: Arrow}, stream[:len(stream)-20]); err == nil {
		t.Error("a truncated Arrow stream was accepted")
	}
	out, _ = parseDiff([]byte(`{"added":[{}],"removed":[],"changed":[{}]}`))
	if out.Rows != 3 {
		t.Errorf("diff rows %d", out.Rows)
	}
}

// arrowStream is an Arrow IPC stream of one int64 column with batches of the given sizes.
func arrowStream(t *testing.T, sizes ...int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, n := range sizes {
		for i := 0; i < n; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
		}
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
