package exam

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// Accepted is the answer to an accepted device event: its seq in the
// venue's feed and the attempt as the event left it. The attempt is stored
// with the event; the seq, which the event gets when its transaction
// commits, is added when the answer is read back.
type Accepted struct {
	Seq     int64           `json:"seq"`
	Attempt json.RawMessage `json:"attempt"`
}

// Ingest applies a device event in one transaction: the attempt changes,
// the booking ends when the attempt decides it, the event is stored with
// the answer given and appended to the venue's feed, all or nothing. It
// returns the raw answer and whether it is new (false: a retried event_id,
// answered as before; or a late exam_finished, which changes nothing).
func (s *Store) Ingest(ctx context.Context, dev Device, ev Event, now time.Time) (json.RawMessage, bool, error) {
	if err := ev.Validate(); err != nil {
		return nil, false, err
	}
	if stored, err := s.storedAnswer(ctx, s.db, dev, ev); err == nil || !errors.Is(err, refusal.ErrNotFound) {
		return stored, false, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	// The booking's row lock applies its events one at a time, in order.
	b, err := scheduling.LockBookingForExam(ctx, tx, ev.BookingID)
	if errors.Is(err, refusal.ErrNotFound) {
		return nil, false, refusal.Invalid("booking_id", "no such booking")
	}
	if err != nil {
		return nil, false, err
	}
	// A retry that waited for the lock finds the first copy's answer now.
	if stored, err := s.storedAnswer(ctx, tx, dev, ev); err == nil || !errors.Is(err, refusal.ErrNotFound) {
		return stored, false, err
	}
	if b.VenueID != dev.VenueID {
		return nil, false, ErrWrongVenue
	}
	if !b.ExamDay.Equal(scheduling.Day(now)) {
		return nil, false, ErrNotToday
	}
	latest, err := latestAttempt(ctx, tx, b.ID)
	if err != nil {
		return nil, false, err
	}

	feed := bookingEvent(b, ev.Type, ev.At)
	feed.Device = &FeedDevice{ID: dev.ID, Name: dev.Name, Plate: dev.VehiclePlate}
	rec := Recorded{Type: ev.Type, At: ev.At, ReceivedAt: now}
	var a Attempt
	switch ev.Type {
	case ExamStarted, TheoryResult:
		if (ev.Type == TheoryResult) != (b.Subject == 4) {
			return nil, false, refusal.Invalid("type", "subject 4 reports theory_result; subjects 2 and 3 start with exam_started")
		}
		if a, err = s.openAttempt(ctx, tx, b, latest, dev); err != nil {
			return nil, false, err
		}
		if ev.Type == TheoryResult {
			sc := Theory(*ev.Score)
			a.Score, a.Status = sc.Points, sc.Status
			rec.Points = FullScore - sc.Points
		}
	case ExamFinished:
		if latest == nil {
			return nil, false, ErrNoAttempt
		}
		if latest.Status != InProgress || latest.DeviceID != dev.ID {
			// A late exam_finished: this device's attempt already ended
			// (SC-END), and a retake may be under way on another car.
			own, err := deviceAttempt(ctx, tx, b.ID, dev.ID, latest)
			if err != nil {
				return nil, false, err
			}
			answer, err := s.answer(ctx, tx, own)
			return answer, false, err
		}
		a = *latest
		sc := Score{Points: a.Score, PassMark: a.PassMark, Status: a.Status}
		sc.Finish()
		a.Status = sc.Status
	default:
		if latest == nil {
			return nil, false, ErrNoAttempt
		}
		if latest.Status != InProgress || latest.DeviceID != dev.ID {
			// A late event of an ended attempt, or of a device whose attempt
			// the retake on another car has replaced.
			return nil, false, ErrAttemptFinished
		}
		a = *latest
		switch ev.Type {
		case ItemStarted:
			if !ValidItem(b.Subject, b.LicenceClass, ev.Item) {
				return nil, false, refusal.Invalid("item", fmt.Sprintf("not an item of subject %d for %s", b.Subject, b.LicenceClass))
			}
			rec.Item = &ev.Item
		case ItemFinished:
			if ev.Item != "" {
				if !ValidItem(b.Subject, b.LicenceClass, ev.Item) {
					return nil, false, refusal.Invalid("item", fmt.Sprintf("not an item of subject %d for %s", b.Subject, b.LicenceClass))
				}
				rec.Item = &ev.Item
			}
		case Instruction:
			rec.Text = &ev.Text
		case Deduction:
			r, before, err := s.ruleFor(ctx, tx, a, b.Subject, b.LicenceClass, ev.Rule)
			if err != nil {
				return nil, false, err
			}
			sc := Score{Points: a.Score, PassMark: a.PassMark, Status: a.Status}
			rec.Points = sc.Deduct(r, before)
			a.Score, a.Status = sc.Points, sc.Status
			rec.Rule, rec.RuleText, rec.Item = &r.Code, &r.TextZh, &r.Item
		}
	}
	if err := s.saveAttempt(ctx, tx, &a, now); err != nil {
		return nil, false, err
	}
	if err := recordAttempt(ctx, tx, dev, ev.Type, a); err != nil {
		return nil, false, err
	}
	if a.Status != InProgress {
		if err := s.endBooking(ctx, tx, b, a, now); err != nil {
			return nil, false, err
		}
	}

	rec.Score = a.Score
	feed.AttemptID, feed.AttemptNo, feed.Score, feed.Status, feed.Points = a.ID, a.AttemptNo, a.Score, a.Status, rec.Points
	feed.PassMark = a.PassMark
	feed.Item, feed.Rule, feed.RuleText, feed.Text = deref(rec.Item), deref(rec.Rule), deref(rec.RuleText), deref(rec.Text)
	ds, err := deductions(ctx, tx, a)
	if err != nil {
		return nil, false, err
	}
	if rec.Type == Deduction {
		ds = append(ds, rec)
	}
	// The answer's deductions carry no seq: this event's is set only when
	// the transaction commits; the answer's own seq is this event's.
	for i := range ds {
		ds[i].Seq = 0
	}
	a.Deductions = ds
	attempt, err := json.Marshal(a)
	if err != nil {
		return nil, false, err
	}
	feedID, err := s.pub.Append(ctx, tx, VenueTopic(b.VenueID), feed)
	if err != nil {
		return nil, false, err
	}
	if a.Status == Failed && a.AttemptNo == 1 {
		// BK-RETAKE: the screens learn that the same-day retake is open.
		retake := bookingEvent(b, RetakeOpen, now)
		retake.AttemptNo = 2
		if _, err := s.pub.Append(ctx, tx, VenueTopic(b.VenueID), retake); err != nil {
			return nil, false, err
		}
	}
	var inserted bool
	err = tx.GetContext(ctx, &inserted, `
		INSERT INTO attempt_events (event_id, attempt_id, device_id, type, item, rule, points, score, text, at, feed_event_id, response)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (event_id) DO NOTHING
		RETURNING true`,
		// As text: with binary_parameters lib/pq sends []byte in binary, which json refuses.
		ev.EventID, a.ID, dev.ID, ev.Type, rec.Item, rec.Rule, rec.Points, rec.Score, rec.Text, ev.At, feedID, string(attempt))
	if errors.Is(err, sql.ErrNoRows) {
		// The same event_id was used for another booking meanwhile: answer as before.
		tx.Rollback()
		stored, err := s.storedAnswer(ctx, s.db, dev, ev)
		return stored, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("store event: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("commit event: %w", err)
	}
	// Committed: a failure to read the answer back is answered by a retry.
	answer, err := s.storedAnswer(ctx, s.db, dev, ev)
	return answer, err == nil, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// storedAnswer is the answer already given to the event's id. The id must
// name the same event: same device, booking and type; another event under
// a used id is refused rather than answered with someone else's attempt.
func (s *Store) storedAnswer(ctx context.Context, q sqlx.QueryerContext, dev Device, ev Event) (json.RawMessage, error) {
	var stored struct {
		Attempt   json.RawMessage `db:"response"`
		Seq       int64           `db:"seq"`
		DeviceID  int64           `db:"device_id"`
		BookingID int64           `db:"booking_id"`
		Type      string          `db:"type"`
	}
	err := sqlx.GetContext(ctx, q, &stored, `
		SELECT e.response, f.seq, e.device_id, a.booking_id, e.type
		FROM attempt_events e
		JOIN attempts a ON a.id = e.attempt_id
		JOIN feed_events f ON f.id = e.feed_event_id
		WHERE e.event_id = $1`, ev.EventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refusal.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("stored answer: %w", err)
	}
	if stored.DeviceID != dev.ID || stored.BookingID != ev.BookingID || stored.Type != ev.Type {
		return nil, refusal.Invalid("event_id", "already used for another event")
	}
	return json.Marshal(Accepted{Seq: stored.Seq, Attempt: stored.Attempt})
}

const attemptColumns = `id, booking_id, attempt_no, device_id, rule_version, pass_mark, score, status, started_at, finished_at`

// latestAttempt is the booking's last attempt, nil before the first.
func latestAttempt(ctx context.Context, tx *sqlx.Tx, bookingID int64) (*Attempt, error) {
	var a Attempt
	err := tx.GetContext(ctx, &a, `SELECT `+attemptColumns+`
		FROM attempts WHERE booking_id = $1 ORDER BY attempt_no DESC LIMIT 1`, bookingID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest attempt of booking %d: %w", bookingID, err)
	}
	return &a, nil
}

// deviceAttempt is the booking's latest attempt that dev ran; latest when
// none is (the answer then shows where the booking stands).
func deviceAttempt(ctx context.Context, tx *sqlx.Tx, bookingID, deviceID int64, latest *Attempt) (Attempt, error) {
	var a Attempt
	err := tx.GetContext(ctx, &a, `SELECT `+attemptColumns+`
		FROM attempts WHERE booking_id = $1 AND device_id = $2 ORDER BY attempt_no DESC LIMIT 1`, bookingID, deviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return *latest, nil
	}
	if err != nil {
		return a, fmt.Errorf("attempt of device %d: %w", deviceID, err)
	}
	return a, nil
}

// openAttempt opens the booking's next attempt: the first, or the same-day
// retake after a failed first (BK-RETAKE).
func (s *Store) openAttempt(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, latest *Attempt, dev Device) (Attempt, error) {
	no := 1
	switch {
	case latest != nil && latest.Status == InProgress:
		return Attempt{}, ErrAttemptInProgress
	case latest != nil && latest.AttemptNo == 2:
		return Attempt{}, ErrRetakeExhausted
	case latest != nil && latest.Status == Passed:
		return Attempt{}, ErrAttemptFinished
	case latest != nil:
		no = 2
	}
	if b.Status != scheduling.StatusConfirmed {
		return Attempt{}, ErrNotConfirmed
	}
	a := Attempt{BookingID: b.ID, AttemptNo: no, DeviceID: dev.ID, PassMark: PassMark(b.Subject, b.LicenceClass), Score: FullScore, Status: InProgress}
	err := tx.GetContext(ctx, &a, `
		INSERT INTO attempts (booking_id, attempt_no, device_id, rule_version, pass_mark)
		SELECT $1, $2, $3, max(version), $4 FROM rule_catalogues
		RETURNING `+attemptColumns, a.BookingID, a.AttemptNo, a.DeviceID, a.PassMark)
	if err != nil {
		// attempts_one_in_progress and the (booking, attempt_no) key make
		// a racing second start fail here; the booking lock makes it rare.
		return Attempt{}, fmt.Errorf("open attempt: %w", err)
	}
	return a, nil
}

// ruleFor looks rule code up in the attempt's catalogue version and says
// whether it has deducted in this attempt before.
func (s *Store) ruleFor(ctx context.Context, tx *sqlx.Tx, a Attempt, subject int, class, code string) (Rule, bool, error) {
	var r Rule
	err := tx.GetContext(ctx, &r, `
		SELECT code, subject, item, text_zh, text_en, points, repeatable
		FROM rules WHERE version = $1 AND code = $2`, a.RuleVersion, code)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !r.AppliesTo(subject) || err == nil && !RuleFitsExam(r, subject, class) {
		return r, false, ErrUnknownRule
	}
	if err != nil {
		return r, false, fmt.Errorf("rule %s: %w", code, err)
	}
	var before bool
	err = tx.GetContext(ctx, &before, `
		SELECT EXISTS (SELECT 1 FROM attempt_events WHERE attempt_id = $1 AND rule = $2 AND points > 0)`, a.ID, code)
	if err != nil {
		return r, false, fmt.Errorf("earlier deductions: %w", err)
	}
	return r, before, nil
}

// saveAttempt writes the attempt's score and status; an attempt moves only
// out of in_progress, never back.
func (s *Store) saveAttempt(ctx context.Context, tx *sqlx.Tx, a *Attempt, now time.Time) error {
	var finished *time.Time
	if a.Status != InProgress {
		finished = &now
	}
	err := tx.GetContext(ctx, &a.FinishedAt, `
		UPDATE attempts SET score = $2, status = $3, finished_at = $4
		WHERE id = $1 AND status = 'in_progress'
		RETURNING finished_at`, a.ID, a.Score, a.Status, finished)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrAttemptFinished
	}
	if err != nil {
		return fmt.Errorf("save attempt %d: %w", a.ID, err)
	}
	return nil
}

// endBooking records what a finished attempt decides for its booking: a
// pass ends it passed; a failed retake ends it failed (BK-RETAKE), and
// BK-COMBINED-FAIL may release the subject 3 half of a combined booking.
func (s *Store) endBooking(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, a Attempt, now time.Time) error {
	status := scheduling.StatusFailed
	switch {
	case a.Status == Passed:
		status = scheduling.StatusPassed
	case a.AttemptNo == 1:
		return nil // the same-day retake is open
	}
	// The booking row is locked by this transaction, so it is still as
	// LockBookingForExam read it; a booking that is not confirmed any more
	// takes no result.
	ended, err := scheduling.EndBooking(ctx, tx, b.ID, status)
	if err != nil {
		return err
	}
	if !ended {
		return ErrNotConfirmed
	}
	if status == scheduling.StatusPassed {
		return nil
	}
	return s.releasePair(ctx, tx, b, now)
}

// releasePair applies BK-COMBINED-FAIL when it is set to release: the
// subject 3 half of a combined booking whose subject 2 half ended failed
// (a no-show included) is cancelled on the office's behalf, its seat freed,
// and the feed of its venue told ("released").
func (s *Store) releasePair(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, now time.Time) error {
	if b.Subject != 2 || b.PairID == nil || !s.ReleasePairOnSubject2Fail {
		return nil
	}
	// Locked after its subject 2 half, as every transaction does.
	p, err := scheduling.LockBookingForExam(ctx, tx, *b.PairID)
	if err != nil {
		return err
	}
	const reason = "BK-COMBINED-FAIL: subject 2 failed"
	released, err := scheduling.ReleaseBooking(ctx, tx, p.ID, reason, now)
	if err != nil || !released {
		return err
	}
	feed := bookingEvent(p, Released, now)
	feed.Status, feed.Text = scheduling.StatusCancelled, reason
	_, err = s.pub.Append(ctx, tx, VenueTopic(p.VenueID), feed)
	return err
}

// bookingEvent is an event about booking b for its venue's feed, the
// candidate masked.
func bookingEvent(b scheduling.BookingForExam, typ string, at time.Time) FeedEvent {
	return FeedEvent{
		VenueID: b.VenueID, Type: typ, At: at, BookingID: b.ID, Subject: b.Subject,
		LicenceClass: b.LicenceClass, Lane: b.Lane, Needs: []string(b.Needs),
		Candidate: FeedCandidate{Name: scheduling.MaskName(b.Name), IDNumber: scheduling.MaskIDNumber(b.IDNumber)},
	}
}

// answer builds the answer to an event that changes nothing (a late
// exam_finished): the attempt with its deductions, and the seq that ended it.
func (s *Store) answer(ctx context.Context, tx *sqlx.Tx, a Attempt) (json.RawMessage, error) {
	ds, err := deductions(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		ds[i].Seq = 0 // as in every answer
	}
	a.Deductions = ds
	attempt, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var seq int64
	if err := tx.GetContext(ctx, &seq, `
		SELECT coalesce(max(f.seq), 0)
		FROM attempt_events e JOIN feed_events f ON f.id = e.feed_event_id
		WHERE e.attempt_id = $1`, a.ID); err != nil {
		return nil, fmt.Errorf("last seq of attempt %d: %w", a.ID, err)
	}
	return json.Marshal(Accepted{Seq: seq, Attempt: attempt})
}

// recordAttempt records in the audit log an attempt the event opened or
// finished.
func recordAttempt(ctx context.Context, tx *sqlx.Tx, dev Device, typ string, a Attempt) error {
	state := map[string]any{"booking_id": a.BookingID, "attempt_no": a.AttemptNo, "score": a.Score, "status": a.Status}
	opened := typ == ExamStarted || typ == TheoryResult
	if opened {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.Device(dev.ID), Action: "attempt.opened",
			Subject: fmt.Sprintf("attempt:%d", a.ID), After: state}); err != nil {
			return err
		}
	}
	if a.Status == InProgress {
		return nil
	}
	var before any
	if !opened {
		before = map[string]string{"status": InProgress}
	}
	return audit.Record(ctx, tx, audit.Entry{Actor: audit.Device(dev.ID), Action: "attempt.finished",
		Subject: fmt.Sprintf("attempt:%d", a.ID), Before: before, After: state})
}

// recordedQuery selects the events of attempt $1 as the score sheet shows
// them: with the rule's text in catalogue version $2, and their feed seq.
const recordedQuery = `
	SELECT e.type, e.item, e.rule, r.text_zh AS rule_text, e.points, e.score, e.text, e.at, e.received_at, f.seq
	FROM attempt_events e
	JOIN feed_events f ON f.id = e.feed_event_id
	LEFT JOIN rules r ON r.version = $2 AND r.code = e.rule
	WHERE e.attempt_id = $1`

// deductions lists the attempt's stored deductions with their rule text.
func deductions(ctx context.Context, q sqlx.QueryerContext, a Attempt) ([]Recorded, error) {
	ds := []Recorded{}
	err := sqlx.SelectContext(ctx, q, &ds, recordedQuery+` AND e.type = 'deduction' ORDER BY e.id`, a.ID, a.RuleVersion)
	if err != nil {
		return nil, fmt.Errorf("deductions of attempt %d: %w", a.ID, err)
	}
	return ds, nil
}
