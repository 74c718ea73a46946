package benchmarks

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// plan is what one database path runs for a case: optional untimed setup, the timed main
// statement (whose rows are counted), optional count statements (filtered, total) that are
// timed with it, and untimed teardown.
type plan struct {
	Setup    []string
	Main     string
	Extra    []string // further timed statements whose rows add to the main's (CBOM)
	Counts   []string // timed; each returns one count(*) row: filtered, then total
	Teardown []string
}

// duckPlan returns the hand-written DuckDB SQL of a case, reading the engine's storage
// conventions (query/catalog.go) directly: the observation table, IP comparison columns,
// and the discovery rollup as an analyst fluent in DuckDB would write it.
func duckPlan(c Case) plan {
	switch c.Kind {
	case CBOM:
		return plan{Main: duckCBOMProtocols(c), Extra: []string{duckCBOMCerts(c)}}
	case SnapshotDiff:
		// The harness opens the database read-only; a TEMP table is still allowed, and the
		// harness runs every statement on one dedicated connection, so it stays visible.
		snap := duckSelect(c, false)
		return plan{
			Setup:    []string{"CREATE OR REPLACE TEMP TABLE bench_snap AS " + snap},
			Main:     symmetricDiff(snap, "bench_snap"),
			Teardown: []string{"DROP TABLE IF EXISTS bench_snap"},
		}
	}
	p := plan{Main: duckSelect(c, true)}
	if c.Counts {
		p.Counts = []string{
			"SELECT count(*) FROM (" + duckSource(c, c.DuckPre, c.DuckPost) + ")",
			"SELECT count(*) FROM (" + duckSource(c, "", "") + ")",
		}
	}
	return p
}

// duckSelect is the case's SELECT on DuckDB, with ORDER BY/LIMIT/OFFSET when paged.
func duckSelect(c Case, paged bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SELECT %s FROM (%s)", quotedList(c.columns()), duckSource(c, c.DuckPre, c.DuckPost))
	if paged {
		b.WriteString(orderLimit(c, quoteIdent))
	}
	return b.String()
}

// duckSource is the dataset's rows after the filter: the cert table, or the discovery
// rollup over the engine's tables (query/catalog.go). For all time that is the flow
// table, which carries every flow's all-time aggregates: pre and post predicates are one
// WHERE. For a time frame, the frame's observations are grouped by their integer flow id
// and joined with the flow table (without its all-time columns) for the key and derived
// fields; pre predicates run on the flow table, once per flow, and the join on the
// filtered flows prunes observations before grouping; post predicates filter the join.
func duckSource(c Case, pre, post string) string {
	if c.Dataset == query.Cert {
		return "SELECT * FROM " + query.CertTable + where(pre)
	}
	if c.TimeFrame == (query.TimeFrame{}) {
		return "SELECT * FROM " + query.FlowTable + where(and(pre, post))
	}
	id := quoteIdent(query.FlowIDColumn)
	agg := fmt.Sprintf("SELECT %s, %s FROM %s", id, strings.Join(aggregates, ", "), query.DiscoveryTable)
	frame := where(frameSQL(c.TimeFrame, quoteIdent(query.ObservedAtColumn), "TIMESTAMP "))
	flows := fmt.Sprintf("SELECT * EXCLUDE (%s) FROM %s", quotedList(rollupFields), query.FlowTable)
	var s string
	if pre == "" {
		s = fmt.Sprintf("SELECT * FROM (%s%s GROUP BY %s) agg JOIN (%s) USING (%s)", agg, frame, id, flows, id)
	} else {
		s = fmt.Sprintf("WITH f AS (%s%s) SELECT * FROM (%s JOIN (SELECT %s FROM f) USING (%s)%s GROUP BY %s) agg JOIN f USING (%s)",
			flows, where(pre), agg, id, id, frame, id, id)
	}
	if post != "" {
		s = "SELECT * FROM (" + s + ")" + where(post)
	}
	return s
}

// frameSQL is the time frame as a condition on the observation time column col, with
// literals written as typed (DuckDB: TIMESTAMP '...'; PostgreSQL: '...' cast by the column).
func frameSQL(tf query.TimeFrame, col, typed string) string {
	var conds []string
	if !tf.Begin.IsZero() {
		conds = append(conds, fmt.Sprintf("%s >= %s'%s'", col, typed, tf.Begin.UTC().Format(time.DateTime)))
	}
	if !tf.End.IsZero() {
		conds = append(conds, fmt.Sprintf("%s < %s'%s'", col, typed, tf.End.UTC().Format(time.DateTime)))
	}
	return strings.Join(conds, " AND ")
}

// and joins two predicates, either of which may be empty.
func and(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") AND (" + b + ")"
}

// rollupFields are the discovery aggregate fields, in catalog order: the flow table's
// all-time columns.
var rollupFields = func() []string {
	var out []string
	for _, f := range query.AggregateFields() {
		out = append(out, f.Name)
	}
	return out
}()

