// Package pg is examd's PostgreSQL plumbing: the private cluster examd runs
// when no DATABASE_URL is given, opening databases, and migrations.
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// port is the port of every private cluster: each has its own socket
	// folder, so their sockets never clash.
	port = 5432
	// socketName is the name of the server's socket in its socket folder.
	socketName = ".s.PGSQL.5432"
	// maxSocketPath keeps socket paths below the kernel's 108-byte limit.
	maxSocketPath = 100
	// startTimeout bounds the wait for a starting server.
	startTimeout = 60 * time.Second
	// leftoverWait bounds the retries to start over a killed server.
	leftoverWait = 10 * time.Second
)

// errExitedEarly means the server exited before it accepted connections.
var errExitedEarly = errors.New("PostgreSQL exited while starting")

// ClusterOptions configure a private cluster.
type ClusterOptions struct {
	// Dir is the folder the cluster owns: data in Dir/data, the log in
	// Dir/postgres.log and the unix socket in Dir, or in a short temporary
	// folder when Dir's socket path would be too long.
	Dir string
	// BinDir holds the server binaries, see FindServerBinaries.
	BinDir string
	// Fsync makes the server durable; tests turn it off for speed.
	Fsync bool
	// MaxConnections is the server's max_connections; 0 means 200.
	MaxConnections int
	// Logger receives the cluster's own messages; nil discards them.
	Logger *slog.Logger
}

// Cluster is a running private PostgreSQL server, a child process of this
// one that listens only on a unix socket.
type Cluster struct {
	sockDir string
	tmpSock bool // sockDir is a temporary folder to remove on Stop
	log     *slog.Logger
	proc    *os.Process
	exited  chan struct{} // closed once the server has exited
	waitErr error         // the server's exit status, set before exited closes

	lock     *os.File // flock on Dir/examd.lock: one owner per cluster folder
	stopOnce sync.Once
	stopErr  error
}

