package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"examd/internal/pg"
	"examd/internal/server"
)

// backupCommand is `examd backup -o FILE`: a consistent copy of examd's
// database (DATABASE_URL, or the private cluster under the data folder,
// joined while examd runs there) in pg_dump's custom format.
func backupCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := server.LoadConfig(nil, getenv, stdout)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("examd backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("o", "", "the file to write (required); it appears only once complete")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "folder of the private PostgreSQL cluster, when DATABASE_URL is empty (EXAMD_DATA_DIR)")
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: examd backup -o FILE [flags]\n\n"+
			"Writes a consistent copy of examd's database to FILE (pg_dump, custom format), while examd\n"+
			"runs or not. examd restore FILE loads it into an empty database or data folder.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("backup: want examd backup -o FILE")
	}
	bin, err := pg.FindServerBinaries(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	url, stopCluster, err := server.ToolDatabaseURL(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer stopCluster()
	if err := pg.Dump(ctx, bin, url, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", *out)
	return nil
}

// restoreCommand is `examd restore FILE`: it loads a backup into the empty
// database at DATABASE_URL, or else into a new private cluster under the
// data folder, which must not hold one yet. It never overwrites data.
func restoreCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := server.LoadConfig(nil, getenv, stdout)
	if err != nil {
		return err
	}
	flags := flag.NewFlagSet("examd restore", flag.ContinueOnError)
	flags.SetOutput(stdout)
	flags.StringVar(&cfg.DataDir, "data", cfg.DataDir, "folder of the private PostgreSQL cluster to create, when DATABASE_URL is empty (EXAMD_DATA_DIR)")
	flags.Usage = func() {
		fmt.Fprintln(stdout, "usage: examd restore [flags] FILE\n\n"+
			"Loads a backup written by examd backup into the empty database at DATABASE_URL, or into a new\n"+
			"private cluster under the data folder. It refuses a database or folder that holds data.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return errors.New("restore: want examd restore FILE")
	}
	file := flags.Arg(0)
	if _, err := os.Stat(file); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if cfg.DatabaseURL == "" {
		_, err := os.Stat(filepath.Join(cfg.DataDir, "pg", "data", "PG_VERSION"))
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: %s already holds a PostgreSQL cluster: %w", filepath.Join(cfg.DataDir, "pg"), pg.ErrNotEmpty)
		}
	}
	bin, err := pg.FindServerBinaries(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	url, stopCluster, err := server.DatabaseURL(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	defer stopCluster()
	if err := pg.Restore(ctx, bin, url, file); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s\n", file)
	return nil
}
