package query

import (
	"net/netip"
	"time"
)

// Sort orders results by one field.
type Sort struct {
	Field string
	Desc  bool
}

// TimeFrame bounds discovery observations: Begin <= observedAt < End. A zero Begin or
// End leaves that side unbounded. The cert dataset ignores it.
type TimeFrame struct {
	Begin, End time.Time
}

// Request is one query against a dataset, as the REST API and the CLI receive it.
type Request struct {
	Dataset   Dataset
	Filter    string
	Columns   []string // empty = all fields of the dataset in catalog order
	Sorts     []Sort
	TimeFrame TimeFrame
	Limit     int64 // 0 = no limit
	Offset    int64 // rows to skip
	// AnyOrder, when Sorts is empty, lets rows come in any order: no tie-break sort. A
	// whole export needs no order, and sorting 100k+ rollups by the flow key costs more
	// than the rest of the query. Pages and cursors need the total order; leave it false.
	AnyOrder bool
	// Slice, when set, keeps only the rows stored at positions [From, To) of the
	// dataset's table (see Scannable). Reading a table slice by slice from one snapshot
	// returns each row once, each slice a cheap range of the table, where keyset pages
	// would each scan and top-N sort the whole table.
	Slice *RowSlice
}

// RowSlice is a range of stored row positions, From inclusive, To exclusive. Positions
// run from 0 to the table's extent (CompileExtent); deleted rows leave gaps.
type RowSlice struct{ From, To int64 }

// Scannable reports whether req reads one stored table with nothing that needs the
// whole result at once: no sorts, limit or offset, and for discovery no time frame (a
// time frame groups observations; all time is the flow table). Only such a request may
// have a Slice or an extent.
func Scannable(req Request) bool {
	return len(req.Sorts) == 0 && req.Limit == 0 && req.Offset == 0 &&
		(req.Dataset == Cert || req.TimeFrame.Begin.IsZero() && req.TimeFrame.End.IsZero())
}

// Plan is a checked, dialect-neutral request: every name resolved against the catalog,
// every literal converted to a typed value, the filter split around the discovery
// rollup. Dialects turn it into SQL.
type Plan struct {
	Dataset Dataset
	// Filter is the parsed filter (nil when there is none); Where is its checked form.
	Filter Expr
	Where  Cond
	// Pre holds the top-level conjuncts of Where that use only key and derived fields:
	// they may filter single observations before the discovery rollup. Post holds the
	// rest (they use aggregates). For the cert dataset everything is in Pre.
	Pre, Post []Cond
	Columns   []Field
	Sorts     []SortKey
	// TieBreak fields follow Sorts in ORDER BY so that every order is total.
	TieBreak []Field
	// TieBreakByRowID orders by the storage row id (discovery's flow id) after Sorts
	// instead of TieBreak fields: total and stable within one database, and cheaper.
	TieBreakByRowID bool
	TimeFrame       TimeFrame
	Limit           int64
	Offset          int64
	// Slice restricts the rows to stored positions (Request.Slice); nil for all.
	Slice *RowSlice
}

// SortKey is a resolved Sort.
type SortKey struct {
	Field Field
	Desc  bool
}

// Cond is a checked condition, the dialect-neutral form of a filter. The set of types is
// closed: *AndCond, *OrCond, *NotCond, *NullCond, *IsNullCond, *AnyElemCond, *CmpCond,
// *InCond, *LikeCond, *RegexCond, *IPRangeCond, *IPCmpCond, *ConstCond.
// Every condition follows SQL three-valued logic.
type Cond interface{ condNode() }

// Subject is what a scalar condition tests: a field's value, or (Elem) the current element
// of a list field inside an AnyElemCond.
type Subject struct {
	Field Field
	Elem  bool
}

// AndCond is the conjunction of Terms.
type AndCond struct{ Terms []Cond }

// OrCond is the disjunction of Terms.
type OrCond struct{ Terms []Cond }

// NotCond is NOT X.
type NotCond struct{ X Cond }

// NullCond is the unknown truth value (a predicate against a NULL on a scalar field).
type NullCond struct{}

