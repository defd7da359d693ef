// Package pgtest runs a package's tests against a real PostgreSQL: one
// throwaway cluster (or the server of TEST_DATABASE_URL) per test binary, a
// migrated template database, and a fresh clone of it for every test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/pg"
)

// server is what Main sets up for NewDB. It is the package's only state,
// kept between TestMain and the tests.
type server struct {
	admin    *sqlx.DB                   // on a database other than the template
	urlFor   func(dbname string) string // the URL of a database of the server
	template string
	prefix   string // of the names of the tests' databases
	seq      atomic.Int64
}

// binary is this test binary's server, set up by the first NewDB: a test
// run that needs no database (pure tests, a fuzz target's workers) starts
// no cluster.
var binary *lazyServer

// lazyServer sets the server up once, on first use.
type lazyServer struct {
	once    sync.Once
	srv     *server
	cleanup func() error
	err     error
}

func (l *lazyServer) get() (*server, error) {
	l.once.Do(func() { l.srv, l.cleanup, l.err = setUp() })
	return l.srv, l.err
}

// Main runs a test binary's tests against a real PostgreSQL: one throwaway
// cluster in a temporary folder, or the server of TEST_DATABASE_URL when that
// is set, started by the first test that asks for a database. It migrates a
// template database for NewDB, runs the tests, cleans up and exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

// run is Main without the exit.
func run(m *testing.M) int {
	binary = &lazyServer{}
	code := m.Run()
	if binary.cleanup != nil {
		if err := binary.cleanup(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// setUp starts or connects to the server and migrates the template. The
// cleanup it returns undoes it all.
func setUp() (_ *server, _ func() error, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var undo []func() error
	cleanup := func() error {
		var first error
		for i := len(undo) - 1; i >= 0; i-- {
			if err := undo[i](); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	defer func() {
		if err != nil {
			cleanup()
		}
	}()

	srv := &server{}
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		dsn, err := toDSN(url)
		if err != nil {
			return nil, nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		srv.urlFor = func(dbname string) string { return dsn + " dbname=" + dbname }
		if srv.admin, err = pg.Open(ctx, url, 10); err != nil {
			return nil, nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
	} else {
		bin, err := pg.FindServerBinaries(os.Getenv)
		if err != nil {
			return nil, nil, err
		}
		dir, err := os.MkdirTemp("", "examd-test-")
		if err != nil {
			return nil, nil, fmt.Errorf("cluster folder: %w", err)
		}
		undo = append(undo, func() error { return os.RemoveAll(dir) })
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		// Parallel tests each open up to 50 connections: room for many.
		cluster, err := pg.StartCluster(ctx, pg.ClusterOptions{Dir: dir, BinDir: bin, MaxConnections: 500, Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("test cluster: %w", err)
		}
		undo = append(undo, cluster.Stop)
		srv.urlFor = cluster.URL
		if srv.admin, err = pg.Open(ctx, cluster.URL("postgres"), 10); err != nil {
			return nil, nil, fmt.Errorf("test cluster: %w", err)
		}
	}
	undo = append(undo, srv.admin.Close)

	suffix := fmt.Sprintf("%d_%s", os.Getpid(), randomHex())
	srv.template, srv.prefix = "examd_tpl_"+suffix, "examd_t_"+suffix
	if err := srv.exec(ctx, "CREATE DATABASE %s", srv.template); err != nil {
		return nil, nil, fmt.Errorf("create the template database: %w", err)
	}
	undo = append(undo, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return srv.exec(ctx, "DROP DATABASE IF EXISTS %s WITH (FORCE)", srv.template)
	})
	if err := migrateTemplate(ctx, srv); err != nil {
		return nil, nil, err
	}
	return srv, cleanup, nil
}

// migrateTemplate migrates the template database, then closes it to
// connections, since CREATE DATABASE ... TEMPLATE needs it to have none.
func migrateTemplate(ctx context.Context, srv *server) error {
	db, err := pg.Open(ctx, srv.urlFor(srv.template), 2)
	if err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	err = pg.Migrate(ctx, db.DB)
	db.Close()
	if err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	if err := srv.exec(ctx, "ALTER DATABASE %s ALLOW_CONNECTIONS false", srv.template); err != nil {
		return fmt.Errorf("template database: %w", err)
	}
	_, err = srv.admin.ExecContext(ctx,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, srv.template)
	if err != nil {
		return fmt.Errorf("template database: disconnect: %w", err)
	}
	return nil
}

// exec runs the statement format, whose %s is the database name db, on the
// admin connection.
func (srv *server) exec(ctx context.Context, format, db string) error {
	_, err := srv.admin.ExecContext(ctx, fmt.Sprintf(format, pq.QuoteIdentifier(db)))
	return err
}

// NewDB gives the calling test its own fresh database, a clone of the
// migrated template, dropped when the test ends. It returns the database,
// open with up to 50 connections, and its connection URL. Tests that use it
// may run in parallel.
func NewDB(tb testing.TB) (*sqlx.DB, string) {
	tb.Helper()
	if binary == nil {
		tb.Fatalf("pgtest.NewDB: call pgtest.Main from TestMain first")
	}
	srv, err := binary.get()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("%s_%d", srv.prefix, srv.seq.Add(1))
	err = srv.exec(ctx, "CREATE DATABASE %s TEMPLATE "+pq.QuoteIdentifier(srv.template), name)
	if err != nil {
		tb.Fatalf("pgtest.NewDB: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	url := srv.urlFor(name)
	db, err := pg.Open(ctx, url, 50)
	if err != nil {
		tb.Fatalf("pgtest.NewDB: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, url
}

// toDSN turns a lib/pq URL or key=value connection string into a key=value
// one, to which a later " dbname=..." can be appended: the last value wins.
func toDSN(url string) (string, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		dsn, err := pq.ParseURL(url)
		if err != nil {
			return "", fmt.Errorf("parse the URL: %w", err)
		}
		return dsn, nil
	}
	return url, nil
}

// randomHex returns 8 random hex digits.
func randomHex() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
