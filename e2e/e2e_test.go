// Package e2e tests the cipherscope binary from the outside: it builds it, runs its
// subcommands as a user would, and talks HTTP to `serve`.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the cipherscope executable built once for the whole package.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cipherscope-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "cipherscope")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", binary, "github.com/cipherscope/cipherscope/cmd/cipherscope")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cipherscope:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished command.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary to completion with a clean CIPHERSCOPE_ environment plus env.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// cleanEnv drops CIPHERSCOPE_ variables of the developer's shell, which would change flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CIPHERSCOPE_") {
			env = append(env, kv)
		}
	}
	return env
}

func TestFixturesAreDeterministic(t *testing.T) {
	for _, format := range []string{"parquet", "csv", "ndjson", "zeek-tsv", "zeek-json"} {
		t.Run(format, func(t *testing.T) {
			a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
			args := []string{"fixtures", "--rows", "3000", "--certs", "40", "--seed", "7", "--format", format}
			ra := run(t, nil, append(args, "--out", a)...)
			rb := run(t, []string{"CIPHERSCOPE_OUT=" + b}, args...) // the environment equivalent of --out
			rc := run(t, nil, "fixtures", "--rows", "3000", "--certs", "40", "--seed", "8", "--format", format, "--out", c)
			for _, r := range []result{ra, rb, rc} {
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
			}
			filesA, filesB := readTree(t, a), readTree(t, b)
			if len(filesA) == 0 {
				t.Fatalf("no files written to %s", a)
			}
			if got, want := len(strings.Split(strings.TrimSpace(ra.stdout), "\n")), len(filesA); got != want {
				t.Errorf("stdout lists %d paths, %d files written:\n%s", got, want, ra.stdout)
			}
			for name, data := range filesA {
				if !bytes.Equal(data, filesB[name]) {
					t.Errorf("%s differs between two runs with the same seed", name)
				}
			}
			if len(filesB) != len(filesA) {
				t.Errorf("file sets differ: %d vs %d", len(filesA), len(filesB))
			}
			same := true
			for name, data := range readTree(t, c) {
				same = same && bytes.Equal(data, filesA[name])
			}
			if same {
				t.Errorf("seed 8 wrote the same files as seed 7")
			}
		})
	}
}

// readTree maps the relative path of every file under dir to its contents.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestServeRefusesNonLoopback(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		args   []string
		stderr string
	}{
		{"any IPv4", nil, []string{"--listen", "0.0.0.0:8080"},
			`cipherscope serve: refusing to listen on "0.0.0.0:8080": the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)` + "\n"},
		{"any IPv6", nil, []string{"--listen", "[::]:8080"},
			`cipherscope serve: refusing to listen on "[::]:8080": the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)` + "\n"},
		{"empty host", nil, []string{"--listen", ":8080"},
			`cipherscope serve: refusing to listen on ":8080": the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)` + "\n"},
		{"from the environment", []string{"CIPHERSCOPE_LISTEN=192.168.1.10:80"}, nil,
			`cipherscope serve: refusing to listen on "192.168.1.10:80": the database has no API keys; only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed until one exists (cipherscope keys create --db FILE --roles Administrator)` + "\n"},
		{"malformed", nil, []string{"--listen", "8080"},
			`cipherscope serve: invalid --listen "8080": address 8080: missing port in address` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "x.duckdb")
			r := run(t, tt.env, append([]string{"serve", "--db", db}, tt.args...)...)
			if r.code != 2 || r.stderr != tt.stderr || r.stdout != "" {
				t.Errorf("exit %d\nstderr %q\nwant   %q\nstdout %q", r.code, r.stderr, tt.stderr, r.stdout)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database was touched before the address was checked: %v", err)
			}
		})
	}
}

// server is a running `cipherscope serve`.
type server struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var curlLine = regexp.MustCompile(`^curl -s -H (?:'x-api-key: (csk_[A-Za-z0-9_-]+)'|"x-api-key: \$CIPHERSCOPE_API_KEY") '(http://127\.0\.0\.1:[0-9]+)(/api/v1/dta_discovery\?limit=5&sorts=byteVolume%20desc)'$`)

// demoKeyLine is printed before the curl line when serve --demo created a key.
var demoKeyLine = regexp.MustCompile(`^demo API key: (csk_[A-Za-z0-9_-]+)$`)

// apiKey is the key httpGet sends: the demo key of the last server that printed one.
var apiKey string

