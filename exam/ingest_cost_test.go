package exam_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/exam"
	"examd/internal/notify"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"examd/issuance"
	"examd/realtime"
)

// statements records the statements sent to PostgreSQL through a
// countingConnector: queries, BEGIN, COMMIT and ROLLBACK, one round trip
// each (lib/pq with binary_parameters, as examd connects).
type statements struct {
	mu   sync.Mutex
	sent []string
}

func (s *statements) add(q string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, strings.Join(strings.Fields(q), " "))
}

// take returns the statements recorded since the last take.
func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	sent := s.sent
	s.sent = nil
	return sent
}

// pqConn is what a lib/pq connection implements.
type pqConn interface {
	driver.Conn
	driver.QueryerContext
	driver.ExecerContext
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
	driver.Validator
}

type countingConnector struct {
	driver.Connector
	s *statements
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{pqConn: cn.(pqConn), s: c.s}, nil
}

type countingConn struct {
	pqConn
	s *statements
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.s.add(q)
	return c.pqConn.QueryContext(ctx, q, args)
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.s.add(q)
	return c.pqConn.ExecContext(ctx, q, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.s.add("BEGIN")
	tx, err := c.pqConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, c.s}, nil
}

type countingTx struct {
	driver.Tx
	s *statements
}

func (t countingTx) Commit() error   { t.s.add("COMMIT"); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.s.add("ROLLBACK"); return t.Tx.Rollback() }

// countingDB opens url as examd does, recording every statement in s.
func countingDB(t *testing.T, url string, s *statements) *sqlx.DB {
	t.Helper()
	switch {
	case strings.HasPrefix(url, "postgres") && strings.Contains(url, "?"):
		url += "&binary_parameters=yes"
	case strings.HasPrefix(url, "postgres"):
		url += "?binary_parameters=yes"
	default:
		url += " binary_parameters=yes"
	}
	cn, err := pq.NewConnector(url)
	if err != nil {
		t.Fatal(err)
	}
	db := sqlx.NewDb(sql.OpenDB(countingConnector{cn, s}), "postgres")
	t.Cleanup(func() { db.Close() })
	return db
}

// TestIngestStatements counts the statements of a device event, from the
// device's authentication to the answer: the round trips each event costs
// PostgreSQL. The bounds guard against new ones; the test logs them all.
// Before issue 13: 12 for an item_started, 14 for a deduction (the key
// looked up, and the stored answer, twice, besides what is below).
// Since the feed's numbering left the commit (migration 00022) one more: the
// numberer's batch after the commit, which the answer waits for (its seq)
// and which concurrent events share (realtime.Feed.Number). Since the sixth
// session two fewer: the event's state statement reads the attempt's
// deductions and a deduction's rule too, and an event that changes neither
// the attempt's score nor its status does not write the attempt: 8 for an
// item_started (or an instruction), 9 for a deduction.
func TestIngestStatements(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	if r := d.Post(d.Device, booking, "exam_started", nil); r.Status != 201 {
		t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
	}
	var s statements
	db := countingDB(t, a.DBURL, &s)
	feed := realtime.NewFeed(db)
	store := exam.NewStore(db, feed, issuance.NewStore(db, feed, notify.New(feed)), notify.New(feed))
	ctx := context.Background()
	if _, err := store.EventDevice(ctx, d.Device); err != nil { // its key cached, as after its first event
		t.Fatal(err)
	}
	post := func(typ string, set func(*exam.Event)) []string {
		t.Helper()
		s.take()
		dev, err := store.EventDevice(ctx, d.Device)
		if err != nil {
			t.Fatal(err)
		}
		ev := exam.Event{EventID: testkit.UUID(), BookingID: booking, Type: typ, At: time.Now()}
		if set != nil {
			set(&ev)
		}
		if _, fresh, err := store.Ingest(ctx, dev, ev, time.Now()); err != nil || !fresh {
			t.Fatalf("%s: fresh %v, %v", typ, fresh, err)
		}
		return s.take()
	}
	for _, c := range []struct {
		typ  string
		set  func(*exam.Event)
		most int
	}{
		{"item_started", func(e *exam.Event) { e.Item = "reverse_parking" }, 8},
		{"deduction", func(e *exam.Event) { e.Rule = "RP.STOP" }, 9},
	} {
		sent := post(c.typ, c.set)
		t.Logf("%s: %d statements:\n\t%s", c.typ, len(sent), strings.Join(sent, "\n\t"))
		if len(sent) > c.most {
			t.Errorf("%s: %d statements, want at most %d", c.typ, len(sent), c.most)
		}
	}
}
