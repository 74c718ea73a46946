package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLingeringClose sends a request line over the header limit, reads the 431, and
// keeps writing after it: the server must have ended its side with FIN and read what
// followed, so the client sees the response and then the end of the stream, never a
// reset. Without the lingering close the server's kernel answers the unread bytes with
// RST and the read below fails with "connection reset by peer".
func TestLingeringClose(t *testing.T) {
	app := New(newTestDB(t), Config{MaxHeaderBytes: 4096})
	addr := serveLive(t, app).addr
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET "+disc+"?filter="+strings.Repeat("x", 5000)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("body: %v", err)
	}
	// The rest of the request, after the server answered.
	if _, err := io.WriteString(conn, strings.Repeat("y", 64<<10)+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatalf("write after the response: %v", err)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the response: %q, %v; want the end of the stream", rest, err)
	}
}

// TestLingerConnKeepsDescriptor: the export relay splices to the socket under the
// connection, so the wrapper must still expose it.
func TestLingerConnKeepsDescriptor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wrapped := Listener(ln)
	defer wrapped.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	c, err := wrapped.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(syscall.Conn); !ok {
		t.Errorf("%T does not expose its descriptor", c)
	}
	if err := c.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}
