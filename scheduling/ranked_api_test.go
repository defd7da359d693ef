package scheduling_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"examd/internal/notify"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"examd/realtime"
	"examd/scheduling"
)

// rankedSetup runs examd on a pinned clock with ranked slots whose window
// closes an hour from now.
func rankedSetup(t *testing.T) (*servertest.App, *testkit.Clock, string, time.Time) {
	t.Helper()
	clock := testkit.NewClock(time.Date(2030, 6, 1, 10, 0, 0, 0, testkit.Shanghai))
	a := servertest.StartAt(t, clock)
	return a, clock, a.Staff("scheduler"), clock.Now().Add(time.Hour)
}

func rankedSlot(a *servertest.App, sched string, venue int64, subject, d, hh, capacity int, closes time.Time) int64 {
	return a.NewSlot(sched, venue, subject, d, hh, map[string]any{"allocation": "ranked", "capacity": capacity,
		"booking_opens_at":  closes.Add(-2 * time.Hour).Format(time.RFC3339),
		"booking_closes_at": closes.Format(time.RFC3339)})
}

func apply(a *servertest.App, token string, prefs ...[]int64) testkit.Response {
	return a.Do("POST", "/api/v1/bookings", token, map[string]any{"preferences": prefs})
}

// TestRankedApplyAtTheWindowEdges: an application is taken and withdrawn
// up to booking_closes_at, neither at nor after it.
func TestRankedApplyAtTheWindowEdges(t *testing.T) {
	t.Parallel()
	a, clock, sched, closes := rankedSetup(t)
	venue := a.NewVenue(sched, false)
	s1 := rankedSlot(a, sched, venue, 2, 5, 9, 5, closes)
	s2 := rankedSlot(a, sched, venue, 2, 6, 9, 5, closes)
	instant := a.NewSlot(sched, venue, 2, 7, 9, nil)
	cs := []servertest.Candidate{a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)}

	if r := a.Do("GET", fmt.Sprintf("/api/v1/slots/%d", s1), sched, nil); r.Body["allocation"] != "ranked" {
		t.Fatalf("slot: %s", r.Raw)
	}
	// slot_ids on a ranked slot is the application of that one option.
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", cs[0].Token, map[string]any{"slot_ids": []int64{s1}})
	if r.Body["status"] != "applied" || r.Body["kind"] != "application" {
		t.Fatalf("apply by slot_ids: %s", r.Raw)
	}
	app0 := r.ID()
	if r := apply(a, cs[0].Token, []int64{s2}); r.Status != 409 || r.Code() != "already_applied" {
		t.Errorf("second application of the subject: got %d %s, want 409 already_applied", r.Status, r.Raw)
	}
	// A ranked slot has no waitlist: its seats go by the ranking.
	if r := a.Do("POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", s1), cs[2].Token, nil); r.Status != 409 || r.Code() != "ranked_slot" {
		t.Errorf("joining a ranked slot's waitlist: got %d %s, want 409 ranked_slot", r.Status, r.Raw)
	}
	if r := apply(a, cs[1].Token, []int64{s1}, []int64{instant}); r.Status != 409 || r.Code() != "not_ranked" {
		t.Errorf("instant slot as an option: got %d %s, want 409 not_ranked", r.Status, r.Raw)
	}
	if r := apply(a, cs[1].Token, []int64{s1}, []int64{s2}, []int64{s1}); r.Status != 422 || r.Field() != "preferences" {
		t.Errorf("a slot twice: got %d %s, want 422 preferences", r.Status, r.Raw)
	}
	clock.Set(closes.Add(-time.Microsecond))
	r = apply(a, cs[1].Token, []int64{s1}, []int64{s2})
	if r.Status != http.StatusCreated || r.Body["status"] != "applied" {
		t.Fatalf("apply just before the close: got %d %s", r.Status, r.Raw)
	}
	app1 := r.ID()
	if r := a.Do("DELETE", fmt.Sprintf("/api/v1/applications/%d", app1), cs[0].Token, nil); r.Status != 404 {
		t.Errorf("withdraw another's application: got %d %s, want 404", r.Status, r.Raw)
	}
	if r := a.Do("DELETE", fmt.Sprintf("/api/v1/applications/%d", app1), cs[1].Token, nil); r.Status != 200 || r.Body["status"] != "withdrawn" {
		t.Errorf("withdraw before the close: got %d %s", r.Status, r.Raw)
	}
	clock.Set(closes)
	if r := apply(a, cs[2].Token, []int64{s1}); r.Status != 409 || r.Code() != "booking_closed" {
		t.Errorf("apply at the close: got %d %s, want 409 booking_closed", r.Status, r.Raw)
	}
	if r := a.Do("DELETE", fmt.Sprintf("/api/v1/applications/%d", app0), cs[0].Token, nil); r.Status != 409 || r.Code() != "application_closed" {
		t.Errorf("withdraw at the close: got %d %s, want 409 application_closed", r.Status, r.Raw)
	}
	clock.Set(closes.Add(time.Minute))
	if r := apply(a, cs[2].Token, []int64{s2}); r.Status != 409 || r.Code() != "booking_closed" {
		t.Errorf("apply after the close: got %d %s, want 409 booking_closed", r.Status, r.Raw)
	}
}

