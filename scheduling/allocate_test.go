package scheduling_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"examd/scheduling"
)

// allocToday is the day of the allocations in these tests.
var allocToday = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// sortAt is a sort time h hours into a day long before the allocation.
func sortAt(h int) time.Time {
	return time.Date(2026, 9, 1, h, 0, 0, 0, scheduling.Shanghai)
}

// farExpiry is a permit with years to run: no RA-PRIORITY.
var farExpiry = time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)

func app(id int64, sortHour int, prefs ...[]int64) scheduling.Application {
	return scheduling.Application{CandidateID: id, PermitExpiresOn: farExpiry, SortTime: sortAt(sortHour), Preferences: prefs}
}

func one(ids ...int64) []int64 { return ids }

func allocate(tb testing.TB, seed int64, apps []scheduling.Application, slots []scheduling.SlotSeats) []scheduling.Placement {
	tb.Helper()
	got, err := scheduling.Allocate(seed, apps, slots, allocToday)
	if err != nil {
		tb.Fatalf("Allocate: %v", err)
	}
	return got
}

// byCandidate indexes placements by candidate.
func byCandidate(ps []scheduling.Placement) map[int64]scheduling.Placement {
	m := make(map[int64]scheduling.Placement, len(ps))
	for _, p := range ps {
		m[p.CandidateID] = p
	}
	return m
}

func order(ps []scheduling.Placement) []int64 {
	ids := make([]int64, len(ps))
	for i, p := range ps {
		ids[i] = p.CandidateID
	}
	return ids
}

func TestSixMonthsAfter(t *testing.T) {
	for _, tc := range []struct{ day, want string }{
		{"2026-12-07", "2027-06-07"},
		{"2026-08-31", "2027-02-28"},
		{"2027-08-31", "2028-02-29"},
		{"2026-06-30", "2026-12-30"},
		{"2026-07-31", "2027-01-31"},
	} {
		d, _ := time.Parse(time.DateOnly, tc.day)
		if got := scheduling.SixMonthsAfter(d).Format(time.DateOnly); got != tc.want {
			t.Errorf("SixMonthsAfter(%s) = %s, want %s", tc.day, got, tc.want)
		}
	}
}

