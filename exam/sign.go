package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"examd/internal/audit"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// Signature is one signature on a score sheet (ED-SIGN).
type Signature struct {
	Signer   string    `db:"signer" json:"signer"`
	SignedBy int64     `db:"signed_by" json:"signed_by"`
	InPerson bool      `db:"in_person" json:"in_person"`
	SignedAt time.Time `db:"signed_at" json:"signed_at"`
	// PNG is the signature as drawn on the tablet, if it was (ED-SIGN).
	PNG []byte `db:"signature_png" json:"signature_png,omitempty"`
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
	// PNG is the drawn signature (DecodeSignaturePNG), or nil.
	PNG []byte
}

// pngArg is the drawn signature as a query argument: NULL when there is none
// (a nil []byte would be an empty bytea).
func (r SignRequest) pngArg() any {
	if len(r.PNG) == 0 {
		return nil
	}
	return r.PNG
}

// ErrNotSignable refuses a signature on an attempt still in progress.
var ErrNotSignable = refusal.New("attempt_in_progress", "考试尚未结束，不能签字确认。")

// ErrNotSigner refuses a signature by someone who does not sign this way:
// staff other than examiners, a candidate signing as the examiner.
var ErrNotSigner = refusal.New("forbidden", "成绩单只能由考试员和考生本人签名")

// ErrSignerNoVenue refuses a signature by an examiner whose account names no
// venue.
var ErrSignerNoVenue = refusal.New("forbidden", "考试员只能在所属考场签名确认，该账号未分配考场")

// NewSignRequest is the signature of caller p on an attempt as signer
// ("examiner" or "candidate"), for both front doors (ED-SIGN): a candidate
// signs their own sheet as the candidate; an examiner signs at their own
// venue, as the examiner or for the candidate signing in person; nobody
// else signs.
func NewSignRequest(p auth.Principal, attemptID int64, signer string) (SignRequest, error) {
	r := SignRequest{AttemptID: attemptID, Signer: signer, By: p.UserID}
	switch {
	case signer != "examiner" && signer != "candidate":
		return r, refusal.Invalid("signer", "examiner or candidate")
	case p.Role == auth.RoleCandidate && signer != "candidate":
		return r, ErrNotSigner
	case p.Role == auth.RoleCandidate:
		r.Owner = p.UserID
	case p.Role != auth.RoleExaminer:
		return r, ErrNotSigner
	case p.VenueID == nil:
		return r, ErrSignerNoVenue
	default:
		r.VenueID = *p.VenueID
	}
	return r, nil
}

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
		return refusal.ErrNotFound
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
		INSERT INTO attempt_signatures (attempt_id, signer, signed_by, in_person, signed_at, signature_png)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (attempt_id, signer) DO NOTHING
		RETURNING true`, a.ID, r.Signer, r.By, r.Signer == "candidate" && r.Owner == 0, now, r.pngArg())
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
		if err := s.notes.Add(ctx, tx, resultNote(a, a.Score, a.Status, false)); err != nil {
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
