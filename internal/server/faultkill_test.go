package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
)

// TestFaultExamdKilledMidRush is the fault "examd killed mid-rush" (make
// test-faults): candidates book single and combined subject 2 + 3 slots from
// many clients at once against the examd binary, which is killed with
// SIGKILL in the middle and started again on the same database; the clients
// then send again, with the same Idempotency-Key, what got no answer. In the
// end every booking answered 201 or 200 is confirmed, every refused one is
// absent, no slot holds more than its seats (and booked counts its
// confirmed bookings), no combined pair is half booked, and `examd audit
// verify` finds the audit chain intact.
func TestFaultExamdKilledMidRush(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	dbURL := cluster.URL("examd")
	bin := buildExamd(t)
	p := startExamd(t, bin, dbURL)
	db := openDB(t, dbURL)
	a := p.app(db, dbURL)

	rush := newRush(t, a, 3, 12, 90)
	killAfter := len(rush.jobs) / 3
	var killedAt time.Time
	var inFlight int
	rush.fire(p.URL, 12, func(answered int) bool { return answered >= killAfter }, func() {
		inFlight = rush.sending()
		p.kill()
		killedAt = time.Now()
	})
	if killedAt.IsZero() {
		t.Fatalf("examd was never killed: the rush ended first")
	}
	beforeKill := rush.answeredCount()
	lost := rush.unansweredCount()
	p.start()
	t.Logf("killed with SIGKILL after %d answers, %d requests in flight; ready again %v after the kill",
		beforeKill, inFlight, time.Since(killedAt).Round(time.Millisecond))
	if lost == 0 {
		t.Fatalf("no request went unanswered: the kill was not mid-rush")
	}
	rush.fire(p.URL, 12, nil, nil)
	rush.check(db)
	t.Logf("%d requests got no answer from the killed examd; sent again: %d answered 201, %d 200 (booked before the kill, answer lost), %d refused",
		lost, rush.count(retried, http.StatusCreated), rush.count(retried, http.StatusOK), rush.refusedCount(retried))
	t.Logf("examd audit verify: %s", auditVerify(t, bin, dbURL))
}

// rush is a crowd of candidates, each sending one booking request: a subject
// 2 slot, a subject 3 slot, or a combined pair of one day.
type rush struct {
	t    *testing.T
	jobs []*bookingJob

	inflight atomic.Int64
	mu       sync.Mutex
}

// bookingJob is one candidate's request and what became of it.
type bookingJob struct {
	token string
	cand  int64
	slots []int64
	key   string // Idempotency-Key

	status  int     // the last answer's, 0 while unanswered
	code    string  // a refusal's
	booked  []int64 // the answer's booking ids
	retried bool    // sent again after getting no answer
}

// Which jobs count() looks at.
const (
	all     = false
	retried = true
)

// newRush publishes pairs subject 2 + 3 slot pairs of seats seats each, on
// one day a week ahead, and n candidates: a third book subject 2, a third
// subject 3 and a third the combined pair, the pairs in turn, so that some
// are refused slot_full.
func newRush(t *testing.T, a *servertest.App, pairs, seats, n int) *rush {
	t.Helper()
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2, s3 := make([]int64, pairs), make([]int64, pairs)
	for i := range pairs {
		// Subject 2 from 7:00, 9:00, …, over by 13:00; subject 3 from 14:00.
		s2[i] = a.NewSlot(sched, venue, 2, 8, 7+2*i%6, map[string]any{"capacity": seats})
		s3[i] = a.NewSlot(sched, venue, 3, 8, 14+2*i%8, map[string]any{"capacity": seats})
	}
	r := &rush{t: t}
	for i := range n {
		c := a.NewCandidate(sched, nil)
		j := &bookingJob{token: c.Token, cand: c.ID, key: fmt.Sprintf("rush-%d", i)}
		pair := (i / 3) % pairs
		switch i % 3 {
		case 0:
			j.slots = []int64{s2[pair]}
		case 1:
			j.slots = []int64{s3[pair]}
		default:
			j.slots = []int64{s2[pair], s3[pair]}
		}
		r.jobs = append(r.jobs, j)
	}
	return r
}

