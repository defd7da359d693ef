package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/bench/benchkit"
)

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
