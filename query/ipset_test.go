package query

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestRangeBlocks(t *testing.T) {
	for _, tc := range []struct {
		first, last string
		want        string
	}{
		{"10.0.0.0", "10.0.0.2", "[10.0.0.0/31 10.0.0.2/32]"},
		{"10.0.0.0", "10.255.255.255", "[10.0.0.0/8]"},
		{"0.0.0.0", "255.255.255.255", "[0.0.0.0/0]"},
		{"0.0.0.1", "0.0.0.6", "[0.0.0.1/32 0.0.0.2/31 0.0.0.4/31 0.0.0.6/32]"},
		{"::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "[::/0]"},
		{"::ffff:10.0.0.0", "::ffff:10.255.255.255", "[::ffff:10.0.0.0/104]"},
		{"2001:db8::", "2001:db8:0:1::", "[2001:db8::/64 2001:db8:0:1::/128]"},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127]"},
	} {
		got := fmt.Sprint(blockStrings(rangeBlocks(netip.MustParseAddr(tc.first), netip.MustParseAddr(tc.last))))
		if got != tc.want {
			t.Errorf("rangeBlocks(%s, %s) = %s, want %s", tc.first, tc.last, got, tc.want)
		}
	}
}

func blockStrings(bs []cidrBlock) []string {
	var out []string
	for _, b := range bs {
		out = append(out, netip.PrefixFrom(b.first, b.bits).String())
	}
	return out
}

// TestRangeBlocksCover checks on random IPv4 ranges that the blocks are aligned, adjacent
// and cover exactly the range, and that networkKey identifies each block's members.
func TestRangeBlocksCover(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		a, b := r.Uint32(), r.Uint32()
		if a > b {
			a, b = b, a
		}
		first, last := addr4(a), addr4(b)
		next := first
		for _, blk := range rangeBlocks(first, last) {
			p := netip.PrefixFrom(blk.first, blk.bits)
			if blk.first != next || p.Masked().Addr() != blk.first {
				t.Fatalf("[%s, %s]: block %s not aligned or not adjacent to %s", first, last, p, next)
			}
			lo, hi := PrefixRange(p)
			shift := 32 - blk.bits
			if networkKey(lo, shift).Cmp(networkKey(hi, shift)) != 0 || networkKey(lo.Prev(), shift).Cmp(networkKey(lo, shift)) == 0 && lo.IsValid() && lo != addr4(0) {
				t.Fatalf("networkKey does not delimit %s", p)
			}
			next = hi.Next()
		}
		if last != addr4(^uint32(0)) && next != last.Next() {
			t.Fatalf("[%s, %s]: blocks end before %s", first, last, next)
		}
	}
}

func addr4(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
