package scheduling_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"examd/scheduling"
)

// allocCase is one generated allocation.
type allocCase struct {
	seed  int64
	today time.Time
	apps  []scheduling.Application
	slots []scheduling.SlotSeats
}

// Days on which the generated allocations run: month ends, where "six
// months" is easiest to get wrong, and an ordinary day.
var allocDays = []string{"2026-12-07", "2026-08-31", "2027-08-31", "2026-02-28", "2026-03-31", "2026-12-31"}

func genAllocCase(r *rand.Rand, seed int64) allocCase {
	c := allocCase{seed: seed}
	c.today, _ = time.Parse(time.DateOnly, allocDays[r.IntN(len(allocDays))])
	nSlots := 1 + r.IntN(8)
	for i := range nSlots {
		c.slots = append(c.slots, scheduling.SlotSeats{
			SlotID: int64(100 + i), Left: r.IntN(6), ReserveLeft: r.IntN(4),
			StepFree: r.IntN(2) == 0, AdaptedVehicle: r.IntN(3) == 0,
		})
	}
	slotID := func() int64 { return int64(100 + r.IntN(nSlots)) }
	boundary := scheduling.SixMonthsAfter(c.today)
	ids := r.Perm(1000)
	for i := range 1 + r.IntN(40) {
		a := scheduling.Application{
			CandidateID:    int64(ids[i] + 1),
			PriorityLane:   r.IntN(7) == 0,
			SortTime:       sortAt(r.IntN(5)), // few sort times: many ties
			StepFree:       r.IntN(5) == 0,
			AdaptedVehicle: r.IntN(7) == 0,
		}
		switch r.IntN(3) {
		case 0: // around the six-month boundary
			a.PermitExpiresOn = boundary.AddDate(0, 0, r.IntN(5)-2)
		case 1: // any day from ten days ago to more than a year ahead
			a.PermitExpiresOn = c.today.AddDate(0, 0, r.IntN(420)-10)
		default:
			a.PermitExpiresOn = farExpiry
		}
		for range 1 + r.IntN(3) {
			if nSlots > 1 && r.IntN(3) == 0 {
				s2, s3 := slotID(), slotID()
				for s3 == s2 {
					s3 = slotID()
				}
				a.Preferences = append(a.Preferences, []int64{s2, s3})
			} else {
				a.Preferences = append(a.Preferences, []int64{slotID()})
			}
		}
		c.apps = append(c.apps, a)
	}
	return c
}

// TestAllocationMatchesReference allocates 200 generated cases and checks
// each against refAllocate, an independent, simple implementation, and
// against the properties the result must have whatever the implementation.
func TestAllocationMatchesReference(t *testing.T) {
	for n := range 200 {
		seed := int64(n)*7919 + 1
		r := rand.New(rand.NewPCG(uint64(seed), 2026))
		c := genAllocCase(r, seed)
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			got, err := scheduling.Allocate(c.seed, c.apps, c.slots, c.today)
			if err != nil {
				t.Fatalf("Allocate: %v", err)
			}
			want := refAllocate(c)
			if len(got) != len(want) {
				t.Fatalf("%d placements, want %d", len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if g.CandidateID != w.CandidateID || g.Rank != w.Rank || g.Basis != w.Basis || g.Status != w.Status ||
					g.Preference != w.Preference || !slices.Equal(g.Slots, w.Slots) || g.Reason != w.Reason {
					t.Fatalf("placement %d = %+v, reference %+v", i, g, w)
				}
			}
			checkAllocation(t, c, got)

			// The same input in another order gives the same result.
			apps, slots := slices.Clone(c.apps), slices.Clone(c.slots)
			r.Shuffle(len(apps), func(i, j int) { apps[i], apps[j] = apps[j], apps[i] })
			r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
			again, err := scheduling.Allocate(c.seed, apps, slots, c.today)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("shuffled input gave another result (%v)", err)
			}
		})
	}
}

// refRank is an application with the keys of the reference ranking.
type refRank struct {
	app  scheduling.Application
	tier int
	draw uint64
}

