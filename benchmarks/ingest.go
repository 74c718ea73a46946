package benchmarks

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // database/sql driver "duckdb"

	"github.com/cipherscope/cipherscope/fixtures"
)

// ingestFormats are the input formats compared, with how `cipherscope ingest` is told.
var ingestFormats = []struct {
	format fixtures.Format
	flag   string // --format of cipherscope ingest
}{
	{fixtures.Parquet, "native"}, {fixtures.CSV, "native"}, {fixtures.NDJSON, "native"},
	{fixtures.ZeekTSV, "zeek"}, {fixtures.ZeekJSON, "zeek"},
}

// runIngest measures, per input format, `cipherscope ingest` into a fresh database against
// DuckDB's own reader (read_parquet/read_csv/read_json into a fresh file), interleaved.
func runIngest(ctx context.Context, o *Options, s Scale, tmp string) []IngestResult {
	cfg := fixtures.Config{Observations: s.Observations(), Certificates: s.Certificates(), Seed: o.Seed}
	var out []IngestResult
	for _, f := range ingestFormats {
		o.logf("ingest %s (%s)", f.format, s)
		dir := filepath.Join(cacheDirOf(o.CacheDir, o.Seed, s), "files-"+string(f.format))
		res := IngestResult{Format: string(f.format), Cipherscope: &PathResult{}, DuckDB: &PathResult{}}
		files, err := ensureFiles(cfg, f.format, dir)
		if err != nil {
			setFailure(res.DuckDB, err)
			setFailure(res.Cipherscope, err)
			out = append(out, res)
			continue
		}
		res.Files, res.Bytes = files, totalSize(files)
		measureIngest(ctx, o, f.format, f.flag, files, tmp, &res)
		out = append(out, res)
	}
	return out
}

// ensureFiles writes the fixture files once per seed, scale and format. The marker file
// lists them relative to dir, so a cache still works after it is moved or copied (one
// built in another checkout listed absolute paths there); a listed file that is missing
// means the files are written again.
func ensureFiles(cfg fixtures.Config, f fixtures.Format, dir string) ([]string, error) {
	done := filepath.Join(dir, ".complete")
	if files, ok := cachedFiles(dir, done); ok {
		return files, nil
	}
	_ = os.RemoveAll(dir)
	files, err := fixtures.Write(cfg, f, dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(files))
	for i, file := range files {
		if names[i], err = filepath.Rel(dir, file); err != nil {
			return nil, err
		}
	}
	return files, os.WriteFile(done, []byte(strings.Join(names, "\n")), 0o644)
}

// cachedFiles reads the marker file's list, resolved against dir, when every file on it
// is there.
func cachedFiles(dir, done string) ([]string, bool) {
	b, err := os.ReadFile(done)
	if err != nil {
		return nil, false
	}
	names := strings.Fields(string(b))
	files := make([]string, len(names))
	for i, name := range names {
		if filepath.IsAbs(name) {
			return nil, false
		}
		files[i] = filepath.Join(dir, name)
		if _, err := os.Stat(files[i]); err != nil {
			return nil, false
		}
	}
	return files, len(files) > 0
}

// measureIngest runs the warm-up (DuckDB's read, which also counts the input rows) and
// then the interleaved repetitions.
func measureIngest(ctx context.Context, o *Options, f fixtures.Format, flag string, files []string, tmp string, res *IngestResult) {
	rows, _, err := duckRead(ctx, f, files, tmp)
	if err != nil {
		setFailure(res.DuckDB, err)
		return
	}
	res.Rows = rows
	var csTimes, dkTimes []time.Duration
	var csPeak int64
	for rep := 0; rep < o.IngestReps; rep++ {
		if d, peak, err := csIngest(ctx, o.Binary, flag, files, tmp); err != nil {
			setFailure(res.Cipherscope, err)
			break
		} else {
			csTimes, csPeak = append(csTimes, d), max(csPeak, peak)
		}
		if _, d, err := duckRead(ctx, f, files, tmp); err == nil {
			dkTimes = append(dkTimes, d)
		}
	}
	fillIngest(res.DuckDB, dkTimes, res.Rows, res.Bytes)
	fillIngest(res.Cipherscope, csTimes, res.Rows, res.Bytes)
	res.Cipherscope.PeakRSS = csPeak
	if res.Cipherscope.RowsPerSec > 0 && res.DuckDB.RowsPerSec > 0 {
		res.Ratio = res.Cipherscope.RowsPerSec / res.DuckDB.RowsPerSec
	}
}

func fillIngest(pr *PathResult, times []time.Duration, rows, bytes int64) {
	if pr.Status != "" || len(times) == 0 {
		return
	}
	pr.Status, pr.Rows, pr.Bytes, pr.Stats = StatusOK, rows, bytes, Summarize(times)
	pr.RowsPerSec = Rate(rows, pr.Stats.Median)
	pr.MBPerSec = Rate(bytes, pr.Stats.Median) / 1e6
}

// csIngest runs `cipherscope ingest` into a fresh database file, timing the process and
// reading its peak RSS (bytes) from the kernel's resource usage of the child.
func csIngest(ctx context.Context, bin, flag string, files []string, tmp string) (time.Duration, int64, error) {
	db := filepath.Join(tmp, "ingest-bench.duckdb")
	defer removeDB(db)
	removeDB(db)
	args := append([]string{"ingest", "--db", db, "--format", flag}, files...)
	cmd := exec.CommandContext(ctx, bin, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if strings.Contains(msg, "unknown command") || strings.Contains(msg, "flag provided but not defined") {
			return 0, 0, notAvailable("cipherscope ingest: %s", firstLine(msg))
		}
		return 0, 0, fmt.Errorf("cipherscope ingest: %v: %s", err, firstLine(msg))
	}
	var peak int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = ru.Maxrss << 10 // KiB on Linux
	}
	return d, peak, nil
}

// duckRead loads every file with DuckDB's own reader into a fresh database file.
func duckRead(ctx context.Context, f fixtures.Format, files []string, tmp string) (int64, time.Duration, error) {
	path := filepath.Join(tmp, "duckread-bench.duckdb")
	removeDB(path)
	defer removeDB(path)
	start := time.Now()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return 0, 0, err
	}
	var rows int64
	for i, file := range files {
		var n int64
		stmt := fmt.Sprintf("CREATE TABLE t%d AS SELECT * FROM %s", i, duckReader(f, file))
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return 0, 0, fmt.Errorf("duckdb reader: %w\n%s", err, stmt)
		}
		if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM t%d", i)).Scan(&n); err != nil {
			db.Close()
			return 0, 0, err
		}
		rows += n
	}
	err = db.Close() // checkpoint, as cipherscope's ingest does before it exits
	return rows, time.Since(start), err
}

// duckReader is DuckDB's table function for one input file.
func duckReader(f fixtures.Format, file string) string {
	q := "'" + strings.ReplaceAll(file, "'", "''") + "'"
	switch f {
	case fixtures.Parquet:
		return "read_parquet(" + q + ")"
	case fixtures.CSV:
		return "read_csv(" + q + ", header = true)"
	case fixtures.ZeekTSV:
		return "read_csv(" + q + ", delim = '\t', header = false, comment = '#', nullstr = '-', all_varchar = true)"
	}
	return "read_json(" + q + ", format = 'newline_delimited')"
}

func removeDB(p string) {
	_ = os.Remove(p)
	_ = os.Remove(p + ".wal")
}

func totalSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}
