package issuance

import (
	"context"
	"fmt"
	"time"
)

// Called is a ticket called to a desk (叫号), as the waiting room's board
// shows it: the ticket and the desk, nothing about the person.
type Called struct {
	Ticket   string    `db:"ticket"`
	Desk     string    `db:"desk"` // 3号窗口; empty when the caller has no desk
	CalledAt time.Time `db:"called_at"`
	// Served: the desk took a step for the ticket after this call (IS-STEPS),
	// so the candidate answered it and it is no longer "now calling".
	Served bool `db:"served"`
}

// Called lists the latest calls of day, at most limit, the latest first. A
// ticket called again counts once, at its latest call, served or not.
func (s *Store) Called(ctx context.Context, day time.Time, limit int) ([]Called, error) {
	calls := []Called{}
	err := s.db.SelectContext(ctx, &calls, `
		SELECT ticket, coalesce(called_desk, '') AS desk, called_at,
		       coalesce(greatest(accepted_at, reviewed_at, issued_at) >= called_at, false) AS served
		FROM issuances
		WHERE day = $1 AND called_at IS NOT NULL
		ORDER BY called_at DESC, id DESC
		LIMIT $2`, day, limit)
	if err != nil {
		return nil, fmt.Errorf("calls of %s: %w", day.Format(time.DateOnly), err)
	}
	return calls, nil
}
