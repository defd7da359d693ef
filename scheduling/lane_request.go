package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/refusal"
)

// LaneRequest is a candidate's request for the priority lane (绿色通道).
// Candidates make and revise their requests (RequestLane); staff decide them
// here, next to the grant that a decision makes, so that both happen in one
// transaction.
type LaneRequest struct {
	ID          int64          `db:"id"`
	CandidateID int64          `db:"candidate_id"`
	Name        string         `db:"name"`
	IDNumber    string         `db:"id_number"`
	Reason      string         `db:"reason"`
	Needs       pq.StringArray `db:"needs"`
	Note        string         `db:"note"`
	RequestedAt time.Time      `db:"requested_at"`
	Status      string         `db:"status"` // pending, granted, declined
	// DeclineReason is what the staff member who declined it wrote ("" for
	// nothing).
	DeclineReason string `db:"decline_reason"`
	// OnLane reports that the candidate already holds an active grant.
	OnLane bool `db:"on_lane"`
}

// Has reports whether the request lists need.
func (r *LaneRequest) Has(need string) bool { return r != nil && slices.Contains(r.Needs, need) }

// RequestLane records a candidate's request for the lane with a reason and
// needs (PL-GRANT's lists), for staff to decide, or revises the pending one:
// one pending request per candidate, held by a partial unique index.
func (s *Store) RequestLane(ctx context.Context, candidateID int64, g NewGrant, now time.Time) error {
	if err := g.Validate(); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO priority_requests (candidate_id, reason, needs, note, requested_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (candidate_id) WHERE status = 'pending'
		DO UPDATE SET reason = EXCLUDED.reason, needs = EXCLUDED.needs, note = EXCLUDED.note,
		              requested_at = EXCLUDED.requested_at`,
		candidateID, g.Reason, pq.Array(g.Needs), g.Note, now)
	if err != nil {
		return fmt.Errorf("request the lane for candidate %d: %w", candidateID, err)
	}
	return nil
}

// LatestLaneRequest returns the candidate's latest request, whatever its
// status, or refusal.ErrNotFound when they never asked.
func (s *Store) LatestLaneRequest(ctx context.Context, candidateID int64) (LaneRequest, error) {
	var r LaneRequest
	err := s.db.GetContext(ctx, &r, `
		SELECT id, candidate_id, reason, needs, note, status, requested_at, coalesce(decline_reason, '') AS decline_reason FROM priority_requests
		WHERE candidate_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return r, refusal.ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("lane request of candidate %d: %w", candidateID, err)
	}
	return r, nil
}

// MaxLaneRequestsListed bounds one answer of PendingLaneRequests.
const MaxLaneRequestsListed = 200

// PendingLaneRequests lists the pending requests, oldest first, of one
// candidate or (candidateID 0) of everyone, at most MaxLaneRequestsListed.
func (s *Store) PendingLaneRequests(ctx context.Context, candidateID int64) ([]LaneRequest, error) {
	rs := []LaneRequest{}
	err := s.db.SelectContext(ctx, &rs, `
		SELECT r.id, r.candidate_id, c.name, c.id_number, r.reason, r.needs, r.note, r.requested_at,
		       EXISTS (SELECT 1 FROM priority_grants g
		               WHERE g.candidate_id = r.candidate_id AND g.revoked_at IS NULL) AS on_lane
		FROM priority_requests r JOIN candidates c ON c.id = r.candidate_id
		WHERE r.status = 'pending' AND ($1::bigint = 0 OR r.candidate_id = $1::bigint)
		ORDER BY r.requested_at, r.id
		LIMIT $2`, candidateID, MaxLaneRequestsListed)
	if err != nil {
		return nil, fmt.Errorf("pending lane requests: %w", err)
	}
	return rs, nil
}

// GrantLaneRequest grants a pending request: it marks the request granted
// and puts its candidate on the priority lane with the request's reason,
// needs and note (PL-GRANT), in one transaction. The request's conditional
// UPDATE comes first, so that of two members of staff deciding at once one
// grants and the other gets ErrRequestDecided, and a grant never outlives a
// request that was declined meanwhile.
func (s *Store) GrantLaneRequest(ctx context.Context, requestID, by int64) (int64, *Grant, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var r struct {
		CandidateID int64          `db:"candidate_id"`
		Reason      string         `db:"reason"`
		Needs       pq.StringArray `db:"needs"`
		Note        string         `db:"note"`
	}
	err = tx.GetContext(ctx, &r, `
		UPDATE priority_requests SET status = 'granted', decided_by = $2, decided_at = now()
		WHERE id = $1 AND status = 'pending'
		RETURNING candidate_id, reason, needs, note`, requestID, by)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, undecidable(ctx, tx, requestID)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("grant lane request %d: %w", requestID, err)
	}
	g := NewGrant{Reason: r.Reason, Needs: []string(r.Needs), Note: r.Note}
	if err := g.Validate(); err != nil {
		return 0, nil, err // the table's CHECKs hold the same lists
	}
	grant, err := grantPriority(ctx, tx, r.CandidateID, g, by)
	if err != nil {
		return 0, nil, err
	}
	if err := s.notes.Add(ctx, tx, laneGrantedNote(r.CandidateID)); err != nil {
		return 0, nil, err
	}
	return r.CandidateID, grant, tx.Commit()
}

// MaxDeclineReason bounds the reason a decline gives, in characters.
const MaxDeclineReason = 500

// DeclineLaneRequest declines a pending request with the staff member's
// reason (optional, trimmed, at most MaxDeclineReason characters), shown to
// the candidate, and returns its candidate.
func (s *Store) DeclineLaneRequest(ctx context.Context, requestID, by int64, reason string) (int64, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > MaxDeclineReason {
		return 0, invalid("decline_reason", fmt.Sprintf("at most %d characters", MaxDeclineReason))
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var candidateID int64
	err = tx.GetContext(ctx, &candidateID, `
		UPDATE priority_requests SET status = 'declined', decided_by = $2, decided_at = now(),
		       decline_reason = nullif($3, '')
		WHERE id = $1 AND status = 'pending'
		RETURNING candidate_id`, requestID, by, reason)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, undecidable(ctx, tx, requestID)
	}
	if err != nil {
		return 0, fmt.Errorf("decline lane request %d: %w", requestID, err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "priority.declined",
		Subject: fmt.Sprintf("candidate:%d", candidateID), After: map[string]any{"request_id": requestID, "reason": reason}}); err != nil {
		return 0, err
	}
	if err := s.notes.Add(ctx, tx, laneDeclinedNote(candidateID, reason)); err != nil {
		return 0, err
	}
	return candidateID, tx.Commit()
}

// undecidable says why a request's conditional UPDATE changed nothing: it
// does not exist, or it was decided already. The read only picks the error.
func undecidable(ctx context.Context, tx *sqlx.Tx, requestID int64) error {
	var exists bool
	if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM priority_requests WHERE id = $1)`, requestID); err != nil {
		return fmt.Errorf("find lane request %d: %w", requestID, err)
	}
	if !exists {
		return refusal.ErrNotFound
	}
	return ErrRequestDecided
}
