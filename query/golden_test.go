package query

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type goldenCase struct {
	name string
	req  Request
}

var discoveryGolden = []goldenCase{
	{"no filter, all columns", Request{Dataset: Discovery}},
	{"key predicate before the rollup", Request{Dataset: Discovery, Filter: "cipherKex = 'ECDHE' AND serverPort IN (443, 8443)", Columns: []string{"serverIp", "serverPort", "cipherKex"}}},
	{"aggregate predicate after the rollup", Request{Dataset: Discovery, Filter: "cipherKex = 'ECDHE' AND byteVolume > 1000000", Columns: []string{"serverIp", "byteVolume"}, Sorts: []Sort{{"byteVolume", true}}, Limit: 100, Offset: 200}},
	{"mixed OR stays after the rollup", Request{Dataset: Discovery, Filter: "serverPort = 443 OR connectionCount >= 10", Columns: []string{"serverPort", "connectionCount"}}},
	{"time frame", Request{Dataset: Discovery, Columns: []string{"serverName", "firstSeen", "lastSeen"},
		TimeFrame: TimeFrame{Begin: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 2, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))}}},
	{"regex, literal ~* as ILIKE", Request{Dataset: Discovery, Filter: "serviceName ~* 'mysql' AND serverName ~ '^db[0-9]+\\.' AND serverName !~* 'test' AND clientName ~* 'admin'", Columns: []string{"serviceName"}}},
	{"LIKE and ILIKE", Request{Dataset: Discovery, Filter: "serverName LIKE '%.example.com' AND serverName NOT ILIKE 'WWW.%' AND serverName LIKE 'a\\_b'", Columns: []string{"serverName"}}},
	{"cidr", Request{Dataset: Discovery, Filter: "serverIp <<= INET '10.10.0.0/16' AND clientIp << '2001:db8::/32' AND clientIp && '10.1.2.3/8'", Columns: []string{"serverIp", "clientIp"}}},
	{"cidr constant outcomes", Request{Dataset: Discovery, Filter: "serverIp >> '10.0.0.0/8' OR serverIp << '10.0.0.1' OR serverIp >>= '10.0.0.1' OR serverIp >>= '10.0.0.0/8'", Columns: []string{"serverIp"}}},
	{"subnet list", Request{Dataset: Discovery, Filter: "serverIp <<= ANY (INET '10.0.0.0/8', INET '10.1.0.0/16', '11.0.0.0/8', '192.168.0.0/16', '::1')", Columns: []string{"serverIp"}}},
	{"long subnet list as set lookups", Request{Dataset: Discovery, Filter: "serverIp <<= ANY ('10.0.0.0/8', '12.0.0.0/8', '14.1.0.0/16', '14.3.0.0/16', '16.0.0.1', '18.0.0.0/8', '20.0.0.0/24', '22.0.0.0/8', '2001:db8::/32', '2001:dba::/32', '::ffff:10.0.0.0/104', NULL)", Columns: []string{"serverIp"}}},
	{"ip comparisons", Request{Dataset: Discovery, Filter: "serverIp = '10.0.0.1' AND serverIp <> '::ffff:10.0.0.1' AND serverIp > '10.0.0.0/8' AND serverIp <= '::1' AND clientIp IN ('10.0.0.1', '10.0.0.0/8', NULL)", Columns: []string{"serverIp"}, Sorts: []Sort{{"serverIp", true}}}},
	{"list any-element", Request{Dataset: Discovery, Filter: "weakReasons = 'export' OR weakReasons LIKE '%RC4%' OR NOT weakReasons ~ 'SSL' OR weakReasons IS NULL", Columns: []string{"weakReasons"}}},
	{"between, not between, not in", Request{Dataset: Discovery, Filter: "serverPort BETWEEN 1 AND 1023.5 AND serverPort NOT BETWEEN 100 AND 200 AND tlsVersion NOT IN ('SSLv3', 'TLSv1.0')", Columns: []string{"serverPort"}}},
	{"nulls and booleans", Request{Dataset: Discovery, Filter: "weakCrypto AND NOT pqcKex AND serverName IS NOT NULL AND certFingerprint = NULL AND forwardSecrecy = 'no'", Columns: []string{"weakCrypto"}}},
	{"timestamps", Request{Dataset: Discovery, Filter: "firstSeen >= '2026-01-01' AND lastSeen < '2026-03-01T12:00:00+02:00'", Columns: []string{"firstSeen", "lastSeen"}, Sorts: []Sort{{"lastSeen", false}, {"serverName", true}}}},
	{"slice of the flow table", Request{Dataset: Discovery, Filter: "cipherKex = 'ECDHE' AND byteVolume > 1000", Columns: []string{"serverIp", "byteVolume"}, AnyOrder: true, Slice: &RowSlice{50_000, 100_000}}},
	{"time frame, sorted", Request{Dataset: Discovery, Columns: []string{"serverIp", "byteVolume"}, Sorts: []Sort{{"byteVolume", true}},
		TimeFrame: TimeFrame{Begin: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	{"int decimals", Request{Dataset: Discovery, Filter: "serverPort > 442.5 AND serverPort <= 443.9 AND serverPort = 443.5 AND packetCount <> -0.5", Columns: []string{"serverPort"}}},
}

var certGolden = []goldenCase{
	{"no filter", Request{Dataset: Cert}},
	{"slice", Request{Dataset: Cert, Columns: []string{"certFingerprint"}, AnyOrder: true, Slice: &RowSlice{0, 50_000}}},
	{"text regex", Request{Dataset: Cert, Filter: "certTxt ~* 'DNS:\\s*([^.]+\\.)*example\\.com'", Columns: []string{"certFingerprint", "certCommonName"}}},
	{"alt names", Request{Dataset: Cert, Filter: "certAltNames ILIKE '%.example.org' AND certPublicKeySize < 2048", Columns: []string{"certAltNames"}, Sorts: []Sort{{"certPublicKeySize", false}}, Limit: 10}},
	{"validity", Request{Dataset: Cert, Filter: "certNotValidAfterEpochSecs < 1767225600 AND certIsCa = FALSE AND certSource IN ('traffic', 'file')", Columns: []string{"certCommonName", "certNotValidAfterEpochSecs"}, Sorts: []Sort{{"certNotValidAfterEpochSecs", false}}}},
	{"time frame is ignored", Request{Dataset: Cert, Columns: []string{"certFingerprint"}, TimeFrame: TimeFrame{Begin: time.Unix(0, 0)}}},
	{"any order: no ORDER BY", Request{Dataset: Cert, Columns: []string{"certFingerprint"}, AnyOrder: true}},
	{"any order keeps requested sorts and the tie-break", Request{Dataset: Cert, Columns: []string{"certFingerprint"}, Sorts: []Sort{{"certPublicKeySize", true}}, AnyOrder: true}},
}

func TestGoldenSQL(t *testing.T) {
	for _, g := range []struct {
		file  string
		cases []goldenCase
	}{{"discovery.golden", discoveryGolden}, {"cert.golden", certGolden}} {
		var b strings.Builder
		for _, c := range g.cases {
			fmt.Fprintf(&b, "### %s\n", c.name)
			fmt.Fprintf(&b, "filter: %s\ncolumns: %v sorts: %v limit: %d offset: %d\n", c.req.Filter, c.req.Columns, c.req.Sorts, c.req.Limit, c.req.Offset)
			if c.req.AnyOrder {
				b.WriteString("anyOrder: true\n")
			}
			compilers := []func(Request, Dialect) (*Statement, error){Compile, CompileCount}
			if s := c.req.Slice; s != nil {
				fmt.Fprintf(&b, "slice: [%d, %d)\n", s.From, s.To)
				compilers = append(compilers, CompileExtent)
			}
			if len(c.req.Sorts) > 0 && c.req.Limit == 0 && c.req.Offset == 0 {
				compilers = append(compilers, CompileNumbered) // a sorted export's positions
			}
			for _, compile := range compilers {
				st, err := compile(c.req, DuckDB)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				fmt.Fprintf(&b, "sql: %s\nargs: %s\n", st.SQL, formatArgs(st.Args))
				if strings.Count(st.SQL, "?") != len(st.Args) {
					t.Errorf("%s: %d placeholders, %d args", c.name, strings.Count(st.SQL, "?"), len(st.Args))
				}
			}
			b.WriteString("\n")
		}
		path := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./query/ -run TestGoldenSQL -update)", err)
		}
		if got := b.String(); got != string(want) {
			t.Errorf("%s differs; rerun with -update and review the diff:\n%s", path, firstDiff(got, string(want)))
		}
	}
}

func formatArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if tm, ok := a.(time.Time); ok {
			parts[i] = "time(" + tm.Format(time.RFC3339Nano) + ")"
			continue
		}
		parts[i] = fmt.Sprintf("%T(%v)", a, a)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, gl, wl)
		}
	}
	return ""
}
