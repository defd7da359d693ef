package exam

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

// Signature is one signature on a score sheet (ED-SIGN).
type Signature struct {
	Signer   string    `db:"signer" json:"signer"`
	SignedBy int64     `db:"signed_by" json:"signed_by"`
	InPerson bool      `db:"in_person" json:"in_person"`
	SignedAt time.Time `db:"signed_at" json:"signed_at"`
}

// ScoreSheet is an attempt with everything ED-ATTEMPT shows: every event,
// the booking count n of 5 (BK-CAP), the catalogue version, the signatures.
type ScoreSheet struct {
	Attempt
	CandidateID  int64       `db:"candidate_id" json:"candidate_id"`
	VenueID      int64       `db:"venue_id" json:"venue_id"`
	Subject      int         `db:"subject" json:"subject"`
	LicenceClass string      `db:"licence_class" json:"licence_class"`
	BookingCount int         `db:"booking_count" json:"booking_count"`
	BookingCap   int         `db:"-" json:"booking_cap"`
	Events       []Recorded  `db:"-" json:"events"`
	Signatures   []Signature `db:"-" json:"signatures"`
	Final        bool        `db:"-" json:"final"`
	// Corrections are later records that correct the result; the last one
	// stands (Result).
	Corrections []Correction `db:"-" json:"corrections"`
	Result      Result       `db:"-" json:"result"`
}

// Result is the score and status that stand: the attempt's own, or its
// latest correction's.
type Result struct {
	Score     int    `json:"score"`
	Status    string `json:"status"`
	Corrected bool   `json:"corrected"`
}

// Sheet returns an attempt's score sheet. A candidate (owner != 0) sees only
// their own.
func (s *Store) Sheet(ctx context.Context, attemptID, owner int64) (ScoreSheet, error) {
	var sh ScoreSheet
	err := s.db.GetContext(ctx, &sh, `
		SELECT a.id, a.booking_id, a.attempt_no, a.device_id, a.rule_version, a.pass_mark, a.score, a.status,
		       a.started_at, a.finished_at, b.candidate_id, s.venue_id, b.subject, s.licence_class,
		       (SELECT count(*) FROM bookings o JOIN candidates c ON c.id = o.candidate_id
		        WHERE o.candidate_id = b.candidate_id AND o.subject = b.subject AND o.status <> 'cancelled'
		          AND o.exam_day >= c.permit_issued_on AND o.id <= b.id) AS booking_count
		FROM attempts a JOIN bookings b ON b.id = a.booking_id JOIN slots s ON s.id = b.slot_id
		WHERE a.id = $1 AND ($2::bigint = 0 OR b.candidate_id = $2::bigint)`, attemptID, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return sh, ErrNotFound
	}
	if err != nil {
		return sh, fmt.Errorf("score sheet %d: %w", attemptID, err)
	}
	if sh.Subject == 2 || sh.Subject == 3 {
		sh.BookingCap = scheduling.MaxBookingsPerSubject
	}
	sh.Events = []Recorded{}
	if err := s.db.SelectContext(ctx, &sh.Events, recordedQuery+` ORDER BY e.id`, attemptID, sh.RuleVersion); err != nil {
		return sh, fmt.Errorf("events of attempt %d: %w", attemptID, err)
	}
	sh.Deductions = []Recorded{}
	for _, e := range sh.Events {
		if e.Type == Deduction {
			sh.Deductions = append(sh.Deductions, e)
		}
	}
	sh.Signatures = []Signature{}
	if err := s.db.SelectContext(ctx, &sh.Signatures, `
		SELECT signer, signed_by, in_person, signed_at FROM attempt_signatures
		WHERE attempt_id = $1 ORDER BY signed_at`, attemptID); err != nil {
		return sh, fmt.Errorf("signatures of attempt %d: %w", attemptID, err)
	}
	sh.Final = len(sh.Signatures) == 2
	if sh.Corrections, err = s.corrections(ctx, attemptID); err != nil {
		return sh, err
	}
	sh.Result = Result{Score: sh.Score, Status: sh.Status}
	if n := len(sh.Corrections); n > 0 {
		last := sh.Corrections[n-1]
		sh.Result = Result{Score: last.Score, Status: last.Status, Corrected: true}
	}
	return sh, nil
}

