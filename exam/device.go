package exam

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"examd/issuance"

	"github.com/lib/pq"

	"examd/internal/audit"
	"examd/internal/notify"
	"examd/internal/pg"
	"examd/internal/refusal"
	"examd/internal/secret"
	"examd/scheduling"
)

// Device is a judging device in an exam car, or a theory terminal, with
// what it can examine: its subjects, licence classes and whether its car is
// adapted (ED-ATTEMPT, PL-ACCESS).
type Device struct {
	ID           int64  `db:"id" json:"id"`
	VenueID      int64  `db:"venue_id" json:"venue_id"`
	Name         string `db:"name" json:"name"`
	VehiclePlate string `db:"vehicle_plate" json:"vehicle_plate"`
	// Subjects are 2, 3 or both for an exam car, 4 for a theory terminal;
	// stored sorted.
	Subjects       pq.Int64Array  `db:"subjects" json:"subjects"`
	LicenceClasses pq.StringArray `db:"licence_classes" json:"licence_classes"`
	AdaptedVehicle bool           `db:"adapted_vehicle" json:"adapted_vehicle"`
}

const deviceColumns = `id, venue_id, name, vehicle_plate, subjects, licence_classes, adapted_vehicle`

// Validate checks a device to register: a venue, a name of at most 100
// bytes, a plate of at most 20, its subjects (2, 3 or both for a car, 4
// for a theory terminal), at least one licence class such as C1, all of
// them text PostgreSQL can store.
func (d Device) Validate() error {
	var bad refusal.List
	refuse := func(field, message string) { bad = append(bad, refusal.Invalid(field, message)) }
	if d.VenueID <= 0 {
		refuse("venue_id", "required")
	}
	if strings.TrimSpace(d.Name) == "" || len(d.Name) > 100 || !storable(d.Name) {
		refuse("name", "required, at most 100 bytes")
	}
	if len(d.VehiclePlate) > 20 || !storable(d.VehiclePlate) {
		refuse("vehicle_plate", "at most 20 bytes")
	}
	if !validSubjects(d.Subjects) {
		refuse("subjects", "[2], [3], [2,3] for an exam car or [4] for a theory terminal")
	}
	if len(d.LicenceClasses) == 0 {
		refuse("licence_classes", "at least one licence class such as C1")
	}
	for _, lc := range d.LicenceClasses {
		if lc == "" || len(lc) > 8 || !storable(lc) {
			refuse("licence_classes", "licence classes such as C1")
			break
		}
	}
	// Every bad field at once, in the order of the API.
	return bad.Err()
}

// validSubjects reports whether a device may serve subjects: at least one,
// each 2, 3 or 4 once, and 4 alone (a theory terminal is not a car).
func validSubjects(subjects []int64) bool {
	if len(subjects) == 0 {
		return false
	}
	seen := map[int64]bool{}
	for _, s := range subjects {
		if s < 2 || s > 4 || seen[s] {
			return false
		}
		seen[s] = true
	}
	return !seen[4] || len(subjects) == 1
}

// Fits refuses with ErrWrongDevice a device that cannot examine booking b:
// it does not serve b's subject or licence class, or the candidate needs an
// adapted car and its car is not (ED-ATTEMPT, PL-ACCESS).
func (d Device) Fits(b scheduling.BookingForExam) error {
	if !slices.Contains(d.Subjects, int64(b.Subject)) || !slices.Contains(d.LicenceClasses, b.LicenceClass) ||
		(slices.Contains(b.Needs, "adapted_vehicle") && !d.AdaptedVehicle) {
		return ErrWrongDevice
	}
	return nil
}

// storable reports whether s can be stored as PostgreSQL text: valid UTF-8
// without NUL.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// errNoVenue refuses a device or a display for a venue that does not exist.
var errNoVenue = refusal.Invalid("venue_id", "no such venue")

// constraintErrors maps the constraints that guard this package's tables to
// the refusals they stand for.
var constraintErrors = map[string]error{
	"devices_venue_id_fkey":        errNoVenue,
	"display_tokens_venue_id_fkey": errNoVenue,
	// ED-ATTEMPT: a racing second start on one car, or on one booking.
	"attempts_device_in_progress": ErrDeviceBusy,
	"attempts_one_in_progress":    ErrAttemptInProgress,
}

// CreateDevice registers a device and returns its key, shown this once;
// only the key's hash is stored.
// A device that Validate refuses is a *refusal.Error; the name is stored trimmed.
func (s *Store) CreateDevice(ctx context.Context, d Device, by int64) (Device, string, error) {
	if err := d.Validate(); err != nil {
		return d, "", err
	}
	d.Name = strings.TrimSpace(d.Name)
	d.Subjects = slices.Sorted(slices.Values(d.Subjects)) // as the check on the table wants them
	key, keyHash := secret.New()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return d, "", fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	err = tx.GetContext(ctx, &d.ID, `
		INSERT INTO devices (venue_id, name, vehicle_plate, subjects, licence_classes, adapted_vehicle, key_hash, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id`, d.VenueID, d.Name, d.VehiclePlate, d.Subjects, d.LicenceClasses, d.AdaptedVehicle, keyHash, by)
	if r := pg.Refusal(err, constraintErrors); r != nil {
		return d, "", r
	}
	if err != nil {
		return d, "", fmt.Errorf("insert device: %w", err)
	}
	// The key itself is never recorded: the device's id names it.
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "device.key_issued",
		Subject: fmt.Sprintf("device:%d", d.ID), After: d}); err != nil {
		return d, "", err
	}
	return d, key, tx.Commit()
}

