package difftest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/internal/pgtest"
	"github.com/cipherscope/cipherscope/query"
)

// Minimum sizes asked of the corpus.
const (
	minFilters   = 300
	minGenerated = 150
)

// env is the shared setup: the dataset loaded into cipherscope and into PostgreSQL.
type env struct {
	data *dataset
	db   *engine.DB
	pg   *pgx.Conn
	// pool holds one PostgreSQL connection per worker (a pgx.Conn is not concurrent).
	pool []*pgx.Conn
	srv  *pgtest.Server
}

// workers is how many filters run at once; each runs its two sides concurrently too.
const workers = 2

// setup builds the dataset and loads it on both sides. PostgreSQL is required: a missing
// server fails the test (pgtest says how to install it).
func setup(t *testing.T, ctx context.Context) *env {
	t.Helper()
	d := buildDataset()
	if err := d.checkSizes(); err != nil {
		t.Fatal(err)
	}
	return load(t, ctx, pgtest.StartT(t), d, "public")
}

// load puts d into a new cipherscope database and into schema of srv (created if needed;
// the connections' search_path points at it), and returns the environment.
func load(t *testing.T, ctx context.Context, srv *pgtest.Server, d *dataset, schema string) *env {
	t.Helper()
	var pool []*pgx.Conn
	for i := 0; i < workers; i++ {
		conn, err := srv.Connect(ctx)
		if err != nil {
			t.Fatalf("connect to PostgreSQL: %v", err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		for _, stmt := range []string{"CREATE SCHEMA IF NOT EXISTS " + schema, "SET search_path = " + schema} {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		pool = append(pool, conn)
	}
	conn := pool[0]
	if err := loadPG(ctx, conn, d); err != nil {
		t.Fatalf("load PostgreSQL: %v", err)
	}
	db, err := engine.Open(ctx, engine.Config{Path: ""})
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := loadEngine(ctx, db, d); err != nil {
		t.Fatalf("load engine: %v", err)
	}
	return &env{data: d, db: db, pg: conn, pool: pool, srv: srv}
}

// TestDifferential runs every filter of the corpus on cipherscope and on PostgreSQL and
// requires equal row sets, then checks the filters cipherscope must reject.
func TestDifferential(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := setup(t, ctx)

	cases := append(handCorpus(), generate(e.data, numGenerated)...)
	if len(cases) < minFilters || numGenerated < minGenerated {
		t.Fatalf("corpus has %d filters (%d generated); want >= %d (>= %d generated)", len(cases), numGenerated, minFilters, minGenerated)
	}
	t.Run("filters", func(t *testing.T) { e.compareAll(t, ctx, "difftest", cases) })
	t.Run("rejected", func(t *testing.T) { e.checkRejected(t, ctx) })
	tables := e.fetchCtype(t, ctx)
	t.Run("pgctype", func(t *testing.T) { checkCtypeFile(t, ctx, e.pg, tables) })
	t.Run("duckdb-lower", func(t *testing.T) { checkDuckDBLower(t, ctx, tables) })
	t.Run("unicode", func(t *testing.T) {
		u := load(t, ctx, e.srv, unicodeDataset(e.data, tables), "uni")
		u.compareAll(t, ctx, "difftest unicode", unicodeCorpus())
	})
}

// result is the outcome of one filter on one side.
type result struct {
	rows []string // canonical row texts, sorted
	err  error
}

// mismatch describes one filter on which the two sides disagree.
type mismatch struct {
	c       filterCase
	cs, pg  result
	onlyCS  []string
	onlyPG  []string
	message string
}

// compareAll runs cases on both sides, reports each mismatch and prints a summary line
// starting with name.
func (e *env) compareAll(t *testing.T, ctx context.Context, name string, cases []filterCase) {
	var bad []mismatch
	rows, empty, all := 0, 0, 0
	total := map[query.Dataset]int{}
	for _, ds := range query.Datasets {
		r := e.pgRun(ctx, filterCase{ds: ds})
		if r.err != nil {
			t.Fatalf("PostgreSQL %s without filter: %v", ds, r.err)
		}
		total[ds] = len(r.rows)
	}
	cs, pg := e.runAll(ctx, cases)
	for i, c := range cases {
		rows += len(pg[i].rows)
		switch len(pg[i].rows) {
		case 0:
			empty++
		case total[c.ds]:
			all++
		}
		if m, ok := compare(c, cs[i], pg[i]); !ok {
			bad = append(bad, m)
		}
	}
	for _, m := range bad {
		t.Error(m.report())
	}
	t.Logf("selectivity: %d filters select nothing, %d select every row (discovery %d rollups, cert %d rows)",
		empty, all, total[query.Discovery], total[query.Cert])
	fmt.Printf("%s: %d filters, %d rows, %d mismatches\n", name, len(cases), rows, len(bad))
}

// runAll runs every case on both sides, with workers cases at a time and the two sides
// of a case concurrently, and returns the results in case order.
func (e *env) runAll(ctx context.Context, cases []filterCase) (cs, pg []result) {
	cs, pg = make([]result, len(cases)), make([]result, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(conn *pgx.Conn) {
			defer wg.Done()
			for i := range next {
				done := make(chan struct{})
				go func() { cs[i] = e.csRun(ctx, cases[i]); close(done) }()
				pg[i] = e.pgRunOn(ctx, conn, cases[i])
				<-done
			}
		}(e.pool[w])
	}
	for i := range cases {
		next <- i
	}
	close(next)
	wg.Wait()
	return cs, pg
}

// compare reports whether both sides agree: both failed, or both returned the same rows.
func compare(c filterCase, cs, pg result) (mismatch, bool) {
	m := mismatch{c: c, cs: cs, pg: pg}
	switch {
	case pg.err != nil && cs.err != nil:
		return m, true // both reject (the rejection table pins cipherscope's message)
	case pg.err != nil:
		m.message = "PostgreSQL rejects the filter, cipherscope accepts it"
		return m, false
	case cs.err != nil:
		m.message = "cipherscope rejects the filter, PostgreSQL accepts it"
		return m, false
	}
	m.onlyCS, m.onlyPG = diffSorted(cs.rows, pg.rows)
	if len(m.onlyCS) == 0 && len(m.onlyPG) == 0 {
		return m, true
	}
	m.message = "row sets differ"
	return m, false
}

// diffSorted returns the rows only in a and only in b (multiset difference).
func diffSorted(a, b []string) (onlyA, onlyB []string) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

// report formats a mismatch: the filter, both texts, counts and a few differing rows.
func (m mismatch) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "MISMATCH (%s, %s): %s\n  filter:     %s\n  postgresql: %s\n",
		m.c.ds, m.c.origin, m.message, m.c.filter, m.c.pgText())
	fmt.Fprintf(&b, "  rows: cipherscope %d, postgresql %d\n", len(m.cs.rows), len(m.pg.rows))
	if m.cs.err != nil {
		fmt.Fprintf(&b, "  cipherscope error: %v\n", m.cs.err)
	}
	if m.pg.err != nil {
		fmt.Fprintf(&b, "  postgresql error: %v\n", m.pg.err)
	}
	for _, side := range []struct {
		name string
		rows []string
	}{{"only cipherscope", m.onlyCS}, {"only postgresql", m.onlyPG}} {
		for i, r := range side.rows {
			if i == 3 {
				fmt.Fprintf(&b, "  %s: ... %d more\n", side.name, len(side.rows)-3)
				break
			}
			fmt.Fprintf(&b, "  %s: %s\n", side.name, r)
		}
	}
	return b.String()
}

// columns returns every field of ds in catalog order, with their types.
func columns(ds query.Dataset) ([]string, []query.Type) {
	var names []string
	var types []query.Type
	for _, f := range query.Fields(ds) {
		names = append(names, f.Name)
		types = append(types, f.Type)
	}
	return names, types
}

// csRun runs a case on cipherscope, requesting every column.
func (e *env) csRun(ctx context.Context, c filterCase) result {
	names, types := columns(c.ds)
	rows, err := engineRows(ctx, e.db, query.Request{Dataset: c.ds, Filter: c.filter, Columns: names}, types)
	sort.Strings(rows)
	return result{rows: rows, err: err}
}

// pgRun runs a case on PostgreSQL over the discovery view or the cert table.
func (e *env) pgRun(ctx context.Context, c filterCase) result { return e.pgRunOn(ctx, e.pg, c) }

// pgRunOn is pgRun on a given connection.
func (e *env) pgRunOn(ctx context.Context, conn *pgx.Conn, c filterCase) result {
	names, types := columns(c.ds)
	from := pgDiscovery
	if c.ds == query.Cert {
		from = pgCertTable
	}
	sql := fmt.Sprintf("SELECT %s FROM %s", strings.ToLower(strings.Join(names, ", ")), from)
	if where := c.pgText(); strings.TrimSpace(where) != "" {
		sql += " WHERE (" + where + ")"
	}
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return result{err: err}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return result{err: err}
		}
		out = append(out, renderRow(types, vals))
	}
	if err := rows.Err(); err != nil {
		return result{err: err}
	}
	sort.Strings(out)
	return result{rows: out}
}