// IsNullCond is Field IS [NOT] NULL (for a list field: the list itself).
type IsNullCond struct {
	Field Field
	Not   bool
}

// AnyElemCond holds when Cond holds for some element of the list Field, with the
// semantics of SQL's ANY: NULL when the list is NULL, or when no element gives true and
// some element gives NULL; false for an empty list.
type AnyElemCond struct {
	Field Field
	Cond  Cond
}

// CmpOp is a comparison operator of CmpCond and IPCmpCond.
type CmpOp = Operator

// CmpCond is Subject Op Value for Op in = <> < <= > >=. Value is string, int64, float64,
// bool or time.Time (UTC) matching the subject's type, or nil for NULL.
type CmpCond struct {
	Subject Subject
	Op      CmpOp
	Value   any
}

// InCond is Subject IN (Values...), values as in CmpCond. NOT IN is NotCond{InCond}.
type InCond struct {
	Subject Subject
	Values  []any
}

// LikeCond is Subject LIKE Pattern (ILIKE when Fold), escape character backslash.
// Pattern is a string or nil (NULL). NOT LIKE is NotCond{LikeCond}.
type LikeCond struct {
	Subject Subject
	Pattern any
	Fold    bool
}

// RegexCond is an unanchored RE2 match with PostgreSQL's semantics. Pattern is the RE2
// pattern to run, or nil (NULL): the user's pattern behind a (?s) or (?is) prefix, or,
// for a case-insensitive literal (Fold and Literal), a case-sensitive pattern with
// explicit [xX] classes (see foldLiteral). Source is the user's pattern; Literal reports
// that it has no metacharacters, so a dialect may use a substring test (see ilikeExact).
type RegexCond struct {
	Subject Subject
	Pattern any
	Source  string
	Fold    bool
	Literal bool
}

// IPRangeCond holds when the ip Field has the given family and lies in [First, Last].
type IPRangeCond struct {
	Field       Field
	First, Last netip.Addr
}

// IPCmpCond compares the ip Field with a host address in PostgreSQL's inet order: by
// family (every IPv4 before every IPv6), then by address.
type IPCmpCond struct {
	Field Field
	Op    CmpOp
	Addr  netip.Addr
}

// ConstCond is Value when the subject is not NULL, and NULL when it is: the outcome of a
// predicate whose answer does not depend on the (non-NULL) value, such as
// ip >> INET '10.0.0.1' on a stored host address.
type ConstCond struct {
	Subject Subject
	Value   bool
}

func (*AndCond) condNode()     {}
func (*OrCond) condNode()      {}
func (*NotCond) condNode()     {}
func (*NullCond) condNode()    {}
func (*IsNullCond) condNode()  {}
func (*AnyElemCond) condNode() {}
func (*CmpCond) condNode()     {}
func (*InCond) condNode()      {}
func (*LikeCond) condNode()    {}
func (*RegexCond) condNode()   {}
func (*IPRangeCond) condNode() {}
func (*IPCmpCond) condNode()   {}
func (*ConstCond) condNode()   {}

// condFields calls fn for every field c reads.
func condFields(c Cond, fn func(Field)) {
	switch n := c.(type) {
	case *AndCond:
		for _, t := range n.Terms {
			condFields(t, fn)
		}
	case *OrCond:
		for _, t := range n.Terms {
			condFields(t, fn)
		}
	case *NotCond:
		condFields(n.X, fn)
	case *IsNullCond:
		fn(n.Field)
	case *AnyElemCond:
		fn(n.Field)
	case *CmpCond:
		fn(n.Subject.Field)
	case *InCond:
		fn(n.Subject.Field)
	case *LikeCond:
		fn(n.Subject.Field)
	case *RegexCond:
		fn(n.Subject.Field)
	case *IPRangeCond:
		fn(n.Field)
	case *IPCmpCond:
		fn(n.Field)
	case *ConstCond:
		fn(n.Subject.Field)
	}
}

// conjuncts flattens the top-level ANDs of c.
func conjuncts(c Cond) []Cond {
	if a, ok := c.(*AndCond); ok {
		var out []Cond
		for _, t := range a.Terms {
			out = append(out, conjuncts(t)...)
		}
		return out
	}
	return []Cond{c}
}
