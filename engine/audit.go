package engine

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// AuditTable holds the audit log: one row per audited request, hash-chained and signed.
const AuditTable = "cs_audit_log"

const auditDDL = `CREATE TABLE IF NOT EXISTS ` + AuditTable + ` (
	seq BIGINT PRIMARY KEY, ts TIMESTAMP NOT NULL, key_id VARCHAR NOT NULL, source VARCHAR NOT NULL,
	method VARCHAR NOT NULL, route VARCHAR NOT NULL, path VARCHAR NOT NULL, status INTEGER NOT NULL,
	request_id VARCHAR NOT NULL, detail VARCHAR NOT NULL,
	prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL, signature VARCHAR NOT NULL)`

// AuditEntry is one audit record. Hash is SHA-256 over the previous entry's hash (32 zero
// bytes for the first) followed by the canonical JSON of the entry (Canonical); Signature
// is the ed25519 signature of Hash. KeyID never holds a secret.
type AuditEntry struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"keyId"`
	Source    string    `json:"source"`
	Method    string    `json:"method"`
	Route     string    `json:"route"`
	Path      string    `json:"path"`
	Status    int       `json:"status"`
	RequestID string    `json:"requestId"`
	Detail    string    `json:"detail"`
	PrevHash  string    `json:"prevHash"`
	Hash      string    `json:"hash"`
	Signature string    `json:"signature"`
}

// canonicalEntry fixes the field order and the time format of the hashed document.
type canonicalEntry struct {
	Seq       int64  `json:"seq"`
	Time      string `json:"time"`
	KeyID     string `json:"keyId"`
	Source    string `json:"source"`
	Method    string `json:"method"`
	Route     string `json:"route"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	RequestID string `json:"requestId"`
	Detail    string `json:"detail"`
}

// Canonical returns the JSON document the entry's hash covers.
func (e AuditEntry) Canonical() []byte {
	b, _ := json.Marshal(canonicalEntry{Seq: e.Seq, Time: e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), KeyID: e.KeyID,
		Source: e.Source, Method: e.Method, Route: e.Route, Path: e.Path, Status: e.Status, RequestID: e.RequestID, Detail: e.Detail})
	return b
}

// chainHash computes an entry's hash from the previous hash (hex, "" for none).
func chainHash(prevHex string, e AuditEntry) ([]byte, error) {
	prev := make([]byte, sha256.Size)
	if prevHex != "" {
		p, err := hex.DecodeString(prevHex)
		if err != nil || len(p) != sha256.Size {
			return nil, fmt.Errorf("bad previous hash %q", prevHex)
		}
		prev = p
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(e.Canonical())
	return h.Sum(nil), nil
}

// auditMu serialises appends within the process (the chain needs the previous hash);
// the primary key on seq catches another process appending at the same time.
var auditMu sync.Mutex

const auditColumns = `seq, ts, key_id, source, method, route, path, status, request_id, detail, prev_hash, hash, signature`

// AppendAudit appends e (Seq, PrevHash, Hash and Signature are filled in) and returns the
// stored entry.
func (db *DB) AppendAudit(ctx context.Context, e AuditEntry, key ed25519.PrivateKey) (AuditEntry, error) {
	const op = "append audit"
	if len(key) != ed25519.PrivateKeySize {
		return AuditEntry{}, errorf(Invalid, op, "no audit signing key")
	}
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return AuditEntry{}, err
	}
	auditMu.Lock()
	defer auditMu.Unlock()
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var out AuditEntry
		if out, err = db.appendAuditOnce(ctx, e, key); err == nil {
			return out, nil
		}
		if ErrorKind(err) != Conflict {
			break
		}
	}
	return AuditEntry{}, wrap(ctx, op, err)
}

