package benchmarks

import (
	"fmt"
	"net/url"
	"path"

	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

// Kind says how a case is run and what its throughput is measured in.
type Kind string

// Case kinds.
const (
	// Page is a filtered page of JSON rows: latency matters, rows/s is secondary.
	Page Kind = "page"
	// Export is a large result (CSV, JSON, NDJSON, zip): throughput in rows/s and MB/s matters.
	Export Kind = "export"
	// SnapshotDiff creates a snapshot (untimed) and times its diff against the live data.
	SnapshotDiff Kind = "snapshot-diff"
	// CBOM times the CycloneDX document against the distinct algorithm tuples it is built from.
	CBOM Kind = "cbom"
)

// Format is the wire format of an API response and of the matching DuckDB/PostgreSQL export.
type Format string

// Formats.
const (
	JSON   Format = "json"   // {"data": [...]} from the API; a JSON array from COPY
	CSV    Format = "csv"    // CSV with a header
	NDJSON Format = "ndjson" // one JSON object per line
	Zip    Format = "zip"    // a zip file holding CSV (DuckDB: gzip CSV, the closest built-in)
	// Arrow is an Arrow IPC stream from the API; DuckDB's own Arrow result of the same
	// query (which the driver materializes); PostgreSQL's binary COPY, its typed nearest.
	Arrow Format = "arrow"
)

// Sort is one sort key of a case: a field and a direction.
type Sort struct {
	Field string
	Desc  bool
}

// Case is one benchmark, defined once and run three ways: through the HTTP API, as
// hand-written SQL on the same DuckDB file, and as the identical filter text on PostgreSQL.
type Case struct {
	Name        string
	Description string
	Dataset     query.Dataset
	Kind        Kind
	Format      Format
	// Filter is the filter-language text, sent to the API and run verbatim on PostgreSQL.
	Filter  string
	Columns []string // nil: every field of the dataset
	Sorts   []Sort
	Limit   int64
	// OffsetPage counts pages of Limit, as the API's offset does.
	OffsetPage int64
	// Params are extra API query parameters (reportFilteredCount, returnAsStream, ...).
	Params url.Values
	// Feature names the API capability the case needs, for "not available" reasons.
	Feature string
	// DuckPre and DuckPost are the hand-written DuckDB predicates equivalent to Filter:
	// DuckPre on single observations (or cert rows), DuckPost on the discovery rollup.
	DuckPre, DuckPost string
	// PGFilter replaces Filter on PostgreSQL only where PostgreSQL syntax differs (list
	// fields); empty means Filter verbatim, which is the rule.
	PGFilter string
	// TimeFrame restricts a discovery case's rollups to the observations in [Begin, End)
	// (the API's timeFrame[begin] and timeFrame[end]); zero is all time, the API's default.
	TimeFrame query.TimeFrame
	// Counts asks every path for the filtered and total row counts as well.
	Counts bool
	// NoRowCheck explains why the paths' row counts are not comparable (different shapes);
	// empty means they must agree.
	NoRowCheck string
}

// ExportRows is the row budget of the export cases ("1M-row exports").
const ExportRows = 1_000_000

// Suite returns the standard cases in a stable order.
func Suite() []Case {
	return []Case{
		{
			Name: "eq_range", Description: "equality + numeric range (post-rollup)", Dataset: query.Discovery, Kind: Page,
			Filter:  "cipherKex = 'ECDHE' AND byteVolume > 1000000",
			DuckPre: `"cipherKex" = 'ECDHE'`, DuckPost: `"byteVolume" > 1000000`,
			Sorts: []Sort{{"byteVolume", true}}, Limit: 100,
		},
		{
			Name: "eq_port_range", Description: "equality + numeric range on observations", Dataset: query.Discovery, Kind: Page,
			Filter:  "protocol = 'tcp' AND serverPort BETWEEN 400 AND 1000",
			DuckPre: `"protocol" = 'tcp' AND "serverPort" BETWEEN 400 AND 1000`,
			Sorts:   []Sort{{"lastSeen", true}}, Limit: 100,
		},
		{
			Name: "in_list", Description: "IN list", Dataset: query.Discovery, Kind: Page,
			Filter:  "tlsVersion IN ('TLSv1.0', 'TLSv1.1')",
			DuckPre: `"tlsVersion" IN ('TLSv1.0', 'TLSv1.1')`,
			Columns: []string{"clientIp", "serverIp", "serverName", "tlsVersion", "cipherSuite", "connectionCount"},
			Sorts:   []Sort{{"connectionCount", true}}, Limit: 100,
		},
		{
			Name: "regex_ci", Description: "case-insensitive regex", Dataset: query.Discovery, Kind: Page,
			Filter:  "serviceName ~* 'mysql'",
			DuckPre: `regexp_matches("serviceName", 'mysql', 'i')`,
			Sorts:   []Sort{{"byteVolume", true}}, Limit: 100,
		},
		{
			Name: "regex_cert_txt", Description: "case-insensitive regex over certificate text", Dataset: query.Cert, Kind: Page,
			Filter:  `certTxt ~* 'DNS:\s*([^.]+\.)*example\.com'`,
			DuckPre: `regexp_matches("certTxt", 'DNS:\s*([^.]+\.)*example\.com', 'i')`,
			Columns: []string{"certFingerprint", "certCommonName", "certNotValidAfterEpochSecs"},
			Sorts:   []Sort{{"certNotValidAfterEpochSecs", false}}, Limit: 100,
		},
		{
			Name: "ilike", Description: "ILIKE", Dataset: query.Discovery, Kind: Page,
			Filter:  "serverName ILIKE '%mail%'",
			DuckPre: `"serverName" ILIKE '%mail%'`,
			Sorts:   []Sort{{"firstSeen", false}}, Limit: 100,
		},
		{
			Name: "cidr_v4", Description: "CIDR containment, IPv4", Dataset: query.Discovery, Kind: Page,
			Filter:  "serverIp <<= INET '10.10.0.0/16'",
			DuckPre: cidrPredicate("serverIp", "10.10.0.0/16"),
			Sorts:   []Sort{{"byteVolume", true}}, Limit: 100,
		},
		{
			Name: "cidr_v6", Description: "CIDR containment, IPv6", Dataset: query.Discovery, Kind: Page,
			Filter:  "clientIp <<= INET '2001:db8::/32'",
			DuckPre: cidrPredicate("clientIp", "2001:db8::/32"),
			Sorts:   []Sort{{"byteVolume", true}}, Limit: 100,
		},
		{
			Name: "null_tests", Description: "IS NULL / IS NOT NULL", Dataset: query.Discovery, Kind: Page,
			Filter:  "serverName IS NULL AND certFingerprint IS NOT NULL",
			DuckPre: `"serverName" IS NULL AND "certFingerprint" IS NOT NULL`,
			Sorts:   []Sort{{"connectionCount", true}}, Limit: 100,
		},
		{
			Name: "nested_bool", Description: "nested AND/OR/NOT", Dataset: query.Discovery, Kind: Page,
			Filter: "(tlsVersion = 'TLSv1.3' OR (cipherKex = 'RSA' AND NOT forwardSecrecy)) AND NOT (serviceName IN ('dns', 'ntp') OR serverPort = 53)",
			DuckPre: `("tlsVersion" = 'TLSv1.3' OR ("cipherKex" = 'RSA' AND NOT "forwardSecrecy")) ` +
				`AND NOT ("serviceName" IN ('dns', 'ntp') OR "serverPort" = 53)`,
			Sorts: []Sort{{"lastSeen", true}}, Limit: 100,
		},
		{
			Name: "multi_sort_page", Description: "multi-key sort, page of 100", Dataset: query.Discovery, Kind: Page,
			Filter:  "weakCrypto = TRUE",
			DuckPre: `"weakCrypto" = TRUE`,
			Sorts:   []Sort{{"serviceName", false}, {"byteVolume", true}, {"serverPort", false}}, Limit: 100,
		},
		{
			Name: "deep_offset", Description: "deep offset page (rows 20000-20099)", Dataset: query.Discovery, Kind: Page,
			Sorts: []Sort{{"firstSeen", false}}, Limit: 100, OffsetPage: 200,
		},
		{
			Name: "timeframe_page", Description: "equality over one week's observations (time frame)", Dataset: query.Discovery, Kind: Page,
			Filter:  "cipherKex = 'ECDHE'",
			DuckPre: `"cipherKex" = 'ECDHE'`,
			Sorts:   []Sort{{"byteVolume", true}}, Limit: 100,
			TimeFrame: query.TimeFrame{Begin: fixtures.DefaultStart.AddDate(0, 0, 7), End: fixtures.DefaultStart.AddDate(0, 0, 14)},
		},
		{
			Name: "cert_page", Description: "cert dataset, range + equality", Dataset: query.Cert, Kind: Page,
			Filter:  "certPublicKeyAlgo = 'RSA' AND certPublicKeySize < 4096",
			DuckPre: `"certPublicKeyAlgo" = 'RSA' AND "certPublicKeySize" < 4096`,
			Sorts:   []Sort{{"certNotValidAfterEpochSecs", false}}, Limit: 100,
		},
		{
			Name: "count_reporting", Description: "page + reportFilteredCount + reportTotalCount", Dataset: query.Discovery, Kind: Page,
			Filter:  "tlsVersion = 'TLSv1.2'",
			DuckPre: `"tlsVersion" = 'TLSv1.2'`,
			Sorts:   []Sort{{"byteVolume", true}}, Limit: 100, Counts: true, Feature: "count reporting",
			Params: url.Values{"reportFilteredCount": {"true"}, "reportTotalCount": {"true"}},
		},
		{
			Name: "export_csv_1m", Description: "CSV export, up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: CSV,
			Limit: ExportRows, Feature: "CSV export (Accept: text/csv, returnAsStream)",
			Params: url.Values{"returnAsStream": {"true"}},
		},
		{
			Name: "export_json_1m", Description: "JSON export, up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: JSON,
			Limit: ExportRows, Feature: "JSON export (returnAsStream)",
			Params: url.Values{"returnAsStream": {"true"}},
		},
		{
			Name: "stream_ndjson_1m", Description: "NDJSON stream, up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: NDJSON,
			Limit: ExportRows, Feature: "NDJSON streaming (application/x-ndjson, returnAsStream)",
			Params: url.Values{"returnAsStream": {"true"}},
		},
		{
			Name: "stream_arrow_1m", Description: "Arrow IPC stream, up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: Arrow,
			Limit: ExportRows, Feature: "Arrow streaming (application/vnd.apache.arrow.stream, returnAsStream)",
			Params: url.Values{"returnAsStream": {"true"}},
		},
		{
			// A sorted Arrow export numbers every matching row in the sort's order first
			// (engine.Scan); an unsorted one reads the table in slices.
			Name: "stream_arrow_sorted_1m", Description: "Arrow IPC stream by byteVolume desc, up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: Arrow,
			Sorts: []Sort{{"byteVolume", true}}, Limit: ExportRows, Feature: "sorted Arrow streaming (sorts, returnAsStream)",
			Params: url.Values{"returnAsStream": {"true"}},
		},
		{
			Name: "export_zip_1m", Description: "zip export (CSV inside), up to 1M rows", Dataset: query.Discovery, Kind: Export, Format: Zip,
			Limit: ExportRows, Feature: "zip export (returnAsZipFile)",
			Params: url.Values{"returnAsZipFile": {"true"}},
		},
		{
			Name: "snapshot_diff", Description: "diff a snapshot against the live data", Dataset: query.Discovery, Kind: SnapshotDiff,
			Filter: "tlsVersion = 'TLSv1.2'", DuckPre: `"tlsVersion" = 'TLSv1.2'`, Feature: "snapshots + diff",
			Columns: []string{"clientIp", "serverIp", "serverPort", "serviceName", "cipherSuite", "connectionCount", "byteVolume"},
		},
		{
			Name: "cbom", Description: "CycloneDX CBOM of all observed cryptography", Dataset: query.Discovery, Kind: CBOM, Feature: "CBOM",
			NoRowCheck: "CBOM components and distinct algorithm tuples have different shapes",
		},
	}
}

// SelectCases returns the cases whose names match any of patterns (path.Match globs, or
// plain names); no patterns selects the whole suite. A pattern matching nothing is an error,
// so that a typo does not silently run an empty benchmark.
func SelectCases(all []Case, patterns []string) ([]Case, error) {
	if len(patterns) == 0 {
		return all, nil
	}
	var out []Case
	for _, p := range patterns {
		n := 0
		for _, c := range all {
			if ok, _ := path.Match(p, c.Name); ok && !containsCase(out, c.Name) {
				out = append(out, c)
				n++
			} else if ok {
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("benchmarks: no case matches %q", p)
		}
	}
	return out, nil
}

func containsCase(cs []Case, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// columns returns the case's columns, defaulting to every field of its dataset.
func (c Case) columns() []string {
	if len(c.Columns) > 0 {
		return c.Columns
	}
	var out []string
	for _, f := range query.Fields(c.Dataset) {
		out = append(out, f.Name)
	}
	return out
}

// pgFilter is the filter text PostgreSQL runs.
func (c Case) pgFilter() string {
	if c.PGFilter != "" {
		return c.PGFilter
	}
	return c.Filter
}

// sortParams renders Sorts as the API's `field asc|desc` values.
func (c Case) sortParams() []string {
	var out []string
	for _, s := range c.Sorts {
		out = append(out, s.Field+" "+direction(s.Desc))
	}
	return out
}

func direction(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}
