package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/query"
)

// exportFixture holds two flows, one with a fractional-second observation and one with
// weak cryptography, and one certificate with a list of names.
func exportFixture(t *testing.T) *DB {
	t.Helper()
	db := openTestWith(t, Config{ExportDir: t.TempDir()})
	a1 := obs("a1", "10.1.0.1", "10.2.0.1")
	a1["serverName"] = "db.example.com"
	a1["observedAt"] = ts("2024-05-01T08:00:00Z")
	a2 := obs("a2", "10.1.0.1", "10.2.0.1")
	a2["serverName"] = "db.example.com"
	a2["observedAt"] = ts("2024-05-01T09:00:00.1234Z")
	a2["byteVolume"] = 500
	c := obs("c", "192.168.1.1", "10.200.0.9")
	c["tlsVersion"] = "TLSv1.0"
	c["cipherSuite"] = "TLS_RSA_WITH_RC4_128_SHA"
	// Derived fields come from ingest; the engine stores what it is given.
	for _, r := range []row{a1, a2} {
		r["weakCrypto"], r["weakReasons"] = false, []string{}
	}
	c["weakCrypto"], c["weakReasons"] = true, []string{"protocol TLSv1.0", "cipher RC4", "no forward secrecy"}
	mustLoad(t, db, query.Discovery, []row{a1, a2, c})
	crt := cert("aa", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z")
	crt["certNotValidAfterEpochSecs"] = 1704153600
	mustLoad(t, db, query.Cert, []row{crt})
	return db
}

func TestExport(t *testing.T) {
	db := exportFixture(t)
	flows := query.Request{Dataset: query.Discovery, Filter: "serverIp <<= INET '10.0.0.0/8'",
		Columns: []string{"clientIp", "serverName", "connectionCount", "byteVolume", "firstSeen", "lastSeen", "weakCrypto", "weakReasons"},
		Sorts:   []query.Sort{{Field: "byteVolume", Desc: true}}}
	certs := query.Request{Dataset: query.Cert, Columns: []string{"certFingerprint", "certAltNames", "certNotValidAfterEpochSecs"}}
	tests := []struct {
		name string
		req  query.Request
		f    ExportFormat
		want string
	}{
		{"csv", flows, ExportCSV,
			"clientIp,serverName,connectionCount,byteVolume,firstSeen,lastSeen,weakCrypto,weakReasons\n" +
				"10.1.0.1,db.example.com,2,1500,2024-05-01T08:00:00Z,2024-05-01T09:00:00.1234Z,false,[]\n" +
				`192.168.1.1,,1,1000,2024-05-01T10:00:00Z,2024-05-01T10:00:00Z,true,"[""protocol TLSv1.0"",""cipher RC4"",""no forward secrecy""]"` + "\n"},
		{"ndjson", flows, ExportNDJSON,
			`{"clientIp":"10.1.0.1","serverName":"db.example.com","connectionCount":2,"byteVolume":1500,"firstSeen":"2024-05-01T08:00:00Z","lastSeen":"2024-05-01T09:00:00.1234Z","weakCrypto":false,"weakReasons":[]}` + "\n" +
				`{"clientIp":"192.168.1.1","serverName":null,"connectionCount":1,"byteVolume":1000,"firstSeen":"2024-05-01T10:00:00Z","lastSeen":"2024-05-01T10:00:00Z","weakCrypto":true,"weakReasons":["protocol TLSv1.0","cipher RC4","no forward secrecy"]}` + "\n"},
		{"cert csv", certs, ExportCSV,
			"certFingerprint,certAltNames,certNotValidAfterEpochSecs\n" +
				`aa,"[""www.example.com"",""example.com""]",1704153600` + "\n"},
		{"empty csv has a header", query.Request{Dataset: query.Cert, Filter: "certFingerprint = 'zz'", Columns: []string{"certFingerprint"}}, ExportCSV,
			"certFingerprint\n"},
		{"empty ndjson is empty", query.Request{Dataset: query.Cert, Filter: "certFingerprint = 'zz'"}, ExportNDJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := db.Export(context.Background(), tt.req, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			assertEmptyDir(t, db.cfg.ExportDir)
		})
	}
}

func TestExportErrors(t *testing.T) {
	db := exportFixture(t)
	ctx := context.Background()
	_, err := db.Export(ctx, query.Request{Dataset: query.Discovery, Filter: "serverIpp = '1.2.3.4'"}, ExportCSV)
	var list query.ErrorList
	if ErrorKind(err) != Invalid || !errors.As(err, &list) || list[0].Kind != query.UnknownFieldError {
		t.Errorf("Export with unknown field = %v, want Invalid wrapping unknown_field", err)
	}
	assertEmptyDir(t, db.cfg.ExportDir)

	// A deadline that has passed: DuckDB never opens the pipe, and the reader still ends.
	short, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	e, err := db.Export(short, query.Request{Dataset: query.Cert}, ExportNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(e)
	if ErrorKind(err) != Timeout {
		t.Errorf("Read after deadline = %v (kind %v), want Timeout", err, ErrorKind(err))
	}
	if err := e.Close(); ErrorKind(err) != Timeout {
		t.Errorf("Close = %v, want the Timeout", err)
	}
	assertEmptyDir(t, db.cfg.ExportDir)
}

// TestExportCloseEarly stops an export after its first bytes: Close must stop DuckDB,
// remove the pipe and leave no goroutine behind.
func TestExportCloseEarly(t *testing.T) {
	db := openTestWith(t, Config{ExportDir: t.TempDir()})
	rows := make([]row, 20000)
	for i := range rows {
		rows[i] = obs(fmt.Sprint("u", i), fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), "10.200.0.1")
	}
	mustLoad(t, db, query.Discovery, rows)
	before := runtime.NumGoroutine()
	for range 3 {
		e, err := db.Export(context.Background(), query.Request{Dataset: query.Discovery}, ExportCSV)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(e, make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Errorf("Close after a partial read = %v, want nil", err)
		}
		assertEmptyDir(t, db.cfg.ExportDir)
	}
	for i := 0; runtime.NumGoroutine() > before; i++ {
		if i == 100 {
			t.Fatalf("%d goroutines after Close, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExportCoversCatalogTypes guards exportExpr's promise: DuckDB writes floats unlike the
// API (1e-09, a bare NaN in JSON), so a float field needs its own text form first.
func TestExportCoversCatalogTypes(t *testing.T) {
	for _, ds := range []query.Dataset{query.Discovery, query.Cert} {
		for _, f := range query.Fields(ds) {
			if f.Type == query.Float {
				t.Errorf("%s is a float: give it an export text form in exportExpr", f.Name)
			}
		}
	}
}

// TestExportTimestampText checks the export's timestamp text against time.RFC3339Nano,
// which the API's pages use, at the edges of DuckDB's fast cast (years 1 to 9999) and
// beyond it.
func TestExportTimestampText(t *testing.T) {
	db := openTestWith(t, Config{})
	expr := fmt.Sprintf(rfc3339SQL, "t")
	for _, s := range []string{
		"2024-05-01T08:00:00Z", "2024-05-01T09:00:00.1234Z", "2024-05-01T09:00:00.5Z",
		"2024-05-01T09:00:00.000001Z", "2024-05-01T09:00:00.12345Z", "2024-02-29T23:59:59.999999Z",
		"0001-01-01T00:00:00Z", "0999-12-31T23:59:59.1Z", "9999-12-31T23:59:59.999999Z",
		"10000-01-01T00:00:00Z", "12024-01-01T12:00:00.5Z",
	} {
		var want time.Time
		if y, rest, ok := strings.Cut(s, "-"); ok && len(y) > 4 {
			// time.Parse takes only four-digit years.
			n, _ := strconv.Atoi(y)
			base, err := time.Parse(time.RFC3339Nano, "2000-"+rest)
			if err != nil {
				t.Fatal(err)
			}
			want = base.AddDate(n-2000, 0, 0)
		} else {
			var err error
			if want, err = time.Parse(time.RFC3339Nano, s); err != nil {
				t.Fatal(err)
			}
		}
		var got string
		if err := db.sql.QueryRow("SELECT "+expr+" FROM (SELECT CAST(? AS TIMESTAMP) AS t)", want).Scan(&got); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if wantText := want.UTC().Format(time.RFC3339Nano); got != wantText || got != s {
			t.Errorf("%s: export text %q, RFC3339Nano %q", s, got, wantText)
		}
	}
	var null sql.NullString
	if err := db.sql.QueryRow("SELECT " + expr + " FROM (SELECT CAST(NULL AS TIMESTAMP) AS t)").Scan(&null); err != nil || null.Valid {
		t.Errorf("NULL timestamp: %v, %v; want NULL", null, err)
	}
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}