// refAllocate ranks by comparing keys one by one and sorting by insertion,
// then places by scanning seat by seat.
func refAllocate(c allocCase) []scheduling.Placement {
	var rs []refRank
	for _, a := range c.apps {
		k := refRank{app: a, tier: 2, draw: refDraw(c.seed, a.CandidateID)}
		if a.PriorityLane {
			k.tier = 0
		} else if refUnderSixMonths(c.today, a.PermitExpiresOn) {
			k.tier = 1
		}
		// Insertion: walk past every key that goes first.
		i := 0
		for i < len(rs) && refBefore(rs[i], k) {
			i++
		}
		rs = slices.Insert(rs, i, k)
	}

	// Each slot is a row of seats; the first min(reserve, left) are held for the lane.
	type seat struct{ held, taken bool }
	rows := map[int64][]seat{}
	access := map[int64]scheduling.SlotSeats{}
	for _, s := range c.slots {
		row := make([]seat, s.Left)
		for i := 0; i < s.ReserveLeft && i < s.Left; i++ {
			row[i].held = true
		}
		rows[s.SlotID], access[s.SlotID] = row, s
	}
	// findSeat returns the index of a free seat of slot id for the lane, or -1;
	// the lane takes a held seat before any other.
	findSeat := func(id int64, lane bool) int {
		free := -1
		for i, st := range rows[id] {
			if st.taken {
				continue
			}
			if st.held && lane {
				return i
			}
			if !st.held && free < 0 {
				free = i
			}
		}
		return free
	}

	var out []scheduling.Placement
	for n, k := range rs {
		p := scheduling.Placement{CandidateID: k.app.CandidateID, Rank: n + 1, Status: scheduling.StatusNotAllocated,
			Basis: []string{"priority_lane", "permit_expiring", "sort_time"}[k.tier]}
		anyOK, noStep := false, false
		for i, opt := range k.app.Preferences {
			ok := true
			for _, id := range opt {
				if k.app.StepFree && !access[id].StepFree {
					ok, noStep = false, true
				}
				if k.app.AdaptedVehicle && !access[id].AdaptedVehicle {
					ok = false
				}
			}
			if !ok {
				continue
			}
			anyOK = true
			found := []int{}
			for _, id := range opt {
				if s := findSeat(id, k.app.PriorityLane); s >= 0 {
					found = append(found, s)
				}
			}
			if len(found) < len(opt) {
				continue
			}
			for j, id := range opt {
				rows[id][found[j]].taken = true
			}
			p.Status, p.Preference, p.Slots, p.Reason = scheduling.StatusConfirmed, i+1, slices.Clone(opt), "allocated"
			break
		}
		if p.Status == scheduling.StatusNotAllocated {
			switch {
			case anyOK:
				p.Reason = "preferences_full"
			case noStep:
				p.Reason = "no_step_free_seat"
			default:
				p.Reason = "no_adapted_vehicle"
			}
		}
		out = append(out, p)
	}
	return out
}

// refBefore reports whether a ranks before b.
func refBefore(a, b refRank) bool {
	if a.tier != b.tier {
		return a.tier < b.tier
	}
	if a.tier == 1 && !a.app.PermitExpiresOn.Equal(b.app.PermitExpiresOn) {
		return a.app.PermitExpiresOn.Before(b.app.PermitExpiresOn)
	}
	if !a.app.SortTime.Equal(b.app.SortTime) {
		return a.app.SortTime.Before(b.app.SortTime)
	}
	if a.draw != b.draw {
		return a.draw < b.draw
	}
	return a.app.CandidateID < b.app.CandidateID
}

// refUnderSixMonths compares the expiry with today six months on, as
// (year, month, day), the day cut to the month's length.
func refUnderSixMonths(today, expires time.Time) bool {
	y, m, d := today.Year(), int(today.Month())+6, today.Day()
	if m > 12 {
		y, m = y+1, m-12
	}
	if last := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
		d = last
	}
	ey, em, ed := expires.Year(), int(expires.Month()), expires.Day()
	return ey < y || ey == y && (em < m || em == m && ed < d)
}

// refDraw is splitmix64 of the seed and the splitmix64 of the candidate id.
func refDraw(seed, id int64) uint64 {
	sm := func(x uint64) uint64 {
		x += 0x9e3779b97f4a7c15
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		return x ^ x>>31
	}
	return sm(uint64(seed) ^ sm(uint64(id)))
}

