package realtime

import (
	"net"
	"sync"
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
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// cork holds back the writes until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held back, under the write deadline last set.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > corkLimit {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}
