package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/refusal"
	"examd/scheduling"
)

// ScoreSheet is an attempt with everything ED-ATTEMPT shows: every event,
// the booking count n of 5 (BK-CAP), the catalogue version, the signatures.
type ScoreSheet struct {
	Attempt
	CandidateID  int64       `db:"-" json:"candidate_id"`
	VenueID      int64       `db:"-" json:"venue_id"`
	Subject      int         `db:"-" json:"subject"`
	LicenceClass string      `db:"-" json:"licence_class"`
	BookingCount int         `db:"-" json:"booking_count"`
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
	err := s.db.GetContext(ctx, &sh.Attempt, `SELECT `+attemptColumns+` FROM attempts WHERE id = $1`, attemptID)
	if errors.Is(err, sql.ErrNoRows) {
		return sh, refusal.ErrNotFound
	}
	if err != nil {
		return sh, fmt.Errorf("score sheet %d: %w", attemptID, err)
	}
	b, err := scheduling.BookingForSheet(ctx, s.db, sh.BookingID)
	if err != nil {
		return sh, err
	}
	if owner != 0 && b.CandidateID != owner {
		return sh, refusal.ErrNotFound
	}
	sh.CandidateID, sh.VenueID, sh.Subject, sh.LicenceClass = b.CandidateID, b.VenueID, b.Subject, b.LicenceClass
	sh.BookingCount = b.Count
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
		SELECT signer, signed_by, in_person, signed_at, signature_png FROM attempt_signatures
		WHERE attempt_id = $1 ORDER BY signed_at`, attemptID); err != nil {
		return sh, fmt.Errorf("signatures of attempt %d: %w", attemptID, err)
	}
	sh.Final = len(sh.Signatures) == 2
	if sh.Corrections, err = s.corrections(ctx, attemptID); err != nil {
		return sh, err
	}
	sh.inShanghai()
	sh.Result = Result{Score: sh.Score, Status: sh.Status}
	if n := len(sh.Corrections); n > 0 {
		last := sh.Corrections[n-1]
		sh.Result = Result{Score: last.Score, Status: last.Status, Corrected: true}
	}
	return sh, nil
}

// inShanghai puts every instant of the sheet in Asia/Shanghai, as answers
// show them.
func (sh *ScoreSheet) inShanghai() {
	sh.Attempt = sh.Attempt.inShanghai()
	sh.Events = recordedInShanghai(sh.Events)
	signaturesInShanghai(sh.Signatures)
	for i := range sh.Corrections {
		sh.Corrections[i].CreatedAt = sh.Corrections[i].CreatedAt.In(scheduling.Shanghai)
		signaturesInShanghai(sh.Corrections[i].Signatures)
	}
}

// signaturesInShanghai puts the signatures' instants in Asia/Shanghai.
func signaturesInShanghai(ss []Signature) {
	for i := range ss {
		ss[i].SignedAt = ss[i].SignedAt.In(scheduling.Shanghai)
	}
}

// BookingAttempts lists the ids of a booking's attempts. A candidate
// (owner != 0) sees only their own bookings.
func (s *Store) BookingAttempts(ctx context.Context, bookingID, owner int64) ([]int64, error) {
	exists, err := scheduling.BookingVisible(ctx, s.db, bookingID, owner)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, refusal.ErrNotFound
	}
	ids := []int64{}
	err = s.db.SelectContext(ctx, &ids, `SELECT id FROM attempts WHERE booking_id = $1 ORDER BY attempt_no`, bookingID)
	if err != nil {
		return nil, fmt.Errorf("attempts of booking %d: %w", bookingID, err)
	}
	return ids, nil
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

// lockAttempt locks an attempt and its booking for a signature or a
// correction: the booking first, as every exam day transaction does.
func lockAttempt(ctx context.Context, tx *sqlx.Tx, id int64) (lockedAttempt, error) {
	var a lockedAttempt
	err := tx.GetContext(ctx, &a.BookingID, `SELECT booking_id FROM attempts WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return a, refusal.ErrNotFound
	}
	if err != nil {
		return a, fmt.Errorf("attempt %d: %w", id, err)
	}
	b, err := scheduling.LockBookingForExam(ctx, tx, a.BookingID)
	if err != nil {
		return a, err
	}
	if err := tx.GetContext(ctx, &a.Attempt, `SELECT `+attemptColumns+` FROM attempts WHERE id = $1 FOR UPDATE`, id); err != nil {
		return a, fmt.Errorf("lock attempt %d: %w", id, err)
	}
	a.VenueID, a.CandidateID, a.Subject, a.LicenceClass = b.VenueID, b.CandidateID, b.Subject, b.LicenceClass
	a.Lane, a.Name, a.IDNumber, a.Needs = b.Lane, b.Name, b.IDNumber, b.Needs
	return a, nil
}

// feedEvent is an event about the attempt for its venue's feed, the
// candidate masked.
func (a lockedAttempt) feedEvent(typ string, at time.Time) FeedEvent {
	return FeedEvent{
		VenueID: a.VenueID, Type: typ, At: at.In(scheduling.Shanghai), BookingID: a.BookingID, AttemptID: a.ID, AttemptNo: a.AttemptNo,
		Subject: a.Subject, LicenceClass: a.LicenceClass, Lane: a.Lane, Needs: []string(a.Needs),
		Candidate: FeedCandidate{Name: scheduling.MaskName(a.Name), IDNumber: scheduling.MaskIDNumber(a.IDNumber)},
		Score:     a.Score, Status: a.Status, PassMark: a.PassMark,
	}
}