// checkAllocation checks what any correct allocation must satisfy: seats,
// whole pairs, PL-ACCESS, and no envy of a better-ranked applicant.
func checkAllocation(t *testing.T, c allocCase, ps []scheduling.Placement) {
	t.Helper()
	slots := map[int64]scheduling.SlotSeats{}
	for _, s := range c.slots {
		slots[s.SlotID] = s
	}
	apps := map[int64]scheduling.Application{}
	for _, a := range c.apps {
		apps[a.CandidateID] = a
	}
	accessible := func(a scheduling.Application, opt []int64) bool {
		for _, id := range opt {
			if a.StepFree && !slots[id].StepFree || a.AdaptedVehicle && !slots[id].AdaptedVehicle {
				return false
			}
		}
		return true
	}
	// taken counts the seats of each slot held by the lane and by regulars
	// among the placements ranked before n.
	taken := func(n int, id int64) (lane, regular int) {
		for _, p := range ps[:n] {
			if slices.Contains(p.Slots, id) {
				if apps[p.CandidateID].PriorityLane {
					lane++
				} else {
					regular++
				}
			}
		}
		return lane, regular
	}
	for id, s := range slots {
		lane, regular := taken(len(ps), id)
		held := min(s.ReserveLeft, s.Left)
		if lane+regular > s.Left || regular > s.Left-held {
			t.Errorf("slot %d: %d lane and %d regular seats taken of %d left, %d held", id, lane, regular, s.Left, held)
		}
	}
	for n, p := range ps {
		a := apps[p.CandidateID]
		worse := len(a.Preferences)
		if p.Status == scheduling.StatusConfirmed {
			// No half pair: the slots placed are exactly one option's.
			if p.Preference < 1 || !slices.Equal(p.Slots, a.Preferences[p.Preference-1]) {
				t.Errorf("candidate %d placed in %v as preference %d of %v", p.CandidateID, p.Slots, p.Preference, a.Preferences)
				continue
			}
			if !accessible(a, p.Slots) {
				t.Errorf("candidate %d placed in %v, not accessible to them", p.CandidateID, p.Slots)
			}
			worse = p.Preference - 1
		} else if p.Slots != nil || p.Preference != 0 {
			t.Errorf("candidate %d not allocated, with %v", p.CandidateID, p.Slots)
		}
		for i, opt := range a.Preferences[:worse] {
			if !accessible(a, opt) {
				continue
			}
			// At this applicant's turn a better option was theirs unless one
			// of its slots had no seat open to them, counting only the
			// placements of those ranked before.
			blocked := false
			for _, id := range opt {
				lane, regular := taken(n, id)
				open := slots[id].Left - lane - regular
				if !a.PriorityLane {
					open -= max(0, min(slots[id].ReserveLeft, slots[id].Left)-lane)
				}
				blocked = blocked || open <= 0
			}
			if !blocked {
				t.Errorf("candidate %d (rank %d) got preference %d, but preference %d %v had seats at their turn", p.CandidateID, p.Rank, p.Preference, i+1, opt)
			}
			// No envy: no worse-ranked applicant holds, in every slot of the
			// option, a seat that was open to this one (any seat for a lane
			// applicant, a regular one's seat for a regular applicant).
			envied := true
			for _, id := range opt {
				held := false
				for _, q := range ps[n+1:] {
					if slices.Contains(q.Slots, id) && (a.PriorityLane || !apps[q.CandidateID].PriorityLane) {
						held = true
					}
				}
				envied = envied && held
			}
			if envied {
				t.Errorf("candidate %d (rank %d) wanted %v (preference %d) and got preference %d, yet worse-ranked applicants hold its seats", p.CandidateID, p.Rank, opt, i+1, p.Preference)
			}
		}
	}
}

// BenchmarkAllocate allocates 100,000 applications over 200 slots with
// 20,000 seats, the size of bench/allocate, in Go only.
func BenchmarkAllocate(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var slots []scheduling.SlotSeats
	for i := range 200 {
		slots = append(slots, scheduling.SlotSeats{SlotID: int64(i + 1), Left: 100, ReserveLeft: 5, StepFree: i%4 == 0, AdaptedVehicle: i%10 == 0})
	}
	apps := make([]scheduling.Application, 100_000)
	for i := range apps {
		a := scheduling.Application{
			CandidateID: int64(i + 1), PriorityLane: r.IntN(50) == 0,
			PermitExpiresOn: allocToday.AddDate(0, 0, r.IntN(1000)),
			SortTime:        sortAt(0).Add(time.Duration(r.IntN(90*24)) * time.Hour),
			StepFree:        r.IntN(100) == 0,
		}
		for range 1 + r.IntN(3) {
			if r.IntN(4) == 0 {
				// A combined pair: a subject 2 slot (odd) and a subject 3 slot (even).
				a.Preferences = append(a.Preferences, []int64{int64(2*r.IntN(100) + 1), int64(2*r.IntN(100) + 2)})
			} else {
				a.Preferences = append(a.Preferences, []int64{int64(1 + r.IntN(200))})
			}
		}
		apps[i] = a
	}
	for b.Loop() {
		if _, err := scheduling.Allocate(7, apps, slots, allocToday); err != nil {
			b.Fatal(err)
		}
	}
}
