package server

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"examd/internal/pg/pgtest"
)

// TestOutboxReadAtMostOncePerSecond: the outbox gauge counts the unsent
// notifications, reading them at most once per interval (outboxEvery, an
// hour here so that a slow machine cannot make the test pass the interval):
// a scrape in between reports the last reading, the first one after it
// counts again.
func TestOutboxReadAtMostOncePerSecond(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	var id int64
	if err := db.Get(&id, `INSERT INTO users (username, password_hash, role) VALUES ('c1', 'x', 'candidate') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	db.MustExec(`INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on)
		VALUES ($1, '110101199001010014', '张三', '13800138000', 'C1', '2020-01-01', '2099-01-01')`, id)
	note := func() {
		db.MustExec(`INSERT INTO notifications (candidate_id, kind, text_zh, text_en) VALUES ($1, 'booking.confirmed', '预约成功', 'Booked')`, id)
	}
	o := &outboxCollector{db: db, every: time.Hour}
	scrape := func() float64 {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(o)
		fams, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fams {
			if f.GetName() == "examd_notify_outbox" {
				return f.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no examd_notify_outbox")
		return 0
	}
	note()
	if got := scrape(); got != 1 {
		t.Fatalf("first scrape: %v unsent, want 1", got)
	}
	note()
	if got := scrape(); got != 1 {
		t.Fatalf("a scrape within the interval: %v, want the last reading 1", got)
	}
	o.readAt = o.readAt.Add(-o.every - time.Millisecond) // the interval has passed
	if got := scrape(); got != 2 {
		t.Fatalf("a scrape after the interval: %v unsent, want 2", got)
	}
}
