package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
)

// Authentication (DESIGN section 4): every /api/v1 route whose Operation has a
// Permission needs an API key in `x-api-key` or `Authorization: Bearer`. Routes with an
// empty Permission (/healthz, /readyz, /docs, /api/v1/openapi.*) are open.
//
// A key value is KeyPrefix + key id + "_" + secret, the secret 43 characters of
// base64url (32 random bytes). Only SHA-256 of the secret is stored: the secrets have
// 256 bits of entropy, so a slow password hash adds nothing.

// HeaderAPIKey carries the API key.
const HeaderAPIKey = "X-Api-Key"

// KeyPrefix starts every key value, so that leaked keys are recognisable (secret scanners).
const KeyPrefix = "csk_"

// DefaultReauthTimeout is the reauthentication timeout of a key created without one.
const DefaultReauthTimeout = 60 * time.Second

// KeyStore stores keys, roles and the audit log; *engine.DB implements it.
type KeyStore interface {
	GetKey(ctx context.Context, id string) (engine.APIKey, error)
	ListKeys(ctx context.Context) ([]engine.APIKey, error)
	CreateKey(ctx context.Context, k engine.APIKey) (engine.APIKey, error)
	UpdateKey(ctx context.Context, id string, u engine.KeyUpdate) (engine.APIKey, error)
	SetKeyLocked(ctx context.Context, id string, locked bool) error
	DeleteKey(ctx context.Context, id string) error
	KeyPermissions(ctx context.Context, roles []string) ([]string, error)
	ListRoles(ctx context.Context) ([]engine.Role, error)
	GetRole(ctx context.Context, name string) (engine.Role, error)
	CreateRole(ctx context.Context, r engine.Role) (engine.Role, error)
	UpdateRole(ctx context.Context, name string, description *string, permissions *[]string) (engine.Role, error)
	DeleteRole(ctx context.Context, name string) error
	AppendAudit(ctx context.Context, e engine.AuditEntry, key ed25519.PrivateKey) (engine.AuditEntry, error)
	ListAudit(ctx context.Context, f engine.AuditFilter) ([]engine.AuditEntry, int64, error)
}

// NewKeyID returns a random key id (16 hex digits).
func NewKeyID() string {
	var b [8]byte
	mustRandom(b[:])
	return hex.EncodeToString(b[:])
}

// NewKeyValue returns a fresh key value for id and the SHA-256 of its secret.
func NewKeyValue(id string) (value string, secretHash []byte) {
	var b [32]byte
	mustRandom(b[:])
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	return KeyPrefix + id + "_" + secret, HashSecret(secret)
}

// ParseKeyValue splits a key value into id and secret. The id is what
// engine.ValidKeyID accepts (no '_'); the secret is at least 32 base64url characters.
func ParseKeyValue(v string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(v, KeyPrefix)
	if !found {
		return "", "", false
	}
	id, secret, found = strings.Cut(rest, "_")
	if !found || !engine.ValidKeyID(id) || len(secret) < 32 || len(secret) > 256 {
		return "", "", false
	}
	for i := 0; i < len(secret); i++ {
		b := secret[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return "", "", false
		}
	}
	return id, secret, true
}

// HashSecret is the stored form of a secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func mustRandom(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("server: no randomness: %v", err))
	}
}

// authError is a failed authentication (401), authorization (403) or a refused
// cross-site request (403); handleError maps it.
type authError struct {
	status int
	detail string
}

func (e *authError) Error() string { return e.detail }

// Kinds of auth errors. Every 401 has the same text, whatever the cause.
var (
	errUnauthorized = &authError{status: fiber.StatusUnauthorized,
		detail: "a valid API key is required in the x-api-key header (or Authorization: Bearer)"}
)

func errForbidden(perm string) error {
	return &authError{status: fiber.StatusForbidden, detail: fmt.Sprintf("the API key's roles do not grant the permission %s", perm)}
}

// principal is the authenticated caller.
type principal struct {
	keyID string
	perms []string
}

type principalKey struct{}

// authenticator validates keys, caching each success for the key's reauthentication
// timeout. Changes made through this process (lock, delete, edit, role changes)
// invalidate the cache at once; changes by other processes sharing the database take
// effect when the cached validation expires.
type authenticator struct {
	keys  KeyStore
	now   func() time.Time
	dummy []byte

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	hash    []byte
	perms   []string
	expires time.Time
}

func newAuthenticator(keys KeyStore, now func() time.Time) *authenticator {
	dummy := make([]byte, sha256.Size)
	mustRandom(dummy)
	return &authenticator{keys: keys, now: now, dummy: dummy, cache: map[string]cachedKey{}}
}

