package server

import (
	"errors"
	"io"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceBody relays src, the store's export stream, to the socket under conn with
// splice(2): the bytes go from the pipe DuckDB writes into to the socket without passing
// through user space. Each batch the pipe holds goes out as one chunk (header, spliced
// bytes, CRLF) when chunked. It returns handled=false, having sent nothing, when either
// side has no descriptor (a TLS connection, a store that is not a pipe); the caller then
// copies instead. Measured with `cipherscope bench -scale 10M -cases export_csv_1m`
// (1M rollups, 295 MB of CSV): 0.74x of DuckDB's COPY to a file when copied through
// user space, 0.78x with splice.
func spliceBody(conn net.Conn, src io.Reader, chunked bool, afterEach func() error) (handled bool, err error) {
	sock, ok := rawConn(conn)
	if !ok {
		return false, nil
	}
	pipe, ok := rawConn(src)
	if !ok {
		return false, nil
	}
	var pipeFD int
	if err := pipe.Control(func(fd uintptr) { pipeFD = int(fd) }); err != nil {
		return false, nil
	}
	for {
		n, end, err := pipeAvailable(pipe)
		if err != nil {
			return true, err
		}
		if end {
			return true, streamEnd(src)
		}
		if chunked {
			var size [relayHeadroom]byte
			if _, err := conn.Write(appendChunkHeader(size[:0], n)); err != nil {
				return true, err
			}
		}
		if err := spliceN(sock, pipeFD, n); err != nil {
			return true, err
		}
		if chunked {
			if _, err := io.WriteString(conn, "\r\n"); err != nil {
				return true, err
			}
		}
		if err := afterEach(); err != nil {
			return true, err
		}
	}
}

// rawConn returns the descriptor access of v when it has one.
func rawConn(v any) (syscall.RawConn, bool) {
	sc, ok := v.(syscall.Conn)
	if !ok {
		return nil, false
	}
	raw, err := sc.SyscallConn()
	return raw, err == nil
}

// pipeAvailable waits until the pipe holds bytes and returns how many (ioctl FIONREAD,
// which Linux names TIOCINQ), or reports the end of the stream: the pipe empty and every
// writer gone.
func pipeAvailable(pipe syscall.RawConn) (n int, end bool, err error) {
	rerr := pipe.Read(func(fd uintptr) bool {
		if n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ); err != nil || n > 0 {
			return true
		}
		hup, perr := hungUp(int(fd))
		if perr != nil {
			err = perr
			return true
		}
		if !hup {
			return false // DuckDB is still writing: wait until the pipe is readable
		}
		// Bytes written just before the last writer left still count.
		n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ)
		end = err == nil && n == 0
		return true
	})
	if rerr != nil {
		return 0, false, rerr
	}
	return n, end, err
}

// hungUp reports whether the pipe has no writer left.
func hungUp(fd int) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue
		}
		return fds[0].Revents&unix.POLLHUP != 0, err
	}
}

// spliceN moves exactly n bytes, which the pipe holds, to the socket, waiting (within the
// connection's write deadline) while the socket is full.
func spliceN(sock syscall.RawConn, pipeFD, n int) error {
	var err error
	werr := sock.Write(func(fd uintptr) bool {
		for n > 0 {
			var m int64
			m, err = unix.Splice(pipeFD, nil, int(fd), nil, n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			switch {
			case err == unix.EINTR:
				continue
			case err == unix.EAGAIN:
				err = nil
				return false // the socket is full
			case err != nil:
				return true
			case m == 0:
				err = io.ErrUnexpectedEOF
				return true
			}
			n -= int(m)
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return err
}

// streamEnd reads src once its pipe has ended, to learn how the export ended: io.EOF
// (nil here) or the store's error.
func streamEnd(src io.Reader) error {
	var one [1]byte
	n, err := src.Read(one[:])
	switch {
	case n > 0:
		return errors.New("export stream: bytes after the end of the pipe")
	case err == io.EOF:
		return nil
	}
	return err
}
