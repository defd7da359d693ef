package exam

import (
	"context"
	"fmt"
	"time"

	"examd/internal/audit"
	"examd/internal/refusal"
	"examd/scheduling"
)

// Correction is a corrected result of an ended attempt (ED-SIGN): a new
// record beside the original, which stays as it was.
type Correction struct {
	ID          int64     `db:"id" json:"id"`
	Score       int       `db:"score" json:"score"`
	Status      string    `db:"status" json:"status"`
	Reason      string    `db:"reason" json:"reason"`
	CorrectedBy int64     `db:"corrected_by" json:"corrected_by"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
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
// fails it: the same-day retake was not taken) and announces it.
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
	// A result corrected to a pass may be the candidate's last (IS-READY).
	if _, err := s.issuance.MakeReadyIfDue(ctx, tx, a.CandidateID, now); err != nil {
		return err
	}
	return tx.Commit()
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
	return cs, nil
}
