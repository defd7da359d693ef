package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/lib/pq"

	"examd/exam"
	"examd/internal/pg"
	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// recoveryLimit is how soon after PostgreSQL is back examd must serve again,
// and every screen have every event, without a restart.
const recoveryLimit = 15 * time.Second

// TestFaultPostgresRestart is the fault "PostgreSQL stopped and restarted
// mid-exam" (make test-faults): three exam cars post events and three
// screens watch their venue while PostgreSQL is stopped, fast and then
// immediately (as in a crash), and started again on the same data folder.
// During each outage every answer is 503 unavailable with Retry-After,
// never 500: the devices' events, the API, /readyz, a page and a websocket
// handshake. Within 15 s of each restart examd is ready, every device's
// retried event is stored (once: by event_id), and at the end every screen,
// still on its first connection, holds the venue's seqs 1..N, each once and
// in order.
func TestFaultPostgresRestart(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	dbURL := cluster.URL("examd")
	db, err := pg.Open(context.Background(), dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a := servertest.StartOn(t, db, dbURL)
	day := servertest.NewExamDay(t, a, 2)
	page := pageLogin(t, a, "admin", servertest.AdminPassword)

	cars := make([]*car, 3)
	for i := range cars {
		key := day.Device
		if i > 0 {
			key = day.NewDevice(t, day.Venue)
		}
		_, booking := day.Book(t, day.Slot, 2)
		cars[i] = &car{t: t, url: a.URL, key: key, booking: booking}
		day.A.Must(http.StatusCreated, "POST", "/api/v1/exam/events", "", map[string]any{
			"event_id": testkit.UUID(), "booking_id": booking, "type": "exam_started", "at": time.Now().Format(time.RFC3339Nano),
		}, "Authorization", "Device "+key)
	}
	screens := make([]*feedScreen, 3)
	for i := range screens {
		token := a.Admin
		if i == 2 {
			token = day.Sched
		}
		s, _, err := servertest.Watch(t, a, token, day.Venue, "0")
		if err != nil {
			t.Fatal(err)
		}
		screens[i] = watchFeed(s.Conn)
	}

	ctx, stopCars := context.WithCancel(context.Background())
	var posting sync.WaitGroup
	for _, c := range cars {
		posting.Go(func() { c.run(ctx) })
	}
	defer func() { stopCars(); posting.Wait() }()

	for _, mode := range []string{"fast", "immediate"} {
		time.Sleep(300 * time.Millisecond) // events before the outage
		cluster.Stop(mode)
		down := time.Now()
		before := make([]int, len(cars))
		for i, c := range cars {
			before[i] = c.unavailable()
		}
		probeOutage(t, mode, a, page, day)
		time.Sleep(time.Until(down.Add(time.Second))) // the cars keep trying
		for i, c := range cars {
			if c.unavailable() == before[i] {
				// Each car tries every 100 ms: it met the outage.
				t.Errorf("%s: car %d got no 503 during the outage", mode, i)
			}
		}

		// The cars retry their events but start no new ones until the
		// screens have those: events committed before the feed's listener
		// is back reach the screens only if the hub reads what it missed.
		acked := make([]int, len(cars))
		for i, c := range cars {
			c.paused.Store(true)
			acked[i] = c.ackedCount()
		}
		cluster.Start()
		back := time.Now()
		waitFor(t, mode+": /readyz 200 after the restart", back, func() bool {
			r, err := http.Get(a.URL + "/readyz")
			if err == nil {
				r.Body.Close()
			}
			return err == nil && r.StatusCode == http.StatusOK
		})
		waitFor(t, mode+": every car's retried event stored after the restart", back, func() bool {
			for i, c := range cars {
				if c.ackedCount() <= acked[i] {
					return false
				}
			}
			return true
		})
		seq := currentSeq(t, a, day.Venue)
		waitFor(t, fmt.Sprintf("%s: every screen at seq %d (the hub caught up)", mode, seq), back, func() bool {
			for _, s := range screens {
				if s.last() < seq {
					return false
				}
			}
			return true
		})
		for _, c := range cars {
			c.paused.Store(false)
		}
		t.Logf("%s: recovered %v after the restart", mode, time.Since(back).Round(time.Millisecond))
	}

	stopCars()
	posting.Wait()
	final := currentSeq(t, a, day.Venue)
	end := time.Now()
	waitFor(t, fmt.Sprintf("every screen at the final seq %d", final), end, func() bool {
		for _, s := range screens {
			if s.last() >= final {
				continue
			}
			return false
		}
		return true
	})
	for i, s := range screens {
		s.conn.Close()
		<-s.done
		if !slices.Equal(s.seqs, seqRange(final)) {
			t.Errorf("screen %d: seqs %v, want 1..%d each once in order", i, s.seqs, final)
		}
		if s.err != nil && !strings.Contains(s.err.Error(), "use of closed network connection") {
			t.Errorf("screen %d lost its connection: %v", i, s.err)
		}
	}
	for i, c := range cars {
		var stored int
		err := a.DB.Get(&stored, `SELECT count(*) FROM attempt_events WHERE event_id = ANY($1::uuid[])`, pq.Array(c.acked))
		if err != nil {
			t.Fatal(err)
		}
		if stored != len(c.acked) {
			t.Errorf("car %d: %d events answered 2xx, %d stored", i, len(c.acked), stored)
		}
		t.Logf("car %d: %d events stored, %d answers 503, %d repeats answered 200", i, len(c.acked), c.unavailable(), c.replayed)
	}
	t.Logf("%d events on the venue's feed", final)
}

// probeOutage checks, while PostgreSQL is stopped, that the API, /readyz, a
// page and a websocket handshake answer 503 unavailable with Retry-After.
func probeOutage(t *testing.T, mode string, a *servertest.App, page *http.Client, day *servertest.ExamDay) {
	t.Helper()
	api := []struct{ method, path, token, body string }{
		{"GET", "/readyz", "", ""},
		{"GET", "/api/v1/venues", a.Admin, ""},
		{"GET", "/api/v1/slots", a.Admin, ""},
		{"GET", fmt.Sprintf("/api/v1/slots/%d/roster", day.Slot), day.Sched, ""},
		{"POST", "/api/v1/login", "", `{"username":"admin","password":"` + servertest.AdminPassword + `"}`},
		{"POST", "/api/v1/venues", a.Admin, `{"name":"第二考场","address":"长安街2号","step_free":true}`},
	}
	for _, p := range api {
		req, _ := http.NewRequest(p.method, a.URL+p.path, strings.NewReader(p.body))
		req.Header.Set("Content-Type", "application/json")
		if p.token != "" {
			req.Header.Set("Authorization", "Bearer "+p.token)
		}
		status, header, body := send(t, http.DefaultClient, req)
		var env struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(body, &env)
		if status != http.StatusServiceUnavailable || env.Error.Code != "unavailable" || header.Get("Retry-After") == "" {
			t.Errorf("%s outage: %s %s: %d Retry-After %q %s, want 503 unavailable with Retry-After",
				mode, p.method, p.path, status, header.Get("Retry-After"), body)
		}
	}

	req, _ := http.NewRequest("GET", a.URL+"/admin/venues", nil)
	status, header, body := send(t, page, req)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || !bytes.Contains(body, []byte("服务暂时不可用")) {
		t.Errorf("%s outage: page /admin/venues: %d Retry-After %q, want 503 with Retry-After and the Chinese notice:\n%.600s",
			mode, status, header.Get("Retry-After"), body)
	}

	_, res, err := servertest.Watch(t, a, a.Admin, day.Venue, "0")
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		got := 0
		if res != nil {
			got = res.StatusCode
		}
		t.Errorf("%s outage: websocket handshake: %d (%v), want 503 with Retry-After", mode, got, err)
	}
}

