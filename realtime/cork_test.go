package realtime

import (
	"bytes"
	"net"
	"testing"
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
