package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"examd/internal/server/servertest"
)

// refusedFields reports the fields of want that body does not show refused:
// a refusal next to the control, and the control pointing at it.
func refusedFields(body string, want ...string) []string {
	var missing []string
	for _, f := range want {
		if !strings.Contains(body, `<p class="refusal" id="err-`+f+`" role="alert">`) ||
			!regexp.MustCompile(`aria-describedby="[^"]*\berr-`+f+`\b`).MatchString(body) {
			missing = append(missing, f)
		}
	}
	return missing
}

// TestWebPlanningWeek: a scheduler previews a week of slots (nothing is
// stored), publishes it in one step, and publishing it again is refused
// whole with the overlapping slots marked; a form with every field wrong
// shows every refusal at once.
func TestWebPlanningWeek(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	b := planningBrowser(a, t, "scheduler")
	if p := b.get("/admin/slots/week"); p.Status != http.StatusOK || !strings.Contains(p.Body, "按周发布场次") ||
		!strings.Contains(p.Body, `value="`+a.Day(1).Format(time.DateOnly)+`"`) || !strings.Contains(p.Body, `value="`+a.Day(14).Format(time.DateOnly)+`"`) {
		t.Fatalf("week page: %d\n%s", p.Status, p.Body)
	}
	days := []string{a.Day(3).Format(time.DateOnly), a.Day(4).Format(time.DateOnly), a.Day(5).Format(time.DateOnly)}
	form := func(action string) url.Values {
		return url.Values{"venue_id": {fmt.Sprint(venue)}, "days": days, "licence_class": {"C1"},
			"session_start": {"08:00", "13:30", "", ""}, "session_end": {"10:00", "15:30", "", ""},
			"subjects": {"2", "3"}, "capacity": {"16"}, "priority_reserved": {"2"}, "action": {action}}
	}
	weekday := []string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}[a.Day(3).Weekday()]

	t.Run("Preview", func(t *testing.T) {
		p := b.post("/admin/slots/week", form("preview"))
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "预览：将发布 12 个场次") || !strings.Contains(p.Body, "全部发布（12 个场次）") {
			t.Fatalf("preview: %d\n%s", p.Status, p.Body)
		}
		for _, want := range []string{days[0] + " " + weekday, "08:00–10:00", "13:30–15:30", "科目二", "科目三"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("preview lacks %q", want)
			}
		}
		if n := strings.Count(p.Body, "<td>新场次</td>"); n != 12 {
			t.Errorf("%d new rows, want 12", n)
		}
		if n := planningCount(a, t, "slots", "venue_id = $1", venue); n != 0 {
			t.Errorf("the preview stored %d slots", n)
		}
		// What was sent stays in the form.
		if !strings.Contains(p.Body, `id="day-`+days[1]+`" name="days" value="`+days[1]+`" checked`) || !strings.Contains(p.Body, `value="13:30"`) {
			t.Errorf("the form lost what was sent")
		}
	})

	t.Run("Publish", func(t *testing.T) {
		p := b.post("/admin/slots/week", form("publish"))
		if p.URL != fmt.Sprintf("/admin/slots?done=week_published&venue=%d", venue) || !strings.Contains(p.Body, "本周场次已全部发布。") {
			t.Fatalf("publish: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		if n := planningCount(a, t, "slots", "venue_id = $1 AND capacity = 16 AND priority_reserved = 2 AND licence_class = 'C1'", venue); n != 12 {
			t.Errorf("stored %d slots, want 12", n)
		}
		start := a.Day(3).Add(13*time.Hour + 30*time.Minute)
		if n := planningCount(a, t, "slots", "venue_id = $1 AND subject = 3 AND starts_at = $2 AND ends_at = $3", venue, start, start.Add(2*time.Hour)); n != 1 {
			t.Errorf("no subject 3 slot at %s", start)
		}
	})

	t.Run("Ranked", func(t *testing.T) {
		// RA-*: a ranked week, every slot of it collecting applications,
		// each in the scheduler's ranked list.
		f := form("preview")
		f["days"], f["subjects"], f["allocation"] = []string{a.Day(9).Format(time.DateOnly)}, []string{"2"}, []string{"ranked"}
		p := b.post("/admin/slots/week", f)
		if p.Status != http.StatusOK || strings.Count(p.Body, `<span class="tag">排序分配</span>`) != 2 ||
			!strings.Contains(p.Body, `<option value="ranked" selected>排序分配</option>`) {
			t.Fatalf("ranked preview: %d\n%s", p.Status, p.Body)
		}
		f["action"] = []string{"publish"}
		if p := b.post("/admin/slots/week", f); !strings.Contains(p.Body, "本周场次已全部发布。") {
			t.Fatalf("publish: %d at %s", p.Status, p.URL)
		}
		var ids []int64
		if err := a.DB.Select(&ids, `SELECT id FROM slots WHERE venue_id = $1 AND allocation = 'ranked' ORDER BY starts_at`, venue); err != nil || len(ids) != 2 {
			t.Fatalf("ranked slots %v (%v), want 2", ids, err)
		}
		if n := planningCount(a, t, "slots", "venue_id = $1 AND allocation = 'instant'", venue); n != 12 {
			t.Errorf("%d instant slots, want the first week's 12", n)
		}
		list := b.get(fmt.Sprintf("/admin/slots?venue=%d&date=%s", venue, a.Day(9).Format(time.DateOnly)))
		for _, id := range ids {
			if !strings.Contains(list.Body, fmt.Sprintf(`href="/admin/slots/%d/applications" id="ranked-%d"`, id, id)) {
				t.Errorf("slot %d is not marked ranked in the list", id)
			}
		}
		c := a.NewCandidate(sched, nil)
		app := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"preferences": [][]int64{{ids[0]}, {ids[1]}}}).ID()
		for _, id := range ids {
			if p := b.get(fmt.Sprintf("/admin/slots/%d/applications", id)); p.Status != http.StatusOK ||
				!strings.Contains(p.Body, fmt.Sprintf(`id="application-%d"`, app)) {
				t.Errorf("ranked list of slot %d: %d\n%s", id, p.Status, p.Body)
			}
		}
	})

	t.Run("OverlapRefusedWhole", func(t *testing.T) {
		f := form("publish")
		f["days"] = append(f["days"], a.Day(6).Format(time.DateOnly))
		f["session_start"], f["session_end"] = []string{"09:00"}, []string{"11:00"}
		before := planningCount(a, t, "slots", "true")
		p := b.post("/admin/slots/week", f)
		if p.Status != http.StatusConflict || !strings.Contains(p.Body, "该考场同一科目在此时段已有场次，不能重复发布") ||
			!strings.Contains(p.Body, "有 6 个场次与本考场同一科目的已发布场次时间重叠") {
			t.Fatalf("overlap: %d\n%s", p.Status, p.Body)
		}
		if n := strings.Count(p.Body, `<tr class="clash">`); n != 6 {
			t.Errorf("%d rows marked, want 6", n)
		}
		if after := planningCount(a, t, "slots", "true"); after != before {
			t.Errorf("%d slots published of a refused week", after-before)
		}
	})

	t.Run("AllErrorsAtOnce", func(t *testing.T) {
		f := url.Values{"venue_id": {"x"}, "licence_class": {"C1"}, "session_start": {"08:00", "25:00"}, "session_end": {"10:00", "26:00"},
			"capacity": {"很多"}, "priority_reserved": {"-1"}, "action": {"preview"}}
		before := planningCount(a, t, "slots", "true")
		p := b.post("/admin/slots/week", f)
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", p.Status)
		}
		if missing := refusedFields(p.Body, "venue_id", "days", "sessions", "subjects", "capacity", "priority_reserved"); missing != nil {
			t.Errorf("not refused: %v\n%s", missing, p.Body)
		}
		if !refusedAt(p.Body, "sessions", "请填写时段的开始和结束时间") || strings.Contains(p.Body, `id="preview"`) {
			t.Errorf("sessions message or a preview\n%s", p.Body)
		}
		if after := planningCount(a, t, "slots", "true"); after != before {
			t.Errorf("a refused week was stored")
		}
	})
}

