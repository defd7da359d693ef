package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// TestFaultReplicaLost is the fault "a replica lost" (make test-faults): two
// examd processes serve one database; screens watch the venue on both and
// exam cars post to both, in turn. One replica is killed with SIGKILL. Its
// screens reconnect to the other with since=<the last seq they saw> (the
// test plays the load balancer), the cars send their unanswered events
// there, and in the end every screen holds the venue's seqs 1..N, each once
// and in order, and every event answered is stored once.
func TestFaultReplicaLost(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	dbURL := cluster.URL("examd")
	bin := buildExamd(t)
	lost := startExamd(t, bin, dbURL)
	kept := startExamd(t, bin, dbURL)
	db := openDB(t, dbURL)
	a := lost.app(db, dbURL)
	day := servertest.NewExamDay(t, a, 2)

	cars := make([]*roamingCar, 4)
	for i := range cars {
		key := day.Device
		if i > 0 {
			key = day.NewDevice(t, day.Venue)
		}
		_, booking := day.Book(t, day.Slot, 2)
		cars[i] = &roamingCar{t: t, urls: []string{lost.URL, kept.URL}, key: key, booking: booking, turn: i}
	}
	screens := make([]*roamingScreen, 6)
	for i := range screens {
		on := lost
		if i%2 == 1 {
			on = kept
		}
		screens[i] = watchRoaming(t, on.URL, kept.URL, day.Sched, day.Venue)
	}

	ctx, stopCars := context.WithCancel(context.Background())
	var posting sync.WaitGroup
	for _, c := range cars {
		posting.Go(func() { c.run(ctx) })
	}
	defer func() { stopCars(); posting.Wait() }()
	time.Sleep(time.Second)
	atKill := currentSeq(t, a, day.Venue)
	lost.kill()
	killed := time.Now()
	time.Sleep(time.Second)
	stopCars()
	posting.Wait()

	final := currentSeq(t, a, day.Venue)
	waitFor(t, fmt.Sprintf("every screen at the final seq %d", final), killed, func() bool {
		for _, s := range screens {
			if s.last() < final {
				return false
			}
		}
		return true
	})
	for i, s := range screens {
		s.stop()
		seqs, reconnects, gap := s.result()
		if !slices.Equal(seqs, seqRange(final)) {
			t.Errorf("screen %d: seqs %v, want 1..%d each once in order", i, seqs, final)
		}
		if want := 1 - i%2; reconnects != want {
			t.Errorf("screen %d: %d reconnects, want %d", i, reconnects, want)
		}
		if reconnects > 0 {
			t.Logf("screen %d: back on the other replica %v after the kill, resumed after seq %d",
				i, gap.Round(time.Millisecond), s.resumedAfter)
		}
	}
	for i, c := range cars {
		c.mu.Lock()
		var stored int
		if err := db.Get(&stored, `SELECT count(*) FROM attempt_events WHERE event_id = ANY($1::uuid[])`, pq.Array(c.acked)); err != nil {
			t.Fatal(err)
		}
		if stored != len(c.acked) {
			t.Errorf("car %d: %d events answered 2xx, %d stored", i, len(c.acked), stored)
		}
		t.Logf("car %d: %d events stored, %d sent again to the other replica after no answer", i, len(c.acked), c.failovers)
		c.mu.Unlock()
	}
	t.Logf("replica killed at seq %d; %d events on the venue's feed in the end", atKill, final)
}

// roamingCar is a judging device behind a load balancer: it posts an
// instruction every 20 ms to the replicas in turn and sends an event that
// got no answer to the next replica, with its event_id, until one stores
// it.
type roamingCar struct {
	t       *testing.T
	urls    []string
	key     string
	booking int64
	turn    int // the replica of the next request

	mu        sync.Mutex
	acked     []string
	failovers int // events sent again after a transport error
}

func (c *roamingCar) run(ctx context.Context) {
	client := &http.Client{Timeout: 10 * time.Second}
	c.post(client, "exam_started")
	for ctx.Err() == nil {
		c.post(client, "instruction")
		time.Sleep(20 * time.Millisecond)
	}
}

