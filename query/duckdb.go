package query

import (
	"fmt"
	"strings"
	"time"
)

// DuckDB renders plans for the embedded DuckDB store (see the storage conventions in
// catalog.go). Parameters are positional "?"; ip values bind as decimal text cast to
// HUGEINT; timestamps bind as time.Time in UTC.
var DuckDB Dialect = duckDB{}

type duckDB struct{}

// Name returns "duckdb".
func (duckDB) Name() string { return "duckdb" }

// aggregateSQL computes each discovery aggregate from the observation columns. sum()
// returns HUGEINT in DuckDB, so sums are cast back to the catalog's BIGINT.
var aggregateSQL = map[string]string{
	"connectionCount": `count(*)`,
	"byteVolume":      `CAST(sum("byteVolume") AS BIGINT)`,
	"packetCount":     `CAST(sum("packetCount") AS BIGINT)`,
	"firstSeen":       `min(` + quoteIdent(ObservedAtColumn) + `)`,
	"lastSeen":        `max(` + quoteIdent(ObservedAtColumn) + `)`,
}

// DuckDBAggregate returns the DuckDB expression that computes the discovery aggregate
// field name over observation rows (count(*), sum, min, max), for the engine's all-time
// rollup; ok is false for a field that is not an aggregate.
func DuckDBAggregate(name string) (expr string, ok bool) {
	expr, ok = aggregateSQL[name]
	return expr, ok
}

// sqlType is the DuckDB column type of each field type (ip: its text column).
var sqlType = map[Type]string{
	String: "VARCHAR", Int: "BIGINT", Float: "DOUBLE", Bool: "BOOLEAN",
	IP: "VARCHAR", Timestamp: "TIMESTAMP", StringList: "VARCHAR[]",
}

// Select renders the rows query: for discovery the rollup subquery, then the outer
// filter, ORDER BY (sorts, then the flow key) and LIMIT/OFFSET as arguments.
func (d duckDB) Select(p *Plan) (*Statement, error) {
	var w sqlWriter
	w.b.Grow(4096) // a discovery statement with a 20-predicate filter is ~2.3 KB
	w.str("SELECT ")
	w.list(len(p.Columns), func(i int) { w.ident(p.Columns[i].Name) })
	w.str(" FROM ")
	d.source(&w, p, selectNeeds(p))
	d.orderBy(&w, p)
	if p.Limit > 0 {
		w.str(" LIMIT ")
		w.arg(p.Limit)
	}
	if p.Offset > 0 {
		w.str(" OFFSET ")
		w.arg(p.Offset)
	}
	return &Statement{SQL: w.b.String(), Args: w.args, Columns: p.Columns}, nil
}

// Count renders SELECT count(*) over the filtered rows (discovery: rollups).
func (d duckDB) Count(p *Plan) (*Statement, error) {
	var w sqlWriter
	w.str(`SELECT count(*) AS "count" FROM `)
	needs := map[string]bool{}
	for _, c := range p.Post {
		condFields(c, func(f Field) { needs[f.Name] = true })
	}
	d.source(&w, p, needs)
	return &Statement{SQL: w.b.String(), Args: w.args, Columns: []Field{CountField}}, nil
}

// Numbered renders the rows with their position in the plan's order as a trailing
// column, stored in position order, so that ranges of positions prune: a sort computed
// once, whose positions a reader can then page by. The window numbers a narrow
// projection of the source (the row key and the sort keys), which is joined back to the
// full rows by the key: carrying every column through the window took 7.4 s for 1.36M
// flows by byteVolume (10M observations, 2 cores, 400 MB), this shape 2.6-2.9 s, though
// it reads the source twice.
func (d duckDB) Numbered(p *Plan) (*Statement, error) {
	var w sqlWriter
	key, pos := rowKey(p), quoteIdent(PositionField.Name)
	w.str("SELECT ")
	w.list(len(p.Columns), func(i int) { w.str(`"r".`); w.ident(p.Columns[i].Name) })
	w.str(`, "n".` + pos + " FROM (SELECT ")
	w.list(len(p.Columns), func(i int) { w.ident(p.Columns[i].Name) })
	w.str(", " + key + ` AS "cs_key" FROM `)
	d.source(&w, p, selectNeeds(p))
	w.str(`) AS "r" JOIN (SELECT ` + key + ` AS "cs_key", row_number() OVER (ORDER BY ` +
		strings.Join(orderTerms(p), ", ") + ") - 1 AS " + pos + " FROM ")
	d.source(&w, p, orderNeeds(p))
	w.str(`) AS "n" USING ("cs_key") ORDER BY "n".` + pos)
	cols := append(p.Columns[:len(p.Columns):len(p.Columns)], PositionField)
	return &Statement{SQL: w.b.String(), Args: w.args, Columns: cols}, nil
}

