package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/pg/pgtest"
	"examd/internal/refusal"
	"examd/realtime"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// event is what the tests append; Pad makes events as large as needed.
type event struct {
	N   int    `json:"n"`
	Pad string `json:"pad,omitempty"`
}

// received is a message as a client reads it.
type received struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
	N    int    `json:"n"`
}

// appendEvents appends n events to topic, each in its own transaction, and
// returns once they are numbered.
func appendEvents(tb testing.TB, db *sqlx.DB, feed *realtime.Feed, topic string, n int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		if err := appendOne(db, feed, topic, event{N: i}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := feed.Number(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// appendOne appends ev to topic in its own transaction and wakes the
// numberer, as examd does after a request; goroutines other than the test's
// may call it.
func appendOne(db *sqlx.DB, feed *realtime.Feed, topic string, ev event) error {
	ctx := context.Background()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := feed.Append(ctx, tx, topic, ev); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	feed.Wake()
	return nil
}

// appendBatch appends n copies of ev to topic in one transaction and returns
// the last seq.
func appendBatch(tb testing.TB, db *sqlx.DB, feed *realtime.Feed, topic string, ev event, n int) int64 {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		tb.Fatalf("begin: %v", err)
	}
	defer tx.Rollback()
	var id int64
	for i := 0; i < n; i++ {
		if id, err = feed.Append(ctx, tx, topic, ev); err != nil {
			tb.Fatalf("Append: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatalf("commit: %v", err)
	}
	if err := feed.Number(ctx); err != nil {
		tb.Fatalf("Number: %v", err)
	}
	var seq int64
	if err := db.GetContext(ctx, &seq, `SELECT seq FROM feed_events WHERE id = $1`, id); err != nil {
		tb.Fatalf("seq of feed event %d: %v", id, err)
	}
	return seq
}

// logTap is a slog handler that keeps the messages logged, for tests to
// wait for.
type logTap struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logTap) Enabled(context.Context, slog.Level) bool { return true }
func (l *logTap) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logTap) WithGroup(string) slog.Handler            { return l }
func (l *logTap) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// count returns how many messages contain s.
func (l *logTap) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// server is one examd "replica": a hub and an Echo server with the route
// GET /feed/:topic?since=N.
type server struct {
	hub  *realtime.Hub
	feed *realtime.Feed
	url  string // ws://host
	http *httptest.Server
	log  *logTap
}

// newServer starts a replica on the database db (url is its connection
// string), stopped when the test ends; configure, if any, sets its hub up
// before it runs.
func newServer(tb testing.TB, db *sqlx.DB, url string, configure ...func(*realtime.Hub)) *server {
	tb.Helper()
	return newServerOn(tb, db, url, nil, configure...)
}

// newServerOn is newServer whose listener is wrap's, when wrap is not nil.
func newServerOn(tb testing.TB, db *sqlx.DB, url string, wrap func(net.Listener) net.Listener, configure ...func(*realtime.Hub)) *server {
	tb.Helper()
	s := &server{feed: realtime.NewFeed(db), log: &logTap{}}
	s.hub = realtime.NewHub(s.feed, url, slog.New(s.log))
	for _, f := range configure {
		f(s.hub)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.hub.Run(ctx) }()
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { // cmd's, in short
		var ae *refusal.Error
		if !errors.As(err, &ae) {
			ae = api.ErrInternal
		}
		if !c.Response().Committed {
			c.JSON(api.Status(ae.Code), api.Envelope{Error: ae})
		}
	}
	e.GET("/feed/:topic", func(c echo.Context) error {
		since, err := realtime.ParseSince(c)
		if err != nil {
			return err
		}
		return s.hub.Serve(c, c.Param("topic"), since)
	})
	s.http = httptest.NewUnstartedServer(e)
	if wrap != nil {
		s.http.Listener = wrap(s.http.Listener)
	}
	s.http.Listener = realtime.Listener(s.http.Listener)
	s.http.Start()
	s.url = "ws" + strings.TrimPrefix(s.http.URL, "http")
	tb.Cleanup(func() {
		s.hub.Close()
		s.http.Close()
		cancel()
		if err := <-ran; err != nil {
			tb.Errorf("Run: %v", err)
		}
	})
	return s
}

// client is a websocket client of the tests.
type client struct {
	tb   testing.TB
	conn *websocket.Conn
}

// dial connects to topic of s, with since when it is 0 or more, retrying
// while the hub is not listening yet.
func (s *server) dial(tb testing.TB, topic string, since int64) *client {
	tb.Helper()
	u := s.url + "/feed/" + topic
	if since >= 0 {
		u += "?since=" + strconv.FormatInt(since, 10)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
		if err == nil {
			tb.Cleanup(func() { conn.Close() })
			return &client{tb: tb, conn: conn}
		}
		if resp == nil || resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			tb.Fatalf("dial %s: %v", u, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// next reads the next message, failing the test after 10 s.
func (c *client) next() received {
	c.tb.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	return m
}

// read reads the next message within d.
func (c *client) read(d time.Duration) (received, error) {
	var m received
	c.conn.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, errors.New("not JSON: " + string(data))
	}
	return m, nil
}

// hello reads the hello message and returns its seq.
func (c *client) hello() int64 {
	c.tb.Helper()
	m := c.next()
	if m.Type != "hello" {
		c.tb.Fatalf("first message %+v, want hello", m)
	}
	return m.Seq
}

// expect reads events and checks that their seqs run from first to last,
// each once, in order.
func (c *client) expect(first, last int64) {
	c.tb.Helper()
	for want := first; want <= last; want++ {
		if m := c.next(); m.Seq != want || m.Type != "" {
			c.tb.Fatalf("got %+v, want the event with seq %d (expecting %d..%d)", m, want, first, last)
		}
	}
}

// closeError reads until the connection closes and returns the close error.
func (c *client) closeError() *websocket.CloseError {
	c.tb.Helper()
	for {
		_, err := c.read(10 * time.Second)
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.tb.Fatalf("read: %v, want a close frame", err)
		}
		return ce
	}
}
