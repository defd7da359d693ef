package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/scheduling"
)

// Staff is who acts at the desk, and where.
type Staff struct {
	UserID int64
	Desk   string // 3号窗口; may be empty
}

// QueueItem is one candidate of the day's issuance queue.
type QueueItem struct {
	CandidateID    int64      `db:"candidate_id" json:"candidate_id"`
	Ticket         string     `db:"ticket" json:"ticket"`
	Name           string     `db:"name" json:"name"`
	LicenceClass   string     `db:"licence_class" json:"licence_class"`
	ReadyAt        time.Time  `db:"ready_at" json:"ready_at"`
	Step           string     `db:"step" json:"step"`
	PriorityLane   bool       `db:"priority_lane" json:"priority_lane"`
	WaitingMinutes int        `db:"-" json:"waiting_minutes"`
	CalledDesk     *string    `db:"called_desk" json:"called_desk"`
	IssuedAt       *time.Time `db:"issued_at" json:"issued_at"`
}

// Queue lists the candidates who became ready on day, the priority lane
// first (PL-ORDER), then by the time they became ready. Waiting minutes run
// from ready to now, or to the licence once issued.
func (s *Store) Queue(ctx context.Context, day time.Time, now time.Time) ([]QueueItem, error) {
	items := []QueueItem{}
	err := s.db.SelectContext(ctx, &items, `
		SELECT i.candidate_id, i.ticket, c.name, c.licence_class, i.ready_at, i.step, i.priority_lane,
		       i.called_desk, i.issued_at
		FROM issuances i JOIN candidates c ON c.id = i.candidate_id
		WHERE i.day = $1
		ORDER BY i.priority_lane DESC, i.ready_at, i.id`, day)
	if err != nil {
		return nil, fmt.Errorf("issuance queue of %s: %w", day.Format(time.DateOnly), err)
	}
	for i := range items {
		end := now
		if items[i].IssuedAt != nil {
			end = *items[i].IssuedAt
		}
		items[i].WaitingMinutes = max(0, int(end.Sub(items[i].ReadyAt).Minutes()))
		items[i].ReadyAt = items[i].ReadyAt.In(scheduling.Shanghai)
		if items[i].IssuedAt != nil {
			issued := items[i].IssuedAt.In(scheduling.Shanghai)
			items[i].IssuedAt = &issued
		}
	}
	return items, nil
}

