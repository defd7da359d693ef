package scheduling

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/audit"
	"examd/internal/notify"
	"examd/internal/pg"
	"examd/internal/refusal"

	"github.com/lib/pq"
)

// BookRequest asks for one slot, a subject 2 and a subject 3 slot of one
// day (BK-COMBINED), or a subject 2, 3 and 4 slot of one day (BK-PACKAGE),
// for a candidate.
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

// Booked is what a booking request made: its bookings, whether they were
// made now (false: an idempotent repeat), and the candidate's notice
// (IS-NOTICE, 一次性告知: what to bring, with {fee} still in the texts; see
// withFee), read by the booking's own statement.
type Booked struct {
	Bookings []Booking
	Fresh    bool
	Notice   []NoticeItem
}

// Book books the requested slots in one transaction: both or neither.
//
// The transaction takes four statements, BEGIN and COMMIT included (it took
// ten before, eleven for a combined pair, with an idempotency key): one that
// locks the candidate's row and reads all that eligibility needs
// (readForBooking), the rules checked in Go, and one that writes the
// idempotency key, the bookings, the seats and the audit entries
// (writeBooking).
func (s *Store) Book(ctx context.Context, r BookRequest, now time.Time) (Booked, error) {
	for try := 1; ; try++ {
		b, err := s.book(ctx, r, now)
		// Two combined bookings may still deadlock on their slot rows; the
		// loser was rolled back whole and simply goes again. A history read
		// before a concurrent booking of the same candidate committed goes
		// again too (it is seen at once the second time).
		if (pg.Retryable(err) || errors.Is(err, errStaleHistory)) && try < 5 {
			continue
		}
		return b, err
	}
}

// errStaleHistory says that the candidate's history changed between the read
// and the write of a booking: the transaction is rolled back and runs again.
var errStaleHistory = errors.New("the candidate's history changed while booking")

