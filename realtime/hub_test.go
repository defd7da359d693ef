package realtime_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jmoiron/sqlx"

	"examd/internal/pg/pgtest"
	"examd/realtime"
)

func TestServe(t *testing.T) {
	t.Parallel()

	t.Run("ReplayThenLive", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		const topic, before, writers, each = "venue:12", 10, 4, 40
		appendEvents(t, db, s.feed, topic, before)
		appendEvents(t, db, s.feed, "venue:13", 3) // another topic's events never show

		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Go(func() {
				for i := 0; i < each; i++ {
					if err := appendOne(db, s.feed, topic, event{N: w*each + i}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		// Connect while the writers append: the seam between the replay and
		// the live events moves under the clients' feet.
		time.Sleep(20 * time.Millisecond)
		fromZero := s.dial(t, topic, 0)
		fromFive := s.dial(t, topic, 5)
		live := s.dial(t, topic, -1)
		wg.Wait()
		const last = before + writers*each

		seq := fromZero.hello()
		if seq < before || seq > last {
			t.Errorf("hello seq %d, want %d..%d", seq, before, last)
		}
		t.Logf("connected at seq %d of %d", seq, last)
		fromZero.expect(1, last)
		fromFive.hello()
		fromFive.expect(6, last)
		seq = live.hello()
		live.expect(seq+1, last)

		// Every client then gets the next event once.
		appendEvents(t, db, s.feed, topic, 1)
		for _, c := range []*client{fromZero, fromFive, live} {
			c.expect(last+1, last+1)
		}
	})

	t.Run("SinceAhead", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		appendEvents(t, db, s.feed, "venue:1", 2)
		c := s.dial(t, "venue:1", 4)
		if seq := c.hello(); seq != 2 {
			t.Fatalf("hello seq %d, want 2", seq)
		}
		// since=4 names events the feed does not have: nothing is skipped.
		appendEvents(t, db, s.feed, "venue:1", 3)
		c.expect(3, 5)
	})

	t.Run("SinceAheadOfHub", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		first := s.dial(t, "venue:9", 0)
		first.hello()
		appendEvents(t, db, s.feed, "venue:9", 2)
		first.expect(1, 2)
		// Seq 3 is committed but this hub has not read it yet (its
		// notification is still on the way), while a screen that saw it on
		// another replica comes here with since=3: it is told 3 and gets
		// each later event once, 3 not again.
		silent(t, db, "venue:9")
		c := s.dial(t, "venue:9", 3)
		if seq := c.hello(); seq != 3 {
			t.Fatalf("hello seq %d, want 3", seq)
		}
		appendEvents(t, db, s.feed, "venue:9", 1)
		c.expect(4, 4)
		first.expect(3, 4)
	})

	t.Run("Burst", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		c1, c2 := s.dial(t, "venue:5", -1), s.dial(t, "venue:5", -1)
		c1.hello()
		c2.hello()
		// One transaction appends far more events than a client's send
		// buffer holds entries: it is read in a few batches, and nobody is
		// dropped.
		appendBatch(t, db, s.feed, "venue:5", event{N: 1}, 1200)
		c1.expect(1, 1200)
		c2.expect(1, 1200)
		if n := s.log.count("too slow"); n != 0 {
			t.Errorf("%d clients dropped as too slow, want none", n)
		}
	})

	t.Run("Replicas", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		a, b := newServer(t, db, url), newServer(t, db, url)
		ca, cb := a.dial(t, "issuance", -1), b.dial(t, "issuance", -1)
		ca.hello()
		cb.hello()
		// Appended through each replica's feed once: both screens see all.
		appendEvents(t, db, a.feed, "issuance", 3)
		appendEvents(t, db, b.feed, "issuance", 3)
		ca.expect(1, 6)
		cb.expect(1, 6)
	})

	t.Run("ListenerReconnect", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		c1, c2 := s.dial(t, "venue:4", 0), s.dial(t, "venue:4", -1)
		c1.hello()
		c2.hello()
		const rounds, each = 3, 10
		ctx := context.Background()
		for r := 0; r < rounds; r++ {
			// Terminate the listener in the transaction that appends, so
			// that it commits while the listener is away: only the
			// catch-up read can deliver these events.
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatalf("begin: %v", err)
			}
			for i := 0; i < each; i++ {
				if _, err := s.feed.Append(ctx, tx, "venue:4", event{N: i}); err != nil {
					t.Fatalf("Append: %v", err)
				}
			}
			var killed int
			err = tx.Get(&killed, `
				SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)
			if err != nil || killed != 1 {
				t.Fatalf("terminate the listener: %d, %v; want 1", killed, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatalf("commit: %v", err)
			}
			if err := s.feed.Number(ctx); err != nil {
				t.Fatalf("Number: %v", err)
			}
			waitFor(t, func() bool { return s.log.count("reconnected") == r+1 })
			c1.expect(int64(r*each+1), int64((r+1)*each))
			c2.expect(int64(r*each+1), int64((r+1)*each))
		}
	})

	t.Run("SlowClient", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		// The events are 32 KiB, 64 times the usual: the default 1 MiB
		// would let the fast screen, on a loaded test machine, fall only 32
		// events behind; 16 MiB lets it fall 512 behind (4 MiB, 128, was
		// once too few beside a full -race run on two cores).
		s := newServer(t, db, url, func(h *realtime.Hub) { h.QueueBytes = 16 << 20 })
		slow, fast := s.dial(t, "venue:9", -1), s.dial(t, "venue:9", -1)
		slow.hello()
		fast.hello()

		got := make(chan int64, 10000)
		go func() {
			for {
				m, err := fast.read(30 * time.Second)
				if err != nil {
					close(got)
					return
				}
				got <- m.Seq
			}
		}()
		// 32 KiB events, one per transaction, until the hub gives up on the
		// client that reads nothing: its socket buffers full, then its
		// queue (Hub.QueueBytes).
		big := event{Pad: strings.Repeat("x", 32<<10)}
		var last int64
		for s.log.count("too slow") == 0 {
			if last > 3000 {
				t.Fatal("the slow client was never closed")
			}
			last = appendBatch(t, db, s.feed, "venue:9", big, 1)
		}
		t.Logf("dropped after %d events", last)
		// The other screen was not held up.
		for want := int64(1); want <= last; want++ {
			select {
			case seq := <-got:
				if seq != want {
					t.Fatalf("fast client got seq %d, want %d", seq, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("fast client stuck before seq %d of %d", want, last)
			}
		}

		var seen int64
		for {
			m, err := slow.read(10 * time.Second)
			if err != nil {
				ce, ok := err.(*websocket.CloseError)
				if !ok {
					t.Fatalf("slow client: %v, want a close frame", err)
				}
				want := "too slow: reconnect with since=" + strconv.FormatInt(seen, 10)
				if ce.Code != realtime.CloseTooSlow || ce.Text != want {
					t.Fatalf("slow client closed with %d %q, want %d %q", ce.Code, ce.Text, realtime.CloseTooSlow, want)
				}
				break
			}
			if m.Seq != seen+1 {
				t.Fatalf("slow client got seq %d after %d", m.Seq, seen)
			}
			seen = m.Seq
		}
		// It resumes where it stopped.
		again := s.dial(t, "venue:9", seen)
		again.hello()
		again.expect(seen+1, last)
	})

	t.Run("CloseGoingAway", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		c1, c2 := s.dial(t, "venue:1", -1), s.dial(t, "venue:2", 0)
		c1.hello()
		c2.hello()
		done := make(chan struct{})
		go func() {
			s.hub.Close()
			close(done)
		}()
		for _, c := range []*client{c1, c2} {
			if ce := c.closeError(); ce.Code != websocket.CloseGoingAway {
				t.Errorf("closed with %d %q, want 1001", ce.Code, ce.Text)
			}
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not return")
		}
		// Then new clients are refused.
		_, resp, err := websocket.DefaultDialer.Dial(s.url+"/feed/venue:1", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial after Close: %v, want 503", err)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		s := newServer(t, db, url)
		s.dial(t, "venue:1", -1).hello() // the hub listens
		httpURL := s.http.URL + "/feed/venue:1"

		resp, err := http.Get(httpURL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain GET: %d, want 400", resp.StatusCode)
		}

		tests := []struct {
			name, origin, since string
			want                int
		}{
			{"SameOrigin", s.http.URL, "", http.StatusSwitchingProtocols},
			{"OtherOrigin", "https://example.com", "", http.StatusForbidden},
			{"BadSince", "", "?since=-1", http.StatusUnprocessableEntity},
		}
		for _, tt := range tests {
			h := http.Header{}
			if tt.origin != "" {
				h.Set("Origin", tt.origin)
			}
			conn, resp, _ := websocket.DefaultDialer.Dial(s.url+"/feed/venue:1"+tt.since, h)
			if conn != nil {
				conn.Close()
			}
			if resp == nil || resp.StatusCode != tt.want {
				t.Errorf("%s: response %v, want %d", tt.name, resp, tt.want)
				continue
			}
			if tt.want != http.StatusSwitchingProtocols {
				var env struct {
					Error struct{ Code string } `json:"error"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Error.Code == "" {
					t.Errorf("%s: body without an error envelope (%v)", tt.name, err)
				}
			}
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatal("condition not met in 10 s")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestStalledScreen: a screen that stops reading for longer than a write
// may take is still closed with 4008 and the seq to resume from: the frames
// held back when its write timed out, then the close frame, reach it when
// it reads again, rather than a connection cut mid-frame (1006).
func TestStalledScreen(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	s := newServer(t, db, url, func(h *realtime.Hub) { h.WriteWait = 200 * time.Millisecond })
	slow := s.dial(t, "venue:8", -1)
	slow.hello()
	big := event{Pad: strings.Repeat("x", 32<<10)}
	var last int64
	for s.log.count("too slow") == 0 {
		if last > 3000 {
			t.Fatal("the stalled screen was never closed")
		}
		last = appendBatch(t, db, s.feed, "venue:8", big, 1)
	}
	// Stalled well past the write's deadline.
	time.Sleep(1500 * time.Millisecond)
	var seen int64
	for {
		m, err := slow.read(10 * time.Second)
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != realtime.CloseTooSlow {
				t.Fatalf("after %d events: %v, want the close frame 4008", seen, err)
			}
			if want := "too slow: reconnect with since=" + strconv.FormatInt(seen, 10); ce.Text != want {
				t.Fatalf("closed with %q, want %q", ce.Text, want)
			}
			break
		}
		if m.Seq != seen+1 {
			t.Fatalf("got seq %d after %d", m.Seq, seen)
		}
		seen = m.Seq
	}
	t.Logf("%d events appended, %d received before the close", last, seen)
}

