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
	StartsAt     time.Time      `db:"starts_at"` // the slot's start
	VenueID      int64          `db:"venue_id"`
	LicenceClass string         `db:"licence_class"`
	Name         string         `db:"name"`
	IDNumber     string         `db:"id_number"`
	Needs        pq.StringArray `db:"needs"`
}

// bookingForExamQuery selects bookings as BookingForExam, with their slot,
// candidate and priority needs, and the lane of the grant in force on the
// day (PL-ORDER); callers add the WHERE clause.
const bookingForExamQuery = `
	SELECT b.id, b.candidate_id, b.subject, b.status, ` + laneOnDay + ` AS lane, b.pair_id, b.exam_day, b.slot_id,
	       s.starts_at, s.venue_id, s.licence_class, c.name, c.id_number, coalesce(g.needs, '{}') AS needs
	FROM bookings b
	JOIN slots s ON s.id = b.slot_id
	JOIN candidates c ON c.id = b.candidate_id
	LEFT JOIN priority_grants g ON g.candidate_id = b.candidate_id AND g.revoked_at IS NULL`

// LockBookingForExam locks a booking for the exam day's transaction, so that
// the events of one booking are applied one at a time.
func LockBookingForExam(ctx context.Context, tx *sqlx.Tx, id int64) (BookingForExam, error) {
	var b BookingForExam
	err := tx.GetContext(ctx, &b, bookingForExamQuery+`
		WHERE b.id = $1
		FOR UPDATE OF b`, id)
	if err != nil {
		return b, notFound(err, fmt.Sprintf("lock booking %d", id))
	}
	return b, nil
}

// SheetBooking is a booking as an attempt's score sheet shows it
// (ED-ATTEMPT): its candidate, its slot's venue and licence class, and its
// number n among the candidate's bookings of the subject that count under
// BK-CAP.
type SheetBooking struct {
	ID           int64  `db:"id"`
	CandidateID  int64  `db:"candidate_id"`
	VenueID      int64  `db:"venue_id"`
	Subject      int    `db:"subject"`
	LicenceClass string `db:"licence_class"`
	// Count is n of MaxBookingsPerSubject: the bookings of the subject made
	// under the current permit up to this one, cancellations in time left
	// out.
	Count int `db:"count"`
}

// BookingForSheet returns a booking as a score sheet shows it.
func BookingForSheet(ctx context.Context, q sqlx.QueryerContext, id int64) (SheetBooking, error) {
	var b SheetBooking
	err := sqlx.GetContext(ctx, q, &b, `
		SELECT b.id, b.candidate_id, s.venue_id, b.subject, s.licence_class,
		       (SELECT count(*) FROM bookings o JOIN candidates c ON c.id = o.candidate_id
		        WHERE o.candidate_id = b.candidate_id AND o.subject = b.subject AND o.status <> 'cancelled'
		          AND o.exam_day >= c.permit_issued_on AND o.id <= b.id) AS count
		FROM bookings b JOIN slots s ON s.id = b.slot_id
		WHERE b.id = $1`, id)
	if err != nil {
		return b, notFound(err, fmt.Sprintf("booking %d for its score sheet", id))
	}
	return b, nil
}

// HallBooking is a booking of a venue's exam day as the waiting room's
// board needs it.
type HallBooking struct {
	ID      int64  `db:"id"`
	Subject int    `db:"subject"`
	Name    string `db:"name"` // the candidate's full name: mask it (MaskName) before showing it
}

// HallBookings lists the bookings of a venue's exam day, whatever their
// status, in id order, for the waiting room's board.
func HallBookings(ctx context.Context, q sqlx.QueryerContext, venueID int64, day time.Time) ([]HallBooking, error) {
	bs := []HallBooking{}
	err := sqlx.SelectContext(ctx, q, &bs, `
		SELECT b.id, b.subject, c.name
		FROM bookings b JOIN slots s ON s.id = b.slot_id JOIN candidates c ON c.id = b.candidate_id
		WHERE s.venue_id = $1 AND b.exam_day = $2
		ORDER BY b.id`, venueID, day)
	if err != nil {
		return nil, fmt.Errorf("bookings of venue %d on %s: %w", venueID, day.Format(time.DateOnly), err)
	}
	return bs, nil
}

