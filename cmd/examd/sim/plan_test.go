package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"examd/exam"
)

// catalogue is a part of SC-RULES, enough to plan from.
var catalogue = map[int][]rule{
	2: {
		{Code: "GEN.SEATBELT", Item: "any", Points: 100},
		{Code: "GEN.HANDBRAKE_CORRECTED", Item: "any", Points: 10},
		{Code: "GEN.STALL", Item: "any", Points: 10, Repeatable: true},
		{Code: "RP.BODY_OUT", Item: "reverse_parking", Points: 100},
		{Code: "RP.STOP", Item: "reverse_parking", Points: 5, Repeatable: true},
		{Code: "HS.BUMPER_WITHIN_50CM", Item: "hill_start", Points: 10},
		{Code: "PP.EXIT_SIGNAL", Item: "parallel_parking", Points: 10},
		{Code: "CD.STOP", Item: "curve_driving", Points: 100},
		{Code: "RT.STOP", Item: "right_angle_turn", Points: 5, Repeatable: true},
	},
	3: {
		{Code: "GEN.STALL", Item: "any", Points: 10, Repeatable: true},
		{Code: "S3.SIGNAL", Item: "any", Points: 10},
		{Code: "S3.HANDS_OFF", Item: "any", Points: 100},
		{Code: "S3.GEAR_MISMATCH", Item: "gear_change", Points: 10, Repeatable: true},
		{Code: "S3.PEDESTRIAN", Item: "crosswalk,school_zone,bus_stop", Points: 100},
		{Code: "S3.PULL_OVER_DISTANCE", Item: "pull_over", Points: 10},
	},
}

// TestPlanRates scores many planned attempts as examd would (SC-END) and
// checks the rates the simulator promises: 10 to 20 % fail, and a passing
// candidate has at most two small deductions.
func TestPlanRates(t *testing.T) {
	noon := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		subject int
		class   string
	}{{"Subject2C1", 2, "C1"}, {"Subject2C2", 2, "C2"}, {"Subject3", 3, "C1"}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			items := route(tc.subject, tc.class, noon)
			const n = 20000
			failed, outright := 0, 0
			for range n {
				sc := exam.NewScore(exam.PassMark(tc.subject, tc.class))
				planned := plan(rng, items, catalogue[tc.subject], sc.PassMark)
				for i, d := range planned {
					if !slices.Contains(d.Rule.at(items), d.Item) {
						t.Fatalf("%s planned at item %s", d.Rule.Code, items[d.Item])
					}
					if i > 0 && planned[i-1].Item > d.Item {
						t.Fatalf("deductions out of route order: %v", planned)
					}
					sc.Deduct(exam.Rule{Code: d.Rule.Code, Points: d.Rule.Points, Repeatable: d.Rule.Repeatable}, false)
					if sc.Status == exam.Failed {
						if d.Rule.Points >= exam.FailOutright {
							outright++
						}
						break
					}
				}
				sc.Finish()
				if sc.Status == exam.Failed {
					failed++
				} else if len(planned) > 2 {
					t.Fatalf("a pass with %d deductions: %v", len(planned), planned)
				}
			}
			if rate := float64(failed) / n; rate < 0.10 || rate > 0.20 {
				t.Errorf("got fail rate %.3f, want 0.10 to 0.20", rate)
			}
			if outright == 0 || outright == failed {
				t.Errorf("got %d fail-outright of %d failures, want some but not all", outright, failed)
			}
		})
	}
}

func TestRouteAndTheory(t *testing.T) {
	day := time.Date(2026, 5, 4, 2, 0, 0, 0, time.UTC)    // 10:00 in Shanghai
	night := time.Date(2026, 5, 4, 13, 0, 0, 0, time.UTC) // 21:00
	if got := route(3, "C1", day); len(got) != 16 || got[len(got)-1] != "lights_simulation" {
		t.Errorf("subject 3 by day: %v", got)
	}
	if got := route(3, "C1", night); len(got) != 16 || got[len(got)-1] != "night_driving" {
		t.Errorf("subject 3 by night: %v", got)
	}
	if got := route(2, "C2", day); len(got) != 4 {
		t.Errorf("subject 2 for C2: %v", got)
	}
	for _, item := range append(route(2, "C1", day), route(3, "C1", night)...) {
		if len(instructions[item]) == 0 {
			t.Errorf("no instruction for %s", item)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	below := 0
	for range 10000 {
		s := theoryScore(rng)
		if s < 60 || s > 100 {
			t.Fatalf("theory score %d", s)
		}
		if s < 90 {
			below++
		}
	}
	if below < 1000 || below > 2500 {
		t.Errorf("got %d of 10000 theory scores below 90, want 10 to 25 %%", below)
	}
}
