package scheduling_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/notify"
	"examd/internal/pg"
	"examd/internal/pg/pgtest"
	"examd/realtime"
	"examd/scheduling"
)

// counting is a database/sql connector that counts the statements sent to
// PostgreSQL, BEGIN, COMMIT and ROLLBACK included: with binary_parameters
// (as pg.Open sets it) each is one round trip.
type counting struct {
	driver.Connector
	n *atomic.Int64
}

func (c counting) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c.n}, nil
}

type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.n.Add(1)
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return countingTx{tx, c.n}, nil
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

// PrepareContext counts the prepare (one round trip: parse, describe) and
// wraps the statement so that each execution counts too.
func (c countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.n.Add(1)
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return countingStmt{st, c.n}, nil
}

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

type countingTx struct {
	driver.Tx
	n *atomic.Int64
}

func (t countingTx) Commit() error   { t.n.Add(1); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.n.Add(1); return t.Tx.Rollback() }

// TestBookStatements counts the statements of a booking: BEGIN, the read
// that locks the candidate, the write, COMMIT (ten before, with an
// idempotency key; eleven for a combined pair), three slots of a package
// included. A refusal for a full slot
// and a replay take four too. The read and the write are prepared once per
// connection (pg's statement cache): the first booking on a connection
// takes two more round trips.
func TestBookStatements(t *testing.T) {
	f := newMoveFixture(t)
	var n atomic.Int64
	conn, err := pq.NewConnector(fixtureURL(t, f))
	if err != nil {
		t.Fatal(err)
	}
	// The statement cache above the counting, as pg.Open connects.
	db := sqlx.NewDb(sql.OpenDB(pg.CachingConnector(counting{conn, &n})), "postgres")
	db.SetMaxOpenConns(1) // one connection: its statements are prepared once
	t.Cleanup(func() { db.Close() })
	s := scheduling.NewStore(db, notify.New(realtime.NewFeed(db)))
	ctx := context.Background()

	single := f.slot(t, 2, 14, 8, 1)
	s2, s3 := f.slot(t, 2, 21, 8, 5), f.slot(t, 3, 21, 10, 5)
	count := func(name string, want int64, r scheduling.BookRequest, wantErr error) {
		t.Helper()
		db.Ping()
		n.Store(0)
		_, err := s.Book(ctx, r, f.now)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: %v, want %v", name, err, wantErr)
		}
		if got := n.Load(); got != want {
			t.Errorf("%s: %d statements, want %d", name, got, want)
		}
	}
	first := registeredIn(t, f, "110101199001010023")
	count("first booking on the connection", 6, scheduling.BookRequest{CandidateID: first, SlotIDs: []int64{s2}, By: f.staff}, nil)
	r := scheduling.BookRequest{CandidateID: f.cid, SlotIDs: []int64{single}, By: f.staff, IdempotencyKey: "k1"}
	count("booking with a key", 4, r, nil)
	count("replay", 5, r, nil) // its read of the bookings, new on the connection, is prepared first
	other := registeredIn(t, f, "110101199001010015")
	count("full slot", 4, scheduling.BookRequest{CandidateID: other, SlotIDs: []int64{single}, By: f.staff}, scheduling.ErrSlotFull)
	count("combined pair", 4, scheduling.BookRequest{CandidateID: other, SlotIDs: []int64{s2, s3}, By: f.staff, IdempotencyKey: "k2"}, nil)
	// BK-PACKAGE: three slots take the same four statements.
	third := registeredIn(t, f, "110101199001010031")
	if _, err := f.s.GrantPackage(ctx, third, scheduling.NewPackageGrant{Reason: "school_term"}, f.staff); err != nil {
		t.Fatal(err)
	}
	s4 := f.slot(t, 4, 21, 12, 5)
	count("package", 4, scheduling.BookRequest{CandidateID: third, SlotIDs: []int64{s4, s3, s2}, By: f.staff, IdempotencyKey: "k3"}, nil)
}

// fixtureURL is a connection string for f's database.
func fixtureURL(t *testing.T, f moveFixture) string {
	t.Helper()
	_, dsn := pgtest.NewDB(t)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if dsn, err = pq.ParseURL(dsn); err != nil {
			t.Fatal(err)
		}
	}
	var name string
	if err := f.db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	return dsn + " dbname=" + name + " binary_parameters=yes"
}

// registeredIn registers another C1 candidate in f who passed subject 1.
func registeredIn(t *testing.T, f moveFixture, id string) int64 {
	t.Helper()
	today := scheduling.Day(f.now)
	passed := today.AddDate(0, 0, -70)
	n := scheduling.NewCandidate{
		IDNumber: id, Name: "王五", Phone: "13800138001", LicenceClass: "C1",
		PermitIssuedOn: today.AddDate(0, 0, -60), PermitExpiresOn: today.AddDate(2, 0, 0),
		Subject1PassedOn: &passed, Password: "candidate-pw",
	}
	if err := n.Validate(today); err != nil {
		t.Fatal(err)
	}
	cid, err := f.s.CreateCandidate(context.Background(), n, "x", f.staff)
	if err != nil {
		t.Fatal(err)
	}
	return cid
}
