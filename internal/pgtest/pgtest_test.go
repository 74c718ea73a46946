package pgtest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestServer starts one server and checks the facts the differential test relies on: the
// version, the C.UTF-8 case folding of DESIGN section 3 and inet family semantics.
func TestServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir()
	conn, err := s.Connect(ctx)
	if err != nil {
		s.Stop()
		t.Fatal(err)
	}

	var version string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "PostgreSQL 15.") {
		t.Errorf("version() = %q, want PostgreSQL 15.x", version)
	}

	facts := []struct {
		sql  string
		want string
	}{
		{"SELECT current_setting('server_encoding')", "UTF8"},
		{"SELECT datcollate FROM pg_database WHERE datname = current_database()", "C.UTF-8"},
		{"SELECT datctype FROM pg_database WHERE datname = current_database()", "C.UTF-8"},
		{"SELECT current_setting('fsync')", "off"},
		{"SELECT current_setting('max_parallel_workers_per_gather')", "2"},
		{"SELECT current_setting('listen_addresses')", "127.0.0.1"},
		{"SELECT current_setting('TimeZone')", "UTC"},
		{"SELECT ('ÉCOLE' ~* 'école')::text", "true"},
		{"SELECT ('ÉCOLE' ILIKE '%école%')::text", "true"},
		{"SELECT ('ß' ~* 'ẞ')::text", "true"},
		{"SELECT ('straße' ~* 'STRASSE')::text", "false"},
		{"SELECT (inet '::ffff:10.1.2.3' <<= inet '10.0.0.0/8')::text", "false"},
		{"SELECT (inet '10.1.2.3' <<= '10.0.0.0/8')::text", "true"},
		{"SELECT coalesce((NULL::text !~* 'x')::text, 'NULL')", "NULL"},
	}
	for _, f := range facts {
		var got string
		if err := conn.QueryRow(ctx, f.sql).Scan(&got); err != nil {
			t.Errorf("%s: %v", f.sql, err)
			continue
		}
		if got != f.want {
			t.Errorf("%s = %q, want %q", f.sql, got, f.want)
		}
	}
	conn.Close(ctx)

	pid := postmasterPID(s.dataDir())
	if pid == 0 {
		t.Fatal("no postmaster.pid while running")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s still exists after Stop (err=%v)", dir, err)
	}
	if processExists(pid) {
		t.Errorf("postmaster %d still running after Stop", pid)
	}
}

// TestStartT checks the testing helper: two servers side by side get their own ports.
func TestStartT(t *testing.T) {
	a := StartT(t)
	b := StartT(t)
	if a.Port() == b.Port() || a.DSN() == b.DSN() {
		t.Fatalf("two servers share port %d", a.Port())
	}
	ctx := context.Background()
	for _, s := range []*Server{a, b} {
		conn, err := s.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Errorf("SELECT 1 = %d, %v", one, err)
		}
		conn.Close(ctx)
	}
}

// TestMissingBinaries checks that the error tells how to install PostgreSQL.
func TestMissingBinaries(t *testing.T) {
	_, err := Start(context.Background(), Options{BinDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start with an empty BinDir succeeded")
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Errorf("error %q does not say how to install PostgreSQL", err)
	}
}
