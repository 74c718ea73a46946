package engine

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/cipherscope/cipherscope/query"
)

// migrations upgrade a database from the version they are keyed by to the next one,
// inside the transaction that creates the schema (createSchema): a failed migration
// leaves the file as it was.
var migrations = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2: addFlowRollup,
}

// addFlowRollup (version 2 to 3) adds the all-time rollup columns to the flow table and
// computes them from the stored observations.
func addFlowRollup(ctx context.Context, tx *sql.Tx) error {
	table := quoteIdent(query.FlowTable)
	id := quoteIdent(query.FlowIDColumn)
	var aggs, sets []string
	for _, c := range rollupColumns() {
		q := quoteIdent(c.Name)
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", table, q, c.Type)); err != nil {
			return err
		}
		aggs = append(aggs, rollupAggregate(c.Name)+" AS "+q)
		sets = append(sets, q+" = d."+q)
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s AS f SET %s\nFROM (SELECT %s, %s FROM %s GROUP BY %s) d\nWHERE f.%s = d.%s",
		table, strings.Join(sets, ", "), id, strings.Join(aggs, ", "), quoteIdent(query.DiscoveryTable), id, id, id))
	return err
}

// migrate upgrades a database of version from to SchemaVersion, one version at a time,
// and records the new version. It reports false when there is no path from that version.
func migrate(ctx context.Context, tx *sql.Tx, from int) (bool, error) {
	for v := from; v < SchemaVersion; v++ {
		step, ok := migrations[v]
		if !ok {
			return false, nil
		}
		if err := step(ctx, tx); err != nil {
			return false, fmt.Errorf("migrating schema version %d to %d: %w", v, v+1, err)
		}
	}
	_, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET value = ? WHERE key = 'schema_version'", MetadataTable),
		strconv.Itoa(SchemaVersion))
	return err == nil, err
}
