// Package sim plays an exam day at a running examd: judging devices that
// examine today's confirmed bookings of a venue, item by item, with spoken
// instructions, deductions drawn from the catalogue and same-day retakes,
// so that a screen watching the venue shows a plausible day. It uses only
// examd's public HTTP API, as real devices and staff do, and Seed prepares
// such a day on an empty examd for the demo.
package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"examd/exam"
	"examd/scheduling"
)

// Options says where and how to play the day.
type Options struct {
	BaseURL    string   // examd, e.g. http://127.0.0.1:8080
	VenueID    int64    // the venue whose bookings are examined
	DeviceKeys []string // the venue's judging devices (exam cars, theory terminals), one per key: each examines what it serves
	Token      string   // a staff bearer token: lists today's slots, their rosters and the rules
	Speed      float64  // 1 plays at real pace; 20 twenty times faster
	Seed       int64    // seeds every draw: the same seed examines a booking the same way
	// Now is the devices' clock, examd's own in tests; nil is time.Now.
	Now func() time.Time
}

// booking is a confirmed booking of today waiting for its exam.
type booking struct {
	ID, CandidateID int64
	Lane            string
	Subject         int
	LicenceClass    string
	StartsAt        time.Time // the slot's start: no exam starts before it
}

// Run examines today's confirmed bookings of the venue, slot by slot in
// order of start and each slot's roster in exam order (priority lane first,
// PL-ORDER), with every device taking the next booking it serves when it is free. It
// returns when every booking has been examined, or nil as soon as ctx is
// done (an attempt under way is left in progress, as a device switched off
// would leave it; the next run resumes it).
func Run(ctx context.Context, o Options, log *slog.Logger) error {
	switch {
	case o.BaseURL == "":
		return errors.New("sim: the examd URL is required")
	case o.VenueID <= 0:
		return errors.New("sim: a venue id is required")
	case len(o.DeviceKeys) == 0:
		return errors.New("sim: at least one device key is required")
	case o.Token == "":
		return errors.New("sim: a staff token is required to read the rosters")
	case !(o.Speed > 0):
		return errors.New("sim: the speed must be positive")
	}
	c := newClient(o.BaseURL, o.Now)
	queue, err := todaysBookings(ctx, c, o, c.now())
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	rules := map[int][]rule{}
	for _, subject := range []int{2, 3} {
		var res struct {
			Rules []rule `json:"rules"`
		}
		err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/rules?subject=%d", subject), bearer(o.Token), nil, &res)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sim: deduction catalogue of subject %d: %w", subject, err)
		}
		rules[subject] = res.Rules
	}
	log.Info("exam day starts", "venue", o.VenueID, "bookings", len(queue), "devices", len(o.DeviceKeys), "speed", o.Speed, "seed", o.Seed)
	if len(queue) == 0 {
		log.Warn("no confirmed bookings today at this venue: nothing to examine")
		return nil
	}

	next := newPool(queue, len(o.DeviceKeys))
	t := &tally{}
	var wg sync.WaitGroup
	errs := make([]error, len(o.DeviceKeys))
	for i, key := range o.DeviceKeys {
		d := &device{no: i + 1, key: key, c: c, speed: o.Speed, seed: o.Seed, rules: rules, tally: t,
			log: log.With("device", i+1)}
		wg.Go(func() { errs[i] = d.work(ctx, next) })
	}
	wg.Wait()
	log.Info("exam day over", "attempts", t.attempts.Load(), "passed", t.passed.Load(), "failed", t.failed.Load(),
		"stopped_early", ctx.Err() != nil)
	return errors.Join(errs...)
}

// slot is a slot as GET /api/v1/slots lists it.
type slot struct {
	ID           int64     `json:"id"`
	Subject      int       `json:"subject"`
	LicenceClass string    `json:"licence_class"`
	StartsAt     time.Time `json:"starts_at"`
}

