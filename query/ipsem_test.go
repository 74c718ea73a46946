package query

import (
	"fmt"
	"strings"
	"testing"
)

// condString renders a Cond compactly for tests.
func condString(c Cond) string {
	join := func(ts []Cond, sep string) string {
		parts := make([]string, len(ts))
		for i, t := range ts {
			parts[i] = condString(t)
		}
		return "(" + strings.Join(parts, sep) + ")"
	}
	subj := func(s Subject) string {
		if s.Elem {
			return "elem"
		}
		return s.Field.Name
	}
	switch n := c.(type) {
	case *AndCond:
		return join(n.Terms, " AND ")
	case *OrCond:
		return join(n.Terms, " OR ")
	case *NotCond:
		return "NOT " + condString(n.X)
	case *NullCond:
		return "NULL"
	case *IsNullCond:
		return n.Field.Name + " IS" + not(n.Not) + " NULL"
	case *AnyElemCond:
		return "ANY(" + n.Field.Name + ": " + condString(n.Cond) + ")"
	case *CmpCond:
		return fmt.Sprintf("%s %s %#v", subj(n.Subject), n.Op, n.Value)
	case *InCond:
		return fmt.Sprintf("%s IN %#v", subj(n.Subject), n.Values)
	case *LikeCond:
		return fmt.Sprintf("%s LIKE(fold=%v) %#v", subj(n.Subject), n.Fold, n.Pattern)
	case *RegexCond:
		return fmt.Sprintf("%s REGEX(literal=%v) %#v", subj(n.Subject), n.Literal, n.Pattern)
	case *IPRangeCond:
		return fmt.Sprintf("%s IN [%s, %s]", n.Field.Name, n.First, n.Last)
	case *IPCmpCond:
		return fmt.Sprintf("%s %s %s", n.Field.Name, n.Op, n.Addr)
	case *ConstCond:
		return fmt.Sprintf("%s IS NULL ? NULL : %v", subj(n.Subject), n.Value)
	}
	return fmt.Sprintf("%T", c)
}

func TestCheckConditions(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		// inet: stored values are hosts; literals may carry a prefix length.
		{"serverIp <<= '10.1.2.3/8'", "serverIp IN [10.0.0.0, 10.255.255.255]"},
		{"serverIp << '10.0.0.0/8'", "serverIp IN [10.0.0.0, 10.255.255.255]"},
		{"serverIp << '10.0.0.1'", "serverIp IS NULL ? NULL : false"},
		{"serverIp <<= '10.0.0.1'", "serverIp IN [10.0.0.1, 10.0.0.1]"},
		{"serverIp >> '10.0.0.1'", "serverIp IS NULL ? NULL : false"},
		{"serverIp >>= '10.0.0.1'", "serverIp = 10.0.0.1"},
		{"serverIp >>= '10.0.0.0/8'", "serverIp IS NULL ? NULL : false"},
		{"serverIp && '10.0.0.0/8'", "serverIp IN [10.0.0.0, 10.255.255.255]"},
		{"serverIp <<= '::ffff:10.0.0.0/104'", "serverIp IN [::ffff:10.0.0.0, ::ffff:10.255.255.255]"},
		{"serverIp = '10.0.0.1'", "serverIp = 10.0.0.1"},
		{"serverIp = '10.0.0.1/8'", "serverIp IS NULL ? NULL : false"},
		{"serverIp <> '10.0.0.1/8'", "serverIp IS NULL ? NULL : true"},
		{"serverIp > '10.1.2.3/8'", "serverIp >= 10.0.0.0"},
		{"serverIp <= '10.1.2.3/8'", "serverIp < 10.0.0.0"},
		{"serverIp < INET '::1'", "serverIp < ::1"},
		{"serverIp = NULL", "NULL"},
		{"serverIp <<= NULL", "NULL"},
		{"serverIp <<= ANY ('10.0.0.0/9', '10.128.0.0/9', '10.0.0.1', '::/0', NULL)", "(serverIp IN [10.0.0.0, 10.255.255.255] OR serverIp IN [::, ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff] OR NULL)"},
		{"serverIp >> ANY ('10.0.0.0/9', '10.0.0.1')", "serverIp IS NULL ? NULL : false"},
		{"clientIp IN ('10.0.0.1', '10.0.0.0/8')", "(clientIp = 10.0.0.1 OR clientIp IS NULL ? NULL : false)"},
		// int fields against decimals are exact.
		{"serverPort > 442.5", "serverPort > 442"},
		{"serverPort >= 442.5", "serverPort >= 443"},
		{"serverPort < -0.5", "serverPort < 0"},
		{"serverPort <= -0.5", "serverPort <= -1"},
		{"serverPort = 1.5", "serverPort IS NULL ? NULL : false"},
		{"serverPort <> 1.5", "serverPort IS NULL ? NULL : true"},
		{"serverPort = 1e3", "serverPort = 1000"},
		{"serverPort IN (1.5, 2, '3')", "serverPort IN []interface {}{2, 3}"},
		{"serverPort IN (1.5)", "serverPort IS NULL ? NULL : false"},
		{"serverPort = ANY (1, 2)", "serverPort IN []interface {}{1, 2}"},
		{"serverPort BETWEEN 1 AND 2.5", "(serverPort >= 1 AND serverPort <= 2)"},
		{"serverPort NOT BETWEEN 1 AND NULL", "NOT (serverPort >= 1 AND serverPort <= <nil>)"},
		// strings, patterns, lists, booleans
		{"serviceName ~* 'mysql'", `serviceName REGEX(literal=true) "(?s)[Mm][Yy][Ss][Qq][Ll]"`},
		{"serviceName !~ 'a.b'", `NOT serviceName REGEX(literal=false) "(?s)a.b"`},
		{"serviceName ~* 'a.b'", `serviceName REGEX(literal=false) "(?s)[Aa].[Bb]"`},
		{"serviceName NOT ILIKE 'x%'", `NOT serviceName LIKE(fold=true) "x%"`},
		{"serviceName LIKE NULL", "serviceName LIKE(fold=false) <nil>"},
		{"weakReasons NOT LIKE '%RC4%'", `ANY(weakReasons: NOT elem LIKE(fold=false) "%RC4%")`},
		{"weakReasons IS NOT NULL", "weakReasons IS NOT NULL"},
		{"weakReasons BETWEEN 'a' AND 'b'", `ANY(weakReasons: (elem >= "a" AND elem <= "b"))`},
		{"weakCrypto AND NOT pqcKex", "(weakCrypto = true AND NOT pqcKex = true)"},
		{"weakCrypto = 'off'", "weakCrypto = false"},
	} {
		e, err := Parse(tc.filter)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		c, err := Check(Discovery, tc.filter, e)
		if err != nil {
			t.Errorf("Check(%q): %v", tc.filter, err)
			continue
		}
		if got := condString(c); got != tc.want {
			t.Errorf("Check(%q) =\n  %s\nwant\n  %s", tc.filter, got, tc.want)
		}
	}
}
