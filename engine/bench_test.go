package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/query"
)

// synthBatches builds n discovery observations in batches of batchSize: IPv4 clients
// (one in eight IPv6), a pool of 2000 servers, realistic low-cardinality strings.
func synthBatches(mem memory.Allocator, n, batchSize int, seed uint64) []arrow.RecordBatch {
	rng := rand.New(rand.NewPCG(seed, 1))
	suites := []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA"}
	versions := []string{"TLSv1.3", "TLSv1.2", "TLSv1.0"}
	b := array.NewRecordBuilder(mem, InputSchema(query.Discovery))
	defer b.Release()
	idx := map[string]int{}
	for i, f := range b.Schema().Fields() {
		idx[f.Name] = i
	}
	str := func(name string) *array.StringBuilder { return b.Field(idx[name]).(*array.StringBuilder) }
	i64 := func(name string) *array.Int64Builder { return b.Field(idx[name]).(*array.Int64Builder) }
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var out []arrow.RecordBatch
	for r := range n {
		for i, f := range b.Schema().Fields() { // default everything to NULL, then fill
			switch f.Name {
			case "obsUid", "observedAt", "clientIp", "serverIp", "serverPort", "protocol", "tlsVersion", "cipherSuite", "byteVolume", "packetCount", "serverName", "weakReasons":
			default:
				b.Field(i).AppendNull()
			}
		}
		str("obsUid").Append("C" + strconv.FormatUint(seed, 36) + strconv.Itoa(r))
		b.Field(idx["observedAt"]).(*array.TimestampBuilder).Append(arrow.Timestamp(base + rng.Int64N(86400e6)))
		if rng.IntN(8) == 0 {
			str("clientIp").Append(fmt.Sprintf("2001:db8:%x::%x", rng.IntN(65536), rng.IntN(65536)))
		} else {
			str("clientIp").Append(fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)))
		}
		s := rng.IntN(2000)
		str("serverIp").Append(fmt.Sprintf("192.168.%d.%d", s/256, s%256))
		str("serverName").Append(fmt.Sprintf("srv%d.example.com", s))
		i64("serverPort").Append(int64([]int{443, 8443, 636, 3306}[s%4]))
		str("protocol").Append("tcp")
		str("tlsVersion").Append(versions[rng.IntN(len(versions))])
		suite := suites[rng.IntN(len(suites))]
		str("cipherSuite").Append(suite)
		lb := b.Field(idx["weakReasons"]).(*array.ListBuilder)
		if suite == suites[3] {
			lb.Append(true)
			lb.ValueBuilder().(*array.StringBuilder).Append("cipher RC4")
		} else {
			lb.AppendNull()
		}
		i64("byteVolume").Append(rng.Int64N(1 << 20))
		i64("packetCount").Append(rng.Int64N(1000))
		if (r+1)%batchSize == 0 || r == n-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// BenchmarkLoadDiscovery loads CS_BENCH_ROWS observations (default 100k; the report's
