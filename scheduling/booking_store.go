package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/refusal"

	"github.com/lib/pq"
)

// BookRequest asks for one slot, or a subject 2 and a subject 3 slot of one
// day (BK-COMBINED), for a candidate.
type BookRequest struct {
	CandidateID int64
	SlotIDs     []int64
	// By is the user making the booking: the candidate or a scheduler.
	By int64
	// IdempotencyKey, when set, makes a repeated request answer with the
	// bookings of the first.
	IdempotencyKey string
}

// fingerprint identifies the request behind an idempotency key.
func (r BookRequest) fingerprint() string {
	ids := slices.Clone(r.SlotIDs)
	slices.Sort(ids)
	parts := []string{strconv.FormatInt(r.CandidateID, 10)}
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ":")
}

// laneOnDay is the lane of booking b in slot s as PL-ORDER applies it: the
// priority grant in force at the slot's end, or now while the slot has not
// ended, whatever the lane was when the candidate booked. (bookings.lane
// keeps the lane at booking time, which PL-RESERVE's seat count used.)
const laneOnDay = `CASE WHEN EXISTS (
		SELECT 1 FROM priority_grants g WHERE g.candidate_id = b.candidate_id
		  AND g.granted_at <= least(now(), s.ends_at)
		  AND (g.revoked_at IS NULL OR g.revoked_at > least(now(), s.ends_at)))
	THEN 'priority' ELSE 'regular' END`

const bookingColumns = `b.id, b.candidate_id, b.slot_id, b.subject, b.status, ` + laneOnDay + ` AS lane, b.pair_id,
	s.starts_at, s.ends_at, s.venue_id, b.exam_day, b.created_at`

// Book books the requested slots in one transaction: both or neither. The
// candidate's row is locked so that their eligibility is judged on a history
// nobody else is changing; the seat is taken by a conditional update of the
// slot, made last so that the slot's row lock is held for the commit. It reports
// whether the bookings were made now (false: an idempotent repeat).
func (s *Store) Book(ctx context.Context, r BookRequest, now time.Time) ([]Booking, bool, error) {
	for try := 1; ; try++ {
		bs, fresh, err := s.book(ctx, r, now)
		// Two combined bookings may still deadlock on their slot rows; the
		// loser was rolled back whole and simply goes again.
		if pg.Retryable(err) && try < 3 {
			continue
		}
		return bs, fresh, err
	}
}