// Call calls the candidate's ticket to the staff member's desk (叫号) and
// announces it; it may be repeated, and is refused once the licence is
// issued.
func (s *Store) Call(ctx context.Context, candidateID int64, by Staff, now time.Time) (QueueItem, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return QueueItem{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	c, ticket, step, err := s.advance(ctx, tx, candidateID, `
		UPDATE issuances SET called_at = $2, called_by = $3, called_desk = nullif($4, '')
		WHERE candidate_id = $1 AND step <> 'issued'
		RETURNING ticket, step`, now, by.UserID, by.Desk)
	if err != nil {
		return QueueItem{}, err
	}
	if _, err := s.pub.Append(ctx, tx, Topic, c.event(EventCall, now, ticket, step, by.Desk)); err != nil {
		return QueueItem{}, err
	}
	if err := tx.Commit(); err != nil {
		return QueueItem{}, fmt.Errorf("commit: %w", err)
	}
	desk := by.Desk
	return QueueItem{CandidateID: c.ID, Ticket: ticket, Name: c.Name, LicenceClass: c.LicenceClass, Step: step,
		PriorityLane: c.PriorityLane, CalledDesk: &desk}, nil
}

// StepResult is the candidate's state after a step; Licence is set by print.
type StepResult struct {
	CandidateID int64    `json:"candidate_id"`
	Ticket      string   `json:"ticket"`
	Step        string   `json:"step"`
	FeeYuan     *int     `json:"fee_yuan,omitempty"`
	Licence     *Licence `json:"licence,omitempty"`
}

// stepUpdates moves a candidate one step on, only from the step before:
// $1 candidate, $2 now, $3 staff, $4 desk, $5 note, and for review_fee $6
// the fee.
var stepUpdates = map[string]string{
	StepAccept: `
		UPDATE issuances SET step = 'accepted', accepted_at = $2, accepted_by = $3,
		       accepted_desk = nullif($4, ''), accepted_note = nullif($5, '')
		WHERE candidate_id = $1 AND step = 'ready'
		RETURNING ticket, step`,
	StepReviewFee: `
		UPDATE issuances SET step = 'reviewed', reviewed_at = $2, reviewed_by = $3,
		       reviewed_desk = nullif($4, ''), reviewed_note = nullif($5, ''), fee_yuan = $6
		WHERE candidate_id = $1 AND step = 'accepted'
		RETURNING ticket, step`,
	// IS-NUMBER: the licence number is the ID number, the file number the
	// next of the sequence; IS-VALIDITY: 6 years from the day of issue, the
	// first 12 months on probation.
	StepPrint: `
		UPDATE issuances i SET step = 'issued', issued_at = $2, issued_by = $3,
		       issued_desk = nullif($4, ''), issued_note = nullif($5, ''),
		       licence_number = c.id_number,
		       file_number = lpad(nextval('licence_file_numbers')::text, 12, '0'),
		       valid_from = ($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date,
		       valid_until = (($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + interval '` + fmt.Sprint(validYears) + ` years')::date,
		       probation_until = (($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + interval '` + fmt.Sprint(probationYears) + ` years')::date
		FROM candidates c
		WHERE i.candidate_id = $1 AND c.id = i.candidate_id AND i.step = 'reviewed'
		RETURNING i.ticket, i.step`,
}

// previous is the state each step starts from.
var previous = map[string]string{StateAccepted: StateReady, StateReviewed: StateAccepted, StateIssued: StateReviewed}

// IsStep reports whether step is one of the desk's steps.
func IsStep(step string) bool {
	_, ok := stepUpdates[step]
	return ok
}

// Step takes the candidate through one of the desk's steps (IS-STEPS):
// each once, in order, recorded with the staff member and desk, announced
// on the feed. A candidate who is not ready is refused with ErrNotReady, a
// step out of order or repeated with ErrInvalidStep; neither changes
// anything.
func (s *Store) Step(ctx context.Context, candidateID int64, step, note string, by Staff, now time.Time) (StepResult, error) {
	update, ok := stepUpdates[step]
	if !ok {
		return StepResult{}, fmt.Errorf("issuance: unknown step %q", step)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return StepResult{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// IS-READY again, in this transaction: a correction since the
	// candidate became ready may have undone it.
	if err := checkReady(ctx, tx, candidateID); err != nil {
		return StepResult{}, err
	}
	args := []any{now, by.UserID, by.Desk, note}
	if step == StepReviewFee {
		args = append(args, s.FeeYuan)
	}
	c, ticket, state, err := s.advance(ctx, tx, candidateID, update, args...)
	if err != nil {
		return StepResult{}, err
	}
	res := StepResult{CandidateID: c.ID, Ticket: ticket, Step: state}
	typ := EventStep
	switch state {
	case StateReviewed:
		fee := s.FeeYuan
		res.FeeYuan = &fee
	case StateIssued:
		typ = EventIssued
		var l Licence
		if err := tx.GetContext(ctx, &l, `
			SELECT licence_number, file_number, issued_at, valid_from, valid_until, probation_until
			FROM issuances WHERE candidate_id = $1`, candidateID); err != nil {
			return StepResult{}, fmt.Errorf("licence of candidate %d: %w", candidateID, err)
		}
		l.IssuedAt = l.IssuedAt.In(scheduling.Shanghai)
		res.Licence = &l
	}
	if _, err := s.pub.Append(ctx, tx, Topic, c.event(typ, now, ticket, state, by.Desk)); err != nil {
		return StepResult{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by.UserID), Action: "issuance." + step,
		Subject: fmt.Sprintf("candidate:%d", c.ID), Before: map[string]string{"step": previous[state]},
		After: map[string]any{"step": state, "desk": by.Desk, "result": res}}); err != nil {
		return StepResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return StepResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// advance runs a conditional update of the candidate's issuance (returning
// ticket and step) and, when it matches nothing, tells why: the candidate
// is not ready, or the issuance is at another step.
func (s *Store) advance(ctx context.Context, tx *sqlx.Tx, candidateID int64, update string, args ...any) (candidateRow, string, string, error) {
	var moved struct {
		Ticket string `db:"ticket"`
		Step   string `db:"step"`
	}
	err := tx.GetContext(ctx, &moved, update, append([]any{candidateID}, args...)...)
	if errors.Is(err, sql.ErrNoRows) {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM issuances WHERE candidate_id = $1)`, candidateID); err != nil {
			return candidateRow{}, "", "", fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
		}
		if !exists {
			return candidateRow{}, "", "", ErrNotReady
		}
		return candidateRow{}, "", "", ErrInvalidStep
	}
	if err != nil {
		return candidateRow{}, "", "", fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
	}
	var c candidateRow
	err = tx.GetContext(ctx, &c, `
		SELECT c.id, c.name, c.id_number, c.licence_class, i.priority_lane
		FROM candidates c JOIN issuances i ON i.candidate_id = c.id WHERE c.id = $1`, candidateID)
	if err != nil {
		return candidateRow{}, "", "", fmt.Errorf("candidate %d: %w", candidateID, err)
	}
	return c, moved.Ticket, moved.Step, nil
}
