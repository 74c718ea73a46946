package server

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/engine"
)

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sample is a request that succeeds (with the permission) on one operation.
type sample struct {
	target string // concrete path with query
	body   func() string
	status int
}

var uniq atomic.Int64

func samples() map[string]sample {
	fixed := func(s string) func() string { return func() string { return s } }
	return map[string]sample{
		"listDiscovery":  {disc + "?limit=1", nil, 200},
		"queryDiscovery": {disc + "/query", fixed(`{"limit":1}`), 200},
		"listCert":       {"/api/v1/dta_cert?limit=1", nil, 200},
		"queryCert":      {"/api/v1/dta_cert/query", fixed(`{"limit":1}`), 200},
		"createApiKey":   {"/api/v1/api_keys", fixed(`{"roles":["Analyst"]}`), 201},
		"importApiKey": {"/api/v1/api_keys/import", func() string {
			return fmt.Sprintf(`{"key":"%simp-%d_%s","roles":["Analyst"]}`, KeyPrefix, uniq.Add(1), testSecret)
		}, 201},
		"listApiKeys":  {"/api/v1/api_keys", nil, 200},
		"getApiKey":    {"/api/v1/api_keys/test-Analyst", nil, 200},
		"editApiKey":   {"/api/v1/api_keys/nosuch", fixed(`{"description":"x"}`), 404},
		"lockApiKey":   {"/api/v1/api_keys/nosuch/lock", nil, 404},
		"unlockApiKey": {"/api/v1/api_keys/nosuch/unlock", nil, 404},
		"deleteApiKey": {"/api/v1/api_keys/nosuch", nil, 404},
		"bulkApiKeys":  {"/api/v1/api_keys/bulk", fixed(`{"action":"lock","keyIds":["nosuch"]}`), 200},
		"listRoles":    {"/api/v1/roles", nil, 200},
		"createRole": {"/api/v1/roles", func() string {
			return fmt.Sprintf(`{"name":"r%d","permissions":["dta:read"]}`, uniq.Add(1))
		}, 201},
		"editRole":   {"/api/v1/roles/NoSuch", fixed(`{"description":"x"}`), 404},
		"deleteRole": {"/api/v1/roles/NoSuch", nil, 404},
		"listAudit":  {"/api/v1/audit", nil, 200},
	}
}

// concrete fills a route pattern's parameters with "x".
func concrete(pattern string) string {
	return regexp.MustCompile(`:[A-Za-z]+\??`).ReplaceAllString(pattern, "x")
}