func (s *Store) book(ctx context.Context, r BookRequest, now time.Time) (Booked, error) {
	if err := r.Validate(); err != nil {
		return Booked{}, err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return Booked{}, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	w, key, err := prepareBooking(ctx, tx, r, now)
	if err != nil {
		return Booked{}, err
	}
	if key != nil {
		tx.Rollback()
		bs, err := s.replay(ctx, r, *key)
		return Booked{Bookings: bs, Notice: w.notice}, err
	}
	claimed, err := writeBooking(ctx, tx, w, r.IdempotencyKey, r.fingerprint(), now)
	if err != nil {
		return Booked{}, err
	}
	if !claimed {
		// A copy of this request committed the key after our read: it
		// waited on the key's unique index, and now answers as a repeat.
		tx.Rollback()
		bs, err := s.replay(ctx, r, idempotencyKey{})
		return Booked{Bookings: bs, Notice: w.notice}, err
	}
	if err := tx.Commit(); err != nil {
		return Booked{}, fmt.Errorf("commit booking: %w", err)
	}
	return Booked{Bookings: w.bookings, Fresh: true, Notice: w.notice}, nil
}

// prepareBooking reads what r needs and judges it by the rules, returning
// the bookings to write, or the request's idempotency key when a request
// committed it (then nothing is judged but the notice is read).
func prepareBooking(ctx context.Context, tx *sqlx.Tx, r BookRequest, now time.Time) (booking, *idempotencyKey, error) {
	st, err := readForBooking(ctx, tx, r)
	if err != nil || st.key != nil {
		return booking{notice: st.notice}, st.key, err
	}
	w, err := st.judge(r, now)
	if _, refused := refusal.As(err); refused {
		// The history was read under the candidate's lock, but when the lock
		// had to be waited for, with the statement's older snapshot: a
		// refusal is judged again on a fresh read (the lock is held now).
		if st, err = readForBooking(ctx, tx, r); err != nil || st.key != nil {
			return booking{notice: st.notice}, st.key, err
		}
		w, err = st.judge(r, now)
	}
	return w, nil, err
}

// bookingState is what readForBooking found.
type bookingState struct {
	candidate Candidate
	slots     []Slot
	// ids are booking ids drawn for the bookings to make, one per slot.
	ids []int64
	// at is the transaction's start, the bookings' created_at.
	at time.Time
	// digest sums up the candidate's history, for writeBooking to check that
	// it has not changed since.
	digest string
	// key is the request's idempotency key, when a request committed it.
	key *idempotencyKey
	// notice is the candidate's notice (IS-NOTICE), for the answer.
	notice []NoticeItem
}

// idempotencyKey is a committed idempotency key.
type idempotencyKey struct {
	Request    string        `db:"request"`
	BookingIDs pq.Int64Array `db:"booking_ids"`
}

// historyDigest sums up the history of candidate $1: every booking not
// cancelled, with its status.
const historyDigest = `(SELECT md5(coalesce(string_agg(h.id::text || h.status, ',' ORDER BY h.id), ''))
	FROM bookings h WHERE h.candidate_id = $1 AND h.status <> 'cancelled')`

// readForBooking locks the candidate's row and reads, in one statement, the
// candidate with class, grant and history, the requested slots, the request's
// idempotency key and a booking id per slot. An unknown candidate is not
// found, an unknown slot a bad field.
func readForBooking(ctx context.Context, tx *sqlx.Tx, r BookRequest) (bookingState, error) {
	var row struct {
		LicenceClass
		PermitIssuedOn   time.Time      `db:"permit_issued_on"`
		PermitExpiresOn  time.Time      `db:"permit_expires_on"`
		Subject1PassedOn *time.Time     `db:"subject1_passed_on"`
		HoldsCarLicence  bool           `db:"holds_car_licence"`
		Reason           *string        `db:"reason"`
		Needs            pq.StringArray `db:"needs"`
		HoldsPackage     bool           `db:"holds_package"`
		History          []byte         `db:"history"`
		Slots            []byte         `db:"slots"`
		Digest           string         `db:"digest"`
		IDs              pq.Int64Array  `db:"ids"`
		At               time.Time      `db:"at"`
		KeyRequest       *string        `db:"key_request"`
		KeyBookings      pq.Int64Array  `db:"key_bookings"`
		Notice           []byte         `db:"notice"`
	}
	// The slots' JSON keys are Slot's field names, which encoding/json
	// matches; exam days go as text, read back as the UTC midnights Day gives.
	err := tx.GetContext(ctx, &row, readBookingQuery, r.CandidateID, pq.Array(r.SlotIDs), r.By, r.IdempotencyKey)
	if errors.Is(err, sql.ErrNoRows) {
		return bookingState{}, refusal.ErrNotFound
	}
	if err != nil {
		return bookingState{}, fmt.Errorf("read for booking of candidate %d: %w", r.CandidateID, err)
	}
	st := bookingState{ids: row.IDs, at: row.At, digest: row.Digest}
	if row.KeyRequest != nil {
		st.key = &idempotencyKey{Request: *row.KeyRequest, BookingIDs: row.KeyBookings}
	}
	c := Candidate{
		ID: r.CandidateID, LicenceClass: row.LicenceClass,
		PermitIssuedOn: row.PermitIssuedOn, PermitExpiresOn: row.PermitExpiresOn,
		Subject1PassedOn: row.Subject1PassedOn, HoldsCarLicence: row.HoldsCarLicence,
		HoldsPackage: row.HoldsPackage,
	}
	if row.Reason != nil {
		c.Priority = &Grant{Reason: *row.Reason, Needs: []string(row.Needs)}
	}
	var history []struct {
		Subject int    `json:"subject"`
		Status  string `json:"status"`
		Day     string `json:"day"`
	}
	if err := json.Unmarshal(row.History, &history); err != nil {
		return bookingState{}, fmt.Errorf("history of candidate %d: %w", r.CandidateID, err)
	}
	for _, h := range history {
		day, err := time.Parse(time.DateOnly, h.Day)
		if err != nil {
			return bookingState{}, fmt.Errorf("history of candidate %d: %w", r.CandidateID, err)
		}
		c.History = append(c.History, PastBooking{Subject: h.Subject, Status: h.Status, ExamDay: day})
	}
	st.candidate = c
	if err := json.Unmarshal(row.Slots, &st.slots); err != nil {
		return bookingState{}, fmt.Errorf("load slots: %w", err)
	}
	if st.notice, err = decodeNotice(row.Notice); err != nil {
		return bookingState{}, fmt.Errorf("notice for candidate %d: %w", r.CandidateID, err)
	}
	if len(st.slots) != len(r.SlotIDs) {
		return bookingState{}, invalid("slot_ids", "no such slot")
	}
	return st, nil
}

// booking is a booking about to be written: its rows, its seats and its
// audit entries.
type booking struct {
	candidate Candidate
	slots     []Slot
	bookings  []Booking
	by        int64
	digest    string
	// note, when set, is the candidate's note instead of the booking
	// confirmed one (a waitlist's offer).
	note *notify.Note
	// notice is the candidate's notice, as readForBooking read it.
	notice []NoticeItem
}

// judge applies the booking rules to what st holds, and returns the
// bookings to write.
func (st bookingState) judge(r BookRequest, now time.Time) (booking, error) {
	c, slots := st.candidate, st.slots
	for _, sl := range slots {
		if sl.Ranked() {
			// RA-*: a ranked slot takes applications (Store.Apply), not bookings.
			return booking{}, ErrRankedSlot
		}
	}
	switch len(slots) {
	case 2:
		a, b, err := CheckCombined(slots[0], slots[1])
		if err != nil {
			return booking{}, err
		}
		slots = []Slot{a, b}
	case 3:
		var err error
		if slots, err = CheckPackage(c, slots, now); err != nil {
			return booking{}, err
		}
	}
	if len(slots) != 3 {
		for _, sl := range slots {
			if err := CheckBooking(c, sl, now); err != nil {
				return booking{}, fmt.Errorf("slot %d: %w", sl.ID, err)
			}
		}
	}
	bs := make([]Booking, len(slots))
	for i, sl := range slots {
		bs[i] = Booking{
			ID: st.ids[i], CandidateID: c.ID, SlotID: sl.ID, Subject: sl.Subject,
			Status: StatusConfirmed, Lane: c.Lane(),
			StartsAt: sl.StartsAt, EndsAt: sl.EndsAt, VenueID: sl.VenueID,
			ExamDay: sl.Day(), CreatedAt: st.at,
		}
	}
	if len(bs) >= 2 { // BK-COMBINED: the halves point at each other
		bs[0].PairID, bs[1].PairID = &bs[1].ID, &bs[0].ID
	}
	if len(bs) == 3 { // BK-PACKAGE: subject 4 points at the pair's subject 2
		bs[2].PairID = &bs[0].ID
	}
	inShanghai(bs)
	return booking{candidate: c, slots: slots, bookings: bs, by: r.By, digest: st.digest, notice: st.notice}, nil
}

// writeBooking writes w in one statement: the idempotency key (when key is
// set), the bookings, a seat in each slot and the audit entries. It reports
// false when a copy of the request committed the key first, writing
// nothing; it refuses with ErrSlotFull when a slot has no seat for the
// candidate, and answers errStaleHistory when the candidate's history is no
// longer what w was judged on. On any of these the caller rolls back.
func writeBooking(ctx context.Context, tx *sqlx.Tx, w booking, key, fingerprint string, now time.Time) (bool, error) {
	var ids, slotIDs, subjects, pairs []int64
	var days []string
	entries := make([]audit.Entry, len(w.bookings))
	for i, b := range w.bookings {
		ids = append(ids, b.ID)
		slotIDs = append(slotIDs, b.SlotID)
		subjects = append(subjects, int64(b.Subject))
		days = append(days, b.ExamDay.Format(time.DateOnly))
		var pair int64
		if b.PairID != nil {
			pair = *b.PairID
		}
		pairs = append(pairs, pair)
		entries[i] = audit.Entry{Actor: audit.User(w.by), Action: "booking.created",
			Subject: fmt.Sprintf("booking:%d", b.ID), After: b}
	}
	es, err := audit.NewEntries(entries...)
	if err != nil {
		return false, err
	}
	venues := map[int64]string{}
	for _, sl := range w.slots {
		venues[sl.VenueID] = sl.VenueName
	}
	note := bookedNote(w.candidate.ID, w.by, w.bookings, venues)
	if w.note != nil {
		note = *w.note
	}
	notes, err := notify.NewBatch(note)
	if err != nil {
		return false, err
	}
	// The key (when there is one) is claimed first: a copy of the request in flight makes this
	// statement wait on the key's unique index until it commits (then
	// nothing is written and the request replays) or rolls back. The
	// bookings are written only with the key claimed and the history as
	// judged. The seats of two or three slots are locked in slot id order
	// first, so that two combined bookings of one pair cannot deadlock; a
	// single slot's seat is taken by the conditional UPDATE alone (locking
	// the hot row first, then updating it, cost a quarter of the rush's
	// transactions per second); a seat is taken only from a slot still
	// instant, as the UPDATE finds it once it holds the row (a scheduler's
	// switch to ranked, SetAllocation, that committed after the read is
	// seen here and refused as slot_full); PL-RESERVE: until the release
	// job marked the reserve released (reserve_released_at, after offering
	// the seats to the waitlist) a regular candidate may not take the last
	// priority_reserved seats; the CHECK on booked is the last guard. The bookings' foreign key
	// to the slot is checked at commit (migration 00004).
	audited, auditArgs := es.Insert(11, writeAuditedWhere)
	args := append([]any{w.candidate.ID, pq.Array(ids), pq.Array(slotIDs), pq.Array(subjects), pq.Array(days),
		pq.Array(pairs), w.candidate.Lane(), w.by, key, fingerprint}, auditArgs...)
	args = append(args, w.digest, w.candidate.Priority != nil, now)
	// The note is written by the same statement, when the bookings are: no
	// round trip more on the booking's measured path.
	noted, noteArgs := notes.Insert("noted", 20, writeAuditedWhere)
	args = append(args, noteArgs...)
	var res struct {
		Fresh   bool `db:"fresh"`
		Claimed bool `db:"claimed"`
		Taken   int  `db:"taken"`
	}
	err = tx.GetContext(ctx, &res, writeBookingQuery(audited, noted), args...)
	if err != nil {
		// BK-ONE is guarded by the partial unique index bookings_one_active.
		return false, dbError(err, "write booking")
	}
	switch {
	case !res.Fresh:
		return false, errStaleHistory
	case !res.Claimed:
		return false, nil
	case res.Taken != len(w.slots):
		return false, ErrSlotFull
	}
	return true, nil
}

// replay answers a repeated request with the bookings its key made: k as
// read already, or read now when k is empty.
func (s *Store) replay(ctx context.Context, r BookRequest, k idempotencyKey) ([]Booking, error) {
	if k.Request == "" {
		err := s.db.GetContext(ctx, &k, `
			SELECT request, booking_ids FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
			r.By, r.IdempotencyKey)
		if err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
	}
	if k.Request != r.fingerprint() {
		return nil, ErrIdempotencyReused
	}
	return bookingsByID(ctx, s.db, k.BookingIDs)
}

// LoadCandidate loads the candidate with class, grant and history, as the
// booking rules see them, without locking.
func LoadCandidate(ctx context.Context, q sqlx.QueryerContext, id int64) (Candidate, error) {
	var row struct {
		LicenceClass
		PermitIssuedOn   time.Time      `db:"permit_issued_on"`
		PermitExpiresOn  time.Time      `db:"permit_expires_on"`
		Subject1PassedOn *time.Time     `db:"subject1_passed_on"`
		HoldsCarLicence  bool           `db:"holds_car_licence"`
		Reason           *string        `db:"reason"`
		Needs            pq.StringArray `db:"needs"`
		HoldsPackage     bool           `db:"holds_package"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed,
		       c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence,
		       g.reason, g.needs,
		       EXISTS (SELECT FROM package_grants p WHERE p.candidate_id = c.id AND p.revoked_at IS NULL) AS holds_package
		FROM candidates c
		JOIN licence_classes lc ON lc.code = c.licence_class
		LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL
		WHERE c.id = $1`, id)
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
		HoldsPackage: row.HoldsPackage,
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

// BookedWith returns the bookings booked in one request with b (BookedWith):
// none, the other half of a combined exam, or the two others of an
// all-subjects day, in subject order.
func (s *Store) BookedWith(ctx context.Context, b Booking) ([]Booking, error) {
	ids, err := pairedWith(ctx, s.db, b)
	if err != nil || len(ids) == 0 {
		return []Booking{}, err
	}
	return bookingsByID(ctx, s.db, ids)
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
// back at once, to the waitlist first. It returns the bookings it cancelled.
func (s *Store) Cancel(ctx context.Context, r CancelRequest, now time.Time) ([]Booking, error) {
	for try := 1; ; try++ {
		bs, err := s.cancel(ctx, r, now)
		// The refill books waiting candidates while holding the slot: it
		// may deadlock with one of them booking; the loser goes again.
		if pg.Retryable(err) && try < 5 {
			continue
		}
		return bs, err
	}
}

func (s *Store) cancel(ctx context.Context, r CancelRequest, now time.Time) ([]Booking, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	bs, err := s.cancelIn(ctx, tx, r, now)
	if err != nil {
		return nil, err
	}
	if err := s.noteCancelled(ctx, tx, r, bs); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit cancellation: %w", err)
	}
	return bs, nil
}

// noteCancelled tells the candidate of the cancellation of bs, in tx: who
// cancelled, and the staff's reason.
func (s *Store) noteCancelled(ctx context.Context, tx *sqlx.Tx, r CancelRequest, bs []Booking) error {
	if len(bs) == 0 {
		return nil
	}
	venues, err := venueNames(ctx, tx, bs)
	if err != nil {
		return err
	}
	return s.notes.Add(ctx, tx, cancelledNote(bs[0].CandidateID, r.By, bs, venues, r.Reason))
}

// venueNames returns the names of the venues of bs.
func venueNames(ctx context.Context, q sqlx.QueryerContext, bs []Booking) (map[int64]string, error) {
	ids := make([]int64, len(bs))
	for i, b := range bs {
		ids[i] = b.VenueID
	}
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, name FROM venues WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("venues of %d bookings: %w", len(bs), err)
	}
	names := make(map[int64]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, nil
}

// cancelIn cancels, in tx, the booking of r (and its pair when asked), frees
// their seats and records the cancellation: Cancel's work, that Move shares.
func (s *Store) cancelIn(ctx context.Context, tx *sqlx.Tx, r CancelRequest, now time.Time) ([]Booking, error) {
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
		group, err := pairedWith(ctx, tx, b)
		if err != nil {
			return nil, err
		}
		ids = append(ids, group...)
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
	// The freed seats go to the waitlist in this transaction.
	if err := s.seatsFreed(ctx, tx, bs, now); err != nil {
		return nil, err
	}
	return bs, nil
}

// pairedWith returns the other bookings booked in one request with b: the
// other half of a combined pair (BK-COMBINED), or the two others of an
// all-subjects day (BK-PACKAGE), whose subject 2 and 3 point at each other
// and whose subject 4 points at the subject 2.
func pairedWith(ctx context.Context, q sqlx.QueryerContext, b Booking) ([]int64, error) {
	ids := []int64{}
	if b.PairID == nil {
		return ids, nil
	}
	err := sqlx.SelectContext(ctx, q, &ids, `
		SELECT id FROM bookings
		WHERE id <> $1 AND (id = $2 OR pair_id = $1 OR pair_id = $2)
		ORDER BY subject, id`, b.ID, *b.PairID)
	if err != nil {
		return nil, fmt.Errorf("bookings paired with %d: %w", b.ID, err)
	}
	return ids, nil
}

// writeAuditedWhere is when the write inserts its audit rows: when it
// inserted the bookings.
const writeAuditedWhere = "EXISTS (SELECT FROM ins)"

// readBookingQuery is readForBooking's statement: $1 the candidate, $2 the
// slots, $3 and $4 the idempotency key's user and key.
const readBookingQuery = `
		SELECT lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed,
		       c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence,
		       g.reason, g.needs,
		       EXISTS (SELECT FROM package_grants p WHERE p.candidate_id = c.id AND p.revoked_at IS NULL) AS holds_package,
		       (SELECT coalesce(json_agg(json_build_object('subject', h.subject, 'status', h.status, 'day', h.exam_day::text)), '[]')
		        FROM bookings h WHERE h.candidate_id = c.id AND h.status <> 'cancelled') AS history,
		       (SELECT coalesce(json_agg(json_build_object('ID', s.id, 'VenueID', s.venue_id, 'Subject', s.subject,
		                'LicenceClass', s.licence_class, 'StartsAt', s.starts_at, 'EndsAt', s.ends_at,
		                'Capacity', s.capacity, 'PriorityReserved', s.priority_reserved,
		                'ReserveReleaseAt', s.reserve_release_at, 'BookingOpensAt', s.booking_opens_at,
		                'BookingClosesAt', s.booking_closes_at, 'AdaptedVehicle', s.adapted_vehicle,
		                'Booked', s.booked, 'VenueStepFree', v.step_free, 'Allocation', s.allocation, 'VenueName', v.name) ORDER BY s.starts_at), '[]')
		        FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = ANY($2)) AS slots,
		       ` + historyDigest + ` AS digest,
		       ARRAY(SELECT nextval('bookings_id_seq') FROM generate_series(1, cardinality($2::bigint[]))) AS ids,
		       now() AS at,
		       k.request AS key_request, k.booking_ids AS key_bookings,
		       ` + noticeJSON + ` AS notice
		FROM candidates c
		JOIN licence_classes lc ON lc.code = c.licence_class
		LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL
		LEFT JOIN idempotency_keys k ON k.user_id = $3 AND k.key = $4 AND $4 <> ''
		WHERE c.id = $1
		FOR UPDATE OF c`

// writeBookingQuery is writeBooking's statement, with audited the INSERT of
// its audit rows (audit.Entries.Insert from $11) and noted the CTEs of the
// candidate's note (notify.Batch.Insert from $20).
func writeBookingQuery(audited, noted string) string {
	return `
		WITH ok AS (SELECT ` + historyDigest + ` = $17 AS fresh),
		claim AS (
			INSERT INTO idempotency_keys (user_id, key, request, booking_ids)
			SELECT $8, $9, $10, $2 WHERE $9::text <> ''
			ON CONFLICT (user_id, key) DO NOTHING
			RETURNING true),
		claimed AS (SELECT WHERE $9::text = '' UNION ALL SELECT FROM claim),
		ins AS (
			INSERT INTO bookings (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id)
			SELECT n.id, $1, n.slot_id, n.subject, n.exam_day, $7, $8, nullif(n.pair_id, 0)
			FROM unnest($2::bigint[], $3::bigint[], $4::smallint[], $5::date[], $6::bigint[])
			     AS n (id, slot_id, subject, exam_day, pair_id)
			WHERE (SELECT fresh FROM ok) AND EXISTS (SELECT FROM claimed)
			RETURNING id),
		locked AS (
			SELECT id FROM slots WHERE cardinality($3::bigint[]) > 1 AND id = ANY($3) AND EXISTS (SELECT FROM ins)
			ORDER BY id FOR NO KEY UPDATE),
		seats AS (
			UPDATE slots SET booked = booked + 1
			WHERE id = ANY($3) AND EXISTS (SELECT FROM ins) AND allocation = 'instant'
			  AND (cardinality($3::bigint[]) = 1 OR id IN (SELECT id FROM locked))
			  AND booked < capacity - CASE WHEN $18 OR reserve_released_at <= $19 THEN 0 ELSE priority_reserved END
			RETURNING slots.id),
		audited AS (` + audited + `)` + noted + `
		SELECT (SELECT fresh FROM ok) AS fresh, EXISTS (SELECT FROM claimed) AS claimed,
		       (SELECT count(*) FROM seats) AS taken`
}
