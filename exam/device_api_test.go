package exam_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// newDevice registers a device at d's venue with body's capabilities and
// returns its key.
func newDevice(t *testing.T, d *servertest.ExamDay, body map[string]any) string {
	t.Helper()
	req := map[string]any{"venue_id": d.Venue, "name": fmt.Sprintf("考试车 %d号", servertest.Next()), "vehicle_plate": "京A0000学"}
	for k, v := range body {
		req[k] = v
	}
	return d.A.Must(http.StatusCreated, "POST", "/api/v1/devices", d.A.Admin, req).Body["key"].(string)
}

// TestRegisterDeviceSubjects: POST /devices takes the subjects a device
// serves, 2, 3 or both for a car, 4 alone for a theory terminal, and at
// least one licence class; its answer shows them.
func TestRegisterDeviceSubjects(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	venue := a.NewVenue(a.Staff("scheduler"), false)
	post := func(body map[string]any) testkit.Response {
		req := map[string]any{"venue_id": venue, "name": "考试车 1号", "licence_classes": []string{"C1"}}
		for k, v := range body {
			req[k] = v
		}
		for k, v := range req {
			if v == nil {
				delete(req, k)
			}
		}
		return a.Do("POST", "/api/v1/devices", a.Admin, req)
	}
	for name, tc := range map[string]struct {
		body  map[string]any
		want  string // the subjects answered; "" for a refusal of field
		field string
	}{
		"Car":            {body: map[string]any{"subjects": []int{3, 2}}, want: "[2 3]"},
		"Subject2":       {body: map[string]any{"subjects": []int{2}}, want: "[2]"},
		"TheoryTerminal": {body: map[string]any{"subjects": []int{4}}, want: "[4]"},
		"Omitted":        {body: map[string]any{"subjects": nil}, field: "subjects"},
		"Empty":          {body: map[string]any{"subjects": []int{}}, field: "subjects"},
		"Subject1":       {body: map[string]any{"subjects": []int{1}}, field: "subjects"},
		"Twice":          {body: map[string]any{"subjects": []int{3, 3}}, field: "subjects"},
		"TheoryAndRoad":  {body: map[string]any{"subjects": []int{2, 4}}, field: "subjects"},
		"NoClass":        {body: map[string]any{"subjects": []int{2}, "licence_classes": []string{}}, field: "licence_classes"},
	} {
		t.Run(name, func(t *testing.T) {
			r := post(tc.body)
			if tc.field != "" {
				if r.Status != http.StatusUnprocessableEntity || r.Code() != "invalid_field" || r.Field() != tc.field {
					t.Fatalf("got %d %s, want 422 invalid_field on %s", r.Status, r.Raw, tc.field)
				}
				return
			}
			if r.Status != http.StatusCreated || fmt.Sprint(r.Body["subjects"]) != tc.want {
				t.Fatalf("got %d %s, want 201 with subjects %s", r.Status, r.Raw, tc.want)
			}
		})
	}
}

// TestWrongDevice (ED-ATTEMPT, PL-ACCESS): an exam starts only on a device
// that serves its subject and licence class, adapted when the candidate
// needs it; a refused start opens nothing.
func TestWrongDevice(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	start := a.Day(0)
	c5 := a.Must(http.StatusCreated, "POST", "/api/v1/slots", d.Sched, map[string]any{
		"venue_id": d.Venue, "subject": 2, "licence_class": "C5", "capacity": 10, "priority_reserved": 0,
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(24*time.Hour - time.Second).Format(time.RFC3339),
		"adapted_vehicle": true,
	}).ID()
	slot3 := d.TodaySlot(t, 3)
	slot4 := d.TodaySlot(t, 4)

	subject2C1 := newDevice(t, d, map[string]any{"subjects": []int{2}, "licence_classes": []string{"C1"}})
	c2Car := newDevice(t, d, map[string]any{"subjects": []int{2, 3}, "licence_classes": []string{"C2"}})
	c5Plain := newDevice(t, d, map[string]any{"subjects": []int{2}, "licence_classes": []string{"C5"}, "adapted_vehicle": false})
	c5Adapted := newDevice(t, d, map[string]any{"subjects": []int{2}, "licence_classes": []string{"C5"}, "adapted_vehicle": true})
	terminal := newDevice(t, d, map[string]any{"subjects": []int{4}, "licence_classes": []string{"C1"}, "vehicle_plate": ""})

	needsAdapted := a.NewCandidate(d.Sched, map[string]any{"licence_class": "C5"})
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", needsAdapted.ID), d.Sched,
		map[string]any{"reason": "disability", "needs": []string{"adapted_vehicle"}, "note": "右腿残疾"})
	adaptedBooking := d.BookAs(t, needsAdapted, c5)
	_, plainC5 := d.Book(t, c5, 2)
	_, b3 := d.Book(t, slot3, 3)
	_, b2 := d.Book(t, d.Slot, 2)
	_, b4 := d.Book(t, slot4, 4)

	refused := func(name, key string, booking int64, typ string, fields map[string]any) {
		t.Helper()
		if r := d.Post(key, booking, typ, fields); r.Status != http.StatusConflict || r.Code() != "wrong_device" {
			t.Errorf("%s: got %d %s, want 409 wrong_device", name, r.Status, r.Raw)
		}
	}
	started := func(name, key string, booking int64, typ string, fields map[string]any) {
		t.Helper()
		if r := d.Post(key, booking, typ, fields); r.Status != http.StatusCreated {
			t.Errorf("%s: got %d %s, want 201", name, r.Status, r.Raw)
		}
	}
	refused("subject 3 on a subject 2 car", subject2C1, b3, "exam_started", nil)
	refused("subject 2 on a C2 car", c2Car, b2, "exam_started", nil)
	refused("subject 2 on the theory terminal", terminal, b2, "exam_started", nil)
	refused("subject 4 on a car", d.Device, b4, "theory_result", map[string]any{"score": 95})
	refused("PL-ACCESS: adapted_vehicle on a C5 car not adapted", c5Plain, adaptedBooking, "exam_started", nil)
	var attempts int
	if err := a.DB.Get(&attempts, `SELECT count(*) FROM attempts`); err != nil || attempts != 0 {
		t.Fatalf("refused starts left %d attempts (%v), want none", attempts, err)
	}
	started("PL-ACCESS: adapted_vehicle on an adapted C5 car", c5Adapted, adaptedBooking, "exam_started", nil)
	started("C5 without the need on a C5 car not adapted", c5Plain, plainC5, "exam_started", nil)
	started("subject 3 on a car of subjects 2 and 3", d.Device, b3, "exam_started", nil)
	started("subject 4 on the theory terminal", terminal, b4, "theory_result", map[string]any{"score": 95})
}

