package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// serveProc is a `cipherscope serve` child process on a loopback port.
type serveProc struct {
	cmd  *exec.Cmd
	base string
	done chan error
	logs *tailBuffer
}

// startServe starts bin serving dbFile and waits until it answers HTTP.
func startServe(ctx context.Context, bin, dbFile string, threads int, memLimit string) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--db", dbFile, "--listen", fmt.Sprintf("127.0.0.1:%d", port)}
	if threads > 0 {
		args = append(args, "--threads", strconv.Itoa(threads))
	}
	if memLimit != "" {
		args = append(args, "--memory-limit", memLimit)
	}
	// Exports of 1M rows must not hit the server's default write budget.
	args = append(args, "--write-timeout", "30m", "--query-timeout", "30m")
	cmd := exec.Command(bin, args...)
	logs := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the harness
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &serveProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan error, 1), logs: logs}
	go func() { p.done <- cmd.Wait() }()
	if err := p.waitReady(ctx, 2*time.Minute); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%w\nserve output:\n%s", err, logs.String())
	}
	return p, nil
}

// waitReady polls until the server answers any HTTP request (a 404 on /healthz counts:
// the health route may not exist yet, but the server is up).
func (p *serveProc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("serve exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("serve not ready after %s", limit)
}

// Stop ends the child (SIGTERM, then SIGKILL after 10 s) and waits for it.
func (p *serveProc) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Pid returns the child's process id.
func (p *serveProc) Pid() int { return p.cmd.Process.Pid }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// procRSS measures a process's peak RSS through /proc: VmHWM, which writing "5" to
// /proc/<pid>/clear_refs resets to the current RSS (Linux >= 4.0).
type procRSS struct{ pid string }

// Reset implements rssProbe.
func (p procRSS) Reset() { _ = os.WriteFile("/proc/"+p.pid+"/clear_refs", []byte("5"), 0) }

// Peak implements rssProbe.
func (p procRSS) Peak() int64 { return readStatusKB("/proc/"+p.pid+"/status", "VmHWM:") * 1024 }

// readStatusKB returns a "kB" field of a /proc status-like file, 0 when absent.
func readStatusKB(file, field string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// tailBuffer keeps the last max bytes written (a child's logs for error messages).
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

var _ io.Writer = (*tailBuffer)(nil)

// copyFile copies src to dst (the serve child's private copy of the database).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