// aggregates are the discovery rollup's aggregate columns, in catalog order.
var aggregates = []string{
	`count(*)::BIGINT AS "connectionCount"`,
	`sum("byteVolume")::BIGINT AS "byteVolume"`,
	`sum("packetCount")::BIGINT AS "packetCount"`,
	fmt.Sprintf(`min(%s) AS "firstSeen"`, quoteIdent(query.ObservedAtColumn)),
	fmt.Sprintf(`max(%s) AS "lastSeen"`, quoteIdent(query.ObservedAtColumn)),
}

// cbomProtocolColumns and cbomCertColumns are the algorithm tuples a CBOM is made of.
var (
	cbomProtocolColumns = []string{"tlsVersion", "cipherSuite", "kexGroup", "cipherKex", "cipherAuth", "cipherEnc", "cipherMac"}
	cbomCertColumns     = []string{"certPublicKeyAlgo", "certPublicKeySize", "certCurve", "certSignatureAlgo"}
)

// The CBOM tuples are functions of the flow key, so they are read from the flow table
// (one row per flow) rather than from the observations.
func duckCBOMProtocols(c Case) string {
	return fmt.Sprintf("SELECT DISTINCT %s FROM %s%s", quotedList(cbomProtocolColumns), query.FlowTable, where(c.DuckPre))
}

func duckCBOMCerts(c Case) string {
	return fmt.Sprintf(`SELECT DISTINCT %s FROM %s WHERE "certFingerprint" IN (SELECT "certFingerprint" FROM %s%s)`,
		quotedList(cbomCertColumns), query.CertTable, query.FlowTable, where(c.DuckPre))
}

// pgPlan returns the PostgreSQL SQL of a case: the filter text verbatim against the
// `discovery` view or the `cert` table, whose unquoted camelCase columns fold to the same
// lower-case names as the unquoted field names in the filter.
func pgPlan(c Case) plan {
	src := string(c.Dataset)
	if c.Dataset == query.Discovery && c.TimeFrame != (query.TimeFrame{}) {
		src = "(" + pgRollupSQL(frameSQL(c.TimeFrame, query.ObservedAtColumn, "")) + ") discovery"
	}
	filter := c.pgFilter()
	switch c.Kind {
	case CBOM:
		return plan{
			Main: fmt.Sprintf("SELECT DISTINCT %s FROM %s%s", strings.Join(cbomProtocolColumns, ", "), pgObsTable, where(filter)),
			Extra: []string{fmt.Sprintf("SELECT DISTINCT %s FROM cert WHERE certFingerprint IN (SELECT certFingerprint FROM %s%s)",
				strings.Join(cbomCertColumns, ", "), pgObsTable, where(filter))},
		}
	case SnapshotDiff:
		snap := fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(c.columns(), ", "), src, where(filter))
		return plan{
			Setup:    []string{"DROP TABLE IF EXISTS bench_snap", "CREATE TEMP TABLE bench_snap AS " + snap},
			Main:     symmetricDiff(snap, "bench_snap"),
			Teardown: []string{"DROP TABLE IF EXISTS bench_snap"},
		}
	}
	p := plan{Main: fmt.Sprintf("SELECT %s FROM %s%s%s",
		strings.Join(c.columns(), ", "), src, where(filter), orderLimit(c, func(s string) string { return s }))}
	if c.Counts {
		p.Counts = []string{
			fmt.Sprintf("SELECT count(*) FROM %s%s", src, where(filter)),
			"SELECT count(*) FROM " + src,
		}
	}
	return p
}

// symmetricDiff counts the rows in exactly one of live and the snapshot table: what a
// snapshot diff reports as added plus removed (a changed row counts on both sides).
func symmetricDiff(live, snap string) string {
	return fmt.Sprintf("SELECT * FROM ((%s) EXCEPT ALL SELECT * FROM %s) added UNION ALL SELECT * FROM (SELECT * FROM %s EXCEPT ALL (%s)) removed",
		live, snap, snap, live)
}

// orderLimit renders ORDER BY, LIMIT and OFFSET (offset in pages of Limit).
func orderLimit(c Case, ident func(string) string) string {
	var b strings.Builder
	if len(c.Sorts) > 0 {
		var keys []string
		for _, s := range c.Sorts {
			keys = append(keys, ident(s.Field)+" "+strings.ToUpper(direction(s.Desc)))
		}
		b.WriteString(" ORDER BY " + strings.Join(keys, ", "))
	}
	if c.Limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", c.Limit)
		if c.OffsetPage > 0 {
			fmt.Fprintf(&b, " OFFSET %d", c.OffsetPage*c.Limit)
		}
	}
	return b.String()
}

// cidrPredicate is the DuckDB form of `field <<= INET 'prefix'` under the storage
// conventions: same family, and the address number within the prefix's range.
func cidrPredicate(field, prefix string) string {
	p := netip.MustParsePrefix(prefix)
	first, last := query.PrefixRange(p)
	lo, hi := query.KeyOf(first), query.KeyOf(last)
	return fmt.Sprintf("%s = %d AND %s BETWEEN '%s'::HUGEINT AND '%s'::HUGEINT",
		quoteIdent(field+query.FamilySuffix), lo.Family,
		quoteIdent(field+query.NumberSuffix), lo.Decimal(), hi.Decimal())
}

func where(pred string) string {
	if strings.TrimSpace(pred) == "" {
		return ""
	}
	return " WHERE " + pred
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quotedList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