// silent commits the next event of topic without announcing it, as a
// notification still on its way: triggers off (session_replication_role),
// the seq taken by hand as the deferred trigger takes it.
func silent(t *testing.T, db *sqlx.DB, topic string) {
	t.Helper()
	tx, err := db.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var seq int64
	if _, err := tx.Exec(`SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Get(&seq, `UPDATE feed_topics SET seq = seq + 1 WHERE topic = $1 RETURNING seq`, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO feed_events (topic, seq, body) VALUES ($1, $2, jsonb_build_object('seq', $2::bigint))`, topic, seq); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestEventTooBigToNotify: an event over NOTIFY's 8000 bytes is announced
// without its body; the hub reads it from the table, and the clients get
// every event once, in order, the big one whole.
func TestEventTooBigToNotify(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	s := newServer(t, db, url)
	c := s.dial(t, "big", -1)
	if seq := c.hello(); seq != 0 {
		t.Fatalf("hello at %d", seq)
	}
	big := strings.Repeat("考", 3000) // 9,000 bytes
	for _, ev := range []event{{N: 1}, {N: 2, Pad: big}, {N: 3}} {
		if err := appendOne(db, s.feed, "big", ev); err != nil {
			t.Fatal(err)
		}
	}
	for want := 1; want <= 3; want++ {
		c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m event
		if err := json.Unmarshal(data, &m); err != nil || m.N != want || (want == 2) != (m.Pad == big) {
			t.Fatalf("message %d: %.80s (%v)", want, data, err)
		}
	}
}

// TestScreenPing: a screen's ping is answered with a pong carrying its
// data, and the screen goes on receiving every event, in order.
func TestScreenPing(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	s := newServer(t, db, url)
	c := s.dial(t, "venue:9", -1)
	c.hello()
	pongs := make(chan string, 4)
	c.conn.SetPongHandler(func(data string) error { pongs <- data; return nil })
	appendEvents(t, db, s.feed, "venue:9", 2)
	c.expect(1, 2)
	if err := c.conn.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// The pong is read on the way to the next events (a control frame calls
	// the handler during ReadMessage): events follow until it has come.
	for seq := int64(3); ; seq++ {
		appendEvents(t, db, s.feed, "venue:9", 1)
		c.expect(seq, seq)
		select {
		case data := <-pongs:
			if data != "are you there" {
				t.Errorf("pong %q, want the ping's data", data)
			}
			return
		default:
		}
		if seq > 200 {
			t.Fatal("no pong")
		}
	}
}

// TestEventAfterThePing: an event written just after the hub's ping, on a
// screen idle for longer than a write may take, goes out with a fresh
// deadline: the screen gets every event and is never closed as too slow.
func TestEventAfterThePing(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	s := newServer(t, db, url, func(h *realtime.Hub) {
		h.WriteWait = 200 * time.Millisecond
		h.PingEvery = 30 * time.Millisecond
	})
	c := s.dial(t, "venue:10", -1)
	c.hello()
	// The client answers pings while it reads: it reads all the time.
	got := make(chan received, 64)
	var readErr error // set before got closes
	go func() {
		defer close(got)
		for {
			m, err := c.read(10 * time.Second)
			if err != nil {
				readErr = err
				return
			}
			got <- m
		}
	}()
	for seq := int64(1); seq <= 12; seq++ {
		time.Sleep(250 * time.Millisecond) // the last deadline has passed; pings went on
		appendEvents(t, db, s.feed, "venue:10", 1)
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatalf("closed before event %d: %v", seq, readErr)
			}
			if m.Seq != seq {
				t.Fatalf("got %+v, want the event with seq %d", m, seq)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d never came", seq)
		}
	}
	if n := s.log.count("too slow"); n != 0 {
		t.Errorf("%d screens closed as too slow", n)
	}
}

// TestCloseCutsAStalledWrite: closing the hub ends a writer blocked on a
// screen that stopped reading within the close's grace (about a second),
// not after the write's own wait.
func TestCloseCutsAStalledWrite(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	s := newServer(t, db, url, func(h *realtime.Hub) {
		h.WriteWait = 20 * time.Second
		h.QueueBytes = 64 << 20
	})
	stalled := s.dial(t, "venue:11", -1)
	stalled.hello()
	watcher := s.dial(t, "venue:11", -1)
	watcher.hello()
	// The stalled screen reads nothing more: its socket fills and its
	// writer blocks; the watcher reads all, so the events did go out.
	big := event{Pad: strings.Repeat("x", 32<<10)}
	var last int64
	for range 400 {
		last = appendBatch(t, db, s.feed, "venue:11", big, 1)
	}
	watcher.expect(1, last)
	start := time.Now()
	s.hub.Close()
	took := time.Since(start)
	if took > 8*time.Second { // the write's own wait is 20 s
		t.Fatalf("Close took %v with a stalled screen, want about two seconds (the write's grace, then the close frame's)", took)
	}
	t.Logf("Close took %v", took)
}
