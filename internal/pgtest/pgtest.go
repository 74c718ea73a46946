// Package pgtest starts a throwaway PostgreSQL server for tests and benchmarks.
//
// PostgreSQL 15 with a UTF-8 database in the C.UTF-8 locale is the semantic reference of the
// filter language (DESIGN section 3). Start creates a cluster in a fresh temporary directory
// (initdb takes about a second), listens on 127.0.0.1 at a free port with its Unix socket
// inside that directory, and tunes the server for throwaway data (fsync off). Stop shuts it
// down and removes the directory.
//
// PostgreSQL refuses to run as root, so when the test runs as root the directory is given
// to the `postgres` user and initdb and pg_ctl run through `runuser -u postgres --`.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options configure Start. The zero value starts a PostgreSQL 15 server (or the newest
// installed major version when 15 is missing) with the default settings.
type Options struct {
	// BinDir is the directory holding initdb, pg_ctl and postgres. Empty: the environment
	// variable PGTEST_BINDIR, then /usr/lib/postgresql/<major>/bin (15 first, then newest),
	// then /usr/local/pgsql/bin, then the directory of pg_ctl found in PATH.
	BinDir string
	// Settings are extra postgresql.conf settings; they override the defaults of Start.
	Settings map[string]string
	// StartTimeout bounds initdb plus server start; zero means 60 seconds.
	StartTimeout time.Duration
}

// Server is a running throwaway PostgreSQL server. Its methods are safe for concurrent use.
type Server struct {
	dir     string // temporary directory: data/, sock/, server.log
	binDir  string
	port    int
	runAs   *user.User // non-nil when commands run through runuser
	stopped sync.Once
	stopErr error
}

// prefix names the temporary directories, so that servers leaked by killed test binaries
// can be recognised and reaped by the next Start.
const prefix = "cipherscope-pgtest-"

// defaultSettings make a disposable server fast: nothing needs to survive a crash.
// max_parallel_workers_per_gather=2 matches the 2-core machines the benchmarks run on.
var defaultSettings = map[string]string{
	"fsync":                           "off",
	"synchronous_commit":              "off",
	"full_page_writes":                "off",
	"shared_buffers":                  "256MB",
	"work_mem":                        "64MB",
	"maintenance_work_mem":            "128MB",
	"max_parallel_workers_per_gather": "2",
	"max_connections":                 "30",
	"timezone":                        "UTC",
	"log_timezone":                    "UTC",
	"datestyle":                       "ISO, YMD",
	"jit":                             "off",
}

// StartT starts a server for a test or benchmark and stops it in t.Cleanup. A server that
// cannot start fails the test: PostgreSQL is a required test dependency, never a skip.
func StartT(t testing.TB, opts ...Options) *Server {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: stop: %v", err)
		}
	})
	return s
}

// Start initialises a cluster in a new temporary directory and starts a server on a free
// loopback port. The caller must call Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	binDir, err := findBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	runAs, err := runUser()
	if err != nil {
		return nil, err
	}
	reapStale(binDir, runAs)
	s := &Server{binDir: binDir, runAs: runAs}
	if err := s.makeDir(); err != nil {
		return nil, err
	}
	if err := s.initdb(ctx); err != nil {
		s.removeDir()
		return nil, err
	}
	if err := s.startServer(ctx, opts.Settings); err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

// DSN returns a connection string for the superuser `postgres` on database `postgres`.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port returns the TCP port the server listens on (127.0.0.1 only).
func (s *Server) Port() int { return s.port }

// Dir returns the temporary directory holding the cluster, its socket and its log.
func (s *Server) Dir() string { return s.dir }

// Connect opens a new connection to the server.
func (s *Server) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, s.DSN())
}

// Stop shuts the server down (fast mode: open sessions are ended), waits for its processes
// to exit and removes the directory. Calling Stop again returns the first result.
func (s *Server) Stop() error {
	s.stopped.Do(func() {
		s.stopErr = s.stop()
	})
	return s.stopErr
}

func (s *Server) stop() error {
	err := stopCluster(s.binDir, s.runAs, s.dataDir())
	if rmErr := os.RemoveAll(s.dir); rmErr != nil && err == nil {
		err = rmErr
	}
	return err
}

// stopCluster stops the server of dataDir, escalating to immediate mode and then to SIGKILL,
// so that no process outlives the call.
func stopCluster(binDir string, runAs *user.User, dataDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pid := postmasterPID(dataDir)
	if pid == 0 {
		return nil // never started, or already gone
	}
	_, err := run(ctx, binDir, runAs, "pg_ctl", "stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30")
	if err == nil {
		// pg_ctl returns once postmaster.pid is gone, a moment before the process exits.
		return waitGone(pid, 10*time.Second)
	}
	if _, err2 := run(ctx, binDir, runAs, "pg_ctl", "stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "10"); err2 == nil {
		return fmt.Errorf("fast shutdown failed, immediate shutdown used: %w", err)
	}
	// Last resort: the postmaster's children exit when it dies.
	if kerr := syscall.Kill(pid, syscall.SIGKILL); kerr != nil && !errors.Is(kerr, syscall.ESRCH) {
		return fmt.Errorf("stop: %v; kill %d: %v", err, pid, kerr)
	}
	return fmt.Errorf("stop failed, postmaster %d killed: %w", pid, err)
}

