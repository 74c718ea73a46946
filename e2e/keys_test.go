package e2e

import (
	"bufio"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKeysEndToEnd: keys made by the CLI work against serve; the audit log verifies;
// a non-loopback address is allowed only once the database holds a key.
func TestKeysEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "keys.duckdb")

	// A keyless (existing) database still refuses a public address.
	if r := run(t, nil, "keys", "list", "--db", db); r.code != 0 || r.stdout != "" {
		t.Fatalf("keys list on a new database: %+v", r)
	}
	if r := run(t, nil, "serve", "--db", db, "--listen", "0.0.0.0:0"); r.code != 2 ||
		!strings.Contains(r.stderr, "the database has no API keys") {
		t.Fatalf("keyless public listen: %+v", r)
	}

	r := run(t, nil, "keys", "create", "--db", db, "--roles", "Administrator")
	if r.code != 0 || !regexp.MustCompile(`^csk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$`).MatchString(r.stdout) {
		t.Fatalf("keys create: %+v", r)
	}
	admin := strings.TrimSpace(r.stdout)

	srv, _ := startServer(t, "--db", db)
	saved := apiKey
	t.Cleanup(func() { apiKey = saved })
	apiKey = ""
	if g := httpGet(t, srv.base+"/api/v1/dta_cert?limit=1"); g.status != 401 || g.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("no key: %d %s", g.status, g.body)
	}
	if g := httpGet(t, srv.base+"/api/v1/dta_cert?limit=1", "X-Api-Key", admin); g.status != 200 {
		t.Errorf("admin key: %d %s", g.status, g.body)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/api_keys", strings.NewReader(`{"keyId":"analyst","roles":["Analyst"]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create over the API: %d", resp.StatusCode)
	}
	srv.stop(t)

	if r := run(t, nil, "audit", "verify", "--db", db); r.code != 0 || r.stdout != "ok: 2 audit entries verified\n" {
		t.Errorf("audit verify: %+v", r)
	}

	// With a key in place, a public address is allowed.
	cmd := exec.Command(binary, "serve", "--db", db, "--listen", "0.0.0.0:0")
	cmd.Env = cleanEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
	}()
	select {
	case l := <-line:
		if !regexp.MustCompile(`^curl -s -H "x-api-key: \$CIPHERSCOPE_API_KEY" 'http://(0\.0\.0\.0|\[::\]):[0-9]+/`).MatchString(l) {
			t.Errorf("public serve printed %q", l)
		}
	case <-time.After(time.Minute):
		t.Error("public serve did not start")
	}
	// SIGTERM right after start must still stop the server.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("public serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Error("serve ignored SIGTERM sent right after it started")
	}
}
