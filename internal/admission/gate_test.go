package admission_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"examd/internal/admission"
)

// waiter is a request that waits for a place, reports when admitted, and
// leaves when told to.
type waiter struct {
	name  string
	leave chan struct{}
}

// queue starts a request of class and returns once it waits.
func queue(t *testing.T, g *admission.Gate, class admission.Class, name string, admitted chan<- *waiter) {
	t.Helper()
	before := g.Waiting(class)
	w := &waiter{name: name, leave: make(chan struct{})}
	go func() {
		p, err := g.Enter(context.Background(), class)
		if err != nil {
			t.Error(err)
			return
		}
		admitted <- w
		<-w.leave
		p.Leave()
	}()
	for g.Waiting(class) == before {
		time.Sleep(time.Millisecond)
	}
}

// TestGateOrder: within a class in arrival order; between classes, each
// freed place goes to the next waiting class in turn, so a long queue of
// logins does not hold a device back.
func TestGateOrder(t *testing.T) {
	g := admission.NewGate(1)
	holder, err := g.Enter(context.Background(), admission.Login)
	if err != nil {
		t.Fatal(err)
	}
	admitted := make(chan *waiter, 10)
	for _, n := range []string{"login1", "login2", "login3"} {
		queue(t, g, admission.Login, n, admitted)
	}
	queue(t, g, admission.Device, "device1", admitted)
	queue(t, g, admission.Candidate, "candidate1", admitted)

	holder.Leave()
	var order []string
	for range 5 {
		select {
		case w := <-admitted:
			order = append(order, w.name)
			close(w.leave)
		case <-time.After(5 * time.Second):
			t.Fatalf("stuck after %v", order)
		}
	}
	want := []string{"device1", "candidate1", "login1", "login2", "login3"}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("admitted %v, want %v", order, want)
		}
	}
}

// TestGateCancel: a request that gives up leaves the queue; a place handed
// to it as it gives up goes on to the next.
func TestGateCancel(t *testing.T) {
	g := admission.NewGate(1)
	holder, _ := g.Enter(context.Background(), admission.Staff)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Enter(ctx, admission.Staff); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the deadline", err)
	}
	if n := g.Waiting(admission.Staff); n != 0 {
		t.Fatalf("%d still waiting", n)
	}
	holder.Leave()
	p, err := g.Enter(context.Background(), admission.Other)
	if err != nil {
		t.Fatal(err)
	}
	p.Leave()
	p.Leave() // twice: nothing more
	a, _ := g.Enter(context.Background(), admission.Other)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := g.Enter(ctx2, admission.Other); err == nil {
		t.Fatal("two places in a gate of one after a double Leave")
	}
	a.Leave()
}

// TestOutside: a request steps out of its place while it waits for
// something else, and another takes the place meanwhile.
func TestOutside(t *testing.T) {
	g := admission.NewGate(1)
	p, _ := g.Enter(context.Background(), admission.Login)
	ctx := admission.With(context.Background(), p)
	err := admission.Outside(ctx, func() {
		q, err := g.Enter(context.Background(), admission.Device)
		if err != nil {
			t.Error(err)
			return
		}
		q.Leave()
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.Waiting(admission.Login) != 0 {
		t.Fatal("the login is still waiting")
	}
	p.Leave()
}
