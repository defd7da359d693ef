package sim

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"examd/exam"
	"examd/scheduling"
)

// Demo is what Seed prepared: enough to run the simulator and to watch it.
type Demo struct {
	VenueID          int64
	VenueName        string
	DeviceKeys       []string
	Scheduler        string // username of the demo's scheduler
	SchedulerPass    string
	SchedulerToken   string // staff token for Options.Token
	Examiner         string // username of the venue's examiner
	ExaminerPassword string
	ExaminerToken    string // watches the venue's live feed
	Bookings         int    // confirmed bookings of today waiting for their exam
}

// Demo passwords: this is throwaway data on a demo examd.
const (
	demoStaffPassword     = "demo-staff-pw"
	demoCandidatePassword = "demo-candidate-pw"
)

// demoCandidate is one candidate of the demo day and the subject they sit.
type demoCandidate struct {
	name    string
	male    bool
	class   string
	subject int
	lane    string // reason for a priority-lane grant, "" for none
}

var demoCandidates = []demoCandidate{
	{"张伟", true, "C1", 2, ""}, {"王芳", false, "C1", 2, ""}, {"刘洋", true, "C1", 2, ""},
	{"陈静", false, "C1", 2, ""}, {"杨磊", true, "C1", 2, ""},
	{"赵敏", false, "C2", 2, ""}, {"黄涛", true, "C2", 2, ""},
	{"周杰", true, "C1", 3, ""}, {"吴霞", false, "C1", 3, "disability"}, {"徐明", true, "C1", 3, ""},
	{"孙丽", false, "C1", 3, ""},
	{"马超", true, "C1", 4, ""}, {"朱琳", false, "C1", 4, ""},
}

