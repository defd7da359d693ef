package server_test

import (
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
)

// TestFaultGracefulShutdown is the fault "SIGTERM under load" (make
// test-faults): examd is stopped with SIGTERM while candidates book from
// many clients and screens watch a venue. The bookings in flight complete
// or are refused whole: after a restart, every request that got no answer
// is sent again with its Idempotency-Key and none turns out to have been
// booked (no answer was lost), every 201 is confirmed, every refusal absent,
// no pair half booked, no slot over capacity. Every screen receives the
// close frame 1001 (going away), and examd exits with status 0.
func TestFaultGracefulShutdown(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	dbURL := cluster.URL("examd")
	bin := buildExamd(t)
	p := startExamd(t, bin, dbURL)
	db := openDB(t, dbURL)
	a := p.app(db, dbURL)
	day := servertest.NewExamDay(t, a, 2)
	closes := make([]chan error, 3)
	for i := range closes {
		s, _, err := servertest.Watch(t, a, day.Sched, day.Venue, "0")
		if err != nil {
			t.Fatal(err)
		}
		closes[i] = make(chan error, 1)
		go func() {
			for {
				_ = s.Conn.SetReadDeadline(time.Now().Add(time.Minute))
				if _, _, err := s.Conn.ReadMessage(); err != nil {
					closes[i] <- err
					return
				}
			}
		}()
	}

	rush := newRush(t, a, 3, 12, 90)
	var termAt time.Time
	var inFlight int
	rush.fire(p.URL, 12, func(answered int) bool { return answered >= len(rush.jobs)/3 }, func() {
		inFlight = rush.sending()
		termAt = time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Errorf("SIGTERM examd: %v", err)
		}
	})
	if termAt.IsZero() {
		t.Fatal("examd was never stopped: the rush ended first")
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("examd still running 20 s after SIGTERM")
	}
	exited := time.Since(termAt)
	if p.err != nil {
		t.Errorf("examd after SIGTERM: %v, want exit status 0\n%s", p.err, p.out.String())
	}
	for i, c := range closes {
		select {
		case err := <-c:
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("screen %d: connection ended with %v, want the close frame 1001 (going away)", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("screen %d: no close frame 5 s after examd exited", i)
		}
	}
	answered := rush.answeredCount()
	t.Logf("SIGTERM with %d requests in flight, after %d answers; examd exited (status 0) %v later; %d requests got no answer",
		inFlight, answered, exited.Round(time.Millisecond), rush.unansweredCount())

	p.start()
	rush.fire(p.URL, 12, nil, nil)
	if n := rush.count(retried, http.StatusOK); n != 0 {
		t.Errorf("%d requests were booked by the stopping examd but got no answer, want none", n)
	}
	rush.check(db)
}
