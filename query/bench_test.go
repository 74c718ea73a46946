package query

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time; benchmarks report it per operation
// because wall time is meaningless on a machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// twentyPredicates is a realistic long filter: every kind of predicate once or twice.
const twentyPredicates = `cipherKex = 'ECDHE' AND byteVolume > 1000000 AND serviceName ~* 'mysql'
AND serverIp <<= INET '10.10.0.0/16' AND tlsVersion IN ('TLSv1.0', 'TLSv1.1', 'TLSv1.2')
AND serverPort BETWEEN 1 AND 1023 AND serverName LIKE '%.example.com' AND clientIp << '10.0.0.0/8'
AND NOT weakCrypto AND pqcKex = FALSE AND firstSeen >= '2026-01-01' AND lastSeen < TIMESTAMP '2026-03-01T00:00:00Z'
AND (weakReasons LIKE '%RC4%' OR weakReasons IS NULL) AND cipherEnc ILIKE 'aes%' AND certFingerprint IS NOT NULL
AND serverName ~ '^db[0-9]+\.' AND connectionCount >= 10 AND packetCount < 1e9
AND serverIp <<= ANY (INET '10.0.0.0/8', INET '192.168.0.0/16')`

func BenchmarkCompile20Predicates(b *testing.B) {
	if n := countPredicates(twentyPredicates); n != 20 {
		b.Fatalf("filter has %d predicates", n)
	}
	req := Request{Dataset: Discovery, Filter: twentyPredicates, Sorts: []Sort{{"byteVolume", true}}, Limit: 100}
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Compile(req, DuckDB); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse20Predicates(b *testing.B) {
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Parse(twentyPredicates); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLongList parses a filter near MaxFilterLength (a 5000-subnet list).
func BenchmarkParseLongList(b *testing.B) {
	f := "serverIp <<= ANY (" + strings.Repeat("INET '10.0.0.0/8', ", 5000) + "'1.1.1.1')"
	b.SetBytes(int64(len(f)))
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Parse(f); err != nil {
			b.Fatal(err)
		}
	}
}

func countPredicates(filter string) int {
	e, _ := Parse(filter)
	n := 0
	Walk(e, func(x Expr) bool {
		switch x.(type) {
		case *LogicalExpr, *NotExpr, *ParenExpr:
		default:
			n++
		}
		return true
	})
	return n
}

// BenchmarkCheck20Predicates and BenchmarkSelect20Predicates split Compile's cost after
// parsing: type checking, and SQL generation.
func BenchmarkCheck20Predicates(b *testing.B) {
	e, err := Parse(twentyPredicates)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := Check(Discovery, twentyPredicates, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelect20Predicates(b *testing.B) {
	p, err := Analyze(Request{Dataset: Discovery, Filter: twentyPredicates, Sorts: []Sort{{"byteVolume", true}}, Limit: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	defer reportCPU(b, cpuTime())
	for b.Loop() {
		if _, err := DuckDB.Select(p); err != nil {
			b.Fatal(err)
		}
	}
}
