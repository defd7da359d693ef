package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
		items[i].WaitingMinutes = waitingMinutes(items[i].ReadyAt, items[i].IssuedAt, now)
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
	q, err := loadQueued(ctx, tx, candidateID)
	if err != nil {
		return QueueItem{}, err
	}
	next, eff, err := q.Row.Apply(ActionCall, by)
	if err != nil {
		return QueueItem{}, err
	}
	if err := save(ctx, tx, candidateID, q.Step, `
		UPDATE issuances SET called_at = $3, called_by = $4, called_desk = $5
		WHERE candidate_id = $1 AND step = $2`, now, by.UserID, next.CalledDesk); err != nil {
		return QueueItem{}, err
	}
	if _, err := s.pub.Append(ctx, tx, Topic, q.event(eff.Event, now, q.Ticket, next.Step, by.Desk)); err != nil {
		return QueueItem{}, err
	}
	if err := s.notes.Add(ctx, tx, calledNote(q.ID, q.Ticket, by.Desk)); err != nil {
		return QueueItem{}, err
	}
	if err := tx.Commit(); err != nil {
		return QueueItem{}, fmt.Errorf("commit: %w", err)
	}
	desk := by.Desk
	return QueueItem{CandidateID: q.ID, Ticket: q.Ticket, Name: q.Name, LicenceClass: q.LicenceClass,
		ReadyAt: q.ReadyAt.In(scheduling.Shanghai), Step: next.Step, PriorityLane: q.PriorityLane,
		WaitingMinutes: waitingMinutes(q.ReadyAt, nil, now), CalledDesk: &desk}, nil
}

// StepResult is the candidate's state after a step; Licence is set by print.
type StepResult struct {
	CandidateID int64  `json:"candidate_id"`
	Ticket      string `json:"ticket"`
	Step        string `json:"step"`
	// Checklist is what 预受理 checked.
	Checklist []string `json:"checklist,omitempty"`
	// FeeYuan, PaymentMethod and ReceiptNumber are the fee 审核缴费 took.
	FeeYuan       *int     `json:"fee_yuan,omitempty"`
	PaymentMethod string   `json:"payment_method,omitempty"`
	ReceiptNumber string   `json:"receipt_number,omitempty"`
	Licence       *Licence `json:"licence,omitempty"`
}

