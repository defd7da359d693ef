package scheduling_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/auth"
	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/internal/refusal"
	"examd/realtime"
	"examd/scheduling"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// storeWithStaff returns a store on a fresh database and a scheduler's id.
func storeWithStaff(t *testing.T) (*scheduling.Store, *sqlx.DB, int64) {
	t.Helper()
	db, _ := pgtest.NewDB(t)
	staff, err := auth.InsertUser(context.Background(), db, auth.NewUser{Username: "planner", Role: auth.RoleScheduler}, "x")
	if err != nil {
		t.Fatal(err)
	}
	return scheduling.NewStore(db, notify.New(realtime.NewFeed(db))), db, staff
}

// registered registers a C1 candidate with the ID number id.
func registered(t *testing.T, s *scheduling.Store, staff int64, id string) int64 {
	t.Helper()
	today := scheduling.Day(time.Now())
	n := scheduling.NewCandidate{
		IDNumber: id, Name: "李四", Phone: "13800138000", LicenceClass: "C1",
		PermitIssuedOn: today.AddDate(0, 0, -30), PermitExpiresOn: today.AddDate(2, 0, 0), Password: "candidate-pw",
	}
	if err := n.Validate(today); err != nil {
		t.Fatal(err)
	}
	cid, err := s.CreateCandidate(context.Background(), n, "x", staff)
	if err != nil {
		t.Fatal(err)
	}
	return cid
}

func TestCandidateByIDNumber(t *testing.T) {
	s, _, staff := storeWithStaff(t)
	ctx := context.Background()
	cid := registered(t, s, staff, "11010519491231002X")

	t.Run("OK", func(t *testing.T) {
		// A lower-case check character and spaces around it find the same person.
		for _, q := range []string{"11010519491231002X", " 11010519491231002x "} {
			p, err := s.CandidateByIDNumber(ctx, q)
			if err != nil || p.ID != cid || p.Name != "李四" {
				t.Errorf("%q: got %d %q, %v; want candidate %d", q, p.ID, p.Name, err, cid)
			}
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		if _, err := s.CandidateByIDNumber(ctx, "110101199001010015"); !errors.Is(err, refusal.ErrNotFound) {
			t.Errorf("got %v, want refusal.ErrNotFound", err)
		}
	})
}

// TestLaneRequestDecisions: granting a request marks it granted and grants
// the lane with its reason and needs in one transaction; of two decisions at
// once exactly one succeeds; a decided request cannot be decided again.
func TestLaneRequestDecisions(t *testing.T) {
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	ask := func(cid int64, reason string, needs string) int64 {
		t.Helper()
		var id int64
		if err := db.Get(&id, `INSERT INTO priority_requests (candidate_id, reason, needs, note)
			VALUES ($1, $2, $3::text[], '轮椅') RETURNING id`, cid, reason, needs); err != nil {
			t.Fatal(err)
		}
		return id
	}
	status := func(id int64) string {
		t.Helper()
		var st string
		if err := db.Get(&st, `SELECT status || ':' || coalesce(decided_by::text, '') FROM priority_requests WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return st
	}

	t.Run("Grant", func(t *testing.T) {
		cid := registered(t, s, staff, "110105194912310038")
		req := ask(cid, "disability", "{step_free,escort}")
		pending, err := s.PendingLaneRequests(ctx, 0)
		if err != nil || len(pending) != 1 || pending[0].ID != req || pending[0].Name != "李四" || pending[0].OnLane {
			t.Fatalf("pending: %+v, %v", pending, err)
		}
		got, grant, err := s.GrantLaneRequest(ctx, req, staff)
		if err != nil || got != cid || grant.Reason != "disability" || fmt.Sprint(grant.Needs) != "[step_free escort]" || grant.Note != "轮椅" {
			t.Fatalf("grant: %d %+v %v", got, grant, err)
		}
		if st := status(req); st != fmt.Sprintf("granted:%d", staff) {
			t.Errorf("request %s, want granted by %d", st, staff)
		}
		if ok, _ := s.HasPriority(ctx, cid); !ok {
			t.Errorf("no active grant after granting the request")
		}
		if _, _, err := s.GrantLaneRequest(ctx, req, staff); !errors.Is(err, scheduling.ErrRequestDecided) {
			t.Errorf("granting twice: %v, want ErrRequestDecided", err)
		}
		if _, err := s.DeclineLaneRequest(ctx, req, staff, ""); !errors.Is(err, scheduling.ErrRequestDecided) {
			t.Errorf("declining a granted request: %v, want ErrRequestDecided", err)
		}
		if _, _, err := s.GrantLaneRequest(ctx, 999999, staff); !errors.Is(err, refusal.ErrNotFound) {
			t.Errorf("unknown request: %v, want refusal.ErrNotFound", err)
		}
	})

	t.Run("Decline", func(t *testing.T) {
		cid := registered(t, s, staff, "110105194912310054")
		req := ask(cid, "elderly", "{}")
		if got, err := s.DeclineLaneRequest(ctx, req, staff, ""); err != nil || got != cid {
			t.Fatalf("decline: %d %v", got, err)
		}
		if ok, _ := s.HasPriority(ctx, cid); ok {
			t.Errorf("a declined request granted the lane")
		}
		if p, _ := s.PendingLaneRequests(ctx, cid); len(p) != 0 {
			t.Errorf("still pending: %+v", p)
		}
	})

	t.Run("AtOnce", func(t *testing.T) {
		cid := registered(t, s, staff, "110105194912310070")
		req := ask(cid, "pregnancy", "{extra_time}")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					_, _, errs[i] = s.GrantLaneRequest(ctx, req, staff)
				} else {
					_, errs[i] = s.DeclineLaneRequest(ctx, req, staff, "")
				}
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, scheduling.ErrRequestDecided):
				t.Errorf("unexpected error %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d decisions succeeded, want 1", ok)
		}
		granted, _ := s.HasPriority(ctx, cid)
		if st := status(req); (st == fmt.Sprintf("granted:%d", staff)) != granted {
			t.Errorf("request %s but lane granted=%v", st, granted)
		}
	})
}

// TestCandidateNotice: the slip's notice is the candidate's class's items
// with the fee filled in, empty (not "not found") for a class without
// items, and not found only for a candidate that does not exist.
func TestCandidateNotice(t *testing.T) {
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	cid := registered(t, s, staff, "11010519491231002X")
	items, err := s.CandidateNotice(ctx, cid, 10)
	if err != nil || len(items) == 0 {
		t.Fatalf("notice of a C1 candidate: %v, %v", items, err)
	}
	for _, it := range items {
		if strings.Contains(it.TextZh+it.TextEn, "{fee}") {
			t.Errorf("item %s keeps {fee}: %q / %q", it.Code, it.TextZh, it.TextEn)
		}
	}
	if _, err := s.CandidateNotice(ctx, cid+1000, 10); !errors.Is(err, refusal.ErrNotFound) {
		t.Errorf("notice of no candidate: %v, want ErrNotFound", err)
	}
	if _, err := db.Exec(`DELETE FROM notice_items`); err != nil {
		t.Fatal(err)
	}
	if items, err := s.CandidateNotice(ctx, cid, 10); err != nil || items == nil || len(items) != 0 {
		t.Errorf("notice of a class without items: %#v, %v; want an empty list", items, err)
	}
}
