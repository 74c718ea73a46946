package engine

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Tables of API keys and roles. They are created by EnsureAuthSchema (lazily by every
// method here), not by the dataset schema, so a database without them opens as before.
const (
	KeysTable  = "cs_api_keys"
	RolesTable = "cs_api_roles"
)

// Permissions a role can grant (DESIGN section 4), in a stable order.
var AllPermissions = []string{
	"dta:read", "snapshots:read", "snapshots:write", "cbom:read", "ingest:write",
	"keys:admin", "roles:admin", "audit:read",
}

// Role is a named set of permissions. Built-in roles cannot be changed or deleted.
type Role struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Permissions []string  `json:"permissions"`
	BuiltIn     bool      `json:"builtIn"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// BuiltinRoles are created in every database and are immutable.
var BuiltinRoles = []Role{
	{Name: "Administrator", Description: "every permission", Permissions: AllPermissions, BuiltIn: true},
	{Name: "Operator", Description: "every permission except key and role administration",
		Permissions: []string{"dta:read", "snapshots:read", "snapshots:write", "cbom:read", "ingest:write", "audit:read"}, BuiltIn: true},
	{Name: "Analyst", Description: "read discovery, certificates, CBOM and snapshots",
		Permissions: []string{"dta:read", "cbom:read", "snapshots:read"}, BuiltIn: true},
	{Name: "Auditor", Description: "read the audit log", Permissions: []string{"audit:read"}, BuiltIn: true},
}

// APIKey is a stored key. SecretHash is SHA-256 of the secret part; the secret itself is
// never stored.
type APIKey struct {
	ID            string
	SecretHash    []byte
	Description   string
	Roles         []string
	ReauthTimeout time.Duration
	Locked        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// KeyUpdate lists the editable fields of a key; nil fields are left alone.
type KeyUpdate struct {
	Description   *string
	Roles         *[]string
	ReauthTimeout *time.Duration
}

var (
	keyIDPattern    = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	roleNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$`)
)

// ValidKeyID reports whether id may name a key: 1-64 of [A-Za-z0-9-] (no '_', which
// separates the id from the secret in a key value).
func ValidKeyID(id string) bool { return keyIDPattern.MatchString(id) }

// MaxReauthTimeout bounds a key's reauthentication timeout.
const MaxReauthTimeout = 24 * time.Hour

// authSchemaDone remembers the databases whose auth tables exist.
var authSchemaDone sync.Map // *DB -> struct{}

// EnsureAuthSchema creates the key, role and audit tables if missing and the built-in
// roles. It is idempotent and cheap after the first call.
func (db *DB) EnsureAuthSchema(ctx context.Context) error {
	if _, ok := authSchemaDone.Load(db); ok {
		return nil
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + RolesTable + ` (
			name VARCHAR PRIMARY KEY, description VARCHAR NOT NULL, permissions VARCHAR NOT NULL,
			builtin BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + KeysTable + ` (
			key_id VARCHAR PRIMARY KEY, secret_sha256 VARCHAR NOT NULL, description VARCHAR NOT NULL,
			roles VARCHAR NOT NULL, reauth_timeout_secs BIGINT NOT NULL, locked BOOLEAN NOT NULL,
			created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL)`,
		auditDDL,
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, "auth schema", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return wrap(ctx, "auth schema", err)
		}
	}
	now := time.Now().UTC()
	for _, r := range BuiltinRoles {
		perms, _ := json.Marshal(r.Permissions)
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+RolesTable+` VALUES (?, ?, ?, true, ?, ?)
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, builtin = true`,
			r.Name, r.Description, string(perms), now, now); err != nil {
			return wrap(ctx, "auth schema", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return wrap(ctx, "auth schema", err)
	}
	authSchemaDone.Store(db, struct{}{})
	return nil
}

const keyColumns = `key_id, secret_sha256, description, roles, reauth_timeout_secs, locked, created_at, updated_at`

type rowScanner interface{ Scan(...any) error }

func scanKey(r rowScanner) (APIKey, error) {
	var k APIKey
	var hash, roles string
	var secs int64
	if err := r.Scan(&k.ID, &hash, &k.Description, &roles, &secs, &k.Locked, &k.CreatedAt, &k.UpdatedAt); err != nil {
		return k, err
	}
	k.SecretHash, _ = hex.DecodeString(hash)
	_ = json.Unmarshal([]byte(roles), &k.Roles)
	if k.Roles == nil {
		k.Roles = []string{}
	}
	k.ReauthTimeout = time.Duration(secs) * time.Second
	return k, nil
}

// CountKeys returns the number of stored keys (locked ones included).
func (db *DB) CountKeys(ctx context.Context) (int64, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM `+KeysTable).Scan(&n)
	return n, wrap(ctx, "count keys", err)
}

