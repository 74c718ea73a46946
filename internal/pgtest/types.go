package pgtest

import "github.com/cipherscope/cipherscope/query"

// ColumnType is the native PostgreSQL type that holds a catalog type, as the reference
// schemas of the differential test and the benchmarks use it.
func ColumnType(t query.Type) string {
	switch t {
	case query.String:
		return "text"
	case query.Int:
		return "bigint"
	case query.Float:
		return "double precision"
	case query.Bool:
		return "boolean"
	case query.IP:
		return "inet"
	case query.Timestamp:
		// Catalog timestamps are instants: timestamptz, read with TimeZone = UTC (this
		// package's server setting), so an untyped literal's offset is honoured and
		// zone-less text loads as UTC.
		return "timestamptz"
	case query.StringList:
		return "text[]"
	}
	panic("pgtest: no PostgreSQL type for " + string(t))
}
