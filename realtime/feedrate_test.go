package realtime_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examd/internal/pg"
	"examd/internal/pg/pgtest"
	"examd/realtime"
)

// TestFeedRate measures the events per second one topic sustains, each
// event in its own transaction, on a durable cluster (fsync on), counted
// until the last one is numbered. Before migration 00022 the topic's
// counter row was locked from the numbering at COMMIT until the commit's
// WAL flush, so one topic's commits queued behind each other; now the
// writers only insert and the numberer numbers committed events in batches.
// "waiting for the seq" is a device's event: its answer waits for the
// numbering (Number) after the commit. It is a measurement, not a check:
// EXAMD_MEASURE_FEED=1 runs it, and it logs the rates (go test -run
// TestFeedRate -v ./realtime).
func TestFeedRate(t *testing.T) {
	if os.Getenv("EXAMD_MEASURE_FEED") == "" {
		t.Skip("a measurement: set EXAMD_MEASURE_FEED=1")
	}
	c := pgtest.NewCluster(t)
	ctx := context.Background()
	db, err := pg.Open(ctx, c.URL("examd"), 64)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := pg.Migrate(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	feed := realtime.NewFeed(db)
	numbered := func() { // the rate counts until the last event is numbered
		if err := feed.Number(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, workers := range []int{1, 16, 64} {
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(3 * time.Second)
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					if err := appendOne(db, feed, "venue:1", event{N: 1, Pad: "扣分 倒车入库 中途停车"}); err != nil {
						t.Error(err)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		numbered()
		t.Logf("%d writers: %.0f events/s on one topic", workers, float64(n.Load())/time.Since(start).Seconds())
	}
	for _, workers := range []int{1, 16, 64} {
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(3 * time.Second)
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if err := appendOne(db, feed, "venue:2", event{N: 1, Pad: "扣分 倒车入库 中途停车"}); err != nil {
						t.Error(err)
						return
					}
					if err := feed.Number(ctx); err != nil {
						t.Error(err)
						return
					}
					n.Add(1)
				}
			})
		}
		wg.Wait()
		t.Logf("%d writers waiting for the seq: %.0f events/s on one topic", workers, float64(n.Load())/time.Since(start).Seconds())
	}
	for _, workers := range []int{64} { // one topic each: the counter is not the limit
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(3 * time.Second)
		start := time.Now()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				topic := "venue:" + string(rune('A'+w%26)) + string(rune('a'+w/26))
				for time.Now().Before(stop) {
					if err := appendOne(db, feed, topic, event{N: 1}); err != nil {
						t.Error(err)
						return
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		numbered()
		t.Logf("%d writers on %d topics: %.0f events/s", workers, workers, float64(n.Load())/time.Since(start).Seconds())
	}
}
