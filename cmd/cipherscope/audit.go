package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/cipherscope/cipherscope/engine"
)

// auditKeyPath is the signing key file: flag value, else next to the database.
func auditKeyPath(db, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if db == "" || db == ":memory:" {
		return ""
	}
	return db + ".audit-key"
}

// loadAuditKey reads the PEM (PKCS #8) ed25519 key at path, creating it with mode 0600
// when missing. An empty path gives a key for this process only.
func loadAuditKey(path string, log io.Writer) (ed25519.PrivateKey, error) {
	if path == "" {
		_, k, err := ed25519.GenerateKey(nil)
		return k, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		_, k, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating the audit signing key: %w", err)
		}
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		fmt.Fprintf(log, "created the audit signing key %s (mode 0600); keep it to verify the audit log\n", path)
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit signing key: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(log, "warning: the audit signing key %s is readable by others (mode %o); chmod 600 it\n", path, st.Mode().Perm())
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ed25519 key", path)
	}
	return ek, nil
}

// cursorKey derives the key that signs pagination cursors from the audit signing key:
// cursors then stay valid across restarts whenever the audit log's key does, with no
// second secret file to keep. HMAC separates the two uses of the seed.
func cursorKey(audit ed25519.PrivateKey) []byte {
	m := hmac.New(sha256.New, audit.Seed())
	m.Write([]byte("cipherscope pagination cursor key v1"))
	return m.Sum(nil)
}

// runAudit: `cipherscope audit verify --db FILE [--audit-key FILE]`.
func runAudit(ctx context.Context, e env, args []string) error {
	const synopsis = "verify --db FILE [--audit-key FILE]\n\n  Checks the audit log's hash chain and signatures; exit 1 naming the first bad sequence number."
	if len(args) == 0 || args[0] != "verify" {
		fs := newFlagSet("audit", synopsis, e.stderr)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return errHelp
		}
		fs.Usage()
		return usagef("missing or unknown action; the only action is verify")
	}
	fs := newFlagSet("audit verify", synopsis, e.stderr)
	var db, keyFile string
	fs.StringVar(&db, "db", defaultDB, "database `file`")
	fs.StringVar(&keyFile, "audit-key", "", "the audit signing key `file` (default: the database file + .audit-key)")
	pos, err := parseFlags(fs, args[1:], e.getenv)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	path := auditKeyPath(db, keyFile)
	if path == "" {
		return usagef("an in-memory database has no audit log to verify")
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the audit signing key: %w", err)
	}
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("the database: %w", err)
	}
	key, err := loadAuditKey(path, e.stderr)
	if err != nil {
		return err
	}
	d, err := engine.Open(ctx, engine.Config{Path: db})
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := d.VerifyAudit(ctx, key.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ok: %d audit entries verified\n", n)
	return nil
}