// rowKey is the column that identifies a row of the plan's rows: the flow id of a
// discovery rollup, a certificate's fingerprint (the cert table's primary key).
func rowKey(p *Plan) string {
	if p.Dataset == Cert {
		return quoteIdent(certTieBreak[0].Name)
	}
	return quoteIdent(FlowIDColumn)
}

// Extent renders one past the table's largest rowid: DuckDB numbers a table's rows
// from 0 in storage order, and a transaction sees them unchanged (MVCC).
func (d duckDB) Extent(p *Plan) (*Statement, error) {
	table := FlowTable
	if p.Dataset == Cert {
		table = CertTable
	}
	return &Statement{SQL: `SELECT COALESCE(max(rowid) + 1, 0) AS "extent" FROM ` + quoteIdent(table),
		Columns: []Field{ExtentField}}, nil
}

// selectNeeds lists the fields the outer query reads besides the flow key.
func selectNeeds(p *Plan) map[string]bool {
	needs := orderNeeds(p)
	for _, f := range p.Columns {
		needs[f.Name] = true
	}
	return needs
}

// orderNeeds lists the fields that filter and order the rows.
func orderNeeds(p *Plan) map[string]bool {
	needs := map[string]bool{}
	for _, s := range p.Sorts {
		needs[s.Field.Name] = true
	}
	for _, c := range p.Post {
		condFields(c, func(f Field) { needs[f.Name] = true })
	}
	return needs
}

// source writes the FROM target and WHERE clause: the cert table, or the discovery
// rollup filtered by the post-aggregate conjuncts.
//
// Without a time frame the rollup is the flow table itself: it carries every flow's
// all-time aggregates (see the storage conventions in catalog.go), so pre- and
// post-aggregate conjuncts are one WHERE on one row per flow and no observation is read.
//
// With a time frame the rollup groups the frame's observations by their integer flow id
// and joins the flow table, without its all-time columns, for the key and derived fields:
//
//	(WITH "f" AS (SELECT * EXCLUDE (<all-time>) FROM discovery_flow WHERE <pre>)
//	 SELECT * FROM (SELECT flowId, <aggregates> FROM discovery_obs
//	                JOIN (SELECT flowId FROM "f") USING (flowId) WHERE <time frame>
//	                GROUP BY flowId) AS "agg" JOIN "f" USING (flowId)) AS "flows" WHERE <post>
//
// The pre-aggregate conjuncts run once per flow instead of once per observation, and the
// join on the filtered flows prunes observations before grouping. Without them the
// observations are grouped first and joined with every flow. Shapes measured on 1M
// observations / 136k flows, 2 cores, best of 5: this one was the fastest or within noise
// of it for an unselective equality, a CIDR and no filter (an IN semi-join, a
// MATERIALIZED CTE or grouping all observations then filtering the join were slower).
func (d duckDB) source(w *sqlWriter, p *Plan, needs map[string]bool) {
	var slice func()
	if s := p.Slice; s != nil {
		// rowid ranges prune whole row groups: a slice reads only its own rows.
		slice = func() {
			w.str("rowid >= ")
			w.arg(s.From)
			w.str(" AND rowid < ")
			w.arg(s.To)
		}
	}
	if p.Dataset == Cert {
		w.ident(CertTable)
		d.where(w, p.Pre, slice)
		return
	}
	if p.TimeFrame.Begin.IsZero() && p.TimeFrame.End.IsZero() {
		w.ident(FlowTable)
		d.where(w, append(p.Pre[:len(p.Pre):len(p.Pre)], p.Post...), slice)
		return
	}
	id := quoteIdent(FlowIDColumn)
	agg := "SELECT " + id
	for _, f := range Fields(Discovery) {
		if f.Role == Aggregate && needs[f.Name] {
			agg += ", " + aggregateSQL[f.Name] + " AS " + quoteIdent(f.Name)
		}
	}
	agg += " FROM " + quoteIdent(DiscoveryTable)
	timeFrame := func() { d.timeFrame(w, p.TimeFrame) }
	flows := "SELECT * EXCLUDE (" + allTimeColumns + ") FROM " + quoteIdent(FlowTable)
	if len(p.Pre) > 0 {
		w.str(`(WITH "f" AS (` + flows)
		d.where(w, p.Pre, nil)
		w.str(") SELECT * FROM (" + agg + ` JOIN (SELECT ` + id + ` FROM "f") USING (` + id + ")")
		d.where(w, nil, timeFrame)
		w.str(" GROUP BY " + id + `) AS "agg" JOIN "f" USING (` + id + `)) AS "flows"`)
	} else {
		w.str("(SELECT * FROM (" + agg)
		d.where(w, nil, timeFrame)
		w.str(" GROUP BY " + id + `) AS "agg" JOIN (` + flows + ") USING (" + id + `)) AS "flows"`)
	}
	d.where(w, p.Post, nil)
}

