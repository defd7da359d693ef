package auth

import (
	"time"

	"examd/internal/refusal"
)

// ErrTooManyAttempts refuses a login while one of its keys is blocked: too
// many failed logins for the username from this address, from this
// address, or for the username from many addresses. It is answered 429
// with Retry-After, whatever the password.
var ErrTooManyAttempts = refusal.New("too_many_attempts", "登录失败次数过多，请稍后再试")

// Throttled is ErrTooManyAttempts with the wait before the next attempt.
type Throttled struct {
	RetryAfter time.Duration
}

func (t *Throttled) Error() string { return ErrTooManyAttempts.Error() }

// Unwrap makes a Throttled the refusal ErrTooManyAttempts.
func (t *Throttled) Unwrap() error { return ErrTooManyAttempts }

// RetryAfterSeconds is the Retry-After header's value: whole seconds, at
// least 1.
func (t *Throttled) RetryAfterSeconds() int {
	return max(1, int((t.RetryAfter+time.Second-1)/time.Second))
}

// Throttle is the login throttle's rule: how many failed logins each key
// may have within Window before its logins are refused, and for how long.
// A key's first block lasts Backoff, and each failure after it doubles the
// block, up to MaxBackoff. A blocked key keeps its count until Window has
// passed since its block ended.
type Throttle struct {
	PairLimit     int           // failures for one username from one address (10)
	AddressLimit  int           // failures from one address, any username (50)
	UsernameLimit int           // failures for one username from any address but its known ones (100)
	Window        time.Duration // 15 minutes
	Backoff       time.Duration // the first block: 1 minute
	MaxBackoff    time.Duration // 1 hour
}

// DefaultThrottle is the throttle of the README's defaults.
func DefaultThrottle() Throttle {
	return Throttle{PairLimit: 10, AddressLimit: 50, UsernameLimit: 100,
		Window: 15 * time.Minute, Backoff: time.Minute, MaxBackoff: time.Hour}
}

// Count is a key's failed logins as the throttle keeps them.
type Count struct {
	Failures     int       `db:"failures"`
	WindowEnds   time.Time `db:"window_ends"`   // the failures are forgotten from then on
	BlockedUntil time.Time `db:"blocked_until"` // no login of the key before then
}

// Counts are the counts of one login's keys.
type Counts struct {
	Pair, Address, Username Count
	// KnownAddress: the username has logged in from this address before, so
	// its Username count does not apply.
	KnownAddress bool
}

// Wait is how long a login with counts must wait at now: 0 when it may be
// tried, else until the last of its keys' blocks ends.
func (p Throttle) Wait(c Counts, now time.Time) time.Duration {
	until := latest(c.Pair.BlockedUntil, c.Address.BlockedUntil)
	if !c.KnownAddress {
		until = latest(until, c.Username.BlockedUntil)
	}
	if !now.Before(until) {
		return 0
	}
	return until.Sub(now)
}

// Failed returns counts after one more failed login at now: each key's
// count grows by one (a new window starts when the last one has ended), and
// a key that reaches its limit is blocked for its back-off.
func (p Throttle) Failed(c Counts, now time.Time) Counts {
	c.Pair = p.failed(c.Pair, p.PairLimit, now)
	c.Address = p.failed(c.Address, p.AddressLimit, now)
	if !c.KnownAddress {
		c.Username = p.failed(c.Username, p.UsernameLimit, now)
	}
	return c
}

func (p Throttle) failed(c Count, limit int, now time.Time) Count {
	if !now.Before(c.WindowEnds) {
		c = Count{WindowEnds: now.Add(p.Window)}
	}
	c.Failures++
	if c.Failures >= limit {
		c.BlockedUntil = now.Add(p.backoff(c.Failures - limit))
		c.WindowEnds = latest(c.WindowEnds, c.BlockedUntil.Add(p.Window))
	}
	return c
}

// backoff is the block after the limit's failure and extra more: Backoff
// doubled extra times, at most MaxBackoff.
func (p Throttle) backoff(extra int) time.Duration {
	d := p.Backoff
	for i := 0; i < extra && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