// LockSlotBookings locks the confirmed bookings of a slot, in id order (the
// order every transaction locks bookings in), for the close of its exam day.
func LockSlotBookings(ctx context.Context, tx *sqlx.Tx, slotID int64) ([]BookingForExam, error) {
	bs := []BookingForExam{}
	err := tx.SelectContext(ctx, &bs, bookingForExamQuery+`
		WHERE b.slot_id = $1 AND b.status = 'confirmed'
		ORDER BY b.id
		FOR UPDATE OF b`, slotID)
	if err != nil {
		return nil, fmt.Errorf("lock bookings of slot %d: %w", slotID, err)
	}
	return bs, nil
}

// SlotPlace is where and when a slot is: what the close of its exam day
// needs to know of it.
type SlotPlace struct {
	VenueID  int64     `db:"venue_id"`
	StartsAt time.Time `db:"starts_at"`
}

// SlotPlaceOf returns the venue and start of a slot: refusal.ErrNotFound for
// a slot unknown.
func SlotPlaceOf(ctx context.Context, q sqlx.QueryerContext, slotID int64) (SlotPlace, error) {
	var p SlotPlace
	err := sqlx.GetContext(ctx, q, &p, `SELECT venue_id, starts_at FROM slots WHERE id = $1`, slotID)
	if err != nil {
		return p, notFound(err, fmt.Sprintf("slot %d", slotID))
	}
	return p, nil
}

// UnclosedSlots lists the slots that still hold confirmed bookings of an
// exam day before day (BK-NOSHOW: nobody closed them).
func UnclosedSlots(ctx context.Context, q sqlx.QueryerContext, day time.Time) ([]int64, error) {
	ids := []int64{}
	err := sqlx.SelectContext(ctx, q, &ids, `
		SELECT DISTINCT slot_id FROM bookings WHERE status = 'confirmed' AND exam_day < $1 ORDER BY slot_id`, day)
	if err != nil {
		return nil, fmt.Errorf("slots of ended days: %w", err)
	}
	return ids, nil
}

// BookingStatus is a booking's status as the caller's transaction sees it.
func BookingStatus(ctx context.Context, q sqlx.QueryerContext, id int64) (string, error) {
	var status string
	err := sqlx.GetContext(ctx, q, &status, `SELECT status FROM bookings WHERE id = $1`, id)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("status of booking %d", id))
	}
	return status, nil
}

// PackageSubject4 returns the subject 4 booking of the all-subjects day
// (BK-PACKAGE) that the road-test booking b belongs to, while it is still
// confirmed: it points at the day's subject 2 booking (b itself, or b's
// pair). ok is false when there is none.
func PackageSubject4(ctx context.Context, q sqlx.QueryerContext, b BookingForExam) (id int64, ok bool, err error) {
	if (b.Subject != 2 && b.Subject != 3) || b.PairID == nil {
		return 0, false, nil
	}
	subject2 := b.ID
	if b.Subject == 3 {
		subject2 = *b.PairID
	}
	var ids []int64
	if err := sqlx.SelectContext(ctx, q, &ids, `
		SELECT id FROM bookings WHERE pair_id = $1 AND subject = 4 AND status = 'confirmed'`, subject2); err != nil {
		return 0, false, fmt.Errorf("subject 4 of the package of booking %d: %w", b.ID, err)
	}
	if len(ids) == 0 {
		return 0, false, nil
	}
	return ids[0], true, nil
}

// PackageRoadTestsPending reports whether b is the subject 4 booking of an
// all-subjects day (BK-PACKAGE) whose subject 2 or 3 booking is still
// confirmed: its result, which decides whether subject 4 may be sat, is
// not known yet.
func PackageRoadTestsPending(ctx context.Context, q sqlx.QueryerContext, b BookingForExam) (bool, error) {
	if b.Subject != 4 || b.PairID == nil {
		return false, nil
	}
	var pending bool
	if err := sqlx.GetContext(ctx, q, &pending, `
		SELECT EXISTS (SELECT 1 FROM bookings
		               WHERE (id = $1 OR (pair_id = $1 AND subject = 3)) AND status = 'confirmed')`, *b.PairID); err != nil {
		return false, fmt.Errorf("road tests of the package of booking %d: %w", b.ID, err)
	}
	return pending, nil
}

// BookingVisible reports whether a booking exists and is the owner's to see
// (owner 0: anyone's).
func BookingVisible(ctx context.Context, q sqlx.QueryerContext, id, owner int64) (bool, error) {
	var exists bool
	err := sqlx.GetContext(ctx, q, &exists, `
		SELECT EXISTS (SELECT 1 FROM bookings WHERE id = $1 AND ($2::bigint = 0 OR candidate_id = $2::bigint))`,
		id, owner)
	if err != nil {
		return false, fmt.Errorf("booking %d: %w", id, err)
	}
	return exists, nil
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
