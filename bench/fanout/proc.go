package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/bench/benchkit"
)

// cpuMeter reads the CPU time of the machine, of the server under measure,
// of its database (if it has one) and of this process from /proc, in clock
// ticks.
type cpuMeter struct {
	server []int        // the server's processes: examd's replicas, Centrifugo, the bare broadcast (maybe this one)
	db     func() []int // the database's processes now (backends come and go); nil for none
}

// cpuSample is the CPU time used so far.
type cpuSample struct {
	total, idle, server, self uint64
	db                        map[int]uint64 // per process
}

// cpuUsage is the cores in use, on average, between two samples.
type cpuUsage struct {
	busy, server, db, self float64
}

func (m *cpuMeter) sample() cpuSample {
	var s cpuSample
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseUint(f, 10, 64)
			if i < 8 { // user … steal; guest time is counted in user already
				s.total += n
			}
			if i == 3 || i == 4 { // idle, iowait
				s.idle += n
			}
		}
	}
	for _, pid := range m.server {
		s.server += procTicks(strconv.Itoa(pid))
	}
	if m.db != nil {
		s.db = map[int]uint64{}
		for _, pid := range m.db() {
			s.db[pid] = procTicks(strconv.Itoa(pid))
		}
	}
	s.self = procTicks("self")
	return s
}

// usage is the average cores used between a and b.
func (m *cpuMeter) usage(a, b cpuSample) cpuUsage {
	perCore := float64(b.total-a.total) / float64(runtime.NumCPU())
	if perCore <= 0 {
		return cpuUsage{}
	}
	// A database process that started in between counts from 0; one that
	// ended in between is lost (examd's pool keeps its connections).
	var db uint64
	for pid, t := range b.db {
		db += t - min(t, a.db[pid])
	}
	return cpuUsage{
		busy:   float64((b.total-a.total)-(b.idle-a.idle)) / perCore,
		server: float64(b.server-a.server) / perCore,
		db:     float64(db) / perCore,
		self:   float64(b.self-a.self) / perCore,
	}
}

// procTicks is the user and system time of process pid ("self" for this one).
func procTicks(pid string) uint64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: count from after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	return utime + stime
}

// memory is a process's memory at one moment.
type memory struct {
	rss        int64 // VmRSS, bytes
	heapInuse  int64 // go_memstats_heap_inuse_bytes
	goroutines int64 // go_goroutines
}

// memoryOf adds up the resident sets of the processes pids from /proc and
// the Go heap and goroutines of the examd processes behind clients (none
// for another server) from GET /metrics.
func memoryOf(pids []int, clients []*benchkit.Client) (memory, error) {
	var m memory
	for _, pid := range pids {
		rss, err := rssOf(pid)
		if err != nil {
			return m, err
		}
		m.rss += rss
	}
	for _, c := range clients {
		if err := m.addMetrics(c); err != nil {
			return m, err
		}
	}
	return m, nil
}

// rssOf is the VmRSS of pid, in bytes.
func rssOf(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, nil
		}
	}
	return 0, sc.Err()
}

// addMetrics adds examd's Go heap in use and goroutines to m.
func (m *memory) addMetrics(c *benchkit.Client) error {
	res, err := http.Get(c.Base + "/metrics")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		name, v, _ := strings.Cut(sc.Text(), " ")
		n, _ := strconv.ParseFloat(v, 64)
		switch name {
		case "go_memstats_heap_inuse_bytes":
			m.heapInuse += int64(n)
		case "go_goroutines":
			m.goroutines += int64(n)
		}
	}
	return sc.Err()
}

// raiseFileLimit lifts this process's open-file limit to its hard limit (at
// least 65536 if allowed); examd, started from here, inherits it.
func raiseFileLimit(need uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Max < 65536 {
		if try := (syscall.Rlimit{Cur: 65536, Max: 65536}); syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try) == nil {
			l = try
		}
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < need {
		return fmt.Errorf("open-file limit %d, below the %d this run needs: raise it (ulimit -n)", l.Cur, need)
	}
	return nil
}

// sessionSampler samples, while a step runs, what examd's database
// sessions are doing, from pg_stat_activity (its own session aside).
type sessionSampler struct {
	db *sqlx.DB
}

// sessions is how many of examd's database sessions, on average over the
// samples, were in each state.
type sessions struct {
	samples  int
	lock     float64 // waiting for a lock: the venue feed's counter row, in practice
	idleInTx float64 // in a transaction, waiting for examd's next statement
	wal      float64 // writing or flushing WAL
	running  float64 // active, not waiting
}

// start samples every 25 ms until the returned function is called, which
// returns the averages.
func (s *sessionSampler) start() func() sessions {
	done := make(chan struct{})
	result := make(chan sessions, 1)
	go func() {
		var sum sessions
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if n := float64(sum.samples); n > 0 {
					sum.lock, sum.idleInTx, sum.wal, sum.running = sum.lock/n, sum.idleInTx/n, sum.wal/n, sum.running/n
				}
				result <- sum
				return
			case <-tick.C:
			}
			var row struct {
				Lock     float64 `db:"lock"`
				IdleInTx float64 `db:"idle_in_tx"`
				WAL      float64 `db:"wal"`
				Running  float64 `db:"running"`
			}
			err := s.db.Get(&row, `
				SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS lock,
				       count(*) FILTER (WHERE state = 'idle in transaction') AS idle_in_tx,
				       count(*) FILTER (WHERE wait_event LIKE 'WAL%') AS wal,
				       count(*) FILTER (WHERE state = 'active' AND wait_event IS NULL) AS running
				FROM pg_stat_activity
				WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`)
			if err == nil {
				sum.samples++
				sum.lock += row.Lock
				sum.idleInTx += row.IdleInTx
				sum.wal += row.WAL
				sum.running += row.Running
			}
		}
	}()
	return func() sessions {
		close(done)
		return <-result
	}
}
