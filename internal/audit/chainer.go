package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
)

// Chainer links the committed, unchained rows of the audit log into the
// chain, a batch at a time, each batch one short transaction
// (audit_chain_batch, migration 00019). Every examd replica runs one; the
// chainer's PostgreSQL advisory lock, taken per batch with
// pg_try_advisory_xact_lock, lets one batch run at a time across them all.
// A lock that lives as long as its transaction needs no hand-over: when a
// replica dies, or its connection is killed mid-batch, the batch rolls back
// whole and the next replica to poll links the same rows.
//
// It polls (every Every) rather than waiting for a NOTIFY from the writers:
// a transaction that notifies takes a database-wide lock at commit and
// holds it through the WAL flush (PostgreSQL serialises notifying commits
// so that notifications queue in commit order), which would put back the
// very bottleneck the chainer removes. A full batch is followed by the next
// at once.
type Chainer struct {
	db  *sqlx.DB
	log *slog.Logger

	// Every is the pause between polls when the last batch emptied the
	// queue; Batch the most rows linked in one transaction.
	Every time.Duration
	Batch int

	lag atomic.Uint64 // math.Float64bits of the last lag seen, in seconds
}

// Chainer defaults.
const (
	DefaultEvery = 200 * time.Millisecond
	DefaultBatch = 1000
)

// NewChainer returns a chainer of the audit log in db, logging to log.
func NewChainer(db *sqlx.DB, log *slog.Logger) *Chainer {
	return &Chainer{db: db, log: log, Every: DefaultEvery, Batch: DefaultBatch}
}

// Batch is the outcome of one batch.
type Batch struct {
	Got      bool          // whether it held the chainer's lock: false when another chainer did
	Linked   int           // rows linked
	First    int64         // chain_seq of the first row linked, 0 when none
	Last     int64         // and of the last
	Lag      time.Duration // age of the oldest row left unchained, 0 when none
	Finished time.Time     // when the batch returned
}

// Step runs one batch: it links at most c.Batch rows if no other chainer
// holds the lock, or if wait, once it gets the lock.
func (c *Chainer) Step(ctx context.Context, wait bool) (Batch, error) {
	return step(ctx, c.db, c.batch(), wait, &c.lag)
}

func (c *Chainer) batch() int {
	if c.Batch <= 0 {
		return DefaultBatch
	}
	return c.Batch
}

func step(ctx context.Context, db sqlx.QueryerContext, n int, wait bool, lag *atomic.Uint64) (Batch, error) {
	var r struct {
		Got    bool     `db:"got"`
		Linked int      `db:"linked"`
		First  *int64   `db:"first_seq"`
		Last   *int64   `db:"last_seq"`
		Lag    *float64 `db:"lag_seconds"`
	}
	// One statement, so one transaction: nothing of a batch outlives it.
	// When its backend dies mid-batch (terminated, or the server restarts),
	// lib/pq reports the FATAL error as driver.ErrBadConn and database/sql
	// runs the statement again on a new connection, up to three tries in
	// all: safe, since the dead try rolled back whole, and the new one is a
	// new batch that takes the lock afresh. Cancelling ctx ends it at once.
	if err := sqlx.GetContext(ctx, db, &r, `SELECT got, linked, first_seq, last_seq, lag_seconds
		FROM audit_chain_batch($1, $2)`, n, wait); err != nil {
		return Batch{}, fmt.Errorf("chain the audit log: %w", err)
	}
	b := Batch{Got: r.Got, Linked: r.Linked, Finished: time.Now()}
	if r.First != nil {
		b.First, b.Last = *r.First, *r.Last
	}
	if r.Lag != nil {
		b.Lag = time.Duration(*r.Lag * float64(time.Second))
		if lag != nil {
			lag.Store(math.Float64bits(*r.Lag))
		}
	}
	return b, nil
}

// Lag returns the age, in seconds, of the oldest row left unchained when
// this chainer last looked (every poll, whether or not it held the lock);
// 0 when none was.
func (c *Chainer) Lag() float64 { return math.Float64frombits(c.lag.Load()) }

// Run links rows until ctx is done: a batch each poll, and the next one at
// once after a full batch. Errors are logged, and the next poll tries again.
func (c *Chainer) Run(ctx context.Context) {
	c.RunBatches(ctx, nil)
}

// RunBatches is Run, calling done, when not nil, after each batch that held
// the lock (tests record them).
func (c *Chainer) RunBatches(ctx context.Context, done func(Batch)) {
	every := c.Every
	if every <= 0 {
		every = DefaultEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		b, err := c.Step(ctx, false)
		// A batch that committed is reported even when ctx ended meanwhile.
		if err == nil && b.Got && done != nil {
			done(b)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && pg.Unavailable(err):
			c.log.Warn("chain the audit log: database unavailable", "err", err.Error())
		case err != nil:
			c.log.Error("chain the audit log", "err", err.Error())
		}
		if err == nil && b.Got && b.Linked == c.batch() {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Flush links every row committed before it was called (and any committed
// since), waiting for the chainer's lock when another chainer holds it: when
// it returns nil, the chain holds every entry whose transaction committed
// before the call. Readers that want the whole log (GET /api/v1/audit, the
// admin's page, tests) call it first.
func Flush(ctx context.Context, db *sqlx.DB) error {
	for {
		b, err := step(ctx, db, DefaultBatch, true, nil)
		if err != nil {
			return err
		}
		if b.Linked < DefaultBatch {
			return nil
		}
	}
}

// flushTimeout bounds the wait of a reader for the chain: past it, the
// reader lists what is chained.
const flushTimeout = 3 * time.Second

// flushForRead runs Flush for a reader of the log: a chain that cannot
// catch up within flushTimeout (a backlog the chainers are still working
// through) is not an error, the reader lists what is chained so far.
func flushForRead(ctx context.Context, db *sqlx.DB) error {
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	defer cancel()
	err := Flush(fctx, db)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || fctx.Err() != nil) {
		return nil
	}
	return err
}
