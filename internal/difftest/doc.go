// Package difftest is the differential test that judges the filter language's semantics:
// every filter of its corpus runs on cipherscope's engine and on a real PostgreSQL 15 server
// (the reference of DESIGN section 3, started by internal/pgtest) over the same hand-built,
// adversarial rows, and the two row sets must be equal.
//
// Everything lives in the package's tests:
//
//	dataset_test.go  deterministic observations and certificates with edge-case values
//	pg_test.go       PostgreSQL schema (native types, camelCase names folded to lowercase,
//	                 the discovery rollup as a view) and loading
//	engine_test.go   Arrow batches for engine.Load and running engine.Select
//	render_test.go   canonical text of a row, the same for both sides
//	corpus_test.go   hand-written filters, with PostgreSQL equivalents where the text differs
//	gen_test.go      the seeded random filter generator
//	reject_test.go   filters cipherscope must reject, with the exact error
//	diff_test.go     the comparison itself
//
// Run it with `go test -tags duckdb_arrow ./internal/difftest/`. PostgreSQL 15 must be
// installed (`apt-get install postgresql`); without it the test fails rather than skips.
package difftest
