package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"examd/internal/audit"
	"examd/internal/pg"
	"examd/internal/server"
)

// auditCommand is `examd audit verify`: it walks the audit log's hash chain
// on DATABASE_URL, or on the private cluster under the data folder, and
// reports the first broken row. A broken chain is an error, so examd exits 1.
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
			"exit status 0 when the log is intact, 1 when it is broken.")
		fs.PrintDefaults()
	}
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

	rep, err := audit.Verify(ctx, db)
	if err != nil {
		return err
	}
	if !rep.Intact() {
		fmt.Fprintf(stdout, "audit log broken at row %d: %s\n", rep.BrokenAt, rep.Reason)
		return fmt.Errorf("audit log broken at row %d", rep.BrokenAt)
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows; last hash %s\n", rep.Rows, rep.Head)
	return nil
}