// allTimeColumns lists the flow table's all-time rollup columns, which a time frame's
// rollup replaces.
var allTimeColumns = func() string {
	var names []string
	for _, f := range AggregateFields() {
		names = append(names, quoteIdent(f.Name))
	}
	return strings.Join(names, ", ")
}()

// where writes " WHERE a AND b ..." for the extra conditions and conds, if any.
func (d duckDB) where(w *sqlWriter, conds []Cond, extra func()) {
	mark := w.b.Len()
	w.str(" WHERE ")
	start := w.b.Len()
	if extra != nil {
		extra()
	}
	for _, c := range conds {
		if w.b.Len() > start {
			w.str(" AND ")
		}
		d.cond(w, c)
	}
	if w.b.Len() == start {
		w.truncate(mark)
	}
}

func (d duckDB) timeFrame(w *sqlWriter, tf TimeFrame) {
	if !tf.Begin.IsZero() {
		w.str(quoteIdent(ObservedAtColumn) + " >= ")
		w.arg(tf.Begin.UTC())
	}
	if !tf.End.IsZero() {
		if !tf.Begin.IsZero() {
			w.str(" AND ")
		}
		w.str(quoteIdent(ObservedAtColumn) + " < ")
		w.arg(tf.End.UTC())
	}
}

// orderBy sorts as requested, then by the tie-break fields not sorted on yet, with
// PostgreSQL's NULL placement (NULLS LAST ascending, NULLS FIRST descending). A plan
// with neither (Request.AnyOrder) has no ORDER BY.
func (d duckDB) orderBy(w *sqlWriter, p *Plan) {
	if terms := orderTerms(p); len(terms) > 0 {
		w.str(" ORDER BY " + strings.Join(terms, ", "))
	}
}

// orderTerms are the ORDER BY terms of orderBy.
func orderTerms(p *Plan) []string {
	var terms []string
	seen := map[string]bool{}
	add := func(f Field, desc bool) {
		if seen[f.Name] {
			return
		}
		seen[f.Name] = true
		dir := " ASC NULLS LAST"
		if desc {
			dir = " DESC NULLS FIRST"
		}
		if f.Type == IP {
			terms = append(terms, quoteIdent(f.Name+FamilySuffix)+dir, quoteIdent(f.Name+NumberSuffix)+dir)
			return
		}
		terms = append(terms, quoteIdent(f.Name)+dir)
	}
	for _, s := range p.Sorts {
		add(s.Field, s.Desc)
	}
	for _, f := range p.TieBreak {
		add(f, false)
	}
	if p.TieBreakByRowID {
		terms = append(terms, quoteIdent(FlowIDColumn)+" ASC")
	}
	return terms
}

// lambdaVar names the list element inside list_transform lambdas; no column has this name.
const lambdaVar = "elem"

func subjectSQL(s Subject) string {
	if s.Elem {
		return lambdaVar
	}
	return quoteIdent(s.Field.Name)
}