// startServer starts serve on a free loopback port (port 0) and waits for the curl line
// on stdout and for /healthz.
func startServer(t *testing.T, args ...string) (*server, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = cleanEnv()
	s := &server{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no output from serve; stderr:\n%s", s.stderr)
	}
	if k := demoKeyLine.FindStringSubmatch(line); k != nil {
		apiKey = k[1]
		select {
		case line = <-lines:
		case <-time.After(time.Minute):
			t.Fatalf("no curl line after the demo key; stderr:\n%s", s.stderr)
		}
	}
	m := curlLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("stdout line %q is not the expected curl line; stderr:\n%s", line, s.stderr)
	}
	if m[1] != "" && m[1] != apiKey {
		t.Fatalf("the curl line's key %q is not the printed demo key %q", m[1], apiKey)
	}
	s.base = m[2]
	waitHealthy(t, s)
	return s, m[2] + m[3]
}

func waitHealthy(t *testing.T, s *server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == `{"status":"ok"}` {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("/healthz never answered; stderr:\n%s", s.stderr)
}

// stop sends SIGTERM and expects a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM; stderr:\n%s", err, s.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM; stderr:\n%s", s.stderr)
	}
}

// httpResult is one HTTP exchange.
type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func httpGet(t *testing.T, u string, header ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Api-Key", apiKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{resp.StatusCode, resp.Header, body}
}

// page is the JSON list body of the dataset routes.
type page struct {
	Data       []map[string]json.RawMessage `json:"data"`
	Pagination struct {
		Limit, Offset, Returned int64
	} `json:"pagination"`
	FilteredCount *int64 `json:"filteredCount"`
}

