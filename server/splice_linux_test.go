package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"testing"
)

// TestSpliceBody relays a pipe to a TCP connection by splice(2) and reads the wire back,
// chunked and bare; an error the stream reports at its end comes back from spliceBody.
func TestSpliceBody(t *testing.T) {
	pieces := [][]byte{[]byte("first"), bytes.Repeat([]byte("x"), 70_000), bytes.Repeat([]byte("y"), 3<<20), []byte("last")}
	var want []byte
	for _, p := range pieces {
		want = append(want, p...)
	}
	streamErr := errors.New("copy failed")
	tests := []struct {
		name    string
		chunked bool
		end     error
	}{
		{"chunked", true, nil},
		{"bare", false, nil},
		{"error at the end", true, streamErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, client := tcpPair(t)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			go func() {
				for _, p := range pieces {
					pw.Write(p)
				}
				pw.Close()
			}()
			received := make(chan []byte)
			go func() {
				b, _ := io.ReadAll(client)
				received <- b
			}()
			chunks := 0
			handled, err := spliceBody(server, &endStream{File: pr, end: tt.end}, tt.chunked, func() error { chunks++; return nil })
			if !handled || !errors.Is(err, tt.end) {
				t.Fatalf("spliceBody: handled %v, err %v; want handled, err %v", handled, err, tt.end)
			}
			if tt.chunked {
				io.WriteString(server, "0\r\n\r\n")
			}
			server.Close()
			got := <-received
			if tt.chunked {
				if got, err = io.ReadAll(httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(got)))); err != nil {
					t.Fatalf("chunked body does not parse: %v", err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("relayed %d bytes, want %d", len(got), len(want))
			}
			if chunks == 0 {
				t.Error("afterEach never ran")
			}
		})
	}
}

// TestSpliceBodyNeedsDescriptors: without a socket or a pipe underneath, spliceBody
// sends nothing and leaves the copy to its caller.
func TestSpliceBodyNeedsDescriptors(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	server, _ := tcpPair(t)
	for _, c := range []struct {
		conn net.Conn
		src  io.Reader
	}{{a, pr}, {server, bytes.NewReader([]byte("x"))}} {
		if handled, err := spliceBody(c.conn, c.src, true, func() error { return nil }); handled || err != nil {
			t.Errorf("%T to %T: handled %v, err %v", c.src, c.conn, handled, err)
		}
	}
}

// endStream is a pipe whose Read reports end as the stream's outcome, as the engine's
// export stream reports DuckDB's error.
type endStream struct {
	*os.File
	end error
}

func (s *endStream) Read(p []byte) (int, error) {
	n, err := s.File.Read(p)
	if err == io.EOF && s.end != nil {
		return n, s.end
	}
	return n, err
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}
