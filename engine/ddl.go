package engine

import (
	"fmt"
	"strings"

	"github.com/cipherscope/cipherscope/query"
)

// SchemaVersion is the version of the table layout this package creates and reads. It is
// stored in MetadataTable; Open refuses a database of any other version (Conflict) and is
// where migrations from older versions will go.
//
// Version 3 adds the all-time rollup columns to the flow table (migrated from version 2
// at Open: migrate.go). Version 2 normalised discovery into a flow table and an
// observation table (catalog.go); version 1 stored every key column on every observation.
const SchemaVersion = 3

// MetadataTable holds key/value facts about the database itself (schema_version, ...).
const MetadataTable = "cs_metadata"

// column is one stored column: its quoted name and DuckDB type.
type column struct {
	Name string
	Type string // DuckDB type as information_schema.columns.data_type spells it
	Null bool   // whether NULL is allowed
}

// Low-cardinality strings (tlsVersion, cipherSuite, protocol, ...) are VARCHAR, not ENUM.
// Measured on 10M rows, 2 threads: equality with a literal 56 ms (VARCHAR) vs 15 ms (ENUM),
// GROUP BY 154 vs 13 ms; but with a bound parameter, as the dialect emits, 80 vs 44 ms, and
// a value outside the ENUM falls back to text comparison (82 ms, where VARCHAR's dictionary
// answers in 1 ms). The price: an ENUM's value set is fixed at CREATE TYPE, so the first
// unseen cipher suite or named group in a log means a new type and an ALTER COLUMN TYPE
// inside the load (168 ms per column per 10M rows in memory, a column rewrite on disk),
// and the primary-key index on cert blocks ALTERs. Not worth it in schema version 1; the
// discovery rollup groups by high-cardinality keys (addresses, names) as well, which
// dilutes the gain. Revisit with a benchmark of the real rollups.

// inputColumns returns the input columns of InputSchema in order, each IP field expanded
// to text, family and number (catalog.go conventions): the rows Load stages before it
// splits discovery into flows and observations, and the columns of the cert table.
func inputColumns(ds query.Dataset) []column {
	var cols []column
	for _, f := range InputSchema(ds).Fields() {
		cols = append(cols, column{Name: f.Name, Type: duckType(f.Name, ds), Null: f.Nullable})
		if isIPField(ds, f.Name) {
			cols = append(cols,
				column{Name: f.Name + query.FamilySuffix, Type: "UTINYINT", Null: f.Nullable},
				column{Name: f.Name + query.NumberSuffix, Type: "HUGEINT", Null: f.Nullable})
		}
	}
	return cols
}

// table is one stored table and its columns in order.
type table struct {
	Name    string
	Columns []column
}

// flowIDType is the type of FlowIDColumn: 4 bytes per observation, and the perfect-hash
// and hash-join friendliest key; 2^31 distinct flows is far beyond one database.
const flowIDType = "INTEGER"

// flowKeyColumns are the input columns that identify a flow: the key fields' text columns
// (the IP family and number are functions of the text). Load matches flows on them with
// IS NOT DISTINCT FROM, since most may be NULL.
func flowKeyColumns() []string {
	var out []string
	for _, f := range query.Fields(query.Discovery) {
		if f.Role == query.Key {
			out = append(out, f.Name)
		}
	}
	return out
}

// tables returns the stored tables of a dataset, in creation order. Discovery: the flow
// table (flowId, every key and derived input column, then the all-time rollup) and the
// observation table (the per-observation input columns, then flowId). Cert: one table of
// the input columns.
func tables(ds query.Dataset) []table {
	if ds == query.Cert {
		return []table{{Name: query.CertTable, Columns: inputColumns(ds)}}
	}
	id := column{Name: query.FlowIDColumn, Type: flowIDType}
	flow := append(append([]column{id}, flowInputColumns()...), rollupColumns()...)
	var obs []column
	for _, c := range inputColumns(ds) {
		if isObservationColumn(c.Name) {
			obs = append(obs, c)
		}
	}
	return []table{{Name: query.FlowTable, Columns: flow}, {Name: query.DiscoveryTable, Columns: append(obs, id)}}
}

