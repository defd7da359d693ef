package exam_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/exam"
	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/internal/testkit"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
)

// hallFixture is a venue with a subject 2 slot today, a device and a way to
// book candidates, written straight into the database.
type hallFixture struct {
	db     *sqlx.DB
	store  *exam.Store
	venue  int64
	slot   int64
	user   int64
	device exam.Device
	n      int
}

func newHallFixture(t *testing.T, db *sqlx.DB, now time.Time) *hallFixture {
	t.Helper()
	feed := realtime.NewFeed(db)
	f := &hallFixture{db: db, store: exam.NewStore(db, feed, issuance.NewStore(db, feed, notify.New(feed)), notify.New(feed))}
	mustGet(t, db, &f.user, `INSERT INTO users (username, password_hash, role) VALUES ('admin', 'x', 'admin') RETURNING id`)
	mustGet(t, db, &f.venue, `INSERT INTO venues (name) VALUES ('第一考场') RETURNING id`)
	f.slot = f.newSlot(t, f.venue, now)
	f.device = f.newDevice(t, "考试车 3号")
	return f
}

// newDevice registers a C1 exam car of subjects 2 and 3 at the venue.
func (f *hallFixture) newDevice(t *testing.T, name string) exam.Device {
	t.Helper()
	d, _, err := f.store.CreateDevice(context.Background(), exam.Device{VenueID: f.venue, Name: name,
		Subjects: []int64{2, 3}, LicenceClasses: []string{"C1"}}, f.user)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *hallFixture) newSlot(t *testing.T, venue int64, now time.Time) (id int64) {
	t.Helper()
	start := scheduling.StartOfDay(scheduling.Day(now))
	mustGet(t, f.db, &id, `
		INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, reserve_release_at, booking_opens_at, booking_closes_at)
		VALUES ($1, 2, 'C1', $2, $3, 50, $2, $2, $2) RETURNING id`, venue, start, start.Add(24*time.Hour-time.Second))
	return id
}

