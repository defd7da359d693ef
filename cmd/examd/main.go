// Command examd serves the driving-exam hall: booking, live results and issuance.
package main

import (
	"context"
	"errors"
	"examd/internal/server"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills examd at once
	}()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "examd:", err)
		}
		os.Exit(1)
	}
}

// run starts examd and serves until ctx is done (server.Run), or runs one
// of its tools: simulate, audit, backup, restore.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runOn(ctx, time.Now, args, getenv, stdout)
}

// runOn is run on the clock now: time.Now in production, where no setting
// changes it; tests pass a clock they set.
func runOn(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "simulate" {
		return simulate(ctx, now, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "audit" {
		return auditCommand(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "backup" {
		return backupCommand(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 && args[0] == "restore" {
		return restoreCommand(ctx, args[1:], getenv, stdout)
	}
	return server.Run(ctx, now, args, getenv, stdout)
}