// GetKey returns one key; kind NotFound when there is none.
func (db *DB) GetKey(ctx context.Context, id string) (APIKey, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return APIKey{}, err
	}
	k, err := scanKey(db.sql.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM `+KeysTable+` WHERE key_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, errorf(NotFound, "get key", "no API key %q", id)
	}
	return k, wrap(ctx, "get key", err)
}

// ListKeys returns every key ordered by id.
func (db *DB) ListKeys(ctx context.Context) ([]APIKey, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return nil, err
	}
	return queryAll(ctx, db, "list keys", scanKey, `SELECT `+keyColumns+` FROM `+KeysTable+` ORDER BY key_id`)
}

// validateKey checks the fields a caller sets.
func (db *DB) validateKey(ctx context.Context, tx *sql.Tx, op string, k APIKey) error {
	if !ValidKeyID(k.ID) {
		return errorf(Invalid, op, "keyId %q must be 1-64 characters of A-Z, a-z, 0-9 and '-'", k.ID)
	}
	if len(k.SecretHash) != 32 {
		return errorf(Invalid, op, "the secret hash must be 32 bytes")
	}
	if len(k.Description) > 1024 {
		return errorf(Invalid, op, "description is longer than 1024 characters")
	}
	if k.ReauthTimeout < 0 || k.ReauthTimeout > MaxReauthTimeout || k.ReauthTimeout%time.Second != 0 {
		return errorf(Invalid, op, "reauthenticationTimeout must be whole seconds between 0 and %d", int(MaxReauthTimeout/time.Second))
	}
	return checkRolesExist(ctx, tx, op, k.Roles)
}

func checkRolesExist(ctx context.Context, tx *sql.Tx, op string, roles []string) error {
	if len(roles) == 0 {
		return errorf(Invalid, op, "a key needs at least one role")
	}
	seen := map[string]bool{}
	for _, r := range roles {
		if seen[r] {
			return errorf(Invalid, op, "role %q is listed twice", r)
		}
		seen[r] = true
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+RolesTable+` WHERE name = ?`, r).Scan(&n); err != nil {
			return wrap(ctx, op, err)
		}
		if n == 0 {
			return errorf(Invalid, op, "unknown role %q", r)
		}
	}
	return nil
}

