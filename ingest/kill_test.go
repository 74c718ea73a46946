package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

// The environment of the child process of TestIngestKilledMidLoad.
const (
	killChildDB    = "CIPHERSCOPE_KILL_CHILD_DB"    // database file
	killChildFiles = "CIPHERSCOPE_KILL_CHILD_FILES" // files to ingest, separated by os.PathListSeparator
)

// Markers the child writes on stderr.
const (
	markerRead     = "KILLTEST-HALF-READ"       // half the input bytes are read: inside engine.LoadAll
	markerFinished = "KILLTEST-INGEST-FINISHED" // Run returned (the test data were too small)
)

// ingestDB is what `cipherscope ingest --db path files...` does (cmd/cipherscope/ingest.go):
// open the database file, ingest.Run, close.
func ingestDB(ctx context.Context, path string, files []string, opt Options) (Summary, error) {
	db, err := engine.Open(ctx, engine.Config{Path: path})
	if err != nil {
		return Summary{}, err
	}
	sum, err := Run(ctx, db, files, opt)
	return sum, errors.Join(err, db.Close())
}

// TestHelperIngestChild is the child process of TestIngestKilledMidLoad; run directly
// it does nothing.
func TestHelperIngestChild(t *testing.T) {
	path := os.Getenv(killChildDB)
	if path == "" {
		t.Skip("the child process of TestIngestKilledMidLoad")
	}
	files := filepath.SplitList(os.Getenv(killChildFiles))
	said := false
	_, err := ingestDB(context.Background(), path, files, Options{Progress: func(p Progress) {
		if !said && 2*p.Bytes >= p.TotalBytes {
			said = true
			fmt.Fprintln(os.Stderr, markerRead)
		}
	}})
	fmt.Fprintln(os.Stderr, markerFinished, err)
	if err != nil {
		t.Fatal(err)
	}
}

