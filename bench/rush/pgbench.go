package main

import (
	"context"
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

// pgbenchScript is examd's booking transaction for one slot, statement for
// statement (scheduling/booking_store.go): lock the candidate with class
// and grant, read their history, read the slot, insert the booking,
// take the seat by a conditional update, commit. A candidate drawn twice
// conflicts on the one-active-booking index and inserts nothing.
const pgbenchScript = `\set cand random(:cmin, :cmax)
\set slot random(:smin, :smax)
BEGIN;
SELECT lc.code, lc.subject2_wait_days, lc.subject3_wait_days, lc.subject3_wait_days_licensed, c.permit_issued_on, c.permit_expires_on, c.subject1_passed_on, c.holds_car_licence, g.reason, g.needs FROM candidates c JOIN licence_classes lc ON lc.code = c.licence_class LEFT JOIN priority_grants g ON g.candidate_id = c.id AND g.revoked_at IS NULL WHERE c.id = :cand FOR UPDATE OF c;
SELECT subject, status, exam_day FROM bookings WHERE candidate_id = :cand AND status <> 'cancelled';
SELECT s.id, s.venue_id, s.subject, s.licence_class, s.starts_at, s.ends_at, s.capacity, s.priority_reserved, s.reserve_release_at, s.booking_opens_at, s.booking_closes_at, s.adapted_vehicle, s.booked, v.step_free FROM slots s JOIN venues v ON v.id = s.venue_id WHERE s.id = ANY(ARRAY[:slot]::bigint[]) ORDER BY s.starts_at;
WITH n AS (SELECT nextval('bookings_id_seq') AS id, s.slot_id, s.subject, s.exam_day, s.ord FROM unnest(ARRAY[:slot]::bigint[], ARRAY[3]::smallint[], ARRAY[current_date + 5]::date[]) WITH ORDINALITY AS s (slot_id, subject, exam_day, ord)) INSERT INTO bookings (id, candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id) SELECT n.id, :cand, n.slot_id, n.subject, n.exam_day, 'regular', :cand, (SELECT m.id FROM n m WHERE m.ord <> n.ord) FROM n ORDER BY n.ord ON CONFLICT (candidate_id, subject) WHERE status = 'confirmed' DO NOTHING RETURNING id, slot_id, pair_id, created_at;
WITH locked AS (SELECT id FROM slots WHERE id = ANY(ARRAY[:slot]::bigint[]) ORDER BY id FOR NO KEY UPDATE) UPDATE slots SET booked = booked + 1 FROM locked WHERE slots.id = locked.id AND booked < capacity - CASE WHEN false OR now() >= reserve_release_at THEN 0 ELSE priority_reserved END RETURNING slots.id;
COMMIT;
`

// floor is pgbench's result.
type floor struct {
	tps     float64
	latency float64 // average, ms
	clients int
}

// pgbench prepares its own candidates and roomy subject 3 slots (so that
// seats never run out) on examd's database and runs the script.
func pgbench(ctx context.Context, db *sqlx.DB, cluster *pg.Cluster, bin string, o options, dir string) (floor, error) {
	const pool = 100000
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
		return floor{}, fmt.Errorf("pgbench candidates: %w", err)
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
		return floor{}, fmt.Errorf("pgbench slots: %w", err)
	}
	if _, err := db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return floor{}, err
	}
	script := filepath.Join(dir, "booking.sql")
	if err := os.WriteFile(script, []byte(pgbenchScript), 0o644); err != nil {
		return floor{}, err
	}
	host, port := dsnValue(cluster.URL("examd"), "host"), dsnValue(cluster.URL("examd"), "port")
	cmd := exec.CommandContext(ctx, pgbenchPath(bin), "-n",
		"-c", strconv.Itoa(o.clients), "-j", strconv.Itoa(runtime.NumCPU()),
		"-T", strconv.Itoa(int(o.pgbenchFor/time.Second)), "-f", script,
		"-D", fmt.Sprintf("cmin=%d", cmin), "-D", fmt.Sprintf("cmax=%d", cmax),
		"-D", fmt.Sprintf("smin=%d", smin), "-D", fmt.Sprintf("smax=%d", smax),
		"-h", host, "-p", port, "-U", "postgres", "examd")
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return floor{}, fmt.Errorf("pgbench: %w\n%s", err, outb)
	}
	out := string(outb)
	f := floor{clients: o.clients}
	if m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindStringSubmatch(out); m != nil {
		f.tps, _ = strconv.ParseFloat(m[1], 64)
	} else {
		return f, fmt.Errorf("no tps in pgbench's output:\n%s", out)
	}
	if m := regexp.MustCompile(`latency average = ([0-9.]+) ms`).FindStringSubmatch(out); m != nil {
		f.latency, _ = strconv.ParseFloat(m[1], 64)
	}
	return f, nil
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

func report(w io.Writer, o options, r result, overbooked int, f floor) {
	rate := float64(len(r.latencies)) / r.elapsed.Seconds()
	fmt.Fprintf(w, "\nrush hour: %d bookings from %d clients into %d slots\n", len(r.latencies), o.clients, o.slots)
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
	fmt.Fprintf(w, "pgbench, same transaction, same database, %d clients: %.0f tps, average latency %.1f ms\n", f.clients, f.tps, f.latency)
	fmt.Fprintf(w, "ratio examd/pgbench: %.2f (target ≥ 0.5); p99 target ≤ 100 ms; overbooked target 0\n", rate/f.tps)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
