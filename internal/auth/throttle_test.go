package auth_test

import (
	"testing"
	"time"

	"examd/internal/auth"
)

var t0 = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// fail applies n failures, one a second from at, and returns the counts
// and the time of the last.
func fail(p auth.Throttle, c auth.Counts, at time.Time, n int) (auth.Counts, time.Time) {
	for i := 0; i < n; i++ {
		c = p.Failed(c, at)
		if i < n-1 {
			at = at.Add(time.Second)
		}
	}
	return c, at
}

// TestThrottleLimits: a key may fail up to its limit within the window;
// the limit's failure blocks it for the back-off, and nothing before.
func TestThrottleLimits(t *testing.T) {
	p := auth.DefaultThrottle()
	for name, tc := range map[string]struct {
		failures int
		known    bool
		want     time.Duration // the wait a second after the last failure
	}{
		"NinthPairFailure":  {9, false, 0},
		"TenthPairFailure":  {10, false, time.Minute - time.Second},
		"EleventhFailure":   {11, false, 2*time.Minute - time.Second}, // tried when the first block ended
		"KnownAddressPair":  {10, true, time.Minute - time.Second},    // a known address is still a pair
		"NoFailure":         {0, false, 0},
		"ThirdFailureAfter": {12, false, 4*time.Minute - time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			c := auth.Counts{KnownAddress: tc.known}
			at := t0
			for i := 0; i < tc.failures; i++ {
				if w := p.Wait(c, at); w > 0 {
					at = at.Add(w) // the attempt comes when the block ends
				}
				c = p.Failed(c, at)
				at = at.Add(time.Second)
			}
			if got := p.Wait(c, at); got != tc.want {
				t.Errorf("wait %v after %d failures, want %v", got, tc.failures, tc.want)
			}
		})
	}
}

// TestThrottleWindow: failures older than the window are forgotten, to the
// nanosecond; a blocked key keeps its count until a window after its block.
func TestThrottleWindow(t *testing.T) {
	p := auth.DefaultThrottle()
	// Nine failures at t0, the tenth at the window's last instant: blocked.
	c, _ := fail(p, auth.Counts{}, t0, 9)
	c9 := c
	edge := t0.Add(p.Window) // the first failure's window ends

	if got := p.Wait(p.Failed(c9, edge.Add(-time.Nanosecond)), edge); got != time.Minute-time.Nanosecond {
		t.Errorf("tenth failure just inside the window: wait %v, want a minute", got)
	}
	// The tenth at the window's end starts a new window: one failure.
	c10 := p.Failed(c9, edge)
	if c10.Pair.Failures != 1 || p.Wait(c10, edge) != 0 {
		t.Errorf("tenth failure at the window's end: %+v, want a new window of 1", c10.Pair)
	}

	// Blocked at 10, the count lives on through the block and a window
	// after it: a failure then is the eleventh, blocked twice as long.
	b, at := fail(p, auth.Counts{}, t0, 10)
	end := at.Add(time.Minute)
	late := end.Add(p.Window - time.Nanosecond)
	if got := p.Failed(b, late); got.Pair.Failures != 11 || got.Pair.BlockedUntil != late.Add(2*time.Minute) {
		t.Errorf("failure a window after the block, less 1 ns: %+v, want the 11th, 2 minutes", got.Pair)
	}
	if got := p.Failed(b, end.Add(p.Window)); got.Pair.Failures != 1 {
		t.Errorf("failure a window after the block: %+v, want a new count", got.Pair)
	}
}

// TestThrottleBackoff: each failure after the limit doubles the block, up
// to an hour; the hour then stays.
func TestThrottleBackoff(t *testing.T) {
	p := auth.DefaultThrottle()
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	c, at := fail(p, auth.Counts{}, t0, 9)
	for i, w := range want {
		at = at.Add(p.Wait(c, at)) // when the last block ends
		c = p.Failed(c, at)
		if got := c.Pair.BlockedUntil.Sub(at); got != w*time.Minute {
			t.Errorf("failure %d: blocked %v, want %v", 10+i, got, w*time.Minute)
		}
	}
	// A hundred blocks in a row: no overflow, an hour.
	q := p
	q.PairLimit = 1
	c = auth.Counts{}
	for i := 0; i < 100; i++ {
		at = at.Add(p.Wait(c, at))
		c = q.Failed(c, at)
	}
	if got := c.Pair.BlockedUntil.Sub(at); got != time.Hour {
		t.Errorf("after 100 failures: blocked %v, want 1h", got)
	}
}

// TestThrottleScopes: the address's and the username's limits block every
// pair of theirs; the username's spares its known addresses.
func TestThrottleScopes(t *testing.T) {
	p := auth.DefaultThrottle()
	t.Run("Address", func(t *testing.T) {
		// 49 failures of other usernames from the address, then this one's first.
		c := auth.Counts{Address: auth.Count{Failures: 49, WindowEnds: t0.Add(time.Minute)}}
		if p.Wait(c, t0) != 0 {
			t.Fatal("blocked before the 50th failure")
		}
		if got := p.Wait(p.Failed(c, t0), t0); got != time.Minute {
			t.Errorf("after the address's 50th failure: wait %v, want 1m", got)
		}
	})
	t.Run("Username", func(t *testing.T) {
		c := auth.Counts{Username: auth.Count{Failures: 99, WindowEnds: t0.Add(time.Minute)}}
		c = p.Failed(c, t0)
		if got := p.Wait(c, t0); got != time.Minute {
			t.Errorf("the username's 100th failure: wait %v, want 1m", got)
		}
		c.KnownAddress = true
		if got := p.Wait(c, t0); got != 0 {
			t.Errorf("from a known address: wait %v, want 0", got)
		}
		// A known address's failure leaves the username's count alone.
		if got := p.Failed(c, t0).Username.Failures; got != 100 {
			t.Errorf("known address's failure: username count %d, want 100", got)
		}
	})
}
