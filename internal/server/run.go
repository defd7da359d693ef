// Package server is examd's HTTP service: its configuration, the Echo wiring
// of every route with the one error handler, start-up and an orderly
// shutdown. cmd/examd runs it; the packages' tests start it in-process
// (internal/server/servertest).
package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/exam"
	"examd/internal/audit"
	"examd/internal/auth"
	"examd/internal/notify"
	"examd/internal/pg"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
)

// Run starts examd on the clock now and serves until ctx is done, then shuts
// down in order: stop accepting, finish in-flight requests, close the
// database, stop the private cluster. With the argument migrate it applies
// the migrations and returns. now is time.Now in production, where no
// setting changes it; tests pass a clock they set, to run on fixed dates and
// at a day's edges.
func Run(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := LoadConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	cfg.Now = now
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))

	url, stopCluster, err := DatabaseURL(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer stopCluster()

	db, err := pg.Open(ctx, url, cfg.DBMaxConns)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := pg.Migrate(ctx, db.DB); err != nil {
		return err
	}
	log.Info("database migrated")
	if cfg.Command == "migrate" {
		return nil
	}
	return serve(ctx, cfg, db, url, log)
}

// DatabaseURL returns the URL of examd's database: DATABASE_URL, or else
// that of the private cluster under the data folder, which it starts; stop
// stops what it started.
func DatabaseURL(ctx context.Context, cfg Config, getenv func(string) string, log *slog.Logger) (url string, stop func(), err error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func() {}, nil
	}
	bin, err := pg.FindServerBinaries(getenv)
	if err != nil {
		return "", nil, err
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "pg"))
	if err != nil {
		return "", nil, err
	}
	log.Info("starting the private PostgreSQL cluster", "dir", dir, "bin", bin)
	cluster, err := pg.StartCluster(ctx, pg.ClusterOptions{Dir: dir, BinDir: bin, Fsync: true, Logger: log,
		MaxConnections: max(100, cfg.DBMaxConns+20)}) // room for the pool, migrations and psql
	if err != nil {
		return "", nil, fmt.Errorf("private PostgreSQL: %w", err)
	}
	return cluster.URL("examd"), func() {
		if err := cluster.Stop(); err != nil {
			log.Error("stop PostgreSQL", "err", err)
		}
	}, nil
}

// ToolDatabaseURL is DatabaseURL for examd's tools (audit verify, backup,
// restore): while an examd serves on the private cluster under the data
// folder, a tool joins that server instead of starting one of its own.
func ToolDatabaseURL(ctx context.Context, cfg Config, getenv func(string) string, log *slog.Logger) (url string, stop func(), err error) {
	if cfg.DatabaseURL == "" {
		if dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "pg")); err == nil {
			if url, ok := pg.RunningURL(dir, "examd"); ok {
				return url, func() {}, nil
			}
		}
	}
	return DatabaseURL(ctx, cfg, getenv, log)
}

