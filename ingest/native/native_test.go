package native

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/cipherscope/cipherscope/fixtures"
	"github.com/cipherscope/cipherscope/query"
)

func TestParseTimeLayout(t *testing.T) {
	for _, s := range []string{
		"2024-05-01T10:00:00.000000Z", "1970-01-01T00:00:00.000001Z", "2024-02-29T23:59:59.999999Z",
		"2023-02-29T00:00:00.000000Z", "2024-13-01T00:00:00.000000Z", "2024-04-31T00:00:00.000000Z",
		"2024-05-01T24:00:00.000000Z", "2024-05-01T10:60:00.000000Z", "2024-05-01T10:00:60.000000Z",
		"2024-05-00T10:00:00.000000Z", "2024-05-01 10:00:00.000000Z", "2024-05-01T10:00:00.00000xZ",
		"0000-01-01T00:00:00.000000Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000000+02:00",
	} {
		want, werr := time.Parse(time.RFC3339Nano, s)
		got, ok := parseTimeLayout(s)
		switch {
		case ok && (werr != nil || got != want.UnixMicro()):
			t.Errorf("parseTimeLayout(%q) = %d, time.Parse: %v %v", s, got, want.UnixMicro(), werr)
		case !ok && werr == nil && len(s) == len(TimeLayout) && strings.HasSuffix(s, "Z"):
			t.Errorf("parseTimeLayout(%q) declined a valid timestamp", s)
		}
	}
}

func TestPlainList(t *testing.T) {
	for _, s := range []string{`[]`, `["a"]`, `["a","b c"]`, `["é"]`, `["a\"b"]`, `[ "a"]`, `["a",]`, `["a" ,"b"]`, `[1]`, `["a","b"`} {
		got, ok := plainList([]byte(s))
		var want []string
		err := json.Unmarshal([]byte(s), &want)
		if !ok {
			continue // the caller falls back to encoding/json
		}
		if err != nil {
			t.Errorf("plainList(%s) took what encoding/json rejects: %v", s, err)
			continue
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("plainList(%s) = %q, want %q", s, got, want)
		}
	}
}

// render writes every value of the batches as text, NULL as <nil>.
func render(bs []arrow.RecordBatch) string {
	var b strings.Builder
	for _, rec := range bs {
		for i := range int(rec.NumRows()) {
			for _, c := range rec.Columns() {
				if c.IsNull(i) {
					b.WriteString("<nil>|")
				} else {
					fmt.Fprintf(&b, "%s|", c.ValueStr(i))
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// appendBoth appends one line with the fast scanner and with encoding/json into two
// builders and returns the errors.
func appendBoth(fast, slow *rowBuilder, line string) (errFast, errSlow error) {
	var s ndjsonScan
	s.bind(fast.schema)
	if s.scan([]byte(line)) {
		errFast = fast.appendScanned("f", 1, &s)
	} else {
		errFast = errors.New("declined")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		return errFast, err
	}
	return errFast, slow.appendObject("f", 1, obj)
}

// TestNDJSONFastMatchesSlow appends every line of fixture NDJSON files and some edge
// cases both ways and expects the same rows and the same errors.
func TestNDJSONFastMatchesSlow(t *testing.T) {
	paths, err := fixtures.Write(fixtures.Config{Observations: 500, Certificates: 30, Seed: 4}, fixtures.NDJSON, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	edge := map[query.Dataset][]string{
		query.Discovery: {
			`{"obsUid":"a","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","serverPort":443}`,
			`{"obsUid":"b","observedAt":"2024-05-01T10:00:00Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","serverName":"caf\u00e9","weakReasons":["a\"b"]}`,
			`{"obsUid":"c","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","serverName":"","weakReasons":[ "x" ]}`,
			`{"obsUid":"d","observedAt":null,"clientIp":"10.0.0.1","serverIp":"10.0.0.2","serverPort":"443"}`,
			`{"obsUid":"e","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","bogus":1}`,
			`{"obsUid":"f","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","pqcKex":1,"weakCrypto":"true"}`,
			`{"obsUid":"g","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","serverPort":4.5e2}`,
			`{"obsUid":"h","obsUid":"i","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2"}`,
			"{\"obsUid\":\"j\",\"observedAt\":\"2024-05-01T10:00:00.000000Z\",\"clientIp\":\"10.0.0.1\",\"serverIp\":\"10.0.0.2\",\"serverName\":\"bad \xff\"}",
			`{"obsUid":"k","observedAt":"2024-05-01T10:00:00.000000Z","clientIp":"10.0.0.1","serverIp":"10.0.0.2","weakReasons":[1]}`,
			`{"obsUid":"l"} trailing`,
			`{"obsUid":"m","serverName":{"nested":[1,{"a":null}]}}`,
		},
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, maxNDJSONLine)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		ds := query.Cert
		if strings.Contains(lines[0], `"obsUid"`) {
			ds = query.Discovery
		}
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		fast, slow := newRowBuilder(mem, ds), newRowBuilder(mem, ds)
		declined := 0
		for i, l := range append(lines, edge[ds]...) {
			ef, es := appendBoth(fast, slow, l)
			if ef != nil && ef.Error() == "declined" {
				if i < len(lines) {
					declined++
				}
				// The reader takes the slow way too: replay it on the fast builder.
				var obj map[string]json.RawMessage
				if json.Unmarshal([]byte(l), &obj) == nil {
					ef = fast.appendObject("f", 1, obj)
				} else {
					ef = es
				}
			}
			if fmt.Sprint(ef) != fmt.Sprint(es) {
				t.Errorf("%s\nfast error: %v\nslow error: %v", l, ef, es)
			}
		}
		if declined > 0 {
			t.Errorf("%s: the fast scanner declined %d of %d fixture lines", p, declined, len(lines))
		}
		fast.cut()
		slow.cut()
		if g, w := render(fast.out), render(slow.out); g != w {
			t.Errorf("%s: rows differ\nfast:\n%s\nslow:\n%s", ds, g, w)
		}
		fast.fail()
		slow.fail()
		mem.AssertSize(t, 0)
	}
}

// TestReadersStream reads a native file of several batches through OpenCSV and
// OpenNDJSON and gets every row once, in order, in batches of at most batchRows.
func TestReadersStream(t *testing.T) {
	cfg := fixtures.Config{Observations: batchRows + 10, Certificates: 20, Seed: 6}
	dir := t.TempDir()
	want := ""
	for _, format := range []fixtures.Format{fixtures.CSV, fixtures.NDJSON} {
		paths, err := fixtures.Write(cfg, format, dir+"/"+string(format))
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(paths[0])
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		open := OpenCSV
		if format == fixtures.NDJSON {
			open = OpenNDJSON
		}
		rd, err := open(paths[0], f, mem, func(err error) error { return err })
		if err != nil {
			t.Fatal(err)
		}
		var got []arrow.RecordBatch
		for {
			b, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.NumRows() > batchRows {
				t.Errorf("batch of %d rows", b.NumRows())
			}
			got = append(got, b)
		}
		rd.Close()
		f.Close()
		if rd.Dataset() != query.Discovery || rd.Rows() != int64(cfg.Observations) || len(got) != 2 {
			t.Errorf("%s: %s, %d rows in %d batches", format, rd.Dataset(), rd.Rows(), len(got))
		}
		s := render(got)
		if want == "" {
			want = s
		} else if s != want {
			t.Errorf("%s rows differ from CSV's", format)
		}
		for _, b := range got {
			b.Release()
		}
		mem.AssertSize(t, 0)
	}
}
