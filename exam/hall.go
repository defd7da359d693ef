package exam

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"examd/scheduling"
)

// HallResults is how many of the latest results the waiting room's board
// shows.
const HallResults = 12

// HallExam is an exam under way as the waiting room's board shows it: the
// candidate's masked name and nothing else that identifies them.
type HallExam struct {
	Name    string `db:"name"` // masked (scheduling.MaskName)
	Subject int    `db:"subject"`
	Car     string `db:"car"` // the device's name, e.g. 考试车 3号
	// Item is the SC-ITEMS item under way: the last item started and not
	// yet finished; nil between items.
	Item      *string   `db:"item"`
	StartedAt time.Time `db:"started_at"`
}

// HallResult is a finished attempt as the board shows it: the result that
// stands (the latest correction's, if any).
type HallResult struct {
	Name       string    `db:"name"` // masked (scheduling.MaskName)
	Subject    int       `db:"subject"`
	Status     string    `db:"status"` // passed or failed
	Score      int       `db:"score"`
	FinishedAt time.Time `db:"finished_at"`
}

// HallBoard is what a venue's waiting-room board shows of a day's exams.
type HallBoard struct {
	Exams   []HallExam
	Results []HallResult // the latest HallResults, most recent first
}

// HallBoard returns the exams under way at a venue on day and its latest
// results, the names masked here so that no caller can show more.
// scheduling lists the day's bookings; their attempts are read here, by the
// bookings' ids.
func (s *Store) HallBoard(ctx context.Context, venueID int64, day time.Time) (HallBoard, error) {
	b := HallBoard{Exams: []HallExam{}, Results: []HallResult{}}
	bookings, err := scheduling.HallBookings(ctx, s.db, venueID, day)
	if err != nil {
		return b, err
	}
	if len(bookings) == 0 {
		return b, nil
	}
	ids := make([]int64, len(bookings))
	byID := make(map[int64]scheduling.HallBooking, len(bookings))
	for i, bk := range bookings {
		ids[i] = bk.ID
		byID[bk.ID] = bk
	}
	var exams []struct {
		HallExam
		BookingID int64 `db:"booking_id"`
	}
	err = s.db.SelectContext(ctx, &exams, `
		SELECT a.booking_id, d.name AS car, a.started_at,
		       (SELECT CASE WHEN e.type = 'item_started' THEN e.item END
		        FROM attempt_events e
		        WHERE e.attempt_id = a.id AND e.type IN ('item_started', 'item_finished')
		        ORDER BY e.id DESC LIMIT 1) AS item
		FROM attempts a JOIN devices d ON d.id = a.device_id
		WHERE a.booking_id = ANY($1) AND a.status = 'in_progress'
		ORDER BY a.started_at, a.id`, pq.Array(ids))
	if err != nil {
		return b, fmt.Errorf("exams under way at venue %d: %w", venueID, err)
	}
	var results []struct {
		HallResult
		BookingID int64 `db:"booking_id"`
	}
	err = s.db.SelectContext(ctx, &results, `
		SELECT a.booking_id, a.finished_at,
		       coalesce(k.status, a.status) AS status, coalesce(k.score, a.score) AS score
		FROM attempts a
		LEFT JOIN LATERAL (SELECT status, score FROM attempt_corrections
		                   WHERE attempt_id = a.id ORDER BY id DESC LIMIT 1) k ON true
		WHERE a.booking_id = ANY($1) AND a.status <> 'in_progress'
		ORDER BY a.finished_at DESC, a.id DESC
		LIMIT $2`, pq.Array(ids), HallResults)
	if err != nil {
		return b, fmt.Errorf("results at venue %d: %w", venueID, err)
	}
	for _, e := range exams {
		bk := byID[e.BookingID]
		e.HallExam.Name, e.HallExam.Subject = scheduling.MaskName(bk.Name), bk.Subject
		b.Exams = append(b.Exams, e.HallExam)
	}
	for _, r := range results {
		bk := byID[r.BookingID]
		r.HallResult.Name, r.HallResult.Subject = scheduling.MaskName(bk.Name), bk.Subject
		b.Results = append(b.Results, r.HallResult)
	}
	return b, nil
}