// CreateKey stores a new key; kind Conflict when the id is taken.
func (db *DB) CreateKey(ctx context.Context, k APIKey) (APIKey, error) {
	const op = "create key"
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return APIKey{}, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return APIKey{}, wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck
	if err := db.validateKey(ctx, tx, op, k); err != nil {
		return APIKey{}, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+KeysTable+` WHERE key_id = ?`, k.ID).Scan(&n); err != nil {
		return APIKey{}, wrap(ctx, op, err)
	}
	if n > 0 {
		return APIKey{}, errorf(Conflict, op, "an API key %q exists already", k.ID)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	k.CreatedAt, k.UpdatedAt = now, now
	roles, _ := json.Marshal(k.Roles)
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+KeysTable+` VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, hex.EncodeToString(k.SecretHash), k.Description, string(roles), int64(k.ReauthTimeout/time.Second),
		k.Locked, now, now); err != nil {
		return APIKey{}, wrap(ctx, op, err)
	}
	return k, wrap(ctx, op, tx.Commit())
}

// UpdateKey changes the editable fields of a key.
func (db *DB) UpdateKey(ctx context.Context, id string, u KeyUpdate) (APIKey, error) {
	const op = "edit key"
	k, err := db.GetKey(ctx, id)
	if err != nil {
		return APIKey{}, err
	}
	if u.Description != nil {
		k.Description = *u.Description
	}
	if u.Roles != nil {
		k.Roles = *u.Roles
	}
	if u.ReauthTimeout != nil {
		k.ReauthTimeout = *u.ReauthTimeout
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return APIKey{}, wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck
	if err := db.validateKey(ctx, tx, op, k); err != nil {
		return APIKey{}, err
	}
	k.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	roles, _ := json.Marshal(k.Roles)
	res, err := tx.ExecContext(ctx, `UPDATE `+KeysTable+` SET description = ?, roles = ?, reauth_timeout_secs = ?, updated_at = ? WHERE key_id = ?`,
		k.Description, string(roles), int64(k.ReauthTimeout/time.Second), k.UpdatedAt, id)
	if err != nil {
		return APIKey{}, wrap(ctx, op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return APIKey{}, errorf(NotFound, op, "no API key %q", id)
	}
	return k, wrap(ctx, op, tx.Commit())
}

// SetKeyLocked locks or unlocks a key.
func (db *DB) SetKeyLocked(ctx context.Context, id string, locked bool) error {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return err
	}
	res, err := db.sql.ExecContext(ctx, `UPDATE `+KeysTable+` SET locked = ?, updated_at = ? WHERE key_id = ?`,
		locked, time.Now().UTC(), id)
	if err != nil {
		return wrap(ctx, "lock key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errorf(NotFound, "lock key", "no API key %q", id)
	}
	return nil
}

// DeleteKey removes a key for good.
func (db *DB) DeleteKey(ctx context.Context, id string) error {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return err
	}
	res, err := db.sql.ExecContext(ctx, `DELETE FROM `+KeysTable+` WHERE key_id = ?`, id)
	if err != nil {
		return wrap(ctx, "delete key", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errorf(NotFound, "delete key", "no API key %q", id)
	}
	return nil
}

// KeyPermissions returns the union of the permissions of roles, sorted. Unknown roles
// (deleted since) grant nothing.
func (db *DB) KeyPermissions(ctx context.Context, roles []string) ([]string, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, name := range roles {
		var perms string
		err := db.sql.QueryRowContext(ctx, `SELECT permissions FROM `+RolesTable+` WHERE name = ?`, name).Scan(&perms)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, wrap(ctx, "key permissions", err)
		}
		var ps []string
		_ = json.Unmarshal([]byte(perms), &ps)
		for _, p := range ps {
			set[p] = true
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

const roleColumns = `name, description, permissions, builtin, created_at, updated_at`

func scanRole(r rowScanner) (Role, error) {
	var role Role
	var perms string
	if err := r.Scan(&role.Name, &role.Description, &perms, &role.BuiltIn, &role.CreatedAt, &role.UpdatedAt); err != nil {
		return role, err
	}
	_ = json.Unmarshal([]byte(perms), &role.Permissions)
	if role.Permissions == nil {
		role.Permissions = []string{}
	}
	return role, nil
}

// ListRoles returns every role: the built-in ones first, then by name.
func (db *DB) ListRoles(ctx context.Context) ([]Role, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return nil, err
	}
	return queryAll(ctx, db, "list roles", scanRole, `SELECT `+roleColumns+` FROM `+RolesTable+` ORDER BY NOT builtin, name`)
}

// GetRole returns one role; kind NotFound when there is none.
func (db *DB) GetRole(ctx context.Context, name string) (Role, error) {
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return Role{}, err
	}
	r, err := scanRole(db.sql.QueryRowContext(ctx, `SELECT `+roleColumns+` FROM `+RolesTable+` WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, errorf(NotFound, "get role", "no role %q", name)
	}
	return r, wrap(ctx, "get role", err)
}

