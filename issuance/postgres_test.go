package issuance

import (
	"testing"
	"time"

	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
)

// TestRulesAsPostgreSQL: the pure rules that replaced SQL expressions give
// what PostgreSQL gave: the validity dates (date + interval, in
// Asia/Shanghai) and the report's percentile_cont, rounded to 1 decimal.
func TestRulesAsPostgreSQL(t *testing.T) {
	db, _ := pgtest.NewDB(t)

	for _, printed := range []string{"2028-02-29T09:30:00+08:00", "2024-02-29T16:00:00+08:00", "2026-03-31T16:10:00Z",
		"2026-03-31T15:59:00Z", "2026-12-31T17:00:00+08:00", "2027-02-28T23:59:59+08:00"} {
		t.Run("Validity"+printed, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, printed)
			if err != nil {
				t.Fatal(err)
			}
			var want [3]string
			if err := db.QueryRow(`
				SELECT to_char(d, 'YYYY-MM-DD'), to_char(d + interval '6 years', 'YYYY-MM-DD'), to_char(d + interval '1 years', 'YYYY-MM-DD')
				FROM (SELECT ($1::timestamptz AT TIME ZONE 'Asia/Shanghai')::date AS d) x`, at).Scan(&want[0], &want[1], &want[2]); err != nil {
				t.Fatal(err)
			}
			from, until, probation := validity(at)
			if got := [3]string{from.Format(time.DateOnly), until.Format(time.DateOnly), probation.Format(time.DateOnly)}; got != want {
				t.Errorf("got %v, PostgreSQL %v", got, want)
			}
		})
	}

	for _, tt := range []struct {
		name    string
		minutes []float64
	}{
		{"One", []float64{12.34}},
		{"Even", []float64{40, 10}},
		{"Odd", []float64{1020, 30, 90}},
		{"Ten", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 100}},
		{"Rounding", []float64{0.25, 0.25, 10.05}},
		{"Fractions", []float64{7.0166666666666666, 13.25, 61.983333333333334, 2.5, 0.05, 44.45, 19.35}},
	} {
		t.Run("Percentiles"+tt.name, func(t *testing.T) {
			var want Minutes
			if err := db.Get(&want, `
				SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY m)::numeric, 1)::float8 AS p50,
				       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY m)::numeric, 1)::float8 AS p90,
				       round(max(m)::numeric, 1)::float8 AS max
				FROM unnest($1::float8[]) m`, pq.Float64Array(tt.minutes)); err != nil {
				t.Fatal(err)
			}
			got := percentiles(tt.minutes)
			if *got.P50 != *want.P50 || *got.P90 != *want.P90 || *got.Max != *want.Max {
				t.Errorf("got p50 %v p90 %v max %v, PostgreSQL %v %v %v", *got.P50, *got.P90, *got.Max, *want.P50, *want.P90, *want.Max)
			}
		})
	}
}