// post sends one event until a replica answers 201 or 200.
func (c *roamingCar) post(client *http.Client, typ string) {
	id := testkit.UUID()
	body, _ := json.Marshal(map[string]any{"event_id": id, "booking_id": c.booking, "type": typ,
		"text": "前方路口直行", "at": time.Now().Format(time.RFC3339Nano)})
	giveUp := time.Now().Add(30 * time.Second)
	for {
		url := c.urls[c.turn%len(c.urls)]
		c.turn++
		req, _ := http.NewRequest("POST", url+"/api/v1/exam/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Device "+c.key)
		res, err := client.Do(req)
		if err == nil {
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusCreated || res.StatusCode == http.StatusOK {
				c.mu.Lock()
				c.acked = append(c.acked, id)
				c.mu.Unlock()
				return
			}
			c.t.Errorf("car: %s event: %d %s, want 201 or 200", typ, res.StatusCode, raw)
			return
		}
		c.mu.Lock()
		c.failovers++
		c.mu.Unlock()
		if time.Now().After(giveUp) {
			c.t.Errorf("car: event %s unanswered for 30 s: %v", id, err)
			return
		}
	}
}

// roamingScreen is a venue's screen behind a load balancer: when its
// connection breaks, it reconnects to the surviving replica with
// since=<the last seq it saw>.
type roamingScreen struct {
	t            *testing.T
	fallback     string // the replica it reconnects to
	token        string
	venue        int64
	stopping     atomic.Bool
	done         chan struct{}
	resumedAfter int64

	mu         sync.Mutex
	conn       *websocket.Conn
	seqs       []int64
	reconnects int
	gap        time.Duration // from the broken connection to the first message after it
}

func watchRoaming(t *testing.T, url, fallback, token string, venue int64) *roamingScreen {
	t.Helper()
	s := &roamingScreen{t: t, fallback: fallback, token: token, venue: venue, done: make(chan struct{})}
	conn, err := s.dial(url, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.conn = conn
	go s.read()
	return s
}

// dial opens the venue's feed at url, after since unless it is -1.
func (s *roamingScreen) dial(url string, since int64) (*websocket.Conn, error) {
	u := strings.Replace(url, "http://", "ws://", 1) + fmt.Sprintf("/api/v1/live?venue_id=%d&access_token=%s", s.venue, s.token)
	if since >= 0 {
		u += fmt.Sprintf("&since=%d", since)
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return conn, nil
}

func (s *roamingScreen) read() {
	defer close(s.done)
	conn := s.conn
	var broken time.Time
	for {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		_, raw, err := conn.ReadMessage()
		if s.stopping.Load() {
			return
		}
		if err != nil {
			// The replica is gone: the load balancer sends the screen to
			// the other one, which replays what it missed.
			broken = time.Now()
			conn.Close()
			last := s.last()
			conn, err = s.dial(s.fallback, last)
			if err != nil {
				s.t.Errorf("screen: %v", err)
				return
			}
			s.mu.Lock()
			s.conn = conn
			s.reconnects++
			s.resumedAfter = last
			s.mu.Unlock()
			continue
		}
		var m struct {
			Type string `json:"type"`
			Seq  int64  `json:"seq"`
		}
		if json.Unmarshal(raw, &m) == nil && m.Type != "hello" {
			s.mu.Lock()
			s.seqs = append(s.seqs, m.Seq)
			if !broken.IsZero() && s.gap == 0 {
				s.gap = time.Since(broken)
			}
			s.mu.Unlock()
		}
	}
}

func (s *roamingScreen) last() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) == 0 {
		return 0
	}
	return s.seqs[len(s.seqs)-1]
}

// stop closes the screen's connection and waits for its reader.
func (s *roamingScreen) stop() {
	s.stopping.Store(true)
	s.mu.Lock()
	s.conn.Close()
	s.mu.Unlock()
	<-s.done
}

// result is what the screen saw: its seqs, how often it reconnected, and
// how long after its connection broke the next event reached it.
func (s *roamingScreen) result() ([]int64, int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seqs), s.reconnects, s.gap
}