// flowInputColumns are the flow table's columns that come from the input: the key and
// derived fields, with their IP comparison columns.
func flowInputColumns() []column {
	var out []column
	for _, c := range inputColumns(query.Discovery) {
		if !isObservationColumn(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// rollupColumns are the flow table's all-time rollup: every discovery aggregate over all
// of the flow's observations, kept current by Load (query/catalog.go, storage conventions).
// They are nullable because ALTER TABLE ADD COLUMN (the version 2 migration) cannot add
// NOT NULL; Load fills them in the transaction that adds the flow.
func rollupColumns() []column {
	var out []column
	for _, f := range query.AggregateFields() {
		out = append(out, column{Name: f.Name, Type: duckType(f.Name, query.Discovery), Null: true})
	}
	return out
}

// isObservationColumn reports whether a discovery input column is stored per observation.
func isObservationColumn(name string) bool {
	switch name {
	case query.ObservationIDColumn, query.ObservedAtColumn, "byteVolume", "packetCount":
		return true
	}
	return false
}

// duckType is the DuckDB type of an input column: catalog fields by their catalog type,
// the storage-only columns by name.
func duckType(name string, ds query.Dataset) string {
	switch name {
	case query.ObservationIDColumn:
		return "VARCHAR"
	case query.ObservedAtColumn:
		return "TIMESTAMP"
	case query.CertDERColumn:
		return "BLOB"
	case "byteVolume", "packetCount":
		if ds == query.Discovery {
			return "BIGINT"
		}
	}
	f, ok := query.LookupField(ds, name)
	if !ok {
		panic(fmt.Sprintf("engine: column %q of %s is neither a field nor a storage column", name, ds))
	}
	switch f.Type {
	case query.String, query.IP:
		return "VARCHAR"
	case query.Int:
		return "BIGINT"
	case query.Float:
		return "DOUBLE"
	case query.Bool:
		return "BOOLEAN"
	case query.Timestamp:
		return "TIMESTAMP"
	case query.StringList:
		return "VARCHAR[]"
	}
	panic(fmt.Sprintf("engine: no DuckDB type for %q", f.Type))
}

// isIPField reports whether name is an ip-typed catalog field of ds.
func isIPField(ds query.Dataset, name string) bool {
	f, ok := query.LookupField(ds, name)
	return ok && f.Type == query.IP
}

// tableName returns the table that holds one row per stored item of ds: observations
// for discovery, certificates for cert.
func tableName(ds query.Dataset) string {
	if ds == query.Cert {
		return query.CertTable
	}
	return query.DiscoveryTable
}

// quoteIdent double-quotes an identifier. Identifiers only ever come from the catalog, but
// quoting keeps camelCase names case-exact.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quoteLiteral single-quotes a string as an SQL literal, for the few places DuckDB takes no
// parameter (COPY's target); the values are the engine's own paths, never user input.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// createTableSQL is the idempotent DDL of one table. The observation table has no unique
// index on obsUid: Load de-duplicates with an anti-join, which measured 8x cheaper than
// maintaining an ART index (1M rows: 0.35 s vs 2.1 s); nor does the flow table index its
// key, for the same reason. Cert rows are few and are upserted, which needs the key.
func createTableSQL(t table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", quoteIdent(t.Name))
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "  %s %s", quoteIdent(c.Name), c.Type)
		if !c.Null {
			b.WriteString(" NOT NULL")
		}
	}
	if t.Name == query.CertTable {
		fmt.Fprintf(&b, ",\n  PRIMARY KEY (%s)", quoteIdent("certFingerprint"))
	}
	b.WriteString("\n)")
	return b.String()
}

// schemaDDL lists every statement that creates the database layout, in order.
func schemaDDL() []string {
	stmts := []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)", MetadataTable),
	}
	for _, ds := range query.Datasets {
		for _, t := range tables(ds) {
			stmts = append(stmts, createTableSQL(t))
		}
	}
	return stmts
}

// rollupAggregate is the DuckDB aggregate over observation rows of a rollup column.
func rollupAggregate(name string) string {
	expr, ok := query.DuckDBAggregate(name)
	if !ok {
		panic(fmt.Sprintf("engine: rollup column %q is not an aggregate", name))
	}
	return expr
}
