package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/refusal"
)

// An offer (a seat the waitlist booked for a candidate) ends in one of two
// ways (RA-WAIT): declined (Decline: the seat passes on), or kept. It is
// kept when the candidate keeps it (Keep), or when nobody declined it by
// its booking's cancel deadline (CancelDeadline): from then on the
// candidate could not give the seat back by themselves anyway. The second
// is judged when read (OfferState), not by a job: it is exact at the
// deadline's instant, costs no write, and the paths that end a booking
// (seatsFreed) record a past-deadline offer as kept. A kept offer is no
// longer declined, but its booking is cancelled as any other.

// OfferState is the state of an entry as of now: an offer whose cancel
// deadline has passed reads as kept (WaitBooked).
func OfferState(state string, examDay, now time.Time) string {
	if state == WaitOffered && !now.Before(CancelDeadline(examDay)) {
		return WaitBooked
	}
	return state
}

// CheckOffer judges an offer's entry in state for a keep or a decline at
// now: nil while it is open, else why not (no entry: ErrNotAnOffer).
func CheckOffer(state string, examDay, now time.Time) error {
	switch OfferState(state, examDay, now) {
	case WaitOffered:
		return nil
	case WaitBooked:
		return ErrOfferKept
	case WaitDeclined:
		return ErrOfferDeclined
	}
	return ErrNotAnOffer
}

// offerOf locks, in tx, the candidate's booking and then the waitlist entry
// that offered it (in the order a cancellation takes them: booking, then
// entry, so that a decline and a staff cancellation of the same seat wait
// for each other instead of deadlocking), and judges the entry at now. A
// booking that is not the candidate's is not found.
func offerOf(ctx context.Context, tx *sqlx.Tx, bookingID, candidateID int64, now time.Time) (entryID int64, err error) {
	var examDay time.Time
	err = tx.GetContext(ctx, &examDay, `
		SELECT exam_day FROM bookings WHERE id = $1 AND candidate_id = $2 FOR UPDATE`, bookingID, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, refusal.ErrNotFound // not the candidate's
	}
	if err != nil {
		return 0, fmt.Errorf("lock booking %d: %w", bookingID, err)
	}
	var entry struct {
		ID    int64  `db:"id"`
		State string `db:"state"`
	}
	err = tx.GetContext(ctx, &entry, `
		SELECT id, state FROM waitlist WHERE booking_id = $1 AND candidate_id = $2 FOR UPDATE`, bookingID, candidateID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("lock offer of booking %d: %w", bookingID, err)
	}
	if err := CheckOffer(entry.State, examDay, now); err != nil {
		return 0, err
	}
	return entry.ID, nil
}

// Keep confirms an offer the waitlist booked for candidate: the entry goes
// from offered to booked (the offer kept), which ends the candidate's right
// to decline it; the booking stays as it is. A second keep refuses with
// ErrOfferKept, a keep after a decline with ErrOfferDeclined.
func (s *Store) Keep(ctx context.Context, bookingID, candidateID int64, now time.Time) (WaitlistEntry, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return WaitlistEntry{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	id, err := offerOf(ctx, tx, bookingID, candidateID, now)
	if err != nil {
		return WaitlistEntry{}, err
	}
	// The entry is locked and judged open, so the UPDATE finds it offered.
	if _, err := tx.ExecContext(ctx, `
		UPDATE waitlist SET state = 'booked', ended_at = $2 WHERE id = $1`, id, now); err != nil {
		return WaitlistEntry{}, fmt.Errorf("keep offer %d: %w", id, err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(candidateID), Action: "waitlist.kept",
		Subject: fmt.Sprintf("booking:%d", bookingID), After: map[string]any{"waitlist_id": id, "state": WaitBooked}}); err != nil {
		return WaitlistEntry{}, err
	}
	if err := tx.Commit(); err != nil {
		return WaitlistEntry{}, fmt.Errorf("commit keep: %w", err)
	}
	return s.waitlistEntry(ctx, id, now)
}
