package audit_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"examd/internal/audit"
	"examd/internal/server/servertest"
)

func TestAuditAPI(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	tx := a.DB.MustBegin()
	if err := audit.Record(context.Background(), tx, audit.Entry{Actor: audit.System, Action: "test.recorded", Subject: "test:1"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	r := a.Must(http.StatusOK, "GET", "/api/v1/audit?subject=test:1", a.Admin, nil)
	entries, _ := r.Body["entries"].([]any)
	if len(entries) != 1 || r.Body["next"] != nil {
		t.Fatalf("GET /api/v1/audit?subject=test:1 as admin: %s, want the one entry and next null", r.Raw)
	}
	if e, _ := entries[0].(map[string]any); e["action"] != "test.recorded" {
		t.Errorf("entry %v, want action test.recorded", e)
	}
	// GET /audit brought the chain up to date: the lag is 0 at the
	// chainer's next poll.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m := a.Must(http.StatusOK, "GET", "/metrics", "", nil)
		if strings.Contains(string(m.Raw), "\nexamd_audit_chain_lag_seconds 0\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics without examd_audit_chain_lag_seconds 0:\n%s", m.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := a.Do("GET", "/api/v1/audit?limit=5000", a.Admin, nil); r.Status != http.StatusUnprocessableEntity || r.Field() != "limit" {
		t.Errorf("limit=5000: %d %s, want 422 on limit", r.Status, r.Raw)
	}
	if r := a.Do("GET", "/api/v1/audit", a.Staff("scheduler"), nil); r.Status != http.StatusForbidden {
		t.Errorf("as a scheduler: %d %s, want 403", r.Status, r.Raw)
	}
	if r := a.Do("GET", "/api/v1/audit", "", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d %s, want 401", r.Status, r.Raw)
	}
}