// Step takes the candidate through one of the desk's steps (IS-STEPS):
// each once, in order, recorded with the staff member and desk, what in
// holds (the checklist of 预受理, the payment of 审核缴费, StepInput.Validate
// refusing what is missing, every field at once) and announced on the
// feed. A candidate who is not ready is refused with ErrNotReady, a step out
// of order or repeated with ErrInvalidStep; no refusal changes anything.
func (s *Store) Step(ctx context.Context, candidateID int64, step string, in StepInput, by Staff, now time.Time) (StepResult, error) {
	if !IsStep(step) {
		return StepResult{}, fmt.Errorf("issuance: unknown step %q", step)
	}
	if err := in.Validate(step); err != nil {
		return StepResult{}, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return StepResult{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// IS-READY again, in this transaction: a correction since the
	// candidate became ready may have undone it. The ready lock comes
	// before the queue row's, in the order WithdrawIfNotReady takes them.
	ready, err := isReady(ctx, tx, candidateID)
	if err != nil {
		return StepResult{}, err
	}
	q, err := loadQueued(ctx, tx, candidateID)
	if err != nil {
		return StepResult{}, err
	}
	q.Ready = ready
	next, eff, err := q.Row.Apply(step, by)
	if err != nil {
		return StepResult{}, err
	}
	res := StepResult{CandidateID: q.ID, Ticket: q.Ticket, Step: next.Step}
	// $1 candidate, $2 the step expected, $3 now, $4 staff, $5 desk, $6 note.
	args := []any{now, by.UserID, by.Desk, in.Note}
	switch step {
	case StepAccept:
		res.Checklist = in.Checklist
		err = save(ctx, tx, candidateID, q.Step, `
			UPDATE issuances SET step = 'accepted', accepted_at = $3, accepted_by = $4,
			       accepted_desk = nullif($5, ''), accepted_note = nullif($6, ''), accepted_checklist = $7
			WHERE candidate_id = $1 AND step = $2`, append(args, pq.Array(in.Checklist))...)
	case StepReviewFee:
		fee := s.FeeYuan
		res.FeeYuan, res.PaymentMethod, res.ReceiptNumber = &fee, in.PaymentMethod, in.ReceiptNumber
		err = save(ctx, tx, candidateID, q.Step, `
			UPDATE issuances SET step = 'reviewed', reviewed_at = $3, reviewed_by = $4,
			       reviewed_desk = nullif($5, ''), reviewed_note = nullif($6, ''), fee_yuan = $7,
			       payment_method = $8, receipt_number = $9
			WHERE candidate_id = $1 AND step = $2`, append(args, fee, in.PaymentMethod, in.ReceiptNumber)...)
	case StepPrint:
		res.Licence, err = printLicence(ctx, tx, q, now, args...)
	}
	if err != nil {
		return StepResult{}, err
	}
	if _, err := s.pub.Append(ctx, tx, Topic, q.event(eff.Event, now, q.Ticket, next.Step, by.Desk)); err != nil {
		return StepResult{}, err
	}
	if step == StepPrint {
		if err := s.notes.Add(ctx, tx, issuedNote(q.ID, res.Licence)); err != nil {
			return StepResult{}, err
		}
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by.UserID), Action: eff.Audit,
		Subject: fmt.Sprintf("candidate:%d", q.ID), Before: map[string]string{"step": q.Step},
		After: map[string]any{"step": next.Step, "desk": by.Desk, "result": res}}); err != nil {
		return StepResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return StepResult{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// printLicence records the licence of q (IS-NUMBER: the licence number is the ID
// number, the file number the next of the sequence; IS-VALIDITY) with the
// step's args ($3 now to $6 note) and returns it as stored.
func printLicence(ctx context.Context, tx *sqlx.Tx, q queued, now time.Time, args ...any) (*Licence, error) {
	var n int64
	if err := tx.GetContext(ctx, &n, `SELECT nextval('licence_file_numbers')`); err != nil {
		return nil, fmt.Errorf("file number: %w", err)
	}
	file, err := fileNumber(n)
	if err != nil {
		return nil, err
	}
	from, until, probation := validity(now)
	var l Licence
	err = tx.GetContext(ctx, &l, `
		UPDATE issuances SET step = 'issued', issued_at = $3, issued_by = $4,
		       issued_desk = nullif($5, ''), issued_note = nullif($6, ''),
		       licence_number = $7, file_number = $8, valid_from = $9, valid_until = $10, probation_until = $11
		WHERE candidate_id = $1 AND step = $2
		RETURNING licence_number, file_number, issued_at, valid_from, valid_until, probation_until`,
		append([]any{q.ID, q.Step}, append(args, q.IDNumber, file, from, until, probation)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInvalidStep
	}
	if err != nil {
		return nil, fmt.Errorf("print licence of candidate %d: %w", q.ID, err)
	}
	l.IssuedAt = l.IssuedAt.In(scheduling.Shanghai)
	return &l, nil
}

// queued is the candidate's queue row as the store loads it: the state
// machine's Row, and what the answers and the feed show.
type queued struct {
	Row
	candidateRow
	Ticket  string    `db:"ticket"`
	ReadyAt time.Time `db:"ready_at"`
}

// loadQueued loads the candidate's queue row and locks it until tx ends; a
// candidate without one loads as a Row that is not Queued.
func loadQueued(ctx context.Context, tx *sqlx.Tx, candidateID int64) (queued, error) {
	var r struct {
		candidateRow
		Ticket     string    `db:"ticket"`
		ReadyAt    time.Time `db:"ready_at"`
		Step       string    `db:"step"`
		CalledDesk *string   `db:"called_desk"`
	}
	err := tx.GetContext(ctx, &r, `
		SELECT c.id, c.name, c.id_number, c.licence_class, i.priority_lane,
		       i.ticket, i.ready_at, i.step, i.called_desk
		FROM issuances i JOIN candidates c ON c.id = i.candidate_id
		WHERE i.candidate_id = $1
		FOR UPDATE OF i`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return queued{}, nil
	}
	if err != nil {
		return queued{}, fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
	}
	return queued{Row: Row{Queued: true, Step: r.Step, CalledDesk: r.CalledDesk},
		candidateRow: r.candidateRow, Ticket: r.Ticket, ReadyAt: r.ReadyAt}, nil
}

// save runs update, a conditional update of the candidate's queue row that
// moves it only from the step expected ($1 candidate, $2 expected, then
// args): the database guards the transition too, and refuses it with
// ErrInvalidStep when the row is at another step.
func save(ctx context.Context, tx *sqlx.Tx, candidateID int64, expected, update string, args ...any) error {
	res, err := tx.ExecContext(ctx, update, append([]any{candidateID, expected}, args...)...)
	if err != nil {
		return fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("issuance of candidate %d: %w", candidateID, err)
	}
	if n != 1 {
		return ErrInvalidStep
	}
	return nil
}

// waitingMinutes is how long a candidate ready at ready has waited at now,
// in whole minutes: until the licence once it is issued.
func waitingMinutes(ready time.Time, issued *time.Time, now time.Time) int {
	end := now
	if issued != nil {
		end = *issued
	}
	return max(0, int(end.Sub(ready).Minutes()))
}