// TestPermissionMatrix: every registered /api/v1 route x every built-in role x (valid,
// locked, deleted key) plus unknown key and no key -> the exact status.
func TestPermissionMatrix(t *testing.T) {
	db := newTestDB(t)
	app := New(db, Config{AuthFailureLimit: 1 << 30})
	ctx := context.Background()
	roles := engine.BuiltinRoles
	// Locked and deleted keys were used (so a validation is cached) before they were
	// locked or deleted through the API: the change must be effective at once.
	for _, r := range roles {
		for _, state := range []string{"locked", "deleted"} {
			id := state + "-" + r.Name
			if _, err := db.CreateKey(ctx, engine.APIKey{ID: id, SecretHash: HashSecret(testSecret), Roles: []string{r.Name}, ReauthTimeout: time.Hour}); err != nil {
				t.Fatal(err)
			}
			if got := call(t, app, "GET", "/api/v1/api_keys/nosuch", KeyPrefix+id+"_"+testSecret, ""); got.status != 404 && got.status != 403 {
				t.Fatalf("warm-up of %s: %d %s", id, got.status, got.body)
			}
		}
		if got := call(t, app, "POST", "/api/v1/api_keys/locked-"+r.Name+"/lock", testAdminKey, ""); got.status != 200 {
			t.Fatalf("lock: %d %s", got.status, got.body)
		}
		if got := call(t, app, "DELETE", "/api/v1/api_keys/deleted-"+r.Name, testAdminKey, ""); got.status != 204 {
			t.Fatalf("delete: %d %s", got.status, got.body)
		}
	}
	smp := samples()
	n := 0
	for _, rt := range app.GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, Base+"/") || rt.Method == "HEAD" {
			continue
		}
		op, ok := LookupOperation(rt.Method, rt.Path)
		if !ok {
			t.Errorf("route %s %s is not in Operations: the middleware cannot know its permission", rt.Method, rt.Path)
			continue
		}
		if op.Permission == "" {
			continue
		}
		s, known := smp[op.ID]
		if !known {
			s = sample{target: concrete(rt.Path)}
		}
		body := func() string {
			if s.body != nil {
				return s.body()
			}
			return ""
		}
		check := func(name, key string, want int) {
			t.Helper()
			n++
			got := call(t, app, rt.Method, s.target, key, body())
			switch {
			case want == 0: // allowed, route not in samples: anything but 401/403
				if got.status == 401 || got.status == 403 || got.status == 429 {
					t.Errorf("%s %s %s: %d %s", rt.Method, rt.Path, name, got.status, got.body)
				}
			case got.status != want:
				t.Errorf("%s %s %s: got %d want %d: %s", rt.Method, rt.Path, name, got.status, want, got.body)
			case want == 401 && !strings.Contains(got.body, `"detail":"a valid API key is required in the x-api-key header (or Authorization: Bearer)"`):
				t.Errorf("%s %s %s: 401 body %s", rt.Method, rt.Path, name, got.body)
			}
		}
		check("no key", "", 401)
		check("unknown key", KeyPrefix+"nosuch_"+testSecret, 401)
		for _, r := range roles {
			want := 403
			if slices.Contains(r.Permissions, op.Permission) {
				want = s.status
			}
			check("valid "+r.Name, testKeyFor(r.Name), want)
			check("locked "+r.Name, KeyPrefix+"locked-"+r.Name+"_"+testSecret, 401)
			check("deleted "+r.Name, KeyPrefix+"deleted-"+r.Name+"_"+testSecret, 401)
		}
	}
	if n < 18*14 {
		t.Errorf("only %d cases: routes missing?", n)
	}
	t.Logf("%d cases", n)
}

