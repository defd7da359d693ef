// Command rush is the rush-hour booking benchmark: as when a week's slots
// open at 08:00, many candidates book at once. It starts a private
// PostgreSQL and an examd binary on it, prepares a venue, slots and
// candidates through the API, fires concurrent bookings (at -replicas
// examd processes, round robin), checks in SQL that no seat was overbooked
// and no combined booking left half made, and measures two floors on the
// same database with pgbench: the minimal booking transaction
// (minimal_booking.sql) and examd's own, audit row included
// (examd_booking.sql).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"examd/bench/benchkit"
	"examd/internal/pg"

	"github.com/jmoiron/sqlx"
)

type options struct {
	examd       string
	clients     int
	candidates  int
	slots       int
	fill        float64
	pgbenchFor  time.Duration
	pgbenchPool int
	pool        int
	replicas    int
}

func main() {
	var o options
	flag.StringVar(&o.examd, "examd", "./bin/examd", "examd binary to measure")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients, for examd and pgbench alike")
	flag.IntVar(&o.candidates, "candidates", 3000, "candidates, each booking once")
	flag.IntVar(&o.slots, "slots", 28, "subject 2 slots the candidates book into (28: a week, four sessions a day)")
	flag.Float64Var(&o.fill, "fill", 0.9, "seats as a share of candidates (below 1, some are refused slot_full)")
	flag.IntVar(&o.pool, "pool", 0, "examd's database pool (EXAMD_DB_MAX_CONNS; 0: examd's default)")
	flag.DurationVar(&o.pgbenchFor, "pgbench-time", 20*time.Second, "how long each of the two pgbench runs lasts")
	flag.IntVar(&o.pgbenchPool, "pgbench-candidates", 0, "candidates pgbench books, one per transaction (0: 15,000 per second of -pgbench-time)")
	flag.IntVar(&o.replicas, "replicas", 1, "examd processes on the one PostgreSQL, the clients spread over them round robin")
	flag.Parse()
	if err := bench(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rush:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, o options, out io.Writer) error {
	var env []string
	if o.pool > 0 {
		env = append(env, fmt.Sprintf("EXAMD_DB_MAX_CONNS=%d", o.pool))
	}
	ex, err := benchkit.Start(ctx, o.examd, "rush-admin-pw", o.replicas, env...)
	if err != nil {
		return err
	}
	defer ex.Close()
	c := ex.Client

	fmt.Fprintf(out, "preparing %d candidates and %d slots through the API…\n", o.candidates, o.slots)
	setup, err := prepare(c, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "firing %d bookings from %d clients at %d examd process(es)…\n", o.candidates, o.clients, len(ex.Replicas))
	var clients []*benchkit.Client
	for _, r := range ex.Replicas {
		clients = append(clients, r.Client)
	}
	cpu := &benchkit.CPUMeter{Server: ex.Pids(), DB: ex.PostgresPids}
	c0 := cpu.Sample()
	var bases []string
	for _, c := range clients {
		bases = append(bases, c.Base)
	}
	lag := sampleLag(bases)
	res := fire(clients, setup, o.clients)

	db, err := pg.Open(ctx, ex.DBURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	// The bookings' work is done when examd's jobs have caught up with them
	// too: their audit rows chained, their notes fed and numbered.
	if err := settle(ctx, db, 60*time.Second); err != nil {
		return err
	}
	res.cpu = cpu.Usage(c0, cpu.Sample())
	res.settled = time.Since(res.started)
	res.lagP99, res.lagMax, res.lagSamples = lag.end()
	var overbooked int
	if err := db.GetContext(ctx, &overbooked, `
		SELECT coalesce(sum(greatest(0, n - s.capacity)), 0) FROM slots s
		JOIN (SELECT slot_id, count(*) AS n FROM bookings WHERE status = 'confirmed' GROUP BY slot_id) b
		  ON b.slot_id = s.id`); err != nil {
		return fmt.Errorf("count overbooked seats: %w", err)
	}
	// A combined booking is two rows naming each other (an all-subjects
	// day's subject 4 names the subject 2, BK-PACKAGE): one confirmed
	// without the other is a half pair.
	var halfPairs int
	if err := db.GetContext(ctx, &halfPairs, `
		SELECT count(*) FROM bookings a LEFT JOIN bookings b ON b.id = a.pair_id
		WHERE a.pair_id IS NOT NULL AND a.status = 'confirmed'
		  AND (b.id IS NULL OR b.status <> 'confirmed' OR (a.subject <> 4 AND b.pair_id <> a.id))`); err != nil {
		return fmt.Errorf("count half pairs: %w", err)
	}

	fmt.Fprintln(out, "running pgbench: the minimal booking, then examd's own booking transaction…")
	floors, err := pgbench(ctx, db, ex.Cluster, ex.BinDir, o, ex.Dir)
	if err != nil {
		return err
	}
	report(out, o, res, overbooked, halfPairs, floors)
	// An overbooked seat or a half pair is a bug at any size, and fails the
	// run (make test runs it small).
	if overbooked != 0 || halfPairs != 0 {
		return fmt.Errorf("%d seats overbooked, %d half pairs", overbooked, halfPairs)
	}
	return nil
}

// settle waits until examd's jobs have caught up: no audit row unchained,
// no note unfed, no feed event unnumbered (at most for max).
func settle(ctx context.Context, db *sqlx.DB, max time.Duration) error {
	for end := time.Now().Add(max); ; time.Sleep(20 * time.Millisecond) {
		var left bool
		if err := db.GetContext(ctx, &left, `SELECT EXISTS (SELECT FROM audit_log WHERE chain_seq IS NULL)
			OR EXISTS (SELECT FROM notifications WHERE fed_at IS NULL) OR EXISTS (SELECT FROM feed_events WHERE seq IS NULL)`); err != nil {
			return fmt.Errorf("wait for examd's jobs: %w", err)
		}
		if !left {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("examd's jobs did not catch up with the bookings within %s", max)
		}
	}
}
