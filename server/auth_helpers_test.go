package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
)

// Keys of the tests: one per built-in role, all with the same secret shape.
const (
	testSecret   = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	testAdminKey = KeyPrefix + "test-admin_" + testSecret
)

// testKeyFor is the key value of the test key with the built-in role.
func testKeyFor(role string) string { return KeyPrefix + "test-" + role + "_" + testSecret }

// addTestKeys stores test-admin (Administrator) and test-<Role> for every built-in role.
func addTestKeys(t testing.TB, db *engine.DB) {
	t.Helper()
	ctx := context.Background()
	add := func(id, role string) {
		if _, err := db.CreateKey(ctx, engine.APIKey{ID: id, SecretHash: HashSecret(testSecret), Roles: []string{role},
			ReauthTimeout: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	add("test-admin", "Administrator")
	for _, r := range engine.BuiltinRoles {
		add("test-"+r.Name, r.Name)
	}
}

// newKeyDB is an empty in-memory database holding only the test keys, for tests whose
// Store is a fake.
func newKeyDB(t testing.TB) *engine.DB {
	t.Helper()
	db, err := engine.Open(context.Background(), engine.Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	addTestKeys(t, db)
	return db
}

// keyTransport adds the test administrator key to every request.
type keyTransport struct{ rt http.RoundTripper }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Header.Get(HeaderAPIKey) == "" {
		r.Header.Set(HeaderAPIKey, testAdminKey)
	}
	return k.rt.RoundTrip(r)
}

// withTestKey wraps rt so that requests carry the test administrator key.
func withTestKey(rt http.RoundTripper) http.RoundTripper { return keyTransport{rt} }

// keyClient is http.DefaultClient with the test administrator key.
var keyClient = &http.Client{Transport: withTestKey(http.DefaultTransport)}

// call sends one request with the given key ("" sends none) and JSON body ("" sends none;
// a body gets Content-Type application/json unless headers set another).
func call(t testing.TB, app *fiber.App, method, target, key, body string, headers ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Header.Set(HeaderRequestID, "test-1")
	if key != "" {
		req.Header.Set(HeaderAPIKey, key)
	}
	if body != "" || method == http.MethodPost || method == http.MethodPatch || method == http.MethodPut {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, app, req, headers...)
}