func TestOpenRoutesNeedNoKey(t *testing.T) {
	app := New(newTestDB(t), Config{})
	for _, target := range []string{"/healthz", "/readyz"} {
		if r := call(t, app, "GET", target, "", ""); r.status != 200 {
			t.Errorf("%s: %d", target, r.status)
		}
	}
	// Bearer works like x-api-key; a wrong scheme does not.
	if r := call(t, app, "GET", disc+"?limit=1", "", "", "Authorization", "Bearer "+testAdminKey); r.status != 200 {
		t.Errorf("bearer: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", disc+"?limit=1", "", "", "Authorization", "Basic "+testAdminKey); r.status != 401 {
		t.Errorf("basic: %d %s", r.status, r.body)
	}
	// Unknown routes under /api/v1 need a key too (then 404).
	if r := call(t, app, "GET", "/api/v1/nope", "", ""); r.status != 401 {
		t.Errorf("unknown route without key: %d", r.status)
	}
	if r := call(t, app, "GET", "/api/v1/nope", testAdminKey, ""); r.status != 404 {
		t.Errorf("unknown route with key: %d", r.status)
	}
	// A trailing slash reaches the same handler, so it needs the same permission.
	if r := call(t, app, "GET", "/api/v1/api_keys/", testKeyFor("Analyst"), ""); r.status != 403 {
		t.Errorf("trailing slash with the wrong role: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/api_keys/", testAdminKey, ""); r.status != 200 {
		t.Errorf("trailing slash: %d %s", r.status, r.body)
	}
}

type keyDoc struct {
	KeyID                   string   `json:"keyId"`
	Key                     string   `json:"key"`
	Description             string   `json:"description"`
	Roles                   []string `json:"roles"`
	ReauthenticationTimeout int64    `json:"reauthenticationTimeout"`
	Locked                  bool     `json:"locked"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return v
}

func TestKeyLifecycle(t *testing.T) {
	app := New(newTestDB(t), Config{})
	admin := testAdminKey
	r := call(t, app, "POST", "/api/v1/api_keys", admin, `{"keyId":"k1","description":"ci","roles":["Analyst"]}`)
	if r.status != 201 || r.header.Get("Location") != "/api/v1/api_keys/k1" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	k := decode[keyDoc](t, r)
	if !regexp.MustCompile(`^csk_k1_[A-Za-z0-9_-]{43}$`).MatchString(k.Key) || k.ReauthenticationTimeout != 60 || k.Locked {
		t.Fatalf("created %+v", k)
	}
	if r := call(t, app, "GET", disc+"?limit=1", k.Key, ""); r.status != 200 {
		t.Fatalf("new key: %d", r.status)
	}
	// The secret is never shown again.
	for _, target := range []string{"/api/v1/api_keys", "/api/v1/api_keys/k1"} {
		r := call(t, app, "GET", target, admin, "")
		secret := strings.TrimPrefix(k.Key, "csk_k1_")
		if r.status != 200 || strings.Contains(r.body, secret) || strings.Contains(r.body, `"key"`) {
			t.Errorf("%s: %d %s", target, r.status, r.body)
		}
	}
	if r := call(t, app, "POST", "/api/v1/api_keys", admin, `{"keyId":"k1","roles":["Analyst"]}`); r.status != 409 {
		t.Errorf("duplicate: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", "/api/v1/api_keys", admin, `{"keyId":"bad_id","roles":["Analyst"]}`); r.status != 400 {
		t.Errorf("bad id: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", "/api/v1/api_keys", admin, `{"roles":["Nope"]}`); r.status != 400 {
		t.Errorf("unknown role: %d %s", r.status, r.body)
	}

	// Edit: only description, roles, reauthenticationTimeout.
	for _, tt := range []struct {
		body   string
		status int
	}{
		{`{"keyId":"k2"}`, 422}, {`{"key":"csk_x_y"}`, 422}, {`{"locked":true}`, 422}, {`{"createdAt":"2020-01-01T00:00:00Z"}`, 422},
		{`{"bogus":1}`, 400}, {`[1]`, 400}, {`{"roles":"Analyst"}`, 400}, {`{"roles":["Nope"]}`, 400}, {`{"roles":[]}`, 400},
		{`{"reauthenticationTimeout":-1}`, 422}, {`{"reauthenticationTimeout":1.5}`, 400},
	} {
		if r := call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, tt.body); r.status != tt.status {
			t.Errorf("edit %s: %d %s", tt.body, r.status, r.body)
		}
	}
	if r := call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, `{"description":"x"}`, "Content-Type", "text/plain"); r.status != 415 {
		t.Errorf("edit text/plain: %d", r.status)
	}
	if r := call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, `{"description":"x"}`, "Sec-Fetch-Site", "cross-site"); r.status != 403 {
		t.Errorf("cross-site: %d", r.status)
	}
	if r := call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, `{"description":"x"}`, "Origin", "https://evil.example"); r.status != 403 {
		t.Errorf("foreign origin: %d", r.status)
	}
	if r := call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, `{"description":"x"}`, "Origin", "http://example.com"); r.status != 200 {
		t.Errorf("same origin: %d %s", r.status, r.body)
	}
	r = call(t, app, "PATCH", "/api/v1/api_keys/k1", admin, `{"description":"auditor now","roles":["Auditor"],"reauthenticationTimeout":300}`)
	if e := decode[keyDoc](t, r); r.status != 200 || e.Description != "auditor now" || fmt.Sprint(e.Roles) != "[Auditor]" || e.ReauthenticationTimeout != 300 {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	// The role change is effective at once although the validation was cached.
	if r := call(t, app, "GET", disc+"?limit=1", k.Key, ""); r.status != 403 {
		t.Errorf("after role change: %d", r.status)
	}
	if r := call(t, app, "GET", "/api/v1/audit", k.Key, ""); r.status != 200 {
		t.Errorf("auditor: %d", r.status)
	}

	// Lock, unlock, delete.
	if r := call(t, app, "POST", "/api/v1/api_keys/k1/lock", admin, ""); r.status != 200 || !decode[keyDoc](t, r).Locked {
		t.Fatalf("lock: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/audit", k.Key, ""); r.status != 401 {
		t.Errorf("locked: %d", r.status)
	}
	if r := call(t, app, "POST", "/api/v1/api_keys/k1/unlock", admin, ""); r.status != 200 || decode[keyDoc](t, r).Locked {
		t.Fatalf("unlock: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/audit", k.Key, ""); r.status != 200 {
		t.Errorf("unlocked: %d", r.status)
	}
	if r := call(t, app, "DELETE", "/api/v1/api_keys/k1", admin, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", "/api/v1/audit", k.Key, ""); r.status != 401 {
		t.Errorf("deleted: %d", r.status)
	}
	if r := call(t, app, "GET", "/api/v1/api_keys/k1", admin, ""); r.status != 404 {
		t.Errorf("get deleted: %d", r.status)
	}
}

func TestImportKey(t *testing.T) {
	app := New(newTestDB(t), Config{})
	value := KeyPrefix + "legacy-1_" + strings.Repeat("Zz9-", 10)
	r := call(t, app, "POST", "/api/v1/api_keys/import", testAdminKey, `{"key":"`+value+`","roles":["Analyst","Auditor"],"description":"from vault"}`)
	if r.status != 201 || strings.Contains(r.body, "Zz9-") {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if d := decode[keyDoc](t, r); d.KeyID != "legacy-1" || d.Key != "" {
		t.Errorf("import answer %+v", d)
	}
	if r := call(t, app, "GET", "/api/v1/audit", value, ""); r.status != 200 {
		t.Errorf("imported key: %d", r.status)
	}
	for _, body := range []string{`{"key":"nope","roles":["Analyst"]}`, `{"key":"csk_a_short","roles":["Analyst"]}`,
		`{"key":"csk_a_` + testSecret + `","roles":["Analyst"],"extra":1}`} {
		if r := call(t, app, "POST", "/api/v1/api_keys/import", testAdminKey, body); r.status != 400 {
			t.Errorf("import %s: %d %s", body, r.status, r.body)
		}
	}
	if r := call(t, app, "POST", "/api/v1/api_keys/import", testAdminKey, `{"key":"`+value+`","roles":["Analyst"]}`); r.status != 409 {
		t.Errorf("import twice: %d", r.status)
	}
}

func TestBulkActions(t *testing.T) {
	app := New(newTestDB(t), Config{})
	keys := map[string]string{}
	for _, id := range []string{"b1", "b2", "b3"} {
		r := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"keyId":"`+id+`","roles":["Auditor"]}`)
		keys[id] = decode[keyDoc](t, r).Key
		if got := call(t, app, "GET", "/api/v1/audit", keys[id], ""); got.status != 200 {
			t.Fatalf("%s: %d", id, got.status)
		}
	}
	type results struct {
		Data []struct {
			KeyID  string
			Status int
		}
	}
	bulk := func(action string, ids ...string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"action": action, "keyIds": ids})
		r := call(t, app, "POST", "/api/v1/api_keys/bulk", testAdminKey, string(b))
		if r.status != 200 {
			t.Fatalf("bulk %s: %d %s", action, r.status, r.body)
		}
		return fmt.Sprint(decode[results](t, r).Data)
	}
	status := func(id string) int { return call(t, app, "GET", "/api/v1/audit", keys[id], "").status }
	if got := bulk("lock", "b1", "b2", "nosuch"); got != "[{b1 200} {b2 200} {nosuch 404}]" {
		t.Errorf("bulk lock: %s", got)
	}
	if status("b1") != 401 || status("b2") != 401 || status("b3") != 200 {
		t.Errorf("after bulk lock: %d %d %d", status("b1"), status("b2"), status("b3"))
	}
	if got := bulk("unlock", "b1"); got != "[{b1 200}]" || status("b1") != 200 || status("b2") != 401 {
		t.Errorf("bulk unlock: %s", got)
	}
	if got := bulk("delete", "b1", "b3"); got != "[{b1 204} {b3 204}]" || status("b1") != 401 || status("b3") != 401 {
		t.Errorf("bulk delete: %s", got)
	}
	for _, body := range []string{`{"action":"explode","keyIds":["b2"]}`, `{"action":"lock","keyIds":[]}`} {
		if r := call(t, app, "POST", "/api/v1/api_keys/bulk", testAdminKey, body); r.status != 422 {
			t.Errorf("%s: %d", body, r.status)
		}
	}
}

