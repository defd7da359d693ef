package issuance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"examd/internal/pg"
	"examd/internal/refusal"
	"examd/scheduling"
)

// CommentSize bounds a rating's comment, in characters (the schema's CHECK).
const CommentSize = 500

// MinRatingsToRank is how many ratings a desk or staff member needs in a
// month to be its top desk (满意标兵窗口) or top staff member (服务标兵个人):
// one delighted candidate does not make a model desk.
const MinRatingsToRank = 3

// Refusals of a rating (SA-RATE).
var (
	ErrAlreadyRated = refusal.New("already_rated", "该项服务已评价过，每项服务只能评价一次")
	ErrNotRateable  = refusal.New("not_rateable", "只能评价已发放的驾驶证，或由工作人员取消的预约")
)

// ratingConstraints are the constraints that refuse a rating.
var ratingConstraints = map[string]error{
	"feedback_issuance_key": ErrAlreadyRated, // SA-RATE: once per licence
	"feedback_booking_key":  ErrAlreadyRated, // and once per cancelled booking
}

// NewRating is a candidate's rating of one completed service (SA-RATE): a
// licence issued to them, or a booking of theirs that staff cancelled.
type NewRating struct {
	CandidateID int64
	IssuanceID  int64 // exactly one of IssuanceID and BookingID is set
	BookingID   int64
	Score       int    // 1 to 5
	Comment     string // free text, optional
}

// Validate checks the rating's fields and trims its comment.
func (r *NewRating) Validate() error {
	switch {
	case (r.IssuanceID == 0) == (r.BookingID == 0):
		return refusal.Invalid("issuance_id", "exactly one of issuance_id and booking_id")
	case r.IssuanceID < 0:
		return refusal.Invalid("issuance_id", "a positive id")
	case r.BookingID < 0:
		return refusal.Invalid("booking_id", "a positive id")
	case r.Score < 1 || r.Score > 5:
		return refusal.Invalid("score", "a whole number from 1 to 5")
	}
	r.Comment = strings.TrimSpace(r.Comment)
	if !utf8.ValidString(r.Comment) || strings.ContainsRune(r.Comment, 0) || utf8.RuneCountInString(r.Comment) > CommentSize {
		return refusal.Invalid("comment", "at most 500 characters of text")
	}
	return nil
}

