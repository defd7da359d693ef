// Package issuance turns a candidate who has passed every subject into a
// licence the same day (当日报考、当日受理、当日核发): the candidate becomes
// ready (IS-READY) in the transaction that makes their last result final,
// gets the day's queue ticket, and the issuing desk takes them through
// 预受理, 审核缴费 and 制证 (IS-STEPS), strictly in order, to a licence
// with its file number (IS-NUMBER) and validity (IS-VALIDITY). Every change
// is an event on the "issuance" live feed.
package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/notify"
	"examd/internal/refusal"

	"examd/scheduling"
)

// Topic is the live feed of the issuing desks and the hall screens.
const Topic = "issuance"

// Steps, in the order the desk works (IS-STEPS), and the state each leaves.
const (
	StepAccept    = "accept"     // 预受理 → accepted
	StepReviewFee = "review_fee" // 审核缴费 → reviewed
	StepPrint     = "print"      // 制证 → issued

	StateReady    = "ready"
	StateAccepted = "accepted"
	StateReviewed = "reviewed"
	StateIssued   = "issued"
)

// Live event types.
const (
	EventReady  = "ready"
	EventCall   = "call"
	EventStep   = "step"
	EventIssued = "issued"
	// EventWithdrawn: the candidate left the queue, no longer ready (a
	// correction); the desks' screens drop the ticket.
	EventWithdrawn = "withdrawn"
)

// IS-VALIDITY: a first licence is valid for 6 years; the first 12 months
// are the probation period (实习期).
const (
	validYears     = 6
	probationYears = 1
)

// DefaultFeeYuan is the production fee when the office sets none.
const DefaultFeeYuan = 10

// Publisher appends an event to a live feed inside the caller's transaction.
type Publisher interface {
	Append(ctx context.Context, tx sqlx.ExtContext, topic string, event any) (int64, error)
}

// Store keeps the issuance queue in PostgreSQL.
type Store struct {
	db  *sqlx.DB
	pub Publisher
	// notes tells candidates of the desk's decisions.
	notes *notify.Notes
	// FeeYuan is the production fee paid at review_fee.
	FeeYuan int
}

// NewStore returns a store that announces its events through pub and tells
// candidates of its decisions through notes.
func NewStore(db *sqlx.DB, pub Publisher, notes *notify.Notes) *Store {
	return &Store{db: db, pub: pub, notes: notes, FeeYuan: DefaultFeeYuan}
}

// Refusals.
var (
	ErrNotReady    = refusal.New("not_ready", "该考生尚未具备领证条件：须全部科目合格且成绩单均已签名。")
	ErrInvalidStep = refusal.New("invalid_step", "办理须按预受理、审核缴费、制证的顺序进行，每步只办理一次；请按当前进度操作。")
)

// Licence is what printing records (IS-NUMBER, IS-VALIDITY).
type Licence struct {
	LicenceNumber  string    `db:"licence_number" json:"licence_number"`
	FileNumber     string    `db:"file_number" json:"file_number"`
	IssuedAt       time.Time `db:"issued_at" json:"issued_at"`
	ValidFrom      Date      `db:"valid_from" json:"valid_from"`
	ValidUntil     Date      `db:"valid_until" json:"valid_until"`
	ProbationUntil Date      `db:"probation_until" json:"probation_until"`
}

// Date is a calendar day, written YYYY-MM-DD.
type Date struct{ time.Time }

func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Format(time.DateOnly) + `"`), nil
}

// Scan reads a PostgreSQL date.
func (d *Date) Scan(v any) error {
	t, ok := v.(time.Time)
	if !ok {
		return fmt.Errorf("date: cannot scan %T", v)
	}
	d.Time = t
	return nil
}

// Event is one message of the issuance feed; the name is masked, as hall
// screens show it.
type Event struct {
	Type         string                  `json:"type"`
	At           time.Time               `json:"at"`
	CandidateID  int64                   `json:"candidate_id"`
	Ticket       string                  `json:"ticket"`
	Name         string                  `json:"name"`
	LicenceClass string                  `json:"licence_class"`
	PriorityLane bool                    `json:"priority_lane"`
	Step         string                  `json:"step"`
	Desk         string                  `json:"desk,omitempty"`
	Notice       []scheduling.NoticeItem `json:"notice,omitempty"`
}