func TestRoles(t *testing.T) {
	app := New(newTestDB(t), Config{})
	r := call(t, app, "GET", "/api/v1/roles", testAdminKey, "")
	if r.status != 200 || !strings.Contains(r.body, `"name":"Administrator"`) || !strings.Contains(r.body, `"audit:read"`) {
		t.Fatalf("roles: %d %s", r.status, r.body)
	}
	if r := call(t, app, "POST", "/api/v1/roles", testAdminKey, `{"name":"CertReader","permissions":["dta:read"]}`); r.status != 201 {
		t.Fatalf("create role: %d %s", r.status, r.body)
	}
	k := decode[keyDoc](t, call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"roles":["CertReader"]}`)).Key
	if r := call(t, app, "GET", disc+"?limit=1", k, ""); r.status != 200 {
		t.Errorf("custom role: %d", r.status)
	}
	// Editing the role is effective at once.
	if r := call(t, app, "PATCH", "/api/v1/roles/CertReader", testAdminKey, `{"permissions":["cbom:read"]}`); r.status != 200 {
		t.Fatalf("edit role: %d %s", r.status, r.body)
	}
	if r := call(t, app, "GET", disc+"?limit=1", k, ""); r.status != 403 {
		t.Errorf("after edit: %d", r.status)
	}
	for _, tt := range []struct{ method, target, body string }{
		{"PATCH", "/api/v1/roles/Administrator", `{"permissions":[]}`},
		{"DELETE", "/api/v1/roles/Analyst", ""},
		{"POST", "/api/v1/roles", `{"name":"X","permissions":["root"]}`},
		{"PATCH", "/api/v1/roles/CertReader", `{"name":"Y"}`},
	} {
		if r := call(t, app, tt.method, tt.target, testAdminKey, tt.body); r.status != 400 && r.status != 422 {
			t.Errorf("%s %s %s: %d %s", tt.method, tt.target, tt.body, r.status, r.body)
		}
	}
	if r := call(t, app, "DELETE", "/api/v1/roles/CertReader", testAdminKey, ""); r.status != 409 {
		t.Errorf("delete role in use: %d %s", r.status, r.body)
	}
}

// TestReauthTimeout: a validation is cached for the key's timeout; a change made by
// another process (here: another server on the same database) is seen after it.
func TestReauthTimeout(t *testing.T) {
	db := newTestDB(t)
	clock := newTestClock()
	app := New(db, Config{AuthNow: clock.Now})
	other := New(db, Config{AuthNow: clock.Now})
	k := decode[keyDoc](t, call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"roles":["Auditor"],"reauthenticationTimeout":60}`)).Key
	zero := decode[keyDoc](t, call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"roles":["Auditor"],"reauthenticationTimeout":0}`))
	use := func(key string) int { return call(t, app, "GET", "/api/v1/audit?limit=1", key, "").status }
	if use(k) != 200 || use(zero.Key) != 200 {
		t.Fatal("keys do not work")
	}
	id, _, _ := ParseKeyValue(k)
	if r := call(t, other, "POST", "/api/v1/api_keys/bulk", testAdminKey, `{"action":"lock","keyIds":["`+id+`","`+zero.KeyID+`"]}`); r.status != 200 {
		t.Fatal(r.body)
	}
	if use(zero.Key) != 401 {
		t.Error("a key with timeout 0 is validated on every request")
	}
	clock.Advance(59 * time.Second)
	if use(k) != 200 {
		t.Error("the cached validation should hold for 60 s")
	}
	clock.Advance(time.Second)
	if use(k) != 401 {
		t.Error("after the timeout the lock must be seen")
	}
}

func TestAuthRateLimit(t *testing.T) {
	clock := newTestClock()
	app := New(newTestDB(t), Config{AuthNow: clock.Now, AuthFailureLimit: 3, AuthFailureWindow: time.Minute})
	for i := range 3 {
		if r := call(t, app, "GET", disc, KeyPrefix+"x_"+strings.Repeat("B", 43), ""); r.status != 401 {
			t.Fatalf("failure %d: %d", i, r.status)
		}
	}
	r := call(t, app, "GET", disc, testAdminKey, "")
	if r.status != 429 || r.header.Get("Retry-After") != "60" || r.header.Get("Content-Type") != ProblemContentType {
		t.Fatalf("after 3 failures: %d %v %s", r.status, r.header, r.body)
	}
	clock.Advance(45 * time.Second)
	if r := call(t, app, "GET", disc, testAdminKey, ""); r.status != 429 || r.header.Get("Retry-After") != "15" {
		t.Errorf("later: %d %s", r.status, r.header.Get("Retry-After"))
	}
	clock.Advance(15 * time.Second)
	if r := call(t, app, "GET", disc+"?limit=1", testAdminKey, ""); r.status != 200 {
		t.Errorf("after the window: %d", r.status)
	}
}

func TestFailureLimiterPerKeyID(t *testing.T) {
	clock := newTestClock()
	l := newFailureLimiter(2, time.Minute, clock.Now)
	l.fail("10.0.0.1", "k")
	l.fail("10.0.0.2", "k")
	if err := l.check("10.0.0.3", "k"); err == nil {
		t.Error("key id over the limit from a fresh address")
	}
	if err := l.check("10.0.0.3", "other"); err != nil {
		t.Errorf("other key: %v", err)
	}
	if err := l.check("10.0.0.1", ""); err != nil {
		t.Errorf("address with one failure: %v", err)
	}
}

func TestIdempotency(t *testing.T) {
	db := newTestDB(t)
	app := New(db, Config{})
	body := `{"roles":["Analyst"],"description":"idem"}`
	r1 := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "abc")
	r2 := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "abc")
	if r1.status != 201 || r2.status != 201 || r1.body != r2.body || r2.header.Get("Idempotent-Replayed") != "true" ||
		r2.header.Get("Location") != r1.header.Get("Location") {
		t.Fatalf("replay: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if r := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"roles":["Auditor"]}`, HeaderIdempotencyKey, "abc"); r.status != 409 {
		t.Errorf("other body: %d %s", r.status, r.body)
	}
	// Another key may use the same Idempotency-Key independently.
	if r := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "abc2"); r.status != 201 || r.body == r1.body {
		t.Errorf("new idempotency key: %d", r.status)
	}
	keys, _ := db.ListKeys(context.Background())
	n := 0
	for _, k := range keys {
		if k.Description == "idem" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d keys created, want 2", n)
	}
	// Errors other than 5xx are replayed too.
	bad := `{"roles":["Nope"]}`
	a := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, bad, HeaderIdempotencyKey, "e")
	b := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, bad, HeaderIdempotencyKey, "e")
	if a.status != 400 || b.status != 400 || b.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("error replay: %d %d", a.status, b.status)
	}
}

