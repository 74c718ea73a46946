package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/cipherscope/cipherscope/engine"
)

// keyJSON is an API key as the API shows it: never the secret or its hash.
type keyJSON struct {
	KeyID                   string    `json:"keyId"`
	Key                     string    `json:"key,omitempty"` // only in the answer to create
	Description             string    `json:"description"`
	Roles                   []string  `json:"roles"`
	ReauthenticationTimeout int64     `json:"reauthenticationTimeout"`
	Locked                  bool      `json:"locked"`
	CreatedAt               time.Time `json:"createdAt"`
	UpdatedAt               time.Time `json:"updatedAt"`
}

func toKeyJSON(k engine.APIKey) keyJSON {
	return keyJSON{KeyID: k.ID, Description: k.Description, Roles: k.Roles,
		ReauthenticationTimeout: int64(k.ReauthTimeout / time.Second), Locked: k.Locked,
		CreatedAt: k.CreatedAt.UTC(), UpdatedAt: k.UpdatedAt.UTC()}
}

// readOnlyKeyFields are fields a key has but a request may not set (422); any other
// unknown field is a 400.
var readOnlyKeyFields = []string{"keyId", "key", "secret", "locked", "createdAt", "updatedAt"}

// decodeFields reads a JSON object body, allowing only the allowed fields; readOnly
// fields get 422, unknown ones 400. Fields set to null are dropped.
func decodeFields(c *fiber.Ctx, allowed, readOnly []string) (map[string]json.RawMessage, error) {
	if !isJSONContentType(c.Get(fiber.HeaderContentType)) {
		return nil, fiber.NewError(fiber.StatusUnsupportedMediaType, "the request body must be application/json")
	}
	body := bytes.TrimSpace(c.Body())
	m := map[string]json.RawMessage{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fiber.NewError(fiber.StatusBadRequest, "the body must be a JSON object: "+err.Error())
		}
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case slices.Contains(allowed, k):
			if string(m[k]) == "null" {
				delete(m, k)
			}
		case slices.Contains(readOnly, k):
			return nil, fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("field %q cannot be set here; allowed: %s", k, strings.Join(allowed, ", ")))
		default:
			return nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("unknown field %q; allowed: %s", k, strings.Join(allowed, ", ")))
		}
	}
	return m, nil
}

func field[T any](m map[string]json.RawMessage, name string, dst *T) (bool, error) {
	raw, ok := m[name]
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return false, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("field %q: %v", name, err))
	}
	return true, nil
}

// keyFields reads description, roles and reauthenticationTimeout.
func keyFields(m map[string]json.RawMessage) (engine.KeyUpdate, error) {
	var u engine.KeyUpdate
	var desc string
	var roles []string
	var secs int64
	if ok, err := field(m, "description", &desc); err != nil {
		return u, err
	} else if ok {
		u.Description = &desc
	}
	if ok, err := field(m, "roles", &roles); err != nil {
		return u, err
	} else if ok {
		u.Roles = &roles
	}
	if ok, err := field(m, "reauthenticationTimeout", &secs); err != nil {
		return u, err
	} else if ok {
		if secs < 0 || secs > int64(engine.MaxReauthTimeout/time.Second) {
			return u, fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("reauthenticationTimeout must be 0..%d seconds", int64(engine.MaxReauthTimeout/time.Second)))
		}
		d := time.Duration(secs) * time.Second
		u.ReauthTimeout = &d
	}
	return u, nil
}

func applyKeyFields(k *engine.APIKey, u engine.KeyUpdate) {
	k.ReauthTimeout = DefaultReauthTimeout
	if u.Description != nil {
		k.Description = *u.Description
	}
	if u.Roles != nil {
		k.Roles = *u.Roles
	}
	if u.ReauthTimeout != nil {
		k.ReauthTimeout = *u.ReauthTimeout
	}
}

var editableKeyFields = []string{"description", "roles", "reauthenticationTimeout"}

