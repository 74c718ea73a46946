package query

import (
	"encoding/binary"
	"math/big"
	"math/bits"
	"net/netip"
)

// Decomposition of address ranges into CIDR blocks, so that a long list of subnets can be
// tested with one hash lookup per distinct prefix length instead of one range test per
// subnet: an address is in the family-f /b network n exactly when
// fam = f AND num >> (maxbits-b) = key(n) >> (maxbits-b), the shift being arithmetic.

// cidrBlock is one aligned block: its first address and prefix length.
type cidrBlock struct {
	first netip.Addr
	bits  int
}

// u128 is an unsigned 128-bit number (hi, lo).
type u128 struct{ hi, lo uint64 }

func u128Of(a netip.Addr) u128 {
	b := a.As16()
	if a.Is4() {
		return u128{0, uint64(binary.BigEndian.Uint32(b[12:]))}
	}
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func (u u128) addr(is4 bool) netip.Addr {
	if is4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(u.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) trailingZeros() int {
	if u.lo != 0 {
		return bits.TrailingZeros64(u.lo)
	}
	if u.hi != 0 {
		return 64 + bits.TrailingZeros64(u.hi)
	}
	return 128
}

// addPow adds 2^n, reporting overflow past 2^128.
func (u u128) addPow(n int) (u128, bool) {
	var add u128
	if n >= 64 {
		add.hi = 1 << (n - 64)
	} else {
		add.lo = 1 << n
	}
	lo, c := bits.Add64(u.lo, add.lo, 0)
	hi, c2 := bits.Add64(u.hi, add.hi, c)
	return u128{hi, lo}, c2 != 0
}

// lastOf returns the last address of the 2^n block starting at u.
func (u u128) lastOf(n int) u128 {
	switch {
	case n == 0:
		return u
	case n >= 128:
		return u128{^uint64(0), ^uint64(0)}
	case n >= 64:
		return u128{u.hi | (1<<(n-64) - 1), ^uint64(0)}
	}
	return u128{u.hi, u.lo | (1<<n - 1)}
}

func (u u128) cmp(v u128) int {
	switch {
	case u.hi != v.hi:
		if u.hi < v.hi {
			return -1
		}
		return 1
	case u.lo != v.lo:
		if u.lo < v.lo {
			return -1
		}
		return 1
	}
	return 0
}

// rangeBlocks splits [first, last] (one family, first <= last) into the fewest CIDR blocks.
func rangeBlocks(first, last netip.Addr) []cidrBlock {
	is4, width := first.Is4(), first.BitLen()
	cur, end := u128Of(first), u128Of(last)
	var out []cidrBlock
	for {
		n := min(cur.trailingZeros(), width)
		for n > 0 && cur.lastOf(n).cmp(end) > 0 {
			n--
		}
		out = append(out, cidrBlock{cur.addr(is4), width - n})
		if cur.lastOf(n).cmp(end) == 0 {
			return out
		}
		next, overflow := cur.addPow(n)
		if overflow {
			return out
		}
		cur = next
	}
}

// networkKey is key(first) >> shift, the value an address's stored number has after the
// same arithmetic shift when it lies in the block.
func networkKey(first netip.Addr, shift int) *big.Int {
	return new(big.Int).Rsh(KeyOf(first).Number(), uint(shift))
}
