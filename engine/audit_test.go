package engine

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

func openAuthTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), Config{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func seedAudit(t *testing.T, db *DB, key ed25519.PrivateKey, n int) {
	t.Helper()
	base := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i := range n {
		_, err := db.AppendAudit(context.Background(), AuditEntry{Time: base.Add(time.Duration(i) * time.Minute),
			KeyID: fmt.Sprintf("k%d", i%2), Source: "127.0.0.1", Method: "POST", Route: "/api/v1/api_keys",
			Path: "/api/v1/api_keys", Status: 201 + 200*(i%2), RequestID: fmt.Sprint("r", i)}, key)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	ctx := context.Background()
	pub, priv, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name    string
		tamper  []string
		wantSeq int64
	}{
		{"intact", nil, 0},
		{"edited status", []string{`UPDATE ` + AuditTable + ` SET status = 200 WHERE seq = 3`}, 3},
		{"edited key id", []string{`UPDATE ` + AuditTable + ` SET key_id = 'other' WHERE seq = 2`}, 2},
		{"edited time", []string{`UPDATE ` + AuditTable + ` SET ts = ts + INTERVAL 1 SECOND WHERE seq = 4`}, 4},
		{"deleted row", []string{`DELETE FROM ` + AuditTable + ` WHERE seq = 3`}, 3},
		{"deleted first row", []string{`DELETE FROM ` + AuditTable + ` WHERE seq = 1`}, 1},
		{"swapped rows", []string{
			`UPDATE ` + AuditTable + ` SET seq = 100 WHERE seq = 2`,
			`UPDATE ` + AuditTable + ` SET seq = 2 WHERE seq = 4`,
			`UPDATE ` + AuditTable + ` SET seq = 4 WHERE seq = 100`}, 2},
		{"re-hashed without the signing key", []string{
			`UPDATE ` + AuditTable + ` SET status = 200 WHERE seq = 5`}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openAuthTest(t)
			seedAudit(t, db, priv, 5)
			for _, s := range tt.tamper {
				if _, err := db.sql.ExecContext(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			if tt.name == "re-hashed without the signing key" {
				// Recompute the edited entry's hash correctly: only the signature is then wrong.
				es, _, _ := db.ListAudit(ctx, AuditFilter{Limit: 10})
				h, _ := chainHash(es[3].Hash, es[4])
				if _, err := db.sql.ExecContext(ctx, `UPDATE `+AuditTable+` SET hash = ? WHERE seq = 5`, fmt.Sprintf("%x", h)); err != nil {
					t.Fatal(err)
				}
			}
			n, err := db.VerifyAudit(ctx, pub)
			seq, broken := IsAuditBroken(err)
			if tt.wantSeq == 0 {
				if err != nil || n != 5 {
					t.Fatalf("intact log: n=%d err=%v", n, err)
				}
				return
			}
			if !broken || seq != tt.wantSeq {
				t.Fatalf("want broken at %d, got n=%d err=%v", tt.wantSeq, n, err)
			}
		})
	}
}

func TestAuditWrongPublicKey(t *testing.T) {
	db := openAuthTest(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	seedAudit(t, db, priv, 2)
	if _, err := db.VerifyAudit(context.Background(), other); err == nil {
		t.Fatal("verified with the wrong public key")
	}
}

func TestAuditListFilters(t *testing.T) {
	ctx := context.Background()
	db := openAuthTest(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	seedAudit(t, db, priv, 6)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		f     AuditFilter
		seqs  []int64
		total int64
	}{
		{AuditFilter{}, []int64{1, 2, 3, 4, 5, 6}, 6},
		{AuditFilter{KeyID: "k1"}, []int64{2, 4, 6}, 3},
		{AuditFilter{Outcome: "failure"}, []int64{2, 4, 6}, 3},
		{AuditFilter{Outcome: "201"}, []int64{1, 3, 5}, 3},
		{AuditFilter{From: base.Add(2 * time.Minute), To: base.Add(4 * time.Minute)}, []int64{3, 4}, 2},
		{AuditFilter{Limit: 2, Offset: 3}, []int64{4, 5}, 6},
	}
	for _, tt := range tests {
		es, total, err := db.ListAudit(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range es {
			seqs = append(seqs, e.Seq)
		}
		if fmt.Sprint(seqs) != fmt.Sprint(tt.seqs) || total != tt.total {
			t.Errorf("%+v: got %v total %d, want %v total %d", tt.f, seqs, total, tt.seqs, tt.total)
		}
	}
	if _, _, err := db.ListAudit(ctx, AuditFilter{Outcome: "bogus"}); ErrorKind(err) != Invalid {
		t.Errorf("bad outcome: %v", err)
	}
}

func TestKeysAndRoles(t *testing.T) {
	ctx := context.Background()
	db := openAuthTest(t)
	h := sha256.Sum256([]byte("secret"))
	k, err := db.CreateKey(ctx, APIKey{ID: "k1", SecretHash: h[:], Roles: []string{"Analyst"}, ReauthTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, k); ErrorKind(err) != Conflict {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := db.CreateKey(ctx, APIKey{ID: "k_2", SecretHash: h[:], Roles: []string{"Analyst"}}); ErrorKind(err) != Invalid {
		t.Errorf("bad id: %v", err)
	}
	if _, err := db.CreateKey(ctx, APIKey{ID: "k2", SecretHash: h[:], Roles: []string{"Nope"}}); ErrorKind(err) != Invalid {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := db.CreateRole(ctx, Role{Name: "Certs", Permissions: []string{"dta:read", "bogus"}}); ErrorKind(err) != Invalid {
		t.Errorf("unknown permission: %v", err)
	}
	if _, err := db.CreateRole(ctx, Role{Name: "Certs", Permissions: []string{"dta:read", "cbom:read"}}); err != nil {
		t.Fatal(err)
	}
	roles := []string{"Analyst", "Certs", "Auditor"}
	if _, err := db.UpdateKey(ctx, "k1", KeyUpdate{Roles: &roles}); err != nil {
		t.Fatal(err)
	}
	perms, err := db.KeyPermissions(ctx, roles)
	if err != nil || fmt.Sprint(perms) != "[audit:read cbom:read dta:read snapshots:read]" {
		t.Errorf("perms %v %v", perms, err)
	}
	if err := db.DeleteRole(ctx, "Certs"); ErrorKind(err) != Conflict {
		t.Errorf("delete role in use: %v", err)
	}
	if _, err := db.UpdateRole(ctx, "Administrator", nil, &[]string{}); ErrorKind(err) != Invalid {
		t.Errorf("edit built-in: %v", err)
	}
	if err := db.DeleteRole(ctx, "Analyst"); ErrorKind(err) != Invalid {
		t.Errorf("delete built-in: %v", err)
	}
	if err := db.SetKeyLocked(ctx, "k1", true); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetKey(ctx, "k1"); !got.Locked || got.ReauthTimeout != time.Minute {
		t.Errorf("after lock %+v", got)
	}
	if err := db.DeleteKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetKey(ctx, "k1"); ErrorKind(err) != NotFound {
		t.Errorf("deleted key: %v", err)
	}
	if err := db.DeleteRole(ctx, "Certs"); err != nil {
		t.Errorf("delete unused role: %v", err)
	}
}
