package benchkit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"examd/internal/pg"
)

// Examd is an examd binary running on a private PostgreSQL cluster with
// production settings (fsync and synchronous commit on): one process, or
// several replicas on the one database.
type Examd struct {
	Dir     string // a temporary folder the run owns, removed by Close
	BinDir  string // PostgreSQL's server binaries
	Cluster *pg.Cluster
	DBURL   string // the examd database
	// Replicas are the examd processes, the first started first (it
	// migrates the database); Addr, Proc and Client are the first's.
	Replicas []*Replica
	Addr     string
	Proc     *os.Process
	Client   *Client
}

// Replica is one examd process.
type Replica struct {
	Addr   string // host:port it listens on
	Proc   *os.Process
	Client *Client
	cmd    *exec.Cmd
}

// Start starts a cluster in a new temporary folder and replicas (at least
// one) examd processes of the binary at path on it, one after the other,
// with the admin password given, cheap password hashing for the setup,
// warnings only, and env added; it waits until every one is ready.
func Start(ctx context.Context, path, adminPassword string, replicas int, env ...string) (*Examd, error) {
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "examd-bench-")
	if err != nil {
		return nil, err
	}
	e := &Examd{Dir: dir, BinDir: bin}
	if err := e.start(ctx, path, adminPassword, max(replicas, 1), env); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Examd) start(ctx context.Context, path, adminPassword string, replicas int, env []string) error {
	if err := os.Chmod(e.Dir, 0o755); err != nil { // the cluster may run as the postgres user
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	e.Cluster, err = pg.StartCluster(ctx, pg.ClusterOptions{Dir: filepath.Join(e.Dir, "pg"), BinDir: e.BinDir, Fsync: true, MaxConnections: 200, Logger: quiet})
	if err != nil {
		return err
	}
	e.DBURL = e.Cluster.URL("examd")
	for range replicas {
		r := &Replica{}
		if r.Addr, err = FreeAddr(); err != nil {
			return err
		}
		r.cmd = exec.CommandContext(ctx, path)
		r.cmd.Env = append(append(os.Environ(),
			"DATABASE_URL="+e.DBURL, "EXAMD_ADDR="+r.Addr, "EXAMD_ADMIN_PASSWORD="+adminPassword,
			"EXAMD_BCRYPT_COST=4", "EXAMD_LOG_LEVEL=warn"), env...)
		r.cmd.Stdout, r.cmd.Stderr = io.Discard, os.Stderr
		if err := r.cmd.Start(); err != nil {
			return fmt.Errorf("start examd: %w", err)
		}
		r.Proc = r.cmd.Process
		r.Client = NewClient("http://" + r.Addr)
		e.Replicas = append(e.Replicas, r)
		if err := r.Client.WaitReady(30 * time.Second); err != nil {
			return err
		}
	}
	e.Addr, e.Proc, e.Client = e.Replicas[0].Addr, e.Replicas[0].Proc, e.Replicas[0].Client
	return nil
}

// Pids are the examd processes' ids.
func (e *Examd) Pids() []int {
	var pids []int
	for _, r := range e.Replicas {
		pids = append(pids, r.Proc.Pid)
	}
	return pids
}

// PostgresPids are the cluster's processes: the postmaster (its pid from
// postmaster.pid) and its children (from /proc), so that a bench can count
// the database's CPU time.
func (e *Examd) PostgresPids() []int {
	var master int
	_ = filepath.WalkDir(filepath.Join(e.Dir, "pg"), func(p string, d os.DirEntry, err error) error {
		if err == nil && master == 0 && d.Name() == "postmaster.pid" {
			if b, err := os.ReadFile(p); err == nil {
				first, _, _ := strings.Cut(string(b), "\n")
				master, _ = strconv.Atoi(strings.TrimSpace(first))
			}
			return filepath.SkipAll
		}
		return nil
	})
	if master == 0 {
		return nil
	}
	pids := []int{master}
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(master) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Close stops the examd processes, then its cluster, and removes the folder.
func (e *Examd) Close() {
	for _, r := range e.Replicas {
		if r.cmd.Process != nil {
			_ = r.cmd.Process.Signal(os.Interrupt)
			_ = r.cmd.Wait()
		}
	}
	if e.Cluster != nil {
		_ = e.Cluster.Stop()
	}
	os.RemoveAll(e.Dir)
}

// FreeAddr returns a free port of 127.0.0.1, as host:port.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