func TestIdempotencyExpires(t *testing.T) {
	clock := newTestClock()
	app := New(newTestDB(t), Config{AuthNow: clock.Now})
	body := `{"roles":["Analyst"]}`
	r1 := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "x")
	clock.Advance(24*time.Hour - time.Second)
	if r := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "x"); r.body != r1.body {
		t.Error("replay within 24 h")
	}
	clock.Advance(time.Second)
	if r := call(t, app, "POST", "/api/v1/api_keys", testAdminKey, body, HeaderIdempotencyKey, "x"); r.status != 201 || r.body == r1.body {
		t.Error("after 24 h the key is new")
	}
}

func TestAuditAPI(t *testing.T) {
	db := newTestDB(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	clock := newTestClock()
	app := New(db, Config{AuditKey: priv, AuthNow: clock.Now})
	bad := KeyPrefix + "test-Analyst_" + strings.Repeat("C", 43)
	call(t, app, "GET", disc, bad, "", HeaderRequestID, "req-bad")
	call(t, app, "GET", disc, "", "")
	clock.Advance(time.Minute)
	call(t, app, "POST", "/api/v1/api_keys", testAdminKey, `{"keyId":"aud","roles":["Analyst"]}`)
	call(t, app, "GET", "/api/v1/api_keys", testKeyFor("Analyst"), "")        // 403: audited
	call(t, app, "GET", disc+"?limit=1", testKeyFor("Analyst"), "")           // read: not audited
	call(t, app, "POST", disc+"/query", testKeyFor("Analyst"), `{"limit":1}`) // read: not audited

	type auditPage struct {
		Data          []engine.AuditEntry
		FilteredCount int64
	}
	r := call(t, app, "GET", "/api/v1/audit", testKeyFor("Auditor"), "")
	p := decode[auditPage](t, r)
	if r.status != 200 || len(p.Data) != 4 || p.FilteredCount != 4 || strings.Contains(r.body, strings.Repeat("C", 43)) ||
		strings.Contains(r.body, testSecret) {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	want := []string{
		"test-Analyst GET /api/v1/dta_discovery 401 req-bad",
		" GET /api/v1/dta_discovery 401 test-1",
		"test-admin POST /api/v1/api_keys 201 test-1",
		"test-Analyst GET /api/v1/api_keys 403 test-1",
	}
	for i, e := range p.Data {
		if got := fmt.Sprintf("%s %s %s %d %s", e.KeyID, e.Method, e.Route, e.Status, e.RequestID); got != want[i] || e.Source == "" {
			t.Errorf("entry %d: %s, want %s", i, got, want[i])
		}
	}
	for q, n := range map[string]int{"?outcome=failure": 3, "?outcome=201": 1, "?keyId=test-Analyst": 2, "?limit=1&offset=1": 1,
		"?from=" + clock.Now().Format(time.RFC3339): 2, "?to=" + clock.Now().Format(time.RFC3339): 2} {
		r := call(t, app, "GET", "/api/v1/audit"+q, testKeyFor("Auditor"), "")
		if got := len(decode[auditPage](t, r).Data); r.status != 200 || got != n {
			t.Errorf("%s: %d entries, want %d: %s", q, got, n, r.body)
		}
	}
	for _, q := range []string{"?outcome=maybe", "?limit=0", "?from=yesterday"} {
		if r := call(t, app, "GET", "/api/v1/audit"+q, testKeyFor("Auditor"), ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
	if n, err := db.VerifyAudit(context.Background(), priv.Public().(ed25519.PublicKey)); err != nil || n < 4 {
		t.Errorf("verify: %d %v", n, err)
	}
}

// TestUnknownAndWrongSecretLookAlike: an unknown key id, a wrong secret, a locked key and
// a malformed value get byte-identical answers.
func TestUnknownAndWrongSecretLookAlike(t *testing.T) {
	db := newTestDB(t)
	app := New(db, Config{})
	if err := db.SetKeyLocked(context.Background(), "test-Auditor", true); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, key := range []string{
		KeyPrefix + "nosuch_" + testSecret,
		KeyPrefix + "test-admin_" + strings.Repeat("B", 43),
		testKeyFor("Auditor"),
		"garbage",
	} {
		r := call(t, app, "GET", disc, key, "")
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="cipherscope"` {
			t.Errorf("%s: %d", key, r.status)
		}
		bodies = append(bodies, r.body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("answers differ:\n%s\n%s", bodies[0], b)
		}
	}
}
