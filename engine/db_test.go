package engine

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/query"
)

func TestOpenCreatesSchema(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file"} {
		t.Run(path, func(t *testing.T) {
			if path == "file" {
				path = tempDBPath(t)
			}
			db := openTest(t, path)
			got := queryStrings(t, db, "SELECT value FROM cs_metadata WHERE key = 'schema_version'")
			if want := [][]string{{"3"}}; !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("schema_version = %v, want %v", got, want)
			}
			for _, ds := range query.Datasets {
				if n := rowCount(t, db, ds); n != 0 {
					t.Errorf("RowCount(%s) = %d on a new database", ds, n)
				}
			}
		})
	}
}

func TestStoredColumns(t *testing.T) {
	db := openTest(t, "")
	got := queryStrings(t, db, `SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
		WHERE table_name = 'discovery_obs' ORDER BY ordinal_position`)
	want := [][]string{
		{"obsUid VARCHAR NO"}, {"observedAt TIMESTAMP NO"}, {"byteVolume BIGINT YES"}, {"packetCount BIGINT YES"}, {"flowId INTEGER NO"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("discovery observation columns:\n got %v\nwant %v", got, want)
	}
	got = queryStrings(t, db, `SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns
		WHERE table_name = 'discovery_flow' AND column_name IN ('flowId', 'clientIp', 'clientIp__fam', 'clientIp__num',
		'serverPort', 'forwardSecrecy', 'weakReasons', 'obsUid', 'observedAt', 'connectionCount', 'byteVolume', 'packetCount',
		'firstSeen', 'lastSeen') ORDER BY ordinal_position`)
	want = [][]string{
		{"flowId INTEGER NO"}, {"clientIp VARCHAR NO"}, {"clientIp__fam UTINYINT NO"}, {"clientIp__num HUGEINT NO"},
		{"serverPort BIGINT YES"}, {"forwardSecrecy BOOLEAN YES"}, {"weakReasons VARCHAR[] YES"},
		{"connectionCount BIGINT YES"}, {"byteVolume BIGINT YES"}, {"packetCount BIGINT YES"},
		{"firstSeen TIMESTAMP YES"}, {"lastSeen TIMESTAMP YES"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("discovery flow columns:\n got %v\nwant %v", got, want)
	}
	got = queryStrings(t, db, `SELECT column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_name = 'cert' AND column_name IN ('certFingerprint', 'certAltNames', 'certDer') ORDER BY ordinal_position`)
	want = [][]string{{"certFingerprint VARCHAR"}, {"certAltNames VARCHAR[]"}, {"certDer BLOB"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("cert columns:\n got %v\nwant %v", got, want)
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()
	for i := range 3 {
		db, err := Open(ctx, Config{Path: path})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			mustLoad(t, db, query.Discovery, []row{obs("a", "10.0.0.1", "10.0.0.2")})
		}
		if n := rowCount(t, db, query.Discovery); n != 1 {
			t.Errorf("open %d: %d rows, want 1", i, n)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, db, query.Discovery, []row{obs("a", "10.0.0.1", "10.0.0.2")})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(ctx, Config{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if n := rowCount(t, ro, query.Discovery); n != 1 {
		t.Errorf("read-only: %d rows, want 1", n)
	}
	_, err = load(t, ro, query.Discovery, []row{obs("b", "10.0.0.1", "10.0.0.2")})
	if ErrorKind(err) != Unavailable {
		t.Errorf("Load on read-only = %v, want kind Unavailable", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		kind Kind
		msg  string
	}{
		{"query in path", Config{Path: "x.db?threads=1"}, Invalid, "must not contain"},
		{"negative threads", Config{Threads: -1}, Invalid, "threads"},
		{"read-only memory", Config{ReadOnly: true}, Invalid, "read-only"},
		{"bad memory limit", Config{MemoryLimit: "lots"}, Invalid, "memory_limit"},
		{"missing directory", Config{Path: "/nonexistent/dir/x.db"}, Unavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(context.Background(), tt.cfg)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if ErrorKind(err) != tt.kind || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Open = %v (kind %v), want kind %v containing %q", err, ErrorKind(err), tt.kind, tt.msg)
			}
		})
	}
}

func TestOpenDetectsSchemaDrift(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec(`ALTER TABLE cert ADD COLUMN "extra" VARCHAR`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, Config{Path: path})
	var e *Error
	if !errors.As(err, &e) || e.Kind != Conflict || !strings.Contains(err.Error(), "extra") {
		t.Errorf("Open after drift = %v, want Conflict naming the column", err)
	}
}

func TestExtensionsWithoutNetwork(t *testing.T) {
	db := openTest(t, "")
	got := queryStrings(t, db, `SELECT
		json_extract_string('{"a":"x"}', '$.a'),
		current_setting('TimeZone'),
		current_setting('autoinstall_known_extensions'),
		current_setting('autoload_known_extensions'),
		strftime(TIMESTAMPTZ '2024-01-02 03:04:05+02', '%H'),
		(SELECT count(*) FROM duckdb_extensions() WHERE extension_name IN ('json', 'parquet', 'icu') AND loaded),
		current_setting('preserve_insertion_order')`)
	want := [][]string{{"x", "UTC", "false", "false", "01", "3", "false"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("got %v, want %v", got, want)
	}
	dir := t.TempDir()
	if _, err := db.sql.Exec(`COPY (SELECT 42 AS x) TO '` + dir + `/t.parquet' (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	got = queryStrings(t, db, `SELECT x FROM read_parquet('`+dir+`/t.parquet')`)
	if want := [][]string{{"42"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("parquet round trip = %v", got)
	}
}

func TestOpenRejectsOldSchemaVersion(t *testing.T) {
	path := tempDBPath(t)
	ctx := context.Background()
	db, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	// A version-1 file: per-observation discovery table, no flow table.
	for _, stmt := range []string{
		`DROP TABLE discovery_flow`,
		`UPDATE cs_metadata SET value = '1' WHERE key = 'schema_version'`,
	} {
		if _, err := db.sql.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	_, err = Open(ctx, Config{Path: path})
	if ErrorKind(err) != Conflict || !strings.Contains(err.Error(), `schema version "1"`) {
		t.Fatalf("Open of a version-1 file = %v, want Conflict naming the version", err)
	}
	db, err = Open(ctx, Config{Path: path, ReadOnly: true})
	if err == nil {
		db.Close()
		t.Fatal("read-only Open of a version-1 file succeeded")
	}
	// Nothing was created in the old file.
	raw, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_name = 'discovery_flow'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("discovery_flow tables after the rejected Open: %d (%v), want 0", n, err)
	}
}
