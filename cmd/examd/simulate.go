package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"examd/cmd/examd/sim"
)

// simulate is `examd simulate`: it plays judging devices at a running
// examd, after seeding a demo day there with -seed.
func simulate(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("examd simulate", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "usage: examd simulate [flags]\n\n"+
			"Plays judging devices at a running examd: today's confirmed bookings of a venue are examined\n"+
			"item by item, with deductions, retakes and theory results. -seed first prepares a demo day.")
		fs.PrintDefaults()
	}
	baseURL := fs.String("url", "http://127.0.0.1:8080", "examd's address")
	venue := fs.Int64("venue", 0, "the venue whose bookings of today are examined (not with -seed)")
	devices := fs.String("devices", "", "device keys of the venue, comma-separated: one judging device each (not with -seed)")
	token := fs.String("token", getenv("EXAMD_TOKEN"), "a staff bearer token that reads the rosters (EXAMD_TOKEN); default: log in as admin")
	seed := fs.Bool("seed", false, "seed a demo day first: scheduler, venue, examiner, devices, slots, candidates, bookings")
	adminPassword := fs.String("admin-password", getenv("EXAMD_ADMIN_PASSWORD"), "password of user admin (EXAMD_ADMIN_PASSWORD), for -seed or without -token")
	speed := fs.Float64("speed", 1, "pace of the exams: 1 is real time, 20 twenty times faster")
	random := fs.Int64("seed-random", 0, "seed of the random draws; 0 draws one from the clock (and logs it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("simulate: unexpected arguments %q", fs.Args())
	}
	if *random == 0 {
		*random = time.Now().UnixNano()
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	o := sim.Options{BaseURL: strings.TrimRight(*baseURL, "/"), VenueID: *venue, Token: *token, Speed: *speed, Seed: *random, Now: now}
	for k := range strings.SplitSeq(*devices, ",") {
		if k = strings.TrimSpace(k); k != "" {
			o.DeviceKeys = append(o.DeviceKeys, k)
		}
	}
	switch {
	case !(*speed > 0):
		return errors.New("simulate: -speed must be positive")
	case *seed && (o.VenueID != 0 || len(o.DeviceKeys) > 0):
		return errors.New("simulate: -seed creates its own venue and devices: drop -venue and -devices")
	case *seed && *adminPassword == "":
		return errors.New("simulate: -seed needs the admin password: -admin-password or EXAMD_ADMIN_PASSWORD")
	case !*seed && (o.VenueID <= 0 || len(o.DeviceKeys) == 0):
		return errors.New("simulate: give -venue and -devices, or -seed to seed a demo day")
	case !*seed && o.Token == "" && *adminPassword == "":
		return errors.New("simulate: give -token (EXAMD_TOKEN) or the admin password to read the rosters")
	}

	if *seed {
		d, err := sim.Seed(ctx, o.BaseURL, *adminPassword, *random, now, log)
		if err != nil {
			return err
		}
		o.VenueID, o.DeviceKeys, o.Token = d.VenueID, d.DeviceKeys, d.SchedulerToken
		printDemo(stdout, o, d)
	} else if o.Token == "" {
		t, err := sim.Login(ctx, o.BaseURL, "admin", *adminPassword)
		if err != nil {
			return fmt.Errorf("simulate: log in as admin: %w", err)
		}
		o.Token = t
	}
	return sim.Run(ctx, o, log)
}

// printDemo tells a person how to watch the demo day and how to play it again.
func printDemo(w io.Writer, o sim.Options, d sim.Demo) {
	ws := "ws" + strings.TrimPrefix(o.BaseURL, "http") // http → ws, https → wss
	live := fmt.Sprintf("%s/api/v1/live?venue_id=%d&access_token=%s", ws, d.VenueID, d.ExaminerToken)
	fmt.Fprintf(w, `
examd demo day: venue %d (%s), %d bookings today, %d devices.

Watch the venue's live feed (a websocket, as the examiners' screens will):
  %s
  from a terminal:  websocat '%s'
  replay the day from its start: add &since=0
Examiner of the venue: %s / %s (token: %s)
Scheduler: %s / %s (token: %s), e.g. GET %s/api/v1/slots/{id}/roster, GET %s/api/v1/bookings/{id}/attempts
Play the day again later: examd simulate -url %s -venue %d -token %s -devices %s

`, d.VenueID, d.VenueName, d.Bookings, len(d.DeviceKeys), live, live,
		d.Examiner, d.ExaminerPassword, d.ExaminerToken,
		d.Scheduler, d.SchedulerPass, d.SchedulerToken, o.BaseURL, o.BaseURL,
		o.BaseURL, d.VenueID, d.SchedulerToken, strings.Join(d.DeviceKeys, ","))
}
