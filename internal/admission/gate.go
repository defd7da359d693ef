// Package admission is the database gate of the API: at most as many
// requests work at once as the database pool has connections, so that the
// pool never has to choose among waiters (database/sql hands a freed
// connection to a random waiter, which under a rush gives a few unlucky
// requests several times the median latency). Requests wait by class
// (devices, staff, candidates, logins, …): within a class in arrival order,
// and a freed place goes to the classes that wait in turn, so that a crowd
// of one class cannot starve another.
package admission

import (
	"context"
	"sync"
)

// Class is a kind of caller; each waits in a queue of its own.
type Class int

// The classes of callers.
const (
	Device    Class = iota // judging devices (Authorization: Device …)
	Staff                  // logged-in office staff
	Candidate              // logged-in candidates
	Login                  // POST /login: the throttle's and the session's statements
	Session                // resolving a bearer token to its caller
	Other                  // anyone else: no credentials, or unknown ones
	classes
)

var classNames = [classes]string{"device", "staff", "candidate", "login", "session", "other"}

// String names the class, as the metrics label it.
func (c Class) String() string { return classNames[c] }

// Gate hands out a fixed number of places.
type Gate struct {
	mu     sync.Mutex
	free   int
	queues [classes][]chan struct{}
	next   Class // the class first in turn for the next freed place
}

// NewGate returns a gate of n places (n ≥ 1).
func NewGate(n int) *Gate { return &Gate{free: max(1, n)} }

// Place is a request's place in the gate, held from Enter to Leave; it
// steps out while the request waits for something else (Outside).
type Place struct {
	g     *Gate
	class Class
	held  bool
}

// Enter waits for a place for class, in the class's arrival order, until
// ctx is done.
func (g *Gate) Enter(ctx context.Context, class Class) (*Place, error) {
	p := &Place{g: g, class: class}
	if err := p.enter(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Place) enter(ctx context.Context) error {
	g := p.g
	g.mu.Lock()
	if g.free > 0 { // then nobody waits: a freed place goes to a waiter first
		g.free--
		g.mu.Unlock()
		p.held = true
		return nil
	}
	ch := make(chan struct{})
	g.queues[p.class] = append(g.queues[p.class], ch)
	g.mu.Unlock()
	select {
	case <-ch:
		p.held = true
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	q := g.queues[p.class]
	for i, w := range q {
		if w == ch {
			g.queues[p.class] = append(q[:i:i], q[i+1:]...)
			g.mu.Unlock()
			return ctx.Err()
		}
	}
	g.mu.Unlock()
	// The place was handed over meanwhile: pass it on.
	g.release()
	return ctx.Err()
}

// Leave gives the place back; calling it again does nothing.
func (p *Place) Leave() {
	if p == nil || !p.held {
		return
	}
	p.held = false
	p.g.release()
}

// release hands a freed place to the next class in turn that waits, else
// keeps it free.
func (g *Gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range classes {
		c := (g.next + i) % classes
		if q := g.queues[c]; len(q) > 0 {
			g.queues[c] = q[1:]
			g.next = (c + 1) % classes
			close(q[0])
			return
		}
	}
	g.free++
}

// Waiting is how many requests of class wait for a place.
func (g *Gate) Waiting(class Class) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queues[class])
}

type placeKey struct{}

// With returns ctx carrying the request's place, for Outside.
func With(ctx context.Context, p *Place) context.Context {
	return context.WithValue(ctx, placeKey{}, p)
}

// Outside runs f without the place that ctx carries, if any, and takes a
// place again afterwards, at the back of its class's queue: what f waits
// for (a password hash's worker) is not the database's to wait for. It
// returns ctx's error when ctx ends before the place is back.
func Outside(ctx context.Context, f func()) error {
	p, _ := ctx.Value(placeKey{}).(*Place)
	if p == nil || !p.held {
		f()
		return nil
	}
	p.Leave()
	f()
	return p.enter(ctx)
}