// cond writes one condition, parenthesized, so that nesting never depends on precedence.
func (d duckDB) cond(w *sqlWriter, c Cond) {
	switch n := c.(type) {
	case *AndCond:
		d.join(w, n.Terms, " AND ")
	case *OrCond:
		d.or(w, n.Terms)
	case *NotCond:
		w.str("(NOT ")
		d.cond(w, n.X)
		w.str(")")
	case *NullCond:
		w.str("CAST(NULL AS BOOLEAN)")
	case *IsNullCond:
		w.str("(" + quoteIdent(n.Field.Name) + " IS" + not(n.Not) + " NULL)")
	case *AnyElemCond:
		d.anyElem(w, n)
	case *CmpCond:
		w.str("(" + subjectSQL(n.Subject) + " " + n.Op.String() + " ")
		w.value(n.Value, n.Subject)
		w.str(")")
	case *InCond:
		w.str("(" + subjectSQL(n.Subject) + " IN (")
		w.list(len(n.Values), func(i int) { w.value(n.Values[i], n.Subject) })
		w.str("))")
	case *LikeCond:
		d.like(w, n)
	case *RegexCond:
		d.regex(w, n)
	case *IPRangeCond:
		d.ipRange(w, n)
	case *IPCmpCond:
		d.ipCmp(w, n)
	case *ConstCond:
		w.str(fmt.Sprintf("(CASE WHEN %s IS NULL THEN NULL ELSE %s END)", subjectSQL(n.Subject), strings.ToUpper(fmt.Sprint(n.Value))))
	default:
		panic(fmt.Sprintf("query: unknown condition %T", c))
	}
}

// rangeSetThreshold is the most ip ranges of one field an OR tests one by one. Each
// range test is cheap but DuckDB evaluates an OR of them linearly: 100 /16 subnets took
// 0.95 s, 1000 took 9.5 s on 1M rows (2 cores); longer lists use hash lookups instead.
const rangeSetThreshold = 8

// or writes a disjunction; many ip ranges of one field (a subnet list) become a set test.
func (d duckDB) or(w *sqlWriter, terms []Cond) {
	var ranges []*IPRangeCond
	var rest []Cond
	for _, t := range terms {
		if r, ok := t.(*IPRangeCond); ok && (len(ranges) == 0 || ranges[0].Field.Name == r.Field.Name) {
			ranges = append(ranges, r)
		} else {
			rest = append(rest, t)
		}
	}
	if len(ranges) <= rangeSetThreshold {
		d.join(w, terms, " OR ")
		return
	}
	w.str("(")
	d.ipRangeSet(w, ranges)
	for _, t := range rest {
		w.str(" OR ")
		d.cond(w, t)
	}
	w.str(")")
}

// ipRangeSet tests membership in a union of ranges: the ranges are split into CIDR
// blocks, grouped by family and prefix length, and each group is one IN list over the
// stored number shifted right by the host bits (see ipset.go).
func (d duckDB) ipRangeSet(w *sqlWriter, ranges []*IPRangeCond) {
	type group struct {
		fam   uint8
		shift int
	}
	keys := map[group][]string{}
	var order []group
	for _, r := range ranges {
		for _, b := range rangeBlocks(r.First, r.Last) {
			g := group{KeyOf(b.first).Family, b.first.BitLen() - b.bits}
			if _, ok := keys[g]; !ok {
				order = append(order, g)
			}
			keys[g] = append(keys[g], networkKey(b.first, g.shift).String())
		}
	}
	fam, num := ipColumns(ranges[0].Field)
	for i, g := range order {
		if i > 0 {
			w.str(" OR ")
		}
		w.str("(" + fam + " = ")
		w.arg(int64(g.fam))
		w.str(" AND (" + num + " >> ")
		w.arg(int64(g.shift))
		w.str(") IN (")
		w.list(len(keys[g]), func(j int) { w.hugeint(keys[g][j]) })
		w.str("))")
	}
}

func (d duckDB) join(w *sqlWriter, terms []Cond, sep string) {
	w.str("(")
	for i, t := range terms {
		if i > 0 {
			w.str(sep)
		}
		d.cond(w, t)
	}
	w.str(")")
}

// anyElem gives ANY semantics over a list: each element's truth value is coded
// true=2, NULL=1, false=0; the maximum decides (2: true, 1: NULL, 0: false). An empty
// list has no maximum and gives false (len*0 = 0); a NULL list gives NULL.
func (d duckDB) anyElem(w *sqlWriter, n *AnyElemCond) {
	f := quoteIdent(n.Field.Name)
	w.str("(CASE coalesce(list_max(list_transform(" + f + ", lambda " + lambdaVar + ": coalesce(CAST(")
	d.cond(w, n.Cond)
	w.str(" AS INTEGER) * 2, 1))), len(" + f + ") * 0) WHEN 2 THEN TRUE WHEN 0 THEN FALSE END)")
}