// createKey: POST /api_keys -> 201 with the secret, shown this once.
func (s *server) createKey(c *fiber.Ctx) error {
	m, err := decodeFields(c, append([]string{"keyId"}, editableKeyFields...), readOnlyKeyFields)
	if err != nil {
		return err
	}
	u, err := keyFields(m)
	if err != nil {
		return err
	}
	id := NewKeyID()
	if _, err := field(m, "keyId", &id); err != nil {
		return err
	}
	if !engine.ValidKeyID(id) {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("keyId %q must be 1-64 characters of A-Z, a-z, 0-9 and '-'", id))
	}
	value, hash := NewKeyValue(id)
	k := engine.APIKey{ID: id, SecretHash: hash, Roles: []string{}}
	applyKeyFields(&k, u)
	stored, err := s.keys.CreateKey(c.UserContext(), k)
	if err != nil {
		return storeErr(err)
	}
	out := toKeyJSON(stored)
	out.Key = value
	c.Location(Base + "/api_keys/" + id)
	return c.Status(fiber.StatusCreated).JSON(out)
}

// importKey: POST /api_keys/import {key: "csk_<id>_<secret>", ...} -> 201 (no secret).
func (s *server) importKey(c *fiber.Ctx) error {
	m, err := decodeFields(c, append([]string{"key"}, editableKeyFields...), []string{"keyId", "secret", "locked", "createdAt", "updatedAt"})
	if err != nil {
		return err
	}
	u, err := keyFields(m)
	if err != nil {
		return err
	}
	var value string
	if _, err := field(m, "key", &value); err != nil {
		return err
	}
	id, secret, ok := ParseKeyValue(value)
	if !ok {
		return fiber.NewError(fiber.StatusBadRequest, "key must be "+KeyPrefix+"<keyId>_<secret>: keyId 1-64 of A-Z, a-z, 0-9, '-'; secret 32-256 base64url characters")
	}
	k := engine.APIKey{ID: id, SecretHash: HashSecret(secret), Roles: []string{}}
	applyKeyFields(&k, u)
	stored, err := s.keys.CreateKey(c.UserContext(), k)
	if err != nil {
		return storeErr(err)
	}
	c.Location(Base + "/api_keys/" + id)
	return c.Status(fiber.StatusCreated).JSON(toKeyJSON(stored))
}

func (s *server) listKeys(c *fiber.Ctx) error {
	keys, err := s.keys.ListKeys(c.UserContext())
	if err != nil {
		return err
	}
	data := make([]keyJSON, len(keys))
	for i, k := range keys {
		data[i] = toKeyJSON(k)
	}
	c.Set(HeaderTotalCount, strconv.Itoa(len(data)))
	return c.JSON(fiber.Map{"data": data, "pagination": fiber.Map{"returned": len(data)}, "totalCount": len(data)})
}

func (s *server) getKey(c *fiber.Ctx) error {
	k, err := s.keys.GetKey(c.UserContext(), c.Params("keyId"))
	if err != nil {
		return err
	}
	return c.JSON(toKeyJSON(k))
}

// editKey: PATCH /api_keys/:keyId, only description, roles, reauthenticationTimeout.
func (s *server) editKey(c *fiber.Ctx) error {
	m, err := decodeFields(c, editableKeyFields, readOnlyKeyFields)
	if err != nil {
		return err
	}
	u, err := keyFields(m)
	if err != nil {
		return err
	}
	id := c.Params("keyId")
	k, err := s.keys.UpdateKey(c.UserContext(), id, u)
	s.auth.invalidate(id)
	if err != nil {
		return err
	}
	return c.JSON(toKeyJSON(k))
}

func (s *server) lockKey(locked bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Params("keyId")
		err := s.keys.SetKeyLocked(c.UserContext(), id, locked)
		s.auth.invalidate(id)
		if err != nil {
			return err
		}
		k, err := s.keys.GetKey(c.UserContext(), id)
		if err != nil {
			return err
		}
		return c.JSON(toKeyJSON(k))
	}
}

