package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cipherscope/cipherscope/engine"
)

func TestKeysCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "k.duckdb")
	code, out, errOut := runCLI(nil, "keys", "create", "--db", db, "--roles", "Administrator", "--key-id", "admin-1")
	if code != 0 || !regexp.MustCompile(`^csk_admin-1_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("create: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCLI(nil, "keys", "create", "--db", db, "--roles", "Analyst,Auditor", "--description", "ci")
	if code != 0 || !strings.HasPrefix(out, "csk_") {
		t.Fatalf("create random id: %d %q", code, out)
	}
	imported := "csk_old-1_" + strings.Repeat("q", 40)
	if code, out, errOut := runCLI(nil, "keys", "import", "--db", db, "--roles", "Auditor", imported); code != 0 || out != "old-1\n" {
		t.Fatalf("import: %d %q %q", code, out, errOut)
	}
	for _, tt := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"keys", "create", "--db", db}, "cipherscope keys: --roles is required\n"},
		{[]string{"keys", "create", "--db", db, "--roles", "Nope"}, "cipherscope keys: engine: create key: unknown role \"Nope\"\n"},
		{[]string{"keys", "create", "--db", db, "--roles", "Analyst", "--key-id", "admin-1"}, "cipherscope keys: engine: create key: an API key \"admin-1\" exists already\n"},
		{[]string{"keys", "import", "--db", db, "--roles", "Analyst", "csk_bad"}, "cipherscope keys: the key must be csk_<keyId>_<secret> (secret: 32-256 base64url characters)\n"},
		{[]string{"keys", "lock", "--db", db, "nosuch"}, "cipherscope keys: engine: lock key: no API key \"nosuch\"\n"},
		{[]string{"keys", "frob", "--db", db}, "cipherscope keys: unknown action \"frob\": create, import, list, edit, lock, unlock or delete\n"},
	} {
		if code, out, errOut := runCLI(nil, tt.args...); code != 2 || out != "" || errOut != tt.stderr {
			t.Errorf("%v: %d %q %q", tt.args, code, out, errOut)
		}
	}
	if code, _, errOut := runCLI(nil, "keys", "edit", "--db", db, "--description", "boss", "--reauth-timeout", "5m", "admin-1"); code != 0 {
		t.Fatalf("edit: %s", errOut)
	}
	if code, _, errOut := runCLI(nil, "keys", "lock", "--db", db, "old-1"); code != 0 {
		t.Fatalf("lock: %s", errOut)
	}
	code, out, _ = runCLI(nil, "keys", "list", "--db", db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || strings.Contains(out, strings.Repeat("q", 40)) {
		t.Fatalf("list: %d %s", code, out)
	}
	byID := map[string]map[string]any{}
	for _, l := range lines {
		var k map[string]any
		_ = json.Unmarshal([]byte(l), &k)
		byID[k["keyId"].(string)] = k
	}
	if k := byID["admin-1"]; k["description"] != "boss" || k["reauthenticationTimeout"] != 300.0 || k["locked"] != false {
		t.Errorf("edited key %v", k)
	}
	if k := byID["old-1"]; k["locked"] != true {
		t.Errorf("locked key %v", k)
	}
	if code, _, errOut := runCLI(nil, "keys", "delete", "--db", db, "old-1"); code != 0 {
		t.Fatalf("delete: %s", errOut)
	}
	if _, out, _ := runCLI(nil, "keys", "list", "--db", db); strings.Contains(out, "old-1") {
		t.Error("deleted key listed")
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "a.duckdb")
	ctx := context.Background()
	key, err := loadAuditKey(auditKeyPath(db, ""), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(db + ".audit-key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	d, err := engine.Open(ctx, engine.Config{Path: db})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := d.AppendAudit(ctx, engine.AuditEntry{Time: time.Now(), KeyID: "k", Method: "POST", Route: "/x", Status: 200 + i}, key); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	if code, out, errOut := runCLI(nil, "audit", "verify", "--db", db); code != 0 || out != "ok: 4 audit entries verified\n" {
		t.Fatalf("verify: %d %q %q", code, out, errOut)
	}
	raw, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`DELETE FROM ` + engine.AuditTable + ` WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	code, out, errOut := runCLI(nil, "audit", "verify", "--db", db)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "cipherscope audit: audit log broken at sequence number 2: ") {
		t.Errorf("after delete: %d %q %q", code, out, errOut)
	}
}

// TestCursorKey: the cursor key is a fixed function of the audit key (so cursors survive
// a restart that keeps the key file) and is not the audit key's seed itself.
func TestCursorKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.audit-key")
	first, err := loadAuditKey(path, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadAuditKey(path, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := loadAuditKey("", &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	k := cursorKey(first)
	if len(k) != 32 || !bytes.Equal(k, cursorKey(again)) || bytes.Equal(k, cursorKey(other)) || bytes.Equal(k, first.Seed()) {
		t.Errorf("cursor keys: %x / %x / %x", k, cursorKey(again), cursorKey(other))
	}
}
