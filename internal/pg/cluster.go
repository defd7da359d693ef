// Package pg is examd's PostgreSQL plumbing: the private cluster examd owns
// when no DATABASE_URL is given, opening databases, and migrations.
package pg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoServer means no PostgreSQL server binaries were found.
var ErrNoServer = errors.New("no PostgreSQL server binaries found: install the Debian package postgresql, or set DATABASE_URL to use an existing database")

// FindServerBinaries returns the folder holding the PostgreSQL server
// binaries: on PATH, then `pg_config --bindir`, then /usr/lib/postgresql/*/bin,
// the newest version first.
func FindServerBinaries(getenv func(string) string) (string, error) {
	return findServerBinaries(getenv, "/usr/lib/postgresql/*/bin")
}

func findServerBinaries(getenv func(string) string, glob string) (string, error) {
	var candidates []string
	for _, dir := range filepath.SplitList(getenv("PATH")) {
		if dir != "" {
			candidates = append(candidates, dir)
		}
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "pg_config")) {
			if out, err := exec.Command(filepath.Join(dir, "pg_config"), "--bindir").Output(); err == nil {
				candidates = append(candidates, strings.TrimSpace(string(out)))
			}
			break
		}
	}
	versions, _ := filepath.Glob(glob)
	sort.Slice(versions, func(i, j int) bool { return version(versions[i]) > version(versions[j]) })
	candidates = append(candidates, versions...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoServer
}

// version reads the major version out of /usr/lib/postgresql/<v>/bin.
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// ClusterOptions configure a private cluster.
type ClusterOptions struct {
	// Dir is the cluster's folder: data in Dir/data, the unix socket in Dir.
	Dir string
	// BinDir holds the server binaries (FindServerBinaries).
	BinDir string
	// Fsync false trades durability for speed, for throwaway test clusters.
	Fsync bool
	// MaxConnections is the server's max_connections (0: 200).
	MaxConnections int
	Logger         *slog.Logger
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	opts    ClusterOptions
	sockDir string
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped bool
}

// socketLimit keeps the socket path within the kernel's ~108-byte limit.
const socketLimit = 100

// StartCluster creates the cluster on first use, starts it listening only on
// a unix socket, waits until it accepts connections and makes sure database
// "examd" exists. When the process runs as root the server runs as the
// postgres OS user, since PostgreSQL refuses to run as root.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxConnections == 0 {
		opts.MaxConnections = 200
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	// The parents stay open to the postgres user; the cluster's own folder is its alone.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	c := &Cluster{opts: opts, sockDir: dir}
	if len(filepath.Join(dir, ".s.PGSQL.5432")) > socketLimit {
		if c.sockDir, err = os.MkdirTemp("", "examd-sock-"); err != nil {
			return nil, err
		}
		opts.Logger.Warn("the data folder's path is too long for a unix socket; using a short one", "socket_dir", c.sockDir)
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	if cred != nil {
		for _, d := range []string{dir, c.sockDir} {
			if err := os.Chown(d, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, fmt.Errorf("hand %s to the postgres user: %w", d, err)
			}
		}
		if err := reachable(dir, cred); err != nil {
			return nil, err
		}
	}

	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		args := []string{"-D", data, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"}
		if !opts.Fsync {
			args = append(args, "--no-sync")
		}
		opts.Logger.Info("creating the PostgreSQL cluster", "dir", data)
		if out, err := c.command("initdb", cred, args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(string(out), 5))
		}
	}
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		// A server left running by a killed earlier run holds the data folder.
		_ = c.command("pg_ctl", cred, "stop", "-D", data, "-m", "fast", "-w", "-t", "10").Run()
	}

	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := []string{"-D", data, "-k", c.sockDir, "-p", "5432",
		"-c", "listen_addresses=", "-c", "max_connections=" + strconv.Itoa(opts.MaxConnections),
		"-c", "timezone=UTC"}
	if !opts.Fsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	c.cmd = c.command("postgres", cred, args...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	// Its own process group: a Ctrl-C in the terminal reaches examd only,
	// and examd stops the server in order.
	c.cmd.SysProcAttr.Setpgid = true
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.exited = make(chan struct{})
	go func() { _ = c.cmd.Wait(); close(c.exited) }()

	if err := c.waitReady(ctx, 60*time.Second); err != nil {
		_ = c.Stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("%w: %s", err, lastLines(string(log), 5))
	}
	return c, nil
}

// command builds a server command, as the postgres user when cred is set.
func (c *Cluster) command(name string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.opts.BinDir, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = c.opts.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// serverUser returns the postgres user's credential when running as root.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// reachable checks that the postgres user can traverse every parent of dir.
func reachable(dir string, cred *syscall.Credential) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		ok := mode&0o001 != 0 || st.Uid == cred.Uid && mode&0o100 != 0 || st.Gid == cred.Gid && mode&0o010 != 0
		if !ok {
			return fmt.Errorf("the postgres user cannot reach %s (folder %s is closed to it): make it traversable (chmod o+x) or choose a data folder elsewhere, e.g. under /tmp", dir, p)
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func (c *Cluster) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		db, err := sql.Open("postgres", c.URL("postgres"))
		if err == nil {
			err = db.PingContext(ctx)
			if err == nil {
				var exists bool
				if err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'examd')`).Scan(&exists); err == nil && !exists {
					_, err = db.ExecContext(ctx, `CREATE DATABASE examd`)
				}
				db.Close()
				return err
			}
			db.Close()
		}
		select {
		case <-c.exited:
			return errors.New("postgres exited while starting")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within %s: %w", limit, err)
		}
	}
}

// URL returns a lib/pq connection string for database dbname of the cluster.
func (c *Cluster) URL(dbname string) string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=%s sslmode=disable", c.sockDir, dbname)
}

// SocketDir is the folder of the cluster's unix socket.
func (c *Cluster) SocketDir() string { return c.sockDir }

// Stop shuts the server down fast (SIGINT), escalating to SIGQUIT and then
// SIGKILL if it has not exited within 10 s. Calling it twice is harmless.
func (c *Cluster) Stop() error {
	if c.stopped || c.cmd == nil || c.cmd.Process == nil {
		return nil
	}
	c.stopped = true
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	for _, next := range []struct {
		wait time.Duration
		sig  syscall.Signal
	}{{10 * time.Second, syscall.SIGQUIT}, {2 * time.Second, syscall.SIGKILL}} {
		select {
		case <-c.exited:
			return nil
		case <-time.After(next.wait):
			c.opts.Logger.Warn("PostgreSQL is slow to stop", "signal", next.sig.String())
			_ = c.cmd.Process.Signal(next.sig)
		}
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(time.Second):
		return errors.New("postgres did not stop")
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
