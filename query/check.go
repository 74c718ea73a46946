package query

import (
	"fmt"
	"math/big"
	"net/netip"
	"strings"
)

// checker type-checks an AST against one dataset and builds its Cond, collecting every
// error it can find (it keeps going after a bad predicate).
type checker struct {
	ds   Dataset
	src  string
	errs ErrorList
}

// Check type-checks a parsed filter against the fields of ds and returns its condition.
// Errors are an ErrorList with Param "filter".
func Check(ds Dataset, filter string, e Expr) (Cond, error) {
	c := checker{ds: ds, src: filter}
	cond := c.expr(e)
	if len(c.errs) > 0 {
		return nil, dedupe(c.errs)
	}
	return cond, nil
}

func (c *checker) fail(kind ErrorKind, sp Span, msg, hint string) {
	c.errs = append(c.errs, errAt(kind, ParamFilter, c.src, sp.Pos, sp.End, msg, hint))
}

func (c *checker) expr(e Expr) Cond {
	switch n := e.(type) {
	case *LogicalExpr:
		terms := make([]Cond, len(n.Terms))
		for i, t := range n.Terms {
			terms[i] = c.expr(t)
		}
		if n.Op == OpAnd {
			return &AndCond{Terms: terms}
		}
		return &OrCond{Terms: terms}
	case *NotExpr:
		return &NotCond{X: c.expr(n.X)}
	case *ParenExpr:
		return c.expr(n.X)
	case *IsNullExpr:
		f, ok := c.field(n.Field)
		if !ok {
			return nil
		}
		return &IsNullCond{Field: f, Not: n.Not}
	case *BoolFieldExpr:
		return c.boolField(n)
	case *CompareExpr:
		return c.predicate(n.Field, func(s Subject) Cond { return c.compare(s, n.Op, n.OpSpan, n.Value) })
	case *AnyExpr:
		return c.predicate(n.Field, func(s Subject) Cond { return c.anyOf(s, n) })
	case *BetweenExpr:
		return c.predicate(n.Field, func(s Subject) Cond { return c.between(s, n) })
	case *InExpr:
		return c.predicate(n.Field, func(s Subject) Cond { return c.in(s, n) })
	}
	return nil
}

// field resolves a name, reporting unknown fields with suggestions.
func (c *checker) field(id Ident) (Field, bool) {
	f, ok := LookupField(c.ds, id.Name)
	if !ok {
		c.fail(UnknownFieldError, id.Span, fmt.Sprintf("unknown field %q in dataset %s", id.Name, c.ds), fieldHint(c.ds, id.Name))
	}
	return f, ok
}

// predicate resolves the field and builds the scalar condition; for a list field the
// condition is about one element and is wrapped in AnyElemCond.
func (c *checker) predicate(id Ident, build func(Subject) Cond) Cond {
	f, ok := c.field(id)
	if !ok {
		return nil
	}
	if f.Type == StringList {
		inner := build(Subject{Field: f, Elem: true})
		if inner == nil {
			return nil
		}
		return &AnyElemCond{Field: f, Cond: inner}
	}
	return build(Subject{Field: f})
}

func (c *checker) boolField(n *BoolFieldExpr) Cond {
	f, ok := c.field(n.Field)
	if !ok {
		return nil
	}
	if f.Type != Bool {
		c.fail(TypeError, n.Span, fmt.Sprintf("%s is a %s field, not a condition", f.Name, f.Type),
			"compare it with a value, e.g. "+f.Name+" = ..., or test "+f.Name+" IS NOT NULL")
		return nil
	}
	return &CmpCond{Subject: Subject{Field: f}, Op: OpEq, Value: true}
}

// elemType is the type a predicate on s compares values with.
func elemType(s Subject) Type {
	if s.Elem {
		return String
	}
	return s.Field.Type
}

func typeName(s Subject) string {
	if s.Elem {
		return fmt.Sprintf("%s is a list<string> field (predicates test its string elements)", s.Field.Name)
	}
	return fmt.Sprintf("%s is %s %s field", s.Field.Name, article(string(s.Field.Type)), s.Field.Type)
}