func TestAllocateRanking(t *testing.T) {
	slots := []scheduling.SlotSeats{{SlotID: 1, Left: 10}}
	expiring := func(id int64, sortHour int, expiry string) scheduling.Application {
		a := app(id, sortHour, one(1))
		a.PermitExpiresOn, _ = time.Parse(time.DateOnly, expiry)
		return a
	}
	t.Run("SixMonthBoundary", func(t *testing.T) {
		// Six months from 2026-12-07 is 2027-06-07: a permit expiring that
		// day has six months to run, not less.
		apps := []scheduling.Application{
			expiring(1, 1, "2027-06-08"),
			expiring(2, 2, "2027-06-07"),
			expiring(3, 3, "2027-06-06"),
		}
		got := allocate(t, 1, apps, slots)
		if want := []int64{3, 1, 2}; !slices.Equal(order(got), want) {
			t.Fatalf("order = %v, want %v", order(got), want)
		}
		for i, want := range []string{scheduling.BasisPermitExpiring, scheduling.BasisSortTime, scheduling.BasisSortTime} {
			if got[i].Basis != want {
				t.Errorf("rank %d basis = %s, want %s", i+1, got[i].Basis, want)
			}
		}
	})
	t.Run("MonthEnd", func(t *testing.T) {
		// Six months from 31 August is 28 February (2027 is no leap year).
		apps := []scheduling.Application{expiring(1, 1, "2027-02-28"), expiring(2, 2, "2027-02-27")}
		got, err := scheduling.Allocate(1, apps, slots, time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{2, 1}; !slices.Equal(order(got), want) {
			t.Fatalf("order = %v, want %v", order(got), want)
		}
	})
	t.Run("LaneThenExpiryThenSortTime", func(t *testing.T) {
		lane := app(1, 9, one(1))
		lane.PriorityLane = true
		apps := []scheduling.Application{
			app(5, 0, one(1)),            // earliest sort time
			expiring(4, 1, "2027-03-01"), // expiring, later
			expiring(3, 8, "2027-01-01"), // expiring, sooner, with a later sort time
			lane,                         // the lane, with the latest sort time
			expiring(2, 2, allocToday.Format(time.DateOnly)), // expires today: soonest
		}
		got := allocate(t, 1, apps, slots)
		if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(order(got), want) {
			t.Fatalf("order = %v, want %v", order(got), want)
		}
		for i, p := range got {
			if p.Rank != i+1 {
				t.Errorf("placement %d has rank %d", i, p.Rank)
			}
		}
		if got[0].Basis != scheduling.BasisPriorityLane {
			t.Errorf("lane basis = %s", got[0].Basis)
		}
	})
	t.Run("TiesReproducible", func(t *testing.T) {
		var apps []scheduling.Application
		for id := int64(1); id <= 20; id++ {
			apps = append(apps, app(id, 1, one(1)))
		}
		first := order(allocate(t, 42, apps, slots))
		slices.Reverse(apps)
		if again := order(allocate(t, 42, apps, slots)); !slices.Equal(first, again) {
			t.Fatalf("seed 42 gave %v, then %v in reverse input", first, again)
		}
		// The order is the order of the draws.
		if !slices.IsSortedFunc(first, func(a, b int64) int {
			return cmp.Compare(scheduling.Draw(42, a), scheduling.Draw(42, b))
		}) {
			t.Errorf("order %v is not the order of the draws", first)
		}
		if other := order(allocate(t, 43, apps, slots)); slices.Equal(first, other) {
			t.Errorf("seeds 42 and 43 drew the same order %v", first)
		}
		if slices.IsSorted(first) {
			t.Errorf("ties left in candidate order %v", first)
		}
	})
}

func TestAllocatePlacement(t *testing.T) {
	t.Run("CombinedHalfFullGoesToNextPreference", func(t *testing.T) {
		slots := []scheduling.SlotSeats{{SlotID: 1, Left: 1}, {SlotID: 2, Left: 0}, {SlotID: 3, Left: 1}, {SlotID: 4, Left: 1}}
		apps := []scheduling.Application{app(1, 1, one(1, 2), one(3, 4)), app(2, 2, one(1))}
		got := byCandidate(allocate(t, 1, apps, slots))
		if p := got[1]; p.Preference != 2 || !slices.Equal(p.Slots, []int64{3, 4}) {
			t.Errorf("combined got preference %d %v, want 2 [3 4]", p.Preference, p.Slots)
		}
		// The subject 2 seat of the full pair was not taken: the next one has it.
		if p := got[2]; p.Status != scheduling.StatusConfirmed || !slices.Equal(p.Slots, []int64{1}) {
			t.Errorf("single got %s %v, want confirmed [1]", p.Status, p.Slots)
		}
	})
	t.Run("CombinedBothFull", func(t *testing.T) {
		slots := []scheduling.SlotSeats{{SlotID: 1, Left: 1}, {SlotID: 2, Left: 0}}
		got := allocate(t, 1, []scheduling.Application{app(1, 1, one(1, 2))}, slots)
		if p := got[0]; p.Status != scheduling.StatusNotAllocated || p.Reason != scheduling.ReasonPreferencesFull || p.ReasonEN != "all preferences full" || p.Slots != nil {
			t.Errorf("got %+v, want not_allocated, preferences_full", p)
		}
	})
	t.Run("Reserve", func(t *testing.T) {
		lane := app(9, 9, one(1))
		lane.PriorityLane = true
		for _, tc := range []struct {
			name       string
			left, held int
			apps       []scheduling.Application
			want       []int64 // the candidates placed
		}{
			{"RegularsLeaveTheReserve", 2, 1, []scheduling.Application{app(1, 1, one(1)), app(2, 2, one(1))}, []int64{1}},
			{"LaneTakesTheReserve", 2, 1, []scheduling.Application{lane, app(1, 1, one(1)), app(2, 2, one(1))}, []int64{9, 1}},
			{"LaneTakesHeldSeatFirst", 3, 1, []scheduling.Application{lane, app(1, 1, one(1)), app(2, 2, one(1))}, []int64{9, 1, 2}},
			{"AllHeld", 2, 2, []scheduling.Application{app(1, 1, one(1))}, nil},
			{"HeldMoreThanLeft", 1, 5, []scheduling.Application{lane, app(1, 1, one(1))}, []int64{9}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got := allocate(t, 1, tc.apps, []scheduling.SlotSeats{{SlotID: 1, Left: tc.left, ReserveLeft: tc.held}})
				var placed []int64
				for _, p := range got {
					if p.Status == scheduling.StatusConfirmed {
						placed = append(placed, p.CandidateID)
					}
				}
				if !slices.Equal(placed, tc.want) {
					t.Errorf("placed %v, want %v", placed, tc.want)
				}
			})
		}
	})
	t.Run("Access", func(t *testing.T) {
		slots := []scheduling.SlotSeats{
			{SlotID: 1, Left: 5},
			{SlotID: 2, Left: 5, StepFree: true},
			{SlotID: 3, Left: 5, AdaptedVehicle: true},
			{SlotID: 4, Left: 0, StepFree: true, AdaptedVehicle: true},
		}
		stepFree := func(a scheduling.Application) scheduling.Application { a.StepFree = true; return a }
		adapted := func(a scheduling.Application) scheduling.Application { a.AdaptedVehicle = true; return a }
		for _, tc := range []struct {
			name   string
			app    scheduling.Application
			reason string
			slots  []int64
		}{
			{"StepFreeSkipsStepped", stepFree(app(1, 1, one(1), one(2))), scheduling.ReasonAllocated, one(2)},
			{"NoStepFree", stepFree(app(1, 1, one(1), one(3))), scheduling.ReasonNoStepFree, nil},
			{"NoStepFreeInPair", stepFree(app(1, 1, one(2, 1))), scheduling.ReasonNoStepFree, nil},
			{"AdaptedSkipsOthers", adapted(app(1, 1, one(2), one(3))), scheduling.ReasonAllocated, one(3)},
			{"NoAdapted", adapted(app(1, 1, one(1), one(2))), scheduling.ReasonNoAdapted, nil},
			{"AccessibleButFull", adapted(stepFree(app(1, 1, one(1), one(4)))), scheduling.ReasonPreferencesFull, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := allocate(t, 1, []scheduling.Application{tc.app}, slots)[0]
				if p.Reason != tc.reason || !slices.Equal(p.Slots, tc.slots) || p.ReasonZH == "" || p.ReasonEN == "" {
					t.Errorf("got %s %v (%s / %s), want %s %v", p.Reason, p.Slots, p.ReasonZH, p.ReasonEN, tc.reason, tc.slots)
				}
			})
		}
	})
	t.Run("InputNotChanged", func(t *testing.T) {
		slots := []scheduling.SlotSeats{{SlotID: 1, Left: 1}}
		allocate(t, 1, []scheduling.Application{app(1, 1, one(1))}, slots)
		if slots[0].Left != 1 {
			t.Errorf("slots changed: %+v", slots)
		}
	})
}