// candidateRow is the candidate as the queue shows them.
type candidateRow struct {
	ID           int64  `db:"id"`
	Name         string `db:"name"`
	IDNumber     string `db:"id_number"`
	LicenceClass string `db:"licence_class"`
	PriorityLane bool   `db:"priority_lane"`
}

// MakeReadyIfDue makes the candidate ready for issuance (IS-READY) when,
// inside tx, subjects 1, 2, 3 and 4 are passed within the permit's validity
// and every score sheet of the permit carries both signatures; it assigns
// the day's ticket and announces it. Call it in the transaction that may
// make the candidate's last result final (a signature, a correction): the
// candidate's ready lock makes two such transactions take turns, so the
// second sees the first's result. It reports whether the candidate became
// ready now.
func (s *Store) MakeReadyIfDue(ctx context.Context, tx *sqlx.Tx, candidateID int64, now time.Time) (bool, error) {
	if err := readyLock(ctx, tx, candidateID); err != nil {
		return false, err
	}
	var c candidateRow
	err := tx.GetContext(ctx, &c, `
		SELECT c.id, c.name, c.id_number, c.licence_class, g.candidate_id IS NOT NULL AS priority_lane
		FROM candidates c
		LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL
		WHERE c.id = $1 AND `+readiness+`
		  AND NOT EXISTS (SELECT 1 FROM issuances i WHERE i.candidate_id = c.id)`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("readiness of candidate %d: %w", candidateID, err)
	}
	day := scheduling.Day(now)
	prefix := ticketPrefix(c.PriorityLane)
	var n int
	err = tx.GetContext(ctx, &n, `
		INSERT INTO issuance_tickets AS t (day, prefix, last) VALUES ($1, $2, 1)
		ON CONFLICT (day, prefix) DO UPDATE SET last = t.last + 1
		RETURNING last`, day, prefix)
	if err != nil {
		return false, fmt.Errorf("ticket of candidate %d: %w", c.ID, err)
	}
	ticket := ticketText(c.PriorityLane, n)
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO issuances (candidate_id, day, ticket, priority_lane, ready_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, day, ticket, c.PriorityLane, now); err != nil {
		return false, fmt.Errorf("make candidate %d ready: %w", c.ID, err)
	}
	notice, err := scheduling.Notice(ctx, tx, c.LicenceClass, s.FeeYuan)
	if err != nil {
		return false, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.System, Action: "issuance.ready",
		Subject: fmt.Sprintf("candidate:%d", c.ID), After: map[string]any{"ticket": ticket, "priority_lane": c.PriorityLane}}); err != nil {
		return false, err
	}
	ev := c.event(EventReady, now, ticket, StateReady, "")
	ev.Notice = notice
	if _, err := s.pub.Append(ctx, tx, Topic, ev); err != nil {
		return false, err
	}
	return true, nil
}

// readiness is IS-READY of candidate c (a row of candidates) in SQL:
// subject 1 recorded, subjects 2, 3 and 4 passed on bookings within the
// permit's validity, and every attempt of the permit ended with its standing
// result signed by both parties (ED-SIGN): the attempt's own score sheet, or
// once corrected, its latest correction, which is a new result.
const readiness = `c.subject1_passed_on <= c.permit_expires_on -- the permit follows subject 1
		  AND (SELECT count(DISTINCT b.subject) FROM bookings b
		       WHERE b.candidate_id = c.id AND b.subject IN (2, 3, 4) AND b.status = 'passed'
		         AND b.exam_day BETWEEN c.permit_issued_on AND c.permit_expires_on) = 3
		  AND NOT EXISTS (
		      SELECT 1 FROM bookings b JOIN attempts a ON a.booking_id = b.id
		      LEFT JOIN LATERAL (SELECT ac.id FROM attempt_corrections ac WHERE ac.attempt_id = a.id
		                         ORDER BY ac.id DESC LIMIT 1) lc ON true
		      WHERE b.candidate_id = c.id AND b.exam_day BETWEEN c.permit_issued_on AND c.permit_expires_on
		        AND (a.status = 'in_progress'
		             OR lc.id IS NULL AND (SELECT count(*) FROM attempt_signatures sg WHERE sg.attempt_id = a.id) < 2
		             OR lc.id IS NOT NULL AND (SELECT count(*) FROM correction_signatures cs WHERE cs.correction_id = lc.id) < 2))`

