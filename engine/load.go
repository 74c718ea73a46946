package engine

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/cipherscope/cipherscope/query"
)

// LoadStats reports what one Load (or one input of LoadAll) did.
type LoadStats struct {
	Dataset  query.Dataset
	Batches  int           // record batches read from the input
	Rows     int64         // rows read from the input
	Inserted int64         // new rows stored
	Updated  int64         // existing rows updated (cert: a re-seen certificate)
	Skipped  int64         // rows already stored or repeated within the input (Rows - Inserted - Updated)
	Duration time.Duration // wall time of the whole Load or LoadAll, commit included
}

// Input is one dataset's rows for LoadAll: Reader must have the schema InputSchema(Dataset).
type Input struct {
	Dataset query.Dataset
	Reader  array.RecordReader
}

// Load stores every batch of r, which must have the schema InputSchema(ds), in one
// transaction: either all rows are stored or, on any error or cancellation of ctx, none
// (the tables are exactly as before). Loads are serialised. It is LoadAll of one input.
//
// Re-loading rows does not duplicate them. Discovery rows are keyed by obsUid: a row whose
// obsUid is stored is skipped, and of several input rows with one obsUid one is kept.
// Cert rows are keyed by certFingerprint: a re-seen certificate keeps one row whose
// certFirstSeen/certLastSeen widen to cover both sightings, certServerCount is the larger
// count, and other attributes keep the stored value, filling only stored NULLs.
//
// IP fields are parsed (net/netip) and stored as canonical text plus the family/number
// columns of the storage conventions. Errors: Invalid for a schema mismatch (naming the
// first mismatched column), an unparsable address or NULL key (naming row and value);
// Canceled/Timeout when ctx ends; Unavailable on a read-only database.
func (db *DB) Load(ctx context.Context, ds query.Dataset, r array.RecordReader) (LoadStats, error) {
	st, err := db.LoadAll(ctx, []Input{{Dataset: ds, Reader: r}})
	if len(st) == 0 {
		return LoadStats{Dataset: ds}, err
	}
	return st[0], err
}

// LoadAll stores the inputs, in order, in ONE transaction: either every row of every input
// is stored or, on any error or cancellation of ctx (or a crash), none — the tables are
// exactly as before. Each input is loaded as Load describes (a dataset may appear more than
// once; later inputs see the rows of earlier ones). It returns one LoadStats per input, in
// order; on error every returned LoadStats reports nothing stored. Every input is checked
// (dataset, schema) before anything is read. Errors are those of Load, with the Op naming
// the dataset of the input that failed.
func (db *DB) LoadAll(ctx context.Context, inputs []Input) ([]LoadStats, error) {
	start := time.Now()
	empty := make([]LoadStats, len(inputs))
	for i, in := range inputs {
		empty[i].Dataset = in.Dataset
	}
	for _, in := range inputs {
		op := "load " + string(in.Dataset)
		if !query.ValidDataset(in.Dataset) {
			return empty, errorf(Invalid, op, "unknown dataset %q", in.Dataset)
		}
		if db.cfg.ReadOnly {
			return empty, errorf(Unavailable, op, "the database was opened read-only")
		}
		if in.Reader == nil {
			return empty, errorf(Invalid, op, "nil reader")
		}
		if err := checkInputSchema(in.Dataset, in.Reader.Schema()); err != nil {
			return empty, &Error{Kind: Invalid, Op: op, Err: err}
		}
	}
	if len(inputs) == 0 {
		return empty, nil
	}
	allOp := loadOp(inputs)
	select {
	case db.loadSlot <- struct{}{}:
		defer func() { <-db.loadSlot }()
	case <-ctx.Done():
		return empty, wrap(ctx, allOp, ctx.Err())
	}

	readers := make([]*ipReader, len(inputs))
	for i, in := range inputs {
		readers[i] = newIPReader(ctx, db.alloc, in.Dataset, in.Reader)
		defer readers[i].Release()
	}
	stats := make([]LoadStats, len(inputs))
	current := -1 // the input being loaded when an error occurred
	err := db.withConn(ctx, func(conn *duckdb.Conn) error {
		return loadTx(ctx, conn, inputs, readers, stats, &current)
	})
	for i, in := range readers {
		stats[i].Dataset = inputs[i].Dataset
		stats[i].Batches, stats[i].Rows, _ = in.progress()
		stats[i].Skipped = stats[i].Rows - stats[i].Inserted - stats[i].Updated
	}
	elapsed := time.Since(start)
	for i := range stats {
		stats[i].Duration = elapsed
	}
	if err != nil {
		op := allOp
		if current >= 0 {
			op = "load " + string(inputs[current].Dataset)
			// The input's own error says more than DuckDB's "arrow scan failed" around it.
			if _, _, inErr := readers[current].progress(); inErr != nil {
				err = inErr
			}
		}
		return empty, wrap(ctx, op, err)
	}
	return stats, nil
}

