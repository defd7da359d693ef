package realtime_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/pg/pgtest"
	"examd/realtime"
)

// dialStalling connects to topic of s with a receive buffer of a few KiB:
// with a server whose send buffers are small too (smallSendBuffers), a
// test that stops reading stalls the hub's writes to it within a few
// events, as a tablet on a congested Wi-Fi does, rather than after the
// megabytes a loopback connection would take in.
func (s *server) dialStalling(tb testing.TB, topic string) *client {
	tb.Helper()
	small := func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}
	d := websocket.Dialer{
		NetDialContext:   (&net.Dialer{Control: small}).DialContext,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
	}
	conn, _, err := d.DialContext(context.Background(), s.url+"/feed/"+topic, nil)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	return &client{tb: tb, conn: conn}
}

// smallSendBuffers is a listener whose connections have a send buffer of a
// few KiB, where the kernel would let it grow to megabytes.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		err = errors.Join(err, tc.SetWriteBuffer(8<<10))
	}
	return c, err
}

// collect reads c's events on its own goroutine, until the connection ends.
func (c *client) collect() <-chan int64 {
	got := make(chan int64, 10000)
	go func() {
		defer close(got)
		for {
			m, err := c.read(30 * time.Second)
			if err != nil {
				return
			}
			got <- m.Seq
		}
	}()
	return got
}

// expectFrom checks that got yields the seqs first to last, in order.
func expectFrom(t *testing.T, name string, got <-chan int64, first, last int64) {
	t.Helper()
	for want := first; want <= last; want++ {
		select {
		case seq, ok := <-got:
			if !ok || seq != want {
				t.Fatalf("%s: got seq %d (open %v), want %d", name, seq, ok, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: stuck before seq %d of %d", name, want, last)
		}
	}
}

// TestScreenQueueBytes: a screen is closed for falling behind by bytes of
// events (Hub.QueueBytes), not by how they were batched. The hub sends each
// event of an idle venue at once, one batch per event: a screen that stops
// reading during several hundred of them, fewer bytes than the bound,
// survives and then receives every one, in order; a screen that stays
// stalled past the bound is closed with 4008, its close frame after the
// frames already sent to it, and the since to resume from; the other
// screens' delivery goes on throughout.
func TestScreenQueueBytes(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	const bound = 512 << 10
	small := func(ln net.Listener) net.Listener { return smallSendBuffers{ln} }
	s := newServerOn(t, db, url, small, func(h *realtime.Hub) {
		h.QueueBytes = bound
		h.WriteWait = time.Minute // only the bound closes a screen here
	})
	fast := s.dial(t, "venue:5", -1)
	fast.hello()
	brief, stalled := s.dialStalling(t, "venue:5"), s.dialStalling(t, "venue:5")
	brief.hello()
	stalled.hello()
	fastGot := fast.collect()

	// About 1 KiB per event: 300 events, 300 KiB, fit in the bound.
	ev := func(n int) event { return event{N: n, Pad: strings.Repeat("x", 1000)} }
	const short = 300
	for n := 1; n <= short; n++ {
		if err := appendOne(db, s.feed, "venue:5", ev(n)); err != nil {
			t.Fatal(err)
		}
	}
	expectFrom(t, "fast screen", fastGot, 1, short)
	if n := s.log.count("too slow"); n != 0 {
		t.Fatalf("%d screens closed after %d events stalled, within the bound", n, short)
	}
	briefGot := brief.collect() // reads again
	expectFrom(t, "screen back from a short stall", briefGot, 1, short)

	// The other screen stays stalled until it is more than the bound behind.
	// Each event is appended once the reading screens have received the one
	// before: on a loaded machine they would otherwise fall behind too.
	var last int64 = short
	next := func() {
		t.Helper()
		last++
		if err := appendOne(db, s.feed, "venue:5", ev(int(last))); err != nil {
			t.Fatal(err)
		}
		expectFrom(t, "fast screen", fastGot, last, last)
		expectFrom(t, "screen back from a short stall", briefGot, last, last)
	}
	for s.log.count("too slow") == 0 {
		if last > 4*bound/1000 {
			t.Fatal("the stalled screen was never closed")
		}
		next()
	}
	dropped := last
	// Delivery goes on after it.
	for range 50 {
		next()
	}
	if n := s.log.count("too slow"); n != 1 {
		t.Fatalf("%d screens closed, want the one stalled screen", n)
	}

	var seen int64
	for {
		m, err := stalled.read(10 * time.Second)
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != realtime.CloseTooSlow {
				t.Fatalf("stalled screen, after %d events: %v, want the close frame 4008", seen, err)
			}
			if want := "too slow: reconnect with since=" + strconv.FormatInt(seen, 10); ce.Text != want {
				t.Fatalf("closed with %q, want %q", ce.Text, want)
			}
			break
		}
		if m.Seq != seen+1 {
			t.Fatalf("stalled screen: got seq %d after %d", m.Seq, seen)
		}
		seen = m.Seq
	}
	if seen >= dropped {
		t.Errorf("the stalled screen got %d events, closed when %d were sent: it was not behind", seen, dropped)
	}
	t.Logf("closed at event %d, having received %d", dropped, seen)
}