// waitGone waits until process pid no longer exists.
func waitGone(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for processExists(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("postmaster %d still running %v after shutdown", pid, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// postmasterPID reads the first line of postmaster.pid; 0 when there is none.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) sockDir() string { return filepath.Join(s.dir, "sock") }
func (s *Server) logFile() string { return filepath.Join(s.dir, "server.log") }

// makeDir creates the temporary directory, records the owning process (for reapStale) and
// hands the directory to the server's user.
func (s *Server) makeDir() error {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.dir = dir
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		s.removeDir()
		return fmt.Errorf("pgtest: %w", err)
	}
	if err := os.Mkdir(s.sockDir(), 0o700); err != nil {
		s.removeDir()
		return fmt.Errorf("pgtest: %w", err)
	}
	if s.runAs != nil {
		if err := chownAll(dir, s.runAs); err != nil {
			s.removeDir()
			return fmt.Errorf("pgtest: give %s to %s: %w", dir, s.runAs.Username, err)
		}
	}
	return nil
}

func (s *Server) removeDir() { _ = os.RemoveAll(s.dir) }

func (s *Server) initdb(ctx context.Context) error {
	out, err := run(ctx, s.binDir, s.runAs, "initdb", "-D", s.dataDir(),
		"-E", "UTF8", "--locale=C.UTF-8", "-A", "trust", "-U", "postgres", "--no-sync")
	if err != nil {
		return fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	return nil
}

// startServer writes the settings and starts the server, retrying with another port when
// the free port found was taken in the meantime by a concurrent test.
func (s *Server) startServer(ctx context.Context, extra map[string]string) error {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		s.port = port
		if err := s.writeConf(extra); err != nil {
			return err
		}
		out, err := run(ctx, s.binDir, s.runAs, "pg_ctl", "start", "-D", s.dataDir(),
			"-l", s.logFile(), "-w", "-t", "60")
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, tail(s.logFile(), 2000))
		if ctx.Err() != nil || !strings.Contains(lastErr.Error(), "could not bind") {
			break
		}
	}
	_ = stopCluster(s.binDir, s.runAs, s.dataDir())
	return lastErr
}

// writeConf writes the server's settings to postgresql.auto.conf, which the server reads
// after postgresql.conf, so they win over initdb's defaults.
func (s *Server) writeConf(extra map[string]string) error {
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(s.port),
		"unix_socket_directories": s.sockDir(),
	}
	for k, v := range defaultSettings {
		settings[k] = v
	}
	for k, v := range extra {
		settings[k] = v
	}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(settings[k], "'", "''"))
	}
	path := filepath.Join(s.dataDir(), "postgresql.auto.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	if s.runAs != nil {
		if err := chownAll(path, s.runAs); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	return nil
}

// freePort asks the kernel for a free loopback port. Another process may take it before
// the server binds it; startServer retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs a PostgreSQL program from binDir, through runuser when runAs is set, in a
// directory the server's user may enter (initdb complains about an unreadable cwd).
func run(ctx context.Context, binDir string, runAs *user.User, prog string, args ...string) ([]byte, error) {
	path := filepath.Join(binDir, prog)
	var cmd *exec.Cmd
	if runAs != nil {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", runAs.Username, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = os.TempDir()
	// LC_ALL from the caller's environment must not override --locale, and PG* variables
	// must not redirect pg_ctl to another server.
	cmd.Env = cleanEnv(os.Environ())
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl start leaves the server holding inherited pipes; do not wait for them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LANG=C.UTF-8")
}

// runUser returns the user to run PostgreSQL as: nil when not root, else `postgres`.
func runUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs a `postgres` user to run the server as (apt-get install postgresql creates it): %w", err)
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs runuser (util-linux): %w", err)
	}
	return u, nil
}

func chownAll(root string, u *user.User) error {
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(root, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// reapStale stops servers whose test binary died without calling Stop (for example on a
// `go test -timeout` kill), recognised by an owner.pid naming a process that no longer exists.
func reapStale(binDir string, runAs *user.User) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			continue
		}
		owner, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || owner <= 0 || processExists(owner) {
			continue
		}
		if stopCluster(binDir, runAs, filepath.Join(dir, "data")) == nil {
			_ = os.RemoveAll(dir)
		}
	}
}

// processExists reports whether pid is a live process. A zombie counts as gone: in a
// container whose init does not reap orphans, an exited postmaster stays a zombie.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no procfs: trust kill
	}
	// The state follows the parenthesised command name, which may contain spaces.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}