// loadOp names a LoadAll for errors not tied to one input: "load cert+discovery".
func loadOp(inputs []Input) string {
	var names []string
	for _, in := range inputs {
		if !slices.Contains(names, string(in.Dataset)) {
			names = append(names, string(in.Dataset))
		}
	}
	return "load " + strings.Join(names, "+")
}

// withConn runs fn on a pooled driver connection held exclusively for its duration.
func (db *DB) withConn(ctx context.Context, fn func(*duckdb.Conn) error) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return fn(c)
	})
	return joinClose(err, conn)
}

// loadTx is the transaction of one LoadAll: every input in turn, one commit. The Arrow
// view that feeds each INSERT is created inside the transaction under a unique name and
// dropped before commit: duckdb-go's RegisterView makes a persistent view, and one that
// survived into a file database crashed the process when read after reopening
// (LIBRARY-NOTES). On rollback DuckDB discards it with everything else. *current is set to
// the index of the input being loaded, -1 outside of them.
func loadTx(ctx context.Context, conn *duckdb.Conn, inputs []Input, readers []*ipReader, stats []LoadStats, current *int) (err error) {
	tx, err := conn.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil {
				// The connection's state is unknown: make the pool discard it.
				err = errors.Join(err, rerr, driver.ErrBadConn)
			}
		}
	}()
	for i, in := range inputs {
		*current = i
		if err := loadOne(ctx, conn, in.Dataset, readers[i], &stats[i]); err != nil {
			return err
		}
	}
	*current = -1
	if err := ctx.Err(); err != nil {
		return err // canceled after the inserts: still roll back, as promised
	}
	return tx.Commit()
}

// loadOne stores one input inside the caller's transaction and fills Inserted and Updated.
func loadOne(ctx context.Context, conn *duckdb.Conn, ds query.Dataset, in *ipReader, stats *LoadStats) error {
	before, err := countRows(ctx, conn, ds)
	if err != nil {
		return err
	}
	view := "cs_load_" + randomHex()
	var affected int64
	if ds == query.Discovery {
		affected, err = loadDiscovery(ctx, conn, in, view)
	} else {
		affected, err = insertFromView(ctx, conn, insertSQL(ds, view), in, view)
	}
	if err != nil {
		return err
	}
	after, err := countRows(ctx, conn, ds)
	if err != nil {
		return err
	}
	stats.Inserted = after - before
	stats.Updated = affected - stats.Inserted
	return nil
}

// loadDiscovery stages the new observations of the input (a view can be read only once)
// in a temporary table, adds the flows not stored yet, then the observations with their
// flow ids; all inside the caller's transaction. It returns the observations inserted.
func loadDiscovery(ctx context.Context, conn *duckdb.Conn, in *ipReader, view string) (int64, error) {
	stage := "cs_stage_" + randomHex()
	if _, err := insertFromView(ctx, conn, stageSQL(view, stage), in, view); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, flowInsertSQL(stage), nil); err != nil {
		return 0, err
	}
	res, err := conn.ExecContext(ctx, obsInsertSQL(stage), nil)
	if err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "DROP TABLE "+quoteIdent(stage), nil); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insertFromView registers the reader as a view, runs stmt (which reads it), and
