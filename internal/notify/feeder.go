package notify

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
)

// FeedBatch is the most notes one round of the feeder puts live, and
// FeedPoll the pause between rounds: a note reaches its candidate's screen
// within about FeedPoll of its commit.
const (
	FeedBatch = 2000
	FeedPoll  = 100 * time.Millisecond
)

// feederLock is the key of the feeder's advisory lock ("notefeed" in ASCII):
// one round at a time across replicas, so that a candidate's notes reach
// their feed in the order they were stored.
const feederLock = 0x6e6f746566656564

// FeedLive puts up to FeedBatch committed notes not yet live on their
// candidates' feed topics, oldest first, in one transaction, and marks them
// fed; it returns how many (0 as well when another replica's round holds
// the lock). The events are stored numbered, holding the feed numberer's
// lock from then to the commit, which announces them.
func (n *Notes) FeedLive(ctx context.Context, db *sqlx.DB) (int, error) {
	// An idle round (the usual one, ten times a second on every replica)
	// costs one indexed probe, not a transaction and a lock.
	var waiting bool
	if err := db.GetContext(ctx, &waiting, `SELECT EXISTS (SELECT FROM notifications WHERE fed_at IS NULL)`); err != nil || !waiting {
		return 0, err
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("feed notes: %w", err)
	}
	defer tx.Rollback()
	var rows []feedRow
	// The lock first, then the snapshot of the rows: every note committed
	// before the lock was taken is seen. The notes are marked fed first
	// (waiting, if so, for the SMS sender's lock on a row it is posting),
	// and their events appended last: from then to the commit this
	// transaction holds the feed numberer's lock, which every replica's
	// numbering waits for.
	var got bool
	if err := tx.GetContext(ctx, &got, `SELECT pg_try_advisory_xact_lock($1)`, int64(feederLock)); err != nil || !got {
		return 0, err
	}
	if err := tx.SelectContext(ctx, &rows, `
		UPDATE notifications n SET fed_at = now()
		FROM (SELECT id FROM notifications WHERE fed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE) todo
		WHERE n.id = todo.id
		RETURNING n.id, n.candidate_id, n.kind, n.text_zh, n.text_en, coalesce(n.link, '') AS link, n.created_at`, FeedBatch); err != nil {
		return 0, fmt.Errorf("feed notes: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	// A candidate's notes go live in the order they were stored.
	slices.SortFunc(rows, func(a, b feedRow) int { return cmp.Compare(a.ID, b.ID) })
	topics := make([]string, len(rows))
	events := make([]any, len(rows))
	for i, r := range rows {
		topics[i] = Topic(r.CandidateID)
		events[i] = Event{Type: "notification", ID: r.ID, Kind: r.Kind, ZH: r.ZH, EN: r.EN, Link: r.Link, At: r.CreatedAt.In(shanghai)}
	}
	if err := n.pub.AppendNumbered(ctx, tx, topics, events); err != nil {
		return 0, fmt.Errorf("feed %d notes: %w", len(rows), err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("feed %d notes: %w", len(rows), err)
	}
	return len(rows), nil
}

// feedRow is a note as the feeder reads it.
type feedRow struct {
	ID          int64     `db:"id"`
	CandidateID int64     `db:"candidate_id"`
	Kind        string    `db:"kind"`
	ZH          string    `db:"text_zh"`
	EN          string    `db:"text_en"`
	Link        string    `db:"link"`
	CreatedAt   time.Time `db:"created_at"`
}

// RunFeeding puts notes live until ctx is done, every poll (the notes of
// every replica).
func (n *Notes) RunFeeding(ctx context.Context, db *sqlx.DB, poll time.Duration, log *slog.Logger) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		for {
			fed, err := n.FeedLive(ctx, db)
			if err != nil && ctx.Err() == nil {
				log.Warn("put notes live", "err", err.Error())
			}
			if err != nil || fed < FeedBatch {
				break // else more are waiting: go again at once
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
