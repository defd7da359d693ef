package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/bench/benchkit"
	"examd/internal/testkit"
)

// venueSetup is the exam day the events are posted to: one venue, its
// devices, and bookings for today whose attempts are in progress.
type venueSetup struct {
	venue    int64
	token    string   // the scheduler's token, for the screens
	devices  []string // device keys
	bookings []int64  // booking i is judged by device i (ED-ATTEMPT: one exam at a time per car)
}

// prepare creates, through the API, a scheduler, a venue, a subject 2 slot
// covering today, the devices and the candidates; books the candidates onto
// the slot in SQL (today's booking window closed yesterday) as
// cmd/examd/exam_test.go does; and starts every booking's attempt.
func prepare(ctx context.Context, c *benchkit.Client, db *sqlx.DB, o options) (venueSetup, error) {
	var s venueSetup
	tok, err := c.Login("admin", adminPassword)
	if err != nil {
		return s, err
	}
	admin := "Bearer " + tok
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/users", admin,
		map[string]any{"username": "fanout-scheduler", "password": "fanout-scheduler-pw", "role": "scheduler"}, nil); err != nil {
		return s, err
	}
	if s.token, err = c.Login("fanout-scheduler", "fanout-scheduler-pw"); err != nil {
		return s, err
	}
	sched := "Bearer " + s.token
	var created struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/venues", sched,
		map[string]any{"name": "压测考场", "address": "", "step_free": true}, &created); err != nil {
		return s, err
	}
	s.venue = created.ID
	shanghai := time.FixedZone("Asia/Shanghai", 8*3600)
	y, m, d := time.Now().In(shanghai).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
		"venue_id": s.venue, "subject": 2, "licence_class": "C1", "capacity": o.bookings, "priority_reserved": 0,
		"starts_at": today.Format(time.RFC3339), "ends_at": today.Add(24*time.Hour - time.Second).Format(time.RFC3339),
		"adapted_vehicle": false,
	}, &created); err != nil {
		return s, err
	}
	slot := created.ID
	s.bookings, s.devices = make([]int64, o.bookings), make([]string, o.bookings)
	err = parallel(o.bookings, 8, func(i int) error {
		var dev struct {
			Key string `json:"key"`
		}
		if err := c.Must(http.StatusCreated, "POST", "/api/v1/devices", admin, map[string]any{
			"venue_id": s.venue, "name": fmt.Sprintf("考试车 %d号", i+1), "vehicle_plate": fmt.Sprintf("沪A%04d学", i),
			"subjects": []int{2}, "licence_classes": []string{"C1"}, "adapted_vehicle": false,
		}, &dev); err != nil {
			return err
		}
		s.devices[i] = dev.Key
		var cand struct {
			ID int64 `json:"id"`
		}
		id := testkit.IDNumber(i)
		if err := c.Must(http.StatusCreated, "POST", "/api/v1/candidates", sched, map[string]any{
			"id_number": id, "name": fmt.Sprintf("考生%d", i), "phone": "13800138000", "licence_class": "C1",
			"permit_issued_on":   today.AddDate(0, 0, -60).Format(time.DateOnly),
			"permit_expires_on":  today.AddDate(3, 0, -60).Format(time.DateOnly),
			"subject1_passed_on": today.AddDate(0, 0, -61).Format(time.DateOnly),
			"password":           "fanout-candidate",
		}, &cand); err != nil {
			return err
		}
		err := db.GetContext(ctx, &s.bookings[i], `
			WITH b AS (INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by)
			           SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1 FROM slots WHERE id = $2
			           RETURNING id, slot_id)
			, s AS (UPDATE slots SET booked = booked + 1 WHERE id = (SELECT slot_id FROM b))
			SELECT id FROM b`, cand.ID, slot)
		if err != nil {
			return fmt.Errorf("book candidate %d: %w", cand.ID, err)
		}
		return c.Must(http.StatusCreated, "POST", "/api/v1/exam/events", "Device "+s.devices[i],
			deviceEvent{EventID: testkit.UUID(), BookingID: s.bookings[i], Type: "exam_started", At: time.Now().Format(time.RFC3339Nano)}, nil)
	})
	return s, err
}

// deviceEvent is the body of POST /api/v1/exam/events.
type deviceEvent struct {
	EventID   string `json:"event_id"`
	BookingID int64  `json:"booking_id"`
	Type      string `json:"type"`
	Text      string `json:"text,omitempty"`
	At        string `json:"at"`
}

// parallel runs f(0) … f(n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}
