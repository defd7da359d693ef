// Command rush is the rush-hour booking benchmark: as when a week's slots
// open at 08:00, many candidates book at once. It starts a private
// PostgreSQL and an examd binary on it, prepares a venue, slots and
// candidates through the API, fires concurrent bookings, checks in SQL that
// no seat was overbooked, and measures the floor: pgbench running the
// equivalent booking transaction on the same database.
package main

import (
	"context"
	"flag"
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

type options struct {
	examd      string
	clients    int
	candidates int
	slots      int
	fill       float64
	pgbenchFor time.Duration
	pool       int
}

func main() {
	var o options
	flag.StringVar(&o.examd, "examd", "./bin/examd", "examd binary to measure")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients, for examd and pgbench alike")
	flag.IntVar(&o.candidates, "candidates", 3000, "candidates, each booking once")
	flag.IntVar(&o.slots, "slots", 28, "subject 2 slots the candidates book into (28: a week, four sessions a day)")
	flag.Float64Var(&o.fill, "fill", 0.9, "seats as a share of candidates (below 1, some are refused slot_full)")
	flag.IntVar(&o.pool, "pool", 0, "examd's database pool (EXAMD_DB_MAX_CONNS; 0: examd's default)")
	flag.DurationVar(&o.pgbenchFor, "pgbench-time", 20*time.Second, "how long pgbench runs")
	flag.Parse()
	if err := bench(context.Background(), o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rush:", err)
		os.Exit(1)
	}
}

func bench(ctx context.Context, o options, out io.Writer) error {
	bin, err := pg.FindServerBinaries(os.Getenv)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "examd-rush-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil { // the cluster may run as the postgres user
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Production settings: fsync and synchronous commit on.
	cluster, err := pg.StartCluster(ctx, pg.ClusterOptions{Dir: filepath.Join(dir, "pg"), BinDir: bin, Fsync: true, MaxConnections: 200, Logger: quiet})
	if err != nil {
		return err
	}
	defer cluster.Stop()
	dbURL := cluster.URL("examd")

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, o.examd)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL, "EXAMD_ADDR="+addr, "EXAMD_ADMIN_PASSWORD=rush-admin-pw",
		"EXAMD_BCRYPT_COST=4", "EXAMD_LOG_LEVEL=warn")
	if o.pool > 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("EXAMD_DB_MAX_CONNS=%d", o.pool))
	}
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start examd: %w", err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	c := &client{base: "http://" + addr}
	if err := c.waitReady(30 * time.Second); err != nil {
		return err
	}

	fmt.Fprintf(out, "preparing %d candidates and %d slots through the API…\n", o.candidates, o.slots)
	setup, err := prepare(c, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "firing %d bookings from %d clients…\n", o.candidates, o.clients)
	res := fire(c, setup, o.clients)

	db, err := pg.Open(ctx, dbURL, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	var overbooked int
	if err := db.GetContext(ctx, &overbooked, `
		SELECT coalesce(sum(greatest(0, n - s.capacity)), 0) FROM slots s
		JOIN (SELECT slot_id, count(*) AS n FROM bookings WHERE status = 'confirmed' GROUP BY slot_id) b
		  ON b.slot_id = s.id`); err != nil {
		return fmt.Errorf("count overbooked seats: %w", err)
	}

	fmt.Fprintln(out, "running pgbench with the equivalent booking transaction…")
	floor, err := pgbench(ctx, db, cluster, bin, o, dir)
	if err != nil {
		return err
	}
	report(out, o, res, overbooked, floor)
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
