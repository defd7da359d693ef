package main

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/bench/benchkit"
	"examd/internal/testkit"
)

// target is a server under measure: where its screens connect, and how a
// poster sends it one event whose text is given.
type target struct {
	name       string
	wsURLs     []string // screen i connects to wsURLs[i mod len]
	centrifugo bool     // the screens speak Centrifugo's protocol
	post       func(poster int, text string) error
	sessions   *sessionSampler // the database's sessions, if it has any
}

// examdTarget posts instruction events to examd, each poster cycling
// through its own share of the bookings so that no two posts wait for the
// same booking's lock; with several replicas, poster p posts to replica p
// mod n and screen i watches replica i mod n.
func examdTarget(replicas []*benchkit.Replica, db *sqlx.DB, s venueSetup, posters int) target {
	next := make([]int, posters) // poster p's next booking: p, p+posters, …
	for p := range next {
		next[p] = p % len(s.bookings)
	}
	var urls []string
	for _, r := range replicas {
		urls = append(urls, fmt.Sprintf("ws://%s/api/v1/live?venue_id=%d&access_token=%s", r.Addr, s.venue, s.token))
	}
	return target{
		name:     "examd",
		sessions: &sessionSampler{db},
		wsURLs:   urls,
		post: func(p int, text string) error {
			c := replicas[p%len(replicas)].Client
			i := next[p]
			next[p] = (i + posters) % len(s.bookings)
			ev := deviceEvent{EventID: testkit.UUID(), BookingID: s.bookings[i], Type: "instruction", Text: text, At: time.Now().Format(time.RFC3339Nano)}
			return c.Must(http.StatusCreated, "POST", "/api/v1/exam/events", "Device "+s.devices[i], ev, nil)
		},
	}
}

// step is one paced run at one rate.
type step struct {
	rate     float64           // events/s asked for
	sent     int64             // events accepted
	failed   int64             // posts refused or failed
	achieved float64           // events accepted per second, until the last answer
	post     *histogram        // device POST round trips
	lat      *histogram        // POST sent → screen received, every event on every screen
	behind   float64           // events the average screen lacked when the last POST was answered
	drain    time.Duration     // from then until every screen had every event
	drained  bool              // within drainLimit
	t        tally             // after the step, missed, dup and dropped counted in this step only
	cpu      benchkit.CPUUsage // while the events were posted
	db       sessions          // examd's database sessions, while the events were posted
	firstErr error
}

// drainLimit bounds the wait for the screens after the last post.
const drainLimit = 5 * time.Second

// keptUp reports whether the delivery kept up with the rate: every event
// accepted at 95 % of the rate or better, the average screen at most a
// quarter second of events behind at the end, everything delivered within
// drainLimit to every screen, none dropped, and p99 under a second.
func (s step) keptUp() bool {
	return s.failed == 0 && s.achieved >= 0.95*s.rate && s.behind <= max(s.rate/4, 10) &&
		s.drained && s.t.dropped == 0 && s.t.missed == 0 && s.t.dup == 0 && s.lat.quantile(0.99) < time.Second
}

