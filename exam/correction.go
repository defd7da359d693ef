package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// Correction is a corrected result of an ended attempt (ED-SIGN): a new
// record beside the original, which stays as it was. Being a new result, it
// is final only when the examiner and the candidate have both signed it;
// until then the candidate is not ready for issuance (IS-READY).
type Correction struct {
	ID          int64       `db:"id" json:"id"`
	Score       int         `db:"score" json:"score"`
	Status      string      `db:"status" json:"status"`
	Reason      string      `db:"reason" json:"reason"`
	CorrectedBy int64       `db:"corrected_by" json:"corrected_by"`
	CreatedAt   time.Time   `db:"created_at" json:"created_at"`
	Signatures  []Signature `db:"-" json:"signatures"`
	Final       bool        `db:"-" json:"final"`
}

// CorrectRequest asks to correct an attempt's result.
type CorrectRequest struct {
	AttemptID int64
	Score     int
	Reason    string
	By        int64
	// VenueID is the examiner's venue; 0 for an admin, who may correct anywhere.
	VenueID int64
}

// Correct records a corrected result, moves the booking's result with it
// (a corrected pass passes the booking; a corrected fail of a passed booking
// fails it: the same-day retake was not taken) and announces it. The
// correction is a new result, unsigned: a candidate in the issuance queue
// leaves it in this transaction (IS-READY), and becomes ready again, with a
// new ticket, once both parties have signed the correction and every other
// result still holds.
func (s *Store) Correct(ctx context.Context, r CorrectRequest, now time.Time) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	a, err := lockAttempt(ctx, tx, r.AttemptID)
	if err == nil && r.VenueID != 0 && a.VenueID != r.VenueID {
		err = refusal.ErrNotFound
	}
	if err != nil {
		return err
	}
	if a.Status == InProgress {
		return ErrNotSignable
	}
	status := Passed
	if r.Score < a.PassMark {
		status = Failed
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO attempt_corrections (attempt_id, score, status, reason, corrected_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.ID, r.Score, status, r.Reason, r.By, now); err != nil {
		return fmt.Errorf("record correction: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "attempt.corrected",
		Subject: fmt.Sprintf("attempt:%d", a.ID), Before: map[string]any{"score": a.Score, "status": a.Status},
		After: map[string]any{"score": r.Score, "status": status, "reason": r.Reason}}); err != nil {
		return err
	}
	if status == Passed {
		_, err = scheduling.CorrectBooking(ctx, tx, a.BookingID, []string{scheduling.StatusConfirmed, scheduling.StatusFailed}, scheduling.StatusPassed)
	} else {
		_, err = scheduling.CorrectBooking(ctx, tx, a.BookingID, []string{scheduling.StatusPassed}, scheduling.StatusFailed)
	}
	if err != nil {
		return err
	}
	feed := a.feedEvent("correction", now)
	feed.Score, feed.Status, feed.Text = r.Score, status, r.Reason
	if _, err := s.pub.Append(ctx, tx, VenueTopic(a.VenueID), feed); err != nil {
		return err
	}
	if _, err := s.issuance.WithdrawIfNotReady(ctx, tx, a.CandidateID, now); err != nil {
		return err
	}
	return tx.Commit()
}

// signCorrection signs the attempt's latest correction, if it has one
// (ED-SIGN: once corrected, the result that stands, and so the one to sign,
// is the correction). It reports whether the attempt had a correction to
// sign; signing twice changes nothing. The signature that makes the
// correction final may make the candidate ready for issuance, in tx.
func (s *Store) signCorrection(ctx context.Context, tx *sqlx.Tx, a lockedAttempt, r SignRequest, now time.Time) (bool, error) {
	var c Correction
	err := tx.GetContext(ctx, &c, `
		SELECT id, score, status, reason, corrected_by, created_at
		FROM attempt_corrections WHERE attempt_id = $1 ORDER BY id DESC LIMIT 1`, a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("latest correction of attempt %d: %w", a.ID, err)
	}
	var signatures int
	err = tx.GetContext(ctx, &signatures, `
		WITH signed AS (
			INSERT INTO correction_signatures (correction_id, signer, signed_by, in_person, signed_at, signature_png)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (correction_id, signer) DO NOTHING
			RETURNING 1)
		SELECT (SELECT count(*) FROM correction_signatures WHERE correction_id = $1) + (SELECT count(*) FROM signed)
		WHERE EXISTS (SELECT 1 FROM signed)`,
		c.ID, r.Signer, r.By, r.Signer == "candidate" && r.Owner == 0, now, r.pngArg())
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil // already signed
	}
	if err != nil {
		return false, fmt.Errorf("sign correction %d: %w", c.ID, err)
	}
	if signatures == 2 {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "correction.confirmed",
			Subject: fmt.Sprintf("attempt:%d", a.ID), After: map[string]any{"correction": c.ID, "score": c.Score, "status": c.Status}}); err != nil {
			return false, err
		}
		if err := s.notes.Add(ctx, tx, resultNote(a, c.Score, c.Status, true)); err != nil {
			return false, err
		}
	}
	feed := a.feedEvent("signature", now)
	feed.Score, feed.Status, feed.Text = c.Score, c.Status, r.Signer
	if _, err := s.pub.Append(ctx, tx, VenueTopic(a.VenueID), feed); err != nil {
		return false, err
	}
	if _, err := s.issuance.MakeReadyIfDue(ctx, tx, a.CandidateID, now); err != nil {
		return false, err
	}
	return true, nil
}

// corrections lists an attempt's corrections, oldest first.
func (s *Store) corrections(ctx context.Context, attemptID int64) ([]Correction, error) {
	cs := []Correction{}
	err := s.db.SelectContext(ctx, &cs, `
		SELECT id, score, status, reason, corrected_by, created_at
		FROM attempt_corrections WHERE attempt_id = $1 ORDER BY id`, attemptID)
	if err != nil {
		return nil, fmt.Errorf("corrections of attempt %d: %w", attemptID, err)
	}
	for i := range cs {
		cs[i].Signatures = []Signature{}
		if err := s.db.SelectContext(ctx, &cs[i].Signatures, `
			SELECT signer, signed_by, in_person, signed_at, signature_png FROM correction_signatures
			WHERE correction_id = $1 ORDER BY signed_at`, cs[i].ID); err != nil {
			return nil, fmt.Errorf("signatures of correction %d: %w", cs[i].ID, err)
		}
		cs[i].Final = len(cs[i].Signatures) == 2
	}
	return cs, nil
}