// car is a judging device that posts an instruction every 20 ms and, like a
// real one, retries each event with its event_id until examd stores it.
type car struct {
	t       *testing.T
	url     string
	key     string
	booking int64

	paused atomic.Bool // no new event after the one in hand while set

	mu       sync.Mutex
	acked    []string // the event ids answered 201 or 200
	replayed int      // retries answered 200: the first try was stored
	down     int      // answers 503
}

func (c *car) run(ctx context.Context) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		id := testkit.UUID()
		body, _ := json.Marshal(map[string]any{"event_id": id, "booking_id": c.booking, "type": "instruction",
			"text": "前方路口直行", "at": time.Now().Format(time.RFC3339Nano)})
		giveUp := time.Now().Add(2 * time.Minute)
		for tries := 0; ; tries++ {
			req, _ := http.NewRequest("POST", c.url+"/api/v1/exam/events", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Device "+c.key)
			res, err := client.Do(req)
			if err != nil {
				c.t.Errorf("car: POST /exam/events: %v", err)
				return
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusCreated || res.StatusCode == http.StatusOK {
				c.mu.Lock()
				c.acked = append(c.acked, id)
				if res.StatusCode == http.StatusOK {
					c.replayed++
				}
				c.mu.Unlock()
				break
			}
			if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" ||
				!bytes.Contains(raw, []byte(`"unavailable"`)) {
				c.t.Errorf("car: event try %d: %d Retry-After %q %s, want 201, 200, or 503 unavailable with Retry-After",
					tries, res.StatusCode, res.Header.Get("Retry-After"), raw)
				return
			}
			c.mu.Lock()
			c.down++
			c.mu.Unlock()
			if time.Now().After(giveUp) {
				c.t.Errorf("car: event %s still refused after 2 minutes", id)
				return
			}
			// A real device waits Retry-After; the test retries sooner to
			// measure the recovery closely.
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		for c.paused.Load() && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func (c *car) ackedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.acked)
}

func (c *car) unavailable() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.down
}

