// Command allocate is the ranked-allocation benchmark (RA-*): it starts a
// private PostgreSQL (fsync on) and an examd binary on it, publishes ranked
// slots through the API, writes candidates and their applications in bulk
// SQL (the setup), then has examd allocate them through its real path, POST
// /api/v1/slots/{id}/allocate (one round takes every slot the applications
// connect), times that call, and checks in SQL that no slot is over
// capacity, no combined pair is half made and every application is decided.
//
// Before examd's round it times the floor (floor.go): the same number and
// shape of writes that a round makes, in SQL alone, in examd's tables and
// in bare copies with only primary keys, rolled back and vacuumed away;
// examd's time is also reported as a ratio to both. The seed's tables are
// vacuumed and analyzed too, as autovacuum would have done during an
// application window of days.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/bench/benchkit"
	"examd/internal/pg"
)

type options struct {
	examd        string
	applications int
	days         int
	seats        int
}

func main() {
	var o options
	flag.StringVar(&o.examd, "examd", "./bin/examd", "examd binary to measure")
	flag.IntVar(&o.applications, "applications", 100000, "candidates, each with one application")
	flag.IntVar(&o.days, "days", 50, "exam days, each with two subject 2 and two subject 3 slots (50: 200 slots)")
	flag.IntVar(&o.seats, "seats", 100, "seats per slot (100 over 200 slots: 20,000)")
	flag.Parse()
	if err := bench(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "allocate:", err)
		os.Exit(1)
	}
}

// slotsOf are a day's slots: subject 2 at 08:00 and 10:00, subject 3 at
// 13:00 and 15:00, so that any subject 2 and subject 3 slot of a day form a
// combined pair.
type day struct{ s2, s3 [2]int64 }

func bench(ctx context.Context, o options, out io.Writer) error {
	const adminPassword = "allocate-admin-pw"
	ex, err := benchkit.Start(ctx, o.examd, adminPassword, 1)
	if err != nil {
		return err
	}
	defer ex.Close()
	c := ex.Client
	token, err := c.Login("admin", adminPassword)
	if err != nil {
		return err
	}
	admin := "Bearer " + token
	var venue struct {
		ID int64 `json:"id"`
	}
	if err := c.Must(http.StatusCreated, "POST", "/api/v1/venues", admin,
		map[string]any{"name": "排序考场", "address": "长安街1号", "step_free": true}, &venue); err != nil {
		return err
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now()
	y, m, d := now.In(sh).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, sh)
	fmt.Fprintf(out, "publishing %d ranked slots of %d seats through the API…\n", 4*o.days, o.seats)
	days := make([]day, o.days)
	for i := range days {
		for j, hh := range []int{8, 10, 13, 15} {
			start := today.AddDate(0, 0, i+2).Add(time.Duration(hh) * time.Hour)
			subject := 2 + j/2
			var s struct {
				ID int64 `json:"id"`
			}
			if err := c.Must(http.StatusCreated, "POST", "/api/v1/slots", admin, map[string]any{
				"venue_id": venue.ID, "subject": subject, "licence_class": "C1", "allocation": "ranked",
				"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(2 * time.Hour).Format(time.RFC3339),
				"capacity": o.seats, "priority_reserved": o.seats / 20,
				"booking_opens_at":  now.Add(-time.Hour).Format(time.RFC3339),
				"booking_closes_at": now.Add(time.Hour).Format(time.RFC3339),
			}, &s); err != nil {
				return err
			}
			if subject == 2 {
				days[i].s2[j%2] = s.ID
			} else {
				days[i].s3[j%2] = s.ID
			}
		}
	}

	db, err := pg.Open(ctx, ex.DBURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(out, "writing %d candidates with applications in bulk SQL…\n", o.applications)
	if err := seed(ctx, db, o, days); err != nil {
		return err
	}

	fmt.Fprintln(out, "timing the round's writes alone in PostgreSQL (the floor; rolled back)…")
	fr, err := placeFloor(ctx, db)
	if err != nil {
		return err
	}
	fl, err := measureFloor(ctx, db, fr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  floor, examd's tables: %v\n  floor, bare tables (primary keys only): %v\n", fl.Schema, fl.Bare)

	fmt.Fprintln(out, "allocating through POST /api/v1/slots/{id}/allocate…")
	var round struct {
		Slots        []int64 `json:"slot_ids"`
		Applications int     `json:"applications"`
		Confirmed    int     `json:"confirmed"`
	}
	start := time.Now()
	if err := c.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/allocate", days[0].s2[0]), admin, nil, &round); err != nil {
		return err
	}
	took := time.Since(start)

	var check struct {
		Over      int `db:"over"`
		Miscount  int `db:"miscount"`
		Half      int `db:"half"`
		Undecided int `db:"undecided"`
		Seats     int `db:"seats"`
		Confirmed int `db:"confirmed"`
		Booked    int `db:"booked"`
	}
	if err := db.GetContext(ctx, &check, `
		SELECT (SELECT count(*) FROM slots WHERE booked > capacity) AS over,
		       (SELECT count(*) FROM slots s WHERE booked <> (SELECT count(*) FROM bookings b WHERE b.slot_id = s.id AND b.status = 'confirmed')) AS miscount,
		       (SELECT count(*) FROM bookings a LEFT JOIN bookings b ON b.id = a.pair_id
		        WHERE a.pair_id IS NOT NULL AND (b.id IS NULL OR b.pair_id <> a.id)) AS half,
		       (SELECT count(*) FROM applications WHERE status = 'applied') AS undecided,
		       (SELECT sum(capacity) FROM slots) AS seats,
		       (SELECT count(*) FROM applications WHERE status = 'confirmed') AS confirmed,
		       (SELECT sum(booked) FROM slots) AS booked`); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	var reasons []struct {
		Reason string `db:"reason"`
		N      int    `db:"n"`
	}
	if err := db.SelectContext(ctx, &reasons, `SELECT reason, count(*) AS n FROM applications GROUP BY reason ORDER BY n DESC`); err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Fprintf(out, "  %s: %d\n", r.Reason, r.N)
	}
	fmt.Fprintf(out, "round: %d slots, %d applications, %d confirmed; %d seats booked of %d\n",
		len(round.Slots), round.Applications, check.Confirmed, check.Booked, check.Seats)
	if check.Over != 0 || check.Miscount != 0 || check.Half != 0 || check.Undecided != 0 || round.Applications != o.applications {
		return fmt.Errorf("%d slots over capacity, %d miscounted, %d half pairs, %d undecided, %d of %d applications in the round",
			check.Over, check.Miscount, check.Half, check.Undecided, round.Applications, o.applications)
	}
	fmt.Fprintf(out, "examd ÷ floor: %.2f× the writes alone in examd's tables, %.2f× in bare tables\n",
		took.Seconds()/fl.Schema.total().Seconds(), took.Seconds()/fl.Bare.total().Seconds())
	fmt.Fprintf(out, "allocated %d applications into %d seats in %.2fs\n", o.applications, check.Seats, took.Seconds())
	return nil
}