func validatePermissions(op string, perms []string) ([]string, error) {
	out := []string{}
	for _, p := range perms {
		if !slices.Contains(AllPermissions, p) {
			return nil, errorf(Invalid, op, "unknown permission %q (known: %s)", p, strings.Join(AllPermissions, ", "))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// CreateRole stores a custom role.
func (db *DB) CreateRole(ctx context.Context, r Role) (Role, error) {
	const op = "create role"
	if err := db.EnsureAuthSchema(ctx); err != nil {
		return Role{}, err
	}
	if !roleNamePattern.MatchString(r.Name) {
		return Role{}, errorf(Invalid, op, "role name %q must be 1-64 characters of letters, digits, ' ', '.', '_', '-'", r.Name)
	}
	perms, err := validatePermissions(op, r.Permissions)
	if err != nil {
		return Role{}, err
	}
	if len(r.Description) > 1024 {
		return Role{}, errorf(Invalid, op, "description is longer than 1024 characters")
	}
	if _, err := db.GetRole(ctx, r.Name); err == nil {
		return Role{}, errorf(Conflict, op, "a role %q exists already", r.Name)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	r.Permissions, r.BuiltIn, r.CreatedAt, r.UpdatedAt = perms, false, now, now
	pj, _ := json.Marshal(perms)
	if _, err := db.sql.ExecContext(ctx, `INSERT INTO `+RolesTable+` VALUES (?, ?, ?, false, ?, ?)`,
		r.Name, r.Description, string(pj), now, now); err != nil {
		return Role{}, wrap(ctx, op, err)
	}
	return r, nil
}

// UpdateRole changes a custom role's description and/or permissions.
func (db *DB) UpdateRole(ctx context.Context, name string, description *string, permissions *[]string) (Role, error) {
	const op = "edit role"
	r, err := db.GetRole(ctx, name)
	if err != nil {
		return Role{}, err
	}
	if r.BuiltIn {
		return Role{}, errorf(Invalid, op, "the built-in role %q cannot be changed", name)
	}
	if description != nil {
		if len(*description) > 1024 {
			return Role{}, errorf(Invalid, op, "description is longer than 1024 characters")
		}
		r.Description = *description
	}
	if permissions != nil {
		if r.Permissions, err = validatePermissions(op, *permissions); err != nil {
			return Role{}, err
		}
	}
	r.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	pj, _ := json.Marshal(r.Permissions)
	if _, err := db.sql.ExecContext(ctx, `UPDATE `+RolesTable+` SET description = ?, permissions = ?, updated_at = ? WHERE name = ?`,
		r.Description, string(pj), r.UpdatedAt, name); err != nil {
		return Role{}, wrap(ctx, op, err)
	}
	return r, nil
}

// DeleteRole removes a custom role; kind Conflict while a key still has it.
func (db *DB) DeleteRole(ctx context.Context, name string) error {
	const op = "delete role"
	r, err := db.GetRole(ctx, name)
	if err != nil {
		return err
	}
	if r.BuiltIn {
		return errorf(Invalid, op, "the built-in role %q cannot be deleted", name)
	}
	keys, err := db.ListKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if slices.Contains(k.Roles, name) {
			return errorf(Conflict, op, "role %q is still assigned to API key %q", name, k.ID)
		}
	}
	_, err = db.sql.ExecContext(ctx, `DELETE FROM `+RolesTable+` WHERE name = ?`, name)
	return wrap(ctx, op, err)
}

// queryAll runs a query and scans every row with scan; an empty result is an empty slice,
// so JSON lists render as [] rather than null.
func queryAll[T any](ctx context.Context, db *DB, op string, scan func(rowScanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(ctx, op, err)
		}
		out = append(out, v)
	}
	return out, wrap(ctx, op, rows.Err())
}
