package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cipherscope/cipherscope/engine"
	"github.com/cipherscope/cipherscope/server"
)

const keysSynopsis = `create|import|list|edit|lock|unlock|delete --db FILE ...

  keys create --db FILE --roles R[,R...] [--key-id ID] [--description D] [--reauth-timeout 60s]
      prints the new key (shown only this once) alone on stdout
  keys import --db FILE --roles R[,R...] [--description D] [--reauth-timeout 60s] [KEY]
      stores an existing key value (csk_<id>_<secret>; read from stdin when KEY is missing or -)
  keys list   --db FILE                      JSON, one key per line (never secrets)
  keys edit   --db FILE [--description D] [--roles R,...] [--reauth-timeout T] ID
  keys lock|unlock|delete --db FILE ID...`

// runKeys manages API keys directly in the database (the server must not be running on
// the same file: DuckDB allows one writing process).
func runKeys(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet("keys", keysSynopsis, e.stderr)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return errHelp
		}
		fs.Usage()
		return usagef("missing action: create, import, list, edit, lock, unlock or delete")
	}
	action, args := args[0], args[1:]
	fs := newFlagSet("keys "+action, keysSynopsis, e.stderr)
	var db, roles, keyID, desc string
	var reauth time.Duration
	fs.StringVar(&db, "db", defaultDB, "database `file`")
	switch action {
	case "create", "import", "edit":
		fs.StringVar(&roles, "roles", "", "comma-separated `roles` (Administrator, Operator, Analyst, Auditor or custom)")
		fs.StringVar(&desc, "description", "", "description")
		fs.DurationVar(&reauth, "reauth-timeout", server.DefaultReauthTimeout, "how long a successful validation is cached (whole seconds)")
		if action == "create" {
			fs.StringVar(&keyID, "key-id", "", "key `id` (default: random); 1-64 of A-Z, a-z, 0-9, '-'")
		}
	case "list", "lock", "unlock", "delete":
	default:
		return usagef("unknown action %q: create, import, list, edit, lock, unlock or delete", action)
	}
	pos, err := parseFlags(fs, args, e.getenv)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if reauth < 0 || reauth%time.Second != 0 || reauth > engine.MaxReauthTimeout {
		return usagef("--reauth-timeout must be whole seconds from 0 to %s", engine.MaxReauthTimeout)
	}
	switch action {
	case "create", "list":
		if len(pos) > 0 {
			return usagef("unexpected argument %q", pos[0])
		}
	case "import":
		if len(pos) > 1 {
			return usagef("unexpected argument %q", pos[1])
		}
	case "edit":
		if len(pos) != 1 {
			return usagef("edit takes exactly one key id")
		}
	default:
		if len(pos) == 0 {
			return usagef("%s needs at least one key id", action)
		}
	}
	if (action == "create" || action == "import") && roles == "" {
		return usagef("--roles is required")
	}
	d, err := engine.Open(ctx, engine.Config{Path: db})
	if err != nil {
		return err
	}
	defer d.Close()
	roleList := splitList(roles)
	switch action {
	case "create":
		if keyID == "" {
			keyID = server.NewKeyID()
		}
		if !engine.ValidKeyID(keyID) {
			return usagef("--key-id %q must be 1-64 characters of A-Z, a-z, 0-9 and '-'", keyID)
		}
		value, hash := server.NewKeyValue(keyID)
		if _, err := d.CreateKey(ctx, engine.APIKey{ID: keyID, SecretHash: hash, Description: desc, Roles: roleList, ReauthTimeout: reauth}); err != nil {
			return keyErr(err)
		}
		fmt.Fprintln(e.stdout, value)
	case "import":
		value := ""
		if len(pos) == 1 && pos[0] != "-" {
			value = pos[0]
		} else {
			line, err := bufio.NewReader(io.LimitReader(os.Stdin, 4096)).ReadString('\n')
			if err != nil && err != io.EOF {
				return err
			}
			value = strings.TrimSpace(line)
		}
		id, secret, ok := server.ParseKeyValue(value)
		if !ok {
			return usagef("the key must be %s<keyId>_<secret> (secret: 32-256 base64url characters)", server.KeyPrefix)
		}
		if _, err := d.CreateKey(ctx, engine.APIKey{ID: id, SecretHash: server.HashSecret(secret), Description: desc, Roles: roleList, ReauthTimeout: reauth}); err != nil {
			return keyErr(err)
		}
		fmt.Fprintln(e.stdout, id)
	case "list":
		keys, err := d.ListKeys(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(e.stdout)
		for _, k := range keys {
			if err := enc.Encode(map[string]any{"keyId": k.ID, "description": k.Description, "roles": k.Roles,
				"reauthenticationTimeout": int64(k.ReauthTimeout / time.Second), "locked": k.Locked,
				"createdAt": k.CreatedAt.UTC(), "updatedAt": k.UpdatedAt.UTC()}); err != nil {
				return err
			}
		}
	case "edit":
		var u engine.KeyUpdate
		if set["description"] {
			u.Description = &desc
		}
		if set["roles"] {
			u.Roles = &roleList
		}
		if set["reauth-timeout"] {
			u.ReauthTimeout = &reauth
		}
		if _, err := d.UpdateKey(ctx, pos[0], u); err != nil {
			return keyErr(err)
		}
	default:
		for _, id := range pos {
			var err error
			if action == "delete" {
				err = d.DeleteKey(ctx, id)
			} else {
				err = d.SetKeyLocked(ctx, id, action == "lock")
			}
			if err != nil {
				return keyErr(err)
			}
		}
	}
	return nil
}

// keyErr makes the caller's mistakes (unknown key or role, taken id) usage errors.
func keyErr(err error) error {
	switch engine.ErrorKind(err) {
	case engine.Invalid, engine.NotFound, engine.Conflict:
		return usagef("%v", err)
	}
	return err
}

// createDemoKey creates an Administrator key when the database has none and returns its
// value ("" when keys exist).
func createDemoKey(ctx context.Context, db *engine.DB) (string, error) {
	n, err := db.CountKeys(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	id := "demo-" + server.NewKeyID()
	value, hash := server.NewKeyValue(id)
	_, err = db.CreateKey(ctx, engine.APIKey{ID: id, SecretHash: hash, Description: "created by serve --demo",
		Roles: []string{"Administrator"}, ReauthTimeout: server.DefaultReauthTimeout})
	return value, err
}
