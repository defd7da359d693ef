package exam

import (
	"context"
	"fmt"
	"time"

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
func (s *Store) HallBoard(ctx context.Context, venueID int64, day time.Time) (HallBoard, error) {
	b := HallBoard{Exams: []HallExam{}, Results: []HallResult{}}
	err := s.db.SelectContext(ctx, &b.Exams, `
		SELECT c.name, b.subject, d.name AS car, a.started_at,
		       (SELECT CASE WHEN e.type = 'item_started' THEN e.item END
		        FROM attempt_events e
		        WHERE e.attempt_id = a.id AND e.type IN ('item_started', 'item_finished')
		        ORDER BY e.id DESC LIMIT 1) AS item
		FROM attempts a JOIN bookings b ON b.id = a.booking_id JOIN slots s ON s.id = b.slot_id
		JOIN candidates c ON c.id = b.candidate_id JOIN devices d ON d.id = a.device_id
		WHERE s.venue_id = $1 AND b.exam_day = $2 AND a.status = 'in_progress'
		ORDER BY a.started_at, a.id`, venueID, day)
	if err != nil {
		return b, fmt.Errorf("exams under way at venue %d: %w", venueID, err)
	}
	err = s.db.SelectContext(ctx, &b.Results, `
		SELECT c.name, b.subject, a.finished_at,
		       coalesce(k.status, a.status) AS status, coalesce(k.score, a.score) AS score
		FROM attempts a JOIN bookings b ON b.id = a.booking_id JOIN slots s ON s.id = b.slot_id
		JOIN candidates c ON c.id = b.candidate_id
		LEFT JOIN LATERAL (SELECT status, score FROM attempt_corrections
		                   WHERE attempt_id = a.id ORDER BY id DESC LIMIT 1) k ON true
		WHERE s.venue_id = $1 AND b.exam_day = $2 AND a.status <> 'in_progress'
		ORDER BY a.finished_at DESC, a.id DESC
		LIMIT $3`, venueID, day, HallResults)
	if err != nil {
		return b, fmt.Errorf("results at venue %d: %w", venueID, err)
	}
	for i := range b.Exams {
		b.Exams[i].Name = scheduling.MaskName(b.Exams[i].Name)
	}
	for i := range b.Results {
		b.Results[i].Name = scheduling.MaskName(b.Results[i].Name)
	}
	return b, nil
}
