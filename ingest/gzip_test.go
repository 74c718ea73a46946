package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

// TestGzip: compressed logs, with names that say nothing, give the rows of the plain ones.
func TestGzip(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, f := range []string{"conn.log", "ssl.log"} {
		data, err := os.ReadFile(dataDir + "zeek/json-rita/" + f)
		if err != nil {
			t.Fatalf("reference data missing: %v", err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(data)
		zw.Close()
		paths = append(paths, writeFile(t, dir, "input-"+f[:4]+".dat", buf.String()))
	}
	plain, packed := openDB(t), openDB(t)
	mustRun(t, plain, Options{}, dataDir+"zeek/json-rita/conn.log", dataDir+"zeek/json-rita/ssl.log")
	mustRun(t, packed, Options{Format: Zeek}, paths...)
	q := `SELECT * EXCLUDE (flowId, clientIp__fam, clientIp__num, serverIp__fam, serverIp__num) FROM ` + observations + ` ORDER BY obsUid`
	if g, w := rows(t, packed, q), rows(t, plain, q); fmt.Sprint(g) != fmt.Sprint(w) || len(w) == 0 {
		t.Errorf("gzip rows differ\n got %v\nwant %v", g, w)
	}
}

// TestNativeMalformed: a bad CSV cell names file, line, column and value; with
// SkipInvalid the other rows are stored.
func TestNativeMalformed(t *testing.T) {
	cfg := fixtures.Config{Observations: 20, Certificates: 4, Seed: 3}
	paths, err := fixtures.Write(cfg, fixtures.CSV, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(paths[0])
	lines := strings.Split(string(data), "\n")
	cells := strings.Split(lines[5], ",")
	port := cells[6] // serverPort, the 7th column of InputSchema(discovery)
	cells[6] = "http"
	lines[5] = strings.Join(cells, ",")
	os.WriteFile(paths[0], []byte(strings.Join(lines, "\n")), 0o644)
	db := openDB(t)
	_, err = Run(context.Background(), db, paths[:1], Options{})
	want := fmt.Sprintf(`%s:6: field "serverPort": value "http": not an integer`, paths[0])
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s (was %s)", err, want, port)
	}
	sum := mustRun(t, db, Options{SkipInvalid: true}, paths[0])
	dataRows := strings.Count(strings.TrimRight(string(data), "\n"), "\n") // lines minus the header
	if sum.Skipped != 1 || sum.Rows[query.Discovery] != int64(dataRows-1) {
		t.Errorf("skip-invalid: %+v, want 1 skipped, %d rows", sum, dataRows-1)
	}
}
