// Command fanout is the live-feed fan-out benchmark: many screens watch one
// venue of a running examd while its devices post events at a steady rate.
// It starts a private PostgreSQL and the examd binary on it, prepares an
// exam day through the API (the bookings in SQL, as today's booking window
// is closed), connects the screens, measures examd's memory per idle
// connection, then the end-to-end latency of events (device POST sent →
// screen received) and, ramping the rate, the highest rate whose delivery
// keeps up. In the same run it measures the floor: a bare gorilla/websocket
// broadcast of the same messages to as many connections, with no storage.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"examd/bench/benchkit"
	"examd/internal/pg"
)

// adminPassword is examd's admin password in the benchmark.
const adminPassword = "fanout-admin-pw"

type options struct {
	examd    string
	screens  int
	rate     float64
	duration time.Duration
	ramp     bool
	rampMax  float64
	rampMin  float64
	step     time.Duration
	posters  int
	bookings int
	// bareProcess runs the bare broadcast in a child process rather than here.
	bareProcess bool
}

func main() {
	var o options
	flag.StringVar(&o.examd, "examd", "./bin/examd", "examd binary to measure")
	flag.IntVar(&o.screens, "screens", 1000, "screens (websocket clients) watching the venue")
	flag.Float64Var(&o.rate, "rate", 200, "device events per second")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the events flow at -rate")
	flag.BoolVar(&o.ramp, "ramp", true, "then look for the highest sustained rate: double or halve the rate, then bisect")
	flag.Float64Var(&o.rampMax, "ramp-max", 6400, "the ramp's highest rate (events/s)")
	flag.Float64Var(&o.rampMin, "ramp-min", 10, "the ramp's lowest rate (events/s)")
	flag.DurationVar(&o.step, "step", 10*time.Second, "how long each ramp step lasts")
	flag.IntVar(&o.posters, "posters", 64, "concurrent posters, so that HTTP round trips do not throttle the rate")
	flag.IntVar(&o.bookings, "bookings", 256, "bookings in progress the events are spread over (at least -posters), each on a car of its own")
	flag.BoolVar(&o.bareProcess, "bare-process", true, "run the bare broadcast in a process of its own, as examd runs (false: in this process, beside the screens)")
	bareChild := flag.String("serve-bare", "", "internal: serve the bare broadcast of the feed message in this file until stdin closes")
	flag.Parse()
	if *bareChild != "" {
		if err := serveBare(*bareChild); err != nil {
			fmt.Fprintln(os.Stderr, "fanout -serve-bare:", err)
			os.Exit(1)
		}
		return
	}
	if o.bookings < o.posters || o.screens < 1 || o.rate <= 0 {
		fmt.Fprintln(os.Stderr, "fanout: need -bookings ≥ -posters, -screens ≥ 1, -rate > 0")
		os.Exit(2)
	}
	if err := bench(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, o options, out io.Writer) error {
	// Each screen is a socket here and one in the server it watches.
	if err := raiseFileLimit(uint64(2*o.screens + 1000)); err != nil {
		return err
	}
	// Every screen is the scheduler's: lift the per-user cap of live connections.
	srv, err := benchkit.Start(ctx, o.examd, adminPassword,
		fmt.Sprintf("EXAMD_WS_PER_USER=%d", o.screens), fmt.Sprintf("EXAMD_WS_MAX=%d", max(o.screens, 10000)))
	if err != nil {
		return err
	}
	defer srv.Close()
	c, addr, dir := srv.Client, srv.Addr, srv.Dir
	db, err := pg.Open(ctx, srv.DBURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()

	fmt.Fprintf(out, "preparing a venue, %d cars and %d bookings in progress…\n", o.bookings, o.bookings)
	setup, err := prepare(ctx, c, db, o)
	if err != nil {
		return err
	}
	cpu := &cpuMeter{server: srv.Proc.Pid}

	// examd: memory per idle connection, then the events.
	time.Sleep(2 * time.Second)
	before, err := memoryOf(srv.Proc.Pid, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connecting %d screens to examd…\n", o.screens)
	ex := examdTarget(c, db, setup, "ws://"+addr, o.posters)
	ss, err := dialScreens(ex.wsURL, o.screens)
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	after, err := memoryOf(srv.Proc.Pid, c)
	if err != nil {
		ss.close()
		return err
	}
	exam, err := measure(out, ex, ss, cpu, o)
	if err != nil {
		return err
	}

	// The floor, with the bytes of a real feed message.
	var msg string
	if err := db.GetContext(ctx, &msg, `SELECT body::text FROM feed_events WHERE body->>'type' = 'instruction' ORDER BY seq DESC LIMIT 1`); err != nil {
		return fmt.Errorf("a feed message for the template: %w", err)
	}
	var bareAddr string
	if o.bareProcess {
		addr, proc, stop, err := spawnBare(dir, []byte(msg))
		if err != nil {
			return err
		}
		defer stop()
		bareAddr, cpu.server = addr, proc.Pid
	} else {
		tmpl, err := newTemplate([]byte(msg))
		if err != nil {
			return err
		}
		b, err := startBare(tmpl)
		if err != nil {
			return err
		}
		defer b.close()
		bareAddr, cpu.server = b.addr, os.Getpid()
	}
	fmt.Fprintf(out, "connecting %d screens to the bare broadcast…\n", o.screens)
	bt := bareTarget(bareAddr, benchkit.NewClient("http://"+bareAddr))
	if ss, err = dialScreens(bt.wsURL, o.screens); err != nil {
		return err
	}
	floor, err := measure(out, bt, ss, cpu, o)
	if err != nil {
		return err
	}

	report(out, o, exam, floor, before, after, len(msg))
	// A screen that misses or repeats a seq is a bug at any rate, and fails
	// the run (make test runs it small).
	if exam.final.missed != 0 || exam.final.dup != 0 {
		return fmt.Errorf("examd's screens missed %d and repeated %d seqs", exam.final.missed, exam.final.dup)
	}
	return nil
}

// printStep prints one step's line as it ends.
func printStep(w io.Writer, s step) {
	verdict := "kept up"
	if !s.keptUp() {
		verdict = "fell behind"
	}
	fmt.Fprintf(w, "  %5.0f/s asked, %6.0f/s accepted, %d refused; latency p50 %6.1f ms p99 %7.1f ms; POST p99 %6.1f ms; "+
		"behind %.0f, drained in %s; missed %d dup %d dropped %d; CPU cores busy %.2f (server %.2f, bench %.2f): %s\n",
		s.rate, s.achieved, s.failed, ms(s.lat.quantile(0.5)), ms(s.lat.quantile(0.99)), ms(s.post.quantile(0.99)),
		s.behind, s.drain.Round(time.Millisecond), s.t.missed, s.t.dup, s.t.dropped, s.cpu.busy, s.cpu.server, s.cpu.self, verdict)
	if s.db.samples > 0 {
		fmt.Fprintf(w, "         examd's database sessions on average: %.1f waiting for a lock, %.1f in a transaction waiting for examd, %.1f on WAL, %.1f running\n",
			s.db.lock, s.db.idleInTx, s.db.wal, s.db.running)
	}
	if s.firstErr != nil {
		fmt.Fprintf(w, "  first refusal: %v\n", s.firstErr)
	}
}

func report(w io.Writer, o options, ex, bare targetResult, before, after memory, msgSize int) {
	n := float64(o.screens)
	fmt.Fprintf(w, "\nfan-out: %d screens on one venue, %.0f events/s for %s (%d-byte messages), %d CPUs\n",
		o.screens, o.rate, o.duration, msgSize, runtime.NumCPU())
	fmt.Fprintf(w, "  %-30s %12s %12s %8s  %s\n", "", "examd", "bare", "ratio", "target")
	row := func(name string, a, b float64, unit, target string) {
		fmt.Fprintf(w, "  %-30s %9.1f %-2s %9.1f %-2s %8.2f  %s\n", name, a, unit, b, unit, a/b, target)
	}
	row("latency p50", ms(ex.main.lat.quantile(0.5)), ms(bare.main.lat.quantile(0.5)), "ms", "")
	row("latency p99", ms(ex.main.lat.quantile(0.99)), ms(bare.main.lat.quantile(0.99)), "ms", "≤ 2")
	row("latency max", ms(ex.main.lat.quantile(1)), ms(bare.main.lat.quantile(1)), "ms", "")
	row("device POST round trip p99", ms(ex.main.post.quantile(0.99)), ms(bare.main.post.quantile(0.99)), "ms", "")
	row("events accepted per second", ex.main.achieved, bare.main.achieved, "/s", "")
	sustained := func(r targetResult) string {
		switch {
		case r.sustained == 0:
			return fmt.Sprintf("< %.0f/s", r.lowestBad)
		case r.lowestBad == 0:
			return fmt.Sprintf("≥ %.0f/s", r.sustained)
		}
		return fmt.Sprintf("%.0f/s", r.sustained)
	}
	ratio := "-"
	if bare.sustained > 0 {
		ratio = fmt.Sprintf("%.2f", ex.sustained/bare.sustained)
	}
	if !o.ramp {
		ratio = "(no ramp)"
	}
	fmt.Fprintf(w, "  %-30s %12s %12s %8s  ≥ 0.5\n", "highest sustained rate", sustained(ex), sustained(bare), ratio)
	fmt.Fprintf(w, "  %-30s %12s %12s %8s  0\n", "missed / duplicated seqs (all)",
		fmt.Sprintf("%d / %d", ex.final.missed, ex.final.dup), fmt.Sprintf("%d / %d", bare.final.missed, bare.final.dup), "")
	fmt.Fprintf(w, "  %-30s %12d %12d\n", "screens dropped (all)", ex.final.dropped, bare.final.dropped)
	where := "in this process"
	if o.bareProcess {
		where = "in its own process"
	}
	fmt.Fprintf(w, "  CPU cores in use at %.0f/s: examd run %.2f (examd %.2f, screens and posters %.2f); bare run (server %s) %.2f (server %.2f, this process %.2f)\n",
		o.rate, ex.main.cpu.busy, ex.main.cpu.server, ex.main.cpu.self, where, bare.main.cpu.busy, bare.main.cpu.server, bare.main.cpu.self)
	fmt.Fprintf(w, "  examd's database sessions at %.0f/s, on average: %.1f waiting for a lock, %.1f in a transaction waiting for examd, %.1f on WAL, %.1f running\n",
		o.rate, ex.main.db.lock, ex.main.db.idleInTx, ex.main.db.wal, ex.main.db.running)
	perConn := float64(after.rss-before.rss) / n / 1024
	fmt.Fprintf(w, "examd memory per idle connection: %.1f KiB resident (target ≤ 16 KiB), %.1f KiB Go heap in use, %.1f goroutines\n",
		perConn, float64(after.heapInuse-before.heapInuse)/n/1024, float64(after.goroutines-before.goroutines)/n)
	fmt.Fprintf(w, "  (VmRSS %.1f → %.1f MiB, heap in use %.1f → %.1f MiB with %d screens connected)\n",
		mib(before.rss), mib(after.rss), mib(before.heapInuse), mib(after.heapInuse), o.screens)
	p99 := verdict("p99 ≤ 2× bare", ex.main.lat.quantile(0.99) <= 2*bare.main.lat.quantile(0.99))
	if !ex.main.keptUp() {
		p99 = fmt.Sprintf("p99 ≤ 2× bare NOT met (examd did not sustain %.0f/s)", o.rate)
	}
	sust := verdict("sustained ≥ 0.5× bare", ex.sustained >= 0.5*bare.sustained && ex.sustained > 0)
	if !o.ramp {
		sust = "sustained rate not measured (-ramp=false)"
	}
	verdicts := []string{
		p99,
		sust,
		verdict("no missed or duplicated seqs", ex.final.missed == 0 && ex.final.dup == 0),
		verdict("≤ 16 KiB per idle connection", perConn <= 16),
	}
	fmt.Fprintf(w, "targets: %s\n", strings.Join(verdicts, "; "))
}

func verdict(name string, ok bool) string {
	if ok {
		return name + " met"
	}
	return name + " NOT met"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
