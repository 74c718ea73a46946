//go:build !duckdb_arrow

package engine

// The engine uses duckdb-go's Arrow API, which exists only with the duckdb_arrow build tag.
// This line turns a missing tag into a compile error that says what to do.
var _ = build_with_tags_duckdb_arrow // go build -tags duckdb_arrow (the Makefile sets it)
