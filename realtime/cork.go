package realtime

import (
	"net"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// corkLimit is the most a corked connection keeps of its buffer between
// batches; a bigger buffer is let go.
const corkLimit = 16 << 10

// Listener returns ln with connections that the hub can cork: while a
// websocket writer sends a batch of events, the frames collect in memory and
// leave in one system call. One write(2) per message per screen was most of
// examd's CPU under a busy feed (BENCHMARKS.md, fan-out). Other connections
// write as before.
func Listener(ln net.Listener) net.Listener { return corkListener{ln} }

type corkListener struct{ net.Listener }

func (l corkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &corkConn{Conn: c}, nil
}

// corkConn is a connection whose writes can be held back and sent at once.
// The websocket's writer corks and uncorks it; gorilla/websocket writes to
// it one frame at a time, from the writer and, for pongs, the reader.
//
// What a write could not send before its deadline stays in the buffer and
// goes first with the next write: the stream never holds half a frame
// followed by another, so a close frame can still follow a screen that
// stopped reading for a while (client.writePump).
//
// It also passes on a write deadline only when it changes: gorilla/websocket
// sets the connection's write deadline before every frame it writes, and
// each set resets a runtime timer (6 % of examd's CPU under a busy feed,
// BENCHMARKS.md); the websocket's writer moves its deadline only now and
// then (client.armWrite), so that most frames set the one already set.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
	// dmu guards deadline and its passing on, apart from mu: a deadline
	// set by the hub must reach a write blocked under mu (Hub.dropAll).
	dmu      sync.Mutex
	deadline time.Time // the write deadline last passed on
}

// SetWriteDeadline sets the write deadline, unless it is set already.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if t.Equal(c.deadline) {
		return nil
	}
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines, keeping the write one's copy in step.
func (c *corkConn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked || len(c.buf) > 0 {
		c.buf = append(c.buf, p...)
		if c.corked {
			return len(p), nil
		}
		return len(p), c.flush()
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.buf = append(c.buf, p[n:]...)
	}
	return n, err
}

// unsent reports whether bytes wait in the buffer after a failed write.
func (c *corkConn) unsent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.corked && len(c.buf) > 0
}

// flush sends the buffer, keeping what the deadline left unsent.
func (c *corkConn) flush() error {
	n, err := c.Conn.Write(c.buf)
	c.sent(n)
	return err
}

// sent drops the n bytes of the buffer that went, keeping the rest; an
// emptied buffer bigger than corkLimit is let go.
func (c *corkConn) sent(n int) {
	c.buf = append(c.buf[:0], c.buf[n:]...)
	if len(c.buf) == 0 && cap(c.buf) > corkLimit {
		c.buf = nil
	}
}

// cork holds back the writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// tryCork corks the connection unless that would wait, for a write under
// way (the websocket's reader answering a close on a full socket), or for
// bytes a full socket left unsent: it reports whether it corked.
func (c *corkConn) tryCork() bool {
	if !c.mu.TryLock() {
		return false
	}
	defer c.mu.Unlock()
	if !c.corked && len(c.buf) > 0 {
		return false
	}
	c.corked = true
	return true
}

// tryUncork sends what was held back in one write(2) that does not wait,
// and reports whether all of it went; what did not stays for the next
// write, the connection uncorked. A connection whose socket cannot be
// reached sends nothing here.
func (c *corkConn) tryUncork() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return true
	}
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	raw.Write(func(fd uintptr) bool {
		n = writeNow(fd, c.buf)
		return true // once: the socket is non-blocking, a full one refuses at once
	})
	c.sent(n)
	return len(c.buf) == 0
}

// uncork sends what was held back, under the write deadline last set; what
// the deadline leaves unsent stays for the next write.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	return c.flush()
}

// writeNow is write(2) on the non-blocking socket fd, returning how much
// went (0 on any error), without telling the scheduler: it cannot block. A
// system call the scheduler is told of, made for every screen, kept the
// runtime's monitor waking every 20 µs to look for a P stuck in one (5 % of
// examd's CPU under a busy feed, BENCHMARKS.md).
func writeNow(fd uintptr, p []byte) int {
	if len(p) == 0 {
		return 0
	}
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0
	}
	return int(n)
}