func article(w string) string {
	if strings.IndexByte("aeiou", w[0]) >= 0 {
		return "an"
	}
	return "a"
}

// compare checks Subject Op Value for every binary operator.
func (c *checker) compare(s Subject, op Operator, opSpan Span, v *Literal) Cond {
	t := elemType(s)
	switch {
	case op.isRegex():
		return c.regex(s, op, opSpan, v)
	case op.isLike():
		return c.like(s, op, opSpan, v)
	case op.isNetwork():
		if t != IP {
			c.fail(TypeError, opSpan, fmt.Sprintf("operator %s needs an ip field; %s", op, typeName(s)), "")
			return nil
		}
		p, ok := c.inetValue(s, v)
		if !ok {
			return nil
		}
		if v.Kind == NullLit {
			return &NullCond{}
		}
		return networkCond(s, op, p)
	}
	val, ok := c.value(s, v)
	if !ok {
		return nil
	}
	return scalarCmp(s, op, val)
}

// scalarCmp builds Subject op val for a converted value (see value).
func scalarCmp(s Subject, op Operator, val any) Cond {
	switch x := val.(type) {
	case netip.Prefix:
		return ipCompare(s, op, x)
	case *big.Rat:
		return intRatCmp(s, op, x)
	case nullIP:
		return &NullCond{}
	}
	return &CmpCond{Subject: s, Op: op, Value: val}
}

// nullIP is the value of a NULL compared with an ip field: the comparison is NULL.
type nullIP struct{}

// value converts a literal to the Go value of the subject's type, as PostgreSQL reads an
// untyped literal as the type of the other operand. Numbers compared with int fields
// that are not integers come back as *big.Rat; ip values as netip.Prefix.
func (c *checker) value(s Subject, v *Literal) (any, bool) {
	t := elemType(s)
	if v.Kind == NullLit {
		if t == IP {
			return nullIP{}, true
		}
		return nil, true
	}
	mismatch := func() (any, bool) {
		c.fail(TypeError, v.Span, fmt.Sprintf("%s; %s is %s", typeName(s), v, describeLiteral(v)), literalHint(t, v))
		return nil, false
	}
	bad := func(err error) (any, bool) {
		c.fail(TypeError, v.Span, err.Error(), "")
		return nil, false
	}
	switch t {
	case String:
		if v.Kind != StringLit {
			return mismatch()
		}
		return v.Text, true
	case Int:
		return c.intValue(s, v, mismatch, bad)
	case Float:
		switch v.Kind {
		case NumberLit:
			r, err := parseNumber(v.Text)
			if err != nil {
				return bad(err)
			}
			f, _ := r.Float64()
			return f, true
		case StringLit:
			f, err := parseFloatString(v.Text)
			if err != nil {
				return bad(err)
			}
			return f, true
		}
		return mismatch()
	case Bool:
		switch v.Kind {
		case BoolLit:
			return v.Text == "TRUE", true
		case StringLit:
			b, err := parseBoolString(v.Text)
			if err != nil {
				return bad(err)
			}
			return b, true
		}
		return mismatch()
	case IP:
		if v.Kind != StringLit && v.Kind != InetLit {
			return mismatch()
		}
		p, err := parseInet(v.Text)
		if err != nil {
			return bad(err)
		}
		return p, true
	case Timestamp:
		if v.Kind != StringLit && v.Kind != TimestampLit {
			return mismatch()
		}
		ts, err := parseTimestampLiteral(v.Text, v.Kind == TimestampLit)
		if err != nil {
			return bad(err)
		}
		return ts, true
	}
	return mismatch()
}

func (c *checker) intValue(s Subject, v *Literal, mismatch func() (any, bool), bad func(error) (any, bool)) (any, bool) {
	switch v.Kind {
	case NumberLit:
		r, err := parseNumber(v.Text)
		if err != nil {
			return bad(err)
		}
		if !r.IsInt() {
			// Still exact: the comparison is rewritten against the neighbouring integers.
			if _, ok := ratToInt64(new(big.Rat).SetInt(ratFloor(r))); !ok {
				return bad(fmt.Errorf("number %s is out of range for int field %s (64-bit)", v.Text, s.Field.Name))
			}
			if _, ok := ratToInt64(new(big.Rat).SetInt(ratCeil(r))); !ok {
				return bad(fmt.Errorf("number %s is out of range for int field %s (64-bit)", v.Text, s.Field.Name))
			}
			return r, true
		}
		n, ok := ratToInt64(r)
		if !ok {
			return bad(fmt.Errorf("number %s is out of range for int field %s (64-bit)", v.Text, s.Field.Name))
		}
		return n, true
	case StringLit:
		n, err := parseIntString(v.Text)
		if err != nil {
			return bad(err)
		}
		return n, true
	}
	return mismatch()
}

