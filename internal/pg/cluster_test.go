package pg_test

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"examd/internal/pg"
)

// clusterDir returns a path for a cluster folder, in a temporary folder the
// postgres user can traverse (os.MkdirTemp makes it private to root).
func clusterDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "examd-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// start starts a test cluster in dir and stops it when the test ends.
func start(t *testing.T, dir string) *pg.Cluster {
	t.Helper()
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	begin := time.Now()
	c, err := pg.StartCluster(context.Background(), pg.ClusterOptions{Dir: dir, BinDir: bin, Logger: log})
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Logf("StartCluster took %v", time.Since(begin))
	t.Cleanup(func() { c.Stop() })
	return c
}

// stop stops c and checks that it was quick.
func stop(t *testing.T, c *pg.Cluster) {
	t.Helper()
	begin := time.Now()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	took := time.Since(begin)
	t.Logf("Stop took %v", took)
	if took > 5*time.Second {
		t.Errorf("Stop took %v, want a quick fast shutdown", took)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestClusterKeepsDataAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t, "pg")
	c := start(t, dir)
	if !strings.Contains(c.URL("examd"), "host="+dir+" ") {
		t.Errorf("URL %q: want the socket in %s", c.URL("examd"), dir)
	}
	db, err := pg.Open(ctx, c.URL("examd"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('hello')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	stop(t, c)
	if _, err := os.Stat(filepath.Join(dir, ".s.PGSQL.5432")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket after Stop: %v, want it gone", err)
	}

	c = start(t, dir)
	db, err = pg.Open(ctx, c.URL("examd"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.GetContext(ctx, &v, `SELECT v FROM kept`); err != nil || v != "hello" {
		t.Fatalf("after restart: %q, %v; want hello", v, err)
	}
	db.Close()
	stop(t, c)
}

func TestClusterRecoversFromKilledServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t, "pg")
	c := start(t, dir)
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err == nil {
		t.Error("Stop after the server was killed: want an error saying it had exited")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		t.Fatalf("want a stale postmaster.pid: %v", err)
	}

	c = start(t, dir)
	db, err := pg.Open(ctx, c.URL("examd"), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	stop(t, c)
}

// postmasterPID reads the server's pid from its postmaster.pid.
func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, c := range strings.SplitN(string(b), "\n", 2)[0] {
		pid = pid*10 + int(c-'0')
	}
	return pid
}

func TestClusterWithLongDirUsesShortSocketFolder(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t, strings.Repeat("long-folder-name-", 6))
	c := start(t, dir)
	url := c.URL("examd")
	if strings.Contains(url, dir) {
		t.Fatalf("URL %q: want a short socket folder outside %s", url, dir)
	}
	db, err := pg.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := db.Get(&one, `SELECT 1`); err != nil || one != 1 {
		t.Fatalf("SELECT 1: %d, %v", one, err)
	}
	db.Close()
	sock := strings.TrimPrefix(strings.Fields(url)[0], "host=")
	stop(t, c)
	if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket folder %s after Stop: %v, want it removed", sock, err)
	}
}

func TestStartClusterUnreachableFolder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	private := t.TempDir() // mode 0700, owned by root
	_, err = pg.StartCluster(context.Background(), pg.ClusterOptions{Dir: filepath.Join(private, "pg"), BinDir: bin})
	if err == nil || !strings.Contains(err.Error(), "cannot traverse") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line saying postgres cannot traverse a folder", err)
	}
	t.Log(err)
}

func TestClusterHasOneOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := clusterDir(t, "pg")
	c := start(t, dir)
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.StartCluster(ctx, pg.ClusterOptions{Dir: dir, BinDir: bin}); err == nil || !strings.Contains(err.Error(), "another examd") {
		t.Fatalf("second StartCluster on a folder in use: got %v, want a refusal", err)
	}
	// The first owner's server is untouched.
	db, err := pg.Open(ctx, c.URL("examd"), 1)
	if err != nil {
		t.Fatalf("the first server was disturbed: %v", err)
	}
	db.Close()
	stop(t, c)
	stop(t, start(t, dir))
}
