package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"examd/internal/pg/pgtest"
)

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	if _, err := db.Exec(`DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": url}
	if err := run(context.Background(), []string{"migrate"}, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Fatalf("examd migrate: %v", err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM licence_classes`); err != nil || n == 0 {
		t.Fatalf("after migrate: %d licence classes (%v)", n, err)
	}
	var users int
	if err := db.Get(&users, `SELECT count(*) FROM users`); err != nil || users != 0 {
		t.Fatalf("migrate alone created %d users (%v), want 0", users, err)
	}
}

func TestBadConfiguration(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]string{
		"TokenTTL":      {"EXAMD_TOKEN_TTL": "soon"},
		"BcryptCost":    {"EXAMD_BCRYPT_COST": "99"},
		"Pool":          {"EXAMD_DB_MAX_CONNS": "1"},
		"AdminPassword": {"EXAMD_ADMIN_PASSWORD": "short"},
		"LogLevel":      {"EXAMD_LOG_LEVEL": "loud"},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), nil, func(k string) string { return env[k] }, io.Discard)
			if err == nil {
				t.Fatal("examd started with a bad configuration")
			}
			var key string
			for k := range env {
				key = k
			}
			if !strings.Contains(err.Error(), key) {
				t.Errorf("error %q does not name %s", err, key)
			}
		})
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("examd accepted an unknown command")
	}
}