// StartCluster creates the cluster in opts.Dir on first use, starts it, and
// waits until it accepts connections. Data persists between runs. It makes
// sure that the database "examd" exists, so that URL("examd") works.
func StartCluster(ctx context.Context, opts ClusterOptions) (_ *Cluster, err error) {
	if opts.Dir == "" || opts.BinDir == "" {
		return nil, errors.New("start PostgreSQL: ClusterOptions need Dir and BinDir")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cluster folder: %w", err)
	}
	su, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	if err := makeOwnedDir(su, dir); err != nil {
		return nil, err
	}
	// One examd per cluster folder: a second one would otherwise stop the
	// first one's server as a leftover below.
	lock, err := os.OpenFile(filepath.Join(dir, "examd.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cluster lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("another examd is using the PostgreSQL cluster in %s", dir)
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the server log: %w", err)
	}
	defer logFile.Close() // the server keeps its own descriptor

	c := &Cluster{sockDir: dir, log: log, lock: lock}
	if len(dir)+len("/"+socketName) > maxSocketPath {
		if c.sockDir, err = shortSocketDir(su); err != nil {
			return nil, err
		}
		c.tmpSock = true
		defer func() {
			if err != nil {
				os.RemoveAll(c.sockDir)
			}
		}()
		log.Warn("the cluster folder is too long for a unix socket path, using a short socket folder instead",
			"dir", dir, "socket_dir", c.sockDir)
	}

	data := filepath.Join(dir, "data")
	_, err = os.Stat(filepath.Join(data, "postmaster.pid"))
	leftover := err == nil
	if leftover {
		log.Warn("stopping a PostgreSQL server left by an earlier run", "data", data)
		cmd := su.command(filepath.Join(opts.BinDir, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w", "-t", "10")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
		_ = cmd.Run() // fails when no server is left; postgres removes a stale postmaster.pid itself
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		log.Info("creating the PostgreSQL cluster", "data", data)
		if err := initdb(su, opts, dir, data, logFile); err != nil {
			return nil, err
		}
	}

	// After a killed server, its last processes may hold the shared memory
	// for a moment and make postgres exit at once: try again for a while.
	retryUntil := time.Now().Add(leftoverWait)
	for {
		cmd := su.command(filepath.Join(opts.BinDir, "postgres"), serverArgs(opts, data, c.sockDir)...)
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
		if err := c.launch(cmd); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
		log.Info("PostgreSQL started", "pid", c.proc.Pid, "socket_dir", c.sockDir)
		err := c.ready(ctx, logPath)
		if err == nil {
			return c, nil
		}
		c.stop(fastStop)
		if !leftover || !errors.Is(err, errExitedEarly) || time.Now().After(retryUntil) {
			return nil, err
		}
		log.Warn("PostgreSQL could not start yet, retrying", "err", err)
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
	}
}

// serverArgs returns the postgres command line: the data folder, the socket
// folder and no TCP, sessions in UTC, the settings of opts.
func serverArgs(opts ClusterOptions, data, sockDir string) []string {
	maxConns := opts.MaxConnections
	if maxConns <= 0 {
		maxConns = 200
	}
	args := []string{"-D", data, "-k", sockDir, "-p", fmt.Sprint(port),
		"-c", "listen_addresses=", "-c", fmt.Sprintf("max_connections=%d", maxConns),
		"-c", "timezone=UTC", // dates sent as midnight UTC must not shift with the host's zone
		// No DETAIL lines in the server log: they would quote the values of
		// a violated key, and those can be personal data.
		"-c", "log_error_verbosity=terse"}
	if !opts.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	return args
}

// launch starts the server cmd in its own process group, so that a
// terminal's Ctrl-C reaches only examd, which then stops the server itself.
// Should examd die without doing so, the kernel sends the server SIGINT
// (fast shutdown).
func (c *Cluster) launch(cmd *exec.Cmd) error {
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	c.exited = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that started the child exits, so
		// this goroutine keeps its thread until the server has exited.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.proc = cmd.Process
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	return <-started
}

// makeOwnedDir creates the cluster folder dir, gives it to the server user,
// and checks that user can reach it.
func makeOwnedDir(su *serverUser, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create the cluster folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create the cluster folder: %w", err)
	}
	if err := su.own(dir); err != nil {
		return err
	}
	return su.checkReachable(dir)
}

// shortSocketDir makes a temporary folder for the server's socket.
func shortSocketDir(su *serverUser) (string, error) {
	dir, err := os.MkdirTemp("", "examd-sock-")
	if err != nil {
		return "", fmt.Errorf("socket folder: %w", err)
	}
	err = su.own(dir)
	if err == nil {
		err = su.checkReachable(dir)
	}
	if err == nil && len(dir)+len("/"+socketName) > maxSocketPath {
		err = fmt.Errorf("socket folder %s is too long for a unix socket path: set TMPDIR to a shorter folder", dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// initdb creates the cluster's data folder.
func initdb(su *serverUser, opts ClusterOptions, dir, data string, logFile *os.File) error {
	args := []string{"-D", data, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"}
	if !opts.Fsync {
		args = append(args, "--no-sync")
	}
	cmd := su.command(filepath.Join(opts.BinDir, "initdb"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	logFile.Write(out)
	if err != nil {
		return fmt.Errorf("initdb %s: %w: %s", data, err, lastLines(string(out)))
	}
	return nil
}

// ready waits until the server accepts connections, then creates the
// database examd when it is missing.
func (c *Cluster) ready(ctx context.Context, logPath string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	db, err := sql.Open("postgres", c.URL("postgres")+" connect_timeout=2")
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			break
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%w (%v), see %s: %s", errExitedEarly, c.waitErr, logPath, lastLines(tail(logPath)))
		case <-ctx.Done():
			return fmt.Errorf("PostgreSQL did not accept connections (see %s): %w, last try: %v", logPath, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'examd')`).Scan(&exists); err != nil {
		return fmt.Errorf("look for the database examd: %w", err)
	}
	if !exists {
		if _, err := db.ExecContext(ctx, `CREATE DATABASE examd`); err != nil {
			return fmt.Errorf("create the database examd: %w", err)
		}
		c.log.Info("created the database examd")
	}
	return nil
}

// tail returns the end of the file at path, or nothing if it can't be read.
func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 4096 {
		f.Seek(-4096, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// lastLines returns the last two non-empty lines of out on one line.
func lastLines(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 2 {
		lines = lines[len(lines)-2:]
	}
	return strings.Join(lines, " | ")
}

// URL returns a lib/pq connection string for the database dbname of the
// cluster.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", dsnQuote(c.sockDir), port, dsnQuote(dbname))
}

// dsnQuote quotes v for a key=value connection string when it needs it.
func dsnQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\r\n'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// stopStep is a signal to the server and how long to wait for it to exit.
type stopStep struct {
	sig  syscall.Signal
	wait time.Duration
}

var (
	// fastStop: a fast shutdown (pg_ctl stop -m fast), then immediate, then kill.
	fastStop = []stopStep{{syscall.SIGINT, 8 * time.Second}, {syscall.SIGQUIT, 2 * time.Second}, {syscall.SIGKILL, 2 * time.Second}}
	// immediateStop: an immediate shutdown (pg_ctl stop -m immediate), then kill.
	immediateStop = []stopStep{{syscall.SIGQUIT, 2 * time.Second}, {syscall.SIGKILL, 2 * time.Second}}
)

// Stop stops the server with a fast shutdown (SIGINT), escalating to an
// immediate shutdown (SIGQUIT) after 8 s and to SIGKILL after 10 s, and
// waits for it to exit. It is safe to call more than once.
func (c *Cluster) Stop() error { return c.halt(fastStop) }

// StopImmediately stops the server with an immediate shutdown (SIGQUIT):
// its processes exit at once, without a checkpoint, as in a crash, and the
// next start recovers from the WAL. It escalates to SIGKILL after 2 s. A
// cluster stopped either way starts again with StartCluster on the same
// folder, and answers at the same URL. Stop after it does nothing.
func (c *Cluster) StopImmediately() error { return c.halt(immediateStop) }

// halt stops the server with steps, once, and releases the cluster folder.
func (c *Cluster) halt(steps []stopStep) error {
	c.stopOnce.Do(func() {
		c.stopErr = c.stop(steps)
		if c.tmpSock {
			os.RemoveAll(c.sockDir)
		}
		c.lock.Close()
	})
	return c.stopErr
}

// stop signals the server with steps until it exits.
func (c *Cluster) stop(steps []stopStep) error {
	select {
	case <-c.exited:
		if c.waitErr != nil {
			return fmt.Errorf("PostgreSQL had exited by itself: %w", c.waitErr)
		}
		return nil
	default:
	}
	for _, s := range steps {
		if s.sig == syscall.SIGKILL {
			_ = syscall.Kill(-c.proc.Pid, s.sig) // its process group
		}
		if err := c.proc.Signal(s.sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("stop PostgreSQL: %w", err)
		}
		select {
		case <-c.exited:
			// Only a fast shutdown is expected to exit cleanly.
			if s.sig == syscall.SIGINT && c.waitErr != nil {
				return fmt.Errorf("PostgreSQL exited badly: %w", c.waitErr)
			}
			c.log.Info("PostgreSQL stopped", "signal", s.sig.String())
			return nil
		case <-time.After(s.wait):
			c.log.Warn("PostgreSQL did not stop in time", "signal", s.sig.String(), "waited", s.wait)
		}
	}
	return fmt.Errorf("stop PostgreSQL: pid %d did not exit even after SIGKILL", c.proc.Pid)
}
