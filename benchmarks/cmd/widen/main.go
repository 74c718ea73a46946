// Command widen multiplies the flows of a cipherscope database in place, for measuring
// memory on results larger than the generated datasets give (10M observations roll up
// to ~1.4M flows; a 10M-row export needs ~10M flows). Each existing flow is copied
// times-1 times under new flow ids with one observation each; the copies' rows are as
// realistic as the originals, only repeated.
//
// The 10M-row streaming measurement of the closing note of issue 5:
//
//	make bench SCALE=1M CASES=eq_range   # builds benchmarks/cache/seed1-1M
//	cp benchmarks/cache/seed1-1M/cipherscope.duckdb /tmp/wide.duckdb
//	go run -tags duckdb_arrow ./benchmarks/cmd/widen -db /tmp/wide.duckdb -times 74
//	K=$(bin/cipherscope keys create --db /tmp/wide.duckdb --roles Administrator)
//	bin/cipherscope serve --db /tmp/wide.duckdb --listen 127.0.0.1:18082 &
//	for accept in application/x-ndjson text/csv application/vnd.apache.arrow.stream; do
//	  curl -s -o /dev/null -w "$accept %{time_total}s %{size_download}B " -H "x-api-key: $K" \
//	    -H "Accept: $accept" 'http://127.0.0.1:18082/api/v1/dta_discovery?returnAsStream=true'
//	  grep VmHWM /proc/$(pgrep -f 'listen 127.0.0.1:18082')/status
//	done
package main

import (
	"database/sql"
	"flag"
	"fmt"
	"os"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/cipherscope/cipherscope/query"
)

// idStride separates the flow ids of the copies from the originals and each other.
const idStride = 10_000_000

func main() {
	db := flag.String("db", "", "cipherscope database `file` to widen in place")
	times := flag.Int("times", 2, "flows afterwards, as a multiple of the flows before (2..200)")
	flag.Parse()
	if *db == "" || *times < 2 || *times > 200 {
		fmt.Fprintln(os.Stderr, "usage: widen -db FILE -times N (2..200)")
		os.Exit(2)
	}
	if err := widen(*db, *times); err != nil {
		fmt.Fprintln(os.Stderr, "widen:", err)
		os.Exit(1)
	}
}

func widen(path string, times int) error {
	db, err := sql.Open("duckdb", path)
	if err != nil {
		return err
	}
	defer db.Close()
	var maxID int64
	if err := db.QueryRow(`SELECT coalesce(max("` + query.FlowIDColumn + `"), 0) FROM ` + query.FlowTable).Scan(&maxID); err != nil {
		return err
	}
	if maxID >= idStride {
		return fmt.Errorf("flow ids reach %d: already widened, or too big to widen", maxID)
	}
	id := `"` + query.FlowIDColumn + `"`
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stride := fmt.Sprint(idStride)
	// Each copy has one observation; its all-time rollup columns say so.
	newID := `f.` + id + ` + r.k * ` + stride
	seen := `TIMESTAMP '2026-09-01' + to_seconds((` + newID + `) % 5000000)`
	copies := `INSERT INTO ` + query.FlowTable + ` SELECT f.* REPLACE (` + newID + ` AS ` + id + `,
		1 AS "connectionCount", 1000 AS "byteVolume", 10 AS "packetCount", ` + seen + ` AS "firstSeen", ` + seen + ` AS "lastSeen")
		FROM ` + query.FlowTable + ` f, range(1, ?) r(k) WHERE f.` + id + ` < ` + stride
	if _, err := tx.Exec(copies, times); err != nil {
		return err
	}
	observations := `INSERT INTO ` + query.DiscoveryTable + ` ("obsUid", "` + query.ObservedAtColumn + `", "byteVolume", "packetCount", ` + id + `)
		SELECT 'widen-' || ` + id + `, "firstSeen", "byteVolume", "packetCount", ` + id + `
		FROM ` + query.FlowTable + ` WHERE ` + id + ` >= ` + stride
	if _, err := tx.Exec(observations); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	var flows int64
	if err := db.QueryRow(`SELECT count(*) FROM ` + query.FlowTable).Scan(&flows); err != nil {
		return err
	}
	fmt.Printf("%s: %d flows\n", path, flows)
	return nil
}
