package query

import (
	"fmt"
	"net/netip"
	"time"
)

// ParamCursor names the cursor parameter in errors.
const ParamCursor = "cursor"

// KeyFields returns the total order of req's rows: its sorts, then the tie-break fields
// not sorted on yet, each with its direction. These are the values a keyset cursor
// records. Errors are an ErrorList, as from Analyze; a list-typed sort field cannot be
// part of a keyset and is reported against the sorts parameter.
func KeyFields(req Request) ([]SortKey, error) {
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	keys := orderKeys(p)
	for _, k := range keys {
		if k.Field.Type == StringList {
			return nil, ErrorList{{Kind: ValueError, Param: ParamSorts, Token: k.Field.Name,
				Message: fmt.Sprintf("cannot page with a cursor over a sort on the list field %s", k.Field.Name),
				Hint:    "sort on a scalar field, or page with offset"}}
		}
	}
	return keys, nil
}

// orderKeys is the ORDER BY of a plan as sort keys (see duckDB.orderBy).
func orderKeys(p *Plan) []SortKey {
	seen := map[string]bool{}
	var keys []SortKey
	add := func(f Field, desc bool) {
		if !seen[f.Name] {
			seen[f.Name] = true
			keys = append(keys, SortKey{Field: f, Desc: desc})
		}
	}
	for _, s := range p.Sorts {
		add(s.Field, s.Desc)
	}
	for _, f := range p.TieBreak {
		add(f, false)
	}
	return keys
}

// CompileAfter renders the rows of req that come strictly after the row whose key values
// are after (in KeyFields order; nil: from the first row), in req's order, up to
// req.Limit rows. Key fields missing from req.Columns are appended to the result columns,
// so that the caller can read the next cursor from the last row. req.Offset must be 0.
//
// The predicate follows ORDER BY exactly, NULL placement included (NULLS LAST
// ascending, NULLS FIRST descending), so consecutive pages neither skip nor repeat rows
// whose key values do not change between the queries. Values are bound as parameters.
func CompileAfter(req Request, after []any, d Dialect) (*Statement, error) {
	keys, err := KeyFields(req)
	if err != nil {
		return nil, err
	}
	req.Columns = withKeyColumns(req, keys)
	p, err := Analyze(req)
	if err != nil {
		return nil, err
	}
	if after != nil {
		cond, err := afterCond(keys, after)
		if err != nil {
			return nil, err
		}
		// After the rollup for discovery (aggregates may be keys); cert has no rollup.
		if p.Dataset == Discovery {
			p.Post = append(p.Post, cond)
		} else {
			p.Pre = append(p.Pre, cond)
		}
	}
	return d.Select(p)
}

// withKeyColumns returns the requested columns plus the key fields not among them.
func withKeyColumns(req Request, keys []SortKey) []string {
	if len(req.Columns) == 0 {
		return nil // every field, keys included
	}
	cols := append([]string(nil), req.Columns...)
	have := map[string]bool{}
	for _, c := range cols {
		have[c] = true
	}
	for _, k := range keys {
		if !have[k.Field.Name] {
			cols = append(cols, k.Field.Name)
		}
	}
	return cols
}

// afterCond builds "row > after" in the order of keys:
// gt(k1) OR (eq(k1) AND (gt(k2) OR (eq(k2) AND ...))).
func afterCond(keys []SortKey, after []any) (Cond, error) {
	if len(after) != len(keys) {
		return nil, ErrorList{{Kind: ValueError, Param: ParamCursor, Message: "the cursor does not match the sort order"}}
	}
	var rest Cond
	for i := len(keys) - 1; i >= 0; i-- {
		gt, eq, err := keyConds(keys[i], after[i])
		if err != nil {
			return nil, err
		}
		switch {
		case rest == nil:
			rest = gt
		case gt == nil:
			rest = &AndCond{Terms: []Cond{eq, rest}}
		default:
			rest = &OrCond{Terms: []Cond{gt, &AndCond{Terms: []Cond{eq, rest}}}}
		}
		if rest == nil { // the last key has no row after a NULL (ascending)
			rest = never(keys[i].Field)
		}
	}
	return rest, nil
}

// keyConds returns "k comes after v" (nil when nothing does) and "k equals v" for one
// key, with NULLS LAST ascending and NULLS FIRST descending.
func keyConds(k SortKey, v any) (gt, eq Cond, err error) {
	f := k.Field
	isNull := &IsNullCond{Field: f}
	notNull := &IsNullCond{Field: f, Not: true}
	if v == nil {
		if k.Desc {
			return notNull, isNull, nil
		}
		return nil, isNull, nil
	}
	if err := checkKeyValue(f, v); err != nil {
		return nil, nil, err
	}
	op := OpGt
	if k.Desc {
		op = OpLt
	}
	gt, eq = keyCmp(f, op, v), keyCmp(f, OpEq, v)
	if !k.Desc {
		gt = &OrCond{Terms: []Cond{gt, isNull}}
	}
	return gt, eq, nil
}

func keyCmp(f Field, op Operator, v any) Cond {
	if f.Type == IP {
		return &IPCmpCond{Field: f, Op: op, Addr: v.(netip.Addr)}
	}
	return &CmpCond{Subject: Subject{Field: f}, Op: op, Value: v}
}

// never is a condition that is false for every row.
func never(f Field) Cond {
	return &AndCond{Terms: []Cond{&IsNullCond{Field: f}, &IsNullCond{Field: f, Not: true}}}
}

// checkKeyValue makes sure a cursor value has the Go type of its field.
func checkKeyValue(f Field, v any) error {
	ok := false
	switch f.Type {
	case String:
		_, ok = v.(string)
	case Int:
		_, ok = v.(int64)
	case Float:
		_, ok = v.(float64)
	case Bool:
		_, ok = v.(bool)
	case Timestamp:
		_, ok = v.(time.Time)
	case IP:
		_, ok = v.(netip.Addr)
	}
	if !ok {
		return ErrorList{{Kind: ValueError, Param: ParamCursor, Message: fmt.Sprintf("cursor value for %s has the wrong type", f.Name)}}
	}
	return nil
}
