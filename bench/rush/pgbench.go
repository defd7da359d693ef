package main

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
)

// The two transactions pgbench runs, each in a file of its own so that it
// is easy to keep in step with examd's code: the minimal booking (the
// floor), and examd's own booking transaction with its audit row.
var (
	//go:embed minimal_booking.sql
	minimalScript string
	//go:embed examd_booking.sql
	examdScript string
)

// floor is one pgbench run's result.
type floor struct {
	tps      float64
	latency  float64 // average, ms
	p50, p99 float64 // ms, from pgbench's log of every transaction
	clients  int
}

// floors are the two pgbench runs of the rush.
type floors struct {
	minimal floor // the minimal booking transaction
	own     floor // examd's booking transaction, audit row included
}

// pgbench prepares its own candidates (a fresh one for every transaction:
// o.pgbenchPool of them, or enough for 15,000 transactions a second) and
// o.slots roomy subject 3 slots on examd's database, and runs the minimal
// booking transaction, then examd's own, each for o.pgbenchFor with
// o.clients clients, the bookings of the first removed before the second.
func pgbench(ctx context.Context, db *sqlx.DB, cluster *pg.Cluster, bin string, o options, dir string) (floors, error) {
	pool := o.pgbenchPool
	if pool <= 0 {
		pool = max(20000, int(o.pgbenchFor.Seconds()*15000))
	}
	var cmin, cmax int64
	err := db.QueryRowxContext(ctx, `
		WITH u AS (
			INSERT INTO users (username, password_hash, role)
			SELECT 'pgbench-' || g, 'x', 'candidate' FROM generate_series(1, $1) g
			RETURNING id)
		, c AS (
			INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on, subject1_passed_on)
			SELECT id, 'PGB' || id, 'bench', '13800138000', 'C1', current_date - 65, current_date + 1000, current_date - 66 FROM u
			RETURNING id)
		SELECT min(id), max(id) FROM c`, pool).Scan(&cmin, &cmax)
	if err != nil {
		return floors{}, fmt.Errorf("pgbench candidates: %w", err)
	}
	if cmax-cmin+1 != int64(pool) {
		return floors{}, fmt.Errorf("pgbench candidates: ids %d…%d are not %d in a row", cmin, cmax, pool)
	}
	var smin, smax int64
	err = db.QueryRowxContext(ctx, `
		WITH v AS (SELECT min(id) AS id FROM venues), s AS (
			INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, priority_reserved,
			                   reserve_release_at, booking_opens_at, booking_closes_at)
			SELECT v.id, 3, 'C1', now() + interval '5 days', now() + interval '5 days 1 hour', 10000, 0,
			       now() + interval '4 days', now(), now() + interval '4 days'
			FROM v, generate_series(1, $1)
			RETURNING id)
		SELECT min(id), max(id) FROM s`, o.slots).Scan(&smin, &smax)
	if err != nil {
		return floors{}, fmt.Errorf("pgbench slots: %w", err)
	}
	vars := map[string]int64{"cmin": cmin, "pool": int64(pool), "smin": smin, "smax": smax}
	run := func(name, script string) (floor, error) {
		if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			return floor{}, err
		}
		return runPgbench(ctx, cluster, bin, o, filepath.Join(dir, name), script, vars)
	}
	var f floors
	if f.minimal, err = run("minimal_booking.sql", minimalScript); err != nil {
		return f, err
	}
	// The second run books the same candidates into empty slots again.
	if _, err := db.ExecContext(ctx, `DELETE FROM bookings WHERE candidate_id BETWEEN $1 AND $2`, cmin, cmax); err != nil {
		return f, fmt.Errorf("remove the minimal run's bookings: %w", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE slots SET booked = 0 WHERE id BETWEEN $1 AND $2`, smin, smax); err != nil {
		return f, fmt.Errorf("empty the pgbench slots: %w", err)
	}
	f.own, err = run("examd_booking.sql", examdScript)
	return f, err
}

// runPgbench runs script (written to path) with o.clients clients for
// o.pgbenchFor, the variables vars, n (each client's transaction count)
// and clients set.
func runPgbench(ctx context.Context, cluster *pg.Cluster, bin string, o options, path, script string, vars map[string]int64) (floor, error) {
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return floor{}, err
	}
	host, port := dsnValue(cluster.URL("examd"), "host"), dsnValue(cluster.URL("examd"), "port")
	args := []string{"-n",
		"-c", strconv.Itoa(o.clients), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(max(1, int(o.pgbenchFor/time.Second))), "-f", path,
		"-D", "n=0", "-D", fmt.Sprintf("clients=%d", o.clients),
		"--log", "--log-prefix", path + ".log"}
	for k, v := range vars {
		args = append(args, "-D", fmt.Sprintf("%s=%d", k, v))
	}
	args = append(args, "-h", host, "-p", port, "-U", "postgres", "examd")
	outb, err := exec.CommandContext(ctx, pgbenchPath(bin), args...).CombinedOutput()
	out := string(outb)
	if err != nil || strings.Contains(out, "aborted") {
		return floor{}, fmt.Errorf("pgbench %s: %v (a client aborted on a duplicate booking? then raise -pgbench-candidates)\n%s", filepath.Base(path), err, out)
	}
	f := floor{clients: o.clients}
	if m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(out); m != nil {
		f.tps, _ = strconv.ParseFloat(m[1], 64)
	} else {
		return f, fmt.Errorf("no tps in pgbench's output:\n%s", out)
	}
	if m := regexp.MustCompile(`latency average = ([0-9.]+) ms`).FindStringSubmatch(out); m != nil {
		f.latency, _ = strconv.ParseFloat(m[1], 64)
	}
	var err2 error
	f.p50, f.p99, err2 = logPercentiles(path + ".log")
	return f, err2
}

// logPercentiles reads the transaction logs pgbench wrote under prefix
// (one file per thread: "client transaction latency_us script epoch us" a
// line) and returns the latencies' p50 and p99 in ms.
func logPercentiles(prefix string) (p50, p99 float64, err error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return 0, 0, fmt.Errorf("pgbench's transaction logs %s.*: none (%v)", prefix, err)
	}
	var us []float64
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return 0, 0, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) >= 3 {
				v, err := strconv.ParseFloat(f[2], 64)
				if err != nil {
					return 0, 0, fmt.Errorf("pgbench log %s: %q: %w", name, line, err)
				}
				us = append(us, v)
			}
		}
		os.Remove(name)
	}
	if len(us) == 0 {
		return 0, 0, fmt.Errorf("pgbench's transaction logs %s.*: empty", prefix)
	}
	sort.Float64s(us)
	at := func(q float64) float64 { return us[min(len(us)-1, int(q*float64(len(us))))] / 1000 }
	return at(0.50), at(0.99), nil
}

// pgbenchPath finds pgbench beside the server binaries, in the versioned
// Debian folder (when the server binaries were found through symlinks), or on PATH.
func pgbenchPath(bin string) string {
	candidates := []string{filepath.Join(bin, "pgbench")}
	if real, err := filepath.EvalSymlinks(filepath.Join(bin, "postgres")); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(real), "pgbench"))
	}
	for _, p := range candidates {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	return candidates[0]
}

// dsnValue reads one key of a key=value connection string.
func dsnValue(dsn, key string) string {
	for _, kv := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func report(w io.Writer, o options, r result, overbooked, halfPairs int, f floors) {
	rate := float64(len(r.latencies)) / r.elapsed.Seconds()
	fmt.Fprintf(w, "\nrush hour: %d bookings from %d clients into %d slots, %d examd process(es) on one PostgreSQL (fsync on)\n",
		len(r.latencies), o.clients, o.slots, o.replicas)
	fmt.Fprintf(w, "  bookings/s        %.0f\n", rate)
	fmt.Fprintf(w, "  latency p50       %.1f ms\n", ms(r.percentile(0.50)))
	fmt.Fprintf(w, "  latency p99       %.1f ms\n", ms(r.percentile(0.99)))
	fmt.Fprintf(w, "  latency max       %.1f ms\n", ms(r.percentile(1)))
	codes := make([]string, 0, len(r.outcomes))
	for k := range r.outcomes {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		label := "refused " + k
		if k == "confirmed" {
			label = "confirmed"
		}
		fmt.Fprintf(w, "  %-17s %d\n", label, r.outcomes[k])
	}
	fmt.Fprintf(w, "  overbooked seats  %d (checked in SQL)\n", overbooked)
	fmt.Fprintf(w, "  half pairs        %d (checked in SQL: a combined booking's half confirmed without the other)\n", halfPairs)
	// CPU time per booking: steadier than a rate on a machine whose speed
	// drifts, and it counts the work examd's jobs do after each booking.
	perBooking := func(cores float64) float64 {
		return cores * r.settled.Seconds() / float64(len(r.latencies)) * 1000
	}
	examdCPU, dbCPU := perBooking(r.cpu.Server), perBooking(r.cpu.DB)
	fmt.Fprintf(w, "  CPU per booking   examd %.2f ms, PostgreSQL %.2f ms (to examd's jobs caught up, %.1f s after the first booking)\n",
		examdCPU, dbCPU, r.settled.Seconds())
	fmt.Fprintf(w, "  audit chain lag   p99 %.2f s, max %.2f s (examd_audit_chain_lag_seconds, %d samples every 100 ms until caught up)\n",
		r.lagP99, r.lagMax, r.lagSamples)
	fmt.Fprintf(w, "pgbench, same database, %d clients, %s each:\n", o.clients, o.pgbenchFor)
	fmt.Fprintf(w, "  minimal booking (bench/rush/minimal_booking.sql)         %6.0f tps, latency average %.1f ms, p50 %.1f ms, p99 %.1f ms\n",
		f.minimal.tps, f.minimal.latency, f.minimal.p50, f.minimal.p99)
	fmt.Fprintf(w, "  examd's booking with its audit row (examd_booking.sql)   %6.0f tps, latency average %.1f ms, p50 %.1f ms, p99 %.1f ms\n",
		f.own.tps, f.own.latency, f.own.p50, f.own.p99)
	// The last lines: stable, one figure set each, for grep.
	minRatio, ownRatio := rate/f.minimal.tps, rate/f.own.tps
	p99 := r.percentile(0.99)
	fmt.Fprintf(w, "rush: examd %.0f bookings/s, p50 %.1f ms, p99 %.1f ms (target ≤ 50 ms), overbooked %d (target 0), half pairs %d (target 0), replicas %d\n",
		rate, ms(r.percentile(0.50)), ms(p99), overbooked, halfPairs, o.replicas)
	fmt.Fprintf(w, "rush: pgbench minimal %.0f tps (p99 %.1f ms), examd's own %.0f tps (p99 %.1f ms)\n", f.minimal.tps, f.minimal.p99, f.own.tps, f.own.p99)
	fmt.Fprintf(w, "rush: CPU per booking examd %.2f ms, PostgreSQL %.2f ms; audit chain lag p99 %.2f s (target < 1 s)\n", examdCPU, dbCPU, r.lagP99)
	fmt.Fprintf(w, "rush: ratio examd/minimal %.2f (target ≥ 0.35), examd/own %.2f\n", minRatio, ownRatio)
	fmt.Fprintf(w, "rush: targets: %s; %s; %s; %s\n",
		verdict("examd ≥ 0.35× minimal", minRatio >= 0.35),
		verdict("p99 ≤ 50 ms", p99 <= 50*time.Millisecond),
		verdict("audit chain lag p99 < 1 s", r.lagP99 < 1),
		verdict("0 overbooked, 0 half pairs", overbooked == 0 && halfPairs == 0))
}

func verdict(name string, ok bool) string {
	if ok {
		return name + " met"
	}
	return name + " NOT met"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
