package realtime

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// countingConn records each write that reaches the network.
type countingConn struct {
	net.Conn
	writes [][]byte
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestCorkConn(t *testing.T) {
	under := &countingConn{}
	c := &corkConn{Conn: under}
	c.Write([]byte("a"))
	if len(under.writes) != 1 {
		t.Fatalf("uncorked write: %d writes reached the network, want 1", len(under.writes))
	}
	c.cork()
	c.Write([]byte("bc"))
	c.Write([]byte("d"))
	if len(under.writes) != 1 {
		t.Fatalf("corked writes reached the network: %q", under.writes)
	}
	if err := c.uncork(); err != nil {
		t.Fatalf("uncork: %v", err)
	}
	if len(under.writes) != 2 || !bytes.Equal(under.writes[1], []byte("bcd")) {
		t.Fatalf("writes %q, want the corked ones as one: bcd", under.writes)
	}
	c.uncork()
	if len(under.writes) != 2 {
		t.Fatalf("an empty uncork wrote: %q", under.writes)
	}
	c.Write([]byte("e"))
	if len(under.writes) != 3 {
		t.Fatalf("a write after uncork was held back: %q", under.writes)
	}
}

// deadlineConn records the write deadlines that reach the connection.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

func (c *deadlineConn) SetDeadline(t time.Time) error { return c.SetWriteDeadline(t) }

// TestCorkConnDeadline: a write deadline reaches the connection when it
// changes, not when it is set again (gorilla/websocket sets it before every
// frame), and one set through SetDeadline counts as set.
func TestCorkConnDeadline(t *testing.T) {
	under := &deadlineConn{}
	c := &corkConn{Conn: under}
	t1 := time.Now().Add(10 * time.Second)
	t2 := t1.Add(time.Second)
	for _, d := range []time.Time{t1, t1, t1, t2, t2, t1} {
		c.SetWriteDeadline(d)
	}
	c.SetDeadline(t2)
	c.SetWriteDeadline(t2)
	want := []time.Time{t1, t2, t1, t2}
	if len(under.set) != len(want) {
		t.Fatalf("deadlines set %v, want %v", under.set, want)
	}
	for i := range want {
		if !under.set[i].Equal(want[i]) {
			t.Fatalf("deadlines set %v, want %v", under.set, want)
		}
	}
}

// TestCorkConnTryUncork: tryUncork sends what the socket takes at once and
// never waits; what a full socket refuses stays, in order, for the next
// write, and the peer gets every byte once.
func TestCorkConnTryUncork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	c := &corkConn{Conn: server}
	defer c.Close()
	// The peer reads nothing yet: corked chunks go out until the socket is
	// full, and tryUncork then reports false at once.
	var sent bytes.Buffer
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	full := false
	for i := 0; i < 4096 && !full; i++ {
		c.cork()
		chunk[0] = byte(i)
		c.Write(chunk)
		sent.Write(chunk)
		start := time.Now()
		full = !c.tryUncork()
		if d := time.Since(start); d > time.Second {
			t.Fatalf("tryUncork waited %v", d)
		}
	}
	if !full {
		t.Fatal("the socket never filled")
	}
	if !c.unsent() {
		t.Fatal("a refused write left nothing unsent")
	}
	if c.tryCork() {
		t.Fatal("tryCork corked behind bytes left unsent")
	}
	// The peer reads everything; the rest goes with an ordinary uncork.
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(peer, int64(sent.Len())))
		got <- b
	}()
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.uncork(); err != nil {
		t.Fatalf("uncork: %v", err)
	}
	if b := <-got; !bytes.Equal(b, sent.Bytes()) {
		t.Fatalf("the peer got %d bytes, not the %d sent in order", len(b), sent.Len())
	}
}

// TestCorkConnTryCork: tryCork corks an idle connection, and never waits for
// a write under way (it holds the connection's lock).
func TestCorkConnTryCork(t *testing.T) {
	c := &corkConn{Conn: &countingConn{}}
	if !c.tryCork() || !c.corked {
		t.Fatal("an idle connection was not corked")
	}
	c.uncork()
	c.mu.Lock() // a write under way
	done := make(chan bool, 1)
	go func() { done <- c.tryCork() }()
	select {
	case ok := <-done:
		if ok {
			t.Error("corked during a write")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tryCork waited for the write")
	}
	c.mu.Unlock()
}
