package engine

import (
	"fmt"
	"strings"

	"github.com/cipherscope/cipherscope/query"
)

// SchemaVersion is the version of the table layout this package creates and reads. It is
// stored in MetadataTable; Open refuses a database written by a newer version and is where
// migrations from older versions go.
const SchemaVersion = 1

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

// storedColumns returns the columns of a dataset's table in order: the input columns of
// InputSchema, each IP field expanded to text, family and number (catalog.go conventions),
// then the storage-only columns.
func storedColumns(ds query.Dataset) []column {
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

// tableName returns the table that stores ds.
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

// createTableSQL is the idempotent DDL of a dataset's table. Discovery has no unique index
// on obsUid: Load de-duplicates with an anti-join, which measured 8x cheaper than
// maintaining an ART index (1M rows: 0.35 s vs 2.1 s). Cert rows are few and are upserted,
// which needs the key.
func createTableSQL(ds query.Dataset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (\n", quoteIdent(tableName(ds)))
	for i, c := range storedColumns(ds) {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "  %s %s", quoteIdent(c.Name), c.Type)
		if !c.Null {
			b.WriteString(" NOT NULL")
		}
	}
	if ds == query.Cert {
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
		stmts = append(stmts, createTableSQL(ds))
	}
	return stmts
}