func serve(ctx context.Context, cfg Config, db *sqlx.DB, dbURL string, log *slog.Logger) error {
	accounts, err := auth.NewStore(db, cfg.BcryptCost, cfg.TokenTTL, cfg.Now)
	if err != nil {
		return err
	}
	accounts.Throttle = cfg.Throttle
	accounts.SetHashWorkers(cfg.HashWorkers)
	password := cfg.AdminPassword
	if password == "" {
		password = auth.RandomPassword()
	}
	created, err := accounts.EnsureAdmin(ctx, password)
	if err != nil {
		return err
	}
	if created && cfg.AdminPassword == "" {
		log.Warn("created user admin with a random password, shown this once", "username", "admin", "password", password)
	} else if created {
		log.Info("created user admin with the password from EXAMD_ADMIN_PASSWORD", "username", "admin")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ln = realtime.Listener(ln) // websocket writers send a batch of events in one system call
	feed := realtime.NewFeed(db)
	hub := realtime.NewHub(feed, dbURL, log)
	hub.MaxPerUser, hub.MaxConns = cfg.WSPerUser, cfg.WSMax
	hub.QueueBytes = cfg.WSQueueBytes
	notes := notify.New(feed)
	issuing := issuance.NewStore(db, feed, notes)
	issuing.FeeYuan = cfg.LicenceFeeYuan
	exams := exam.NewStore(db, feed, issuing, notes)
	exams.ReleasePairOnSubject2Fail = cfg.CombinedOnSubject2Fail == "release"
	hubDone := make(chan error, 1)
	hubCtx, stopHub := context.WithCancel(context.Background())
	defer stopHub()
	go func() { hubDone <- hub.Run(hubCtx) }()

	chainer := audit.NewChainer(db, log)
	sched := scheduling.NewStore(db, notes)
	srv := &http.Server{
		Handler: newServer(deps{db: db, cfg: cfg, accounts: accounts, exams: exams, sched: sched, issuing: issuing, hub: hub, feed: feed,
			chainer: chainer, inbox: notify.NewInbox(db), log: log}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	addr := "http://" + ln.Addr().String()
	log.Info("examd is listening: log in with POST "+addr+"/api/v1/login {\"username\":\"admin\",\"password\":…}; Ctrl-C stops",
		"addr", addr)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// examd's own jobs, each until hubCtx ends; every one is waited for
	// before the database closes (no transaction of theirs outlives it).
	var jobs sync.WaitGroup
	jobs.Go(func() {
		closeEndedDays(hubCtx, exams, cfg.Now, log)
	})
	jobs.Go(func() {
		chainer.Run(hubCtx) // the audit log's chain: one batch at a time across replicas
	})
	jobs.Go(func() {
		feed.RunNumbering(hubCtx, realtime.DefaultPoll, log) // the feeds' seqs: one batch at a time across replicas
	})
	jobs.Go(func() {
		notes.RunFeeding(hubCtx, db, notify.FeedPoll, log) // the notes live: one batch at a time across replicas
	})
	jobs.Go(func() {
		allocateDue(hubCtx, sched, cfg.Now, log)
	})
	jobs.Go(func() {
		releaseReserves(hubCtx, sched, cfg.Now, log)
	})
	jobs.Go(func() {
		pruneThrottle(hubCtx, accounts, cfg.Now, log)
	})
	sender := notify.NewSender(db, cfg.NotifyWebhook, log)
	sender.Client.Timeout, sender.Now = cfg.NotifyTimeout, cfg.Now
	jobs.Go(func() {
		sender.Run(hubCtx, notify.DefaultSendPoll) // the outbox: batches under FOR UPDATE SKIP LOCKED across replicas
	})
	jobs.Go(func() {
		// The session cache works while this listens; without it every
		// request looks its token up.
		if err := accounts.ListenRevocations(hubCtx, dbURL, log); err != nil {
			log.Error("session cache off", "err", err.Error())
		}
	})
	select {
	case err := <-errc:
		hub.Close()
		return fmt.Errorf("serve: %w", err)
	case err := <-hubDone:
		_ = srv.Close()
		return fmt.Errorf("live feed: %w", err)
	case <-ctx.Done():
	}
	// In order: stop accepting and finish in-flight requests, then close the
	// websockets (hijacked, so Shutdown leaves them), then the database.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	hub.Close()
	stopHub()
	<-hubDone
	jobs.Wait()
	return nil
}

// pruneThrottle deletes the login throttle's forgotten counts every ten
// minutes, until ctx is done.
func pruneThrottle(ctx context.Context, accounts *auth.Store, now func() time.Time, log *slog.Logger) {
	tick := time.NewTicker(10 * time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := accounts.PruneThrottle(ctx, now()); err != nil && ctx.Err() == nil {
			log.Error("prune the login throttle", "err", err.Error())
		}
	}
}

// AllocatePoll is how often examd looks for ranked slots whose window has
// closed (RA-*).
const AllocatePoll = 2 * time.Second

// allocateDue allocates the ranked slots whose window has closed, at start
// and then every AllocatePoll, until ctx is done. The state is the slots
// table (allocated_at), so a restart picks up what is due; with several
// replicas the advisory lock lets one allocate each round.
func allocateDue(ctx context.Context, slots *scheduling.Store, now func() time.Time, log *slog.Logger) {
	repeat(ctx, AllocatePoll, log, "allocate ranked slots", func() (bool, error) {
		r, _, err := slots.AllocateDue(ctx, now())
		if err == nil && len(r.Slots) > 0 {
			log.Info("allocated ranked slots", "slots", len(r.Slots), "applications", r.Applications, "confirmed", r.Confirmed)
		}
		return len(r.Slots) > 0, err // another round may be due
	})
}

// releaseReserves releases the priority reserves whose time has come
// (PL-RESERVE), offering the seats to the waitlists first, every second
// until ctx is done: a reserve is held until this job releases it.
func releaseReserves(ctx context.Context, sched *scheduling.Store, now func() time.Time, log *slog.Logger) {
	repeat(ctx, time.Second, log, "release priority reserves", func() (bool, error) {
		n, err := sched.ReleaseReserves(ctx, now())
		if n > 0 {
			log.Info("released priority reserves", "slots", n)
		}
		return n >= scheduling.ReleaseBatch, err // a full batch: more are due
	})
}

// repeat runs step at once and then every period until ctx is done, again
// at once while step says more is due, logging its errors as what failed
// (a warning while the database is unavailable: the next round goes on).
func repeat(ctx context.Context, period time.Duration, log *slog.Logger, what string, step func() (more bool, err error)) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		for {
			more, err := step()
			switch {
			case err != nil && pg.Unavailable(err):
				log.Warn(what+": database unavailable", "err", err.Error())
			case err != nil && ctx.Err() == nil:
				log.Error(what, "err", err.Error())
			}
			if err != nil || !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// closeEndedDays ends the bookings of past exam days nobody closed
// (BK-NOSHOW), at start and then every minute, until ctx is done.
func closeEndedDays(ctx context.Context, exams *exam.Store, now func() time.Time, log *slog.Logger) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		n, err := exams.CloseEndedDays(ctx, now())
		switch {
		case err != nil && pg.Unavailable(err):
			// PostgreSQL is down or restarting: the next round closes them.
			log.Warn("close ended exam days: database unavailable", "err", err.Error())
		case err != nil && ctx.Err() == nil:
			log.Error("close ended exam days", "err", err.Error())
		case n > 0:
			log.Info("closed ended exam days", "bookings", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
