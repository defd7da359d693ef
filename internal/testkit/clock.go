package testkit

import (
	"sync"
	"time"
)

// Shanghai is the exam hall's time zone, as a fixed offset (China has no
// daylight saving time).
var Shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// Clock is a clock a test sets: examd takes Now as its clock, so a test can
// run on a fixed date and at a day's edges. It is safe for concurrent use.
// A stopped clock stays where it was set; a running one moves on with the
// wall clock from there.
type Clock struct {
	mu      sync.Mutex
	at      time.Time // the time at set
	set     time.Time // the wall clock (monotonic) when at was set
	running bool
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock {
	return &Clock{at: t, set: time.Now()}
}

// RunningClock returns a clock that starts at t and moves on with the wall
// clock, for tests whose server must see time pass (timeouts, pacing).
func RunningClock(t time.Time) *Clock {
	c := NewClock(t)
	c.running = true
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return c.at.Add(time.Since(c.set))
	}
	return c.at
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.set = t, time.Now()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		c.at = c.at.Add(time.Since(c.set))
	}
	c.at, c.set = c.at.Add(d), time.Now()
}

// Day returns midnight in Shanghai d days after t's day there.
func Day(t time.Time, d int) time.Time {
	y, m, dd := t.In(Shanghai).Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, Shanghai).AddDate(0, 0, d)
}