func TestAllocateRefuses(t *testing.T) {
	slots := []scheduling.SlotSeats{{SlotID: 1, Left: 1}, {SlotID: 2, Left: 1}}
	for _, tc := range []struct {
		name  string
		apps  []scheduling.Application
		slots []scheduling.SlotSeats
	}{
		{"TwiceOneCandidate", []scheduling.Application{app(1, 1, one(1)), app(1, 2, one(2))}, slots},
		{"UnknownSlot", []scheduling.Application{app(1, 1, one(3))}, slots},
		{"NoPreference", []scheduling.Application{app(1, 1)}, slots},
		{"FourPreferences", []scheduling.Application{app(1, 1, one(1), one(2), one(1, 2), one(2, 1))}, slots},
		{"PairOfOneSlot", []scheduling.Application{app(1, 1, one(1, 1))}, slots},
		{"ThreeSlots", []scheduling.Application{app(1, 1, []int64{1, 2, 3})}, append(slots, scheduling.SlotSeats{SlotID: 3})},
		{"SlotTwice", []scheduling.Application{app(1, 1, one(1))}, append(slots, scheduling.SlotSeats{SlotID: 1})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := scheduling.Allocate(1, tc.apps, tc.slots, allocToday); err == nil {
				t.Error("allocated, want an error")
			}
		})
	}
}
