package main

import (
	"bytes"
	"cmp"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// screen is one websocket client of a venue's feed. It reads every message,
// checks that each seq follows the previous one, and records the latency
// of the events of the current phase.
type screen struct {
	conn *websocket.Conn

	mu       sync.Mutex
	hello    bool  // the hello has arrived
	last     int64 // the seq of the last message
	received int64 // events, the hello aside
	missed   int64 // seqs skipped
	dup      int64 // seqs seen again
	phase    int64 // the phase whose latencies hist records
	hist     *histogram
	ended    error // why the reader stopped, if it did
}

// screens is a set of screens on one feed.
type screens struct {
	centrifugo bool // the screens speak Centrifugo's JSON protocol
	list       []*screen
	closing    atomic.Bool
	wg         sync.WaitGroup
	expected   int64 // events every screen should have received so far (main goroutine only)
}

// dialScreens connects n screens to t, 16 at a time (screen i to
// t.wsURLs[i mod len]: the replicas share them), and starts their readers.
// Centrifugo's screens send the connect command, then subscribe to the channel.
func dialScreens(t target, n int) (*screens, error) {
	ss := &screens{list: make([]*screen, n), centrifugo: t.centrifugo}
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	err := parallel(n, 16, func(i int) error {
		conn, res, err := d.Dial(t.wsURLs[i%len(t.wsURLs)], nil)
		if err != nil {
			if res != nil {
				return fmt.Errorf("screen %d: %w (HTTP %d)", i, err, res.StatusCode)
			}
			return fmt.Errorf("screen %d: %w", i, err)
		}
		if t.centrifugo {
			for _, cmd := range []string{`{"id":1,"connect":{}}`, `{"id":2,"subscribe":{"channel":"` + centrifugoChannel + `"}}`} {
				if err := conn.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
					conn.Close()
					return fmt.Errorf("screen %d: %w", i, err)
				}
			}
		}
		ss.list[i] = &screen{conn: conn, hist: &histogram{}}
		return nil
	})
	for _, s := range ss.list {
		if s != nil {
			ss.wg.Add(1)
			go ss.read(s)
		}
	}
	if err != nil {
		ss.close()
		return nil, err
	}
	return ss, ss.waitHellos(30 * time.Second)
}

// read reads s's messages until the connection ends. A Centrifugo frame
// may hold several replies, one a line.
func (ss *screens) read(s *screen) {
	defer ss.wg.Done()
	var buf bytes.Buffer
	for {
		_, r, err := s.conn.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err == nil {
			now := time.Now().UnixNano()
			if !ss.centrifugo {
				err = s.feedMessage(now, buf.Bytes())
			} else {
				for rest := buf.Bytes(); len(rest) > 0 && err == nil; {
					var line []byte
					line, rest, _ = bytes.Cut(rest, []byte("\n"))
					err = s.centrifugoReply(now, line)
				}
			}
		}
		if err != nil {
			s.mu.Lock()
			s.ended = cmp.Or(s.ended, err)
			s.mu.Unlock()
			return
		}
	}
}

