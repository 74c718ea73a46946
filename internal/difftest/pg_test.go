package difftest

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/internal/pgtest"
	"github.com/cipherscope/cipherscope/query"
)

// The PostgreSQL side stores the same rows with native types. Columns are created
// UNQUOTED with the camelCase names, so PostgreSQL folds them to lowercase and a filter's
// field names (also unquoted) resolve to them: the filter text runs verbatim.
const (
	pgObsTable  = "discovery_obs"
	pgCertTable = "cert"
	pgDiscovery = "discovery" // the rollup view
)

// inputColumns returns the input columns of ds that PostgreSQL stores (all but certDer,
// which no filter can reach).
func inputColumns(ds query.Dataset) []string {
	var cols []string
	for _, f := range engine.InputSchema(ds).Fields() {
		if f.Name != query.CertDERColumn {
			cols = append(cols, f.Name)
		}
	}
	return cols
}

// pgSchema returns the DDL: the two tables and the discovery rollup view, which follows
// DESIGN section 2: GROUP BY every non-aggregate field; connectionCount = count(*),
// byteVolume and packetCount summed, firstSeen/lastSeen = min/max of observedAt.
func pgSchema() []string {
	var stmts []string
	for _, ds := range query.Datasets {
		table := pgObsTable
		if ds == query.Cert {
			table = pgCertTable
		}
		var defs []string
		for _, c := range inputColumns(ds) {
			defs = append(defs, c+" "+pgtest.ColumnType(fieldType(ds, c)))
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (%s)", table, strings.Join(defs, ", ")))
	}
	var keys []string
	for _, f := range query.Fields(query.Discovery) {
		if f.PreAggregate() {
			keys = append(keys, f.Name)
		}
	}
	k := strings.Join(keys, ", ")
	stmts = append(stmts, fmt.Sprintf(`CREATE VIEW %s AS SELECT %s,
	  count(*)::bigint AS connectionCount, sum(byteVolume)::bigint AS byteVolume,
	  sum(packetCount)::bigint AS packetCount, min(observedAt) AS firstSeen, max(observedAt) AS lastSeen
	FROM %s GROUP BY %s`, pgDiscovery, k, pgObsTable, k))
	return stmts
}

// loadPG creates the schema and copies the dataset in.
func loadPG(ctx context.Context, conn *pgx.Conn, d *dataset) error {
	for _, stmt := range pgSchema() {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	for _, t := range []struct {
		ds    query.Dataset
		table string
		rows  []row
	}{{query.Discovery, pgObsTable, d.obs}, {query.Cert, pgCertTable, d.certs}} {
		if err := copyRows(ctx, conn, t.ds, t.table, t.rows); err != nil {
			return err
		}
	}
	_, err := conn.Exec(ctx, "ANALYZE")
	return err
}

func copyRows(ctx context.Context, conn *pgx.Conn, ds query.Dataset, table string, rows []row) error {
	cols := inputColumns(ds)
	src := make([][]any, len(rows))
	for i, r := range rows {
		vals := make([]any, len(cols))
		for j, c := range cols {
			v, err := pgValue(fieldType(ds, c), r[c])
			if err != nil {
				return fmt.Errorf("%s.%s: %w", table, c, err)
			}
			vals[j] = v
		}
		src[i] = vals
	}
	lower := make([]string, len(cols))
	for i, c := range cols {
		lower[i] = strings.ToLower(c)
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, lower, pgx.CopyFromRows(src))
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	if int(n) != len(rows) {
		return fmt.Errorf("copy %s: %d of %d rows", table, n, len(rows))
	}
	return nil
}

// pgValue converts a row value to what pgx encodes for the column's type.
func pgValue(t query.Type, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case query.IP:
		a, err := netip.ParseAddr(v.(string))
		if err != nil {
			return nil, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	case query.StringList:
		l := v.(list)
		out := make([]*string, len(l))
		copy(out, l)
		return out, nil
	}
	return v, nil
}