// TestIngestKilledMidLoad is the issue "a child process ingesting a large file is killed
// mid-way; the database opens and holds exactly what it held before". The child is this
// test binary running the real ingest path on a database file; it is SIGKILLed while
// engine.Load stores a large discovery file, at two different points of the load. The
// database must reopen with exactly the rows it held (counts and a checksum of every
// row of every table) and accept a new ingest.
//
// The large input is a single dataset (a native discovery CSV). A Zeek input, which
// stores both datasets, is TestIngestZeekKilledMidLoad.
func TestIngestKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads a few hundred thousand rows")
	}
	dir, dbPath, before, large := killSetup(t, fixtures.CSV, fixtures.Config{Observations: 300_000, Certificates: 500, Seed: 8})
	ctx := t.Context()
	largeDisc := large[:1] // discovery.csv only: one Load

	// Two kill points inside engine.LoadAll: at the read marker, when half the file is
	// read, so while DuckDB stages the rows it streams (the file is parsed as they are
	// staged), and as soon as DuckDB writes the inserted rows to the database file, a
	// second or so before the commit.
	for _, at := range []killPoint{{"staging", 0, false}, {"writing", 0, true}} {
		t.Run(at.name, func(t *testing.T) {
			killChild(t, dbPath, largeDisc, at)
			got := snapshot(t, dbPath)
			if !slices.Equal(got, before) {
				t.Fatalf("after the kill the database holds\n%v\nwant exactly\n%v\n"+
					"(the whole file stored would mean the kill came after the commit: a timing miss, not a partial load)", got, before)
			}
		})
	}

	// The database still takes an ingest, which stores exactly the new rows.
	more, err := fixtures.Write(fixtures.Config{Observations: 200, Certificates: 5, Seed: 9}, fixtures.CSV, filepath.Join(dir, "more"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ingestDB(ctx, dbPath, more[:1], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded[query.Discovery].Inserted != 200 {
		t.Fatalf("ingest after the kills: %+v", sum.Loaded)
	}
	after := snapshot(t, dbPath)
	if slices.Equal(after, before) {
		t.Fatalf("ingest after the kills changed nothing: %v", after)
	}
}

// killSetup ingests a small dataset of format f into a fresh database and writes the
// large input to kill a child over: the database, what it holds before the kill, and the
// large files.
func killSetup(t *testing.T, f fixtures.Format, large fixtures.Config) (dir, dbPath string, before []string, files []string) {
	t.Helper()
	dir = t.TempDir()
	dbPath = filepath.Join(dir, "cs.duckdb")
	small, err := fixtures.Write(fixtures.Config{Observations: 300, Certificates: 12, Seed: 7}, f, filepath.Join(dir, "small"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingestDB(t.Context(), dbPath, small, Options{}); err != nil {
		t.Fatal(err)
	}
	before = snapshot(t, dbPath)
	t.Logf("before: %v", before)
	start := time.Now()
	if files, err = fixtures.Write(large, f, filepath.Join(dir, "large")); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %v in %s", files, time.Since(start).Round(time.Millisecond))
	return dir, dbPath, before, files
}

// killPoint is when killChild kills: delay after the read marker, or (growth) as soon
// as the database file or its WAL grows.
type killPoint struct {
	name   string
	delay  time.Duration
	growth bool
}

// killChild starts the child ingesting files into dbPath, waits until it has read
// them (engine.Load starts then) and for the kill point, and SIGKILLs it. It fails if
// the child finished first.
func killChild(t *testing.T, dbPath string, files []string, at killPoint) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIngestChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildDB+"="+dbPath,
		killChildFiles+"="+strings.Join(files, string(os.PathListSeparator)))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	sizeBefore := fileSizes(dbPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	done := make(chan struct{}) // stderr is read to its end (Wait must come after)
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			<-done
			_ = cmd.Wait()
		}
	}()

	// Watch stderr: the read marker, then whether the child got to the end.
	read := make(chan struct{})
	finished := make(chan string, 1)
	var output strings.Builder
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			output.WriteString(line + "\n")
			switch {
			case line == markerRead:
				close(read)
			case strings.HasPrefix(line, markerFinished):
				finished <- line
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case <-read:
	case line := <-finished:
		t.Fatalf("child finished before reading was reported: %s", line)
	case <-time.After(2 * time.Minute):
		t.Fatal("child did not read half its input in 2 minutes")
	}
	readAt := time.Now()

	// Inside engine.Load, DuckDB writes the rows of a large uncommitted insert to the
	// database file before the commit (and the WAL at the commit).
	deadline := time.Now().Add(time.Minute)
	for at.growth && fileSizes(dbPath) == sizeBefore {
		select {
		case line := <-finished:
			t.Fatalf("child finished before it was killed (make the data larger): %s", line)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the database file did not grow within a minute of the read marker")
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(at.delay)
	select {
	case line := <-finished:
		t.Fatalf("child finished before it was killed (make the data larger or the delay shorter): %s", line)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	<-done
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", err, output.String())
	}
	t.Logf("killed %s after the read marker; database file and WAL sizes %v -> %v",
		time.Since(readAt).Round(time.Millisecond), sizeBefore, fileSizes(dbPath))
}

// fileSizes is the size of the database file and of its WAL (-1 when missing).
func fileSizes(dbPath string) [2]int64 {
	var out [2]int64
	for i, p := range []string{dbPath, dbPath + ".wal"} {
		out[i] = -1
		if st, err := os.Stat(p); err == nil {
			out[i] = st.Size()
		}
	}
	return out
}

// snapshot opens the database file and describes every table of the main schema: its
// row count and the sum of the hashes of its rows, as "table count checksum".
func snapshot(t *testing.T, dbPath string) []string {
	t.Helper()
	db, err := engine.Open(t.Context(), engine.Config{Path: dbPath})
	if err != nil {
		t.Fatalf("reopening the database: %v", err)
	}
	defer db.Close()
	var out []string
	for _, r := range rows(t, db, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1") {
		name := `"` + strings.ReplaceAll(r[0], `"`, `""`) + `"`
		c := rows(t, db, "SELECT count(*), coalesce(sum(hash(t)), 0) FROM "+name+" t")[0]
		out = append(out, r[0]+" "+c[0]+" "+c[1])
	}
	if len(out) == 0 {
		t.Fatal("the database has no tables")
	}
	return out
}

// TestIngestZeekKilledMidLoad kills a child ingesting Zeek logs (conn, ssl and x509, so
// certificates and observations in one engine.LoadAll) as soon as DuckDB writes the
// uncommitted rows to the database file (observations are stored first, then the
// certificates whose first/last seen come from them). Nothing of either dataset may remain: the database
// holds exactly what it held before (every table's row count and checksum). A normal
// Zeek ingest then stores both datasets.
func TestIngestZeekKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads a few hundred thousand Zeek lines")
	}
	dir, dbPath, before, large := killSetup(t, fixtures.ZeekTSV, fixtures.Config{Observations: 200_000, Certificates: 600, Seed: 8})
	ctx := t.Context()
	killChild(t, dbPath, large, killPoint{"writing", 0, true})
	if got := snapshot(t, dbPath); !slices.Equal(got, before) {
		t.Fatalf("after the kill the database holds\n%v\nwant exactly\n%v\n"+
			"(the whole input stored would mean the kill came after the commit: a timing miss, not a partial load)", got, before)
	}

	more, err := fixtures.Write(fixtures.Config{Observations: 200, Certificates: 6, Seed: 9}, fixtures.ZeekTSV, filepath.Join(dir, "more"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ingestDB(ctx, dbPath, more, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Loaded[query.Discovery].Inserted != 200 || sum.Loaded[query.Cert].Inserted+sum.Loaded[query.Cert].Updated == 0 {
		t.Fatalf("ingest after the kill: %+v", sum.Loaded)
	}
	if after := snapshot(t, dbPath); slices.Equal(after, before) {
		t.Fatalf("ingest after the kill changed nothing: %v", after)
	}
}