// figure uses 1M) into a fresh database, then loads them again (all duplicates).
func BenchmarkLoadDiscovery(b *testing.B) {
	n := 100_000
	if s := os.Getenv("CS_BENCH_ROWS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	recs := synthBatches(memory.DefaultAllocator, n, 122_880, 1)
	defer releaseAll(recs)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := Open(ctx, Config{Threads: 2})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rr, _ := array.NewRecordReader(InputSchema(query.Discovery), recs)
		st, err := db.Load(ctx, query.Discovery, rr)
		rr.Release()
		if err != nil || st.Inserted != int64(n) {
			b.Fatalf("load: %+v %v", st, err)
		}
		b.ReportMetric(float64(n)/st.Duration.Seconds(), "rows/s")
		rr, _ = array.NewRecordReader(InputSchema(query.Discovery), recs)
		st2, err := db.Load(ctx, query.Discovery, rr)
		rr.Release()
		if err != nil || st2.Skipped != int64(n) {
			b.Fatalf("reload: %+v %v", st2, err)
		}
		b.ReportMetric(st2.Duration.Seconds()*1e3, "reload-ms")
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
}

func TestSynthLoadNoLeaks(t *testing.T) {
	mem := newChecked(t)
	db := openTest(t, "")
	recs := synthBatches(mem, 20_000, 7_000, 2)
	rr, err := array.NewRecordReader(InputSchema(query.Discovery), recs)
	releaseAll(recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	st, err := db.Load(context.Background(), query.Discovery, rr)
	if err != nil {
		t.Fatal(err)
	}
	if want := (LoadStats{Dataset: query.Discovery, Batches: 3, Rows: 20_000, Inserted: 20_000}); st.Batches != want.Batches || st.Rows != want.Rows || st.Inserted != want.Inserted {
		t.Errorf("stats = %+v", st)
	}
	got := queryStrings(t, db, `SELECT count(*) FILTER (WHERE "clientIp__fam" = 6), count(DISTINCT "serverIp"), count(*) FILTER (WHERE "weakReasons" IS NOT NULL) > 0 FROM discovery_obs JOIN discovery_flow USING ("flowId")`)
	if got[0][0] == "0" || got[0][1] != "2000" || got[0][2] != "true" {
		t.Errorf("synthetic data looks wrong: %v", got)
	}
}

// BenchmarkExportCSV splits the cost of a CSV export (Export, ExportCSV) of the flows of
// CS_BENCH_ROWS observations into its layers, each written to a file in the same
// directory: "copy" is DuckDB's COPY with its own text forms (the benchmark harness's
// baseline), "copy-to-process" writes the same into a named pipe that another process
// (cat) copies to the file, the least any server handing the bytes to a client adds,
// "copy-api-text" adds the API's text forms (RFC 3339 timestamps, lists as JSON) to
// "copy", and "export" adds the named pipe and a reader copying it to the file.
//
//	TMPDIR=/dev/shm CS_BENCH_ROWS=1000000 go test -tags duckdb_arrow ./engine -run '^$' -bench ExportCSV -benchtime 21x
//
// On 2 vCPUs (1M flows, 172 MB) copy-to-process ran at 0.77-0.81x of copy's speed: on a
// machine that small, handing the bytes to another process costs DuckDB about a fifth.
func BenchmarkExportCSV(b *testing.B) {
	n := 100_000
	if s := os.Getenv("CS_BENCH_ROWS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	db, err := Open(ctx, Config{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	recs := synthBatches(memory.DefaultAllocator, n, 122_880, 1)
	rr, _ := array.NewRecordReader(InputSchema(query.Discovery), recs)
	_, err = db.Load(ctx, query.Discovery, rr)
	rr.Release()
	releaseAll(recs)
	if err != nil {
		b.Fatal(err)
	}
	req := query.Request{Dataset: query.Discovery, AnyOrder: true}
	stmt, err := query.Compile(req, query.DuckDB)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(b.TempDir(), "flows.csv")
	var names []string
	for _, c := range stmt.Columns {
		names = append(names, quoteIdent(c.Name))
	}
	copyPlain := "COPY (SELECT " + strings.Join(names, ", ") + " FROM (" + stmt.SQL + ")) TO " + quoteLiteral(file) + " (FORMAT csv, HEADER true)"
	layers := []struct {
		name string
		run  func() error
	}{
		{"copy", func() error { _, err := db.sql.ExecContext(ctx, copyPlain, stmt.Args...); return err }},
		{"copy-to-process", func() error {
			return copyThroughProcess(func(fifo string) error {
				_, err := db.sql.ExecContext(ctx, strings.Replace(copyPlain, quoteLiteral(file), quoteLiteral(fifo), 1), stmt.Args...)
				return err
			}, file)
		}},
		{"copy-api-text", func() error {
			_, err := db.sql.ExecContext(ctx, copySQL(stmt, ExportCSV, file), stmt.Args...)
			return err
		}},
		{"export", func() error { return exportToFile(ctx, db, req, file) }},
	}
	// Every iteration runs each layer once, so that the layers share the machine's
	// moments of noise; each reports its median time and its ratio to "copy".
	samples := make([][]time.Duration, len(layers))
	for b.Loop() {
		for i, l := range layers {
			start := time.Now()
			if err := l.run(); err != nil {
				b.Fatalf("%s: %v", l.name, err)
			}
			samples[i] = append(samples[i], time.Since(start))
		}
	}
	base := median(samples[0])
	for i, l := range layers {
		m := median(samples[i])
		b.ReportMetric(float64(m)/1e6, "ms-median/"+l.name)
		if i > 0 {
			b.ReportMetric(float64(base)/float64(m), "x-copy-speed/"+l.name)
		}
	}
	b.ReportMetric(0, "ns/op") // the sum of every layer's time says nothing
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

// copyThroughProcess runs copyTo with the path of a named pipe that a cat process copies
// to file.
func copyThroughProcess(copyTo func(fifo string) error, file string) error {
	fifo := file + ".fifo"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return err
	}
	defer os.Remove(fifo)
	out, err := os.Create(file)
	if err != nil {
		return err
	}
	defer out.Close()
	cat := exec.Command("cat", fifo)
	cat.Stdout = out
	if err := cat.Start(); err != nil {
		return err
	}
	// The COPY's open for writing waits for cat's open for reading.
	return errors.Join(copyTo(fifo), cat.Wait())
}

func exportToFile(ctx context.Context, db *DB, req query.Request, file string) error {
	rc, err := db.Export(ctx, req, ExportCSV)
	if err != nil {
		return err
	}
	f, err := os.Create(file)
	if err != nil {
		rc.Close()
		return err
	}
	_, err = io.Copy(f, rc)
	return errors.Join(err, rc.Close(), f.Close())
}
