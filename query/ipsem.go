package query

import (
	"cmp"
	"math/big"
	"net/netip"
	"slices"
)

// Exact rewrites of predicates whose value is not directly comparable with the stored
// column: inet operators on stored host addresses, and int fields against decimals.
//
// Stored ip values are always host addresses (/32 or /128). PostgreSQL's inet order
// compares family, then the network bits under the shorter mask, then the mask length,
// then the whole address. Against a literal L with a shorter mask, a host H therefore
// sorts before L when H is below L's first address and after L otherwise (same family).

// ipCompare is H op L for a comparison operator.
func ipCompare(s Subject, op Operator, p netip.Prefix) Cond {
	addr := p.Addr()
	if p.Bits() == addr.BitLen() {
		return &IPCmpCond{Field: s.Field, Op: op, Addr: addr}
	}
	first, _ := PrefixRange(p)
	switch op {
	case OpGt, OpGe:
		return &IPCmpCond{Field: s.Field, Op: OpGe, Addr: first}
	case OpLt, OpLe:
		return &IPCmpCond{Field: s.Field, Op: OpLt, Addr: first}
	case OpEq:
		return &ConstCond{Subject: s, Value: false} // mask lengths differ
	}
	return &ConstCond{Subject: s, Value: true} // OpNe
}

// networkCond is H op L for the inet operators << <<= >> >>= &&.
func networkCond(s Subject, op Operator, p netip.Prefix) Cond {
	host := p.Bits() == p.Addr().BitLen()
	first, last := PrefixRange(p)
	inRange := &IPRangeCond{Field: s.Field, First: first, Last: last}
	switch op {
	case OpContainedBy: // strictly inside: L's mask must be shorter than H's
		if host {
			return &ConstCond{Subject: s, Value: false}
		}
		return inRange
	case OpContainedEq, OpOverlaps: // a host overlaps L exactly when it lies in L
		return inRange
	case OpContains: // a host contains nothing strictly smaller than itself
		return &ConstCond{Subject: s, Value: false}
	}
	// OpContainsEq: a host contains only itself
	if host {
		return &IPCmpCond{Field: s.Field, Op: OpEq, Addr: p.Addr()}
	}
	return &ConstCond{Subject: s, Value: false}
}

// mergeRanges simplifies the OR of network conditions from one ANY list: ranges of the
// same family that overlap or touch become one, constant-false terms drop out. The
// result is the same three-valued value (the terms share one subject).
func mergeRanges(terms []Cond) Cond {
	var ranges []*IPRangeCond
	var rest []Cond
	var falseTerm Cond
	for _, t := range terms {
		switch n := t.(type) {
		case *IPRangeCond:
			ranges = append(ranges, n)
		case *IPCmpCond: // OpEq from >>=: a one-address range
			ranges = append(ranges, &IPRangeCond{Field: n.Field, First: n.Addr, Last: n.Addr})
		case *ConstCond:
			falseTerm = n
		default:
			rest = append(rest, n)
		}
	}
	slices.SortFunc(ranges, func(a, b *IPRangeCond) int {
		return cmp.Or(cmp.Compare(a.First.BitLen(), b.First.BitLen()), a.First.Compare(b.First))
	})
	var out []Cond
	var cur *IPRangeCond
	for _, r := range ranges {
		if cur != nil && cur.First.BitLen() == r.First.BitLen() &&
			(r.First.Compare(cur.Last) <= 0 || cur.Last.Next() == r.First) {
			if r.Last.Compare(cur.Last) > 0 {
				cur.Last = r.Last
			}
			continue
		}
		cur = &IPRangeCond{Field: r.Field, First: r.First, Last: r.Last}
		out = append(out, cur)
	}
	out = append(out, rest...)
	switch len(out) {
	case 0:
		return falseTerm
	case 1:
		return out[0]
	}
	return &OrCond{Terms: out}
}

func ratFloor(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	_ = m // Euclidean division with a positive denominator floors
	return q
}

func ratCeil(r *big.Rat) *big.Int {
	q := ratFloor(r)
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// intRatCmp is x op r for an int subject and a non-integer r, rewritten against the
// integers around r (the checker made sure they fit in int64).
func intRatCmp(s Subject, op Operator, r *big.Rat) Cond {
	fl, ce := ratFloor(r).Int64(), ratCeil(r).Int64()
	switch op {
	case OpGt, OpLe:
		return &CmpCond{Subject: s, Op: op, Value: fl} // x > 1.5 is x > 1; x <= 1.5 is x <= 1
	case OpGe, OpLt:
		return &CmpCond{Subject: s, Op: op, Value: ce} // x >= 1.5 is x >= 2; x < 1.5 is x < 2
	case OpEq:
		return &ConstCond{Subject: s, Value: false}
	}
	return &ConstCond{Subject: s, Value: true}
}
