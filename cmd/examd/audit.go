package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/server"
)

// auditCommand is `examd audit verify`: it walks the audit log's hash chain
// on DATABASE_URL, or on the private cluster under the data folder, and
// reports the first broken row, and the rows committed but left unchained
// longer than -stale (no chainer links them). A broken chain, or a stale
// row, is an error, so examd exits 1. It changes nothing: rows a running
// examd has not chained yet are counted, not linked.
func auditCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := server.LoadConfig(nil, getenv, stdout)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("examd audit verify", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: examd audit verify [flags]\n\n"+
			"Recomputes the audit log's hash chain and reports the first row that breaks it:\n"+
			"exit status 0 when the log is intact, 1 when it is broken or a row has waited\n"+
			"longer than -stale to be chained.")
		fs.PrintDefaults()
	}
	stale := fs.Duration("stale", audit.DefaultStaleAfter, "report rows left unchained longer than this")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "folder of the private PostgreSQL cluster, when DATABASE_URL is empty (EXAMD_DATA_DIR)")
	if len(args) == 0 || args[0] != "verify" {
		fs.Usage()
		return errors.New("audit: want examd audit verify")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit verify: unexpected arguments %q", fs.Args())
	}
	if *stale <= 0 {
		return errors.New("audit verify: -stale must be positive")
	}

	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	url, stopCluster, err := server.ToolDatabaseURL(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer stopCluster()
	db, err := pg.Open(ctx, url, 2)
	if err != nil {
		return err
	}
	defer db.Close()

	rep, err := audit.Verify(ctx, db, *stale)
	if err != nil {
		return err
	}
	if !rep.Intact() {
		fmt.Fprintf(stdout, "audit log broken at row %d: %s\n", rep.BrokenAt, rep.Reason)
		return fmt.Errorf("audit log broken at row %d", rep.BrokenAt)
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows; last hash %s\n", rep.Rows, rep.Head)
	if rep.Unchained > 0 {
		fmt.Fprintf(stdout, "%d rows not chained yet, the oldest %s old\n", rep.Unchained, rep.OldestAge.Round(time.Millisecond))
	}
	if rep.Stale > 0 {
		fmt.Fprintf(stdout, "audit log stale: %d rows unchained for more than %s, the oldest id %d: is an examd running and chaining?\n",
			rep.Stale, rep.StaleAfter, rep.OldestStale)
		return fmt.Errorf("audit log stale: %d rows unchained for more than %s", rep.Stale, rep.StaleAfter)
	}
	return nil
}
