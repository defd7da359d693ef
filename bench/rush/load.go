package main

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"sync"
	"time"

	"examd/bench/benchkit"
	"examd/internal/testkit"
)

// setup is what the bookings are fired with.
type setup struct {
	slots  []int64
	tokens []string
}

// prepare creates, through the API, a venue, o.slots subject 2 slots from
// five days ahead (a week of four sessions a day by default) whose seats add up to o.fill of the candidates, and the
// candidates, each logged in.
func prepare(c *benchkit.Client, o options) (setup, error) {
	var s setup
	admin, err := login(c, "admin", "rush-admin-pw")
	if err != nil {
		return s, err
	}
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/users", admin,
		map[string]any{"username": "rush-scheduler", "password": "rush-scheduler-pw", "role": "scheduler"}, nil); err != nil {
		return s, err
	}
	sched, err := login(c, "rush-scheduler", "rush-scheduler-pw")
	if err != nil {
		return s, err
	}
	var venue struct {
		ID int64 `json:"id"`
	}
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/venues", sched,
		map[string]any{"name": "压测考场", "address": "", "step_free": true}, &venue); err != nil {
		return s, err
	}
	shanghai := time.FixedZone("Asia/Shanghai", 8*3600)
	y, m, d := time.Now().In(shanghai).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, shanghai).AddDate(0, 0, 5)
	seats := int(math.Ceil(o.fill * float64(o.candidates) / float64(o.slots)))
	for i := 0; i < o.slots; i++ {
		// Four one-hour sessions a day (08, 10, 13 and 15 o'clock), over as many days as it takes.
		start := day.AddDate(0, 0, i/4).Add(time.Duration([]int{8, 10, 13, 15}[i%4]) * time.Hour)
		var slot struct {
			ID int64 `json:"id"`
		}
		if err := c.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
			"venue_id": venue.ID, "subject": 2, "licence_class": "C1", "capacity": seats, "priority_reserved": 0,
			"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339),
			"adapted_vehicle": false,
		}, &slot); err != nil {
			return s, err
		}
		s.slots = append(s.slots, slot.ID)
	}

	s.tokens = make([]string, o.candidates)
	errs := make(chan error, o.candidates)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				id := testkit.IDNumber(i)
				err := c.Must(http.StatusCreated, "POST", "/api/v1/candidates", sched, map[string]any{
					"id_number": id, "name": fmt.Sprintf("考生%d", i), "phone": "13800138000", "licence_class": "C1",
					"permit_issued_on":   day.AddDate(0, 0, -65).Format(time.DateOnly),
					"permit_expires_on":  day.AddDate(3, 0, -65).Format(time.DateOnly),
					"subject1_passed_on": day.AddDate(0, 0, -66).Format(time.DateOnly),
					"password":           "rush-candidate",
				}, nil)
				if err == nil {
					s.tokens[i], err = login(c, id, "rush-candidate")
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range s.tokens {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return s, err
	}
	return s, nil
}

// login returns the Authorization header of user.
func login(c *benchkit.Client, user, password string) (string, error) {
	tok, err := c.Login(user, password)
	return "Bearer " + tok, err
}

// result is what the bookings came to.
type result struct {
	started time.Time
	elapsed time.Duration     // the first booking sent to the last answered
	settled time.Duration     // the first booking sent to examd's jobs caught up (settle)
	cpu     benchkit.CPUUsage // examd's and PostgreSQL's, from the first booking to settled
	// the audit chain's lag, sampled every 100 ms from the first booking to
	// settled: p99 and maximum in seconds, and the number of samples
	lagP99, lagMax float64
	lagSamples     int
	latencies      []time.Duration
	outcomes       map[string]int
}

// fire books once per candidate from clients concurrent clients, all
// released at once, client w talking to examd process w mod len(cs) (the
// bench plays the load balancer); candidate i asks for slot i mod slots.
func fire(cs []*benchkit.Client, s setup, clients int) result {
	r := result{outcomes: map[string]int{}}
	var mu sync.Mutex
	work := make(chan int, len(s.tokens))
	for i := range s.tokens {
		work <- i
	}
	close(work)
	var wg sync.WaitGroup
	r.started = time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		c := cs[w%len(cs)]
		go func() {
			defer wg.Done()
			for i := range work {
				t0 := time.Now()
				status, code, err := c.Do("POST", "/api/v1/bookings", s.tokens[i],
					map[string]any{"slot_ids": []int64{s.slots[i%len(s.slots)]}}, nil)
				d := time.Since(t0)
				outcome := code
				switch {
				case err != nil:
					outcome = "transport_error"
				case status == http.StatusCreated:
					outcome = "confirmed"
				case code == "":
					outcome = fmt.Sprint(status)
				}
				mu.Lock()
				r.latencies = append(r.latencies, d)
				r.outcomes[outcome]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(r.started)
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	return r
}

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(r.latencies)))) - 1
	return r.latencies[max(i, 0)]
}
