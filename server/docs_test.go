package server

import (
	"context"
	"errors"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// findChromium returns the path of a Chromium binary. A missing browser skips the test
// on a developer's machine and fails it in CI (CI is set there; .ci/run installs chromium).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium); .ci/run installs it")
	}
	t.Skip("chromium is not installed (apt-get install chromium); CI fails instead of skipping")
	return ""
}

// TestDocsPageInBrowser serves the real application on a loopback port, loads /docs in
// headless Chromium and checks that the rendered page shows every documented operation:
// Swagger UI has fetched /api/v1/openapi.json and rendered it from the embedded assets.
func TestDocsPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium := findChromium(t)
	app := New(newTestDB(t), Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(Listener(ln)) }()
	t.Cleanup(func() {
		if err := app.ShutdownWithTimeout(5 * time.Second); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	if resp, err := http.Get(base + "/docs"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--disable-default-apps", "--no-first-run", "--no-default-browser-check",
		"--user-data-dir="+t.TempDir(),
		// Virtual time lets the page's fetch of the document and the rendering finish
		// before the DOM is dumped.
		"--virtual-time-budget=30000",
		"--dump-dom", base+"/docs")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom := html.UnescapeString(string(out))
	if !strings.Contains(dom, "cipherscope API") || !strings.Contains(dom, "opblock") {
		t.Fatalf("the page did not render the document:\n%.3000s\nchromium stderr:\n%.2000s", dom, stderr.String())
	}
	for _, op := range documentedOperations() {
		if !strings.Contains(dom, op.Summary) {
			t.Errorf("the rendered page lacks the summary of %s %s: %q", op.Method, op.Path, op.Summary)
		}
	}
	for _, want := range []string{"/api/v1/dta_discovery", "dta_discovery", "/api/v1/api_keys/{keyId}"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
}