// TestDeviceBusy (ED-ATTEMPT): a car examines one candidate at a time; the
// next start is refused until its attempt ends, then accepted.
func TestDeviceBusy(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, first := d.Book(t, d.Slot, 2)
	_, second := d.Book(t, d.Slot, 2)
	if r := d.Post(d.Device, first, "exam_started", nil); r.Status != http.StatusCreated {
		t.Fatalf("first start: %d %s", r.Status, r.Raw)
	}
	if r := d.Post(d.Device, second, "exam_started", nil); r.Status != http.StatusConflict || r.Code() != "device_busy" {
		t.Fatalf("second start on the busy car: got %d %s, want 409 device_busy", r.Status, r.Raw)
	}
	// Another car takes the second candidate meanwhile.
	if r := d.Post(d.NewDevice(t, d.Venue), second, "exam_started", nil); r.Status != http.StatusCreated {
		t.Fatalf("second start on another car: %d %s", r.Status, r.Raw)
	}
	_, third := d.Book(t, d.Slot, 2)
	d.Post(d.Device, first, "exam_finished", nil)
	if r := d.Post(d.Device, third, "exam_started", nil); r.Status != http.StatusCreated {
		t.Fatalf("a start after the car's exam ended: %d %s", r.Status, r.Raw)
	}
}

// TestConcurrentStartsOnOneCar (ED-ATTEMPT): two starts on one car, for two
// bookings, that both pass the store's check (held just before the attempt
// is inserted) end with one attempt in progress: the index
// attempts_device_in_progress refuses the other with device_busy.
func TestConcurrentStartsOnOneCar(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, b1 := d.Book(t, d.Slot, 2)
	_, b2 := d.Book(t, d.Slot, 2)

	// Opening an attempt reads the catalogue's version: holding the table
	// stops both starts there, after their check that the car is free.
	tx, err := a.DB.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE rule_catalogues IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	answers := make([]testkit.Response, 2)
	for i, b := range []int64{b1, b2} {
		wg.Go(func() { answers[i] = d.Post(d.Device, b, "exam_started", nil) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting int
		if err := a.DB.Get(&waiting, `SELECT count(*) FROM pg_locks WHERE relation = 'rule_catalogues'::regclass AND NOT granted`); err != nil {
			t.Fatal(err)
		}
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			tx.Rollback()
			wg.Wait()
			t.Fatalf("%d starts waiting on the catalogue, want 2: %d %s; %d %s", waiting,
				answers[0].Status, answers[0].Raw, answers[1].Status, answers[1].Raw)
		}
		time.Sleep(10 * time.Millisecond)
	}
	tx.Rollback()
	wg.Wait()

	var created, busy int
	for _, r := range answers {
		switch {
		case r.Status == http.StatusCreated:
			created++
		case r.Status == http.StatusConflict && r.Code() == "device_busy":
			busy++
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Raw)
		}
	}
	if created != 1 || busy != 1 {
		t.Errorf("got %d started and %d device_busy, want 1 and 1", created, busy)
	}
	var running int
	if err := a.DB.Get(&running, `SELECT count(*) FROM attempts WHERE status = 'in_progress'`); err != nil || running != 1 {
		t.Errorf("%d attempts in progress (%v), want 1", running, err)
	}
}

// TestRetiredKeyRefusedOnEveryReplica: a replica that has the device's key
// cached from its earlier events refuses the key's next event once another
// replica has retired the device, and records nothing.
func TestRetiredKeyRefusedOnEveryReplica(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := servertest.StartReplica(t, a)
	d := servertest.NewExamDay(t, a, 2)
	_, booking := d.Book(t, d.Slot, 2)
	onB := &servertest.ExamDay{A: b, Sched: d.Sched, Venue: d.Venue, Slot: d.Slot, Device: d.Device}
	if r := onB.Post(d.Device, booking, "exam_started", nil); r.Status != 201 {
		t.Fatalf("exam_started on replica B: %d %s", r.Status, r.Raw)
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT max(id) FROM devices`); err != nil {
		t.Fatal(err)
	}
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/devices/%d", id), a.Admin, nil)
	for _, x := range []*servertest.ExamDay{onB, d} {
		if r := x.Post(d.Device, booking, "item_started", map[string]any{"item": "reverse_parking"}); r.Status != 401 {
			t.Fatalf("a retired device's event: %d %s", r.Status, r.Raw)
		}
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM attempt_events e JOIN attempts t ON t.id = e.attempt_id WHERE t.booking_id = $1`, booking); err != nil || n != 1 {
		t.Fatalf("%d events recorded (%v), want the exam_started alone", n, err)
	}
}
