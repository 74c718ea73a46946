package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

// loadBatchRows is the Arrow batch size used to feed engine.Load.
const loadBatchRows = 64 * 1024

// dataset is one scale's cached inputs.
type dataset struct {
	dir    string // cache directory of this seed and scale
	cfg    fixtures.Config
	duckdb string // the cipherscope DuckDB file, built through engine.Load
	build  BuildInfo
}

// cacheDirOf names the cache directory of a seed and scale: reruns reuse its files.
func cacheDirOf(root string, seed uint64, s Scale) string {
	return filepath.Join(root, fmt.Sprintf("seed%d-%s", seed, s))
}

// ensureDataset returns the scale's DuckDB file, generating the fixtures and loading them
// through engine.Load when the cache lacks it. The load is the native-path ingest
// measurement; a cached file reports the numbers of the run that built it.
func ensureDataset(ctx context.Context, root string, seed uint64, s Scale, logf func(string, ...any)) (*dataset, error) {
	d := &dataset{
		dir: cacheDirOf(root, seed, s),
		cfg: fixtures.Config{Observations: s.Observations(), Certificates: s.Certificates(), Seed: seed},
	}
	d.duckdb = filepath.Join(d.dir, "cipherscope.duckdb")
	info := filepath.Join(d.dir, "build.json")
	if b, err := os.ReadFile(info); err == nil && fileExists(d.duckdb) {
		if err := json.Unmarshal(b, &d.build); err == nil {
			d.build.Cached = true
			return d, migrateCached(ctx, d.duckdb)
		}
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return nil, err
	}
	logf("building %s dataset (%d observations, %d certificates) in %s", s, d.cfg.Observations, d.cfg.Certificates, d.dir)
	if err := d.buildDuckDB(ctx); err != nil {
		return nil, err
	}
	return d, writeJSON(info, d.build)
}

// migrateCached opens a cached file writable once, so that a file an older build made
// is migrated to this build's schema version (engine.Open) before the paths open it
// read-only.
func migrateCached(ctx context.Context, path string) error {
	db, err := engine.Open(ctx, engine.Config{Path: path})
	if err != nil {
		return fmt.Errorf("cached dataset %s: %w", path, err)
	}
	return db.Close()
}

// buildDuckDB loads generated batches into a fresh file and renames it into place only
// when complete, so an interrupted build is never mistaken for a cached one.
func (d *dataset) buildDuckDB(ctx context.Context) (err error) {
	tmp := d.duckdb + ".building"
	_ = os.Remove(tmp)
	_ = os.Remove(tmp + ".wal")
	db, err := engine.Open(ctx, engine.Config{Path: tmp})
	if err != nil {
		return err
	}
	start := time.Now()
	var rows int64
	for _, ds := range query.Datasets {
		rr := fixtures.Records(ds, d.cfg, loadBatchRows)
		st, lerr := db.Load(ctx, ds, rr)
		rr.Release()
		if lerr != nil {
			return errors.Join(fmt.Errorf("load %s: %w", ds, lerr), db.Close())
		}
		rows += st.Rows
	}
	if err := db.Close(); err != nil {
		return err
	}
	// Close checkpoints; the load time includes it, as a real ingest's would.
	d.build.NativeLoad, d.build.NativeLoadRows = time.Since(start), rows
	if err := os.Rename(tmp, d.duckdb); err != nil {
		return err
	}
	d.build.DuckDBFile = d.duckdb
	if st, err := os.Stat(d.duckdb); err == nil {
		d.build.DuckDBBytes = st.Size()
	}
	return nil
}

// pgCSV exports each dataset as PostgreSQL-ready CSV (cached beside the DuckDB file).
func (d *dataset) pgCSV(ctx context.Context, duck *duckPath) (map[query.Dataset]string, error) {
	files := map[query.Dataset]string{}
	for _, ds := range query.Datasets {
		f := filepath.Join(d.dir, "pg-"+string(ds)+".csv")
		files[ds] = f
		if fileExists(f) {
			continue
		}
		tmp := f + ".tmp"
		if err := duck.exec(ctx, duckExportSQL(ds, tmp)); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, f); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
