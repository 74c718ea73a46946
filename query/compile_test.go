package query

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseSort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Sort
		err  string
		off  int
	}{
		{"byteVolume desc", Sort{"byteVolume", true}, "", 0},
		{"  serverName   ASC ", Sort{"serverName", false}, "", 0},
		{"x DeSc", Sort{"x", true}, "", 0},
		{"byteVolume", Sort{}, `sorts:1:11: sort "byteVolume" has no direction`, 10},
		{"byteVolume down", Sort{}, `sorts:1:12: sort direction "down" is neither asc nor desc`, 11},
		{"a asc b", Sort{}, `sorts:1:7: unexpected "b" after the sort direction`, 6},
		{"", Sort{}, "sorts:1:1: empty sort", 0},
	} {
		got, err := ParseSort(tc.in)
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("ParseSort(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if again, _ := ParseSort(got.String()); again != got {
				t.Errorf("ParseSort(%q).String() does not round-trip", tc.in)
			}
			continue
		}
		var list ErrorList
		if !errors.As(err, &list) || err.Error() != tc.err || list[0].Offset != tc.off || list[0].Param != ParamSorts {
			t.Errorf("ParseSort(%q) error = %v (offset %v), want %q at %d", tc.in, err, offsets(list), tc.err, tc.off)
		}
	}
}

func TestAnalyzeRequestErrors(t *testing.T) {
	req := Request{
		Dataset: Discovery,
		Filter:  "serverPort = 'x'",
		Columns: []string{"serverIp", "serverip", "serverIp"},
		Sorts:   []Sort{{"bytevolume", true}, {"byteVolume", false}},
		Limit:   -1, Offset: -2,
		TimeFrame: TimeFrame{Begin: time.Unix(100, 0), End: time.Unix(50, 0)},
	}
	_, err := Compile(req, DuckDB)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Compile = %v", err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Param+"|"+string(e.Kind)+"|"+e.Token+"|"+e.Message+"|"+e.Hint)
	}
	want := []string{
		"filter|type|'x'|invalid input syntax for type int: 'x'|",
		`columns|unknown_field|serverip|unknown column "serverip" in dataset discovery|did you mean serverIp, serverName, serverPort?`,
		`columns|value|serverIp|column "serverIp" is listed twice|`,
		`sorts|unknown_field|bytevolume|unknown sort field "bytevolume" in dataset discovery|did you mean byteVolume?`,
		"limit|value|-1|limit must not be negative|",
		"offset|value|-2|offset must not be negative|",
		"timeFrame|value||timeFrame end is before its begin|",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
	if _, err := Compile(Request{Dataset: "flows"}, DuckDB); err == nil || err.Error() != `dataset: unknown dataset "flows"` {
		t.Errorf("unknown dataset: %v", err)
	}
}

func TestScanRequests(t *testing.T) {
	all := Request{Dataset: Discovery, Filter: "serverPort = 443"}
	frame := TimeFrame{Begin: time.Unix(100, 0)}
	for _, tc := range []struct {
		name string
		req  Request
		want bool
	}{
		{"all-time discovery", all, true},
		{"cert with a time frame (ignored)", Request{Dataset: Cert, TimeFrame: frame}, true},
		{"discovery time frame", Request{Dataset: Discovery, TimeFrame: frame}, false},
		{"sorts", Request{Dataset: Cert, Sorts: []Sort{{"certPublicKeySize", true}}}, false},
		{"limit", Request{Dataset: Cert, Limit: 10}, false},
		{"offset", Request{Dataset: Cert, Offset: 10}, false},
	} {
		if got := Scannable(tc.req); got != tc.want {
			t.Errorf("%s: Scannable = %v", tc.name, got)
		}
		_, err := CompileExtent(tc.req, DuckDB)
		if tc.want && err != nil || !tc.want && (err == nil || err.Error() != "a table scan (row slices) cannot have sorts, a limit, an offset or a discovery time frame") {
			t.Errorf("%s: CompileExtent error %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Dataset: Discovery, TimeFrame: frame, Slice: &RowSlice{0, 10}}, "a table scan (row slices) cannot have sorts, a limit, an offset or a discovery time frame"},
		{Request{Dataset: Cert, Slice: &RowSlice{-1, 10}}, "a row slice needs 0 <= from <= to"},
		{Request{Dataset: Cert, Slice: &RowSlice{10, 9}}, "a row slice needs 0 <= from <= to"},
	} {
		if _, err := Compile(tc.req, DuckDB); err == nil || err.Error() != tc.want {
			t.Errorf("Compile(%+v) error %v, want %q", tc.req.Slice, err, tc.want)
		}
	}
}

func TestErrorJSONAndPretty(t *testing.T) {
	_, err := Parse("serverPort = 443 AND\n  cipherSuite ~ 'a(b' OR")
	list := err.(ErrorList)
	b, _ := json.Marshal(list[0])
	if want := `{"kind":"syntax","param":"filter","offset":45,"line":2,"column":25,"token":"","message":"unexpected end of filter","hint":"expected a field name, NOT or ("}`; string(b) != want {
		t.Errorf("JSON = %s\nwant %s", b, want)
	}
	_, err = Compile(Request{Dataset: Discovery, Filter: "serverPort = 443 AND\n  serverName ~ 'a(b'"}, DuckDB)
	want := "filter:2:17: invalid regular expression: missing closing ): a(b\n" +
		"    serverName ~ 'a(b'\n" +
		"                  ^^^\n"
	if got := err.(ErrorList).Pretty(); got != want {
		t.Errorf("Pretty:\n%s\nwant\n%s", got, want)
	}
}

func TestPrettyNonASCIIColumn(t *testing.T) {
	_, err := Compile(Request{Dataset: Discovery, Filter: "serverName = 'é' AND zz = 1"}, DuckDB)
	want := "filter:1:22: unknown field \"zz\" in dataset discovery\n" +
		"  serverName = 'é' AND zz = 1\n" +
		"                       ^^\n"
	if got := err.(ErrorList).Pretty(); got != want {
		t.Errorf("Pretty:\n%q\nwant\n%q", got, want)
	}
}

func TestSplitRollup(t *testing.T) {
	p, err := Analyze(Request{Dataset: Discovery, Filter: "(serverPort = 443 AND byteVolume > 1) AND (weakCrypto OR lastSeen > '2026-01-01') AND NOT cipherKex = 'RSA'"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Pre) != 2 || len(p.Post) != 2 {
		t.Errorf("pre %d post %d, want 2 and 2", len(p.Pre), len(p.Post))
	}
	c, err := Analyze(Request{Dataset: Cert, Filter: "certIsCa AND certServerCount > 3"})
	if err != nil || len(c.Pre) != 2 || len(c.Post) != 0 {
		t.Errorf("cert split: %v %v", c, err)
	}
}