func (d duckDB) like(w *sqlWriter, n *LikeCond) {
	if n.Pattern == nil {
		w.str("CAST(NULL AS BOOLEAN)")
		return
	}
	op := " LIKE "
	if n.Fold {
		if p, ok := n.Pattern.(string); ok && !ilikeFast(p) {
			// DuckDB lowercases with other tables than glibc: run the exact translation.
			w.str("regexp_full_match(" + subjectSQL(n.Subject) + ", ")
			w.arg(ilikeRegex(p))
			w.str(")")
			return
		}
		op = " ILIKE "
	}
	w.str("(" + subjectSQL(n.Subject) + op)
	w.arg(n.Pattern)
	w.str(` ESCAPE '\')`)
}

// regex uses regexp_matches (unanchored, RE2); a literal case-insensitive pattern runs
// as ILIKE '%literal%' where that gives the same answers (see ilikeExact), 2.5-3x faster.
func (d duckDB) regex(w *sqlWriter, n *RegexCond) {
	switch {
	case n.Pattern == nil:
		w.str("CAST(NULL AS BOOLEAN)")
	case n.Fold && n.Literal && ilikeExact(n.Source):
		w.str("(" + subjectSQL(n.Subject) + " ILIKE ")
		w.arg("%" + likeEscape(n.Source) + "%")
		w.str(` ESCAPE '\')`)
	default:
		w.str("regexp_matches(" + subjectSQL(n.Subject) + ", ")
		w.arg(n.Pattern)
		w.str(")")
	}
}

func (d duckDB) ipRange(w *sqlWriter, n *IPRangeCond) {
	fam, num := ipColumns(n.Field)
	w.str("(" + fam + " = ")
	w.arg(int64(KeyOf(n.First).Family))
	if n.First == n.Last {
		w.str(" AND " + num + " = ")
		w.hugeint(KeyOf(n.First).Decimal())
	} else {
		w.str(" AND " + num + " BETWEEN ")
		w.hugeint(KeyOf(n.First).Decimal())
		w.str(" AND ")
		w.hugeint(KeyOf(n.Last).Decimal())
	}
	w.str(")")
}

// ipCmp compares (family, number) pairs lexicographically, which is inet order for hosts.
func (d duckDB) ipCmp(w *sqlWriter, n *IPCmpCond) {
	fam, num := ipColumns(n.Field)
	k := KeyOf(n.Addr)
	switch n.Op {
	case OpEq:
		w.str("(" + fam + " = ")
		w.arg(int64(k.Family))
		w.str(" AND " + num + " = ")
	case OpNe:
		w.str("(" + fam + " <> ")
		w.arg(int64(k.Family))
		w.str(" OR " + num + " <> ")
	default:
		strict := "<"
		if n.Op == OpGt || n.Op == OpGe {
			strict = ">"
		}
		w.str("(" + fam + " " + strict + " ")
		w.arg(int64(k.Family))
		w.str(" OR (" + fam + " = ")
		w.arg(int64(k.Family))
		w.str(" AND " + num + " " + n.Op.String() + " ")
		w.hugeint(k.Decimal())
		w.str("))")
		return
	}
	w.hugeint(k.Decimal())
	w.str(")")
}

func ipColumns(f Field) (fam, num string) {
	return quoteIdent(f.Name + FamilySuffix), quoteIdent(f.Name + NumberSuffix)
}

// sqlWriter accumulates SQL text and its arguments.
type sqlWriter struct {
	b    strings.Builder
	args []any
}

func (w *sqlWriter) str(s string)      { w.b.WriteString(s) }
func (w *sqlWriter) ident(name string) { w.b.WriteString(quoteIdent(name)) }

func (w *sqlWriter) arg(v any) {
	w.args = append(w.args, v)
	w.b.WriteString("?")
}

// hugeint binds a 128-bit integer as decimal text; DuckDB casts it exactly.
func (w *sqlWriter) hugeint(dec string) {
	w.args = append(w.args, dec)
	w.b.WriteString("CAST(? AS HUGEINT)")
}

// value binds v, or writes a NULL of the subject's type.
func (w *sqlWriter) value(v any, s Subject) {
	if v == nil {
		w.str("CAST(NULL AS " + sqlType[elemType(s)] + ")")
		return
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC()
	}
	w.arg(v)
}

func (w *sqlWriter) list(n int, item func(int)) {
	for i := 0; i < n; i++ {
		if i > 0 {
			w.str(", ")
		}
		item(i)
	}
}

func (w *sqlWriter) truncate(n int) {
	s := w.b.String()[:n]
	w.b.Reset()
	w.b.WriteString(s)
}

// quoteIdent double-quotes a catalog identifier. Names come only from the catalog and
// the storage constants, never from users; doubling quotes is defence in depth.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
