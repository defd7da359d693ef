package scheduling

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// BookingForExam is what the exam day needs to know of a booking.
type BookingForExam struct {
	ID           int64          `db:"id"`
	CandidateID  int64          `db:"candidate_id"`
	Subject      int            `db:"subject"`
	Status       string         `db:"status"`
	Lane         string         `db:"lane"`
	PairID       *int64         `db:"pair_id"`
	ExamDay      time.Time      `db:"exam_day"`
	SlotID       int64          `db:"slot_id"`
	VenueID      int64          `db:"venue_id"`
	LicenceClass string         `db:"licence_class"`
	Name         string         `db:"name"`
	IDNumber     string         `db:"id_number"`
	Needs        pq.StringArray `db:"needs"`
}

// LockBookingForExam locks a booking for the exam day's transaction, so that
// the events of one booking are applied one at a time.
func LockBookingForExam(ctx context.Context, tx *sqlx.Tx, id int64) (BookingForExam, error) {
	var b BookingForExam
	err := tx.GetContext(ctx, &b, `
		SELECT b.id, b.candidate_id, b.subject, b.status, `+laneOnDay+` AS lane, b.pair_id, b.exam_day, b.slot_id,
		       s.venue_id, s.licence_class, c.name, c.id_number, coalesce(g.needs, '{}') AS needs
		FROM bookings b
		JOIN slots s ON s.id = b.slot_id
		JOIN candidates c ON c.id = b.candidate_id
		LEFT JOIN priority_grants g ON g.candidate_id = b.candidate_id AND g.revoked_at IS NULL
		WHERE b.id = $1
		FOR UPDATE OF b`, id)
	if err != nil {
		return b, notFound(err, fmt.Sprintf("lock booking %d", id))
	}
	return b, nil
}

// EndBooking moves a confirmed booking to its result: passed, failed or
// no_show. It reports whether the booking was still confirmed.
func EndBooking(ctx context.Context, tx sqlx.ExtContext, id int64, status string) (bool, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE bookings SET status = $2 WHERE id = $1 AND status = 'confirmed'`, id, status)
	if err != nil {
		return false, fmt.Errorf("end booking %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ReleaseBooking cancels a confirmed booking on the office's behalf (e.g.
// BK-COMBINED-FAIL's release) and frees its seat at once; a cancellation
// that does not count against BK-CAP. It reports whether it was confirmed.
func ReleaseBooking(ctx context.Context, tx sqlx.ExtContext, id int64, reason string, now time.Time) (bool, error) {
	var slotIDs []int64
	err := sqlx.SelectContext(ctx, tx, &slotIDs, `
		UPDATE bookings SET status = 'cancelled', cancelled_at = $2, cancel_reason = $3
		WHERE id = $1 AND status = 'confirmed'
		RETURNING slot_id`, id, now, reason)
	if err != nil || len(slotIDs) == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE slots SET booked = booked - 1 WHERE id = $1`, slotIDs[0]); err != nil {
		return false, fmt.Errorf("free seat of booking %d: %w", id, err)
	}
	return true, nil
}

// CorrectBooking moves a booking's result after a corrected score sheet:
// from one of the statuses from to status to. It reports whether it moved.
func CorrectBooking(ctx context.Context, tx sqlx.ExtContext, id int64, from []string, to string) (bool, error) {
	res, err := tx.ExecContext(ctx, `
		UPDATE bookings SET status = $3 WHERE id = $1 AND status = ANY($2)`, id, pq.Array(from), to)
	if err != nil {
		return false, fmt.Errorf("correct booking %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