// keyFromRequest returns the presented key value ("" when none).
func keyFromRequest(c *fiber.Ctx) string {
	if v := c.Get(HeaderAPIKey); v != "" {
		return v
	}
	auth := c.Get(fiber.HeaderAuthorization)
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

// authenticate checks a key value. Unknown ids, wrong secrets, locked keys and
// malformed values all give errUnauthorized after the same work: one SHA-256, one
// store lookup (a cache hit with the right secret skips it), one constant-time compare.
func (a *authenticator) authenticate(ctx context.Context, value string) (principal, error) {
	if a == nil || a.keys == nil {
		return principal{}, errUnauthorized
	}
	id, secret, ok := ParseKeyValue(value)
	h := HashSecret(secret)
	if !ok {
		subtle.ConstantTimeCompare(h, a.dummy)
		return principal{}, errUnauthorized
	}
	now := a.now()
	a.mu.Lock()
	ck, hit := a.cache[id]
	a.mu.Unlock()
	if hit && now.Before(ck.expires) && subtle.ConstantTimeCompare(h, ck.hash) == 1 {
		return principal{keyID: id, perms: ck.perms}, nil
	}
	k, err := a.keys.GetKey(ctx, id)
	if err != nil {
		if engine.ErrorKind(err) == engine.NotFound {
			subtle.ConstantTimeCompare(h, a.dummy)
			return principal{}, errUnauthorized
		}
		return principal{}, err
	}
	match := subtle.ConstantTimeCompare(h, k.SecretHash) == 1
	if !match || k.Locked {
		return principal{}, errUnauthorized
	}
	perms, err := a.keys.KeyPermissions(ctx, k.Roles)
	if err != nil {
		return principal{}, err
	}
	if k.ReauthTimeout > 0 {
		a.mu.Lock()
		a.cache[strings.Clone(id)] = cachedKey{hash: h, perms: perms, expires: now.Add(k.ReauthTimeout)}
		a.mu.Unlock()
	}
	return principal{keyID: id, perms: perms}, nil
}

// invalidate forgets the cached validations of ids (all of them when none is given).
func (a *authenticator) invalidate(ids ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(ids) == 0 {
		clear(a.cache)
		return
	}
	for _, id := range ids {
		delete(a.cache, id)
	}
}

// claimedKeyID is the key id a request presents, for the audit log and the rate limit:
// only an id of the valid shape, never any part of the secret.
func claimedKeyID(value string) string {
	id, _, ok := ParseKeyValue(value)
	if !ok {
		return ""
	}
	return id
}

// isMutating reports whether op changes state (audited, CSRF-checked, JSON-only).
func isMutating(op Operation) bool {
	return op.Method != fiber.MethodGet && op.Method != fiber.MethodHead && op.Kind != KindQuery
}

// guard is the /api/v1 middleware: cross-site check, rate limit, authentication,
// authorization (the Operation's Permission), idempotency, then the audit record.
func (s *server) guard(c *fiber.Ctx) error {
	// The router ignores a trailing slash (StrictRouting is off): so does the lookup,
	// else "/api_keys/" would reach the handler of "/api_keys" unchecked.
	path := c.Path()
	if len(path) > 1 {
		path = strings.TrimRight(path, "/")
	}
	op, known := LookupOperation(c.Method(), path)
	if known && op.Permission == "" {
		return c.Next()
	}
	value := keyFromRequest(c)
	keyID := claimedKeyID(value)
	detail := ""
	err := s.checkOrigin(c)
	if err == nil {
		err = s.limiter.check(c.IP(), keyID)
	}
	if err == nil {
		var p principal
		p, err = s.auth.authenticate(c.UserContext(), value)
		if err == nil {
			c.Locals(principalKey{}, p)
			if known && !slices.Contains(p.perms, op.Permission) {
				err = errForbidden(op.Permission)
			}
		} else if errors.Is(err, errUnauthorized) {
			s.limiter.fail(c.IP(), keyID)
			detail = "authentication failed"
			if value == "" {
				detail = "no API key"
			}
		}
	}
	authFailed := err != nil
	if err == nil && !known {
		// Default deny: a route missing from Operations has no permission to check.
		return fiber.NewError(fiber.StatusNotFound, "Cannot "+c.Method()+" "+c.Path())
	}
	if err == nil {
		// The key and role routes take JSON only (a browser cannot send it cross-site
		// without a preflight); other routes check their own media types.
		if known && (op.Kind == KindKeys || op.Kind == KindRoles) && isMutating(op) && c.Method() != fiber.MethodDelete &&
			!isJSONContentType(c.Get(fiber.HeaderContentType)) {
			err = fiber.NewError(fiber.StatusUnsupportedMediaType, "the request body must be application/json")
		} else {
			err = s.idempotent(c, op, known)
		}
	}
	if !authFailed && !(known && isMutating(op)) {
		return err
	}
	// Audited: a failed authentication or authorization, or a mutating call. Let the
	// error handler set the status now so the record has it.
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
		err = nil
	}
	route := c.Path()
	if known {
		route = op.Path
	}
	if d, ok := c.Locals(auditDetailKey{}).(string); ok {
		detail = d
	}
	s.audit(c, keyID, route, detail)
	return nil
}

// auditDetailKey lets a handler add a detail to its audit record (e.g. bulk results).
type auditDetailKey struct{}

// checkOrigin refuses cross-site mutating requests from browsers: Sec-Fetch-Site
// cross-site, or an Origin whose host is not the request's host.
func (s *server) checkOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	if strings.EqualFold(c.Get("Sec-Fetch-Site"), "cross-site") {
		return &authError{status: fiber.StatusForbidden, detail: "cross-site requests are refused"}
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, c.Hostname()) {
			return &authError{status: fiber.StatusForbidden, detail: "requests from another origin are refused"}
		}
	}
	return nil
}

// audit appends one record; a failure is logged (the response is already decided).
func (s *server) audit(c *fiber.Ctx, keyID, route, detail string) {
	if s.keys == nil {
		return
	}
	if p, ok := c.Locals(principalKey{}).(principal); ok {
		keyID = p.keyID
	}
	e := engine.AuditEntry{Time: s.cfg.AuthNow(), KeyID: keyID, Source: c.IP(), Method: c.Method(), Route: route,
		Path: c.Path(), Status: c.Response().StatusCode(), RequestID: requestID(c), Detail: detail}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.keys.AppendAudit(ctx, e, s.cfg.AuditKey); err != nil {
		s.log.Error("audit log append failed", "err", err, "requestId", e.RequestID)
	}
}