func describeLiteral(v *Literal) string {
	switch v.Kind {
	case StringLit:
		return "a string"
	case NumberLit:
		return "a number"
	case BoolLit:
		return "a boolean"
	case InetLit:
		return "an INET value"
	case TimestampLit:
		return "a TIMESTAMP value"
	}
	return "NULL"
}

func literalHint(t Type, v *Literal) string {
	switch {
	case t == String && v.Kind != StringLit:
		return "quote text values: " + quoteString(v.Text)
	case t == IP:
		return "write an address as INET '10.0.0.1' or INET '10.0.0.0/8'"
	case t == Timestamp:
		return "write a time as TIMESTAMP '2026-01-02T15:04:05Z' or '2026-01-02'"
	case t == Bool:
		return "use TRUE or FALSE"
	case t == Int || t == Float:
		return "use a number"
	}
	return ""
}

// inetValue converts the right operand of a network operator.
func (c *checker) inetValue(s Subject, v *Literal) (netip.Prefix, bool) {
	if v.Kind == NullLit {
		return netip.Prefix{}, true
	}
	val, ok := c.value(s, v)
	if !ok {
		return netip.Prefix{}, false
	}
	return val.(netip.Prefix), true
}

func (c *checker) regex(s Subject, op Operator, opSpan Span, v *Literal) Cond {
	if elemType(s) != String {
		c.fail(TypeError, opSpan, fmt.Sprintf("regular expression operator %s needs a string field; %s", op, typeName(s)), "")
		return nil
	}
	fold := op == OpIMatch || op == OpNotIMatch
	rc := &RegexCond{Subject: s, Fold: fold}
	switch v.Kind {
	case NullLit:
	case StringLit:
		pat, pe := checkRegex(v.Text, fold)
		if pe != nil {
			c.patternFail(v, pe)
			return nil
		}
		rc.Pattern, rc.Source, rc.Literal = pat, v.Text, regexLiteral(v.Text)
	default:
		c.fail(TypeError, v.Span, fmt.Sprintf("a regular expression must be a string; %s is %s", v, describeLiteral(v)), "")
		return nil
	}
	if op == OpNotMatch || op == OpNotIMatch {
		return &NotCond{X: rc}
	}
	return rc
}

func (c *checker) like(s Subject, op Operator, opSpan Span, v *Literal) Cond {
	if elemType(s) != String {
		c.fail(TypeError, opSpan, fmt.Sprintf("%s needs a string field; %s", op, typeName(s)), "")
		return nil
	}
	lc := &LikeCond{Subject: s, Fold: op == OpILike || op == OpNotILike}
	switch v.Kind {
	case NullLit:
	case StringLit:
		if pe := checkLike(v.Text); pe != nil {
			c.patternFail(v, pe)
			return nil
		}
		lc.Pattern = v.Text
	default:
		c.fail(TypeError, v.Span, fmt.Sprintf("a LIKE pattern must be a string; %s is %s", v, describeLiteral(v)), "")
		return nil
	}
	if op == OpNotLike || op == OpNotILike {
		return &NotCond{X: lc}
	}
	return lc
}

// patternFail reports a pattern error at its place inside the string literal.
func (c *checker) patternFail(v *Literal, pe *patternError) {
	pos := literalOffset(c.src, v, pe.Off)
	end := literalOffset(c.src, v, pe.Off+pe.Len)
	c.fail(TypeError, Span{pos, end}, pe.Msg, pe.Hint)
}