func (s *Store) book(ctx context.Context, r BookRequest, now time.Time) ([]Booking, bool, error) {
	if len(r.SlotIDs) != 1 && len(r.SlotIDs) != 2 {
		return nil, false, invalid("slot_ids", "one slot, or two for the combined exam")
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	if r.IdempotencyKey != "" {
		// The first request inserts the key; a copy arriving at once waits
		// here on the key's unique index until the first commits (then it
		// replays) or rolls back (then it books).
		var ours bool
		err := tx.GetContext(ctx, &ours, `
			INSERT INTO idempotency_keys (user_id, key, request) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, key) DO NOTHING
			RETURNING true`, r.By, r.IdempotencyKey, r.fingerprint())
		if errors.Is(err, sql.ErrNoRows) {
			tx.Rollback()
			bs, err := s.replay(ctx, r)
			return bs, false, err
		}
		if err != nil {
			return nil, false, fmt.Errorf("claim idempotency key: %w", err)
		}
	}

	c, slots, bs, err := placeBookings(ctx, tx, r, now)
	if err != nil {
		return nil, false, err
	}
	if r.IdempotencyKey != "" {
		var ids []int64
		for _, b := range bs {
			ids = append(ids, b.ID)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE idempotency_keys SET booking_ids = $3 WHERE user_id = $1 AND key = $2`,
			r.By, r.IdempotencyKey, pq.Array(ids)); err != nil {
			return nil, false, fmt.Errorf("record idempotency key: %w", err)
		}
	}
	if err := takeSeats(ctx, tx, c, slots, now); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, fmt.Errorf("commit booking: %w", err)
	}
	return bs, true, nil
}

// placeBookings checks the request against the candidate's history and the
// slots (locking the candidate's row) and inserts the bookings, with their
// audit entries, in tx. The seats are not taken yet: takeSeats does that,
// last.
func placeBookings(ctx context.Context, tx *sqlx.Tx, r BookRequest, now time.Time) (Candidate, []Slot, []Booking, error) {
	c, err := lockCandidate(ctx, tx, r.CandidateID)
	if err != nil {
		return c, nil, nil, err
	}
	slots, err := bookableSlots(ctx, tx, r.SlotIDs)
	if err != nil {
		return c, nil, nil, err
	}
	if len(slots) == 2 {
		a, b, err := CheckCombined(slots[0], slots[1])
		if err != nil {
			return c, nil, nil, err
		}
		slots = []Slot{a, b}
	}
	for _, sl := range slots {
		if err := CheckBooking(c, sl, now); err != nil {
			return c, nil, nil, fmt.Errorf("slot %d: %w", sl.ID, err)
		}
	}

	bs, err := insertBookings(ctx, tx, c, slots, r.By)
	if err != nil {
		return c, nil, nil, err
	}
	for _, b := range bs {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "booking.created",
			Subject: fmt.Sprintf("booking:%d", b.ID), After: b}); err != nil {
			return c, nil, nil, err
		}
	}
	return c, slots, bs, nil
}

// takeSeats takes a seat in each of slots for candidate c, or refuses with
// ErrSlotFull when one is full.
func takeSeats(ctx context.Context, tx *sqlx.Tx, c Candidate, slots []Slot, now time.Time) error {
	ids := make([]int64, len(slots))
	for i, sl := range slots {
		ids[i] = sl.ID
	}
	// The seats are taken last, so that the slot rows, where every booking
	// of a slot meets, stay locked for the commit alone (the bookings'
	// foreign key to the slot is checked at commit, migration 00004).
	// PL-RESERVE: before the release time a regular candidate may not take
	// the last priority_reserved seats; the CHECK on booked is the last
	// guard. The rows are locked in id order, so that two combined bookings
	// of one pair cannot deadlock.
	lane := c.Priority != nil
	var taken []int64
	err := tx.SelectContext(ctx, &taken, `
		WITH locked AS (SELECT id FROM slots WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE)
		UPDATE slots SET booked = booked + 1
		FROM locked
		WHERE slots.id = locked.id
		  AND booked < capacity - CASE WHEN $2 OR $3 >= reserve_release_at THEN 0 ELSE priority_reserved END
		RETURNING slots.id`, pq.Array(ids), lane, now)
	if err != nil {
		return fmt.Errorf("take seats: %w", err)
	}
	if len(taken) != len(slots) {
		return ErrSlotFull
	}
	return nil
}

// replay answers a repeated request with the bookings its key made.
func (s *Store) replay(ctx context.Context, r BookRequest) ([]Booking, error) {
	var k struct {
		Request    string        `db:"request"`
		BookingIDs pq.Int64Array `db:"booking_ids"`
	}
	err := s.db.GetContext(ctx, &k, `
		SELECT request, booking_ids FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
		r.By, r.IdempotencyKey)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	if k.Request != r.fingerprint() {
		return nil, ErrIdempotencyReused
	}
	return bookingsByID(ctx, s.db, k.BookingIDs)
}

// lockCandidate locks and loads the candidate with class, grant and history.
func lockCandidate(ctx context.Context, tx *sqlx.Tx, id int64) (Candidate, error) {
	return loadCandidate(ctx, tx, id, " FOR UPDATE OF c")
}

// LoadCandidate loads the candidate with class, grant and history, as the
// booking rules see them, without locking.
func LoadCandidate(ctx context.Context, q sqlx.QueryerContext, id int64) (Candidate, error) {
	return loadCandidate(ctx, q, id, "")
}

func loadCandidate(ctx context.Context, q sqlx.QueryerContext, id int64, lock string) (Candidate, error) {
	var row struct {
		LicenceClass
		PermitIssuedOn   time.Time      `db:"permit_issued_on"`
		PermitExpiresOn  time.Time      `db:"permit_expires_on"`
		Subject1PassedOn *time.Time     `db:"subject1_passed_on"`
		HoldsCarLicence  bool           `db:"holds_car_licence"`
		Reason           *string        `db:"reason"`
		Needs            pq.StringArray `db:"needs"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed,
		       c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence,
		       g.reason, g.needs
		FROM candidates c
		JOIN licence_classes lc ON lc.code = c.licence_class
		LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL
		WHERE c.id = $1`+lock, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Candidate{}, refusal.ErrNotFound
	}
	if err != nil {
		return Candidate{}, fmt.Errorf("load candidate %d: %w", id, err)
	}
	c := Candidate{
		ID: id, LicenceClass: row.LicenceClass,
		PermitIssuedOn: row.PermitIssuedOn, PermitExpiresOn: row.PermitExpiresOn,
		Subject1PassedOn: row.Subject1PassedOn, HoldsCarLicence: row.HoldsCarLicence,
	}
	if row.Reason != nil {
		c.Priority = &Grant{Reason: *row.Reason, Needs: []string(row.Needs)}
	}
	err = sqlx.SelectContext(ctx, q, &c.History, `
		SELECT subject, status, exam_day FROM bookings
		WHERE candidate_id = $1 AND status <> 'cancelled'`, id)
	if err != nil {
		return Candidate{}, fmt.Errorf("history of candidate %d: %w", id, err)
	}
	return c, nil
}

// bookableSlots loads the requested slots; an unknown id is a bad field.
func bookableSlots(ctx context.Context, tx *sqlx.Tx, ids []int64) ([]Slot, error) {
	if len(ids) == 2 && ids[0] == ids[1] {
		return nil, ErrCombinedInvalid
	}
	var slots []Slot
	err := tx.SelectContext(ctx, &slots, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id
		WHERE s.id = ANY($1) ORDER BY s.starts_at`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("load slots: %w", err)
	}
	if len(slots) != len(ids) {
		return nil, invalid("slot_ids", "no such slot")
	}
	return slots, nil
}

// insertBookings writes the bookings in one statement, the halves of a
// combined booking pointing at each other (their ids are drawn first, so
// that each row can name the other), and returns them as the API shows them.
func insertBookings(ctx context.Context, tx *sqlx.Tx, c Candidate, slots []Slot, by int64) ([]Booking, error) {
	var slotIDs, subjects []int64
	var days []string
	for _, sl := range slots {
		slotIDs = append(slotIDs, sl.ID)
		subjects = append(subjects, int64(sl.Subject))
		days = append(days, sl.Day().Format(time.DateOnly))
	}
	var rows []struct {
		ID        int64     `db:"id"`
		SlotID    int64     `db:"slot_id"`
		PairID    *int64    `db:"pair_id"`
		CreatedAt time.Time `db:"created_at"`
	}
	err := tx.SelectContext(ctx, &rows, `
		WITH n AS (
			SELECT nextval('bookings_id_seq') AS id, s.slot_id, s.subject, s.exam_day, s.ord
			FROM unnest($2::bigint[], $3::smallint[], $4::date[]) WITH ORDINALITY AS s (slot_id, subject, exam_day, ord))
		INSERT INTO bookings (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id)
		SELECT n.id, $1, n.slot_id, n.subject, n.exam_day, $5, $6, (SELECT m.id FROM n m WHERE m.ord <> n.ord)
		FROM n ORDER BY n.ord
		RETURNING id, slot_id, pair_id, created_at`,
		c.ID, pq.Array(slotIDs), pq.Array(subjects), pq.Array(days), c.Lane(), by)
	if err != nil {
		// BK-ONE is guarded by the partial unique index bookings_one_active.
		return nil, dbError(err, "insert bookings")
	}
	bs := make([]Booking, 0, len(rows))
	for _, sl := range slots {
		for _, r := range rows {
			if r.SlotID == sl.ID {
				bs = append(bs, Booking{
					ID: r.ID, CandidateID: c.ID, SlotID: sl.ID, Subject: sl.Subject,
					Status: StatusConfirmed, Lane: c.Lane(), PairID: r.PairID,
					StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, VenueID: sl.VenueID,
					ExamDay: sl.Day(), CreatedAt: r.CreatedAt,
				})
			}
		}
	}
	inShanghai(bs)
	return bs, nil
}

func bookingsByID(ctx context.Context, q sqlx.QueryerContext, ids []int64) ([]Booking, error) {
	bs := []Booking{}
	err := sqlx.SelectContext(ctx, q, &bs, `SELECT `+bookingColumns+`
		FROM bookings b JOIN slots s ON s.id = b.slot_id
		WHERE b.id = ANY($1) ORDER BY b.subject, b.id`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("load bookings: %w", err)
	}
	inShanghai(bs)
	return bs, nil
}

// Booking returns one booking. A candidate (owner != 0) sees only their own:
// anyone else's is not found.
func (s *Store) Booking(ctx context.Context, id, owner int64) (Booking, error) {
	var b Booking
	err := s.db.GetContext(ctx, &b, `SELECT `+bookingColumns+`
		FROM bookings b JOIN slots s ON s.id = b.slot_id
		WHERE b.id = $1 AND ($2::bigint = 0 OR b.candidate_id = $2::bigint)`, id, owner)
	if errors.Is(err, sql.ErrNoRows) {
		return b, refusal.ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("get booking %d: %w", id, err)
	}
	b = b.inShanghai()
	return b, nil
}

// Bookings lists a candidate's bookings, newest exam first.
func (s *Store) Bookings(ctx context.Context, candidateID int64) ([]Booking, error) {
	bs := []Booking{}
	err := s.db.SelectContext(ctx, &bs, `SELECT `+bookingColumns+`
		FROM bookings b JOIN slots s ON s.id = b.slot_id
		WHERE b.candidate_id = $1
		ORDER BY s.starts_at DESC, b.id DESC`, candidateID)
	if err != nil {
		return nil, fmt.Errorf("list bookings of %d: %w", candidateID, err)
	}
	inShanghai(bs)
	return bs, nil
}

// CancelRequest asks to cancel a booking (BK-CANCEL).
type CancelRequest struct {
	BookingID int64
	// Owner is the candidate cancelling their own booking; 0 for staff.
	Owner int64
	By    int64
	// WithPair cancels the other half of a combined booking too.
	WithPair bool
	Reason   string
}

// Cancel cancels a booking (and its pair when asked) and gives the seats
// back at once. It returns the bookings it cancelled.
func (s *Store) Cancel(ctx context.Context, r CancelRequest, now time.Time) ([]Booking, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	bs, err := cancelIn(ctx, tx, r, now)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit cancellation: %w", err)
	}
	return bs, nil
}

// cancelIn cancels, in tx, the booking of r (and its pair when asked), frees
// their seats and records the cancellation: Cancel's work, that Move shares.
func cancelIn(ctx context.Context, tx *sqlx.Tx, r CancelRequest, now time.Time) ([]Booking, error) {
	var b Booking
	err := tx.GetContext(ctx, &b, `SELECT `+bookingColumns+`
		FROM bookings b JOIN slots s ON s.id = b.slot_id
		WHERE b.id = $1 AND ($2::bigint = 0 OR b.candidate_id = $2::bigint)
		FOR UPDATE OF b`, r.BookingID, r.Owner)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refusal.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock booking %d: %w", r.BookingID, err)
	}
	b = b.inShanghai()
	if err := CheckCancel(b.Status, b.ExamDay, r.Owner == 0, now); err != nil {
		return nil, err
	}
	ids := []int64{b.ID}
	if r.WithPair && b.PairID != nil {
		ids = append(ids, *b.PairID)
	}
	// The status condition makes the transition once: a pair half that is no
	// longer confirmed (already cancelled or sat) is left as it is.
	var cancelled []struct {
		ID     int64 `db:"id"`
		SlotID int64 `db:"slot_id"`
	}
	err = tx.SelectContext(ctx, &cancelled, `
		UPDATE bookings SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4
		WHERE id = ANY($1) AND status = 'confirmed'
		RETURNING id, slot_id`, pq.Array(ids), now, r.By, r.Reason)
	if err != nil {
		return nil, fmt.Errorf("cancel bookings: %w", err)
	}
	ids, slotIDs := ids[:0], []int64{}
	for _, c := range cancelled {
		ids = append(ids, c.ID)
		slotIDs = append(slotIDs, c.SlotID)
	}
	if _, err := tx.ExecContext(ctx, `
		WITH locked AS (SELECT id FROM slots WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE)
		UPDATE slots SET booked = booked - 1 FROM locked WHERE slots.id = locked.id`, pq.Array(slotIDs)); err != nil {
		return nil, fmt.Errorf("free seats: %w", err)
	}
	bs, err := bookingsByID(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for _, after := range bs {
		before := after
		before.Status = StatusConfirmed
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(r.By), Action: "booking.cancelled",
			Subject: fmt.Sprintf("booking:%d", after.ID), Before: before,
			After: map[string]any{"status": after.Status, "reason": r.Reason}}); err != nil {
			return nil, err
		}
	}
	return bs, nil
}