func (db *DB) appendAuditOnce(ctx context.Context, e AuditEntry, key ed25519.PrivateKey) (AuditEntry, error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return e, err
	}
	defer tx.Rollback() //nolint:errcheck
	var last int64
	var prev string
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM `+AuditTable+` ORDER BY seq DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	e.Seq, e.PrevHash = last+1, prev
	h, err := chainHash(prev, e)
	if err != nil {
		return e, err
	}
	e.Hash = hex.EncodeToString(h)
	e.Signature = hex.EncodeToString(ed25519.Sign(key, h))
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+AuditTable+` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.Time, e.KeyID, e.Source, e.Method, e.Route, e.Path, e.Status, e.RequestID, e.Detail,
		e.PrevHash, e.Hash, e.Signature); err != nil {
		return e, wrap(ctx, "append audit", err)
	}
	return e, wrap(ctx, "append audit", tx.Commit())
}

// AuditFilter selects audit entries. Zero fields select everything.
type AuditFilter struct {
	From, To time.Time // From inclusive, To exclusive
	KeyID    string
	// Outcome is "success" (status < 400), "failure" (>= 400) or a status code.
	Outcome       string
	Limit, Offset int
}

// ListAudit returns the entries selected by f in sequence order and how many match in
// all (without limit and offset).
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	const op = "list audit"
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	if !f.From.IsZero() {
		where, args = append(where, "ts >= ?"), append(args, f.From.UTC())
	}
	if !f.To.IsZero() {
		where, args = append(where, "ts < ?"), append(args, f.To.UTC())
	}
	if f.KeyID != "" {
		where, args = append(where, "key_id = ?"), append(args, f.KeyID)
	}
	switch f.Outcome {
	case "":
	case "success":
		where = append(where, "status < 400")
	case "failure":
		where = append(where, "status >= 400")
	default:
		var code int
		if _, err := fmt.Sscanf(f.Outcome, "%d", &code); err != nil || code < 100 || code > 599 || fmt.Sprint(code) != f.Outcome {
			return nil, 0, errorf(Invalid, op, "outcome must be success, failure or a status code, got %q", f.Outcome)
		}
		where, args = append(where, "status = ?"), append(args, code)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int64
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM `+AuditTable+cond, args...).Scan(&total); err != nil {
		return nil, 0, wrap(ctx, op, err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	out, err := queryAll(ctx, db, op, scanAuditEntry, `SELECT `+auditColumns+` FROM `+AuditTable+cond+` ORDER BY seq LIMIT ? OFFSET ?`,
		append(args, limit, max(f.Offset, 0))...)
	return out, total, err
}

// AuditVerifyError reports the first entry that breaks the chain.
type AuditVerifyError struct {
	Seq    int64
	Reason string
}

// Error implements error.
func (e *AuditVerifyError) Error() string {
	return fmt.Sprintf("audit log broken at sequence number %d: %s", e.Seq, e.Reason)
}

// VerifyAudit checks the whole chain with the public key: consecutive sequence numbers
// from 1, each entry's prev_hash equal to the previous hash, each hash recomputed from
// the stored columns, each signature valid. It returns the number of entries checked;
// a broken chain is an *AuditVerifyError naming the first bad sequence number (for a
// removed entry, the missing number). Removing entries from the end cannot be detected
// from the log alone.
func (db *DB) VerifyAudit(ctx context.Context, pub ed25519.PublicKey) (int64, error) {
	const op = "verify audit"
	if len(pub) != ed25519.PublicKeySize {
		return 0, errorf(Invalid, op, "bad audit public key")
	}
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return 0, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT `+auditColumns+` FROM `+AuditTable+` ORDER BY seq`)
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	defer rows.Close()
	var n int64
	prev := ""
	for rows.Next() {
		e, err := scanAuditEntry(rows)
		if err != nil {
			return n, wrap(ctx, op, err)
		}
		want := n + 1
		bad := func(reason string) error { return &AuditVerifyError{Seq: want, Reason: reason} }
		switch {
		case e.Seq != want:
			return n, bad(fmt.Sprintf("expected entry %d, found %d (an entry was removed or reordered)", want, e.Seq))
		case e.PrevHash != prev:
			return n, bad("prev_hash does not match the previous entry's hash")
		}
		h, err := chainHash(prev, e)
		if err != nil {
			return n, bad(err.Error())
		}
		stored, err := hex.DecodeString(e.Hash)
		if err != nil || !bytes.Equal(stored, h) {
			return n, bad("the entry's content does not match its hash (edited)")
		}
		sig, err := hex.DecodeString(e.Signature)
		if err != nil || !ed25519.Verify(pub, h, sig) {
			return n, bad("bad signature")
		}
		prev = e.Hash
		n++
	}
	if err := rows.Err(); err != nil {
		return n, wrap(ctx, op, err)
	}
	return n, nil
}

// IsAuditBroken reports whether err is a broken-chain verdict and its sequence number.
func IsAuditBroken(err error) (int64, bool) {
	var ve *AuditVerifyError
	if errors.As(err, &ve) {
		return ve.Seq, true
	}
	return 0, false
}

// scanAuditEntry reads one row of auditColumns.
func scanAuditEntry(r rowScanner) (AuditEntry, error) {
	var e AuditEntry
	err := r.Scan(&e.Seq, &e.Time, &e.KeyID, &e.Source, &e.Method, &e.Route, &e.Path, &e.Status,
		&e.RequestID, &e.Detail, &e.PrevHash, &e.Hash, &e.Signature)
	e.Time = e.Time.UTC()
	return e, err
}