// drops the view before releasing the Arrow stream.
func insertFromView(ctx context.Context, conn *duckdb.Conn, stmt string, in *ipReader, view string) (int64, error) {
	a, err := duckdb.NewArrowFromConn(conn)
	if err != nil {
		return 0, err
	}
	release, err := a.RegisterView(in, view)
	if err != nil {
		return 0, err
	}
	defer release()
	res, err := conn.ExecContext(ctx, stmt, nil)
	if err != nil {
		return 0, err // the transaction is aborted; its rollback removes the view
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "DROP VIEW "+quoteIdent(view), nil); err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func countRows(ctx context.Context, conn *duckdb.Conn, ds query.Dataset) (int64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT count(*) FROM "+quoteIdent(tableName(ds)), nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	n, ok := v[0].(int64)
	if !ok {
		return 0, fmt.Errorf("count(*) returned %T", v[0])
	}
	return n, nil
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// twoTo64 turns the signed high half of an IPKey into its HUGEINT place value.
const twoTo64 = "18446744073709551616"

// selectExpr is the expression, over the view's columns, of one stored column.
func selectExpr(c column) string {
	if ip, ok := strings.CutSuffix(c.Name, query.NumberSuffix); ok {
		// hi*2^64 + lo, in two forms: DuckDB's overflow check rejects -2^63 * 2^64 (every
		// IPv4 address) although the product fits, and (hi+1)*2^64 overflows for the
		// largest hi. NULL takes the ELSE branch and stays NULL.
		hi, lo := quoteIdent(ip+hiSuffix), quoteIdent(ip+loSuffix)
		return fmt.Sprintf("CASE WHEN %[1]s < 0 THEN (CAST(%[1]s AS HUGEINT) + 1) * %[3]s + (CAST(%[2]s AS HUGEINT) - %[3]s) "+
			"ELSE CAST(%[1]s AS HUGEINT) * %[3]s + CAST(%[2]s AS HUGEINT) END", hi, lo, twoTo64)
	}
	return quoteIdent(c.Name)
}

// insertSQL is the statement that moves the view's rows into the dataset's table (cert).
func insertSQL(ds query.Dataset, view string) string {
	if ds != query.Cert {
		panic("engine: insertSQL is for cert; discovery loads through loadDiscovery")
	}
	return certInsertSQL(view)
}

// stageSQL copies the view's observations whose obsUid is not stored yet, one per obsUid,
// into a temporary table of the input columns (IP fields expanded). An anti-join rather
// than a unique index: see createTableSQL.
func stageSQL(view, stage string) string {
	cols := inputColumns(query.Discovery)
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = selectExpr(c) + " AS " + quoteIdent(c.Name)
	}
	id := quoteIdent(query.ObservationIDColumn)
	return fmt.Sprintf("CREATE TEMP TABLE %[1]s AS\nSELECT DISTINCT ON (%[5]s) %[2]s\nFROM %[3]s v\nWHERE NOT EXISTS (SELECT 1 FROM %[4]s t WHERE t.%[5]s = v.%[5]s)",
		quoteIdent(stage), strings.Join(exprs, ", "), quoteIdent(view), quoteIdent(query.DiscoveryTable), id)
}

// flowMatch is the join condition of staged rows s and stored flows f: every key column
// equal, NULL matching NULL.
func flowMatch() string {
	var on []string
	for _, k := range flowKeyColumns() {
		q := quoteIdent(k)
		on = append(on, "s."+q+" IS NOT DISTINCT FROM f."+q)
	}
	return strings.Join(on, " AND ")
}

// flowInsertSQL adds the staged flows that are not stored yet, numbered after the largest
// stored flow id. Derived fields and IP comparison columns are functions of the key.
func flowInsertSQL(stage string) string {
	flowCols := tables(query.Discovery)[0].Columns[1:]
	keys := map[string]bool{}
	for _, k := range flowKeyColumns() {
		keys[k] = true
	}
	var names, sel, group []string
	for _, c := range flowCols {
		q := quoteIdent(c.Name)
		names = append(names, q)
		if keys[c.Name] {
			sel = append(sel, q)
			group = append(group, q)
		} else {
			sel = append(sel, "any_value("+q+") AS "+q)
		}
	}
	id := quoteIdent(query.FlowIDColumn)
	flows := quoteIdent(query.FlowTable)
	return fmt.Sprintf("INSERT INTO %[1]s (%[2]s, %[3]s)\n"+
		"SELECT CAST((SELECT coalesce(max(%[2]s), 0) FROM %[1]s) + row_number() OVER () AS %[7]s), %[3]s\n"+
		"FROM (SELECT %[4]s FROM %[5]s GROUP BY %[6]s) s\n"+
		"WHERE NOT EXISTS (SELECT 1 FROM %[1]s f WHERE %[8]s)",
		flows, id, strings.Join(names, ", "), strings.Join(sel, ", "), quoteIdent(stage), strings.Join(group, ", "),
		flowIDType, flowMatch())
}

// obsInsertSQL inserts the staged observations with the ids of their flows.
func obsInsertSQL(stage string) string {
	obsCols := tables(query.Discovery)[1].Columns
	var names, sel []string
	for _, c := range obsCols {
		q := quoteIdent(c.Name)
		names = append(names, q)
		if c.Name == query.FlowIDColumn {
			sel = append(sel, "f."+q)
		} else {
			sel = append(sel, "s."+q)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s\nFROM %s s JOIN %s f ON %s",
		quoteIdent(query.DiscoveryTable), strings.Join(names, ", "), strings.Join(sel, ", "),
		quoteIdent(stage), quoteIdent(query.FlowTable), flowMatch())
}

// certInsertSQL upserts certificates. Input rows are first grouped per fingerprint because
// DuckDB's ON CONFLICT DO UPDATE may not touch one row twice in a statement.
func certInsertSQL(view string) string {
	table := quoteIdent(query.CertTable)
	key := quoteIdent("certFingerprint")
	var names, aggs, sets []string
	for _, c := range inputColumns(query.Cert) {
		q := quoteIdent(c.Name)
		names = append(names, q)
		agg, merge := "any_value", "coalesce(%[1]s.%[2]s, excluded.%[2]s)"
		switch c.Name {
		case "certFingerprint":
			aggs = append(aggs, q)
			continue
		case "certFirstSeen":
			agg, merge = "min", "least(%[1]s.%[2]s, excluded.%[2]s)"
		case "certLastSeen", "certServerCount":
			agg, merge = "max", "greatest(%[1]s.%[2]s, excluded.%[2]s)"
		}
		aggs = append(aggs, fmt.Sprintf("%s(%s) AS %s", agg, selectExpr(c), q))
		sets = append(sets, q+" = "+fmt.Sprintf(merge, table, q))
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\nSELECT %s\nFROM %s\nGROUP BY %s\nON CONFLICT (%s) DO UPDATE SET %s",
		table, strings.Join(names, ", "), strings.Join(aggs, ", "), quoteIdent(view), key, key, strings.Join(sets, ", "))
}

// checkInputSchema compares a batch schema with InputSchema(ds) and names the first
// column that differs. Nullability is not compared (file readers mark every column
// nullable; NULLs in key columns are caught per row), nor the name of a list's element
// field; a timestamp may carry the zone "UTC".
func checkInputSchema(ds query.Dataset, got *arrow.Schema) error {
	want := InputSchema(ds)
	for i, w := range want.Fields() {
		if i >= got.NumFields() {
			return fmt.Errorf("input has %d columns; column %d should be %s (%s)", got.NumFields(), i+1, w.Name, w.Type)
		}
		g := got.Field(i)
		if g.Name != w.Name || !compatibleType(g.Type, w.Type) {
			return fmt.Errorf("input column %d is %s (%s), want %s (%s)", i+1, g.Name, g.Type, w.Name, w.Type)
		}
	}
	if got.NumFields() > want.NumFields() {
		return fmt.Errorf("input has unexpected column %d %s", want.NumFields()+1, got.Field(want.NumFields()).Name)
	}
	return nil
}

func compatibleType(got, want arrow.DataType) bool {
	switch w := want.(type) {
	case *arrow.ListType:
		g, ok := got.(*arrow.ListType)
		return ok && arrow.TypeEqual(g.Elem(), w.Elem())
	case *arrow.TimestampType:
		g, ok := got.(*arrow.TimestampType)
		return ok && g.Unit == w.Unit && (g.TimeZone == "" || g.TimeZone == "UTC")
	}
	return arrow.TypeEqual(got, want)
}
