package pgtest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"examd/internal/pg"
)

// Cluster is a PostgreSQL server of one test's own, which the test stops
// and starts again on the same data folder and socket to play an outage:
// what it connected to answers at the same URL once it is back. The
// shared server of Main cannot do that, since every test uses it.
type Cluster struct {
	tb   testing.TB
	opts pg.ClusterOptions
	url  string // of the database examd, to check that a restart keeps it
	cur  *pg.Cluster
}

// NewCluster starts a durable cluster (fsync on) for the calling test,
// stopped and removed when the test ends. It has the database examd.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		tb.Fatalf("pgtest.NewCluster: %v", err)
	}
	dir, err := os.MkdirTemp("", "examd-cluster-")
	if err != nil {
		tb.Fatalf("pgtest.NewCluster: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	// MkdirTemp makes dir private to this user; the server user (postgres,
	// when the tests run as root) must traverse it.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatalf("pgtest.NewCluster: %v", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Durable, as in production: without fsync and synchronous commit, an
	// immediate stop loses transactions that examd has answered as committed.
	c := &Cluster{tb: tb, opts: pg.ClusterOptions{Dir: dir + "/pg", BinDir: bin, Fsync: true, Logger: log}}
	c.Start()
	c.url = c.cur.URL("examd")
	tb.Cleanup(func() {
		if err := c.cur.Stop(); err != nil {
			tb.Errorf("pgtest: stop the cluster: %v", err)
		}
	})
	return c
}

// URL returns the lib/pq connection string of the database dbname.
func (c *Cluster) URL(dbname string) string { return c.cur.URL(dbname) }

// Stop stops the server with mode, as pg_ctl stop -m mode would: "fast"
// (sessions are ended, a checkpoint is written) or "immediate" (every
// process exits at once, as in a crash).
func (c *Cluster) Stop(mode string) {
	c.tb.Helper()
	var err error
	switch mode {
	case "fast":
		err = c.cur.Stop()
	case "immediate":
		err = c.cur.StopImmediately()
	default:
		c.tb.Fatalf("pgtest: no stop mode %q: fast or immediate", mode)
	}
	if err != nil {
		c.tb.Fatalf("pgtest: stop the cluster (%s): %v", mode, err)
	}
}

// Start starts the server on its data folder (again, after Stop) and waits
// until it accepts connections, recovering from the WAL after an immediate
// stop.
func (c *Cluster) Start() {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cur, err := pg.StartCluster(ctx, c.opts)
	if err != nil {
		c.tb.Fatalf("pgtest: start the cluster: %v", err)
	}
	c.cur = cur
	if c.url != "" && cur.URL("examd") != c.url {
		c.tb.Fatalf("pgtest: the restarted cluster answers at %s, not %s", cur.URL("examd"), c.url)
	}
}
