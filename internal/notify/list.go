package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Item is a candidate's notification as their list shows it.
type Item struct {
	// Seq is the note's seq on the candidate's feed topic; 0 while the feed
	// has not numbered it yet (a few milliseconds after its commit).
	Seq  int64     `json:"seq" db:"seq"`
	ID   int64     `json:"id" db:"id"`
	Kind string    `json:"kind" db:"kind"`
	ZH   string    `json:"text_zh" db:"text_zh"`
	EN   string    `json:"text_en" db:"text_en"`
	Link string    `json:"link,omitempty" db:"link"`
	At   time.Time `json:"at" db:"created_at"`
	Read bool      `json:"read" db:"read"`
}

// Inbox is the candidates' notifications as they read them.
type Inbox struct {
	db *sqlx.DB
}

// NewInbox returns the notifications stored in db.
func NewInbox(db *sqlx.DB) *Inbox { return &Inbox{db: db} }

// MaxList is the most notifications one list returns.
const MaxList = 200

// itemColumns reads a notification n with its feed event e.
const itemColumns = `coalesce(e.seq, 0) AS seq, n.id, n.kind, n.text_zh, n.text_en,
	coalesce(n.link, '') AS link, n.created_at, n.read_at IS NOT NULL AS read`

// feedMatch matches the notification n to its event e on the candidate's
// topic ($2); feedJoin joins it.
const (
	feedMatch = `e.topic = $2 AND e.body->>'type' = 'notification' AND (e.body->>'id')::bigint = n.id`
	feedJoin  = `feed_events e ON ` + feedMatch
)

// List returns candidate's notifications: with since, those after seq
// *since of their feed topic, oldest first (what a client missed); without,
// the newest MaxList, newest first.
func (in *Inbox) List(ctx context.Context, candidate int64, since *int64) ([]Item, error) {
	db := in.db
	items := []Item{}
	var err error
	if since != nil {
		err = sqlx.SelectContext(ctx, db, &items, `SELECT `+itemColumns+`
			FROM notifications n JOIN `+feedJoin+`
			WHERE n.candidate_id = $1 AND e.seq > $3
			ORDER BY e.seq LIMIT $4`, candidate, Topic(candidate), *since, MaxList)
	} else {
		err = sqlx.SelectContext(ctx, db, &items, `SELECT `+itemColumns+`
			FROM notifications n LEFT JOIN `+feedJoin+`
			WHERE n.candidate_id = $1
			ORDER BY n.id DESC LIMIT $3`, candidate, Topic(candidate), MaxList)
	}
	if err != nil {
		return nil, fmt.Errorf("list the notifications of %d: %w", candidate, err)
	}
	for i := range items {
		items[i].At = items[i].At.In(shanghai)
	}
	return items, nil
}

// shanghai is the office's time zone, in which notes are dated.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// MarkRead marks read candidate's notifications ids and those up to seq
// upTo of their feed (0: none by seq), at now, and returns how many it
// marked and how many are left unread. Others' notifications are left as
// they are.
func (in *Inbox) MarkRead(ctx context.Context, candidate int64, upTo int64, ids []int64, now time.Time) (marked, unread int, err error) {
	db := in.db
	var res struct {
		Marked int `db:"marked"`
		Unread int `db:"unread"`
	}
	err = sqlx.GetContext(ctx, db, &res, `
		WITH marked AS (
			UPDATE notifications n SET read_at = $5
			WHERE n.candidate_id = $1 AND n.read_at IS NULL
			  AND (n.id = ANY($3) OR $4 > 0 AND EXISTS (
			      SELECT FROM feed_events e WHERE `+feedMatch+` AND e.seq <= $4))
			RETURNING n.id)
		SELECT (SELECT count(*) FROM marked) AS marked,
		       (SELECT count(*) FROM notifications WHERE candidate_id = $1 AND read_at IS NULL)
		       - (SELECT count(*) FROM marked) AS unread`,
		candidate, Topic(candidate), pq.Array(ids), upTo, now)
	if err != nil {
		return 0, 0, fmt.Errorf("mark the notifications of %d read: %w", candidate, err)
	}
	return res.Marked, res.Unread, nil
}

// Summary returns how many of candidate's notifications are unread, and
// the current seq of their feed topic (0 before their first note): a page
// shows the count and follows the feed from that seq.
func (in *Inbox) Summary(ctx context.Context, candidate int64) (unread int, seq int64, err error) {
	var res struct {
		Unread int   `db:"unread"`
		Seq    int64 `db:"seq"`
	}
	err = in.db.GetContext(ctx, &res, `
		SELECT (SELECT count(*) FROM notifications WHERE candidate_id = $1 AND read_at IS NULL) AS unread,
		       coalesce((SELECT seq FROM feed_topics WHERE topic = $2), 0) AS seq`, candidate, Topic(candidate))
	if err != nil {
		return 0, 0, fmt.Errorf("count the unread notifications of %d: %w", candidate, err)
	}
	return res.Unread, res.Seq, nil
}