// feedMessage takes a message of examd's feed (or the bare broadcast's):
// the first is the hello, each names its seq.
func (s *screen) feedMessage(now int64, msg []byte) error {
	seq, ok := intAfter(msg, []byte(`"seq":`))
	if !ok {
		return fmt.Errorf("a message without seq: %.200s", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.hello {
		s.hello, s.last = true, seq
		return nil
	}
	s.event(now, seq, msg)
	return nil
}

// centrifugoReply takes one reply of Centrifugo's JSON protocol: the
// connect's (ignored), the subscribe's (the hello: the channel's offset,
// when Centrifugo gives it), a ping (answered with a pong), or a
// publication pushed, whose offset is its seq.
func (s *screen) centrifugoReply(now int64, line []byte) error {
	switch {
	case len(bytes.TrimSpace(line)) == 0:
		return nil
	case bytes.Equal(bytes.TrimSpace(line), []byte("{}")): // ping
		return s.conn.WriteMessage(websocket.TextMessage, []byte("{}"))
	case bytes.Contains(line, []byte(`"push":`)):
		seq, ok := intAfter(line, []byte(`"offset":`))
		if !ok {
			return fmt.Errorf("a publication without offset (is history on?): %.200s", line)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.last < 0 { // the first publication after a hello without offset
			s.last = seq - 1
		}
		s.event(now, seq, line)
		return nil
	case bytes.Contains(line, []byte(`"error":`)):
		return fmt.Errorf("centrifugo refused: %.200s", line)
	case bytes.Contains(line, []byte(`"subscribe":`)):
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hello, s.last = true, -1
		if off, ok := intAfter(line, []byte(`"offset":`)); ok {
			s.last = off
		}
		return nil
	}
	return nil
}

// event counts an event of seq received at now, under s.mu.
func (s *screen) event(now, seq int64, msg []byte) {
	sent, okT := intAfter(msg, []byte(`"t=`))
	phase, okP := intAfter(msg, []byte(` p=`))
	s.received++
	switch {
	case seq <= s.last:
		s.dup++
	case seq > s.last+1:
		s.missed += seq - s.last - 1
	}
	s.last = max(s.last, seq)
	if okT && okP && phase == s.phase {
		s.hist.add(now - sent)
	}
}

// waitHellos waits until every screen has its hello.
func (ss *screens) waitHellos(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		waiting := 0
		for _, s := range ss.list {
			s.mu.Lock()
			if !s.hello {
				waiting++
			}
			s.mu.Unlock()
		}
		if waiting == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d screens without a hello after %s", waiting, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startPhase makes every screen record the latencies of phase, from scratch.
func (ss *screens) startPhase(phase int64) {
	for _, s := range ss.list {
		s.mu.Lock()
		s.phase, s.hist = phase, &histogram{}
		s.mu.Unlock()
	}
}

// tally is the screens' counts at one moment.
type tally struct {
	behind  int64 // events the connected screens still miss, added up
	lagging int   // connected screens missing events
	missed  int64
	dup     int64
	dropped int // screens whose connection ended before close
}

func (ss *screens) tally() tally {
	var t tally
	for _, s := range ss.list {
		s.mu.Lock()
		switch b := ss.expected - s.received; {
		case s.ended != nil:
			if !ss.closing.Load() {
				t.dropped++
			}
		case b > 0:
			t.behind += b
			t.lagging++
		}
		t.missed += s.missed
		t.dup += s.dup
		s.mu.Unlock()
	}
	return t
}

// plus adds u's missed, duplicated and dropped screens to t's.
func (t tally) plus(u tally) tally {
	t.missed += u.missed
	t.dup += u.dup
	t.dropped += u.dropped
	return t
}

// settle waits up to limit for every screen to have every event.
func (ss *screens) settle(limit time.Duration) {
	for deadline := time.Now().Add(limit); ss.tally().lagging > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// latencies merges the screens' histograms of the current phase.
func (ss *screens) latencies() *histogram {
	h := &histogram{}
	for _, s := range ss.list {
		s.mu.Lock()
		h.merge(s.hist)
		s.mu.Unlock()
	}
	return h
}

// close closes every screen and waits for the readers.
func (ss *screens) close() {
	ss.closing.Store(true)
	for _, s := range ss.list {
		if s != nil {
			s.conn.Close()
		}
	}
	ss.wg.Wait()
}

// intAfter parses the whole number that follows key in b, spaces skipped.
func intAfter(b, key []byte) (int64, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, false
	}
	i += len(key)
	for i < len(b) && b[i] == ' ' {
		i++
	}
	var n int64
	start := i
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > start
}

// histogramSize covers 0 to 2^64 ns in buckets of 1/16 of a power of two
// (within about 3 % of any value).
const histogramSize = 61 * 16

// histogram counts durations in nanoseconds.
type histogram struct {
	counts [histogramSize]uint64
	n      uint64
}

func bucketOf(ns int64) int {
	if ns < 16 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) // at least 5
	return (e-4)*16 + int(uint64(ns)>>(e-5)&15)
}

// valueOf is the middle of bucket i.
func valueOf(i int) time.Duration {
	if i < 16 {
		return time.Duration(i)
	}
	e, sub := i/16+4, i%16
	low := int64(16+sub) << (e - 5)
	return time.Duration(low + int64(1)<<(e-5)/2)
}

func (h *histogram) add(ns int64) {
	h.counts[bucketOf(ns)]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the q-quantile (0 < q ≤ 1), 0 for no values.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return valueOf(i)
		}
	}
	return valueOf(histogramSize - 1)
}
