package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/fixtures"
)

// TestZeekCombinedLog ingests one JSON file holding ssl, conn and x509 rows, each with
// its _path, as log shippers write them: its first rows are ssl rows, so it streams, and
// the conn rows after them make the run start over, joining at the end. The database
// must hold what ingesting the three logs separately stores.
func TestZeekCombinedLog(t *testing.T) {
	dir := t.TempDir()
	paths, err := fixtures.Write(fixtures.Config{Observations: 300, Certificates: 20, Seed: 12}, fixtures.ZeekJSON, filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	var combined bytes.Buffer
	for _, kind := range []string{"ssl", "conn", "x509"} {
		data, err := os.ReadFile(filepath.Join(dir, "logs", kind+".log"))
		if err != nil {
			t.Fatal(err)
		}
		combined.Write(bytes.ReplaceAll(data, []byte("{"), []byte(`{"_path":"`+kind+`",`)))
	}
	all := writeFile(t, dir, "all.log", combined.String())

	separate := openDB(t)
	mustRun(t, separate, Options{}, paths...)
	together := openDB(t)
	restarts := -1
	sum := mustRun(t, together, Options{Progress: func(p Progress) { restarts = p.Restarts }}, all)
	if restarts != 1 || sum.Rows["discovery"] != 300 {
		t.Errorf("restarts %d, summary %+v; want 1 restart and 300 observations", restarts, sum)
	}
	for _, q := range []string{
		`SELECT count(*), sum(hash(` + discoveryCols + `)) FROM ` + observations,
		`SELECT count(*), sum(hash(` + zeekCertCols + `)) FROM cert WHERE certSource = 'traffic'`,
	} {
		want, got := rows(t, separate, q), rows(t, together, q)
		if strings.Join(got[0], " ") != strings.Join(want[0], " ") {
			t.Errorf("%s\n got %v\nwant %v", q, got, want)
		}
	}
}

// TestProgress checks the reports: bytes up to the files' total, the rows read, and a
// last report marked Done.
func TestProgress(t *testing.T) {
	paths, err := fixtures.Write(roundTripConfig, fixtures.CSV, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	var reports []Progress
	mustRun(t, openDB(t), Options{Progress: func(p Progress) { reports = append(reports, p) }}, paths...)
	if len(reports) == 0 {
		t.Fatal("no progress reports")
	}
	last := reports[len(reports)-1]
	want := Progress{Files: 2, Bytes: total, TotalBytes: total,
		Rows: int64(roundTripConfig.Observations + roundTripConfig.Certificates), Done: true}
	last.Elapsed = 0
	if last != want {
		t.Errorf("last report %+v, want %+v", last, want)
	}
	for _, p := range reports[:len(reports)-1] {
		if p.Done || p.Bytes > p.TotalBytes {
			t.Errorf("report %+v", p)
		}
	}
}