// RetireDevice retires a device: its key stops working at once.
func (s *Store) RetireDevice(ctx context.Context, id, by int64, now time.Time) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE devices SET retired_at = $2 WHERE id = $1 AND retired_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("retire device %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return refusal.ErrNotFound
	}
	if err := audit.Record(ctx, tx, audit.Entry{Actor: audit.User(by), Action: "device.retired",
		Subject: fmt.Sprintf("device:%d", id), After: map[string]any{"retired_at": now}}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.keys.forget(id) // other processes learn it from Ingest's check
	return nil
}

// ListedDevice is a device as the admin's list shows it: never its key.
type ListedDevice struct {
	Device
	CreatedAt time.Time  `db:"created_at"`
	RetiredAt *time.Time `db:"retired_at"` // nil while its key works
}

// Devices lists the devices of a venue (of every venue when venueID is 0):
// the active ones first, then by venue and name.
func (s *Store) Devices(ctx context.Context, venueID int64) ([]ListedDevice, error) {
	ds := []ListedDevice{}
	err := s.db.SelectContext(ctx, &ds, `SELECT `+deviceColumns+`, created_at, retired_at
		FROM devices WHERE $1::bigint = 0 OR venue_id = $1::bigint
		ORDER BY retired_at IS NOT NULL, venue_id, name, id`, venueID)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return ds, nil
}

// DeviceByKey finds the active device holding key.
func (s *Store) DeviceByKey(ctx context.Context, key string) (Device, error) {
	var d Device
	err := s.db.GetContext(ctx, &d, `SELECT `+deviceColumns+`
		FROM devices WHERE key_hash = $1 AND retired_at IS NULL`, secret.Hash(key))
	if errors.Is(err, sql.ErrNoRows) {
		return d, refusal.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("find device: %w", err)
	}
	return d, nil
}

// EventDevice finds the device holding key for a device event, from the
// keys this process has seen when it can: a device's row never changes but
// for its retirement, which Ingest checks in the event's own transaction.
// A retired device's key therefore stops working at once on every replica
// without a query of its own per event.
func (s *Store) EventDevice(ctx context.Context, key string) (Device, error) {
	hash := string(secret.Hash(key))
	if d, ok := s.keys.get(hash); ok {
		return d, nil
	}
	d, err := s.DeviceByKey(ctx, key)
	if err == nil {
		s.keys.put(hash, d)
	}
	return d, err
}

// deviceKeys caches active devices by the hash of their key.
type deviceKeys struct {
	mu     sync.Mutex
	byHash map[string]Device
}

// maxCachedKeys bounds the cache: far more devices than a province has.
const maxCachedKeys = 100_000

func (k *deviceKeys) get(hash string) (Device, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	d, ok := k.byHash[hash]
	return d, ok
}

func (k *deviceKeys) put(hash string, d Device) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byHash == nil || len(k.byHash) >= maxCachedKeys {
		k.byHash = map[string]Device{}
	}
	k.byHash[hash] = d
}

// forget drops the device id's key.
func (k *deviceKeys) forget(id int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for hash, d := range k.byHash {
		if d.ID == id {
			delete(k.byHash, hash)
		}
	}
}

// Rules lists the current catalogue; with subject 2 or 3, that subject's
// rules and the general ones.
func (s *Store) Rules(ctx context.Context, subject int) (int, []Rule, error) {
	var version int
	if err := s.db.GetContext(ctx, &version, `SELECT max(version) FROM rule_catalogues`); err != nil {
		return 0, nil, fmt.Errorf("catalogue version: %w", err)
	}
	rules := []Rule{}
	err := s.db.SelectContext(ctx, &rules, `
		SELECT code, subject, item, text_zh, text_en, points, repeatable
		FROM rules
		WHERE version = $1 AND ($2::smallint = 0 OR subject IS NULL OR subject = $2::smallint)
		ORDER BY subject NULLS FIRST, code`, version, subject)
	if err != nil {
		return 0, nil, fmt.Errorf("list rules: %w", err)
	}
	return version, rules, nil
}

// Store keeps devices, the rule catalogue and attempts in PostgreSQL.
type Store struct {
	db       *sqlx.DB
	pub      Publisher
	issuance *issuance.Store
	// notes tells candidates of their results.
	notes *notify.Notes
	keys  deviceKeys // for EventDevice
	// ReleasePairOnSubject2Fail is BK-COMBINED-FAIL's setting: true
	// ("release") cancels the subject 3 half of a combined booking when its
	// subject 2 booking ends failed; false ("keep", the default) keeps it.
	ReleasePairOnSubject2Fail bool
}

// Publisher appends an event to a live feed inside the caller's
// transaction, and returns the stored event's id (feed_events.id); the event
// is numbered in its topic after the transaction commits, by a numberer of
// its own (realtime.Feed): Number waits until every event committed before
// the call is numbered.
type Publisher interface {
	Append(ctx context.Context, tx sqlx.ExtContext, topic string, event any) (int64, error)
	Number(ctx context.Context) error
}

// NewStore returns a store that announces events through pub and makes
// candidates ready for issuance in iss when their last result is final,
// telling them through notes.
func NewStore(db *sqlx.DB, pub Publisher, iss *issuance.Store, notes *notify.Notes) *Store {
	return &Store{db: db, pub: pub, issuance: iss, notes: notes}
}
