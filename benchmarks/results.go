package benchmarks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Results is everything one Run measured: per scale, every case on every path.
type Results struct {
	Started  time.Time      `json:"started"`
	Duration time.Duration  `json:"durationNs"`
	Machine  Machine        `json:"machine"`
	Seed     uint64         `json:"seed"`
	Scales   []*ScaleResult `json:"scales"`
	// Ingest compares cipherscope's ingest of each input format with DuckDB's own reader.
	Ingest []IngestResult `json:"ingest,omitempty"`
	// Files are the result files written (JSON per scale, latest.md).
	Files []string `json:"files,omitempty"`
}

// Machine describes where the numbers were taken.
type Machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpuModel"`
	MemoryBytes int64  `json:"memoryBytes"`
	OS          string `json:"os"`
	Go          string `json:"go"`
	DuckDB      string `json:"duckdb"`
	Postgres    string `json:"postgres"`
	Commit      string `json:"commit,omitempty"`
}

// ScaleResult holds one dataset size's measurements.
type ScaleResult struct {
	Scale        string        `json:"scale"`
	Observations int           `json:"observations"`
	Certificates int           `json:"certificates"`
	Flows        int64         `json:"flows"` // discovery rows after the rollup
	Reps         int           `json:"reps"`
	Build        BuildInfo     `json:"build"`
	Cases        []CaseResult  `json:"cases"`
	Summary      Summary       `json:"summary"`
	Duration     time.Duration `json:"durationNs"`
	// ServerPeakRSS is the serve child's VmHWM over the whole scale, in bytes.
	ServerPeakRSS int64 `json:"serverPeakRssBytes"`
}

// BuildInfo says how the scale's databases were made, and how fast.
type BuildInfo struct {
	DuckDBFile      string        `json:"duckdbFile"`
	DuckDBBytes     int64         `json:"duckdbBytes"`
	Cached          bool          `json:"cached"` // true: the DuckDB file came from the cache
	NativeLoad      time.Duration `json:"nativeLoadNs"`
	NativeLoadRows  int64         `json:"nativeLoadRows"`
	PostgresLoad    time.Duration `json:"postgresLoadNs"`
	PostgresRows    int64         `json:"postgresRows"`
	PostgresSkipped string        `json:"postgresSkipped,omitempty"`
}

// Case statuses.
const (
	StatusOK           = "ok"
	StatusError        = "error"
	StatusNotAvailable = "not available"
)

// CaseResult is one case: its definition, the row-count check and each path's timings.
type CaseResult struct {
	Name        string                 `json:"name"`
	Description string                 `json:"description"`
	Dataset     string                 `json:"dataset"`
	Kind        Kind                   `json:"kind"`
	Format      Format                 `json:"format,omitempty"`
	Filter      string                 `json:"filter,omitempty"`
	Status      string                 `json:"status"`
	Reason      string                 `json:"reason,omitempty"`
	Rows        int64                  `json:"rows"`
	Paths       map[string]*PathResult `json:"paths"`
	// APIOverDuckDB is the API's median latency over raw DuckDB's (lower is better).
	APIOverDuckDB float64 `json:"apiOverDuckdb,omitempty"`
	// ServerOverDuckDB is the median time the server reports for the API's requests
	// (Server-Timing) over raw DuckDB's median: the API's ratio without HTTP.
	ServerOverDuckDB float64 `json:"serverOverDuckdb,omitempty"`
	// PostgresOverAPI is PostgreSQL's median latency over the API's (higher is better).
	PostgresOverAPI float64 `json:"postgresOverApi,omitempty"`
	// PostgresOverDuckDB is PostgreSQL over raw DuckDB, kept when the API path is missing.
	PostgresOverDuckDB float64 `json:"postgresOverDuckdb,omitempty"`
}

// PathResult is one path of one case.
type PathResult struct {
	Status     string  `json:"status"`
	Reason     string  `json:"reason,omitempty"`
	Rows       int64   `json:"rows"`
	Bytes      int64   `json:"bytes"`
	Counts     []int64 `json:"counts,omitempty"`
	Stats      Stats   `json:"stats"`
	RowsPerSec float64 `json:"rowsPerSec"`
	MBPerSec   float64 `json:"mbPerSec"`
	// PeakRSS is the peak resident set of the process doing the work during this case:
	// the serve child for "api", the harness for "duckdb"; 0 when not measured.
	PeakRSS int64 `json:"peakRssBytes,omitempty"`
	// ServerMedian is the median of the time the server reported spending (Server-Timing),
	// when it reported it on every run; the rest of Stats.Median is HTTP.
	ServerMedian time.Duration `json:"serverMedianNs,omitempty"`
	Samples      []int64       `json:"samplesNs,omitempty"`
	Budgeted     bool          `json:"budgeted,omitempty"` // fewer reps than asked: the time budget ran out
}

// Target is one quality bar with its measured value.
type Target struct {
	Name     string  `json:"name"`
	Goal     string  `json:"goal"`
	Value    float64 `json:"value"`
	Measured bool    `json:"measured"`
	Met      bool    `json:"met"`
	Detail   string  `json:"detail,omitempty"`
}

// Summary holds the suite-level targets of DESIGN section 5.
type Summary struct {
	Targets []Target `json:"targets"`
	OK      int      `json:"ok"`
	Errors  int      `json:"errors"`
	Missing int      `json:"notAvailable"`
}

// IngestResult compares ingest of one input format.
type IngestResult struct {
	Format      string      `json:"format"`
	Rows        int64       `json:"rows"`
	Bytes       int64       `json:"bytes"`
	Files       []string    `json:"files"`
	Cipherscope *PathResult `json:"cipherscope"`
	DuckDB      *PathResult `json:"duckdb"`
	// Ratio is cipherscope's rows/s over DuckDB's reader (higher is better).
	Ratio float64 `json:"ratio,omitempty"`
}

// writeJSON writes v indented to path, creating directories.
func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// scaleFile is the machine-readable result file of one scale of a run.
func scaleFile(dir string, started time.Time, scale string) string {
	return filepath.Join(dir, fmt.Sprintf("%s-%s.json", started.UTC().Format("20060102T150405Z"), scale))
}
