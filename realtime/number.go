package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
)

// Numbering defaults: the most events one batch numbers, the pause between
// polls for events that no one here woke the numberer for (appended by
// another replica, or left unnumbered by a crash), and the bound on one
// round.
const (
	numberBatch   = 1000
	DefaultPoll   = 100 * time.Millisecond
	roundDeadline = 10 * time.Second
)

// numberer numbers committed events (migration 00022): a round runs batches
// of feed_number_batch, each one short transaction under the numberer's
// advisory lock (one batch at a time across replicas), until a batch leaves
// nothing behind. One round runs at a time in a process; callers that ask
// for numbering while one runs join the next, which starts when it ends: a
// round's batches look after the lock is taken, so the next round sees
// every event committed before its callers asked (group commit).
type numberer struct {
	db *sqlx.DB

	mu      sync.Mutex
	running bool   // a round runs
	next    *round // the round that runs next; nil when no one waits

	lag atomic.Uint64 // math.Float64bits of the last lag seen, in seconds
}

type round struct {
	done chan struct{}
	err  error
}

// Number numbers every event committed before it was called (and any
// committed since that the numbering sees): when it returns nil, they all
// have their seq and their notifications are sent. An answer that shows an
// event's seq calls it right after the event's transaction commits.
func (f *Feed) Number(ctx context.Context) error {
	r := f.num.start()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wake starts numbering the events committed so far without waiting for it:
// a writer calls it after its commit so that screens get its events at once
// (wakes at the same time share a round). A request's writer knows that it
// appended by the request's AppendMark.
func (f *Feed) Wake() { f.num.start() }

// AppendMark tells whether the appends given a context carrying it (from
// MarkAppends) appended any event: a request that appended none need not
// wake the numberer.
type AppendMark struct{ appended atomic.Bool }

type appendMarkKey struct{}

// MarkAppends returns ctx with a new mark, which Append sets
// when given ctx or a context derived from it.
func MarkAppends(ctx context.Context) (context.Context, *AppendMark) {
	m := &AppendMark{}
	return context.WithValue(ctx, appendMarkKey{}, m), m
}

// Appended reports whether an event was appended under the mark.
func (m *AppendMark) Appended() bool { return m.appended.Load() }

// markAppended sets ctx's mark, if it carries one.
func markAppended(ctx context.Context) {
	if m, ok := ctx.Value(appendMarkKey{}).(*AppendMark); ok {
		m.appended.Store(true)
	}
}

// NumberingLag returns the age, in seconds, of the oldest event left
// unnumbered when this process last numbered; 0 when none was.
func (f *Feed) NumberingLag() float64 { return math.Float64frombits(f.num.lag.Load()) }

// RunNumbering numbers events until ctx is done: every poll, and whenever a
// writer wakes it. Every examd replica runs it; errors are logged, and the
// next poll tries again.
func (f *Feed) RunNumbering(ctx context.Context, poll time.Duration, log *slog.Logger) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := f.Number(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && pg.Unavailable(err):
			log.Warn("number the feeds: database unavailable", "err", err.Error())
		case err != nil:
			log.Error("number the feeds", "err", err.Error())
		}
	}
}

// start returns the round that will number what is committed now, starting
// it if no round runs.
func (n *numberer) start() *round {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		n.next = r
	}
	if !n.running {
		n.running, n.next = true, nil
		go n.rounds(r)
	}
	return r
}

// rounds runs r, then the rounds asked for meanwhile, one after another.
func (n *numberer) rounds(r *round) {
	for r != nil {
		ctx, cancel := context.WithTimeout(context.Background(), roundDeadline)
		r.err = n.round(ctx)
		cancel()
		close(r.done)
		n.mu.Lock()
		r, n.next = n.next, nil
		n.running = r != nil
		n.mu.Unlock()
	}
}

// round runs batches, waiting for the numberer's lock, until one numbers
// less than a full batch.
func (n *numberer) round(ctx context.Context) error {
	for {
		var b struct {
			Got      bool    `db:"got"`
			Numbered int     `db:"numbered"`
			Lag      float64 `db:"lag_seconds"`
		}
		// One statement, so one transaction: a batch whose backend dies
		// rolls back whole, and the next one numbers the same events.
		if err := n.db.GetContext(ctx, &b, `SELECT got, numbered, lag_seconds
			FROM feed_number_batch($1, true)`, numberBatch); err != nil {
			return fmt.Errorf("number the feeds: %w", err)
		}
		n.lag.Store(math.Float64bits(b.Lag))
		if b.Numbered < numberBatch {
			return nil
		}
	}
}
