package server

import (
	"io"
	"net"
	"sync"
	"time"
)

// Bounds of a lingering close (see Listener).
const (
	// lingerTimeout is how long a closed connection keeps reading what the client is
	// still sending. A client that sent a request over a limit sees the error response
	// within one round trip; this is far more than a round trip.
	lingerTimeout = 2 * time.Second
	// lingerMaxBytes bounds what one connection discards before it is reset anyway.
	lingerMaxBytes = 16 << 20
	// maxLingering bounds the connections lingering at once; past it they close at once.
	maxLingering = 256
)

// Listener wraps ln so that the server closes TCP connections the way careful HTTP
// servers do ("lingering close"): it first ends its side (FIN after the response), then
// reads and discards what the client still sends, and only then closes.
//
// Why: the server answers a request over a limit (431 for a long URL, 413 for a large
// body) before it has read the whole request. Closing a socket that still has unread
// bytes makes the kernel send RST, and a client that is still writing then reports
// "connection reset by peer" instead of the error response the server sent.
//
// The close returns at once; the draining runs in its own goroutine, for at most
// lingerTimeout and lingerMaxBytes, and at most maxLingering at a time.
func Listener(ln net.Listener) net.Listener {
	return &lingerListener{Listener: ln, slots: make(chan struct{}, maxLingering)}
}

type lingerListener struct {
	net.Listener
	slots chan struct{}
}

// Accept wraps TCP connections; other kinds pass through as they are.
func (l *lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &lingerConn{TCPConn: tc, slots: l.slots}, nil
	}
	return c, err
}

// lingerConn is a TCP connection whose Close lingers. Embedding *net.TCPConn keeps its
// SyscallConn and ReadFrom, which the export relay's splice(2) relies on.
type lingerConn struct {
	*net.TCPConn
	slots chan struct{}
	once  sync.Once
	err   error
}

// Close ends the connection; see Listener.
func (c *lingerConn) Close() error {
	c.once.Do(func() {
		if c.TCPConn.CloseWrite() != nil {
			c.err = c.TCPConn.Close() // already broken: nothing to linger for
			return
		}
		select {
		case c.slots <- struct{}{}:
			go c.drain()
		default:
			c.err = c.TCPConn.Close()
		}
	})
	return c.err
}

// drain discards what the client still sends until it closes its side, the time or the
// byte bound runs out, or the connection fails; then closes.
func (c *lingerConn) drain() {
	defer func() { <-c.slots }()
	if c.TCPConn.SetReadDeadline(time.Now().Add(lingerTimeout)) == nil {
		_, _ = io.CopyN(io.Discard, c.TCPConn, lingerMaxBytes)
	}
	_ = c.TCPConn.Close()
}