// literalOffset maps byte i of a string literal's text to its offset in src, skipping the
// opening quote and counting each doubled quote as one byte of text.
func literalOffset(src string, v *Literal, i int) int {
	q := strings.IndexByte(src[v.Pos:v.End], '\'')
	if q < 0 {
		return v.Pos
	}
	off := v.Pos + q + 1
	for n := 0; n < i && off < v.End-1; n++ {
		if src[off] == '\'' {
			off++
		}
		off++
	}
	return off
}

func (c *checker) between(s Subject, n *BetweenExpr) Cond {
	lo, ok1 := c.value(s, n.Lo)
	hi, ok2 := c.value(s, n.Hi)
	if !ok1 || !ok2 {
		return nil
	}
	// PostgreSQL defines x BETWEEN a AND b as x >= a AND x <= b.
	cond := Cond(&AndCond{Terms: []Cond{scalarCmp(s, OpGe, lo), scalarCmp(s, OpLe, hi)}})
	if n.Not {
		cond = &NotCond{X: cond}
	}
	return cond
}

func (c *checker) in(s Subject, n *InExpr) Cond {
	vals := make([]any, 0, len(n.Values))
	ok := true
	for _, v := range n.Values {
		val, vok := c.value(s, v)
		ok = ok && vok
		vals = append(vals, val)
	}
	if !ok {
		return nil
	}
	var cond Cond
	switch elemType(s) {
	case IP, Int:
		// x IN (a, b) is x = a OR x = b, in three-valued logic too; these types need the
		// per-value rewrites of scalarCmp.
		cond = inAsOr(s, vals)
	default:
		cond = &InCond{Subject: s, Values: vals}
	}
	if n.Not {
		cond = &NotCond{X: cond}
	}
	return cond
}

// inAsOr builds x IN (...) for ip and int subjects: ip needs family-aware equality, and
// int values that are not integers can never be equal (dropped), leaving plain IN lists.
func inAsOr(s Subject, vals []any) Cond {
	var plain []any
	var terms []Cond
	for _, v := range vals {
		switch v.(type) {
		case netip.Prefix, nullIP:
			terms = append(terms, scalarCmp(s, OpEq, v))
		case *big.Rat:
			// never equal to an integer: contributes FALSE to the OR
		default:
			plain = append(plain, v)
		}
	}
	if len(plain) > 0 {
		terms = append(terms, &InCond{Subject: s, Values: plain})
	}
	switch len(terms) {
	case 0:
		return &ConstCond{Subject: s, Value: false}
	case 1:
		return terms[0]
	}
	return &OrCond{Terms: terms}
}

func (c *checker) anyOf(s Subject, n *AnyExpr) Cond {
	if n.Op == OpEq {
		// x = ANY (a, b) is x IN (a, b), which runs as one IN list.
		return c.in(s, &InExpr{Span: n.Span, Field: n.Field, Values: n.Values})
	}
	terms := make([]Cond, 0, len(n.Values))
	ok := true
	for _, v := range n.Values {
		t := c.compare(s, n.Op, n.OpSpan, v)
		if t == nil {
			ok = false
			if !n.Op.isNetwork() && !n.Op.isComparison() {
				break // regex/LIKE operator errors repeat per value
			}
			continue
		}
		terms = append(terms, t)
	}
	if !ok {
		return nil
	}
	// x op ANY (a, b) has exactly the three-valued result of x op a OR x op b.
	if len(terms) == 1 {
		return terms[0]
	}
	if n.Op.isNetwork() {
		return mergeRanges(terms)
	}
	return &OrCond{Terms: terms}
}

// fieldHint suggests close names, or says which other dataset has the field.
func fieldHint(ds Dataset, name string) string {
	for _, other := range Datasets {
		if _, ok := LookupField(other, name); ok && other != ds {
			return fmt.Sprintf("%s is a field of the %s dataset", name, other)
		}
	}
	return didYouMean(ds, name)
}

// dedupe drops repeated errors (an operator error repeats for every value of ANY (...)).
func dedupe(errs ErrorList) ErrorList {
	type key struct {
		off int
		msg string
	}
	seen := map[key]bool{}
	out := errs[:0]
	for _, e := range errs {
		k := key{e.Offset, e.Message}
		if !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}
