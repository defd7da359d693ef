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
// seconds from now (an exam starts no earlier than its slot); they run to
// the end of the day. Subject 4 needs both road tests passed (BK-SUBJ1),
// which only an exam can record: its candidates first sit clean road tests
// once the road slots have started, and the subject 4 slot is published
// after them. clock tells the time (nil: time.Now).
func Seed(ctx context.Context, baseURL, adminPassword string, seed int64, clock func() time.Time, log *slog.Logger) (Demo, error) {
	c := newClient(baseURL, clock)
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0x5eed))
	var d Demo
	now := c.now()
	end := scheduling.StartOfDay(scheduling.Day(now).AddDate(0, 0, 1)).Add(-time.Second)
	if end.Sub(now) < 17*time.Minute {
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
		subject     int
		classes     []string
	}{
		{"考试车 1号（科目二）", "京A0001学", 2, []string{"C1"}},
		{"考试车 2号（科目二）", "京A0002学", 2, []string{"C2", "C5"}},
		{"考试车 3号（科目三）", "京A0003学", 3, []string{"C1"}},
		{"考试车 4号（科目三）", "京A0004学", 3, []string{"C1", "C2"}},
		{"理论考试终端 1号", "", 4, []string{"C1", "C2"}},
	} {
		var res struct {
			Key string `json:"key"`
		}
		body := map[string]any{"venue_id": d.VenueID, "name": dev.name, "vehicle_plate": dev.plate,
			"subjects": []int{dev.subject}, "licence_classes": dev.classes, "adapted_vehicle": false}
		if err := post(ctx, c, admin, "/api/v1/devices", body, &res); err != nil {
			return d, fmt.Errorf("sim: device %d: %w", i+1, err)
		}
		d.DeviceKeys = append(d.DeviceKeys, res.Key)
	}

	ids := make([]int64, len(demoCandidates))
	for i, dc := range demoCandidates {
		id, err := createCandidate(ctx, c, sched, rng, dc, now)
		if err != nil {
			return d, fmt.Errorf("sim: candidate %s: %w", dc.name, err)
		}
		ids[i] = id
		if dc.lane != "" {
			// PL-GRANT; PL-RELAY shows a deaf candidate the spoken instructions as text.
			grant := map[string]any{"reason": dc.lane, "needs": []string{"sign_language"}, "note": "听力障碍，需手语翻译"}
			if err := post(ctx, c, sched, fmt.Sprintf("/api/v1/candidates/%d/priority", id), grant, nil); err != nil {
				return d, err
			}
		}
	}

	// The road slots, subject 2 first, then 3, start once everyone is booked.
	slots := map[string]int64{}
	road := map[[2]int]int64{} // the road bookings of subject 4 candidates, by candidate and subject
	start := soon(c.now(), roadLead)
	for _, s := range []struct {
		subject int
		class   string
	}{{2, "C1"}, {2, "C2"}, {3, "C1"}} {
		if slots[fmt.Sprint(s.subject, s.class)], err = newSlot(ctx, c, sched, d.VenueID, s.subject, s.class, start, end); err != nil {
			return d, err
		}
	}
	for i, dc := range demoCandidates {
		subjects := []int{dc.subject}
		if dc.subject == 4 {
			subjects = []int{2, 3}
		}
		for _, subject := range subjects {
			bk, err := book(ctx, c, sched, ids[i], slots[fmt.Sprint(subject, dc.class)])
			if err != nil {
				return d, fmt.Errorf("sim: book %s on subject %d: %w", dc.name, subject, err)
			}
			road[[2]int{i, subject}] = bk
		}
		if dc.subject != 4 {
			d.Bookings++
		}
	}
	if err := sleep(ctx, start.Sub(c.now())); err != nil {
		return d, err
	}
	if err := d.subject4(ctx, c, log, ids, road, end); err != nil {
		return d, err
	}
	log.Info("demo day seeded", "venue", d.VenueID, "bookings", d.Bookings, "devices", len(d.DeviceKeys))
	return d, nil
}

// roadLead is how long after their publication the road slots start: time
// enough to book the demo's candidates.
const roadLead = 5 * time.Second

// soon is an instant at least lead after now, on a whole second.
func soon(now time.Time, lead time.Duration) time.Time {
	return now.Add(lead + time.Second).Truncate(time.Second)
}

// newSlot publishes a slot of today starting at start, bookable from a
// minute ago until it starts.
func newSlot(ctx context.Context, c *client, token string, venue int64, subject int, class string, start, end time.Time) (int64, error) {
	var res struct {
		ID int64 `json:"id"`
	}
	body := map[string]any{
		"venue_id": venue, "subject": subject, "licence_class": class, "capacity": 20, "priority_reserved": 2,
		"starts_at": start.Format(time.RFC3339), "ends_at": end.Format(time.RFC3339), "adapted_vehicle": false,
		"booking_opens_at": c.now().Add(-time.Minute).Format(time.RFC3339), "booking_closes_at": start.Format(time.RFC3339),
	}
	if err := post(ctx, c, token, "/api/v1/slots", body, &res); err != nil {
		return 0, fmt.Errorf("sim: slot of subject %d %s: %w", subject, class, err)
	}
	return res.ID, nil
}

// subject4 runs the clean road tests of the subject 4 candidates, booked on
// the road slots (which have started), then publishes the subject 4 slot
// and books them on it.
func (d *Demo) subject4(ctx context.Context, c *client, log *slog.Logger, ids []int64, road map[[2]int]int64, end time.Time) error {
	var sitting []int
	for i, dc := range demoCandidates {
		if dc.subject != 4 {
			continue
		}
		sitting = append(sitting, i)
		for k, subject := range []int{2, 3} {
			if err := cleanExam(ctx, c, log, d.DeviceKeys[2*k], road[[2]int{i, subject}], subject, dc.class); err != nil {
				return fmt.Errorf("sim: road test of %s: %w", dc.name, err)
			}
		}
	}
	start := soon(c.now(), 3*time.Second)
	slot, err := newSlot(ctx, c, d.SchedulerToken, d.VenueID, 4, "C1", start, end)
	if err != nil {
		return err
	}
	for _, i := range sitting {
		if _, err := book(ctx, c, d.SchedulerToken, ids[i], slot); err != nil {
			return fmt.Errorf("sim: book %s on subject 4: %w", demoCandidates[i].name, err)
		}
		d.Bookings++
	}
	return nil
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
