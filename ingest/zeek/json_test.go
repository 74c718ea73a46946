package zeek

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cipherscope/cipherscope/fixtures"
)

// describe renders every slot of a row: presence, value or list elements.
func describe(r *row) string {
	var b strings.Builder
	for f := range numFields {
		if !r.has(f) {
			continue
		}
		fmt.Fprintf(&b, "%s=", fieldNames[f])
		switch {
		case !r.isSet(f):
			b.WriteString("<unset>")
		case r.isList&bit(f) != 0:
			fmt.Fprintf(&b, "%q", r.List(f))
		default:
			fmt.Fprintf(&b, "%q", r.bytes(f))
		}
		b.WriteString(" ")
	}
	return b.String()
}

// fastAndSlow decodes a line with parseJSON into fr (reused from line to line, as
// read does: the key cache carries over) and with parseJSONSlow alone.
func fastAndSlow(fr *row, line string) (fast, slow string) {
	fr.reset("f", 1)
	if err := parseJSON(fr, []byte(line)); err != nil {
		fast = "error: " + err.Error()
	} else {
		fast = describe(fr)
	}
	var r row
	r.reset("f", 1)
	if err := parseJSONSlow(&r, []byte(line)); err != nil {
		slow = "error: " + err.Error()
	} else {
		slow = describe(&r)
	}
	return fast, slow
}

var jsonEdgeCases = []string{
	`{"uid":"C1","id":{"orig_h":"10.0.0.1","resp_p":443},"ts":1.5}`,
	`  {"uid" : "C1" , "cert_chain_fps" : [ "A" , null , true , 1e3 ] }  trailing`,
	`{"uid":"C\"1\\\/\b\f\n\r\t","server_name":"caf\u00e9"}`,
	`{"uid":"C1","server_name":"café ✓"}`,
	"{\"uid\":\"C1\",\"server_name\":\"bad \xff utf8\"}",
	"{\"uid\":\"C1\",\"server_name\":\"tab\tinside\"}",
	`{"uid":"C1","cert_chain_fps":[["nested"]]}`,
	`{"uid":"C1","other":[{"x":1}]}`,
	`{"uid":"C1","curve":null,"established":false,"resumed":true}`,
	`{"uid":"C1","id":null,"san":{"dns":["a","b"],"ip":[]}}`,
	`{"uid":"C1","ts":-0.5e-3,"orig_pkts":007}`,
	`{"uid":"C1","ts":01}`,
	`{"uid":"C1","ts":1.}`,
	`{"uid":"C1",}`,
	`{"uid":"C1"`,
	`{"uid":"C1"} {"uid":"C2"}`,
	`{"u\u0069d":"C1"}`,
	`{"uid":"C1","uid":"C2"}`,
	`{}`,
	`{"_path":"ssl","uid":"C1","x":{"y":{"z":[1,2]}}}`,
	`{"uid":"C1","server_name":"\ud83d\ude00 \ud800"}`,
	`{"uid":tru}`,
	`{"uid":"C1","n":-}`,
}

// TestJSONFastMatchesSlow checks that the hand-rolled scanner and encoding/json decode
// every line of the reference and fixture logs, and the edge cases, identically.
func TestJSONFastMatchesSlow(t *testing.T) {
	lines := append([]string(nil), jsonEdgeCases...)
	files, _ := filepath.Glob("../../../shared/data/zeek/json-rita/*.log")
	paths, err := fixtures.Write(fixtures.Config{Observations: 300, Certificates: 20, Seed: 5}, fixtures.ZeekJSON, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(files, paths...) {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, maxLine)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
	}
	if len(lines) < 500 {
		t.Fatalf("only %d lines", len(lines))
	}
	declined := 0
	var fr row
	for i, l := range lines {
		if fast, slow := fastAndSlow(&fr, l); fast != slow {
			t.Errorf("%s\nfast: %s\nslow: %s", l, fast, slow)
		}
		var r row
		s := jsonScan{s: []byte(l), r: &r}
		if i >= len(jsonEdgeCases) && !s.top() {
			declined++
		}
	}
	// The reference and fixture logs are what Zeek writes: the fast path must take them
	// (DN escapes included), or the test above would compare encoding/json with itself.
	if declined > 0 {
		t.Errorf("the fast scanner declined %d of %d real lines", declined, len(lines)-len(jsonEdgeCases))
	}
}

func FuzzJSONFastMatchesSlow(f *testing.F) {
	for _, l := range jsonEdgeCases {
		f.Add(l)
	}
	var fr row // shared: the key cache must not change results
	f.Fuzz(func(t *testing.T, line string) {
		if fast, slow := fastAndSlow(&fr, line); fast != slow {
			t.Errorf("%q\nfast: %s\nslow: %s", line, fast, slow)
		}
	})
}