func (s *server) deleteKey(c *fiber.Ctx) error {
	id := c.Params("keyId")
	err := s.keys.DeleteKey(c.UserContext(), id)
	s.auth.invalidate(id)
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// maxBulkKeys bounds one bulk request.
const maxBulkKeys = 1000

// bulkKeys: POST /api_keys/bulk {"action": "lock"|"unlock"|"delete", "keyIds": [...]}
// -> 200 with one result per id (status 200/204 or 404).
func (s *server) bulkKeys(c *fiber.Ctx) error {
	m, err := decodeFields(c, []string{"action", "keyIds"}, nil)
	if err != nil {
		return err
	}
	var action string
	var ids []string
	if _, err := field(m, "action", &action); err != nil {
		return err
	}
	if _, err := field(m, "keyIds", &ids); err != nil {
		return err
	}
	if action != "lock" && action != "unlock" && action != "delete" {
		return fiber.NewError(fiber.StatusUnprocessableEntity, `action must be "lock", "unlock" or "delete"`)
	}
	if len(ids) == 0 || len(ids) > maxBulkKeys {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("keyIds must list 1 to %d key ids", maxBulkKeys))
	}
	type result struct {
		KeyID  string `json:"keyId"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}
	results := make([]result, 0, len(ids))
	var done []string
	for _, id := range ids {
		var err error
		status := fiber.StatusOK
		switch action {
		case "delete":
			err, status = s.keys.DeleteKey(c.UserContext(), id), fiber.StatusNoContent
		default:
			err = s.keys.SetKeyLocked(c.UserContext(), id, action == "lock")
		}
		s.auth.invalidate(id)
		switch {
		case err == nil:
			results = append(results, result{KeyID: id, Status: status})
			done = append(done, id)
		case engine.ErrorKind(err) == engine.NotFound:
			results = append(results, result{KeyID: id, Status: fiber.StatusNotFound, Detail: "no such API key"})
		default:
			return err
		}
	}
	c.Locals(auditDetailKey{}, fmt.Sprintf("bulk %s: %s", action, strings.Join(done, ",")))
	return c.JSON(fiber.Map{"action": action, "data": results})
}

// Roles.

func (s *server) listRoles(c *fiber.Ctx) error {
	roles, err := s.keys.ListRoles(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": roles, "permissions": engine.AllPermissions, "pagination": fiber.Map{"returned": len(roles)}})
}

var readOnlyRoleFields = []string{"builtIn", "createdAt", "updatedAt"}

func (s *server) createRole(c *fiber.Ctx) error {
	m, err := decodeFields(c, []string{"name", "description", "permissions"}, readOnlyRoleFields)
	if err != nil {
		return err
	}
	var r engine.Role
	if _, err := field(m, "name", &r.Name); err != nil {
		return err
	}
	if _, err := field(m, "description", &r.Description); err != nil {
		return err
	}
	if _, err := field(m, "permissions", &r.Permissions); err != nil {
		return err
	}
	out, err := s.keys.CreateRole(c.UserContext(), r)
	if err != nil {
		return storeErr(err)
	}
	c.Location(Base + "/roles/" + r.Name)
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *server) editRole(c *fiber.Ctx) error {
	m, err := decodeFields(c, []string{"description", "permissions"}, append([]string{"name"}, readOnlyRoleFields...))
	if err != nil {
		return err
	}
	var desc *string
	var perms *[]string
	var d string
	var p []string
	if ok, err := field(m, "description", &d); err != nil {
		return err
	} else if ok {
		desc = &d
	}
	if ok, err := field(m, "permissions", &p); err != nil {
		return err
	} else if ok {
		perms = &p
	}
	out, err := s.keys.UpdateRole(c.UserContext(), c.Params("roleName"), desc, perms)
	s.auth.invalidate()
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *server) deleteRole(c *fiber.Ctx) error {
	err := s.keys.DeleteRole(c.UserContext(), c.Params("roleName"))
	s.auth.invalidate()
	if err != nil {
		return storeErr(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// registerKeyRoutes adds the key, role and audit routes to the /api/v1 group.
func (s *server) registerKeyRoutes(api fiber.Router) {
	api.Post("/api_keys", s.createKey)
	api.Post("/api_keys/import", s.importKey)
	api.Post("/api_keys/bulk", s.bulkKeys)
	api.Get("/api_keys", s.listKeys)
	api.Get("/api_keys/:keyId", s.getKey)
	api.Patch("/api_keys/:keyId", s.editKey)
	api.Post("/api_keys/:keyId/lock", s.lockKey(true))
	api.Post("/api_keys/:keyId/unlock", s.lockKey(false))
	api.Delete("/api_keys/:keyId", s.deleteKey)
	api.Get("/roles", s.listRoles)
	api.Post("/roles", s.createRole)
	api.Patch("/roles/:roleName", s.editRole)
	api.Delete("/roles/:roleName", s.deleteRole)
	api.Get("/audit", s.listAudit)
}

// storeErr shows the reason of a conflict with stored keys or roles (a taken id, a role
// still in use); the generic 409 text is about concurrent writes.
func storeErr(err error) error {
	if engine.ErrorKind(err) == engine.Conflict {
		return fiber.NewError(fiber.StatusConflict, err.Error())
	}
	return err
}