// Seed prepares an exam day at a running examd through its API, logged in
// as admin with adminPassword: a scheduler, a venue with its examiner, exam
// cars and a theory terminal, today's slots (subject 2 first, then 3, then
// 4), candidates (one on the priority lane) and their bookings. Names are
// suffixed at random so that Seed can run again on the same examd.
//
// Today's default booking window closed yesterday (BK-WINDOW), so the slots
// are published with a window open now and closing at their start, a few
// minutes from now; they run to the end of the day. Subject 4 needs both
// road tests passed (BK-SUBJ1), which only an exam can record: its
// candidates first sit clean road tests, as if in the early morning.
// clock tells the time (nil: time.Now).
func Seed(ctx context.Context, baseURL, adminPassword string, seed int64, clock func() time.Time, log *slog.Logger) (Demo, error) {
	c := newClient(baseURL, clock)
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0x5eed))
	var d Demo
	now := c.now()
	open := now.Add(2 * time.Minute).Truncate(time.Minute)
	end := scheduling.StartOfDay(scheduling.Day(now).AddDate(0, 0, 1)).Add(-time.Second)
	if end.Sub(open) < 15*time.Minute {
		return d, fmt.Errorf("sim: too late today (Asia/Shanghai) to seed a demo day: try after midnight")
	}
	var b [2]byte
	_, _ = rand.Read(b[:])
	suffix := fmt.Sprintf("%x", b)

	admin, err := login(ctx, c, "admin", adminPassword)
	if err != nil {
		return d, fmt.Errorf("sim: log in as admin: %w", err)
	}
	d.Scheduler, d.SchedulerPass = "demo-scheduler-"+suffix, demoStaffPassword
	if err := post(ctx, c, admin, "/api/v1/users", map[string]any{"username": d.Scheduler, "password": d.SchedulerPass, "role": "scheduler"}, nil); err != nil {
		return d, err
	}
	if d.SchedulerToken, err = login(ctx, c, d.Scheduler, d.SchedulerPass); err != nil {
		return d, err
	}
	sched := d.SchedulerToken

	d.VenueName = "示范考场 " + suffix
	var venue struct {
		ID int64 `json:"id"`
	}
	if err := post(ctx, c, sched, "/api/v1/venues", map[string]any{"name": d.VenueName, "address": "演示路1号", "step_free": true}, &venue); err != nil {
		return d, err
	}
	d.VenueID = venue.ID
	d.Examiner, d.ExaminerPassword = "demo-examiner-"+suffix, demoStaffPassword
	if err := post(ctx, c, admin, "/api/v1/users", map[string]any{"username": d.Examiner, "password": d.ExaminerPassword, "role": "examiner", "venue_id": d.VenueID}, nil); err != nil {
		return d, err
	}
	if d.ExaminerToken, err = login(ctx, c, d.Examiner, d.ExaminerPassword); err != nil {
		return d, err
	}

	for i, dev := range []struct {
		name, plate string
		classes     []string
	}{
		{"考试车 1号（科目二）", "京A0001学", []string{"C1"}},
		{"考试车 2号（科目二）", "京A0002学", []string{"C2", "C5"}},
		{"考试车 3号（科目三）", "京A0003学", []string{"C1"}},
		{"考试车 4号（科目三）", "京A0004学", []string{"C1", "C2"}},
		{"理论考试终端 1号", "", []string{}},
	} {
		var res struct {
			Key string `json:"key"`
		}
		body := map[string]any{"venue_id": d.VenueID, "name": dev.name, "vehicle_plate": dev.plate, "licence_classes": dev.classes, "adapted_vehicle": false}
		if err := post(ctx, c, admin, "/api/v1/devices", body, &res); err != nil {
			return d, fmt.Errorf("sim: device %d: %w", i+1, err)
		}
		d.DeviceKeys = append(d.DeviceKeys, res.Key)
	}

	// Slots: subject 2 first, then 3, then 4, each bookable from a minute
	// ago until it starts.
	slots := map[string]int64{}
	for _, s := range []struct {
		subject int
		class   string
		start   time.Duration
	}{{2, "C1", 0}, {2, "C2", 0}, {3, "C1", time.Minute}, {4, "C1", 3 * time.Minute}} {
		start := open.Add(s.start)
		var res struct {
			ID int64 `json:"id"`
		}
		body := map[string]any{
			"venue_id": d.VenueID, "subject": s.subject, "licence_class": s.class, "capacity": 20, "priority_reserved": 2,
			"starts_at": start.Format(time.RFC3339), "ends_at": end.Format(time.RFC3339), "adapted_vehicle": false,
			"booking_opens_at": now.Add(-time.Minute).Format(time.RFC3339), "booking_closes_at": start.Format(time.RFC3339),
		}
		if err := post(ctx, c, sched, "/api/v1/slots", body, &res); err != nil {
			return d, fmt.Errorf("sim: slot of subject %d %s: %w", s.subject, s.class, err)
		}
		slots[fmt.Sprint(s.subject, s.class)] = res.ID
	}

	for _, dc := range demoCandidates {
		id, err := createCandidate(ctx, c, sched, rng, dc, now)
		if err != nil {
			return d, fmt.Errorf("sim: candidate %s: %w", dc.name, err)
		}
		if dc.lane != "" {
			// PL-GRANT; PL-RELAY shows a deaf candidate the spoken instructions as text.
			grant := map[string]any{"reason": dc.lane, "needs": []string{"sign_language"}, "note": "听力障碍，需手语翻译"}
			if err := post(ctx, c, sched, fmt.Sprintf("/api/v1/candidates/%d/priority", id), grant, nil); err != nil {
				return d, err
			}
		}
		if dc.subject == 4 {
			for i, subject := range []int{2, 3} {
				bk, err := book(ctx, c, sched, id, slots[fmt.Sprint(subject, dc.class)])
				if err != nil {
					return d, fmt.Errorf("sim: book %s on subject %d: %w", dc.name, subject, err)
				}
				if err := cleanExam(ctx, c, log, d.DeviceKeys[2*i], bk, subject, dc.class); err != nil {
					return d, fmt.Errorf("sim: road test of %s: %w", dc.name, err)
				}
			}
		}
		if _, err := book(ctx, c, sched, id, slots[fmt.Sprint(dc.subject, dc.class)]); err != nil {
			return d, fmt.Errorf("sim: book %s on subject %d: %w", dc.name, dc.subject, err)
		}
		d.Bookings++
	}
	log.Info("demo day seeded", "venue", d.VenueID, "bookings", d.Bookings, "devices", len(d.DeviceKeys))
	return d, nil
}

