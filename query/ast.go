package query

import "strings"

// Span is the byte range [Pos, End) of a node in the filter text.
type Span struct {
	Pos, End int
}

// Range returns s itself; embedding Span gives every node the method.
func (s Span) Range() Span { return s }

// Expr is a node of the filter AST. The set of node types is closed (the interface has
// an unexported method): *LogicalExpr, *NotExpr, *ParenExpr and the predicates
// *CompareExpr, *AnyExpr, *BetweenExpr, *InExpr, *IsNullExpr, *BoolFieldExpr.
// String prints canonical filter text; parsing it yields an equal AST up to spans.
type Expr interface {
	Range() Span
	String() string
	exprNode()
}

// LogicalOp is AND or OR.
type LogicalOp int

// Logical operators; OpOr binds weaker than OpAnd.
const (
	OpOr LogicalOp = iota
	OpAnd
)

// String returns AND or OR.
func (o LogicalOp) String() string {
	if o == OpAnd {
		return "AND"
	}
	return "OR"
}

// LogicalExpr is Terms[0] Op Terms[1] Op ... (a chain of one operator, at least two terms).
type LogicalExpr struct {
	Span
	Op    LogicalOp
	Terms []Expr
}

// NotExpr is NOT X.
type NotExpr struct {
	Span
	X Expr
}

// ParenExpr is (X); kept so that printing reproduces the user's grouping.
type ParenExpr struct {
	Span
	X Expr
}

// Ident is a field name as written.
type Ident struct {
	Span
	Name string
}

// Operator is a binary predicate operator.
type Operator int

// Predicate operators. OpNe prints as <>; != parses to it.
const (
	OpEq Operator = iota
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpMatch       // ~
	OpIMatch      // ~*
	OpNotMatch    // !~
	OpNotIMatch   // !~*
	OpContainedBy // <<
	OpContainedEq // <<=
	OpContains    // >>
	OpContainsEq  // >>=
	OpOverlaps    // &&
	OpLike        // LIKE
	OpNotLike     // NOT LIKE
	OpILike       // ILIKE
	OpNotILike    // NOT ILIKE
)

var operatorText = [...]string{
	OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpMatch: "~", OpIMatch: "~*", OpNotMatch: "!~", OpNotIMatch: "!~*",
	OpContainedBy: "<<", OpContainedEq: "<<=", OpContains: ">>", OpContainsEq: ">>=", OpOverlaps: "&&",
	OpLike: "LIKE", OpNotLike: "NOT LIKE", OpILike: "ILIKE", OpNotILike: "NOT ILIKE",
}

// String returns the operator as written in canonical filter text.
func (o Operator) String() string { return operatorText[o] }

// operatorBySymbol maps the lexer's Op tokens to operators.
var operatorBySymbol = map[string]Operator{
	"=": OpEq, "<>": OpNe, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe,
	"~": OpMatch, "~*": OpIMatch, "!~": OpNotMatch, "!~*": OpNotIMatch,
	"<<": OpContainedBy, "<<=": OpContainedEq, ">>": OpContains, ">>=": OpContainsEq, "&&": OpOverlaps,
}

func (o Operator) isComparison() bool { return o <= OpGe }
func (o Operator) isRegex() bool      { return o >= OpMatch && o <= OpNotIMatch }
func (o Operator) isNetwork() bool    { return o >= OpContainedBy && o <= OpOverlaps }
func (o Operator) isLike() bool       { return o >= OpLike }

// CompareExpr is Field Op Value for comparison, regex, network and LIKE operators.
type CompareExpr struct {
	Span
	Field  Ident
	Op     Operator
	OpSpan Span
	Value  *Literal
}

// AnyExpr is Field Op ANY (Values...): true when the predicate holds for any value.
type AnyExpr struct {
	Span
	Field  Ident
	Op     Operator
	OpSpan Span
	Values []*Literal
}

// BetweenExpr is Field [NOT] BETWEEN Lo AND Hi.
type BetweenExpr struct {
	Span
	Field  Ident
	Not    bool
	Lo, Hi *Literal
}

// InExpr is Field [NOT] IN (Values...).
type InExpr struct {
	Span
	Field  Ident
	Not    bool
	Values []*Literal
}