// book puts a new candidate named name on slot and returns the booking.
func (f *hallFixture) book(t *testing.T, slot int64, name string) (booking int64) {
	t.Helper()
	f.n++
	var id int64
	mustGet(t, f.db, &id, `INSERT INTO users (username, password_hash, role) VALUES ($1, 'x', 'candidate') RETURNING id`,
		fmt.Sprintf("c%d", f.n))
	mustExec(t, f.db, `
		INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on)
		VALUES ($1, $2, $3, '13800138000', 'C1', '2020-01-01', '2099-01-01')`, id, fmt.Sprintf("11010119900101%04d", f.n), name)
	mustGet(t, f.db, &booking, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by)
		SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1 FROM slots WHERE id = $2
		RETURNING id`, id, slot)
	return booking
}

// post ingests a device event of the fixture's car.
func (f *hallFixture) post(t *testing.T, booking int64, typ, item, rule string, at time.Time) {
	t.Helper()
	f.postBy(t, f.device, booking, typ, item, rule, at)
}

// postBy ingests a device event of dev.
func (f *hallFixture) postBy(t *testing.T, dev exam.Device, booking int64, typ, item, rule string, at time.Time) {
	t.Helper()
	ev := exam.Event{EventID: testkit.UUID(), BookingID: booking, Type: typ, Item: item, Rule: rule, At: at}
	if _, _, err := f.store.Ingest(context.Background(), dev, ev, at); err != nil {
		t.Fatalf("%s on booking %d: %v", typ, booking, err)
	}
}

func mustGet(t *testing.T, db *sqlx.DB, dest any, q string, args ...any) {
	t.Helper()
	if err := db.Get(dest, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mustExec(t *testing.T, db *sqlx.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// TestHallBoard: the board lists the exams under way at the venue today with
// the item under way, and the day's results there, latest first, the
// corrected result standing; names come masked, other venues' and other
// days' exams stay off.
func TestHallBoard(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	now := time.Now()
	f := newHallFixture(t, db, now)

	driving := f.book(t, f.slot, "张三丰")
	between := f.book(t, f.slot, "李四")
	passed := f.book(t, f.slot, "王五")
	failed := f.book(t, f.slot, "赵六")
	at := now.Add(-time.Hour)
	if !scheduling.Day(at).Equal(scheduling.Day(now)) {
		at = scheduling.StartOfDay(scheduling.Day(now))
	}
	tick := func() time.Time { at = at.Add(time.Second); return at }

	f.post(t, passed, exam.ExamStarted, "", "", tick())
	f.post(t, passed, exam.ExamFinished, "", "", tick())
	f.post(t, driving, exam.ExamStarted, "", "", tick())
	f.post(t, driving, exam.ItemStarted, "reverse_parking", "", tick())
	f.post(t, driving, exam.ItemFinished, "reverse_parking", "", tick())
	f.post(t, driving, exam.ItemStarted, "hill_start", "", tick())
	f.post(t, driving, exam.Deduction, "", "HS.ROLLBACK_10_30CM", tick())
	// ED-ATTEMPT: one exam at a time per car.
	car5, car6 := f.newDevice(t, "考试车 5号"), f.newDevice(t, "考试车 6号")
	f.postBy(t, car5, between, exam.ExamStarted, "", "", tick())
	f.postBy(t, car5, between, exam.ItemStarted, "reverse_parking", "", tick())
	f.postBy(t, car5, between, exam.ItemFinished, "reverse_parking", "", tick())
	f.postBy(t, car6, failed, exam.ExamStarted, "", "", tick())
	f.postBy(t, car6, failed, exam.Deduction, "", "RP.BODY_OUT", tick())

	// Another venue's board is empty.
	var otherVenue int64
	mustGet(t, db, &otherVenue, `INSERT INTO venues (name) VALUES ('第二考场') RETURNING id`)

	b, err := f.store.HallBoard(ctx, f.venue, scheduling.Day(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Exams) != 2 {
		t.Fatalf("exams %+v, want 2 under way", b.Exams)
	}
	if e := b.Exams[0]; e.Name != "张**" || e.Subject != 2 || e.Car != "考试车 3号" || e.Item == nil || *e.Item != "hill_start" {
		t.Errorf("first exam %+v, want 张** in hill_start", e)
	}
	if e := b.Exams[1]; e.Name != "李*" || e.Item != nil {
		t.Errorf("second exam %+v, want 李* between items", e)
	}
	if len(b.Results) != 2 || b.Results[0].Name != "赵*" || b.Results[0].Status != exam.Failed || b.Results[0].Score != 0 ||
		b.Results[1].Name != "王*" || b.Results[1].Status != exam.Passed || b.Results[1].Score != 100 {
		t.Fatalf("results %+v, want 赵* failed then 王* passed", b.Results)
	}

	t.Run("Corrected", func(t *testing.T) {
		var attempt int64
		mustGet(t, db, &attempt, `SELECT id FROM attempts WHERE booking_id = $1`, failed)
		if err := f.store.Correct(ctx, exam.CorrectRequest{AttemptID: attempt, Score: 90, Reason: "评判设备误判", By: f.user}, now); err != nil {
			t.Fatal(err)
		}
		b, err := f.store.HallBoard(ctx, f.venue, scheduling.Day(now))
		if err != nil {
			t.Fatal(err)
		}
		if r := b.Results[0]; r.Name != "赵*" || r.Status != exam.Passed || r.Score != 90 {
			t.Errorf("corrected result %+v, want passed with 90", r)
		}
	})

	t.Run("OtherVenueAndDay", func(t *testing.T) {
		for _, q := range []struct {
			venue int64
			day   time.Time
		}{{otherVenue, scheduling.Day(now)}, {f.venue, scheduling.Day(now).AddDate(0, 0, -1)}} {
			b, err := f.store.HallBoard(ctx, q.venue, q.day)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Exams) != 0 || len(b.Results) != 0 {
				t.Errorf("venue %d on %s: %+v, want nothing", q.venue, q.day.Format(time.DateOnly), b)
			}
		}
	})
}
