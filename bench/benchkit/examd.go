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
	"time"

	"examd/internal/pg"
)

// Examd is an examd binary running on a private PostgreSQL cluster with
// production settings (fsync and synchronous commit on).
type Examd struct {
	Dir     string // a temporary folder the run owns, removed by Close
	BinDir  string // PostgreSQL's server binaries
	Cluster *pg.Cluster
	DBURL   string // the examd database
	Addr    string // host:port examd listens on
	Proc    *os.Process
	Client  *Client
	cmd     *exec.Cmd
}

// Start starts a cluster in a new temporary folder and the examd binary at
// path on it, with the admin password given, cheap password hashing for
// the setup, warnings only, and env added; it waits until examd is ready.
func Start(ctx context.Context, path, adminPassword string, env ...string) (*Examd, error) {
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "examd-bench-")
	if err != nil {
		return nil, err
	}
	e := &Examd{Dir: dir, BinDir: bin}
	if err := e.start(ctx, path, adminPassword, env); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Examd) start(ctx context.Context, path, adminPassword string, env []string) error {
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
	if e.Addr, err = freeAddr(); err != nil {
		return err
	}
	e.cmd = exec.CommandContext(ctx, path)
	e.cmd.Env = append(append(os.Environ(),
		"DATABASE_URL="+e.DBURL, "EXAMD_ADDR="+e.Addr, "EXAMD_ADMIN_PASSWORD="+adminPassword,
		"EXAMD_BCRYPT_COST=4", "EXAMD_LOG_LEVEL=warn"), env...)
	e.cmd.Stdout, e.cmd.Stderr = io.Discard, os.Stderr
	if err := e.cmd.Start(); err != nil {
		return fmt.Errorf("start examd: %w", err)
	}
	e.Proc = e.cmd.Process
	e.Client = NewClient("http://" + e.Addr)
	return e.Client.WaitReady(30 * time.Second)
}

// Close stops examd, then its cluster, and removes the folder.
func (e *Examd) Close() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(os.Interrupt)
		_ = e.cmd.Wait()
	}
	if e.Cluster != nil {
		_ = e.Cluster.Stop()
	}
	os.RemoveAll(e.Dir)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
