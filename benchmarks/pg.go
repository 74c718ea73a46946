package benchmarks

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cipherscope/cipherscope/internal/pgtest"
	"github.com/cipherscope/cipherscope/query"
)

// pgObsTable is the PostgreSQL table of discovery observations; `discovery` is its rollup view.
const pgObsTable = "discovery_obs"

// pgSettings tune the throwaway server the way a DBA would for an analytics table that
// fits in RAM on this machine: parallel query on both cores, a large buffer cache and
// enough work_mem that the rollup's hash aggregate does not spill.
var pgSettings = map[string]string{
	"max_parallel_workers_per_gather": "2",
	"max_parallel_workers":            "4",
	"shared_buffers":                  "4GB",
	"effective_cache_size":            "12GB",
	"work_mem":                        "256MB",
	"maintenance_work_mem":            "1GB",
	"max_wal_size":                    "8GB",
}

// pgColumn is one column of a PostgreSQL table, loaded from the same-named DuckDB column.
type pgColumn struct {
	Name string
	Type query.Type
}

// pgColumns lists the loaded columns of a dataset's table: observations carry their id,
// time, every pre-aggregate field and the per-observation counters; certs every field.
func pgColumns(ds query.Dataset) []pgColumn {
	var cols []pgColumn
	if ds == query.Discovery {
		cols = append(cols, pgColumn{query.ObservationIDColumn, query.String}, pgColumn{query.ObservedAtColumn, query.Timestamp})
	}
	for _, f := range query.Fields(ds) {
		if f.PreAggregate() {
			cols = append(cols, pgColumn{f.Name, f.Type})
		}
	}
	if ds == query.Discovery {
		cols = append(cols, pgColumn{"byteVolume", query.Int}, pgColumn{"packetCount", query.Int})
	}
	return cols
}

// pgTable is the table a dataset's rows are loaded into.
func pgTable(ds query.Dataset) string {
	if ds == query.Cert {
		return "cert"
	}
	return pgObsTable
}

// pgDDL creates the tables and the discovery view. Identifiers are unquoted camelCase, so
// PostgreSQL folds them exactly as it folds the field names of a filter run verbatim.
func pgDDL() []string {
	var stmts []string
	for _, ds := range query.Datasets {
		var defs []string
		for _, c := range pgColumns(ds) {
			defs = append(defs, c.Name+" "+pgtest.ColumnType(c.Type))
		}
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (%s)", pgTable(ds), strings.Join(defs, ", ")))
	}
	return append(stmts, pgDiscoveryView())
}

// pgDiscoveryView is the rollup, as in DuckDB: one row per flow key.
func pgDiscoveryView() string {
	return "CREATE VIEW discovery AS " + pgRollupSQL("")
}

// pgRollupSQL groups the observations that meet cond (all when empty) per flow key.
// Derived fields are grouped too (PostgreSQL needs every non-aggregate in GROUP BY); they
// are functions of the key, so the groups are the same.
func pgRollupSQL(cond string) string {
	var group []string
	for _, f := range query.Fields(query.Discovery) {
		if f.PreAggregate() {
			group = append(group, f.Name)
		}
	}
	return fmt.Sprintf(`SELECT %s,
  count(*)::bigint AS connectionCount, sum(byteVolume)::bigint AS byteVolume,
  sum(packetCount)::bigint AS packetCount, min(observedAt) AS firstSeen, max(observedAt) AS lastSeen
FROM %s%s GROUP BY %s`, strings.Join(group, ", "), pgObsTable, where(cond), strings.Join(group, ", "))
}

// duckExportSQL is the DuckDB COPY that writes a dataset as CSV in PostgreSQL's column
// order and formats: lists become text[] literals, NULL stays an unquoted empty field and
// an empty string a quoted one, as PostgreSQL's CSV COPY reads them.
func duckExportSQL(ds query.Dataset, path string) string {
	var exprs []string
	for _, c := range pgColumns(ds) {
		if c.Type == query.StringList {
			exprs = append(exprs, pgArrayExpr(quoteIdent(c.Name)))
		} else {
			exprs = append(exprs, quoteIdent(c.Name))
		}
	}
	return fmt.Sprintf("COPY (SELECT %s FROM %s) TO '%s' (FORMAT csv, HEADER false)",
		strings.Join(exprs, ", "), tableNameOf(ds), strings.ReplaceAll(path, "'", "''"))
}

// pgArrayExpr renders a DuckDB VARCHAR[] as a PostgreSQL array literal: {"a","b \"c\""}.
func pgArrayExpr(col string) string {
	elem := `'"' || replace(replace(e, '\', '\\'), '"', '\"') || '"'`
	return fmt.Sprintf(`CASE WHEN %s IS NULL THEN NULL ELSE '{' || array_to_string(list_transform(%s, lambda e: %s), ',') || '}' END`,
		col, col, elem)
}

// tableNameOf is the DuckDB FROM target of a dataset's stored rows: the cert table, or the
// discovery observations joined with their flows (one row per observation; the flows'
// all-time rollup columns left out, as their names are the observations' own).
func tableNameOf(ds query.Dataset) string {
	if ds == query.Cert {
		return quoteIdent(query.CertTable)
	}
	return fmt.Sprintf("%s JOIN (SELECT * EXCLUDE (%s) FROM %s) USING (%s)", quoteIdent(query.DiscoveryTable),
		quotedList(rollupFields), quoteIdent(query.FlowTable), quoteIdent(query.FlowIDColumn))
}

// pgLoad creates the schema on a fresh server and COPYs each dataset's CSV file into it,
// then ANALYZEs. It returns the load time per dataset.
func pgLoad(ctx context.Context, conn *pgx.Conn, csvFiles map[query.Dataset]string) (map[query.Dataset]time.Duration, error) {
	for _, stmt := range pgDDL() {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("postgres DDL: %w\n%s", err, stmt)
		}
	}
	took := map[query.Dataset]time.Duration{}
	for _, ds := range query.Datasets {
		start := time.Now()
		if err := pgCopyIn(ctx, conn, ds, csvFiles[ds]); err != nil {
			return nil, err
		}
		took[ds] = time.Since(start)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return nil, fmt.Errorf("postgres ANALYZE: %w", err)
	}
	return took, nil
}

// pgCopyIn streams one CSV file through COPY FROM STDIN.
func pgCopyIn(ctx context.Context, conn *pgx.Conn, ds query.Dataset, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var names []string
	for _, c := range pgColumns(ds) {
		names = append(names, c.Name)
	}
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN WITH (FORMAT csv)", pgTable(ds), strings.Join(names, ", "))
	if _, err := conn.PgConn().CopyFrom(ctx, f, sql); err != nil {
		return fmt.Errorf("postgres COPY %s: %w", ds, err)
	}
	return nil
}

// startPostgres starts a throwaway server tuned by pgSettings.
func startPostgres(ctx context.Context) (*pgtest.Server, error) {
	return pgtest.Start(ctx, pgtest.Options{Settings: pgSettings, StartTimeout: 2 * time.Minute})
}

// pgVersion reports the server's version string.
func pgVersion(ctx context.Context, conn *pgx.Conn) string {
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return v
}

// countingWriter counts bytes written and discards them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
