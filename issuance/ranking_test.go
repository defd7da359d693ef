package issuance

import (
	"testing"
)

// TestTallyAbove: the monthly ranking (SA-RATE) compares the mean, then
// the number of ratings, then the share of 5s, exactly, as fractions.
func TestTallyAbove(t *testing.T) {
	tally := func(count, sum, fives int) Tally { return Tally{Count: count, Sum: sum, Fives: fives} }
	tests := []struct {
		name string
		t, u Tally
		want bool // t above u
	}{
		{"HigherMean", tally(3, 15, 3), tally(3, 14, 2), true},
		{"LowerMean", tally(3, 14, 2), tally(3, 15, 3), false},
		{"HigherMeanFewerRatings", tally(2, 10, 2), tally(10, 49, 9), true},
		// 14/3 = 4.666… and 467/100 = 4.67 round alike: the fractions decide.
		{"MeansEqualOnlyRounded", tally(100, 467, 70), tally(3, 14, 2), true},
		{"SameMeanMoreRatings", tally(4, 18, 2), tally(2, 9, 1), true},
		{"SameMeanFewerRatings", tally(2, 9, 1), tally(4, 18, 2), false},
		{"SameMeanAndCountMoreFives", tally(4, 16, 2), tally(4, 16, 0), true},
		{"SameMeanAndCountFewerFives", tally(4, 16, 0), tally(4, 16, 2), false},
		{"Equal", tally(3, 12, 1), tally(3, 12, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.t.Above(tt.u); got != tt.want {
				t.Errorf("%+v above %+v: got %v, want %v", tt.t, tt.u, got, tt.want)
			}
		})
	}
}

// TestRank: desks best first, equals in the order given (by name), and the
// top desk the best with MinRatingsToRank ratings: 2 do not rank, 3 do.
func TestRank(t *testing.T) {
	desk := func(name string, count, sum, fives int) DeskScore {
		return DeskScore{Desk: name, Tally: Tally{Count: count, Sum: sum, Fives: fives}}
	}
	tests := []struct {
		name  string
		desks []DeskScore
		order []string
		top   string // "" for none
	}{
		{"None", []DeskScore{}, []string{}, ""},
		{"TwoRatingsDoNotRank", []DeskScore{desk("1号窗口", 2, 10, 2)}, []string{"1号窗口"}, ""},
		{"ThreeRatingsRank", []DeskScore{desk("1号窗口", 3, 15, 3)}, []string{"1号窗口"}, "1号窗口"},
		{"BestHasTooFewRatings", []DeskScore{desk("1号窗口", 3, 12, 0), desk("2号窗口", 2, 10, 2)},
			[]string{"2号窗口", "1号窗口"}, "1号窗口"},
		{"ThreeBeatsTwoAtTheSameMean", []DeskScore{desk("1号窗口", 2, 10, 2), desk("2号窗口", 3, 15, 3)},
			[]string{"2号窗口", "1号窗口"}, "2号窗口"},
		{"EqualsKeepTheirOrder", []DeskScore{desk("1号窗口", 3, 12, 1), desk("2号窗口", 3, 12, 1), desk("3号窗口", 4, 20, 4)},
			[]string{"3号窗口", "1号窗口", "2号窗口"}, "3号窗口"},
		{"MoreFivesBreakTheTie", []DeskScore{desk("1号窗口", 4, 16, 0), desk("2号窗口", 4, 16, 2)},
			[]string{"2号窗口", "1号窗口"}, "2号窗口"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := rank(tt.desks, func(d *DeskScore) *Tally { return &d.Tally })
			got := []string{}
			for _, d := range tt.desks {
				got = append(got, d.Desk)
			}
			if len(got) != len(tt.order) {
				t.Fatalf("order %v, want %v", got, tt.order)
			}
			for i := range got {
				if got[i] != tt.order[i] {
					t.Fatalf("order %v, want %v", got, tt.order)
				}
			}
			switch {
			case tt.top == "" && top != nil:
				t.Errorf("top %q, want none", top.Desk)
			case tt.top != "" && (top == nil || top.Desk != tt.top):
				t.Errorf("top %+v, want %q", top, tt.top)
			}
		})
	}

	t.Run("Finished", func(t *testing.T) {
		desks := []DeskScore{desk("1号窗口", 3, 14, 1)}
		top := rank(desks, func(d *DeskScore) *Tally { return &d.Tally })
		if d := desks[0]; d.Mean != 4.67 || d.Share5 != 0.3333 {
			t.Errorf("mean %v share of 5s %v, want 4.67 and 0.3333", d.Mean, d.Share5)
		}
		if top == nil || top.Mean != 4.67 {
			t.Errorf("top %+v, want the finished tally", top)
		}
		desks[0].Desk = "changed"
		if top.Desk != "1号窗口" {
			t.Errorf("the top is not a copy")
		}
	})
}