// feedScreen records the seqs a venue's screen receives.
type feedScreen struct {
	conn *websocket.Conn
	done chan struct{} // closed when the connection has ended
	mu   sync.Mutex
	seqs []int64 // every event's seq, hello excluded
	err  error   // why the connection ended
}

func watchFeed(conn *websocket.Conn) *feedScreen {
	s := &feedScreen{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			// Pings come every few seconds, outage or not.
			_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
			_, raw, err := conn.ReadMessage()
			if err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				return
			}
			var m struct {
				Type string `json:"type"`
				Seq  int64  `json:"seq"`
			}
			if json.Unmarshal(raw, &m) == nil && m.Type != "hello" {
				s.mu.Lock()
				s.seqs = append(s.seqs, m.Seq)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *feedScreen) last() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) == 0 {
		return 0
	}
	return s.seqs[len(s.seqs)-1]
}

// currentSeq is the venue's last committed seq.
func currentSeq(t *testing.T, a *servertest.App, venue int64) int64 {
	t.Helper()
	var seq int64
	if err := a.DB.Get(&seq, `SELECT seq FROM feed_topics WHERE topic = $1`, exam.VenueTopic(venue)); err != nil {
		t.Fatal(err)
	}
	return seq
}

func seqRange(n int64) []int64 {
	seqs := make([]int64, 0, n)
	for i := int64(1); i <= n; i++ {
		seqs = append(seqs, i)
	}
	return seqs
}

// waitFor fails the test unless ok holds within recoveryLimit of since.
func waitFor(t *testing.T, what string, since time.Time, ok func() bool) {
	t.Helper()
	for !ok() {
		if time.Since(since) > recoveryLimit {
			t.Fatalf("%s: not within %v", what, recoveryLimit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// send does req and returns the answer.
func send(t *testing.T, c *http.Client, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, body
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// pageLogin logs user in through the login form and returns a client that
// holds the session cookie.
func pageLogin(t *testing.T, a *servertest.App, user, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("GET", a.URL+"/login", nil)
	_, _, body := send(t, c, req)
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET /login: no CSRF token in the form")
	}
	form := url.Values{"username": {user}, "password": {password}, "_csrf": {html.UnescapeString(string(m[1]))}}
	req, _ = http.NewRequest("POST", a.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if status, _, body := send(t, c, req); status != http.StatusOK {
		t.Fatalf("log in as %s through the form: %d\n%.600s", user, status, body)
	}
	return c
}
