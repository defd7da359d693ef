package exam_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"examd/internal/pg"
	"examd/internal/pg/pgtest"
)

// databaseAt returns a new, empty database migrated up to version, as a
// database examd used before a later migration finds it.
func databaseAt(t *testing.T, version int64) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	admin, url := pgtest.NewDB(t)
	name := fmt.Sprintf("before_%d_%d", version, time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	db, err := pg.Open(ctx, url+" dbname="+name, 4) // a key=value URL: the last dbname wins
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db.DB, os.DirFS("../internal/pg/migrations"),
		goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return db
}

// oldExamHall is what a database of migration 00014 holds: a venue with
// slots, devices registered without subjects, and attempts they ran.
type oldExamHall struct {
	t     *testing.T
	db    *sqlx.DB
	venue int64
	n     int
}

func newOldExamHall(t *testing.T, db *sqlx.DB) *oldExamHall {
	h := &oldExamHall{t: t, db: db}
	mustGet(t, db, &h.venue, `INSERT INTO venues (name) VALUES ('第一考场') RETURNING id`)
	return h
}

func (h *oldExamHall) slot(subject int, class string) (id int64) {
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	mustGet(h.t, h.db, &id, `
		INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, reserve_release_at, booking_opens_at, booking_closes_at)
		VALUES ($1, $2, $3, $4, $5, 50, $4, $4, $4) RETURNING id`, h.venue, subject, class, start, start.Add(8*time.Hour))
	return id
}

func (h *oldExamHall) device(name, classes string) (id int64) {
	mustGet(h.t, h.db, &id, `INSERT INTO devices (venue_id, name, licence_classes, key_hash) VALUES ($1, $2, $3, $4) RETURNING id`,
		h.venue, name, classes, []byte(name))
	return id
}

// ran books a new candidate on slot and records an attempt of device
// there, ended or in progress.
func (h *oldExamHall) ran(device, slot int64, status string) {
	h.t.Helper()
	if err := h.attempt(device, slot, status); err != nil {
		h.t.Fatal(err)
	}
}

// attempt is ran, and returns the error of recording the attempt.
func (h *oldExamHall) attempt(device, slot int64, status string) error {
	h.t.Helper()
	h.n++
	var user, booking int64
	mustGet(h.t, h.db, &user, `INSERT INTO users (username, password_hash, role) VALUES ($1, 'x', 'candidate') RETURNING id`, fmt.Sprintf("c%d", h.n))
	mustExec(h.t, h.db, `
		INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on)
		VALUES ($1, $2, '张伟', '13800138000', 'C1', '2020-01-01', '2099-01-01')`, user, fmt.Sprintf("11010119900101%04d", h.n))
	mustGet(h.t, h.db, &booking, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by)
		SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1 FROM slots WHERE id = $2
		RETURNING id`, user, slot)
	_, err := h.db.Exec(`
		INSERT INTO attempts (booking_id, attempt_no, device_id, rule_version, pass_mark, status, finished_at)
		VALUES ($1, 1, $2, 1, 80, $3, CASE WHEN $3 = 'in_progress' THEN NULL ELSE now() END)`, booking, device, status)
	return err
}

// TestMigrationGivesDevicesWhatTheyServed (00015): existing devices get the
// subjects and the licence classes of the exams they ran; one that ran
// none is taken for a car of subjects 2 and 3, of its venue's classes when
// it had none; and from then on a device runs one attempt at a time.
func TestMigrationGivesDevicesWhatTheyServed(t *testing.T) {
	ctx := context.Background()
	db := databaseAt(t, 14)
	h := newOldExamHall(t, db)
	s2C1, s3C2, s4C1 := h.slot(2, "C1"), h.slot(3, "C2"), h.slot(4, "C1")
	h.slot(3, "C5")

	road := h.device("考试车 1号", "{C1}")
	h.ran(road, s2C1, "passed")
	h.ran(road, s3C2, "in_progress")
	field := h.device("考试车 2号", "{C1}")
	h.ran(field, s2C1, "failed")
	// A theory terminal that examd let start a subject 2 exam.
	terminal := h.device("理论考试终端", "{}")
	h.ran(terminal, s4C1, "passed")
	h.ran(terminal, s4C1, "failed")
	h.ran(terminal, s2C1, "passed")
	idle := h.device("考试车 3号", "{C2}")
	bare := h.device("考试车 4号", "{}")

	if err := pg.Migrate(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name              string
		id                int64
		subjects, classes string
	}{
		{"road car", road, "{2,3}", "{C1,C2}"},
		{"subject 2 car", field, "{2}", "{C1}"},
		{"theory terminal", terminal, "{4}", "{C1}"},
		{"idle car", idle, "{2,3}", "{C2}"},
		{"car without classes", bare, "{2,3}", "{C1,C2,C5}"},
	} {
		var subjects, classes string
		mustGet(t, db, &subjects, `SELECT subjects::text FROM devices WHERE id = $1`, tc.id)
		mustGet(t, db, &classes, `SELECT licence_classes::text FROM devices WHERE id = $1`, tc.id)
		if subjects != tc.subjects || classes != tc.classes {
			t.Errorf("%s: got subjects %s, classes %s; want %s, %s", tc.name, subjects, classes, tc.subjects, tc.classes)
		}
	}
	// ED-ATTEMPT: the road car's exam under way keeps it busy.
	if err := h.attempt(road, s2C1, "in_progress"); err == nil || !strings.Contains(err.Error(), "attempts_device_in_progress") {
		t.Errorf("a second attempt in progress on one car: %v, want attempts_device_in_progress violated", err)
	}
	if _, err := db.Exec(`UPDATE devices SET subjects = '{2,4}' WHERE id = $1`, road); err == nil || !strings.Contains(err.Error(), "devices_subjects_check") {
		t.Errorf("subjects 2 and 4: %v, want devices_subjects_check violated", err)
	}
}

// TestMigrationStopsOnABusyDevice (00015): a device that examd let run two
// attempts at once stops the migration with its id, rather than leaving one
// of them unended or ending it by itself.
func TestMigrationStopsOnABusyDevice(t *testing.T) {
	db := databaseAt(t, 14)
	h := newOldExamHall(t, db)
	slot := h.slot(2, "C1")
	car := h.device("考试车 1号", "{C1}")
	h.ran(car, slot, "in_progress")
	h.ran(car, slot, "in_progress")
	err := pg.Migrate(context.Background(), db.DB)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("devices %d have more than one attempt in progress", car)) {
		t.Fatalf("got %v, want the busy device named", err)
	}
}
