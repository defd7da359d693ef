package issuance

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lib/pq"

	"examd/scheduling"
)

// DailyReport is the office's account of one calendar day (Asia/Shanghai):
// the exams of the day and the issuing desk's work.
type DailyReport struct {
	Date  string       `json:"date"`
	Exams []ExamCounts `json:"exams"`
	// PriorityLaneServed counts the distinct candidates the priority lane
	// served that day (PL-ORDER): a priority-lane booking of the day with at
	// least one attempt, or a priority-lane licence issued that day.
	PriorityLaneServed int `json:"priority_lane_served"`
	// LicencesIssued counts the licences printed that day, whenever the
	// candidate became ready.
	LicencesIssued int `json:"licences_issued"`
	// ReadyToIssued is over the licences issued that day.
	ReadyToIssued Minutes `json:"ready_to_issued_minutes"`
	// BecameReady counts the candidates who became ready that day
	// (IS-READY), IssuedSameDay those of them issued before the day ended.
	BecameReady   int `json:"became_ready"`
	IssuedSameDay int `json:"issued_same_day"`
	// SameDayRate is IssuedSameDay / BecameReady (IS-SAMEDAY), to 4
	// decimals; nil when nobody became ready.
	SameDayRate *float64 `json:"same_day_issuance_rate"`
}

// ExamCounts are the exams of one subject and licence class on the day, over
// the bookings of the day (bookings.exam_day) that were not cancelled.
type ExamCounts struct {
	Subject      int    `db:"subject" json:"subject"`
	LicenceClass string `db:"licence_class" json:"licence_class"`
	Booked       int    `db:"booked" json:"booked"`         // bookings of the day, not cancelled
	Candidates   int    `db:"candidates" json:"candidates"` // distinct candidates who sat at least one attempt
	Sat          int    `db:"sat" json:"sat"`               // attempts started: first sittings and retakes
	Retakes      int    `db:"retakes" json:"retakes"`       // attempts no. 2 (BK-RETAKE)
	Passed       int    `db:"passed" json:"passed"`         // bookings that ended passed
	Failed       int    `db:"failed" json:"failed"`         // bookings that ended failed
	NoShows      int    `db:"no_shows" json:"no_shows"`     // bookings that ended no_show (BK-NOSHOW)
}

// Minutes are percentiles of a duration in minutes, to 1 decimal; nil when
// there is nothing to measure. P50 and P90 interpolate between neighbours
// (percentile_cont), so they need not be a measured value.
type Minutes struct {
	P50 *float64 `db:"p50" json:"p50"`
	P90 *float64 `db:"p90" json:"p90"`
	Max *float64 `db:"max" json:"max"`
}

// DailyReport counts day's exams and issuances from one snapshot of the
// database. day is a calendar day as scheduling.Day or ParseDate return it.
func (s *Store) DailyReport(ctx context.Context, day time.Time) (DailyReport, error) {
	date := day.Format(time.DateOnly)
	// Instants are compared with the day's bounds, so that the indexes on
	// them serve; dates (exam_day, day) are compared with the day itself.
	from := scheduling.StartOfDay(day)
	to := from.Add(24 * time.Hour) // Asia/Shanghai keeps no daylight saving time
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return DailyReport{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	r := DailyReport{Date: date, Exams: []ExamCounts{}}
	// A cancelled booking counts nowhere, except for an attempt sat on it
	// before the cancellation: that exam was sat.
	err = tx.SelectContext(ctx, &r.Exams, `
		SELECT b.subject, s.licence_class,
		       count(DISTINCT b.id) FILTER (WHERE b.status <> 'cancelled') AS booked,
		       count(DISTINCT b.candidate_id) FILTER (WHERE a.id IS NOT NULL) AS candidates,
		       count(a.id) AS sat,
		       count(a.id) FILTER (WHERE a.attempt_no = 2) AS retakes,
		       count(DISTINCT b.id) FILTER (WHERE b.status = 'passed') AS passed,
		       count(DISTINCT b.id) FILTER (WHERE b.status = 'failed') AS failed,
		       count(DISTINCT b.id) FILTER (WHERE b.status = 'no_show') AS no_shows
		FROM bookings b
		JOIN slots s ON s.id = b.slot_id
		LEFT JOIN attempts a ON a.booking_id = b.id
		WHERE b.exam_day = $1 AND (b.status <> 'cancelled' OR a.id IS NOT NULL)
		GROUP BY b.subject, s.licence_class
		ORDER BY b.subject, s.licence_class`, day)
	if err != nil {
		return DailyReport{}, fmt.Errorf("exams of %s: %w", date, err)
	}

	var desk struct {
		Minutes       pq.Float64Array `db:"minutes"`
		Served        int             `db:"served"`
		Issued        int             `db:"issued"`
		BecameReady   int             `db:"became_ready"`
		IssuedSameDay int             `db:"issued_same_day"`
	}
	err = tx.GetContext(ctx, &desk, `
		WITH issued AS (
			SELECT candidate_id, priority_lane, (extract(epoch FROM issued_at - ready_at) / 60)::float8 AS minutes
			FROM issuances WHERE issued_at >= $2 AND issued_at < $3
		)
		SELECT
			(SELECT count(*) FROM (
				SELECT b.candidate_id FROM bookings b
				WHERE b.exam_day = $1 AND b.lane = 'priority'
				  AND EXISTS (SELECT 1 FROM attempts a WHERE a.booking_id = b.id)
				UNION
				SELECT candidate_id FROM issued WHERE priority_lane
			) lane) AS served,
			(SELECT count(*) FROM issued) AS issued,
			(SELECT coalesce(array_agg(minutes), '{}') FROM issued) AS minutes,
			(SELECT count(*) FROM issuances WHERE day = $1) AS became_ready,
			-- IS-SAMEDAY: ready that day and issued before it ended.
			(SELECT count(*) FROM issuances WHERE day = $1 AND issued_at < $3) AS issued_same_day`,
		day, from, to)
	if err != nil {
		return DailyReport{}, fmt.Errorf("issuing desk on %s: %w", date, err)
	}
	r.PriorityLaneServed, r.LicencesIssued = desk.Served, desk.Issued
	r.ReadyToIssued = percentiles(desk.Minutes)
	r.BecameReady, r.IssuedSameDay = desk.BecameReady, desk.IssuedSameDay
	if desk.BecameReady > 0 {
		rate := math.Round(float64(desk.IssuedSameDay)/float64(desk.BecameReady)*10000) / 10000
		r.SameDayRate = &rate
	}
	return r, nil
}

// percentiles are the median, the 90th percentile and the maximum of
// minutes, as PostgreSQL's percentile_cont computes them (interpolating
// between the two neighbours of the rank p × (n − 1)), each rounded to 1
// decimal; all nil when there are none.
func percentiles(minutes []float64) Minutes {
	if len(minutes) == 0 {
		return Minutes{}
	}
	sorted := slices.Sorted(slices.Values(minutes))
	at := func(p float64) *float64 {
		rank := p * float64(len(sorted)-1)
		lo, hi := math.Floor(rank), math.Ceil(rank)
		v := sorted[int(lo)] + (rank-lo)*(sorted[int(hi)]-sorted[int(lo)])
		v = math.Round(v*10) / 10
		return &v
	}
	return Minutes{P50: at(0.5), P90: at(0.9), Max: at(1)}
}
