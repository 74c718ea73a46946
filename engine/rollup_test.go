package engine

import (
	"context"
	"slices"
	"testing"

	"github.com/cipherscope/cipherscope/query"
)

// rollupFromFlows and rollupFromObservations read every flow's all-time rollup: as Load
// keeps it in the flow table, and as grouping the stored observations computes it.
const (
	rollupFromFlows = `SELECT "clientIp", "serverIp", CAST("connectionCount" AS VARCHAR), CAST("byteVolume" AS VARCHAR),
		CAST("packetCount" AS VARCHAR), CAST("firstSeen" AS VARCHAR), CAST("lastSeen" AS VARCHAR)
		FROM discovery_flow ORDER BY "clientIp", "serverIp"`
	rollupFromObservations = `SELECT "clientIp", "serverIp", CAST(count(*) AS VARCHAR), CAST(sum(o."byteVolume") AS VARCHAR),
		CAST(sum(o."packetCount") AS VARCHAR), CAST(min("observedAt") AS VARCHAR), CAST(max("observedAt") AS VARCHAR)
		FROM discovery_obs o JOIN discovery_flow USING ("flowId") GROUP BY "clientIp", "serverIp" ORDER BY "clientIp", "serverIp"`
)

// TestLoadMaintainsFlowRollup loads in three steps (new flows; new observations of stored
// flows, a repeated observation and a new flow; a failing load) and checks the flow
// table's rollup after each: exact values, equal to grouping the observations.
func TestLoadMaintainsFlowRollup(t *testing.T) {
	db := openTest(t, "")
	at := func(r row, when string) row { r["observedAt"] = ts(when); return r }
	noBytes := at(obs("a2", "10.0.0.1", "10.0.0.9"), "2024-05-01T09:00:00Z")
	noBytes["byteVolume"], noBytes["packetCount"] = nil, nil
	mustLoad(t, db, query.Discovery, []row{
		at(obs("a1", "10.0.0.1", "10.0.0.9"), "2024-05-01T10:00:00Z"),
		noBytes,
		at(obs("b1", "10.0.0.2", "10.0.0.9"), "2024-05-02T10:00:00Z"),
	})
	nulls := at(obs("c1", "10.0.0.3", "10.0.0.9"), "2024-05-03T10:00:00Z")
	nulls["byteVolume"], nulls["packetCount"] = nil, nil
	checkFlowRollup(t, db, [][]string{
		{"10.0.0.1", "10.0.0.9", "2", "1000", "10", "2024-05-01 09:00:00", "2024-05-01 10:00:00"},
		{"10.0.0.2", "10.0.0.9", "1", "1000", "10", "2024-05-02 10:00:00", "2024-05-02 10:00:00"},
	})

	mustLoad(t, db, query.Discovery, []row{
		at(obs("a1", "10.0.0.1", "10.0.0.9"), "2024-05-01T10:00:00Z"), // stored already: not counted again
		at(obs("a3", "10.0.0.1", "10.0.0.9"), "2024-04-30T10:00:00Z"),
		at(obs("b2", "10.0.0.2", "10.0.0.9"), "2024-06-01T10:00:00Z"),
		at(obs("b3", "10.0.0.2", "10.0.0.9"), "2024-05-15T10:00:00Z"),
		nulls,
	})
	after := [][]string{
		{"10.0.0.1", "10.0.0.9", "3", "2000", "20", "2024-04-30 10:00:00", "2024-05-01 10:00:00"},
		{"10.0.0.2", "10.0.0.9", "3", "3000", "30", "2024-05-02 10:00:00", "2024-06-01 10:00:00"},
		{"10.0.0.3", "10.0.0.9", "1", "NULL", "NULL", "2024-05-03 10:00:00", "2024-05-03 10:00:00"},
	}
	checkFlowRollup(t, db, after)

	// A load that fails after staging changes no rollup.
	if _, err := load(t, db, query.Discovery, []row{at(obs("a4", "10.0.0.1", "10.0.0.9"), "2024-07-01T10:00:00Z"), obs("bad", "x", "10.0.0.9")}); err == nil {
		t.Fatal("bad load succeeded")
	}
	c4 := at(obs("c2", "10.0.0.3", "10.0.0.9"), "2024-05-04T10:00:00Z")
	mustLoad(t, db, query.Discovery, []row{c4})
	after[2] = []string{"10.0.0.3", "10.0.0.9", "2", "1000", "10", "2024-05-03 10:00:00", "2024-05-04 10:00:00"}
	checkFlowRollup(t, db, after)
}

// checkFlowRollup compares the flow table's rollup with want and with the observations' grouping.
func checkFlowRollup(t *testing.T, db *DB, want [][]string) {
	t.Helper()
	got := queryStrings(t, db, rollupFromFlows)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("flow rollup:\n got %v\nwant %v", got, want)
	}
	if grouped := queryStrings(t, db, rollupFromObservations); !slices.EqualFunc(got, grouped, slices.Equal) {
		t.Errorf("flow rollup differs from the observations:\n flows %v\ngrouped %v", got, grouped)
	}
}

// TestOpenMigratesVersion2 turns a loaded database back into version 2 (no rollup
// columns) and opens it again: the columns are back, computed from the observations.
func TestOpenMigratesVersion2(t *testing.T) {
	ctx := context.Background()
	path := tempDBPath(t)
	db, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	mustLoad(t, db, query.Discovery, []row{obs("a1", "10.0.0.1", "10.0.0.9"), obs("a2", "10.0.0.1", "10.0.0.9"), obs("b1", "10.0.0.2", "10.0.0.9")})
	for _, c := range rollupColumns() {
		if _, err := db.sql.Exec(`ALTER TABLE discovery_flow DROP COLUMN ` + quoteIdent(c.Name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.sql.Exec(`UPDATE cs_metadata SET value = '2' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if _, err := Open(ctx, Config{Path: path, ReadOnly: true}); ErrorKind(err) != Conflict {
		t.Fatalf("read-only Open of a version-2 file = %v, want Conflict", err)
	}
	db = openTest(t, path)
	if got := queryStrings(t, db, "SELECT value FROM cs_metadata WHERE key = 'schema_version'"); !slices.EqualFunc(got, [][]string{{"3"}}, slices.Equal) {
		t.Errorf("schema_version after the migration = %v", got)
	}
	checkFlowRollup(t, db, [][]string{
		{"10.0.0.1", "10.0.0.9", "2", "2000", "20", "2024-05-01 10:00:00", "2024-05-01 10:00:00"},
		{"10.0.0.2", "10.0.0.9", "1", "1000", "10", "2024-05-01 10:00:00", "2024-05-01 10:00:00"},
	})
}
