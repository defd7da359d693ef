// Command fanout is the live-feed fan-out benchmark: many screens watch one
// venue of a running examd while its devices post events at a steady rate.
// It starts a private PostgreSQL and the examd binary on it, prepares an
// exam day through the API (the bookings in SQL, as today's booking window
// is closed), connects the screens, measures examd's memory per idle
// connection, then the end-to-end latency of events (device POST sent →
// screen received) and, ramping the rate, the highest rate whose delivery
// keeps up. In the same run, with the same screens, pacing and ramp, it
// measures Centrifugo (memory engine, publishes through its HTTP API;
// installed with go install on first use) and the floor: a bare
// gorilla/websocket broadcast of the same messages, with no storage.
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
	replicas int
	// bareProcess runs the bare broadcast in a child process rather than here.
	bareProcess bool
	centrifugo  bool
	cacheDir    string // where Centrifugo is installed
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
	flag.IntVar(&o.replicas, "replicas", 1, "examd processes on the one PostgreSQL: screens and posters spread over them round robin")
	flag.BoolVar(&o.bareProcess, "bare-process", true, "run the bare broadcast in a process of its own, as examd runs (false: in this process, beside the screens)")
	flag.BoolVar(&o.centrifugo, "centrifugo", true, "measure Centrifugo "+centrifugoVersion+" too (installed into -cache on first use, which needs the network)")
	flag.StringVar(&o.cacheDir, "cache", ".cache/bin", "where Centrifugo is installed")
	bareChild := flag.String("serve-bare", "", "internal: serve the bare broadcast of the feed message in this file until stdin closes")
	flag.Parse()
	if *bareChild != "" {
		if err := serveBare(*bareChild); err != nil {
			fmt.Fprintln(os.Stderr, "fanout -serve-bare:", err)
			os.Exit(1)
		}
		return
	}
	if o.bookings < o.posters || o.screens < 1 || o.rate <= 0 || o.replicas < 1 {
		fmt.Fprintln(os.Stderr, "fanout: need -bookings ≥ -posters, -screens ≥ 1, -rate > 0, -replicas ≥ 1")
		os.Exit(2)
	}
	if err := bench(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

// serverResult is one server's measure: its steps, and its memory before
// and after the idle screens connected.
type serverResult struct {
	targetResult
	before, after memory
	measured      bool // memory measured
}

// perConn is the resident memory per idle connection, KiB.
func (r serverResult) perConn(screens int) float64 {
	return float64(r.after.rss-r.before.rss) / float64(screens) / 1024
}

func bench(ctx context.Context, o options, out io.Writer) error {
	// Each screen is a socket here and one in the server it watches.
	if err := raiseFileLimit(uint64(2*o.screens + 1000)); err != nil {
		return err
	}
	var centrifugoBin string
	if o.centrifugo {
		var err error
		if centrifugoBin, err = installCentrifugo(out, o.cacheDir); err != nil {
			return fmt.Errorf("%w (-centrifugo=false skips Centrifugo)", err)
		}
	}
	// Every screen is the scheduler's: lift the per-user cap of live connections.
	srv, err := benchkit.Start(ctx, o.examd, adminPassword, o.replicas,
		fmt.Sprintf("EXAMD_WS_PER_USER=%d", o.screens), fmt.Sprintf("EXAMD_WS_MAX=%d", max(o.screens, 10000)))
	if err != nil {
		return err
	}
	defer srv.Close()
	c, dir := srv.Client, srv.Dir
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
	var examdClients []*benchkit.Client
	for _, r := range srv.Replicas {
		examdClients = append(examdClients, r.Client)
	}

	// examd: memory per idle connection, then the events.
	ex := serverResult{measured: true}
	time.Sleep(2 * time.Second)
	if ex.before, err = memoryOf(srv.Pids(), examdClients); err != nil {
		return err
	}
	fmt.Fprintf(out, "connecting %d screens to examd (%d process(es))…\n", o.screens, len(srv.Replicas))
	et := examdTarget(srv.Replicas, db, setup, o.posters)
	ss, err := dialScreens(et, o.screens)
	if err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	if ex.after, err = memoryOf(srv.Pids(), examdClients); err != nil {
		ss.close()
		return err
	}
	cpu := &benchkit.CPUMeter{Server: srv.Pids(), DB: srv.PostgresPids}
	if ex.targetResult, err = measure(out, et, ss, cpu, o); err != nil {
		return err
	}

	// The bytes of a real feed message, for Centrifugo and the floor.
	var msg string
	if err := db.GetContext(ctx, &msg, `SELECT body::text FROM feed_events WHERE body->>'type' = 'instruction' ORDER BY seq DESC LIMIT 1`); err != nil {
		return fmt.Errorf("a feed message for the template: %w", err)
	}
	tmpl, err := newTemplate([]byte(msg))
	if err != nil {
		return err
	}

	var cf serverResult
	if o.centrifugo {
		if cf, err = measureCentrifugo(out, centrifugoBin, dir, tmpl, o); err != nil {
			return err
		}
	}

	var bare serverResult
	var bareAddr string
	if o.bareProcess {
		addr, proc, stop, err := spawnBare(dir, []byte(msg))
		if err != nil {
			return err
		}
		defer stop()
		bareAddr, cpu = addr, &benchkit.CPUMeter{Server: []int{proc.Pid}}
		bare.measured = true
		time.Sleep(time.Second)
		if bare.before, err = memoryOf(cpu.Server, nil); err != nil {
			return err
		}
	} else {
		b, err := startBare(tmpl)
		if err != nil {
			return err
		}
		defer b.close()
		bareAddr, cpu = b.addr, &benchkit.CPUMeter{Server: []int{os.Getpid()}}
	}
	fmt.Fprintf(out, "connecting %d screens to the bare broadcast…\n", o.screens)
	bt := bareTarget(bareAddr, benchkit.NewClient("http://"+bareAddr))
	if ss, err = dialScreens(bt, o.screens); err != nil {
		return err
	}
	if bare.measured {
		time.Sleep(3 * time.Second)
		if bare.after, err = memoryOf(cpu.Server, nil); err != nil {
			ss.close()
			return err
		}
	}
	if bare.targetResult, err = measure(out, bt, ss, cpu, o); err != nil {
		return err
	}

	report(out, o, ex, cf, bare, len(msg))
	// A screen that misses or repeats a seq is a bug at any rate, and fails
	// the run (make test runs it small).
	if ex.final.missed != 0 || ex.final.dup != 0 {
		return fmt.Errorf("examd's screens missed %d and repeated %d seqs", ex.final.missed, ex.final.dup)
	}
	return nil
}

// measureCentrifugo starts a fresh Centrifugo, measures its memory per
// idle connection, then runs the steps on it, and stops it.
func measureCentrifugo(out io.Writer, bin, dir string, tmpl template, o options) (serverResult, error) {
	r := serverResult{measured: true}
	printCentrifugoConfig(out)
	cs, err := startCentrifugo(bin, dir)
	if err != nil {
		return r, err
	}
	defer cs.stop()
	pids := []int{cs.cmd.Process.Pid}
	time.Sleep(time.Second)
	if r.before, err = memoryOf(pids, nil); err != nil {
		return r, err
	}
	fmt.Fprintf(out, "connecting %d screens to Centrifugo…\n", o.screens)
	t := centrifugoTarget(cs.addr, tmpl)
	ss, err := dialScreens(t, o.screens)
	if err != nil {
		return r, err
	}
	time.Sleep(3 * time.Second)
	if r.after, err = memoryOf(pids, nil); err != nil {
		ss.close()
		return r, err
	}
	r.targetResult, err = measure(out, t, ss, &benchkit.CPUMeter{Server: pids}, o)
	return r, err
}

// printStep prints one step's line as it ends.
func printStep(w io.Writer, s step) {
	verdict := "kept up"
	if !s.keptUp() {
		verdict = "fell behind"
	}
	fmt.Fprintf(w, "  %5.0f/s asked, %6.0f/s accepted, %d refused; latency p50 %6.1f ms p99 %7.1f ms; POST p99 %6.1f ms; "+
		"behind %.0f, drained in %s; missed %d dup %d dropped %d; CPU cores busy %.2f (server %.2f, database %.2f, bench %.2f): %s\n",
		s.rate, s.achieved, s.failed, ms(s.lat.quantile(0.5)), ms(s.lat.quantile(0.99)), ms(s.post.quantile(0.99)),
		s.behind, s.drain.Round(time.Millisecond), s.t.missed, s.t.dup, s.t.dropped, s.cpu.Busy, s.cpu.Server, s.cpu.DB, s.cpu.Self, verdict)
	if s.db.samples > 0 {
		fmt.Fprintf(w, "         examd's database sessions on average: %.1f waiting for a lock, %.1f in a transaction waiting for examd, %.1f on WAL, %.1f running\n",
			s.db.lock, s.db.idleInTx, s.db.wal, s.db.running)
	}
	if s.firstErr != nil {
		fmt.Fprintf(w, "  first refusal: %v\n", s.firstErr)
	}
}

func report(w io.Writer, o options, ex, cf, bare serverResult, msgSize int) {
	fmt.Fprintf(w, "\nfan-out: %d screens on one venue, %.0f events/s for %s (%d-byte messages), %d CPUs, %d examd process(es)\n",
		o.screens, o.rate, o.duration, msgSize, runtime.NumCPU(), o.replicas)
	cols := []serverResult{ex, bare}
	names := []string{"examd", "bare"}
	if o.centrifugo {
		cols = []serverResult{ex, cf, bare}
		names = []string{"examd", "centrifugo", "bare"}
	}
	line := func(name string, cells []string, target string) {
		fmt.Fprintf(w, "  %-34s", name)
		for _, c := range cells {
			fmt.Fprintf(w, " %16s", c)
		}
		fmt.Fprintf(w, "  %s\n", target)
	}
	each := func(f func(r serverResult) string) []string {
		var cells []string
		for _, r := range cols {
			cells = append(cells, f(r))
		}
		return cells
	}
	line("", names, "target (examd)")
	line("latency p50 / p99", each(func(r serverResult) string {
		return fmt.Sprintf("%.1f / %.1f ms", ms(r.main.lat.quantile(0.5)), ms(r.main.lat.quantile(0.99)))
	}), "p99 ≤ Centrifugo's, ≤ 2× bare's")
	line("latency max", each(func(r serverResult) string { return fmt.Sprintf("%.1f ms", ms(r.main.lat.quantile(1))) }), "")
	line("device or publish POST p99", each(func(r serverResult) string { return fmt.Sprintf("%.1f ms", ms(r.main.post.quantile(0.99))) }), "")
	line("events accepted per second", each(func(r serverResult) string { return fmt.Sprintf("%.1f/s", r.main.achieved) }), "")
	line(fmt.Sprintf("server CPU at %.0f/s (cores)", o.rate), each(func(r serverResult) string {
		if r.main.cpu.DB > 0 {
			return fmt.Sprintf("%.2f (%.2f+PG %.2f)", r.main.cpu.Server+r.main.cpu.DB, r.main.cpu.Server, r.main.cpu.DB)
		}
		return fmt.Sprintf("%.2f", r.main.cpu.Server)
	}), "examd+PG ≤ Centrifugo's")
	line("bench's own CPU (cores)", each(func(r serverResult) string { return fmt.Sprintf("%.2f", r.main.cpu.Self) }), "")
	line("RSS per idle connection", each(func(r serverResult) string {
		if !r.measured {
			return "-"
		}
		return fmt.Sprintf("%.1f KiB", r.perConn(o.screens))
	}), "≤ 16 KiB")
	line("highest sustained rate", each(func(r serverResult) string {
		switch {
		case !o.ramp:
			return "(no ramp)"
		case r.sustained == 0:
			return fmt.Sprintf("< %.0f/s", r.lowestBad)
		case r.lowestBad == 0:
			return fmt.Sprintf("≥ %.0f/s", r.sustained)
		}
		return fmt.Sprintf("%.0f/s", r.sustained)
	}), "≥ 0.5× Centrifugo's")
	line("missed / duplicated seqs (all)", each(func(r serverResult) string { return fmt.Sprintf("%d / %d", r.final.missed, r.final.dup) }), "0 / 0")
	line("screens dropped (all)", each(func(r serverResult) string { return fmt.Sprint(r.final.dropped) }), "")
	fmt.Fprintf(w, "  examd's database sessions at %.0f/s, on average: %.1f waiting for a lock, %.1f in a transaction waiting for examd, %.1f on WAL, %.1f running\n",
		o.rate, ex.main.db.lock, ex.main.db.idleInTx, ex.main.db.wal, ex.main.db.running)
	n := float64(o.screens)
	fmt.Fprintf(w, "  examd: %.1f KiB Go heap in use and %.1f goroutines per idle connection (VmRSS %.1f → %.1f MiB, heap %.1f → %.1f MiB)\n",
		float64(ex.after.heapInuse-ex.before.heapInuse)/n/1024, float64(ex.after.goroutines-ex.before.goroutines)/n,
		mib(ex.before.rss), mib(ex.after.rss), mib(ex.before.heapInuse), mib(ex.after.heapInuse))
	if o.bareProcess {
		fmt.Fprintln(w, "  the bare broadcast ran in a process of its own")
	} else {
		fmt.Fprintln(w, "  the bare broadcast ran in this process: its CPU includes the screens'")
	}

	// The last lines: stable, greppable.
	exP99, bareP99 := ex.main.lat.quantile(0.99), bare.main.lat.quantile(0.99)
	exCPU := ex.main.cpu.Server + ex.main.cpu.DB
	fmt.Fprintf(w, "fanout: examd p50 %.1f ms p99 %.1f ms, POST p99 %.1f ms, CPU %.2f (examd %.2f + PostgreSQL %.2f), %.1f KiB/idle conn, sustained %.0f/s, missed %d dup %d, replicas %d\n",
		ms(ex.main.lat.quantile(0.5)), ms(exP99), ms(ex.main.post.quantile(0.99)), exCPU, ex.main.cpu.Server, ex.main.cpu.DB,
		ex.perConn(o.screens), ex.sustained, ex.final.missed, ex.final.dup, o.replicas)
	if o.centrifugo {
		fmt.Fprintf(w, "fanout: centrifugo p50 %.1f ms p99 %.1f ms, POST p99 %.1f ms, CPU %.2f, %.1f KiB/idle conn, sustained %.0f/s, missed %d dup %d\n",
			ms(cf.main.lat.quantile(0.5)), ms(cf.main.lat.quantile(0.99)), ms(cf.main.post.quantile(0.99)), cf.main.cpu.Server,
			cf.perConn(o.screens), cf.sustained, cf.final.missed, cf.final.dup)
	}
	fmt.Fprintf(w, "fanout: bare p50 %.1f ms p99 %.1f ms, POST p99 %.1f ms, CPU %.2f, sustained %.0f/s, missed %d dup %d\n",
		ms(bare.main.lat.quantile(0.5)), ms(bareP99), ms(bare.main.post.quantile(0.99)), bare.main.cpu.Server,
		bare.sustained, bare.final.missed, bare.final.dup)
	kept := ex.main.keptUp()
	verdicts := []string{}
	if o.centrifugo {
		verdicts = append(verdicts,
			verdict("p99 ≤ Centrifugo's", kept && exP99 <= cf.main.lat.quantile(0.99)),
			verdict("examd+PG CPU ≤ Centrifugo's", kept && exCPU <= cf.main.cpu.Server))
		if o.ramp {
			verdicts = append(verdicts, verdict("sustained ≥ 0.5× Centrifugo's", ex.sustained > 0 && ex.sustained >= 0.5*cf.sustained))
		}
	}
	verdicts = append(verdicts, verdict("p99 ≤ 2× bare", kept && exP99 <= 2*bareP99))
	if !kept {
		verdicts = append(verdicts, fmt.Sprintf("(examd did not sustain %.0f/s)", o.rate))
	}
	if !o.ramp {
		verdicts = append(verdicts, "sustained rate not measured (-ramp=false)")
	}
	verdicts = append(verdicts,
		verdict("≤ 16 KiB per idle connection", ex.perConn(o.screens) <= 16),
		verdict("0 missed or duplicated seqs", ex.final.missed == 0 && ex.final.dup == 0))
	fmt.Fprintf(w, "fanout: targets: %s\n", strings.Join(verdicts, "; "))
}

func verdict(name string, ok bool) string {
	if ok {
		return name + " met"
	}
	return name + " NOT met"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(b int64) float64        { return float64(b) / (1 << 20) }