// runStep posts rate events/s to t for d from posters concurrent posters,
// each event's text carrying its send time and phase, and waits for the
// screens to receive them.
func runStep(t target, ss *screens, cpu *benchkit.CPUMeter, phase int64, rate float64, d time.Duration, posters int) step {
	ss.startPhase(phase)
	before := ss.tally()
	total := int(rate * d.Seconds())
	jobs := make(chan struct{}, total)
	res := step{rate: rate, post: &histogram{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	c0 := cpu.Sample()
	stopSampling := func() sessions { return sessions{} }
	if t.sessions != nil {
		stopSampling = t.sessions.start()
	}
	start := time.Now()
	for p := 0; p < posters; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &histogram{}
			var sent, failed int64
			var firstErr error
			for range jobs {
				t0 := time.Now()
				if err := t.post(p, fmt.Sprintf("t=%d p=%d", t0.UnixNano(), phase)); err != nil {
					failed++
					firstErr = cmpOr(firstErr, err)
					continue
				}
				h.add(int64(time.Since(t0)))
				sent++
			}
			mu.Lock()
			res.post.merge(h)
			res.sent += sent
			res.failed += failed
			res.firstErr = cmpOr(res.firstErr, firstErr)
			mu.Unlock()
		}()
	}
	// Release the events on schedule, never more than a millisecond late.
	for released := 0; released < total; time.Sleep(time.Millisecond) {
		due := min(total, int(time.Since(start).Seconds()*rate)+1)
		for ; released < due; released++ {
			jobs <- struct{}{}
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	res.cpu = cpu.Usage(c0, cpu.Sample())
	res.db = stopSampling()
	res.achieved = float64(res.sent) / elapsed.Seconds()
	ss.expected += res.sent
	res.behind = float64(ss.tally().behind) / float64(len(ss.list))
	end := time.Now()
	for {
		res.t = ss.tally()
		if res.t.lagging == 0 || res.t.dropped > 0 || time.Since(end) > drainLimit {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res.drain, res.drained = time.Since(end), res.t.lagging == 0
	res.t.missed -= before.missed
	res.t.dup -= before.dup
	res.t.dropped -= before.dropped
	res.lat = ss.latencies()
	return res
}

// targetResult is one target's steps: the run at the asked rate, then the
// ramp.
type targetResult struct {
	name      string
	main      step
	ramp      []step
	sustained float64 // the highest rate that kept up; 0 if none did
	lowestBad float64 // the lowest rate that fell behind; 0 if none did
	final     tally   // the screens at the end, over every step
}

// measure runs t on the screens ss, which it closes at the end: a short
// warm-up, then the step at o.rate for o.duration. With o.ramp it then
// looks for the highest sustained rate in steps of o.step: doubling the
// rate while delivery keeps up (up to o.rampMax) or halving it while it
// falls behind (down to o.rampMin), then bisecting between the highest
// rate that kept up and the lowest that did not, to within an eighth (six
// ramp steps at most). Screens dropped by a step are replaced by a fresh
// set before the next.
func measure(out io.Writer, t target, ss *screens, cpu *benchkit.CPUMeter, o options) (targetResult, error) {
	r := targetResult{name: t.name}
	phase := int64(1)
	var final tally // of the screens closed on the way
	run := func(rate float64, d time.Duration) (step, error) {
		s := runStep(t, ss, cpu, phase, rate, d, o.posters)
		phase++
		if phase > 2 { // not the warm-up
			printStep(out, s)
			switch {
			case s.keptUp():
				r.sustained = max(r.sustained, rate)
			case r.lowestBad == 0 || rate < r.lowestBad:
				r.lowestBad = rate
			}
		}
		ss.settle(30 * time.Second) // a step that fell behind does not spill into the next
		if s.t.dropped > 0 {
			final = final.plus(ss.tally())
			ss.close()
			var err error
			if ss, err = dialScreens(t, o.screens); err != nil {
				return s, fmt.Errorf("replace the dropped screens: %w", err)
			}
		}
		return s, nil
	}
	defer func() { ss.close() }()
	if _, err := run(o.rate, 2*time.Second); err != nil { // connections and caches warm up
		return r, err
	}
	fmt.Fprintf(out, "%s: %.0f events/s for %s…\n", t.name, o.rate, o.duration)
	var err error
	if r.main, err = run(o.rate, o.duration); err != nil {
		return r, err
	}
ramp:
	for o.ramp {
		var rate float64
		switch {
		case r.lowestBad == 0 && 2*r.sustained <= o.rampMax:
			rate = 2 * r.sustained
		case r.sustained == 0 && r.lowestBad/2 >= o.rampMin:
			rate = r.lowestBad / 2
		case r.sustained > 0 && r.lowestBad > r.sustained && len(r.ramp) < 6 && r.lowestBad-r.sustained > r.sustained/8:
			rate = math.Round((r.sustained + r.lowestBad) / 2) // bisect to within an eighth
		default:
			break ramp
		}
		fmt.Fprintf(out, "%s: ramp, %.0f events/s for %s…\n", t.name, rate, o.step)
		s, err := run(rate, o.step)
		r.ramp = append(r.ramp, s)
		if err != nil {
			return r, err
		}
	}
	r.final = final.plus(ss.tally())
	return r, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
