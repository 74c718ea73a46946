package engine

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/cipherscope/cipherscope/query"
)

// InputSchema is the Arrow schema of the record batches that Load accepts for a dataset,
// derived from the field catalog. It is also the schema of the native files (Parquet,
// CSV, NDJSON) that fixtures write and ingest reads.
//
// Discovery batches hold one row per observation: obsUid and observedAt, then every
// non-aggregate field of the catalog, then the per-observation byteVolume and packetCount.
// Cert batches hold every cert field, then certDer (the DER encoding, NULL when unknown).
// IP fields travel as text; the engine derives the stored comparison columns on load.
func InputSchema(ds query.Dataset) *arrow.Schema {
	var fields []arrow.Field
	switch ds {
	case query.Discovery:
		fields = append(fields,
			arrow.Field{Name: query.ObservationIDColumn, Type: arrow.BinaryTypes.String},
			arrow.Field{Name: query.ObservedAtColumn, Type: timestampType},
		)
		for _, f := range query.Fields(ds) {
			if f.PreAggregate() {
				fields = append(fields, arrowField(f))
			}
		}
		fields = append(fields,
			arrow.Field{Name: "byteVolume", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "packetCount", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		)
	case query.Cert:
		for _, f := range query.Fields(ds) {
			fields = append(fields, arrowField(f))
		}
		fields = append(fields, arrow.Field{Name: query.CertDERColumn, Type: arrow.BinaryTypes.Binary, Nullable: true})
	default:
		panic(fmt.Sprintf("engine: unknown dataset %q", ds))
	}
	return arrow.NewSchema(fields, nil)
}

// timestampType is the Arrow form of catalog timestamps: microseconds, UTC, no zone
// attached (DuckDB reads it as TIMESTAMP).
var timestampType = &arrow.TimestampType{Unit: arrow.Microsecond}

// ArrowType returns the Arrow type of a catalog type.
func ArrowType(t query.Type) arrow.DataType {
	switch t {
	case query.String, query.IP:
		return arrow.BinaryTypes.String
	case query.Int:
		return arrow.PrimitiveTypes.Int64
	case query.Float:
		return arrow.PrimitiveTypes.Float64
	case query.Bool:
		return arrow.FixedWidthTypes.Boolean
	case query.Timestamp:
		return timestampType
	case query.StringList:
		return arrow.ListOf(arrow.BinaryTypes.String)
	}
	panic(fmt.Sprintf("engine: no Arrow type for %q", t))
}

func arrowField(f query.Field) arrow.Field {
	// The key of every row is mandatory; everything else may be missing in real traffic.
	nullable := !(f.Name == "clientIp" || f.Name == "serverIp" || (f.Dataset == query.Cert && f.Name == "certFingerprint"))
	return arrow.Field{Name: f.Name, Type: ArrowType(f.Type), Nullable: nullable}
}