func getPage(t *testing.T, base, path string, kv ...string) (page, []byte) {
	t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	target := base + path
	if len(v) > 0 {
		target += "?" + v.Encode()
	}
	r := httpGet(t, target)
	if r.status != 200 {
		t.Fatalf("GET %s?%s: %d %s", path, v.Encode(), r.status, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return p, r.body
}

func num(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatalf("%s is not an integer: %v", raw, err)
	}
	return n
}

// Demo dataset size of the end-to-end test: small enough to load in a second or two.
const (
	demoRows  = 5000
	demoCerts = 120
)

func TestServeDemoEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.duckdb")
	demoFlags := []string{"--db", db, "--demo", "--demo-rows", fmt.Sprint(demoRows), "--demo-certs", fmt.Sprint(demoCerts), "--demo-seed", "3"}
	srv, curlURL := startServer(t, demoFlags...)

	// The printed curl line works: five flows, largest first.
	first, firstBody := getPage(t, "", curlURL)
	if len(first.Data) != 5 || first.Pagination.Returned != 5 || first.Pagination.Limit != 5 {
		t.Fatalf("curl line answered %s", firstBody)
	}
	for i := 1; i < len(first.Data); i++ {
		if num(t, first.Data[i-1]["byteVolume"]) < num(t, first.Data[i]["byteVolume"]) {
			t.Errorf("not sorted by byteVolume desc: %s", firstBody)
		}
	}

	// Every certificate is one row; every observation is counted in exactly one flow.
	certs, _ := getPage(t, srv.base, "/api/v1/dta_cert", "columns", "certFingerprint", "limit", "1", "reportFilteredCount", "true")
	if certs.FilteredCount == nil || *certs.FilteredCount != demoCerts {
		t.Errorf("cert filteredCount = %v, want %d", certs.FilteredCount, demoCerts)
	}
	cols := []string{"columns", "serverIp,serverPort,tlsVersion,connectionCount,byteVolume", "sorts", "byteVolume desc", "sorts", "serverIp asc"}
	all, _ := getPage(t, srv.base, "/api/v1/dta_discovery", append(cols, "limit", "10000", "reportFilteredCount", "true")...)
	if all.FilteredCount == nil || int64(len(all.Data)) != *all.FilteredCount {
		t.Fatalf("one page of 10000 returned %d rows, filteredCount %v", len(all.Data), all.FilteredCount)
	}
	var conns int64
	for _, r := range all.Data {
		conns += num(t, r["connectionCount"])
	}
	if conns != demoRows {
		t.Errorf("connectionCount sums to %d, want %d observations", conns, demoRows)
	}

	// Pages of 7 (offset counts pages) concatenate to the same rows in the same order.
	var paged []map[string]json.RawMessage
	for off := 0; off < 3; off++ {
		p, _ := getPage(t, srv.base, "/api/v1/dta_discovery", append(cols, "limit", "7", "offset", fmt.Sprint(off))...)
		if p.Pagination.Offset != int64(off) || p.Pagination.Limit != 7 || p.Pagination.Returned != 7 {
			t.Errorf("page %d pagination %+v", off, p.Pagination)
		}
		paged = append(paged, p.Data...)
	}
	if !sameRows(paged, all.Data[:21]) {
		t.Errorf("pages of 7 differ from the first 21 rows of one page")
	}

	// A filter keeps exactly the matching flows: TLSv1.3 + other versions + NULL = all.
	var parts int
	for _, f := range []string{"tlsVersion = 'TLSv1.3'", "tlsVersion != 'TLSv1.3'", "tlsVersion IS NULL"} {
		p, body := getPage(t, srv.base, "/api/v1/dta_discovery", append(cols, "limit", "10000", "filter", f)...)
		for _, r := range p.Data {
			v := string(r["tlsVersion"])
			if f == "tlsVersion = 'TLSv1.3'" && v != `"TLSv1.3"` || f == "tlsVersion != 'TLSv1.3'" && (v == `"TLSv1.3"` || v == "null") {
				t.Fatalf("filter %q returned tlsVersion %s: %.300s", f, v, body)
			}
		}
		parts += len(p.Data)
	}
	if parts != len(all.Data) {
		t.Errorf("filtered parts add up to %d flows, want %d", parts, len(all.Data))
	}

	// Errors are problem documents naming the parameter and the closest fields.
	r := httpGet(t, srv.base+"/api/v1/dta_discovery?columns=byteVolum&limit=0", "X-Request-Id", "e2e-1")
	wantProblem := `{"type":"about:blank","title":"Bad Request","status":400,` +
		`"detail":"columns: unknown field \"byteVolum\" in dataset discovery; limit: limit must be an integer >= 1",` +
		`"instance":"/api/v1/dta_discovery","traceId":"e2e-1","errors":[` +
		`{"kind":"unknown_field","param":"columns","message":"unknown field \"byteVolum\" in dataset discovery","hint":"did you mean byteVolume?","token":"byteVolum"},` +
		`{"kind":"value","param":"limit","message":"limit must be an integer >= 1","token":"0"}]}`
	if r.status != 400 || string(r.body) != wantProblem || r.header.Get("Content-Type") != "application/problem+json" ||
		r.header.Get("X-Request-Id") != "e2e-1" || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("got %d %v\n%s\nwant\n%s", r.status, r.header, r.body, wantProblem)
	}

	srv.stop(t)

	// The database reopens (read-only, from another process) and the CLI agrees with the API.
	q := run(t, nil, "query", "--db", db, "discovery", "--columns", "serverIp,serverPort,tlsVersion,connectionCount,byteVolume",
		"--sorts", "byteVolume desc, serverIp asc", "--limit", "21")
	if q.code != 0 {
		t.Fatalf("query exit %d: %s", q.code, q.stderr)
	}
	var cliRows []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(q.stdout), &cliRows); err != nil {
		t.Fatalf("%v: %s", err, q.stdout)
	}
	if !sameRows(cliRows, all.Data[:21]) {
		t.Errorf("CLI rows differ from API rows:\n%s", q.stdout)
	}
	csv := run(t, []string{"CIPHERSCOPE_DB=" + db}, "query", "cert", "--columns", "certFingerprint,certIsCa", "--format", "csv", "--limit", "2",
		"--sorts", "certFingerprint asc")
	if lines := strings.Split(csv.stdout, "\n"); csv.code != 0 || len(lines) != 4 || lines[0] != "certFingerprint,certIsCa" || lines[3] != "" {
		t.Errorf("csv exit %d: %q %s", csv.code, csv.stdout, csv.stderr)
	}

	// A second start with --demo keeps the data as it is.
	srv2, curlURL2 := startServer(t, demoFlags...)
	_, again := getPage(t, "", curlURL2)
	if !bytes.Equal(again, firstBody) {
		t.Errorf("after restart the curl line answered\n%s\nnot\n%s", again, firstBody)
	}
	srv2.stop(t)
	if !strings.Contains(srv2.stderr.String(), "demo: the database is not empty") {
		t.Errorf("restart log:\n%s", srv2.stderr)
	}
}

// sameRows compares rows value by value (JSON text of each field).
func sameRows(a, b []map[string]json.RawMessage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k, v := range a[i] {
			if !bytes.Equal(v, b[i][k]) {
				return false
			}
		}
	}
	return true
}
