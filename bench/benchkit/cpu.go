package benchkit

import (
	"os"
	"runtime"
	"strconv"
	"strings"
)

// CPUMeter reads the CPU time of the machine, of the server under measure,
// of its database (if it has one) and of this process from /proc, in clock
// ticks.
type CPUMeter struct {
	Server []int        // the server's processes: examd's replicas, Centrifugo, the bare broadcast (maybe this one)
	DB     func() []int // the database's processes now (backends come and go); nil for none
}

// CPUSample is the CPU time used so far.
type CPUSample struct {
	total, idle, server, self uint64
	db                        map[int]uint64 // per process
}

// CPUUsage is the cores in use, on average, between two samples.
type CPUUsage struct {
	Busy, Server, DB, Self float64
}

// Sample reads the CPU time used so far.
func (m *CPUMeter) Sample() CPUSample {
	var s CPUSample
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
	for _, pid := range m.Server {
		s.server += ProcTicks(strconv.Itoa(pid))
	}
	if m.DB != nil {
		s.db = map[int]uint64{}
		for _, pid := range m.DB() {
			s.db[pid] = ProcTicks(strconv.Itoa(pid))
		}
	}
	s.self = ProcTicks("self")
	return s
}

// Usage is the average cores used between a and b.
func (m *CPUMeter) Usage(a, b CPUSample) CPUUsage {
	perCore := float64(b.total-a.total) / float64(runtime.NumCPU())
	if perCore <= 0 {
		return CPUUsage{}
	}
	// A database process that started in between counts from 0; one that
	// ended in between is lost (examd's pool keeps its connections).
	var db uint64
	for pid, t := range b.db {
		db += t - min(t, a.db[pid])
	}
	return CPUUsage{
		Busy:   float64((b.total-a.total)-(b.idle-a.idle)) / perCore,
		Server: float64(b.server-a.server) / perCore,
		DB:     float64(db) / perCore,
		Self:   float64(b.self-a.self) / perCore,
	}
}

// ProcTicks is the user and system time of process pid ("self" for this one).
func ProcTicks(pid string) uint64 {
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
