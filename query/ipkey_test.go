package query

import (
	"net/netip"
	"testing"
)

func TestKeyOfOrdersLikeAddresses(t *testing.T) {
	addrs := []string{"0.0.0.0", "10.0.0.1", "255.255.255.255"}
	v6 := []string{"::", "::1", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}
	check := func(list []string, fam uint8) {
		for i := 1; i < len(list); i++ {
			a, b := KeyOf(netip.MustParseAddr(list[i-1])), KeyOf(netip.MustParseAddr(list[i]))
			if a.Family != fam || b.Family != fam {
				t.Fatalf("%s/%s: family %d/%d, want %d", list[i-1], list[i], a.Family, b.Family, fam)
			}
			if a.Number().Cmp(b.Number()) >= 0 {
				t.Errorf("%s (%s) not below %s (%s)", list[i-1], a.Decimal(), list[i], b.Decimal())
			}
		}
	}
	check(addrs, 4)
	check(v6, 6)
	if got := KeyOf(netip.MustParseAddr("::")).Decimal(); got != "-170141183460469231731687303715884105728" {
		t.Errorf(":: = %s, want the HUGEINT minimum", got)
	}
}

func TestPrefixRange(t *testing.T) {
	for _, tc := range []struct{ prefix, first, last string }{
		{"10.1.2.3/8", "10.0.0.0", "10.255.255.255"},
		{"10.1.2.3/32", "10.1.2.3", "10.1.2.3"},
		{"0.0.0.0/0", "0.0.0.0", "255.255.255.255"},
		{"2001:db8::1/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"::ffff:10.0.0.0/104", "::ffff:10.0.0.0", "::ffff:10.255.255.255"},
	} {
		f, l := PrefixRange(netip.MustParsePrefix(tc.prefix))
		if f.String() != tc.first || l.String() != tc.last {
			t.Errorf("PrefixRange(%s) = %s..%s, want %s..%s", tc.prefix, f, l, tc.first, tc.last)
		}
	}
}
