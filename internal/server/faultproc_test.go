package server_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg"
	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// longFaults is the switch of the fault tests that wait out examd's own
// timeouts (a websocket peer's 60 s pong wait): `make test-faults` sets it,
// `go test ./...` leaves them out.
const longFaults = "EXAMD_TEST_FAULTS"

// buildExamd builds the examd command for the test and returns its path.
func buildExamd(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command, to build examd: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "examd")
	if out, err := exec.Command(gocmd, "build", "-o", bin, "examd/cmd/examd").CombinedOutput(); err != nil {
		t.Fatalf("go build examd: %v\n%s", err, out)
	}
	return bin
}

// examdProc is the examd binary running as a process of its own on a test's
// database, which a fault test kills or stops.
type examdProc struct {
	t    *testing.T
	bin  string
	env  []string
	Addr string // host:port
	URL  string // http://host:port
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's, once done
}

// lockedBuffer keeps a process's output for the test's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startExamd runs bin on the database at dbURL on a free port, with
// production settings but cheap password hashing, and env added; it waits
// until examd is ready. The process is killed when the test ends, if it
// still runs.
func startExamd(t *testing.T, bin, dbURL string, env ...string) *examdProc {
	t.Helper()
	p := &examdProc{t: t, bin: bin, Addr: freeAddr(t)}
	p.URL = "http://" + p.Addr
	p.env = append([]string{"DATABASE_URL=" + dbURL, "EXAMD_ADMIN_PASSWORD=" + servertest.AdminPassword,
		"EXAMD_BCRYPT_COST=4", "EXAMD_LOG_LEVEL=warn"}, env...)
	p.start()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// start starts the process (again) on its address and waits until it is
// ready.
func (p *examdProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin)
	p.cmd.Env = append(append(os.Environ(), "EXAMD_ADDR="+p.Addr), p.env...)
	p.out = &lockedBuffer{}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start examd: %v", err)
	}
	p.done = make(chan struct{})
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := http.Get(p.URL + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if !p.running() || time.Now().After(deadline) {
			p.t.Fatalf("examd at %s not ready within 30 s (%v): %s", p.URL, p.err, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *examdProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL, as a crash or the OOM killer would, and waits for the
// process to be gone.
func (p *examdProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill examd: %v", err)
	}
	<-p.done
}

// terminate sends SIGTERM and returns how long examd took to exit, failing
// the test unless it exits with status 0 within limit.
func (p *examdProc) terminate(limit time.Duration) time.Duration {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM examd: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		p.t.Fatalf("examd still running %v after SIGTERM: %s", limit, p.out.String())
	}
	if p.err != nil {
		p.t.Fatalf("examd after SIGTERM: %v: %s", p.err, p.out.String())
	}
	return time.Since(start)
}

// app is a servertest.App on the process, for the harness's set-up helpers
// (staff, venues, slots, candidates, exam days), logged in as admin.
func (p *examdProc) app(db *sqlx.DB, dbURL string) *servertest.App {
	p.t.Helper()
	a := &servertest.App{Client: &testkit.Client{T: p.t, URL: p.URL}, DB: db, DBURL: dbURL, Now: time.Now}
	a.Admin = a.Login("admin", servertest.AdminPassword)
	return a
}

// auditVerify runs `examd audit verify` on the database and fails the test
// unless it exits with status 0.
func auditVerify(t *testing.T, bin, dbURL string) string {
	t.Helper()
	cmd := exec.Command(bin, "audit", "verify")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("examd audit verify: %v: %s", err, out)
	}
	return string(bytes.TrimSpace(out))
}

// openDB opens the test's own connection to the database.
func openDB(t *testing.T, dbURL string) *sqlx.DB {
	t.Helper()
	db, err := pg.Open(context.Background(), dbURL, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
