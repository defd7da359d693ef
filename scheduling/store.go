package scheduling

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/refusal"

	"examd/internal/auth"
	"examd/internal/notify"
)

// Store keeps venues, candidates, slots and bookings in PostgreSQL. Each
// exported method owns its transaction.
type Store struct {
	db *sqlx.DB
	// notes tells candidates of the decisions made here.
	notes *notify.Notes
}

// NewStore returns a store on db that tells candidates of its decisions
// through notes.
func NewStore(db *sqlx.DB, notes *notify.Notes) *Store {
	return &Store{db: db, notes: notes}
}

// constraintErrors maps the constraints that guard this package's tables
// to the refusals they stand for: the one place where PostgreSQL's errors
// become domain errors.
var constraintErrors = map[string]error{
	"bookings_one_active":           ErrAlreadyBooked, // BK-ONE
	"applications_one_live_2":       ErrAlreadyApplied,
	"applications_one_live_3":       ErrAlreadyApplied,
	"applications_one_live_4":       ErrAlreadyApplied,
	"waitlist_one_live":             ErrWaitlistJoined,
	"candidates_licence_class_fkey": invalid("licence_class", "unknown licence class"),
	"slots_licence_class_fkey":      invalid("licence_class", "unknown licence class"),
	"slots_venue_id_fkey":           invalid("venue_id", "no such venue"),
}

// dbError turns a violated constraint into its domain error, and wraps
// anything else with what was being done.
func dbError(err error, doing string) error {
	if r := pg.Refusal(err, constraintErrors); r != nil {
		return r
	}
	if v, ok := pg.Violated(err); ok && v.Kind == "check" && v.Table == "slots" {
		// A CHECK on a slot's times or seats that NewSlot.Slot let through.
		return invalid("starts_at", "the slot's times or seats are inconsistent")
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// CreateVenue publishes a venue.
func (s *Store) CreateVenue(ctx context.Context, v Venue) (Venue, error) {
	err := s.db.GetContext(ctx, &v.ID, `
		INSERT INTO venues (name, address, step_free) VALUES ($1, $2, $3) RETURNING id`,
		v.Name, v.Address, v.StepFree)
	if err != nil {
		return v, fmt.Errorf("insert venue: %w", err)
	}
	return v, nil
}

// Venues lists every venue.
func (s *Store) Venues(ctx context.Context) ([]Venue, error) {
	vs := []Venue{}
	if err := s.db.SelectContext(ctx, &vs, `SELECT id, name, address, step_free FROM venues ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list venues: %w", err)
	}
	return vs, nil
}

// VenuesByID returns the venues of the given ids that exist, by id, in one
// query.
func VenuesByID(ctx context.Context, q sqlx.QueryerContext, ids []int64) (map[int64]Venue, error) {
	var vs []Venue
	err := sqlx.SelectContext(ctx, q, &vs, `
		SELECT id, name, address, step_free FROM venues WHERE id = ANY($1)`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("venues %v: %w", ids, err)
	}
	byID := make(map[int64]Venue, len(vs))
	for _, v := range vs {
		byID[v.ID] = v
	}
	return byID, nil
}

// LicenceClassName is a licence class as forms offer it.
type LicenceClassName struct {
	Code   string `db:"code"`
	NameZh string `db:"name_zh"`
}

// LicenceClasses lists the licence classes, by code.
func (s *Store) LicenceClasses(ctx context.Context) ([]LicenceClassName, error) {
	cs := []LicenceClassName{}
	if err := s.db.SelectContext(ctx, &cs, `SELECT code, name_zh FROM licence_classes ORDER BY code`); err != nil {
		return nil, fmt.Errorf("list licence classes: %w", err)
	}
	return cs, nil
}

// CreateCandidate registers a candidate and their account (username: the ID
// number) in one transaction. passwordHash comes from the account store.
func (s *Store) CreateCandidate(ctx context.Context, n NewCandidate, passwordHash string, createdBy int64) (int64, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	id, err := auth.InsertUser(ctx, tx, auth.NewUser{Username: n.IDNumber, Role: auth.RoleCandidate}, passwordHash)
	if errors.Is(err, auth.ErrDuplicateUser) {
		return 0, ErrDuplicateCandidate
	}
	if err != nil {
		return 0, err
	}
	// ON CONFLICT, so that PostgreSQL does not log the ID number.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on,
		                        permit_expires_on, subject1_passed_on, holds_car_licence, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id_number) DO NOTHING`,
		id, n.IDNumber, n.Name, n.Phone, n.LicenceClass, n.PermitIssuedOn,
		n.PermitExpiresOn, n.Subject1PassedOn, n.HoldsCarLicence, createdBy)
	if err != nil {
		return 0, dbError(err, "insert candidate")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, ErrDuplicateCandidate
	}
	// The record names the account, not the person: the ID number and
	// name stay in the candidate's row.
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(createdBy), Action: "user.created",
		Subject: fmt.Sprintf("user:%d", id),
		After:   map[string]any{"role": auth.RoleCandidate, "licence_class": n.LicenceClass}}); err != nil {
		return 0, err
	}
	return id, tx.Commit()
}

