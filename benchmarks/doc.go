// Package benchmarks is cipherscope's benchmark harness: one instrument that runs a
// standard suite of cases (Suite) three ways, side by side, in one process:
//
//  1. the HTTP API of a real `cipherscope serve` child on loopback, timed until the whole
//     body has been read;
//  2. the equivalent hand-written SQL on the same DuckDB data, in-process, read-only,
//     results read as Arrow (exports through DuckDB's own COPY ... TO, an Arrow export
//     as DuckDB's Arrow result);
//  3. the identical filter text on PostgreSQL 15 (internal/pgtest), against a `discovery`
//     view doing the same rollup over a table of native types with unquoted camelCase
//     columns, ANALYZEd, parallel query on.
//
// Every case gets one untimed warm-up run per path; the paths must agree on the row count
// (and on filtered/total counts where asked) or the case is reported as an error and not
// timed. Then Reps timed runs follow, the paths interleaved in a rotating order. A case
// whose API feature is missing (HTTP 400/404/405/406/415/501/507, or the wrong media type)
// is recorded as "not available: <why>", never dropped.
//
// DuckDB allows one read-write process per file, and serve opens read-write, so serve gets
// a byte-identical copy of the cached file made before it starts while the harness opens
// the original read-only: all three paths stay up and can interleave without restarts.
//
// Datasets come from package fixtures, cached under benchmarks/cache/seed<S>-<scale>/ (the
// DuckDB file built through engine.Load, which is also the native ingest measurement, and
// the CSV files PostgreSQL is loaded from with COPY FROM STDIN). Results go to
// benchmarks/results/<timestamp>-<scale>.json and benchmarks/results/latest.md.
//
// Run it with `make bench`, `cipherscope bench` or
// `go run -tags duckdb_arrow ./benchmarks/cmd/bench -scale 1M -reps 3 -cases 'cidr_*'`.
// SCALE=100M is for bigger machines (tens of GB of disk, hours on 2 cores).
package benchmarks