// BookingAttempts lists the ids of a booking's attempts. A candidate
// (owner != 0) sees only their own bookings.
func (s *Store) BookingAttempts(ctx context.Context, bookingID, owner int64) ([]int64, error) {
	var exists bool
	if err := s.db.GetContext(ctx, &exists, `
		SELECT EXISTS (SELECT 1 FROM bookings WHERE id = $1 AND ($2::bigint = 0 OR candidate_id = $2::bigint))`,
		bookingID, owner); err != nil {
		return nil, fmt.Errorf("booking %d: %w", bookingID, err)
	}
	if !exists {
		return nil, ErrNotFound
	}
	ids := []int64{}
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM attempts WHERE booking_id = $1 ORDER BY attempt_no`, bookingID)
	if err != nil {
		return nil, fmt.Errorf("attempts of booking %d: %w", bookingID, err)
	}
	return ids, nil
}

// SignRequest signs a score sheet.
type SignRequest struct {
	AttemptID int64
	Signer    string // examiner or candidate
	By        int64
	// Owner is the candidate signing with their own token; 0 for the examiner.
	Owner int64
	// VenueID is the examiner's venue; the attempt must be there.
	VenueID int64
}

// lockedAttempt is an attempt with what its feed events show.
type lockedAttempt struct {
	Attempt
	VenueID      int64          `db:"venue_id"`
	CandidateID  int64          `db:"candidate_id"`
	Subject      int            `db:"subject"`
	LicenceClass string         `db:"licence_class"`
	Lane         string         `db:"lane"`
	Name         string         `db:"name"`
	IDNumber     string         `db:"id_number"`
	Needs        pq.StringArray `db:"needs"`
}

// lockAttempt locks an attempt and its booking for a signature or a correction.
func lockAttempt(ctx context.Context, tx *sqlx.Tx, id int64) (lockedAttempt, error) {
	var a lockedAttempt
	err := tx.GetContext(ctx, &a, `
		SELECT a.id, a.booking_id, a.attempt_no, a.device_id, a.rule_version, a.pass_mark, a.score, a.status,
		       a.started_at, a.finished_at, s.venue_id, b.candidate_id, b.subject, s.licence_class, b.lane,
		       c.name, c.id_number, coalesce(g.needs, '{}') AS needs
		FROM attempts a JOIN bookings b ON b.id = a.booking_id JOIN slots s ON s.id = b.slot_id
		JOIN candidates c ON c.id = b.candidate_id
		LEFT JOIN priority_grants g ON g.candidate_id = b.candidate_id AND g.revoked_at IS NULL
		WHERE a.id = $1
		FOR UPDATE OF a, b`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("lock attempt %d: %w", id, err)
	}
	return a, nil
}

// feedEvent is an event about the attempt for its venue's feed, the
// candidate masked.
func (a lockedAttempt) feedEvent(typ string, at time.Time) FeedEvent {
	return FeedEvent{
		VenueID: a.VenueID, Type: typ, At: at, BookingID: a.BookingID, AttemptID: a.ID, AttemptNo: a.AttemptNo,
		Subject: a.Subject, LicenceClass: a.LicenceClass, Lane: a.Lane, Needs: []string(a.Needs),
		Candidate: FeedCandidate{Name: scheduling.MaskName(a.Name), IDNumber: scheduling.MaskIDNumber(a.IDNumber)},
		Score:     a.Score, Status: a.Status, PassMark: a.PassMark,
	}
}

// ErrSlotNotStarted refuses to close a slot before it starts.
var ErrSlotNotStarted = &Refusal{409, "not_today", "the slot has not started: nobody can have missed it yet"}

// ErrNotSignable refuses a signature on an attempt still in progress.
var ErrNotSignable = &Refusal{409, "attempt_in_progress", "only a finished attempt can be signed"}

// Sign records a signature (ED-SIGN) and announces it on the venue's feed.
// Signing twice changes nothing.
func (s *Store) Sign(ctx context.Context, r SignRequest, now time.Time) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	a, err := lockAttempt(ctx, tx, r.AttemptID)
	if err != nil {
		return err
	}
	if r.Owner != 0 && a.CandidateID != r.Owner || r.Owner == 0 && a.VenueID != r.VenueID {
		return ErrNotFound
	}
	if a.Status == InProgress {
		return ErrNotSignable
	}
	// ED-SIGN: a corrected attempt's signatures go to its latest correction.
	if corrected, err := s.signCorrection(ctx, tx, a, r, now); err != nil || corrected {
		if err != nil {
			return err
		}
		return tx.Commit()
	}
	var signed bool
	err = tx.GetContext(ctx, &signed, `
		INSERT INTO attempt_signatures (attempt_id, signer, signed_by, in_person, signed_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (attempt_id, signer) DO NOTHING
		RETURNING true`, a.ID, r.Signer, r.By, r.Signer == "candidate" && r.Owner == 0, now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // already signed
	}
	if err != nil {
		return fmt.Errorf("sign attempt %d: %w", a.ID, err)
	}
	// ED-SIGN: the second signature confirms the result.
	var signatures int
	if err := tx.GetContext(ctx, &signatures, `SELECT count(*) FROM attempt_signatures WHERE attempt_id = $1`, a.ID); err != nil {
		return fmt.Errorf("signatures of attempt %d: %w", a.ID, err)
	}
	if signatures == 2 {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "attempt.confirmed",
			Subject: fmt.Sprintf("attempt:%d", a.ID), After: map[string]any{"score": a.Score, "status": a.Status}}); err != nil {
			return err
		}
	}
	feed := a.feedEvent("signature", now)
	feed.Text = r.Signer
	if _, err := s.pub.Append(ctx, tx, VenueTopic(a.VenueID), feed); err != nil {
		return err
	}
	// The signature that makes the last result final makes the candidate
	// ready for issuance (IS-READY), in this transaction.
	if _, err := s.issuance.MakeReadyIfDue(ctx, tx, a.CandidateID, now); err != nil {
		return err
	}
	return tx.Commit()
}

// Ended is a booking that closing its slot ended.
type Ended struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}

// CloseSlot ends the exam day of a slot (BK-NOSHOW, BK-RETAKE): confirmed
// bookings without an attempt become no-shows, those whose failed first
// attempt was not retaken become failed. Each is announced on the feed.
// It returns the ended bookings.
func (s *Store) CloseSlot(ctx context.Context, slotID, venueID int64, now time.Time) ([]Ended, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var slot struct {
		VenueID  int64     `db:"venue_id"`
		StartsAt time.Time `db:"starts_at"`
	}
	err = tx.GetContext(ctx, &slot, `SELECT venue_id, starts_at FROM slots WHERE id = $1`, slotID)
	if errors.Is(err, sql.ErrNoRows) || err == nil && venueID != 0 && slot.VenueID != venueID {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", slotID, err)
	}
	if now.Before(slot.StartsAt) {
		// A slot that has not started has no no-shows yet.
		return nil, ErrSlotNotStarted
	}
	// Lock the bookings first, then look at their attempts in a statement of
	// its own: an exam_started that held a booking's lock has committed its
	// attempt by then, and the next statement sees it.
	if _, err := tx.ExecContext(ctx, `
		SELECT id FROM bookings WHERE slot_id = $1 AND status = 'confirmed' ORDER BY id FOR UPDATE`, slotID); err != nil {
		return nil, fmt.Errorf("lock bookings of slot %d: %w", slotID, err)
	}
	if scheduling.Day(now).After(scheduling.Day(slot.StartsAt)) {
		// The slot's day has ended: an attempt still in progress was
		// abandoned (a device that died); it ends failed, so that the
		// booking can end.
		var abandoned []int64
		if err := tx.SelectContext(ctx, &abandoned, `
			UPDATE attempts SET status = 'failed', finished_at = $2
			WHERE status = 'in_progress'
			  AND booking_id IN (SELECT id FROM bookings WHERE slot_id = $1 AND status = 'confirmed')
			RETURNING id`,
			slotID, now); err != nil {
			return nil, fmt.Errorf("end abandoned attempts of slot %d: %w", slotID, err)
		}
		for _, id := range abandoned {
			if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.System, Action: "attempt.finished",
				Subject: fmt.Sprintf("attempt:%d", id), Before: map[string]string{"status": InProgress},
				After: map[string]string{"status": Failed, "why": "abandoned: the slot's day ended"}}); err != nil {
				return nil, err
			}
		}
	}
	var rows []struct {
		scheduling.BookingForExam
		AttemptNo *int `db:"attempt_no"`
	}
	err = tx.SelectContext(ctx, &rows, `
		SELECT b.id, b.candidate_id, b.subject, b.status, b.lane, b.pair_id, b.exam_day, b.slot_id,
		       s.venue_id, s.licence_class, c.name, c.id_number, coalesce(g.needs, '{}') AS needs,
		       (SELECT max(a.attempt_no) FROM attempts a WHERE a.booking_id = b.id) AS attempt_no
		FROM bookings b JOIN slots s ON s.id = b.slot_id JOIN candidates c ON c.id = b.candidate_id
		LEFT JOIN priority_grants g ON g.candidate_id = b.candidate_id AND g.revoked_at IS NULL
		WHERE b.slot_id = $1 AND ($2::bigint = 0 OR s.venue_id = $2::bigint) AND b.status = 'confirmed'
		  AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.booking_id = b.id AND a.status = 'in_progress')
		ORDER BY b.id
		FOR UPDATE OF b`, slotID, venueID)
	if err != nil {
		return nil, fmt.Errorf("bookings of slot %d: %w", slotID, err)
	}
	ended := []Ended{}
	for _, b := range rows {
		status := scheduling.StatusNoShow
		if b.AttemptNo != nil {
			status = scheduling.StatusFailed // the retake was declined
		}
		ok, err := scheduling.EndBooking(ctx, tx, b.ID, status)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ended = append(ended, Ended{ID: b.ID, Status: status})
		feed := bookingEvent(b.BookingForExam, status, now)
		feed.Status = status
		if _, err := s.pub.Append(ctx, tx, VenueTopic(b.VenueID), feed); err != nil {
			return nil, err
		}
		if err := s.releasePair(ctx, tx, b.BookingForExam, now); err != nil {
			return nil, err
		}
	}
	return ended, tx.Commit()
}

// CloseEndedDays closes, as CloseSlot does, every slot of a day that has
// ended and still holds confirmed bookings: BK-NOSHOW applies at the end of
// the slot's day even when nobody closed it. Safe to run on every replica
// at once: each booking ends by a conditional update, once.
func (s *Store) CloseEndedDays(ctx context.Context, now time.Time) (int, error) {
	var slots []int64
	err := s.db.SelectContext(ctx, &slots, `
		SELECT DISTINCT slot_id FROM bookings WHERE status = 'confirmed' AND exam_day < $1 ORDER BY slot_id`,
		scheduling.Day(now))
	if err != nil {
		return 0, fmt.Errorf("slots of ended days: %w", err)
	}
	n := 0
	for _, id := range slots {
		ended, err := s.CloseSlot(ctx, id, 0, now)
		if err != nil {
			return n, err
		}
		n += len(ended)
	}
	return n, nil
}
