package auth_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// eventually polls check every 20 ms until it holds, failing after a second.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a second", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// silently deletes a's user's sessions with the triggers off, as if the
// announcement were lost.
func silently(t *testing.T, a *servertest.App, user string) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)`, user); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestSessionCacheAcrossReplicas: two replicas on one database. A token
// logged in on A is answered by A from its cache from the first request
// on, and by B from its cache once B has looked it up; a logout or a role change
// on A reaches B at once; when B's listening connection is lost, B's cache
// is emptied, so that a revocation it could not hear still takes effect.
func TestSessionCacheAcrossReplicas(t *testing.T) {
	a := servertest.Start(t)
	b := servertest.StartReplica(t, a)
	user := func(role string) (string, string) {
		t.Helper()
		name := role + time.Now().Format("150405.000000")
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
			map[string]any{"username": name, "password": "staff-secret", "role": role})
		return name, a.Login(name, "staff-secret")
	}
	status := func(app *servertest.App, path, token string) int {
		return app.Do("GET", path, token, nil).Status
	}

	t.Run("Cached", func(t *testing.T) {
		name, tok := user("scheduler")
		if got := status(b, "/api/v1/venues", tok); got != http.StatusOK {
			t.Fatalf("B: %d, want 200", got)
		}
		silently(t, a, name)
		if got := status(b, "/api/v1/venues", tok); got != http.StatusOK {
			t.Errorf("B after an unannounced deletion: %d, want 200 from its cache", got)
		}
		if got := status(a, "/api/v1/venues", tok); got != http.StatusOK {
			t.Errorf("A, where the token logged in: %d, want 200 from its cache", got)
		}
		var left int
		if err := a.DB.Get(&left, `SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = $1`, name); err != nil || left != 0 {
			t.Fatalf("%d sessions left (%v): the deletion did not happen", left, err)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		_, tok := user("scheduler")
		if got := status(b, "/api/v1/venues", tok); got != http.StatusOK {
			t.Fatalf("B: %d, want 200", got)
		}
		a.Must(http.StatusNoContent, "POST", "/api/v1/logout", tok, nil)
		eventually(t, "B refuses the token logged out on A", func() bool {
			return status(b, "/api/v1/venues", tok) == http.StatusUnauthorized
		})
	})
	t.Run("RoleChange", func(t *testing.T) {
		name, tok := user("scheduler")
		if got := status(b, "/api/v1/audit?limit=1", tok); got != http.StatusForbidden {
			t.Fatalf("B, a scheduler reading the audit log: %d, want 403", got)
		}
		if _, err := a.DB.Exec(`UPDATE users SET role = 'admin' WHERE username = $1`, name); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B sees the new role", func() bool {
			return status(b, "/api/v1/audit?limit=1", tok) == http.StatusOK
		})
	})
	t.Run("ListenerLost", func(t *testing.T) {
		name, tok := user("scheduler")
		if got := status(b, "/api/v1/venues", tok); got != http.StatusOK {
			t.Fatalf("B: %d, want 200", got)
		}
		var n int
		if err := a.DB.Get(&n, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%examd_auth%'`); err != nil || n != 2 {
			t.Fatalf("terminated %d listeners (%v), want A's and B's", n, err)
		}
		silently(t, a, name)
		eventually(t, "B refuses a token revoked while it could not listen", func() bool {
			return status(b, "/api/v1/venues", tok) == http.StatusUnauthorized
		})
		// Listening again, B caches again and hears revocations.
		_, tok = user("scheduler")
		eventually(t, "B listens again", func() bool {
			var n int
			_ = a.DB.Get(&n, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND query LIKE 'LISTEN%examd_auth%'`)
			return n == 2
		})
		if got := status(b, "/api/v1/venues", tok); got != http.StatusOK {
			t.Fatalf("B: %d, want 200", got)
		}
		a.Must(http.StatusNoContent, "POST", "/api/v1/logout", tok, nil)
		eventually(t, "B refuses the token logged out on A", func() bool {
			return status(b, "/api/v1/venues", tok) == http.StatusUnauthorized
		})
	})
}
