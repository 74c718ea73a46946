package benchmarks

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgPath runs each case's filter text verbatim on PostgreSQL over one connection.
type pgPath struct{ conn *pgx.Conn }

// Name implements runner.
func (p *pgPath) Name() string { return "postgres" }

// Prepare implements runner.
func (p *pgPath) Prepare(ctx context.Context, c Case) error {
	for _, s := range pgPlan(c).Setup {
		if _, err := p.conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("postgres: %w\n%s", err, s)
		}
	}
	return nil
}

// Cleanup implements runner.
func (p *pgPath) Cleanup(ctx context.Context, c Case) error {
	for _, s := range pgPlan(c).Teardown {
		if _, err := p.conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("postgres: %w\n%s", err, s)
		}
	}
	return nil
}

// Run implements runner. Rows are received but not decoded into Go values, which favours
// PostgreSQL slightly: the comparison stays conservative for cipherscope.
func (p *pgPath) Run(ctx context.Context, c Case) (outcome, error) {
	pl := pgPlan(c)
	if c.Kind == Export {
		return p.export(ctx, c, pl.Main)
	}
	start := time.Now()
	var out outcome
	for _, s := range append([]string{pl.Main}, pl.Extra...) {
		n, err := p.count(ctx, s)
		if err != nil {
			return outcome{}, err
		}
		out.Rows += n
	}
	for _, s := range pl.Counts {
		var n int64
		if err := p.conn.QueryRow(ctx, s).Scan(&n); err != nil {
			return outcome{}, fmt.Errorf("postgres: %w\n%s", err, s)
		}
		out.Counts = append(out.Counts, n)
	}
	out.Elapsed = time.Since(start)
	return out, nil
}

// count runs a query and counts the rows it returns.
func (p *pgPath) count(ctx context.Context, s string) (int64, error) {
	rows, err := p.conn.Query(ctx, s)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w\n%s", err, s)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres: %w\n%s", err, s)
	}
	return n, nil
}

// export streams COPY ... TO STDOUT in the case's format and counts the bytes.
func (p *pgPath) export(ctx context.Context, c Case, sel string) (outcome, error) {
	var stmt string
	switch c.Format {
	case CSV, Zip:
		stmt = fmt.Sprintf("COPY (%s) TO STDOUT WITH (FORMAT csv, HEADER)", sel)
	case Arrow:
		stmt = fmt.Sprintf("COPY (%s) TO STDOUT WITH (FORMAT binary)", sel)
	default: // JSON and NDJSON: one object per line, PostgreSQL's nearest to both
		stmt = fmt.Sprintf("COPY (SELECT row_to_json(q) FROM (%s) q) TO STDOUT", sel)
	}
	cw := &countingWriter{}
	var w io.Writer = cw
	var zw *zip.Writer
	start := time.Now()
	if c.Format == Zip {
		zw = zip.NewWriter(cw)
		entry, err := zw.Create(c.Name + ".csv")
		if err != nil {
			return outcome{}, err
		}
		w = entry
	}
	tag, err := p.conn.PgConn().CopyTo(ctx, w, stmt)
	if err != nil {
		return outcome{}, fmt.Errorf("postgres: %w\n%s", err, stmt)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return outcome{}, err
		}
	}
	return outcome{Rows: tag.RowsAffected(), Bytes: cw.n, Elapsed: time.Since(start)}, nil
}