// Login logs in at examd and returns the bearer token.
func Login(ctx context.Context, baseURL, username, password string) (string, error) {
	return login(ctx, newClient(baseURL, nil), username, password)
}

func login(ctx context.Context, c *client, username, password string) (string, error) {
	var res struct {
		Token string `json:"token"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/login", "", map[string]any{"username": username, "password": password}, &res)
	return res.Token, err
}

func post(ctx context.Context, c *client, token, path string, body, out any) error {
	if err := c.do(ctx, http.MethodPost, path, bearer(token), body, out); err != nil {
		return fmt.Errorf("sim: POST %s: %w", path, err)
	}
	return nil
}

// createCandidate registers dc with a valid, random resident ID number and
// a learning permit issued long enough ago for every BK-WAIT.
func createCandidate(ctx context.Context, c *client, token string, rng *mrand.Rand, dc demoCandidate, now time.Time) (int64, error) {
	today := scheduling.Day(now)
	issued := today.AddDate(0, 0, -60-rng.IntN(300))
	for range 5 {
		body := map[string]any{
			"id_number": idNumber(rng, dc.male), "name": dc.name, "phone": fmt.Sprintf("13%09d", rng.IntN(1e9)),
			"licence_class":      dc.class,
			"permit_issued_on":   issued.Format(time.DateOnly),
			"permit_expires_on":  issued.AddDate(scheduling.PermitYears, 0, 0).Format(time.DateOnly),
			"subject1_passed_on": issued.AddDate(0, 0, -1).Format(time.DateOnly),
			"password":           demoCandidatePassword,
		}
		var res struct {
			ID int64 `json:"id"`
		}
		err := c.do(ctx, http.MethodPost, "/api/v1/candidates", bearer(token), body, &res)
		if refusedWith(err, "duplicate_candidate") {
			continue // an ID number drawn before, on an earlier run: draw again
		}
		return res.ID, err
	}
	return 0, errors.New("no free ID number after 5 draws")
}

// idNumber draws a valid resident ID number (GB 11643): an area code, a
// birth date from 1965 to 2004, a sequence whose last digit is odd for men
// and even for women, and the MOD 11-2 check character.
func idNumber(rng *mrand.Rand, male bool) string {
	areas := []string{"110101", "110105", "310104", "440305", "510107", "330106", "420102"}
	birth := time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(40*365))
	seq := rng.IntN(500) * 2
	if male {
		seq++
	}
	body := areas[rng.IntN(len(areas))] + birth.Format("20060102") + fmt.Sprintf("%03d", seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(body[i]-'0') * w
	}
	return body + string("10X98765432"[sum%11])
}

// book books the candidate on the slot as staff and returns the booking id.
func book(ctx context.Context, c *client, token string, candidate, slot int64) (int64, error) {
	var res struct {
		Bookings []struct {
			ID int64 `json:"id"`
		} `json:"bookings"`
	}
	err := c.do(ctx, http.MethodPost, "/api/v1/bookings", bearer(token), map[string]any{"slot_ids": []int64{slot}, "candidate_id": candidate}, &res)
	if err != nil {
		return 0, err
	}
	if len(res.Bookings) != 1 {
		return 0, fmt.Errorf("booking answered %d bookings, want 1", len(res.Bookings))
	}
	return res.Bookings[0].ID, nil
}

// cleanExam drives a whole road test without a deduction, at once.
func cleanExam(ctx context.Context, c *client, log *slog.Logger, key string, bk int64, subject int, class string) error {
	evs := []event{{Type: exam.ExamStarted}}
	for _, item := range route(subject, class, c.now()) {
		evs = append(evs, event{Type: exam.ItemStarted, Item: item}, event{Type: exam.ItemFinished, Item: item})
	}
	evs = append(evs, event{Type: exam.ExamFinished})
	var a answer
	for _, ev := range evs {
		ev.BookingID = bk
		var err error
		if a, err = c.postEvent(ctx, log, key, ev); err != nil {
			return err
		}
	}
	if a.Attempt.Status != exam.Passed {
		return fmt.Errorf("clean road test of booking %d ended %s", bk, a.Attempt.Status)
	}
	return nil
}