// TestRankedAllocationByEndpoint: the scheduler allocates before the
// window closes (closing it); the lane comes first, a combined application
// is placed whole or not at all, a candidate who booked the subject
// elsewhere meanwhile ends not_allocated with that reason, and the
// candidate's list and the roster show the result.
func TestRankedAllocationByEndpoint(t *testing.T) {
	t.Parallel()
	a, _, sched, closes := rankedSetup(t)
	venue := a.NewVenue(sched, false)
	s2 := rankedSlot(a, sched, venue, 2, 5, 8, 2, closes)
	s3 := rankedSlot(a, sched, venue, 3, 5, 13, 1, closes)
	elsewhere := a.NewSlot(sched, venue, 2, 8, 9, nil)
	lane := a.NewCandidate(sched, nil)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), sched,
		map[string]any{"reason": "disability", "needs": []string{}, "note": "测试"})
	combinedA, combinedB := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	switched := a.NewCandidate(sched, nil)

	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", combinedA.Token, map[string]any{"preferences": [][]int64{{s2, s3}}})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", combinedB.Token, map[string]any{"preferences": [][]int64{{s2, s3}}})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", switched.Token, map[string]any{"preferences": [][]int64{{s2}}})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", lane.Token, map[string]any{"preferences": [][]int64{{s2}}})
	// Meanwhile the switched candidate books subject 2 in an instant slot.
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", switched.Token, map[string]any{"slot_ids": []int64{elsewhere}})

	if r := a.Do("POST", fmt.Sprintf("/api/v1/slots/%d/allocate", s2), lane.Token, nil); r.Status != 403 {
		t.Errorf("a candidate allocates: got %d, want 403", r.Status)
	}
	r := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/allocate", s2), sched, nil)
	if r.Body["applications"] != 4.0 {
		t.Fatalf("round: %s", r.Raw)
	}
	if r := a.Do("POST", fmt.Sprintf("/api/v1/slots/%d/allocate", s3), sched, nil); r.Status != 409 || r.Code() != "already_allocated" {
		t.Errorf("allocate again: got %d %s, want 409 already_allocated", r.Status, r.Raw)
	}
	if s := a.Do("GET", fmt.Sprintf("/api/v1/slots/%d", s2), sched, nil); s.Body["booking_open"] != false {
		t.Errorf("the window stays open after allocating: %s", s.Raw)
	}

	mine := func(c servertest.Candidate) (map[string]any, []any) {
		r := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil)
		apps := r.Body["applications"].([]any)
		if len(apps) != 1 {
			t.Fatalf("applications: %s", r.Raw)
		}
		return apps[0].(map[string]any), r.Body["bookings"].([]any)
	}
	app, bs := mine(lane)
	if app["status"] != "confirmed" || app["rank"] != 1.0 || app["basis"] != "priority_lane" || app["reason_zh"] != "已按第1志愿分配" || len(bs) != 1 {
		t.Errorf("lane: %v %v", app, bs)
	}
	var notes []string
	if err := a.DB.Select(&notes, `SELECT kind FROM notifications WHERE candidate_id = $1 AND kind LIKE 'application.%'`, lane.ID); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0] != "application.allocated" {
		t.Errorf("the lane candidate's notes: %v, want one application.allocated", notes)
	}
	// The notes say what was decided: the day (with its weekday) and times
	// of a seat given, the subject of an application not placed.
	var texts []string
	if err := a.DB.Select(&texts, `SELECT text_zh FROM notifications WHERE kind LIKE 'application.%' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(texts) < 2 {
		t.Errorf("allocation notes: %q, want one per decided application", texts)
	}
	for _, text := range texts {
		placed := regexp.MustCompile(`^您的预约申请已分配：\d{4}-\d{2}-\d{2}（星期.）\s*科目[二三四] \d\d:\d\d–\d\d:\d\d.*；排名第\d+，`)
		refused := regexp.MustCompile(`^您的科目[二三四](、科目[二三四])?预约申请未分配：排名第\d+，`)
		if !placed.MatchString(text) && !refused.MatchString(text) {
			t.Errorf("allocation note %q names neither the seat nor the subject", text)
		}
	}
	app, _ = mine(switched)
	if app["status"] != "not_allocated" || app["reason"] != "already_booked" || app["reason_en"] == "" {
		t.Errorf("booked elsewhere meanwhile: %v", app)
	}
	// One seat of s3 and one of s2 after the lane: one combined applicant
	// placed in both, the other in neither.
	var whole, none int
	for _, c := range []servertest.Candidate{combinedA, combinedB} {
		app, bs := mine(c)
		switch {
		case app["status"] == "confirmed" && len(bs) == 2:
			whole++
			b0, b1 := bs[0].(map[string]any), bs[1].(map[string]any)
			if b0["pair_id"] != b1["id"] || b1["pair_id"] != b0["id"] {
				t.Errorf("the halves do not point at each other: %v %v", b0, b1)
			}
		case app["status"] == "not_allocated" && len(bs) == 0 && app["reason"] == "preferences_full":
			none++
		default:
			t.Errorf("combined: %v %v", app, bs)
		}
	}
	if whole != 1 || none != 1 {
		t.Errorf("combined: %d placed whole, %d not placed; want 1 and 1", whole, none)
	}
	roster := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", s2), sched, nil)
	if n := len(roster.Body["candidates"].([]any)); n != 2 {
		t.Errorf("roster of s2: %d, want 2: %s", n, roster.Raw)
	}
	// The roster says why each seat was given: the rank, its rule and the
	// reason in words (issue 14 §1).
	for _, e := range roster.Body["candidates"].([]any) {
		e := e.(map[string]any)
		if e["rank"] == nil || e["basis"] == nil || e["reason"] != "allocated" || e["reason_zh"] == "" {
			t.Errorf("roster entry without its allocation: %v", e)
		}
		if e["candidate_id"] == float64(lane.ID) && (e["rank"] != 1.0 || e["basis"] != "priority_lane" || e["reason_zh"] != "已按第1志愿分配") {
			t.Errorf("the lane candidate's roster entry: %v", e)
		}
	}
	// An instant slot's roster carries no allocation.
	if r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", elsewhere), sched, nil); strings.Contains(string(r.Raw), `"rank"`) {
		t.Errorf("instant slot's roster: %s", r.Raw)
	}
	list := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/applications", s2), sched, nil)
	es := list.Body["applications"].([]any)
	if len(es) != 4 {
		t.Fatalf("ranked list: %s", list.Raw)
	}
	first := es[0].(map[string]any)
	if first["rank"] != 1.0 || first["id_number"] == lane.IDNo || first["placed"] != true {
		t.Errorf("ranked list's first: %v", first)
	}
}

// TestAllocateDueExactlyOnce: two runners (two stores, as two replicas)
// allocate the due slots at once: one round happens, under the advisory
// lock, and a later run finds nothing due.
func TestAllocateDueExactlyOnce(t *testing.T) {
	t.Parallel()
	a, _, sched, closes := rankedSetup(t)
	venue := a.NewVenue(sched, false)
	slot := rankedSlot(a, sched, venue, 2, 5, 9, 3, closes)
	for range 6 {
		c := a.NewCandidate(sched, nil)
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"preferences": [][]int64{{slot}}})
	}
	// The app's own job runs on the pinned clock, before the close: only
	// the two runners here see the slot due.
	after := closes.Add(time.Second)
	var wg sync.WaitGroup
	rounds := make([]scheduling.Round, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			store := scheduling.NewStore(a.DB, notify.New(realtime.NewFeed(a.DB)))
			for {
				r, ran, err := store.AllocateDue(context.Background(), after)
				if err != nil || ran {
					rounds[i], errs[i] = r, err
					return
				}
			}
		}()
	}
	wg.Wait()
	allocated := 0
	for i := range 2 {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(rounds[i].Slots) > 0 {
			allocated++
		}
	}
	if allocated != 1 {
		t.Fatalf("rounds that allocated: %d (%v), want 1", allocated, rounds)
	}
	var booked, bookings, decided int
	if err := a.DB.Get(&booked, `SELECT booked FROM slots WHERE id = $1`, slot); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Get(&bookings, `SELECT count(*) FROM bookings WHERE slot_id = $1`, slot); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Get(&decided, `SELECT count(*) FROM applications WHERE status IN ('confirmed', 'not_allocated')`); err != nil {
		t.Fatal(err)
	}
	if booked != 3 || bookings != 3 || decided != 6 {
		t.Errorf("booked %d, bookings %d, decided %d; want 3, 3, 6", booked, bookings, decided)
	}
	r, ran, err := scheduling.NewStore(a.DB, notify.New(realtime.NewFeed(a.DB))).AllocateDue(context.Background(), after.Add(time.Minute))
	if err != nil || !ran || len(r.Slots) != 0 {
		t.Errorf("a later run: %v %v %v, want nothing to allocate", r, ran, err)
	}
}
