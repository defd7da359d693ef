package scheduling

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// QueueBooking is a booking of a venue's exam day as the candidates' queue
// orders it (PL-ORDER): its slot's start, its lane on the day and when it
// was booked.
type QueueBooking struct {
	ID          int64     `db:"id"`
	CandidateID int64     `db:"candidate_id"`
	Status      string    `db:"status"`
	Lane        string    `db:"lane"` // on the day (laneOnDay)
	BookedAt    time.Time `db:"created_at"`
	SlotID      int64     `db:"slot_id"`
	StartsAt    time.Time `db:"starts_at"` // the slot's start
}

// DayQueue lists the bookings of a subject at a venue on day, cancelled ones
// left out, in exam order: slot by slot, each slot's roster in its order
// (Roster).
func DayQueue(ctx context.Context, q sqlx.QueryerContext, venueID int64, subject int, day time.Time) ([]QueueBooking, error) {
	bs := []QueueBooking{}
	err := sqlx.SelectContext(ctx, q, &bs, `
		SELECT b.id, b.candidate_id, b.status, l.lane, b.created_at, b.slot_id, s.starts_at
		FROM bookings b
		JOIN slots s ON s.id = b.slot_id
		CROSS JOIN LATERAL (SELECT `+laneOnDay+` AS lane) l
		WHERE s.venue_id = $1 AND b.subject = $2 AND b.exam_day = $3 AND b.status <> 'cancelled'
		ORDER BY s.starts_at, l.lane = 'priority' DESC, b.created_at, b.id`, venueID, subject, day)
	if err != nil {
		return nil, fmt.Errorf("queue of venue %d, subject %d on %s: %w", venueID, subject, day.Format(time.DateOnly), err)
	}
	return bs, nil
}

// TodaysExam is the candidate's booking of today that their queue is about,
// with its venue.
type TodaysExam struct {
	ID        int64     `db:"id"`
	Subject   int       `db:"subject"`
	SlotID    int64     `db:"slot_id"`
	StartsAt  time.Time `db:"starts_at"` // the slot's start
	VenueID   int64     `db:"venue_id"`
	VenueName string    `db:"venue_name"`
}

// TodaysExamOf is the candidate's exam of today that the queue is about: the
// first booking still confirmed, in order of start (a combined day's subject
// 3 once subject 2 has passed); refusal.ErrNotFound when none is.
func TodaysExamOf(ctx context.Context, q sqlx.QueryerContext, candidateID int64, day time.Time) (TodaysExam, error) {
	var e TodaysExam
	err := sqlx.GetContext(ctx, q, &e, `
		SELECT b.id, b.subject, b.slot_id, s.starts_at, s.venue_id, v.name AS venue_name
		FROM bookings b
		JOIN slots s ON s.id = b.slot_id
		JOIN venues v ON v.id = s.venue_id
		WHERE b.candidate_id = $1 AND b.exam_day = $2 AND b.status = 'confirmed'
		ORDER BY s.starts_at, b.id
		LIMIT 1`, candidateID, day)
	if err != nil {
		return e, notFound(err, fmt.Sprintf("today's exam of candidate %d", candidateID))
	}
	e.StartsAt = e.StartsAt.In(Shanghai)
	return e, nil
}
