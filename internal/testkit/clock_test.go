package testkit_test

import (
	"sync"
	"testing"
	"time"

	"examd/internal/testkit"
)

func TestClock(t *testing.T) {
	at := time.Date(2030, 6, 3, 23, 59, 59, 0, testkit.Shanghai)
	c := testkit.NewClock(at)
	if got := c.Now(); !got.Equal(at) {
		t.Fatalf("Now() = %s, want %s", got, at)
	}
	c.Add(time.Second)
	if got, want := c.Now(), at.Add(time.Second); !got.Equal(want) {
		t.Errorf("after Add(1s): Now() = %s, want %s", got, want)
	}
	c.Set(at)
	if got := c.Now(); !got.Equal(at) {
		t.Errorf("after Set: Now() = %s, want %s", got, at)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { c.Add(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if got, want := c.Now(), at.Add(8*time.Minute); !got.Equal(want) {
		t.Errorf("after 8 concurrent Add(1m): Now() = %s, want %s", got, want)
	}

	r := testkit.RunningClock(at)
	time.Sleep(5 * time.Millisecond)
	if got := r.Now(); !got.After(at) || got.Sub(at) > time.Minute {
		t.Errorf("running clock: Now() = %s, want a little after %s", got, at)
	}
}

func TestDay(t *testing.T) {
	// 16:30 UTC is already the next day in Shanghai.
	got := testkit.Day(time.Date(2030, 6, 3, 16, 30, 0, 0, time.UTC), 1)
	if want := time.Date(2030, 6, 5, 0, 0, 0, 0, testkit.Shanghai); !got.Equal(want) {
		t.Errorf("Day = %s, want %s", got, want)
	}
}