// fire sends every unanswered job from clients at once, to the examd at
// url. When stopWhen(answers so far) first holds, stop is called while the
// others go on sending; a job that then gets no answer stays unanswered.
// Without stopWhen, fire sends each job until it is answered (503 and
// refused connections are retried for 30 s).
func (r *rush) fire(url string, clients int, stopWhen func(int) bool, stop func()) {
	r.t.Helper()
	work := make(chan *bookingJob, len(r.jobs))
	for _, j := range r.jobs {
		if j.status == 0 {
			if stopWhen == nil {
				j.retried = true
			}
			work <- j
		}
	}
	close(work)
	var answered atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			for j := range work {
				giveUp := time.Now().Add(30 * time.Second)
				for {
					r.inflight.Add(1)
					status, code, ids, err := book(client, url, j)
					r.inflight.Add(-1)
					if err == nil && status != http.StatusServiceUnavailable {
						r.mu.Lock()
						j.status, j.code, j.booked = status, code, ids
						r.mu.Unlock()
						if stopWhen != nil && stopWhen(int(answered.Add(1))) {
							once.Do(stop)
						}
						break
					}
					if stopWhen != nil && err != nil {
						break // no answer: sent again after the restart
					}
					if time.Now().After(giveUp) {
						r.t.Errorf("booking %s: no answer within 30 s: %d %v", j.key, status, err)
						break
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// book sends j's request once and returns the answer.
func book(client *http.Client, url string, j *bookingJob) (status int, code string, ids []int64, err error) {
	body, _ := json.Marshal(map[string]any{"slot_ids": j.slots})
	req, _ := http.NewRequest("POST", url+"/api/v1/bookings", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+j.token)
	req.Header.Set("Idempotency-Key", j.key)
	res, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, "", nil, err
	}
	var answer struct {
		Bookings []struct {
			ID int64 `json:"id"`
		} `json:"bookings"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return res.StatusCode, "", nil, fmt.Errorf("%d %q: %w", res.StatusCode, raw, err)
	}
	for _, b := range answer.Bookings {
		ids = append(ids, b.ID)
	}
	return res.StatusCode, answer.Error.Code, ids, nil
}

// sending is how many requests are on their way now.
func (r *rush) sending() int { return int(r.inflight.Load()) }

func (r *rush) answeredCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, j := range r.jobs {
		if j.status != 0 {
			n++
		}
	}
	return n
}

func (r *rush) unansweredCount() int { return len(r.jobs) - r.answeredCount() }

// count is how many jobs (of those sent again, with retried) were answered
// status.
func (r *rush) count(onlyRetried bool, status int) int {
	n := 0
	for _, j := range r.jobs {
		if j.status == status && (j.retried || !onlyRetried) {
			n++
		}
	}
	return n
}

// refusedCount is how many jobs were refused (4xx).
func (r *rush) refusedCount(onlyRetried bool) int {
	n := 0
	for _, j := range r.jobs {
		if j.status >= 400 && j.status < 500 && (j.retried || !onlyRetried) {
			n++
		}
	}
	return n
}

// check holds the database to every answer: each job answered, each 201 or
// 200 confirmed as answered, each refusal absent, the seats counted and
// within capacity, no half pair.
func (r *rush) check(db *sqlx.DB) {
	r.t.Helper()
	t := r.t
	confirmedAnswers := 0
	codes := map[string]int{}
	for _, j := range r.jobs {
		switch {
		case j.status == http.StatusCreated || j.status == http.StatusOK:
			var got []struct {
				ID     int64  `db:"id"`
				Cand   int64  `db:"candidate_id"`
				Slot   int64  `db:"slot_id"`
				Status string `db:"status"`
			}
			if err := db.Select(&got, `SELECT id, candidate_id, slot_id, status FROM bookings WHERE id = ANY($1) ORDER BY id`,
				pq.Array(j.booked)); err != nil {
				t.Fatal(err)
			}
			var slots []int64
			for _, b := range got {
				if b.Status != "confirmed" || b.Cand != j.cand {
					t.Errorf("%s answered %d: booking %d of candidate %d is %s, want confirmed for candidate %d",
						j.key, j.status, b.ID, b.Cand, b.Status, j.cand)
				}
				slots = append(slots, b.Slot)
			}
			want := slices.Sorted(slices.Values(j.slots))
			if slices.Sort(slots); !slices.Equal(slots, want) {
				t.Errorf("%s answered %d: bookings %v in slots %v, want slots %v", j.key, j.status, j.booked, slots, want)
			}
			confirmedAnswers += len(j.slots)
		case j.status >= 400 && j.status < 500:
			codes[j.code]++
			var n int
			if err := db.Get(&n, `SELECT count(*) FROM bookings WHERE candidate_id = $1`, j.cand); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%s refused %d %s: the candidate has %d bookings, want none", j.key, j.status, j.code, n)
			}
		default:
			t.Errorf("%s: answer %d %s, want 201, 200 or a refusal", j.key, j.status, j.code)
		}
	}
	var stored int
	if err := db.Get(&stored, `SELECT count(*) FROM bookings WHERE status = 'confirmed'`); err != nil {
		t.Fatal(err)
	}
	if stored != confirmedAnswers {
		t.Errorf("%d bookings confirmed in the database, %d answered", stored, confirmedAnswers)
	}
	var slots []struct {
		ID        int64 `db:"id"`
		Capacity  int   `db:"capacity"`
		Booked    int   `db:"booked"`
		Confirmed int   `db:"confirmed"`
	}
	if err := db.Select(&slots, `
		SELECT s.id, s.capacity, s.booked, count(b.id) FILTER (WHERE b.status = 'confirmed') AS confirmed
		FROM slots s LEFT JOIN bookings b ON b.slot_id = s.id GROUP BY s.id ORDER BY s.id`); err != nil {
		t.Fatal(err)
	}
	full := 0
	for _, s := range slots {
		if s.Booked > s.Capacity || s.Booked != s.Confirmed {
			t.Errorf("slot %d: booked %d, capacity %d, %d confirmed bookings; want booked = confirmed <= capacity",
				s.ID, s.Booked, s.Capacity, s.Confirmed)
		}
		if s.Booked == s.Capacity {
			full++
		}
	}
	var halves int
	if err := db.Get(&halves, `
		SELECT count(*) FROM bookings b
		WHERE b.pair_id IS NOT NULL AND b.status = 'confirmed' AND NOT EXISTS (
			SELECT 1 FROM bookings o WHERE o.id = b.pair_id AND o.pair_id = b.id AND o.status = 'confirmed')`); err != nil {
		t.Fatal(err)
	}
	if halves != 0 {
		t.Errorf("%d confirmed halves of a combined pair without the other half", halves)
	}
	t.Logf("%d requests: %d answered 201, %d 200, refused %v; %d bookings confirmed; %d of %d slots full; no half pair",
		len(r.jobs), r.count(all, http.StatusCreated), r.count(all, http.StatusOK), codes, stored, full, len(slots))
}