// todaysBookings lists the confirmed bookings of the venue's slots of today.
func todaysBookings(ctx context.Context, c *client, o Options, now time.Time) ([]booking, error) {
	today := scheduling.Day(now).Format(time.DateOnly)
	q := url.Values{"venue_id": {fmt.Sprint(o.VenueID)}, "from": {today}, "to": {today}}
	var res struct {
		Slots []slot `json:"slots"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/slots?"+q.Encode(), bearer(o.Token), nil, &res); err != nil {
		return nil, fmt.Errorf("sim: today's slots: %w", err)
	}
	slots := res.Slots
	slices.SortFunc(slots, func(a, b slot) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.ID, b.ID))
	})
	var out []booking
	for _, s := range slots {
		var roster struct {
			Candidates []struct {
				BookingID   int64  `json:"booking_id"`
				CandidateID int64  `json:"candidate_id"`
				Lane        string `json:"lane"`
				Status      string `json:"status"`
			} `json:"candidates"`
		}
		if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/api/v1/slots/%d/roster", s.ID), bearer(o.Token), nil, &roster); err != nil {
			return nil, fmt.Errorf("sim: roster of slot %d: %w", s.ID, err)
		}
		for _, e := range roster.Candidates {
			if e.Status == scheduling.StatusConfirmed {
				out = append(out, booking{ID: e.BookingID, CandidateID: e.CandidateID, Lane: e.Lane, Subject: s.Subject,
					LicenceClass: s.LicenceClass, StartsAt: s.StartsAt})
			}
		}
	}
	return out, nil
}

// tally counts the attempts that ended.
type tally struct{ attempts, passed, failed atomic.Int64 }

// device is one judging device: it examines one booking at a time.
type device struct {
	no    int
	key   string
	c     *client
	speed float64
	seed  int64
	rules map[int][]rule
	tally *tally
	log   *slog.Logger
}

// Pauses at real pace, in seconds: [low, high).
var (
	firstCandidate = [2]float64{5, 30}
	nextCandidate  = [2]float64{60, 180} // the next candidate gets in and adjusts the seat
	beforeRetake   = [2]float64{120, 300}
	betweenItems   = [2]float64{20, 60}
	betweenEvents  = [2]float64{10, 40}
	theoryExam     = [2]float64{20 * 60, 40 * 60}
)

// pause waits a draw from span, at the device's speed.
func (d *device) pause(ctx context.Context, rng *rand.Rand, span [2]float64) error {
	s := span[0] + rng.Float64()*(span[1]-span[0])
	return sleep(ctx, time.Duration(s/d.speed*float64(time.Second)))
}

// work examines bookings from next until there are none left for it or
// ctx is done. It gives up only when examd no longer knows the device's key.
func (d *device) work(ctx context.Context, next *pool) error {
	first, refused := true, false
	for {
		b, ok := next.take(d.no)
		if !ok {
			return nil
		}
		// Each booking draws from its own stream, so that it is examined
		// the same way whichever device takes it.
		rng := rand.New(rand.NewPCG(uint64(d.seed), uint64(b.ID)))
		gap := nextCandidate
		if first {
			gap, first = firstCandidate, false
		}
		if refused {
			gap = [2]float64{} // nobody got in: the next candidate is waiting
		}
		err := d.pause(ctx, rng, gap)
		if err == nil {
			// The slot's start is real time, whatever the speed.
			err = sleep(ctx, b.StartsAt.Sub(d.c.now()))
		}
		if err == nil {
			err = d.examine(ctx, rng, b)
		}
		// ED-ATTEMPT: a device examines the subjects and classes it
		// serves (adapted when the candidate needs it), one at a time;
		// another device takes what this one was refused.
		refused = refusedWith(err, "wrong_device") || refusedWith(err, "device_busy")
		if next.done(b, d.no, refused) {
			d.log.Warn("no device can examine the booking", "booking", b.ID, "subject", b.Subject, "class", b.LicenceClass)
		}
		var r *refusal
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &r) && r.Status == http.StatusUnauthorized:
			return fmt.Errorf("sim: device %d: examd does not know its key (retired?)", d.no)
		case refused:
			d.log.Debug("booking left to another device", "booking", b.ID, "err", err.Error())
		case err != nil:
			d.log.Warn("booking left unexamined", "booking", b.ID, "err", err.Error())
		}
	}
}

// pool hands the devices today's bookings in exam order. A device cannot
// ask examd what it serves; a booking it is refused goes back to the others,
// ahead of the rest, and is dropped once every device was refused it.
type pool struct {
	mu      sync.Mutex
	changed *sync.Cond
	waiting []booking
	refused map[int64]map[int]bool // booking → the devices refused it
	out     int                    // bookings taken and not yet done
	devices int
}

func newPool(queue []booking, devices int) *pool {
	p := &pool{waiting: slices.Clone(queue), refused: map[int64]map[int]bool{}, devices: devices}
	p.changed = sync.NewCond(&p.mu)
	return p
}

// take returns the first waiting booking that device no was not refused,
// and false when none is left for it: while other devices hold bookings
// that may come back, it waits for them.
func (p *pool) take(no int) (booking, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for i, b := range p.waiting {
			if !p.refused[b.ID][no] {
				p.waiting = slices.Delete(p.waiting, i, i+1)
				p.out++
				return b, true
			}
		}
		if p.out == 0 {
			return booking{}, false
		}
		p.changed.Wait()
	}
}

// done gives back a booking that device no took: examined, or refused, when
// it goes back to the others; it reports whether every device was refused it.
func (p *pool) done(b booking, no int, refused bool) (dropped bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.changed.Broadcast()
	p.out--
	if !refused {
		return false
	}
	if p.refused[b.ID] == nil {
		p.refused[b.ID] = map[int]bool{}
	}
	p.refused[b.ID][no] = true
	if len(p.refused[b.ID]) == p.devices {
		return true
	}
	p.waiting = slices.Insert(p.waiting, 0, b)
	return false
}

// examine runs a booking's exam and, after a failed first attempt, most
// often the same-day retake (BK-RETAKE).
func (d *device) examine(ctx context.Context, rng *rand.Rand, b booking) error {
	for {
		a, err := d.attempt(ctx, rng, b)
		switch {
		case refusedWith(err, "attempt_finished"), refusedWith(err, "retake_exhausted"), refusedWith(err, "not_confirmed"):
			d.log.Info("booking already examined", "booking", b.ID)
			return nil
		case err != nil:
			return err
		}
		d.tally.attempts.Add(1)
		if a.Attempt.Status == exam.Passed {
			d.tally.passed.Add(1)
		} else {
			d.tally.failed.Add(1)
		}
		d.log.Info("attempt ended", "booking", b.ID, "candidate", b.CandidateID, "subject", b.Subject,
			"attempt", a.Attempt.AttemptNo, "score", a.Attempt.Score, "pass_mark", a.Attempt.PassMark, "result", a.Attempt.Status)
		if a.Attempt.Status != exam.Failed || a.Attempt.AttemptNo >= 2 {
			return nil
		}
		if rng.Float64() >= retakeRate {
			d.log.Info("candidate declines the retake", "booking", b.ID)
			return nil
		}
		if err := d.pause(ctx, rng, beforeRetake); err != nil {
			return err
		}
	}
}

// attempt runs one attempt and returns the answer that ended it.
func (d *device) attempt(ctx context.Context, rng *rand.Rand, b booking) (answer, error) {
	send := func(ev event) (answer, error) {
		ev.BookingID = b.ID
		d.log.Debug("event", "booking", b.ID, "type", ev.Type, "item", ev.Item, "rule", ev.Rule, "text", ev.Text)
		return d.c.postEvent(ctx, d.log, d.key, ev)
	}
	if b.Subject == 4 {
		// The theory terminal reports one result at the end (no deductions).
		if err := d.pause(ctx, rng, theoryExam); err != nil {
			return answer{}, err
		}
		score := theoryScore(rng)
		return send(event{Type: exam.TheoryResult, Score: &score})
	}

	items := route(b.Subject, b.LicenceClass, d.c.now())
	planned := plan(rng, items, d.rules[b.Subject], exam.PassMark(b.Subject, b.LicenceClass))
	a, err := send(event{Type: exam.ExamStarted})
	if refusedWith(err, "attempt_in_progress") {
		// A device restarted mid-exam drives the route again in the same attempt.
		d.log.Info("resuming an attempt in progress", "booking", b.ID)
	} else if err != nil {
		return a, err
	} else {
		d.log.Info("exam started", "booking", b.ID, "candidate", b.CandidateID, "subject", b.Subject,
			"class", b.LicenceClass, "lane", b.Lane, "attempt", a.Attempt.AttemptNo)
	}
	for i, item := range items {
		if err := d.pause(ctx, rng, betweenItems); err != nil {
			return a, err
		}
		if a, err = send(event{Type: exam.ItemStarted, Item: item}); err != nil {
			return a, err
		}
		// The item's events: its spoken instructions, with the item's
		// deductions after the opening command.
		var evs []event
		for _, text := range spoken(rng, item) {
			evs = append(evs, event{Type: exam.Instruction, Text: text})
		}
		for _, dd := range planned {
			if dd.Item == i {
				at := 1 + rng.IntN(len(evs))
				evs = slices.Insert(evs, at, event{Type: exam.Deduction, Rule: dd.Rule.Code})
			}
		}
		for _, ev := range evs {
			if err := d.pause(ctx, rng, betweenEvents); err != nil {
				return a, err
			}
			if a, err = send(ev); err != nil {
				return a, err
			}
			if a.Attempt.Status != exam.InProgress {
				return a, nil // SC-END: the judging system stops the exam
			}
		}
		if err := d.pause(ctx, rng, betweenEvents); err != nil {
			return a, err
		}
		if a, err = send(event{Type: exam.ItemFinished, Item: item}); err != nil {
			return a, err
		}
	}
	if err := d.pause(ctx, rng, betweenEvents); err != nil {
		return a, err
	}
	return send(event{Type: exam.ExamFinished})
}