// IsNullExpr is Field IS [NOT] NULL.
type IsNullExpr struct {
	Span
	Field Ident
	Not   bool
}

// BoolFieldExpr is a bare boolean field used as a predicate (weakCrypto AND NOT pqcKex).
type BoolFieldExpr struct {
	Span
	Field Ident
}

// LiteralKind tells how a literal was written.
type LiteralKind int

// Literal kinds.
const (
	StringLit    LiteralKind = iota // 'text' (untyped: read as the field's type)
	NumberLit                       // 42, -1.5, 1e3
	BoolLit                         // TRUE, FALSE
	NullLit                         // NULL
	InetLit                         // INET 'addr[/len]'
	TimestampLit                    // TIMESTAMP '...'
)

// Literal is a constant. Text is the number as written (with its sign), the unquoted
// content of a string, INET or TIMESTAMP literal, or TRUE/FALSE/NULL.
type Literal struct {
	Span
	Kind LiteralKind
	Text string
}

func (*LogicalExpr) exprNode()   {}
func (*NotExpr) exprNode()       {}
func (*ParenExpr) exprNode()     {}
func (*CompareExpr) exprNode()   {}
func (*AnyExpr) exprNode()       {}
func (*BetweenExpr) exprNode()   {}
func (*InExpr) exprNode()        {}
func (*IsNullExpr) exprNode()    {}
func (*BoolFieldExpr) exprNode() {}

// String prints the chain with single spaces around the operator.
func (e *LogicalExpr) String() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
		// Only hand-built trees need these parentheses; parsed ones carry ParenExpr.
		if l, ok := t.(*LogicalExpr); ok && (l.Op < e.Op || l.Op == e.Op && i > 0) {
			parts[i] = "(" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " "+e.Op.String()+" ")
}

// String prints NOT X.
func (e *NotExpr) String() string {
	if _, ok := e.X.(*LogicalExpr); ok {
		return "NOT (" + e.X.String() + ")"
	}
	return "NOT " + e.X.String()
}

// String prints (X).
func (e *ParenExpr) String() string { return "(" + e.X.String() + ")" }

// String prints field op value.
func (e *CompareExpr) String() string {
	return e.Field.Name + " " + e.Op.String() + " " + e.Value.String()
}

// String prints field op ANY (v, ...).
func (e *AnyExpr) String() string {
	return e.Field.Name + " " + e.Op.String() + " ANY (" + joinLiterals(e.Values) + ")"
}

// String prints field [NOT] BETWEEN lo AND hi.
func (e *BetweenExpr) String() string {
	return e.Field.Name + not(e.Not) + " BETWEEN " + e.Lo.String() + " AND " + e.Hi.String()
}

// String prints field [NOT] IN (v, ...).
func (e *InExpr) String() string {
	return e.Field.Name + not(e.Not) + " IN (" + joinLiterals(e.Values) + ")"
}

// String prints field IS [NOT] NULL.
func (e *IsNullExpr) String() string { return e.Field.Name + " IS" + not(e.Not) + " NULL" }

// String prints the field name.
func (e *BoolFieldExpr) String() string { return e.Field.Name }

// String prints the literal in canonical form: strings in single quotes (a quote inside
// doubled), typed literals with their keyword, TRUE/FALSE/NULL in upper case, numbers
// as written.
func (l *Literal) String() string {
	switch l.Kind {
	case NumberLit, BoolLit, NullLit:
		return l.Text
	case InetLit:
		return "INET " + quoteString(l.Text)
	case TimestampLit:
		return "TIMESTAMP " + quoteString(l.Text)
	}
	return quoteString(l.Text)
}

func not(b bool) string {
	if b {
		return " NOT"
	}
	return ""
}

func joinLiterals(ls []*Literal) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return strings.Join(parts, ", ")
}

// quoteString writes s as a SQL string literal, doubling the quotes inside it.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Walk calls fn for e and every expression below it, parents first, until fn returns false.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch n := e.(type) {
	case *LogicalExpr:
		for _, t := range n.Terms {
			Walk(t, fn)
		}
	case *NotExpr:
		Walk(n.X, fn)
	case *ParenExpr:
		Walk(n.X, fn)
	}
}
