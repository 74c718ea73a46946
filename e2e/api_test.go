package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatasetAPIEndToEnd checks, against the real binary and its demo dataset, that the
// formats, the POST route, cursor paging and exports agree with one another.
func TestDatasetAPIEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.duckdb")
	srv, _ := startServer(t, "--db", db, "--demo", "--demo-rows", fmt.Sprint(demoRows), "--demo-certs", fmt.Sprint(demoCerts),
		"--demo-seed", "3", "--export-batch-rows", "100")
	defer srv.stop(t)
	api := srv.base + "/api/v1/dta_discovery"
	q := "?columns=serverName,byteVolume,weakReasons&sorts=byteVolume%20desc&limit=10000&reportFilteredCount=true"

	all := httpGet(t, api+q, "Accept", "text/csv")
	rows, err := csv.NewReader(bytes.NewReader(all.body)).ReadAll()
	if err != nil || all.status != 200 {
		t.Fatalf("%d %v", all.status, err)
	}
	if got := fmt.Sprint(len(rows) - 1); all.header.Get("X-Total-Count") != got {
		t.Fatalf("X-Total-Count %s, %s CSV rows", all.header.Get("X-Total-Count"), got)
	}

	// A streamed CSV export (pages of 100 rows) is byte-identical to the single page.
	stream := httpGet(t, api+"?columns=serverName,byteVolume,weakReasons&sorts=byteVolume%20desc&returnAsStream=true", "Accept", "text/csv")
	if !bytes.Equal(stream.body, all.body) {
		t.Errorf("stream (%d bytes) differs from the page (%d bytes)", len(stream.body), len(all.body))
	}

	// The zip holds the same CSV.
	z := httpGet(t, api+"?columns=serverName,byteVolume,weakReasons&sorts=byteVolume%20desc&returnAsZipFile=true", "Accept", "text/csv")
	zr, err := zip.NewReader(bytes.NewReader(z.body), int64(len(z.body)))
	if err != nil || len(zr.File) != 1 {
		t.Fatalf("zip: %v", err)
	}
	f, _ := zr.File[0].Open()
	inner, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(inner, all.body) || !strings.HasSuffix(zr.File[0].Name, ".csv") {
		t.Errorf("zip entry %s differs", zr.File[0].Name)
	}

	// POST answers as GET.
	body := `{"columns":["serverName","byteVolume","weakReasons"],"sorts":["byteVolume desc"],"limit":10000,"reportFilteredCount":true}`
	req, _ := http.NewRequest(http.MethodPost, api+"/query", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/csv")
	req.Header.Set("X-Api-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	posted, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(posted, all.body) {
		t.Errorf("POST differs from GET")
	}

	// Cursor pages of 333 rows concatenate to the same rows.
	var walked [][]string
	cursor := ""
	for {
		r := httpGet(t, api+"?columns=serverName,byteVolume,weakReasons&sorts=byteVolume%20desc&limit=333&cursor="+cursor, "Accept", "text/csv")
		recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil || r.status != 200 {
			t.Fatalf("%d %v %s", r.status, err, r.body)
		}
		walked = append(walked, recs[1:]...)
		if cursor = r.header.Get("X-Next-Cursor"); cursor == "" {
			break
		}
	}
	if a, b := fmt.Sprint(walked), fmt.Sprint(rows[1:]); a != b {
		t.Errorf("cursor walk returned %d rows, page %d", len(walked), len(rows)-1)
	}

	// Unacceptable media type: 406 problem.
	bad := httpGet(t, api, "Accept", "image/png")
	var p struct{ Status int }
	if bad.status != 406 || json.Unmarshal(bad.body, &p) != nil || p.Status != 406 {
		t.Errorf("406: %d %s", bad.status, bad.body)
	}
}
