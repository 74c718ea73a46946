package engine_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/query"
)

// Load one observation, then read it back through the Arrow API.
func Example() {
	ctx := context.Background()
	db, err := engine.Open(ctx, engine.Config{}) // in memory
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	// Build a batch in the input schema; columns left out stay NULL.
	b := array.NewRecordBuilder(memory.DefaultAllocator, engine.InputSchema(query.Discovery))
	defer b.Release()
	for i, f := range b.Schema().Fields() {
		switch f.Name {
		case "obsUid":
			b.Field(i).(*array.StringBuilder).Append("CHhAvVGS1DHFjwGM9")
		case "observedAt":
			b.Field(i).(*array.TimestampBuilder).Append(arrow.Timestamp(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixMicro()))
		case "clientIp":
			b.Field(i).(*array.StringBuilder).Append("10.0.0.7")
		case "serverIp":
			b.Field(i).(*array.StringBuilder).Append("2001:DB8::1") // stored canonically
		default:
			b.Field(i).AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	in, _ := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	defer in.Release()
	stats, err := db.Load(ctx, query.Discovery, in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("inserted:", stats.Inserted)

	rr, err := db.Query(ctx, `SELECT "serverIp", "serverIp__fam" AS fam FROM discovery_obs JOIN discovery_flow USING ("flowId") WHERE "clientIp" = ?`, "10.0.0.7")
	if err != nil {
		log.Fatal(err)
	}
	defer rr.Release() // returns the connection to the pool
	for rr.Next() {
		rec := rr.RecordBatch()
		for r := range int(rec.NumRows()) {
			fmt.Println(rec.Column(0).ValueStr(r), rec.Column(1).ValueStr(r))
		}
	}
	if err := rr.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// inserted: 1
	// 2001:db8::1 6
}