// TestWebFormsReportAllErrors: each staff form with several wrong fields
// shows a refusal next to each of them in one answer, and stores nothing.
func TestWebFormsReportAllErrors(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	a.NewVenue(a.Staff("scheduler"), false) // the slot and display forms need one
	b := planningBrowser(a, t, "admin")
	long := strings.Repeat("长", 300)
	for _, tc := range []struct {
		page   string
		form   url.Values
		fields []string
		table  string
	}{
		{"/admin/venues", url.Values{"name": {" "}, "address": {long}}, []string{"name", "address"}, "venues"},
		{"/admin/slots", url.Values{"venue_id": {"0"}, "subject": {"5"}, "licence_class": {"C1"}, "date": {a.Day(2).Format(time.DateOnly)},
			"starts_at": {"10:00"}, "ends_at": {"09:00"}, "capacity": {"0"}, "priority_reserved": {"x"}},
			[]string{"venue_id", "subject", "ends_at", "capacity", "priority_reserved"}, "slots"},
		{"/admin/candidates", url.Values{"id_number": {"123"}, "name": {""}, "phone": {"1"}, "licence_class": {"C1"},
			"permit_issued_on": {"x"}, "permit_expires_on": {a.Day(-10).Format(time.DateOnly)}, "password": {"short"}},
			[]string{"id_number", "name", "phone", "permit_issued_on", "password"}, "candidates"},
		{"/admin/users", url.Values{"username": {"has space"}, "password": {"short"}, "role": {"boss"}, "venue_id": {"x"}},
			[]string{"username", "password", "role", "venue_id"}, "users"},
		{"/admin/devices", url.Values{"name": {""}, "vehicle_plate": {strings.Repeat("A", 30)}, "licence_classes": {""}},
			[]string{"venue_id", "name", "vehicle_plate", "subjects", "licence_classes"}, "devices"},
		{"/admin/displays", url.Values{"venue_id": {""}, "label": {""}}, []string{"venue_id", "label"}, "display_tokens"},
	} {
		t.Run(strings.TrimPrefix(tc.page, "/admin/"), func(t *testing.T) {
			b.get(tc.page)
			before := planningCount(a, t, tc.table, "true")
			p := b.post(tc.page, tc.form)
			if p.Status != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", p.Status)
			}
			if missing := refusedFields(p.Body, tc.fields...); missing != nil {
				t.Errorf("not refused at once: %v\n%s", missing, p.Body)
			}
			if after := planningCount(a, t, tc.table, "true"); after != before {
				t.Errorf("a refused form stored a row")
			}
		})
	}
}