// seed writes the candidates (a tenth with a permit expiring within six
// months, one in twenty on the priority lane) and one application each:
// four in ten for subject 2, three in ten for subject 3, three in ten
// combined, with 1 to 3 options, drawn from a fixed seed.
func seed(ctx context.Context, db *sqlx.DB, o options, days []day) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `
		WITH u AS (
			INSERT INTO users (username, password_hash, role)
			SELECT 'bench-' || g, 'x', 'candidate' FROM generate_series(1, $1) g
			RETURNING id),
		c AS (
			INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on, subject1_passed_on)
			SELECT id, 'B' || lpad(id::text, 17, '0'), '考生', '13800138000', 'C1', current_date - 200,
			       CASE WHEN id % 10 = 0 THEN current_date + 60 + (id % 100)::int ELSE current_date + 800 END, current_date - 201
			FROM u
			RETURNING id),
		g AS (
			INSERT INTO priority_grants (candidate_id, reason, granted_by)
			SELECT id, 'other', (SELECT id FROM users WHERE username = 'admin') FROM c WHERE id % 20 = 7)
		SELECT id FROM c ORDER BY id`, o.applications); err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	r := rand.New(rand.NewPCG(14, 1))
	var appIDs []int64
	if err := tx.SelectContext(ctx, &appIDs, `SELECT nextval('applications_id_seq') FROM generate_series(1, $1)`, len(ids)); err != nil {
		return err
	}
	var kinds []int64
	var sorts []time.Time
	var oApp, oPref, oHalf, oSlot []int64
	base := time.Now().AddDate(-1, 0, 0)
	for i, cand := range ids {
		_ = cand
		kind := int64(2)
		switch x := r.IntN(10); {
		case x >= 7:
			kind = 23
		case x >= 4:
			kind = 3
		}
		kinds = append(kinds, kind)
		sorts = append(sorts, base.Add(time.Duration(r.IntN(365*24*60))*time.Minute))
		used := map[int64]bool{}
		for p := 1; p <= 1+r.IntN(3); p++ {
			dd := days[r.IntN(len(days))]
			var opt []int64
			switch kind {
			case 2:
				opt = []int64{dd.s2[r.IntN(2)]}
			case 3:
				opt = []int64{dd.s3[r.IntN(2)]}
			default:
				opt = []int64{dd.s2[r.IntN(2)], dd.s3[r.IntN(2)]}
			}
			if used[opt[0]] || used[opt[len(opt)-1]] {
				continue
			}
			np := int64(1)
			if len(oApp) > 0 && oApp[len(oApp)-1] == appIDs[i] {
				np = oPref[len(oPref)-1] + 1
			}
			for h, s := range opt {
				used[s] = true
				oApp, oPref, oHalf, oSlot = append(oApp, appIDs[i]), append(oPref, np), append(oHalf, int64(h+1)), append(oSlot, s)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO applications (id, candidate_id, subjects, sort_time, applied_by)
		SELECT n.id, n.candidate_id, CASE n.kind WHEN 2 THEN '{2}'::smallint[] WHEN 3 THEN '{3}' ELSE '{2,3}' END, n.sort_time, n.candidate_id
		FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::timestamptz[]) AS n (id, candidate_id, kind, sort_time)`,
		pq.Array(appIDs), pq.Array(ids), pq.Array(kinds), pq.Array(sorts)); err != nil {
		return fmt.Errorf("applications: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO application_options (application_id, preference, half, slot_id)
		SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::smallint[], $4::bigint[])`,
		pq.Array(oApp), pq.Array(oPref), pq.Array(oHalf), pq.Array(oSlot)); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `ANALYZE`)
	return err
}