// Rating is a recorded rating, with the staff member and desk rated: the
// ones who printed the licence, or who cancelled the booking.
type Rating struct {
	ID          int64     `db:"id" json:"id"`
	CandidateID int64     `db:"candidate_id" json:"candidate_id"`
	IssuanceID  *int64    `db:"issuance_id" json:"issuance_id"`
	BookingID   *int64    `db:"booking_id" json:"booking_id"`
	StaffID     int64     `db:"staff_id" json:"staff_id"`
	Desk        *string   `db:"desk" json:"desk"`
	Score       int       `db:"score" json:"score"`
	Comment     *string   `db:"comment" json:"comment"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// The inserts of a rating record it only when the service is the
// candidate's and complete: $1 the issuance or booking, $2 the candidate,
// $3 score, $4 comment, $5 now.
const (
	rateIssuance = `
		INSERT INTO feedback (candidate_id, issuance_id, staff_id, desk, score, comment, created_at)
		SELECT i.candidate_id, i.id, i.issued_by, i.issued_desk, $3, $4, $5
		FROM issuances i
		WHERE i.id = $1 AND i.candidate_id = $2 AND i.step = 'issued'
		RETURNING id, candidate_id, issuance_id, booking_id, staff_id, desk, score, comment, created_at`
	// A booking the candidate cancelled, or the office released on its own
	// (BK-COMBINED-FAIL: no cancelled_by), was no one's service.
	rateBooking = `
		INSERT INTO feedback (candidate_id, booking_id, staff_id, desk, score, comment, created_at)
		SELECT b.candidate_id, b.id, b.cancelled_by, u.desk, $3, $4, $5
		FROM bookings b JOIN users u ON u.id = b.cancelled_by
		WHERE b.id = $1 AND b.candidate_id = $2 AND b.status = 'cancelled' AND u.role <> 'candidate'
		RETURNING id, candidate_id, issuance_id, booking_id, staff_id, desk, score, comment, created_at`
)

// Rate records the candidate's rating of a service, once (SA-RATE): the
// unique constraints on feedback refuse a second one with ErrAlreadyRated,
// however close together the two arrive. A service that is not the
// candidate's is refusal.ErrNotFound; one not complete yet is ErrNotRateable.
func (s *Store) Rate(ctx context.Context, r NewRating, now time.Time) (Rating, error) {
	if err := r.Validate(); err != nil {
		return Rating{}, err
	}
	insert, id, what, owned := rateIssuance, r.IssuanceID, "issuance", `SELECT EXISTS (SELECT 1 FROM issuances WHERE id = $1 AND candidate_id = $2)`
	if r.BookingID != 0 {
		insert, id, what, owned = rateBooking, r.BookingID, "booking", `SELECT EXISTS (SELECT 1 FROM bookings WHERE id = $1 AND candidate_id = $2)`
	}
	var comment *string
	if r.Comment != "" {
		comment = &r.Comment
	}
	var rt Rating
	err := s.db.GetContext(ctx, &rt, insert, id, r.CandidateID, r.Score, comment, now)
	switch {
	case pg.Refusal(err, ratingConstraints) != nil:
		return Rating{}, ErrAlreadyRated
	case errors.Is(err, sql.ErrNoRows):
		// Nothing was recorded: tell why.
		var exists bool
		if err := s.db.GetContext(ctx, &exists, owned, id, r.CandidateID); err != nil {
			return Rating{}, fmt.Errorf("%s %d: %w", what, id, err)
		}
		if !exists {
			return Rating{}, refusal.ErrNotFound
		}
		return Rating{}, ErrNotRateable
	case err != nil:
		return Rating{}, fmt.Errorf("rate %s %d: %w", what, id, err)
	}
	rt.CreatedAt = rt.CreatedAt.In(scheduling.Shanghai)
	return rt, nil
}

// Service is a completed service of the candidate's that SA-RATE lets them
// rate once: a licence issued to them (IssuanceID), or a booking of theirs
// that staff cancelled (BookingID, Subject), done At.
type Service struct {
	IssuanceID int64     `db:"issuance_id"`
	BookingID  int64     `db:"booking_id"`
	Subject    int       `db:"subject"`
	At         time.Time `db:"at"`
	// Rated: the candidate has rated it (once only).
	Rated bool `db:"rated"`
}

// Services lists the candidate's rateable services, rated or not, the
// latest first: the same conditions as Rate's inserts.
func (s *Store) Services(ctx context.Context, candidateID int64) ([]Service, error) {
	ss := []Service{}
	err := s.db.SelectContext(ctx, &ss, `
		SELECT i.id AS issuance_id, 0::bigint AS booking_id, 0 AS subject, i.issued_at AS at,
		       EXISTS (SELECT 1 FROM feedback f WHERE f.issuance_id = i.id) AS rated
		FROM issuances i
		WHERE i.candidate_id = $1 AND i.step = 'issued' AND i.issued_at IS NOT NULL
		UNION ALL
		SELECT 0, b.id, b.subject, b.cancelled_at,
		       EXISTS (SELECT 1 FROM feedback f WHERE f.booking_id = b.id)
		FROM bookings b JOIN users u ON u.id = b.cancelled_by
		WHERE b.candidate_id = $1 AND b.status = 'cancelled' AND u.role <> 'candidate'
		ORDER BY at DESC, issuance_id DESC, booking_id DESC`, candidateID)
	if err != nil {
		return nil, fmt.Errorf("services of candidate %d: %w", candidateID, err)
	}
	for i := range ss {
		ss[i].At = ss[i].At.In(scheduling.Shanghai)
	}
	return ss, nil
}

// ParseMonth parses YYYY-MM, for years 1900 to 2199, to the month's first
// day (in the form of scheduling.Day).
func ParseMonth(s string) (time.Time, error) {
	m, err := time.Parse("2006-01", s)
	if err == nil && (m.Year() < 1900 || m.Year() > 2199) {
		return m, fmt.Errorf("month %s out of range", s)
	}
	return m, err
}

// Tally sums the ratings of a desk or a staff member. Mean is to 2
// decimals, Share5 (the share of 5s) to 4.
type Tally struct {
	Count  int     `db:"count" json:"count"`
	Sum    int     `db:"sum" json:"-"`
	Fives  int     `db:"fives" json:"-"`
	Mean   float64 `db:"-" json:"mean"`
	Share5 float64 `db:"-" json:"share_5"`
}

// Above reports whether t ranks above u in the monthly ranking: the higher
// mean score, then more ratings, then the higher share of 5s. Means and
// shares are compared exactly, as fractions, not as rounded numbers.
func (t Tally) Above(u Tally) bool {
	if a, b := t.Sum*u.Count, u.Sum*t.Count; a != b {
		return a > b
	}
	if t.Count != u.Count {
		return t.Count > u.Count
	}
	return t.Fives*u.Count > u.Fives*t.Count
}

func (t *Tally) finish() {
	t.Mean = math.Round(float64(t.Sum)/float64(t.Count)*100) / 100
	t.Share5 = math.Round(float64(t.Fives)/float64(t.Count)*10000) / 10000
}

// DeskScore is a desk's month.
type DeskScore struct {
	Desk string `db:"desk" json:"desk"`
	Tally
}

// StaffScore is a staff member's month; Desk is their desk now.
type StaffScore struct {
	StaffID  int64   `db:"staff_id" json:"staff_id"`
	Username string  `db:"username" json:"username"`
	Desk     *string `db:"desk" json:"desk"`
	Tally
}

// Comment is a rating's comment, for follow-up. Comments are the
// candidates' own words: shown to the admin, never logged.
type Comment struct {
	ID         int64     `db:"id" json:"id"`
	Score      int       `db:"score" json:"score"`
	Comment    string    `db:"comment" json:"comment"`
	Desk       *string   `db:"desk" json:"desk"`
	StaffID    int64     `db:"staff_id" json:"staff_id"`
	IssuanceID *int64    `db:"issuance_id" json:"issuance_id"`
	BookingID  *int64    `db:"booking_id" json:"booking_id"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

// Satisfaction is a month's ratings (SA-RATE): per desk and per staff
// member, each list best first, the month's top desk and staff member (nil
// when none has MinRatingsToRank ratings), and the comments, lowest score
// first, for follow-up.
type Satisfaction struct {
	Month    string       `json:"month"`
	Count    int          `json:"count"`
	Mean     *float64     `json:"mean"`
	Desks    []DeskScore  `json:"desks"`
	Staff    []StaffScore `json:"staff"`
	TopDesk  *DeskScore   `json:"top_desk"`
	TopStaff *StaffScore  `json:"top_staff"`
	Comments []Comment    `json:"comments"`
}

// Satisfaction reports the ratings made in month (as ParseMonth returns it)
// in Asia/Shanghai. A rating of a staff member with no desk counts for them
// but for no desk.
func (s *Store) Satisfaction(ctx context.Context, month time.Time) (Satisfaction, error) {
	name := month.Format("2006-01")
	from := scheduling.StartOfDay(month)
	to := scheduling.StartOfDay(month.AddDate(0, 1, 0))
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return Satisfaction{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	r := Satisfaction{Month: name, Desks: []DeskScore{}, Staff: []StaffScore{}, Comments: []Comment{}}
	var all Tally
	if err := tx.GetContext(ctx, &all, `
		SELECT count(*) AS count, coalesce(sum(score), 0) AS sum, count(*) FILTER (WHERE score = 5) AS fives
		FROM feedback WHERE created_at >= $1 AND created_at < $2`, from, to); err != nil {
		return Satisfaction{}, fmt.Errorf("ratings of %s: %w", name, err)
	}
	if r.Count = all.Count; all.Count > 0 {
		all.finish()
		r.Mean = &all.Mean
	}
	if err := tx.SelectContext(ctx, &r.Desks, `
		SELECT desk, count(*) AS count, sum(score) AS sum, count(*) FILTER (WHERE score = 5) AS fives
		FROM feedback WHERE created_at >= $1 AND created_at < $2 AND desk IS NOT NULL
		GROUP BY desk ORDER BY desk`, from, to); err != nil {
		return Satisfaction{}, fmt.Errorf("desks of %s: %w", name, err)
	}
	if err := tx.SelectContext(ctx, &r.Staff, `
		SELECT f.staff_id, u.username, u.desk, count(*) AS count, sum(f.score) AS sum,
		       count(*) FILTER (WHERE f.score = 5) AS fives
		FROM feedback f JOIN users u ON u.id = f.staff_id
		WHERE f.created_at >= $1 AND f.created_at < $2
		GROUP BY f.staff_id, u.username, u.desk ORDER BY f.staff_id`, from, to); err != nil {
		return Satisfaction{}, fmt.Errorf("staff of %s: %w", name, err)
	}
	if err := tx.SelectContext(ctx, &r.Comments, `
		SELECT id, score, comment, desk, staff_id, issuance_id, booking_id, created_at
		FROM feedback WHERE created_at >= $1 AND created_at < $2 AND comment IS NOT NULL
		ORDER BY score, created_at, id`, from, to); err != nil {
		return Satisfaction{}, fmt.Errorf("comments of %s: %w", name, err)
	}
	for i := range r.Comments {
		r.Comments[i].CreatedAt = r.Comments[i].CreatedAt.In(scheduling.Shanghai)
	}
	// Best first; equals keep the order of desk name and staff id.
	r.TopDesk = rank(r.Desks, func(d *DeskScore) *Tally { return &d.Tally })
	r.TopStaff = rank(r.Staff, func(s *StaffScore) *Tally { return &s.Tally })
	return r, nil
}

// order sorts tallies best first.
func order(a, b Tally) int {
	switch {
	case a.Above(b):
		return -1
	case b.Above(a):
		return 1
	}
	return 0
}

// rank sorts scores best first (Tally.Above; equals keep their order),
// finishes their means and shares, and returns the month's top one: the
// best with at least MinRatingsToRank ratings, nil when none has as many.
func rank[S any](scores []S, tally func(*S) *Tally) *S {
	slices.SortStableFunc(scores, func(a, b S) int { return order(*tally(&a), *tally(&b)) })
	var top *S
	for i := range scores {
		t := tally(&scores[i])
		t.finish()
		if top == nil && t.Count >= MinRatingsToRank {
			best := scores[i]
			top = &best
		}
	}
	return top
}
