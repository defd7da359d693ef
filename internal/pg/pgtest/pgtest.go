// Package pgtest gives tests real PostgreSQL databases: one throwaway
// cluster per test binary (or TEST_DATABASE_URL), a migrated template, and a
// fresh clone of it for each test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
)

// server is the test binary's PostgreSQL, set up by Main.
var server struct {
	admin    *sqlx.DB            // connected to the maintenance database
	url      func(string) string // URL of a database by name
	template string
	next     atomic.Int64
}

// Main runs the tests of a binary against real PostgreSQL and exits. It
// starts a throwaway cluster (or uses TEST_DATABASE_URL), migrates a
// template database, runs the tests and cleans up. If the database cannot be
// had, the tests fail loudly: they never skip.
func Main(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	ctx := context.Background()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		server.url = func(name string) string { return withDB(u, name) }
	} else {
		bin, err := pg.FindServerBinaries(os.Getenv)
		if err != nil {
			return 0, err
		}
		dir, err := os.MkdirTemp("", "examd-test-")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		cluster, err := pg.StartCluster(ctx, pg.ClusterOptions{Dir: dir, BinDir: bin, MaxConnections: 300})
		if err != nil {
			return 0, err
		}
		defer cluster.Stop()
		server.url = cluster.URL
	}
	admin, err := pg.Open(ctx, server.url("postgres"), 4)
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	server.admin = admin

	server.template = "examd_tpl_" + suffix()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+server.template); err != nil {
		return 0, fmt.Errorf("create template: %w", err)
	}
	defer admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+server.template+` WITH (FORCE)`)
	tpl, err := pg.Open(ctx, server.url(server.template), 2)
	if err != nil {
		return 0, err
	}
	err = pg.Migrate(ctx, tpl.DB)
	tpl.Close()
	if err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// NewDB gives the test a fresh, migrated database of its own, dropped when
// the test ends, and its URL for starting the whole service on it.
func NewDB(tb testing.TB) (*sqlx.DB, string) {
	tb.Helper()
	if server.admin == nil {
		tb.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	ctx := context.Background()
	name := fmt.Sprintf("%s_%d", strings.Replace(server.template, "_tpl_", "_t_", 1), server.next.Add(1))
	if _, err := server.admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+server.template); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	u := server.url(name)
	db, err := pg.Open(ctx, u, 50)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		if _, err := server.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	return db, u
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b))
}

// withDB points a lib/pq URL or key=value string at another database.
func withDB(u, name string) string {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		p, err := url.Parse(u)
		if err == nil {
			p.Path = "/" + name
			return p.String()
		}
	}
	var kept []string
	for _, kv := range strings.Fields(u) {
		if !strings.HasPrefix(kv, "dbname=") {
			kept = append(kept, kv)
		}
	}
	return strings.Join(append(kept, "dbname="+name), " ")
}
