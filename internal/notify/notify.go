// Package notify tells candidates of every decision about them. A domain
// store adds a Note in the transaction that makes the decision, so that a
// notification exists exactly when the decision committed. The note is kept
// (the candidate's list, read or unread), sent live on the candidate's feed
// topic (Topic), and waits in the outbox for the office's SMS gateway.
package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Kinds of notes: the decision each tells of.
const (
	KindBookingConfirmed     = "booking.confirmed"
	KindBookingCancelled     = "booking.cancelled"
	KindApplicationAllocated = "application.allocated"
	KindApplicationNotPlaced = "application.not_allocated"
	KindWaitlistOffer        = "waitlist.offer"
	KindLaneDecided          = "lane.decided"
	KindPackageDecided       = "package.decided"
	KindResultFinal          = "result.final"
	KindDeskReady            = "desk.ready"
	KindTicketCalled         = "ticket.called"
	KindLicenceIssued        = "licence.issued"
	KindTurnNext             = "turn.next"
)

// Note is one notification to a candidate, in both languages.
type Note struct {
	CandidateID int64
	// Kind is one of the Kind constants.
	Kind string
	// ZH and EN say it, Chinese first; no full ID number, ever.
	ZH, EN string
	// Link is the candidate's page the note is about ("/candidate/..."), or "".
	Link string
}

// Event is a note as its candidate's feed carries it.
type Event struct {
	Type string    `json:"type"` // "notification"
	ID   int64     `json:"id"`
	Kind string    `json:"kind"`
	ZH   string    `json:"text_zh"`
	EN   string    `json:"text_en"`
	Link string    `json:"link,omitempty"`
	At   time.Time `json:"at"`
}

// Publisher appends events to a live feed inside the caller's transaction
// (realtime.Feed).
type Publisher interface {
	AppendAll(ctx context.Context, tx sqlx.ExtContext, topics []string, events []any) error
}

// noteRow is a stored note's id and time.
type noteRow struct {
	ID        int64     `db:"id"`
	CreatedAt time.Time `db:"created_at"`
}

// Notes adds notes to the candidates' notifications.
type Notes struct {
	pub Publisher
}

// New returns the notes that go live through pub.
func New(pub Publisher) *Notes { return &Notes{pub: pub} }

// Topic is candidate id's feed topic.
func Topic(candidateID int64) string {
	return "candidate:" + strconv.FormatInt(candidateID, 10)
}

// Add stores notes in tx and puts them on their candidates' feeds, in two
// statements whatever their number: they exist, and go out, only if tx
// commits.
func (n *Notes) Add(ctx context.Context, tx sqlx.ExtContext, notes ...Note) error {
	if len(notes) == 0 {
		return nil
	}
	cands := make([]int64, len(notes))
	kinds := make([]string, len(notes))
	zh := make([]string, len(notes))
	en := make([]string, len(notes))
	links := make([]string, len(notes))
	for i, nt := range notes {
		if nt.CandidateID == 0 || nt.Kind == "" || nt.ZH == "" || nt.EN == "" {
			return fmt.Errorf("notify: incomplete note %+v", nt)
		}
		cands[i], kinds[i], zh[i], en[i], links[i] = nt.CandidateID, nt.Kind, nt.ZH, nt.EN, nt.Link
	}
	var rows []noteRow
	err := sqlx.SelectContext(ctx, tx, &rows, `
		INSERT INTO notifications (candidate_id, kind, text_zh, text_en, link)
		SELECT n.candidate_id, n.kind, n.text_zh, n.text_en, nullif(n.link, '')
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
		     AS n (candidate_id, kind, text_zh, text_en, link)
		RETURNING id, created_at`,
		pq.Array(cands), pq.Array(kinds), pq.Array(zh), pq.Array(en), pq.Array(links))
	if err != nil {
		return fmt.Errorf("store %d notifications: %w", len(notes), err)
	}
	// The ids are drawn in the order of the array, which is the order of
	// the notes; RETURNING promises no order of its own.
	slices.SortFunc(rows, func(a, b noteRow) int { return cmp.Compare(a.ID, b.ID) })
	if len(rows) != len(notes) {
		return fmt.Errorf("store %d notifications: %d stored", len(notes), len(rows))
	}
	topics := make([]string, len(notes))
	events := make([]any, len(notes))
	for i, nt := range notes {
		topics[i] = Topic(nt.CandidateID)
		events[i] = Event{Type: "notification", ID: rows[i].ID, Kind: nt.Kind, ZH: nt.ZH, EN: nt.EN,
			Link: nt.Link, At: rows[i].CreatedAt}
	}
	if err := n.pub.AppendAll(ctx, tx, topics, events); err != nil {
		return fmt.Errorf("send %d notifications live: %w", len(notes), err)
	}
	return nil
}