// readyLock makes the transactions that may change or rely on the
// candidate's readiness take turns: the last signature, a correction, a desk
// step. A lock of its own, not the candidate's row: bookings and
// cancellations lock that row in another order.
func readyLock(ctx context.Context, tx *sqlx.Tx, candidateID int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('examd.issuance.ready', $1))`, candidateID); err != nil {
		return fmt.Errorf("ready lock of candidate %d: %w", candidateID, err)
	}
	return nil
}

// checkReady refuses, with ErrNotReady, a candidate who is not ready inside
// tx, whatever their issuance row says; it takes the ready lock first.
func checkReady(ctx context.Context, tx *sqlx.Tx, candidateID int64) error {
	ready, err := isReady(ctx, tx, candidateID)
	if err != nil {
		return err
	}
	if !ready {
		return ErrNotReady
	}
	return nil
}

// isReady reports whether the candidate is ready inside tx (IS-READY),
// whatever their issuance row says; it takes the ready lock first.
func isReady(ctx context.Context, tx *sqlx.Tx, candidateID int64) (bool, error) {
	if err := readyLock(ctx, tx, candidateID); err != nil {
		return false, err
	}
	var ready bool
	if err := tx.GetContext(ctx, &ready, `
		SELECT EXISTS (SELECT 1 FROM candidates c WHERE c.id = $1 AND `+readiness+`)`, candidateID); err != nil {
		return false, fmt.Errorf("readiness of candidate %d: %w", candidateID, err)
	}
	return ready, nil
}

// WithdrawIfNotReady takes the candidate out of the issuance queue when,
// inside tx, they are no longer ready (IS-READY): a correction failed one of
// their subjects, or is a new result still to be signed by both parties.
// Call it in the transaction of the correction. The queue row goes (a later
// readiness hands out a new ticket); the withdrawal is audited and announced
// on the feed. A licence already printed stays issued. It reports whether
// the candidate was withdrawn.
func (s *Store) WithdrawIfNotReady(ctx context.Context, tx *sqlx.Tx, candidateID int64, now time.Time) (bool, error) {
	err := checkReady(ctx, tx, candidateID)
	if err == nil || !errors.Is(err, ErrNotReady) {
		return false, err
	}
	var w struct {
		candidateRow
		Ticket string `db:"ticket"`
		Step   string `db:"step"`
	}
	err = tx.GetContext(ctx, &w, `
		DELETE FROM issuances i USING candidates c
		WHERE i.candidate_id = $1 AND c.id = i.candidate_id AND i.step <> 'issued'
		RETURNING c.id, c.name, c.id_number, c.licence_class, i.priority_lane, i.ticket, i.step`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // not in the queue, or already issued
	}
	if err != nil {
		return false, fmt.Errorf("withdraw candidate %d: %w", candidateID, err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.System, Action: "issuance.withdrawn",
		Subject: fmt.Sprintf("candidate:%d", candidateID), Before: map[string]any{"ticket": w.Ticket, "step": w.Step},
		After: map[string]any{"why": "not ready: a result was corrected, and a correction counts once both parties have signed it"}}); err != nil {
		return false, err
	}
	if _, err := s.pub.Append(ctx, tx, Topic, w.event(EventWithdrawn, now, w.Ticket, w.Step, "")); err != nil {
		return false, err
	}
	return true, nil
}

// event is an issuance feed event about candidate c.
func (c candidateRow) event(typ string, at time.Time, ticket, step, desk string) Event {
	return Event{
		Type: typ, At: at.In(scheduling.Shanghai), CandidateID: c.ID, Ticket: ticket, Name: scheduling.MaskName(c.Name),
		LicenceClass: c.LicenceClass, PriorityLane: c.PriorityLane, Step: step, Desk: desk,
	}
}
