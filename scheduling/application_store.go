package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/refusal"
)

// Apply records an application to ranked slots (RA-*): every option must be
// a ranked slot with its window open, all options of the same subject(s),
// and the candidate eligible for each (the booking rules, CheckBooking and
// CheckCombined, judged on the same read as a booking: readForBooking).
// Seats are not looked at: the allocation gives them.
func (s *Store) Apply(ctx context.Context, r ApplyRequest, now time.Time) (ApplicationView, error) {
	if err := r.Validate(); err != nil {
		return ApplicationView{}, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return ApplicationView{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	ids := r.slotIDs()
	read := BookRequest{CandidateID: r.CandidateID, SlotIDs: ids, By: r.By}
	st, err := readForBooking(ctx, tx, read)
	if errors.Is(err, refusal.ErrNotFound) {
		return ApplicationView{}, invalid("candidate_id", "no such candidate")
	}
	if err != nil {
		return ApplicationView{}, refusalField(err)
	}
	subjects, err := judgeApplication(st, r, now)
	if _, refused := refusal.As(err); refused {
		// As for a booking: the lock may have been waited for with an older
		// snapshot; a refusal is judged again on a fresh read.
		if st, err = readForBooking(ctx, tx, read); err != nil {
			return ApplicationView{}, refusalField(err)
		}
		subjects, err = judgeApplication(st, r, now)
	}
	if err != nil {
		return ApplicationView{}, err
	}
	var prefs, halves []int64
	for i, opt := range r.Preferences {
		for j := range opt {
			prefs = append(prefs, int64(i+1))
			halves = append(halves, int64(j+1))
		}
	}
	// The options' slots are locked FOR SHARE and must still be open and
	// not allocated: an allocation (which updates them) waits for this
	// application or runs first, and then this one sees the window closed.
	var id int64
	err = tx.GetContext(ctx, &id, `
		WITH open AS (
			SELECT id FROM slots
			WHERE id = ANY($2) AND allocation = 'ranked' AND allocated_at IS NULL
			  AND booking_opens_at <= $5 AND booking_closes_at > $5
			FOR SHARE),
		app AS (
			INSERT INTO applications (candidate_id, subjects, sort_time, applied_by, created_at)
			SELECT $1, $3, `+sortTimeSQL+`, $4, $5
			FROM candidates c WHERE c.id = $1 AND (SELECT count(*) FROM open) = cardinality($2::bigint[])
			RETURNING id),
		opts AS (
			INSERT INTO application_options (application_id, preference, half, slot_id)
			SELECT app.id, n.preference, n.half, n.slot_id
			FROM app, unnest($6::smallint[], $7::smallint[], $2::bigint[]) AS n (preference, half, slot_id))
		SELECT id FROM app`,
		r.CandidateID, pq.Array(ids), pq.Array(subjects), r.By, now, pq.Array(prefs), pq.Array(halves))
	if errors.Is(err, sql.ErrNoRows) {
		return ApplicationView{}, ErrBookingClosed
	}
	if err != nil {
		return ApplicationView{}, dbError(err, "insert application")
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "application.created",
		Subject: fmt.Sprintf("application:%d", id),
		After:   map[string]any{"candidate_id": r.CandidateID, "subjects": subjects, "preferences": r.Preferences}}); err != nil {
		return ApplicationView{}, err
	}
	if err := tx.Commit(); err != nil {
		return ApplicationView{}, fmt.Errorf("commit application: %w", err)
	}
	return s.Application(ctx, id, 0)
}

// refusalField names the request's field in readForBooking's bad slot.
func refusalField(err error) error {
	if r, ok := refusal.As(err); ok && r.Field == "slot_ids" {
		return invalid("preferences", r.Message)
	}
	return err
}

// sortTimeSQL is RA-SORT's 排序时间 of candidate c, as of $5: the latest of
// the permit's issue (the acceptance of the licence application), the
// candidate's previous exam (a no-show included), and a cancellation the
// candidate made themselves.
const sortTimeSQL = `greatest(
		(c.permit_issued_on::timestamp AT TIME ZONE 'Asia/Shanghai'),
		(SELECT max(b.exam_day)::timestamp AT TIME ZONE 'Asia/Shanghai' FROM bookings b
		 WHERE b.candidate_id = c.id AND b.status IN ('passed', 'failed', 'no_show') AND b.exam_day <= $5::date),
		(SELECT max(b.cancelled_at) FROM bookings b WHERE b.candidate_id = c.id AND b.cancelled_by = c.id))`

// judgeApplication judges r on what readForBooking found, returning the
// application's subjects.
func judgeApplication(st bookingState, r ApplyRequest, now time.Time) ([]int64, error) {
	byID := make(map[int64]Slot, len(st.slots))
	for _, sl := range st.slots {
		byID[sl.ID] = sl
	}
	var subjects []int64
	for i, opt := range r.Preferences {
		slots := make([]Slot, len(opt))
		for j, id := range opt {
			sl, ok := byID[id]
			if !ok {
				return nil, invalid("preferences", "no such slot")
			}
			if !sl.Ranked() {
				return nil, fmt.Errorf("slot %d: %w", id, ErrNotRanked)
			}
			slots[j] = sl
		}
		if len(slots) == 2 {
			a, b, err := CheckCombined(slots[0], slots[1])
			if err != nil {
				return nil, err
			}
			slots = []Slot{a, b}
		}
		var subs []int64
		for _, sl := range slots {
			if err := CheckBooking(st.candidate, sl, now); err != nil {
				return nil, fmt.Errorf("slot %d: %w", sl.ID, err)
			}
			subs = append(subs, int64(sl.Subject))
		}
		if i == 0 {
			subjects = subs
		} else if fmt.Sprint(subs) != fmt.Sprint(subjects) {
			return nil, ErrPreferenceMismatch
		}
	}
	return subjects, nil
}

// Withdraw withdraws an application (owner != 0: only the candidate's own)
// while the windows of all its slots are open and none is allocated.
func (s *Store) Withdraw(ctx context.Context, id, owner, by int64, now time.Time) (ApplicationView, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return ApplicationView{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	// The slots are locked FOR SHARE first (an allocation updating them is
	// waited for, and then seen), then the status moves once.
	var res struct {
		Found    bool `db:"found"`
		Open     bool `db:"open"`
		Withdrew bool `db:"withdrew"`
	}
	err = tx.GetContext(ctx, &res, `
		WITH app AS (
			SELECT id FROM applications WHERE id = $1 AND ($2::bigint = 0 OR candidate_id = $2::bigint)),
		slot AS (
			SELECT s.booking_closes_at, s.allocated_at FROM application_options o JOIN slots s ON s.id = o.slot_id
			WHERE o.application_id = (SELECT id FROM app) FOR SHARE OF s),
		open AS (
			SELECT NOT EXISTS (SELECT FROM slot WHERE booking_closes_at <= $3 OR allocated_at IS NOT NULL) AS open),
		w AS (
			UPDATE applications SET status = 'withdrawn', decided_at = $3
			WHERE id = (SELECT id FROM app) AND status = 'applied' AND (SELECT open FROM open)
			RETURNING id)
		SELECT EXISTS (SELECT FROM app) AS found, (SELECT open FROM open) AS open, EXISTS (SELECT FROM w) AS withdrew`,
		id, owner, now)
	if err != nil {
		return ApplicationView{}, fmt.Errorf("withdraw application %d: %w", id, err)
	}
	switch {
	case !res.Found:
		return ApplicationView{}, refusal.ErrNotFound
	case res.Withdrew:
	case !res.Open:
		return ApplicationView{}, ErrApplicationClosed
	default:
		return ApplicationView{}, ErrNotApplied
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "application.withdrawn",
		Subject: fmt.Sprintf("application:%d", id), After: map[string]any{"status": StatusWithdrawn}}); err != nil {
		return ApplicationView{}, err
	}
	if err := tx.Commit(); err != nil {
		return ApplicationView{}, fmt.Errorf("commit withdrawal: %w", err)
	}
	return s.Application(ctx, id, 0)
}

const applicationColumns = `a.id, a.candidate_id, a.subjects, a.status, a.sort_time, a.created_at,
	a.rank, a.basis, a.preference, a.reason, a.decided_at,
	(SELECT array_agg(o.slot_id ORDER BY o.preference, o.half) FROM application_options o WHERE o.application_id = a.id) AS slots,
	(SELECT array_agg(o.preference ORDER BY o.preference, o.half) FROM application_options o WHERE o.application_id = a.id) AS prefs,
	(SELECT min(s.booking_closes_at) FROM application_options o JOIN slots s ON s.id = o.slot_id WHERE o.application_id = a.id) AS closes_at`

type applicationRow struct {
	ID          int64         `db:"id"`
	CandidateID int64         `db:"candidate_id"`
	Subjects    pq.Int64Array `db:"subjects"`
	Status      string        `db:"status"`
	SortTime    time.Time     `db:"sort_time"`
	CreatedAt   time.Time     `db:"created_at"`
	Rank        *int          `db:"rank"`
	Basis       *string       `db:"basis"`
	Preference  *int          `db:"preference"`
	Reason      *string       `db:"reason"`
	DecidedAt   *time.Time    `db:"decided_at"`
	Slots       pq.Int64Array `db:"slots"`
	Prefs       pq.Int64Array `db:"prefs"`
	ClosesAt    time.Time     `db:"closes_at"`
}

func (r applicationRow) view() ApplicationView {
	v := ApplicationView{ID: r.ID, Kind: "application", CandidateID: r.CandidateID, Status: r.Status,
		SortTime: r.SortTime.In(Shanghai), CreatedAt: r.CreatedAt.In(Shanghai),
		Rank: r.Rank, Basis: r.Basis, Preference: r.Preference, Reason: r.Reason, ClosesAt: r.ClosesAt.In(Shanghai),
		Preferences: [][]int64{}}
	for _, s := range r.Subjects {
		v.Subjects = append(v.Subjects, int(s))
	}
	for i, id := range r.Slots {
		p := int(r.Prefs[i])
		for len(v.Preferences) < p {
			v.Preferences = append(v.Preferences, nil)
		}
		v.Preferences[p-1] = append(v.Preferences[p-1], id)
	}
	if r.DecidedAt != nil {
		t := r.DecidedAt.In(Shanghai)
		v.DecidedAt = &t
	}
	if r.Reason != nil {
		pref := 0
		if r.Preference != nil {
			pref = *r.Preference
		}
		v.ReasonZH, v.ReasonEN = ReasonWords(*r.Reason, pref)
	}
	return v
}

// Application returns one application; a candidate (owner != 0) sees only their own.
func (s *Store) Application(ctx context.Context, id, owner int64) (ApplicationView, error) {
	var row applicationRow
	err := s.db.GetContext(ctx, &row, `SELECT `+applicationColumns+` FROM applications a
		WHERE a.id = $1 AND ($2::bigint = 0 OR a.candidate_id = $2::bigint)`, id, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return ApplicationView{}, refusal.ErrNotFound
	}
	if err != nil {
		return ApplicationView{}, fmt.Errorf("get application %d: %w", id, err)
	}
	return row.view(), nil
}

// Applications lists a candidate's applications, newest first.
func (s *Store) Applications(ctx context.Context, candidateID int64) ([]ApplicationView, error) {
	return selectApplications(ctx, s.db, `SELECT `+applicationColumns+` FROM applications a
		WHERE a.candidate_id = $1 ORDER BY a.created_at DESC, a.id DESC`, candidateID)
}

func selectApplications(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) ([]ApplicationView, error) {
	var rows []applicationRow
	if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	out := make([]ApplicationView, len(rows))
	for i, r := range rows {
		out[i] = r.view()
	}
	return out, nil
}

// RankedEntry is one application of a ranked slot as the scheduler sees it.
type RankedEntry struct {
	ApplicationID int64   `db:"id" json:"application_id"`
	CandidateID   int64   `db:"candidate_id" json:"candidate_id"`
	IDNumber      string  `db:"id_number" json:"id_number"` // masked
	Status        string  `db:"status" json:"status"`
	Rank          *int    `db:"rank" json:"rank"`
	Basis         *string `db:"basis" json:"basis"`
	Preference    *int    `db:"preference" json:"preference"`
	// Placed says whether the seat given is in this slot.
	Placed   bool    `db:"placed" json:"placed"`
	Reason   *string `db:"reason" json:"reason"`
	ReasonZH string  `db:"-" json:"reason_zh"`
	ReasonEN string  `db:"-" json:"reason_en"`
}

// BasisCode is the basis of e's rank (RA-PRIORITY or RA-SORT), "" before
// allocation.
func (e RankedEntry) BasisCode() string {
	if e.Basis == nil {
		return ""
	}
	return *e.Basis
}

// RankedList lists the applications listing slot id, best rank first (the
// undecided last, by id), with ID numbers masked.
func (s *Store) RankedList(ctx context.Context, slotID int64) ([]RankedEntry, error) {
	if _, err := s.Slot(ctx, slotID); err != nil {
		return nil, err
	}
	es := []RankedEntry{}
	err := s.db.SelectContext(ctx, &es, `
		SELECT a.id, a.candidate_id, c.id_number, a.status, a.rank, a.basis, a.preference, a.reason,
		       EXISTS (SELECT FROM application_options p WHERE p.application_id = a.id
		               AND p.preference = a.preference AND p.slot_id = $1) AS placed
		FROM applications a JOIN candidates c ON c.id = a.candidate_id
		WHERE a.id IN (SELECT application_id FROM application_options WHERE slot_id = $1)
		  AND a.status <> 'withdrawn'
		ORDER BY a.rank NULLS LAST, a.id`, slotID)
	if err != nil {
		return nil, fmt.Errorf("ranked list of slot %d: %w", slotID, err)
	}
	for i := range es {
		es[i].IDNumber = MaskIDNumber(es[i].IDNumber)
		if es[i].Reason != nil {
			pref := 0
			if es[i].Preference != nil {
				pref = *es[i].Preference
			}
			es[i].ReasonZH, es[i].ReasonEN = ReasonWords(*es[i].Reason, pref)
		}
	}
	return es, nil
}