// Candidate returns a candidate's profile with their active grant.
func (s *Store) Candidate(ctx context.Context, id int64) (CandidateProfile, error) {
	var c CandidateProfile
	err := s.db.GetContext(ctx, &c, `
		SELECT id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on,
		       subject1_passed_on, holds_car_licence
		FROM candidates WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, refusal.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("get candidate %d: %w", id, err)
	}
	if c.Priority, err = activeGrant(ctx, s.db, id); err != nil {
		return c, err
	}
	c.Package, err = activePackage(ctx, s.db, id)
	return c, err
}

// CandidateByIDNumber returns the profile of the candidate with the resident
// ID number id (normalised first: a lower-case x is the check digit X).
func (s *Store) CandidateByIDNumber(ctx context.Context, idNumber string) (CandidateProfile, error) {
	var id int64
	err := s.db.GetContext(ctx, &id, `SELECT id FROM candidates WHERE id_number = $1`, NormalizeIDNumber(idNumber))
	if err != nil {
		return CandidateProfile{}, notFound(err, "find candidate by ID number")
	}
	return s.Candidate(ctx, id)
}

// activeGrant returns the candidate's active priority grant, nil without one.
func activeGrant(ctx context.Context, q sqlx.QueryerContext, candidateID int64) (*Grant, error) {
	var g struct {
		Grant
		Needs pq.StringArray `db:"needs"`
	}
	err := sqlx.GetContext(ctx, q, &g, `
		SELECT reason, needs, note, granted_by, granted_at
		FROM priority_grants WHERE candidate_id = $1 AND revoked_at IS NULL`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get grant of %d: %w", candidateID, err)
	}
	g.Grant.Needs = []string(g.Needs)
	g.Grant.GrantedAt = g.GrantedAt.In(Shanghai)
	return &g.Grant, nil
}

// GrantPriority puts a candidate on the priority lane (PL-GRANT), replacing
// an earlier grant, and records who granted it and why.
func (s *Store) GrantPriority(ctx context.Context, candidateID int64, g NewGrant, by int64) (*Grant, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	grant, err := grantPriority(ctx, tx, candidateID, g, by)
	if err != nil {
		return nil, err
	}
	if err := s.notes.Add(ctx, tx, laneGrantedNote(candidateID)); err != nil {
		return nil, err
	}
	return grant, tx.Commit()
}

// grantPriority is GrantPriority inside the caller's transaction tx.
func grantPriority(ctx context.Context, tx *sqlx.Tx, candidateID int64, g NewGrant, by int64) (*Grant, error) {
	// Lock the candidate so that two grants at once leave one active.
	var id int64
	err := tx.GetContext(ctx, &id, `SELECT id FROM candidates WHERE id = $1 FOR UPDATE`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, refusal.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock candidate %d: %w", candidateID, err)
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE priority_grants SET revoked_at = now(), revoked_by = $2
		WHERE candidate_id = $1 AND revoked_at IS NULL`, candidateID, by); err != nil {
		return nil, fmt.Errorf("replace grant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO priority_grants (candidate_id, reason, needs, note, granted_by)
		VALUES ($1, $2, $3, $4, $5)`, candidateID, g.Reason, pq.Array(g.Needs), g.Note, by); err != nil {
		return nil, fmt.Errorf("insert grant: %w", err)
	}
	grant, err := activeGrant(ctx, tx, candidateID)
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "priority.granted",
		Subject: fmt.Sprintf("candidate:%d", candidateID), After: grant}); err != nil {
		return nil, err
	}
	return grant, nil
}

// RevokePriority ends a candidate's active grant, if any.
func (s *Store) RevokePriority(ctx context.Context, candidateID int64, by int64) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	var r struct {
		Exists  bool  `db:"candidate"`
		Revoked int64 `db:"revoked"`
	}
	err = tx.GetContext(ctx, &r, `
		WITH revoked AS (
			UPDATE priority_grants SET revoked_at = now(), revoked_by = $2
			WHERE candidate_id = $1 AND revoked_at IS NULL
			RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM candidates WHERE id = $1) AS candidate,
		       (SELECT count(*) FROM revoked) AS revoked`, candidateID, by)
	if err != nil {
		return fmt.Errorf("revoke grant of %d: %w", candidateID, err)
	}
	if !r.Exists {
		return refusal.ErrNotFound
	}
	if r.Revoked > 0 {
		if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "priority.revoked",
			Subject: fmt.Sprintf("candidate:%d", candidateID)}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

const slotColumns = `s.id, s.venue_id, s.subject, s.licence_class, s.starts_at, s.ends_at, s.capacity,
	s.priority_reserved, s.reserve_release_at, s.reserve_released_at, s.booking_opens_at, s.booking_closes_at,
	s.adapted_vehicle, s.booked, v.step_free AS venue_step_free, s.allocation, s.allocated_at`

// CreateSlot publishes a slot.
func (s *Store) CreateSlot(ctx context.Context, sl Slot, by int64) (Slot, error) {
	return insertSlot(ctx, s.db, sl, by)
}

// insertSlot inserts sl and returns it as stored.
func insertSlot(ctx context.Context, q sqlx.QueryerContext, sl Slot, by int64) (Slot, error) {
	err := sqlx.GetContext(ctx, q, &sl, `
		WITH s AS (
			INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity,
			                   priority_reserved, reserve_release_at, booking_opens_at,
			                   booking_closes_at, adapted_vehicle, created_by, allocation, reserve_released_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			RETURNING id, venue_id, subject, licence_class, starts_at, ends_at, capacity,
			          priority_reserved, reserve_release_at, reserve_released_at, booking_opens_at,
			          booking_closes_at, adapted_vehicle, booked, allocation, allocated_at)
		SELECT `+slotColumns+` FROM s JOIN venues v ON v.id = s.venue_id`,
		sl.VenueID, sl.Subject, sl.LicenceClass, sl.StartsAt, sl.EndsAt, sl.Capacity,
		sl.PriorityReserved, sl.ReserveReleaseAt, sl.BookingOpensAt, sl.BookingClosesAt,
		sl.AdaptedVehicle, by, sl.allocation(), sl.ReserveReleasedAt)
	if err != nil {
		return sl, dbError(err, "insert slot")
	}
	return sl, nil
}

// Slot returns one slot.
func (s *Store) Slot(ctx context.Context, id int64) (Slot, error) {
	var sl Slot
	err := s.db.GetContext(ctx, &sl, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return sl, refusal.ErrNotFound
	}
	if err != nil {
		return sl, fmt.Errorf("get slot %d: %w", id, err)
	}
	return sl, nil
}

// MaxSlotsListed bounds one answer of FindSlots.
const MaxSlotsListed = 1000

// FindSlots lists the slots matching f, by start time, at most
// MaxSlotsListed of them; truncated reports that there were more.
func (s *Store) FindSlots(ctx context.Context, f SlotFilter) (slots []Slot, truncated bool, err error) {
	slots = []Slot{}
	err = s.db.SelectContext(ctx, &slots, `SELECT `+slotColumns+`
		FROM slots s JOIN venues v ON v.id = s.venue_id
		WHERE s.starts_at >= $1 AND s.starts_at < $2
		  AND ($3::smallint = 0 OR s.subject = $3::smallint)
		  AND ($4::text = '' OR s.licence_class = $4::text)
		  AND ($5::bigint = 0 OR s.venue_id = $5::bigint)
		ORDER BY s.starts_at, s.id
		LIMIT $6`,
		StartOfDay(f.From), StartOfDay(f.To.AddDate(0, 0, 1)), f.Subject, f.LicenceClass, f.VenueID, MaxSlotsListed+1)
	if err != nil {
		return nil, false, fmt.Errorf("find slots: %w", err)
	}
	if len(slots) > MaxSlotsListed {
		return slots[:MaxSlotsListed], true, nil
	}
	return slots, false, nil
}

// HasPriority reports whether a candidate holds an active grant.
func (s *Store) HasPriority(ctx context.Context, candidateID int64) (bool, error) {
	var ok bool
	err := s.db.GetContext(ctx, &ok, `
		SELECT EXISTS (SELECT 1 FROM priority_grants WHERE candidate_id = $1 AND revoked_at IS NULL)`, candidateID)
	if err != nil {
		return false, fmt.Errorf("check grant of %d: %w", candidateID, err)
	}
	return ok, nil
}

// Roster lists a slot's booked candidates in exam order (PL-ORDER): the
// priority lane first, by the grant in force on the day (laneOnDay), then
// by booking time.
func (s *Store) Roster(ctx context.Context, slotID int64) ([]RosterEntry, error) {
	if _, err := s.Slot(ctx, slotID); err != nil {
		return nil, err
	}
	var rows []struct {
		RosterEntry
		Needs pq.StringArray `db:"needs"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		SELECT b.id AS booking_id, b.candidate_id, c.name, c.id_number, l.lane, b.status, b.created_at, b.pair_id,
		       coalesce(g.needs, '{}') AS needs, a.rank, a.basis, a.reason, a.preference
		FROM bookings b
		JOIN slots s ON s.id = b.slot_id
		JOIN candidates c ON c.id = b.candidate_id
		CROSS JOIN LATERAL (SELECT `+laneOnDay+` AS lane) l
		LEFT JOIN priority_grants g ON g.candidate_id = b.candidate_id AND g.revoked_at IS NULL
		-- The application this seat was allocated to, for a ranked slot.
		LEFT JOIN LATERAL (
			SELECT a.rank, a.basis, a.reason, a.preference
			FROM applications a
			JOIN application_options o ON o.application_id = a.id AND o.preference = a.preference
			WHERE s.allocation = 'ranked' AND a.candidate_id = b.candidate_id AND a.status = 'confirmed'
			  AND o.slot_id = b.slot_id
			LIMIT 1) a ON true
		WHERE b.slot_id = $1 AND b.status <> 'cancelled'
		ORDER BY l.lane = 'priority' DESC, b.created_at, b.id`, slotID)
	if err != nil {
		return nil, fmt.Errorf("roster of slot %d: %w", slotID, err)
	}
	entries := make([]RosterEntry, len(rows))
	for i, r := range rows {
		entries[i] = r.RosterEntry
		entries[i].BookedAt = r.BookedAt.In(Shanghai)
		entries[i].Needs = []string(r.Needs)
		if r.Reason != nil && r.Preference != nil {
			entries[i].ReasonZH, entries[i].ReasonEN = ReasonWords(*r.Reason, *r.Preference)
		}
	}
	return entries, nil
}

// notFound turns sql.ErrNoRows into refusal.ErrNotFound and wraps anything else.
func notFound(err error, doing string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return refusal.ErrNotFound
	}
	return fmt.Errorf("%s: %w", doing, err)
}
