package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/refusal"
	"examd/scheduling"
)

// Queue statuses of a candidate's exam of today.
const (
	QueueWaiting = "waiting" // waiting to be called
	QueueInExam  = "in_exam" // an attempt in progress
)

// MyQueue is where a candidate stands in their venue's queue today.
type MyQueue struct {
	BookingID    int64      `json:"booking_id"`
	Venue        QueueVenue `json:"venue"`
	Subject      int        `json:"subject"`
	SlotStartsAt time.Time  `json:"slot_starts_at"`
	Status       string     `json:"status"` // QueueWaiting or QueueInExam
	// Place is 1 for the next to be called, Ahead how many wait before; both
	// 0 in exam.
	Place int `json:"place"`
	Ahead int `json:"ahead"`
	// EstimatedAt is when the candidate is expected to be called; nil in
	// exam.
	EstimatedAt *time.Time `json:"estimated_at"`
	Basis       QueueBasis `json:"basis"`
}

// QueueVenue is the venue of a queue.
type QueueVenue struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// QueueBasis is what an estimate rests on (Pace).
type QueueBasis struct {
	MinutesPerAttempt float64 `json:"minutes_per_attempt"`
	// MeasuredAttempts is how many of today's finished attempts the minutes
	// are the median of; 0: the subject's default (DefaultPerAttempt).
	MeasuredAttempts int `json:"measured_attempts"`
	Cars             int `json:"cars"`
}

// MyQueue returns where candidate stands today in the queue of their exam
// (scheduling.TodaysExamOf): refusal.ErrNotFound when they have no exam
// today still to sit.
func (s *Store) MyQueue(ctx context.Context, candidateID int64, now time.Time) (MyQueue, error) {
	e, err := scheduling.TodaysExamOf(ctx, s.db, candidateID, scheduling.Day(now))
	if err != nil {
		return MyQueue{}, err
	}
	bs, pace, err := dayQueue(ctx, s.db, e.VenueID, e.Subject, scheduling.Day(now))
	if err != nil {
		return MyQueue{}, err
	}
	q := MyQueue{BookingID: e.ID, Venue: QueueVenue{ID: e.VenueID, Name: e.VenueName}, Subject: e.Subject,
		SlotStartsAt: e.StartsAt, Basis: QueueBasis{
			MinutesPerAttempt: math.Round(pace.PerAttempt.Minutes()*10) / 10,
			MeasuredAttempts:  pace.Measured, Cars: pace.Cars,
		}}
	for _, b := range bs {
		if b.ID == e.ID && b.InExamSince != nil {
			q.Status = QueueInExam
			return q, nil
		}
	}
	for _, p := range Queue(bs, pace, now) {
		if p.BookingID == e.ID {
			at := p.CalledAt.In(scheduling.Shanghai)
			q.Status, q.Place, q.Ahead, q.EstimatedAt = QueueWaiting, p.Place, p.Ahead, &at
			return q, nil
		}
	}
	// Confirmed, yet neither waiting nor in exam: both attempts sat.
	return MyQueue{}, refusal.ErrNotFound
}

// dayQueue loads the bookings of a subject's day at a venue with their
// attempts, and the day's pace, in two statements.
func dayQueue(ctx context.Context, q sqlx.QueryerContext, venueID int64, subject int, day time.Time) ([]QueueBooking, Pace, error) {
	sb, err := scheduling.DayQueue(ctx, q, venueID, subject, day)
	if err != nil {
		return nil, Pace{}, err
	}
	ids := make([]int64, len(sb))
	for i, b := range sb {
		ids[i] = b.ID
	}
	// The venue's cars of the subject, and every attempt of the day's
	// bookings (none: one row of NULLs).
	var rows []struct {
		Devices    int        `db:"devices"`
		BookingID  *int64     `db:"booking_id"`
		Status     *string    `db:"status"`
		StartedAt  *time.Time `db:"started_at"`
		FinishedAt *time.Time `db:"finished_at"`
	}
	err = sqlx.SelectContext(ctx, q, &rows, `
		SELECT d.devices, a.booking_id, a.status, a.started_at, a.finished_at
		FROM (SELECT count(*) AS devices FROM devices
		      WHERE venue_id = $1 AND retired_at IS NULL AND $2 = ANY(subjects)) d
		LEFT JOIN attempts a ON a.booking_id = ANY($3)`, venueID, subject, pq.Array(ids))
	if err != nil {
		return nil, Pace{}, fmt.Errorf("attempts of venue %d, subject %d: %w", venueID, subject, err)
	}
	byID := make(map[int64]*QueueBooking, len(sb))
	bs := make([]QueueBooking, len(sb))
	for i, b := range sb {
		bs[i] = QueueBooking{QueueBooking: b}
		byID[b.ID] = &bs[i]
	}
	var measured []DayAttempt
	devices, inExam := 0, 0
	for _, r := range rows {
		devices = r.Devices
		if r.BookingID == nil {
			continue
		}
		b := byID[*r.BookingID]
		b.Attempts++
		if *r.Status == InProgress {
			b.InExamSince = r.StartedAt
			inExam++
		}
		measured = append(measured, DayAttempt{StartedAt: *r.StartedAt, FinishedAt: r.FinishedAt})
	}
	return bs, PaceOf(subject, measured, devices, inExam), nil
}

// turnLock serializes, at a venue, the transactions that have opened an
// attempt, from the attempt's insert to their commit, so that each reads the
// queue as the ones before left it: of two attempts starting at once, the
// second to take it sees both and tells the candidate after them (without
// it, each would find the other's candidate next, and nobody would tell the
// third). Taken after the attempt's insert, it leaves the starts racing up to
// there, as before (attempts_device_in_progress settles two on one car).
// Nothing waits for a row lock while holding it: turn_notices has no foreign
// key, whose share lock on the told booking would wait for that booking's own
// start, itself waiting here.
func turnLock(ctx context.Context, tx *sqlx.Tx, venueID int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('examd.exam.queue', $1))`, venueID); err != nil {
		return fmt.Errorf("queue lock of venue %d: %w", venueID, err)
	}
	return nil
}

// tellNext tells the candidate whom the attempt just opened on b has made
// next in the queue (TurnNext) that their turn is next, in the transaction
// that opens it, once per booking (turn_notices).
func (s *Store) tellNext(ctx context.Context, tx *sqlx.Tx, b scheduling.BookingForExam, now time.Time) error {
	if err := turnLock(ctx, tx, b.VenueID); err != nil {
		return err
	}
	bs, pace, err := dayQueue(ctx, tx, b.VenueID, b.Subject, b.ExamDay)
	if err != nil {
		return err
	}
	next := TurnNext(bs, Queue(bs, pace, now))
	if next == nil {
		return nil
	}
	// Claimed first: a booking already told is not told again.
	var claimed bool
	err = tx.GetContext(ctx, &claimed, `
		INSERT INTO turn_notices (booking_id) VALUES ($1)
		ON CONFLICT (booking_id) DO NOTHING
		RETURNING true`, next.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("turn notice of booking %d: %w", next.ID, err)
	}
	return s.notes.Add(ctx, tx, turnNote(next.CandidateID, b.Subject))
}
