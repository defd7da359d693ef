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
	"examd/internal/pg"
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

// Ingest applies a device event in one transaction: load the booking (its
// row lock applies its events one at a time, in order) and its attempt,
// Apply the event, save what it decided, append it to the venue's feed and
// store it with the answer given, all or nothing. It returns the raw answer
// and whether it is new (false: a retried event_id, answered as before; or
// a late exam_finished, which changes nothing).
func (s *Store) Ingest(ctx context.Context, dev Device, ev Event, now time.Time) (json.RawMessage, bool, error) {
	if err := ev.Validate(); err != nil {
		return nil, false, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	b, err := scheduling.LockBookingForExam(ctx, tx, ev.BookingID)
	if errors.Is(err, refusal.ErrNotFound) {
		return nil, false, refusal.Invalid("booking_id", "no such booking")
	}
	if err != nil {
		return nil, false, err
	}
	// A retry, even one that waited for the lock, finds the first copy's
	// answer here.
	st, err := readEventState(ctx, tx, dev, ev)
	if err != nil {
		return nil, false, err
	}
	stored, latest := st.stored, st.latest
	if !st.alive { // retired since its key was looked up (a cached key)
		s.keys.forget(dev.ID)
		return nil, false, refusal.ErrUnauthorized
	}
	if stored != nil && stored.Seq == nil {
		// Its first copy committed, and the numberer has not numbered its
		// event yet: answer once it has.
		tx.Rollback()
		answer, err := s.storedAnswer(ctx, s.db, dev, ev)
		return answer, false, err
	}
	if stored != nil {
		answer, err := stored.answer(dev, ev)
		return answer, false, err
	}
	facts, err := load(ctx, tx, dev, b, st, ev)
	if err != nil {
		return nil, false, err
	}
	d, err := latest.Apply(ev, facts, now)
	if err != nil {
		return nil, false, err
	}
	if d.Late {
		own, err := deviceAttempt(ctx, tx, b.ID, dev.ID, latest)
		if err != nil {
			return nil, false, err
		}
		answer, err := s.answer(ctx, tx, own)
		return answer, false, err
	}
	if err := s.save(ctx, tx, dev, &d, latest, now); err != nil {
		return nil, false, err
	}
	if d.Open {
		if err := s.tellNext(ctx, tx, b, now); err != nil {
			return nil, false, err
		}
	}
	feedID, attempt, err := s.append(ctx, tx, d, st.deductions)
	if err != nil {
		return nil, false, err
	}
	r := d.Record
	var inserted bool
	err = tx.GetContext(ctx, &inserted, `
		INSERT INTO attempt_events (event_id, attempt_id, device_id, type, item, rule, points, score, text, at, feed_event_id, response)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (event_id) DO NOTHING
		RETURNING true`,
		// As text: with binary_parameters lib/pq sends []byte in binary, which json refuses.
		ev.EventID, d.Attempt.ID, dev.ID, ev.Type, r.Item, r.Rule, r.Points, r.Score, r.Text, ev.At, feedID, string(attempt))
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
	// Committed: the answer shows the event's seq, which the numberer gives
	// it in a short transaction of its own (no lock held at the commit
	// above). A failure to number or read it is answered by a retry, with
	// the answer stored (the same bytes).
	if err := s.pub.Number(ctx); err != nil {
		return nil, false, fmt.Errorf("seq of the event: %w", err)
	}
	var seq int64
	if err := s.db.GetContext(ctx, &seq, `SELECT seq FROM feed_events WHERE id = $1`, feedID); err != nil {
		return nil, false, fmt.Errorf("seq of the event: %w", err)
	}
	answer, err := json.Marshal(Accepted{Seq: seq, Attempt: attempt})
	return answer, err == nil, err
}

// eventState is what Ingest reads in one statement once the event's booking
// is locked (readEventState).
type eventState struct {
	alive  bool         // the device is still active
	stored *storedEvent // the answer stored under the event's id, nil when it is new
	latest Attempt      // the booking's latest attempt, the zero Attempt before the first
	// deductions are latest's stored deductions with their rule texts, in
	// order, as deductions reads them.
	deductions []Recorded
	// rule is, for a deduction, its rule in latest's catalogue version (nil
	// without one), and deductedBefore whether it deducted in latest before.
	rule           *Rule
	deductedBefore bool
}

// readEventState reads the event's state in one statement, once its booking
// is locked: whether dev is still active, the answer stored under the
// event's id, the booking's latest attempt with its deductions, and for a
// deduction its rule in that attempt's catalogue version and whether it
// deducted in it before.
func readEventState(ctx context.Context, tx *sqlx.Tx, dev Device, ev Event) (eventState, error) {
	var row struct {
		Alive bool `db:"alive"`
		storedEvent
		A struct {
			ID          *int64     `db:"id"`
			BookingID   *int64     `db:"booking_id"`
			AttemptNo   *int       `db:"attempt_no"`
			DeviceID    *int64     `db:"device_id"`
			RuleVersion *int       `db:"rule_version"`
			PassMark    *int       `db:"pass_mark"`
			Score       *int       `db:"score"`
			Status      *string    `db:"status"`
			StartedAt   *time.Time `db:"started_at"`
			FinishedAt  *time.Time `db:"finished_at"`
		} `db:"a"`
		Deductions []byte `db:"deductions"`
		Rule       []byte `db:"rule"`
		Before     bool   `db:"before"`
	}
	var rule *string
	if ev.Type == Deduction {
		rule = &ev.Rule
	}
	err := tx.GetContext(ctx, &row, `
		SELECT EXISTS (SELECT 1 FROM devices WHERE id = $3 AND retired_at IS NULL) AS alive,
		       s.response, s.seq, s.device_id, s.booking_id, s.type,
		       l.id AS "a.id", l.booking_id AS "a.booking_id", l.attempt_no AS "a.attempt_no",
		       l.device_id AS "a.device_id", l.rule_version AS "a.rule_version", l.pass_mark AS "a.pass_mark",
		       l.score AS "a.score", l.status AS "a.status", l.started_at AS "a.started_at",
		       l.finished_at AS "a.finished_at",
		       coalesce(d.list, '[]') AS deductions, r.rule, coalesce(r.before, false) AS before
		FROM (SELECT 1) one
		LEFT JOIN (`+storedQuery+`) s ON true
		LEFT JOIN LATERAL (SELECT `+attemptColumns+`
		    FROM attempts WHERE booking_id = $2 ORDER BY attempt_no DESC LIMIT 1) l ON true
		LEFT JOIN LATERAL (`+deductionsJSON+`) d ON true
		LEFT JOIN LATERAL (
		    SELECT row_to_json(x) AS rule,
		           EXISTS (SELECT 1 FROM attempt_events WHERE attempt_id = l.id AND rule = $4 AND points > 0) AS before
		    FROM (SELECT code, subject, item, text_zh, text_en, points, repeatable
		          FROM rules WHERE version = l.rule_version AND code = $4) x) r ON true`,
		ev.EventID, ev.BookingID, dev.ID, rule)
	if err != nil {
		return eventState{}, fmt.Errorf("state of event %s: %w", ev.EventID, err)
	}
	st := eventState{alive: row.Alive, deductedBefore: row.Before}
	if row.Attempt != nil {
		st.stored = &row.storedEvent
	}
	if l := row.A; l.ID != nil {
		st.latest = Attempt{ID: *l.ID, BookingID: *l.BookingID, AttemptNo: *l.AttemptNo, DeviceID: *l.DeviceID,
			RuleVersion: *l.RuleVersion, PassMark: *l.PassMark, Score: *l.Score, Status: *l.Status,
			StartedAt: *l.StartedAt, FinishedAt: l.FinishedAt}
	}
	if err := json.Unmarshal(row.Deductions, &st.deductions); err != nil {
		return eventState{}, fmt.Errorf("deductions of event %s: %w", ev.EventID, err)
	}
	if row.Rule != nil {
		st.rule = new(Rule)
		if err := json.Unmarshal(row.Rule, st.rule); err != nil {
			return eventState{}, fmt.Errorf("rule of event %s: %w", ev.EventID, err)
		}
	}
	return st, nil
}

// load reads what Apply needs besides the locked booking and its latest
// attempt: for an event that starts an attempt whether the device has one
// in progress, and, for a deduction in an attempt in progress, its rule and
// whether it deducted before.
func load(ctx context.Context, tx *sqlx.Tx, dev Device, b scheduling.BookingForExam, st eventState, ev Event) (Facts, error) {
	f := Facts{Device: dev, Booking: b}
	latest := st.latest
	if ev.Type == ExamStarted || ev.Type == TheoryResult {
		// A start racing this one on the same device is caught by
		// attempts_device_in_progress when the attempt is inserted.
		err := tx.GetContext(ctx, &f.DeviceBusy, `
			SELECT EXISTS (SELECT 1 FROM attempts WHERE device_id = $1 AND status = 'in_progress')`, dev.ID)
		if err != nil {
			return f, fmt.Errorf("attempts in progress of device %d: %w", dev.ID, err)
		}
	}
	if ev.Type == Deduction && latest.AttemptNo > 0 && latest.Status == InProgress {
		f.Rule, f.DeductedBefore = st.rule, st.deductedBefore
	}
	return f, nil
}

// save writes what Apply decided: the attempt opened or changed, its audit,
// and the booking's result (BK-RETAKE, BK-COMBINED-FAIL).
func (s *Store) save(ctx context.Context, tx *sqlx.Tx, dev Device, d *Decision, latest Attempt, now time.Time) error {
	if d.Open {
		if err := openAttempt(ctx, tx, &d.Attempt); err != nil {
			return err
		}
	}
	// An event that leaves the attempt's score and status as they were (an
	// instruction, an item started) has nothing to save: every writer of
	// attempts holds the booking's lock, so latest is as stored.
	if d.Open || d.Attempt.Score != latest.Score || d.Attempt.Status != latest.Status {
		if err := saveAttempt(ctx, tx, &d.Attempt, now); err != nil {
			return err
		}
	}
	if err := recordAttempt(ctx, tx, dev, d.Record.Type, d.Attempt); err != nil {
		return err
	}
	if d.Booking == "" {
		return nil
	}
	// The booking row is locked by this transaction, so it is still as
	// LockBookingForExam read it, and Apply saw it confirmed.
	ended, err := scheduling.EndBooking(ctx, tx, d.Attempt.BookingID, d.Booking)
	if err != nil {
		return err
	}
	if !ended {
		return ErrNotConfirmed
	}
	if d.Booking == scheduling.StatusPassed {
		return nil
	}
	return s.releasePair(ctx, tx, d.facts.Booking, now)
}

// append appends the decision's feed events and returns the id of the
// event's own, with the answer's attempt: its deductions, this one
// included, carry no seq (this event's is set only when the transaction
// commits; the answer's own seq is this event's).
func (s *Store) append(ctx context.Context, tx *sqlx.Tx, d Decision, before []Recorded) (int64, []byte, error) {
	a := d.Attempt
	// The attempt's deductions before this event, read with its state
	// (none for the attempt it opens), then this one; none has a seq.
	ds := []Recorded{}
	if !d.Open {
		ds = append(ds, before...)
	}
	if d.Record.Type == Deduction {
		ds = append(ds, d.Record)
	}
	a.Deductions = ds
	attempt, err := json.Marshal(a.inShanghai())
	if err != nil {
		return 0, nil, err
	}
	var feedID int64
	for i, ev := range d.Feed() {
		id, err := s.pub.Append(ctx, tx, VenueTopic(ev.VenueID), ev)
		if err != nil {
			return 0, nil, err
		}
		if i == 0 {
			feedID = id
		}
	}
	return feedID, attempt, nil
}

// storedQuery selects the stored answer to event_id $1 and what it
// answered: device, booking and type.
const storedQuery = `
	SELECT e.response, f.seq, e.device_id, a.booking_id, e.type
	FROM attempt_events e
	JOIN attempts a ON a.id = e.attempt_id
	JOIN feed_events f ON f.id = e.feed_event_id
	WHERE e.event_id = $1`

// storedEvent is an answer given, with the event it answered.
type storedEvent struct {
	Attempt   *json.RawMessage `db:"response"`
	Seq       *int64           `db:"seq"`
	DeviceID  *int64           `db:"device_id"`
	BookingID *int64           `db:"booking_id"`
	Type      *string          `db:"type"`
}

// answer repeats the stored answer to ev. The id must name the same event:
// same device, booking and type; another event under a used id is refused
// rather than answered with someone else's attempt.
func (st storedEvent) answer(dev Device, ev Event) (json.RawMessage, error) {
	if *st.DeviceID != dev.ID || *st.BookingID != ev.BookingID || *st.Type != ev.Type {
		return nil, refusal.Invalid("event_id", "already used for another event")
	}
	return json.Marshal(Accepted{Seq: *st.Seq, Attempt: *st.Attempt})
}

// storedAnswer is the answer already given to the event's id
// (storedEvent.answer), once its event is numbered (committed events are
// numbered first when it is not).
func (s *Store) storedAnswer(ctx context.Context, q sqlx.QueryerContext, dev Device, ev Event) (json.RawMessage, error) {
	var stored storedEvent
	for numbered := false; ; numbered = true {
		err := sqlx.GetContext(ctx, q, &stored, storedQuery, ev.EventID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, refusal.ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("stored answer: %w", err)
		}
		if stored.Seq != nil {
			return stored.answer(dev, ev)
		}
		if numbered {
			return nil, fmt.Errorf("stored answer: event %s is not numbered", ev.EventID)
		}
		if err := s.pub.Number(ctx); err != nil {
			return nil, fmt.Errorf("stored answer: %w", err)
		}
	}
}

const attemptColumns = `id, booking_id, attempt_no, device_id, rule_version, pass_mark, score, status, started_at, finished_at`

// deviceAttempt is the booking's latest attempt that dev ran; latest when
// none is (the answer then shows where the booking stands).
func deviceAttempt(ctx context.Context, tx *sqlx.Tx, bookingID, deviceID int64, latest Attempt) (Attempt, error) {
	var a Attempt
	err := tx.GetContext(ctx, &a, `SELECT `+attemptColumns+`
		FROM attempts WHERE booking_id = $1 AND device_id = $2 ORDER BY attempt_no DESC LIMIT 1`, bookingID, deviceID)
	if errors.Is(err, sql.ErrNoRows) {
		return latest, nil
	}
	if err != nil {
		return a, fmt.Errorf("attempt of device %d: %w", deviceID, err)
	}
	return a, nil
}

// openAttempt inserts the attempt Apply opened, in the latest catalogue
// version, and reads back its id, version and start.
func openAttempt(ctx context.Context, tx *sqlx.Tx, a *Attempt) error {
	// The row starts at 100, in progress; a theory result is saved next.
	score, status := a.Score, a.Status
	defer func() { a.Score, a.Status = score, status }()
	err := tx.GetContext(ctx, a, `
		INSERT INTO attempts (booking_id, attempt_no, device_id, rule_version, pass_mark)
		SELECT $1, $2, $3, max(version), $4 FROM rule_catalogues
		RETURNING `+attemptColumns, a.BookingID, a.AttemptNo, a.DeviceID, a.PassMark)
	if r := pg.Refusal(err, constraintErrors); r != nil {
		// ED-ATTEMPT: a second start racing on the same device (the
		// booking's lock does not serialize two bookings), or, rarely, on
		// the same booking.
		return r
	}
	if err != nil {
		return fmt.Errorf("open attempt: %w", err)
	}
	return nil
}

// saveAttempt writes the attempt's score and status; an attempt moves only
// out of in_progress, never back.
func saveAttempt(ctx context.Context, tx *sqlx.Tx, a *Attempt, now time.Time) error {
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

// releasePair applies BK-COMBINED-FAIL when it is set to release: the
// subject 3 half of a combined booking whose subject 2 half ended failed
// (a no-show included) is cancelled on the office's behalf, its seat freed
// and offered to the waitlist, and the feed of its venue told ("released").
//
// Whatever the setting, the subject 4 booking of an all-subjects day
// (BK-PACKAGE) whose subject 2 or 3 ended failed is released the same way:
// subject 4 cannot be sat without both road tests passed.
func (s *Store) releasePair(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, now time.Time) error {
	if err := s.releasePackage(ctx, tx, b, now); err != nil {
		return err
	}
	if b.Subject != 2 || b.PairID == nil || !s.ReleasePairOnSubject2Fail {
		return nil
	}
	// Locked after its subject 2 half, as every transaction does.
	p, err := scheduling.LockBookingForExam(ctx, tx, *b.PairID)
	if err != nil {
		return err
	}
	return s.release(ctx, tx, p, b.Subject, "BK-COMBINED-FAIL: subject 2 failed", now)
}

// releasePackage releases the subject 4 booking of the all-subjects day
// (BK-PACKAGE) of b, a subject 2 or 3 booking that ended failed (a no-show
// included): cancelled on the office's behalf, not counted, its seat freed.
func (s *Store) releasePackage(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, now time.Time) error {
	id, ok, err := scheduling.PackageSubject4(ctx, tx, b)
	if err != nil || !ok {
		return err
	}
	// Locked after the road test that failed, as every transaction does.
	p, err := scheduling.LockBookingForExam(ctx, tx, id)
	if err != nil {
		return err
	}
	return s.release(ctx, tx, p, b.Subject, fmt.Sprintf("BK-PACKAGE: subject %d failed", b.Subject), now)
}

// release cancels booking p for reason, frees its seat and tells the feed
// of its venue ("released"), when p is still confirmed.
func (s *Store) release(ctx context.Context, tx *sqlx.Tx, p scheduling.BookingForExam, failed int, reason string, now time.Time) error {
	released, err := scheduling.ReleaseBooking(ctx, tx, p.ID, reason, now)
	if err != nil || !released {
		return err
	}
	// The candidate is told, in this transaction, as of every cancellation.
	if err := s.notes.Add(ctx, tx, releasedNote(p, failed)); err != nil {
		return err
	}
	// The freed seat goes to the slot's waitlist in this transaction.
	if err := scheduling.SeatFreed(ctx, tx, p.ID, p.SlotID, now); err != nil {
		return err
	}
	feed := bookingEvent(p, Released, now)
	feed.Status, feed.Text = scheduling.StatusCancelled, reason
	_, err = s.pub.Append(ctx, tx, VenueTopic(p.VenueID), feed)
	return err
}

// answer builds the answer to an event that changes nothing (a late
// exam_finished): the attempt with its deductions, and the seq that ended it.
func (s *Store) answer(ctx context.Context, tx *sqlx.Tx, a Attempt) (json.RawMessage, error) {
	ds, err := deductions(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	a.Deductions = ds
	attempt, err := json.Marshal(a.inShanghai())
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
	SELECT e.type, e.item, e.rule, r.text_zh AS rule_text, e.points, e.score, e.text, e.at, e.received_at,
	       coalesce(f.seq, 0) AS seq -- 0 until the numberer numbers it (realtime.Feed.Number)
	FROM attempt_events e
	JOIN feed_events f ON f.id = e.feed_event_id
	LEFT JOIN rules r ON r.version = $2 AND r.code = e.rule
	WHERE e.attempt_id = $1`

// deductionsJSON selects, as list, the stored deductions of the attempt l
// (id, rule_version) with their rule texts, as recordedQuery reads them but
// without a seq (no answer shows one), in order, as a JSON array; NULL for
// none. The answers read it with the event's state (readEventState) or on
// its own (deductions).
const deductionsJSON = `
	SELECT json_agg(json_build_object('type', e.type, 'item', e.item, 'rule', e.rule, 'rule_text', r.text_zh,
	           'points', e.points, 'score', e.score, 'text', e.text, 'at', e.at, 'received_at', e.received_at)
	           ORDER BY e.id) AS list
	FROM attempt_events e
	LEFT JOIN rules r ON r.version = l.rule_version AND r.code = e.rule
	WHERE e.attempt_id = l.id AND e.type = 'deduction'`

// deductions lists the attempt's stored deductions with their rule text.
func deductions(ctx context.Context, q sqlx.QueryerContext, a Attempt) ([]Recorded, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, q, &raw, `
		SELECT coalesce(d.list, '[]') FROM (SELECT $1::bigint AS id, $2::integer AS rule_version) l,
		LATERAL (`+deductionsJSON+`) d`, a.ID, a.RuleVersion)
	ds := []Recorded{}
	if err == nil {
		err = json.Unmarshal(raw, &ds)
	}
	if err != nil {
		return nil, fmt.Errorf("deductions of attempt %d: %w", a.ID, err)
	}
	return ds, nil
}
