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
	"examd/internal/testkit"
)

// planningUser creates a member of staff with role and returns their username.
func planningUser(a *servertest.App, role string) string {
	a.T.Helper()
	name := fmt.Sprintf("%s-web%d", role, servertest.Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": name, "password": "staff-secret", "role": role})
	return name
}

// planningBrowser logs a new member of staff with role in through the form.
func planningBrowser(a *servertest.App, t *testing.T, role string) *browser {
	t.Helper()
	name := planningUser(a, role)
	b := newBrowser(a, t)
	b.get("/login")
	if p := b.post("/login", url.Values{"username": {name}, "password": {"staff-secret"}}); p.Status != http.StatusOK || strings.HasPrefix(p.URL, "/login") {
		t.Fatalf("log in as %s: %d at %s", name, p.Status, p.URL)
	}
	return b
}

// count is the number of rows of table that match where (SQL, with args).
func planningCount(a *servertest.App, t *testing.T, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM `+table+` WHERE `+where, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedAt reports whether body shows message as the refusal of field:
// the message next to the control, and the control pointing at it.
func refusedAt(body, field, message string) bool {
	return strings.Contains(body, `<p class="refusal" id="err-`+field+`" role="alert">`+message) &&
		regexp.MustCompile(`aria-describedby="[^"]*\berr-`+field+`\b`).MatchString(body)
}

// TestWebPlanningRoles: the planning pages are the scheduler's and the
// admin's; other roles get 403 on every page and form, and nothing changes.
func TestWebPlanningRoles(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 8, nil)
	gets := []string{"/admin/venues", "/admin/slots", fmt.Sprintf("/admin/slots/%d", slot),
		"/admin/candidates", fmt.Sprintf("/admin/candidates/%d", c.ID)}

	cb := newBrowser(a, t)
	cb.logIn(c.IDNo, "candidate-pw", "/candidate")
	browsers := map[string]*browser{"candidate": cb}
	for _, role := range []string{"examiner", "issuer"} {
		browsers[role] = planningBrowser(a, t, role)
	}
	for role, b := range browsers {
		for _, path := range gets {
			if role == "examiner" && path == gets[2] {
				// A slot's roster is also its venue's examiner's (to close
				// the slot): of another venue's slot, not found.
				if p := b.get(path); p.Status != http.StatusNotFound {
					t.Errorf("%s GET %s: %d, want 404", role, path, p.Status)
				}
				continue
			}
			if p := b.get(path); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
				t.Errorf("%s GET %s: %d", role, path, p.Status)
			}
		}
		b.get("/login") // a page with a form: the CSRF token
		// 403 for the role, not for the form: the token is good.
		if p := b.post("/admin/venues", url.Values{"name": {"偷建考场"}}); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
			t.Errorf("%s POST /admin/venues: %d", role, p.Status)
		}
		if p := b.post(fmt.Sprintf("/admin/candidates/%d/priority", c.ID), url.Values{"reason": {"elderly"}}); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
			t.Errorf("%s grant: %d", role, p.Status)
		}
	}
	if n := planningCount(a, t, "venues", "name = '偷建考场'"); n != 0 {
		t.Errorf("%d venues created by other roles", n)
	}
	if n := planningCount(a, t, "priority_grants", "candidate_id = $1", c.ID); n != 0 {
		t.Errorf("a grant made by another role")
	}
	for _, role := range []string{"scheduler", "admin"} {
		b := planningBrowser(a, t, role)
		for _, path := range gets {
			if p := b.get(path); p.Status != http.StatusOK {
				t.Errorf("%s GET %s: %d", role, path, p.Status)
			}
		}
	}
}

// TestWebPlanningVenues: a scheduler adds a venue through the form; a
// missing name is refused next to the name field, and a form without its
// CSRF token changes nothing.
func TestWebPlanningVenues(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := planningBrowser(a, t, "scheduler")
	p := b.get("/admin/venues")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "还没有考场") {
		t.Fatalf("empty venue page: %d\n%s", p.Status, p.Body)
	}

	t.Run("OK", func(t *testing.T) {
		p := b.post("/admin/venues", url.Values{"name": {" 第二考场 "}, "address": {"<b>南三环</b>88号"}, "step_free": {"1"}})
		if p.URL != "/admin/venues?done=venue_created" || !strings.Contains(p.Body, "考场已添加。") {
			t.Fatalf("create: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		if !strings.Contains(p.Body, "<th scope=\"row\">第二考场</th><td>&lt;b&gt;南三环&lt;/b&gt;88号</td>") ||
			!strings.Contains(p.Body, `<span class="tag">无障碍考场</span>`) {
			t.Errorf("the list does not show the venue:\n%s", p.Body)
		}
		if n := planningCount(a, t, "venues", "name = '第二考场' AND step_free"); n != 1 {
			t.Errorf("%d such venues", n)
		}
	})
	t.Run("NoName", func(t *testing.T) {
		p := b.post("/admin/venues", url.Values{"name": {"   "}, "address": {"北四环1号"}})
		if p.Status != http.StatusUnprocessableEntity || !refusedAt(p.Body, "name", "请填写名称") ||
			!strings.Contains(p.Body, `value="北四环1号"`) {
			t.Errorf("no name: %d\n%s", p.Status, p.Body)
		}
		if n := planningCount(a, t, "venues", "address = '北四环1号'"); n != 0 {
			t.Errorf("a refused venue was created")
		}
	})
	t.Run("CSRF", func(t *testing.T) {
		p := b.post("/admin/venues", url.Values{"_csrf": {"forged"}, "name": {"伪造考场"}})
		if p.Status != http.StatusForbidden || planningCount(a, t, "venues", "name = '伪造考场'") != 0 {
			t.Errorf("forged form: %d", p.Status)
		}
	})
}

// TestWebPlanningSlots: a scheduler publishes a slot through the form and
// finds it in the list of its day; the domain's refusals show next to the
// field that caused them and create nothing; the roster lists the priority
// lane first, marked, and shows names as text.
func TestWebPlanningSlots(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	b := planningBrowser(a, t, "scheduler")
	b.get("/admin/slots")
	d := a.Day(6).Format(time.DateOnly)
	form := func(over ...string) url.Values {
		f := url.Values{"venue_id": {fmt.Sprint(venue)}, "subject": {"3"}, "licence_class": {"C1"}, "date": {d},
			"starts_at": {"13:30"}, "ends_at": {"15:30"}, "capacity": {"12"}, "priority_reserved": {"2"},
			"reserve_release_at": {a.Day(5).Format(time.DateOnly) + "T12:00"}}
		for i := 0; i+1 < len(over); i += 2 {
			f.Set(over[i], over[i+1])
		}
		return f
	}

	t.Run("OK", func(t *testing.T) {
		p := b.post("/admin/slots", form())
		if p.URL != "/admin/slots?date="+d+"&done=slot_created" || !strings.Contains(p.Body, "考试场次已发布。") {
			t.Fatalf("create: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		var id int64
		var release time.Time
		if err := a.DB.QueryRow(`SELECT id, reserve_release_at FROM slots WHERE venue_id = $1 AND subject = 3 AND capacity = 12 AND priority_reserved = 2`, venue).Scan(&id, &release); err != nil {
			t.Fatal(err)
		}
		if want := a.Day(5).Add(12 * time.Hour); !release.Equal(want) {
			t.Errorf("release at %s, want %s", release, want)
		}
		row := rowOfTable(p.Body, fmt.Sprintf("slot-%d", id))
		for _, want := range []string{d + " 13:30–15:30", "科目三", "第一考场", "0/12", ">12<", "2/2", a.Day(5).Format(time.DateOnly) + "<br>12:00", "预约中"} {
			if !strings.Contains(row, want) {
				t.Errorf("row lacks %q: %s", want, row)
			}
		}
	})

	for name, tc := range map[string]struct {
		form        url.Values
		field, text string
		wantStatus  int
	}{
		"ReserveOverCapacity": {form("capacity", "3", "priority_reserved", "4"), "priority_reserved", "预留名额须在0和场次容量之间。", 422},
		"EndsBeforeStart":     {form("ends_at", "12:00"), "ends_at", "结束时间须晚于开始时间", 422},
		"Capacity":            {form("capacity", "很多"), "capacity", "请填写1到10000之间的整数。", 422},
		"Past":                {form("date", a.Day(-2).Format(time.DateOnly)), "ends_at", "结束时间须晚于开始时间、在同一天内，且该场次尚未结束。", 422},
		"UnknownClass":        {form("licence_class", "Z9"), "licence_class", "请选择准驾车型。", 422},
		"UnknownVenue":        {form("venue_id", "999999"), "venue_id", "请选择考场。", 422},
		"ReleaseAfterStart":   {form("reserve_release_at", d+"T14:00"), "reserve_release_at", "预留名额释放时间不能晚于考试开始时间。", 422},
	} {
		t.Run(name, func(t *testing.T) {
			before := planningCount(a, t, "slots", "true")
			p := b.post("/admin/slots", tc.form)
			if p.Status != tc.wantStatus || !refusedAt(p.Body, tc.field, tc.text) {
				t.Errorf("%d, want %d and %q next to %s\n%s", p.Status, tc.wantStatus, tc.text, tc.field, p.Body)
			}
			if after := planningCount(a, t, "slots", "true"); after != before {
				t.Errorf("a refused slot was created")
			}
			if !strings.Contains(p.Body, `value="`+tc.form.Get("capacity")+`"`) {
				t.Errorf("the form lost what was sent")
			}
		})
	}

	t.Run("Roster", func(t *testing.T) {
		slot := a.NewSlot(sched, venue, 2, 4, 9, nil)
		first := a.NewCandidate(sched, map[string]any{"name": `<script>alert(1)</script>`})
		lane := a.NewCandidate(sched, map[string]any{"name": "张优先"})
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), sched,
			map[string]any{"reason": "disability", "needs": []string{"step_free"}})
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", first.Token, map[string]any{"slot_ids": []int64{slot}})
		a.Must(http.StatusCreated, "POST", "/api/v1/bookings", lane.Token, map[string]any{"slot_ids": []int64{slot}})
		p := b.get(fmt.Sprintf("/admin/slots/%d", slot))
		if p.Status != http.StatusOK {
			t.Fatalf("roster: %d", p.Status)
		}
		i, j := strings.Index(p.Body, "张优先"), strings.Index(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;")
		if i < 0 || j < 0 || i > j {
			t.Errorf("the priority lane is not first (at %d, the other at %d)\n%s", i, j, p.Body)
		}
		if strings.Contains(p.Body, "<script>alert(1)") {
			t.Errorf("the name is not escaped")
		}
		if !strings.Contains(p.Body, `class="card lane-priority"`) || !strings.Contains(p.Body, `<span class="tag lane">绿色通道</span>`) ||
			!strings.Contains(p.Body, "无障碍考场") || strings.Contains(p.Body, lane.IDNo) {
			t.Errorf("the lane is not marked, or an ID number is shown whole:\n%s", p.Body)
		}
		if p := b.get("/admin/slots/999999"); p.Status != http.StatusNotFound {
			t.Errorf("unknown slot: %d", p.Status)
		}
	})

	t.Run("Filter", func(t *testing.T) {
		other := a.NewVenue(sched, false)
		s := a.NewSlot(sched, other, 4, 6, 16, nil)
		p := b.get(fmt.Sprintf("/admin/slots?date=%s&venue=%d&subject=4", d, other))
		if rowOfTable(p.Body, fmt.Sprintf("slot-%d", s)) == "" || strings.Count(p.Body, `<tr id="slot-`) != 1 {
			t.Errorf("filter: want slot %d only\n%s", s, p.Body)
		}
	})
}

// rowOfTable returns the HTML of the table row with id, "" without one.
func rowOfTable(body, id string) string {
	start := strings.Index(body, `<tr id="`+id+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</tr>")
	if end < 0 {
		return body[start:]
	}
	return body[start : start+end]
}

// TestWebPlanningCandidates: a scheduler registers a candidate who can then
// log in, finds them by ID number, grants and revokes the priority lane;
// refusals show next to their field and change nothing.
func TestWebPlanningCandidates(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := planningBrowser(a, t, "scheduler")
	b.get("/admin/candidates")
	idNo := testkit.IDNumber(900001)
	form := func(over ...string) url.Values {
		f := url.Values{"id_number": {strings.ToLower(idNo)}, "name": {`<script>alert(1)</script>`}, "phone": {"13912345678"},
			"licence_class": {"C2"}, "permit_issued_on": {a.Day(-30).Format(time.DateOnly)},
			"permit_expires_on": {a.Day(-30).AddDate(3, 0, 0).Format(time.DateOnly)}, "password": {"first-pw-1"}}
		for i := 0; i+1 < len(over); i += 2 {
			f.Set(over[i], over[i+1])
		}
		return f
	}

	for name, tc := range map[string]struct {
		form        url.Values
		field, text string
	}{
		"IDNumber":      {form("id_number", "110101199001011234"), "id_number", "请填写有效的18位居民身份证号码。"},
		"Phone":         {form("phone", "12345"), "phone", "请填写11位手机号码。"},
		"PermitTooLong": {form("permit_expires_on", a.Day(-30).AddDate(4, 0, 0).Format(time.DateOnly)), "permit_expires_on", "有效期须晚于签发日期，且最长3年。"},
		"IssuedDate":    {form("permit_issued_on", "昨天"), "permit_issued_on", "请填写签发日期"},
		"Password":      {form("password", "short"), "password", "初始密码须为8到72个字符。"},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.post("/admin/candidates", tc.form)
			if p.Status != http.StatusUnprocessableEntity || !refusedAt(p.Body, tc.field, tc.text) {
				t.Errorf("%d, want 422 and %q next to %s\n%s", p.Status, tc.text, tc.field, p.Body)
			}
			if strings.Contains(p.Body, tc.form.Get("password")) {
				t.Errorf("the password was sent back")
			}
			if n := planningCount(a, t, "users", "role = 'candidate'"); n != 0 {
				t.Errorf("a refused candidate was created")
			}
		})
	}

	var id int64
	t.Run("OK", func(t *testing.T) {
		p := b.post("/admin/candidates", form())
		if err := a.DB.Get(&id, `SELECT id FROM candidates WHERE id_number = $1`, idNo); err != nil {
			t.Fatalf("not created: %v\n%s", err, p.Body)
		}
		if p.URL != fmt.Sprintf("/admin/candidates/%d?done=candidate_created", id) || !strings.Contains(p.Body, "考生已登记") {
			t.Fatalf("create: at %s\n%s", p.URL, p.Body)
		}
		// Staff see the profile as the API shows it to them: the whole ID number.
		if !strings.Contains(p.Body, "<dd>"+idNo+"</dd>") || !strings.Contains(p.Body, "<dd>13912345678</dd>") {
			t.Errorf("profile:\n%s", p.Body)
		}
		if !strings.Contains(p.Body, `<dd id="candidate-name">&lt;script&gt;alert(1)&lt;/script&gt;</dd>`) || strings.Contains(p.Body, "<script>alert(1)") {
			t.Errorf("the name is not escaped:\n%s", p.Body)
		}
		a.Login(idNo, "first-pw-1") // the account works with the password set
	})
	t.Run("Duplicate", func(t *testing.T) {
		p := b.post("/admin/candidates", form("name", "重复"))
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-id_number" role="alert">该身份证号码已登记考生信息`) {
			t.Errorf("duplicate: %d\n%s", p.Status, p.Body)
		}
	})
	t.Run("Find", func(t *testing.T) {
		for _, q := range []string{strings.ToLower(idNo), fmt.Sprint(id)} {
			if p := b.get("/admin/candidates?q=" + url.QueryEscape(q)); p.URL != fmt.Sprintf("/admin/candidates/%d", id) {
				t.Errorf("find %q: at %s", q, p.URL)
			}
		}
		p := b.get("/admin/candidates?q=" + testkit.IDNumber(900002))
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, `id="err-q" role="alert">没有找到该考生`) {
			t.Errorf("not found: %d\n%s", p.Status, p.Body)
		}
		if p := b.get("/admin/candidates/999999"); p.Status != http.StatusNotFound {
			t.Errorf("unknown candidate page: %d", p.Status)
		}
	})
	t.Run("Grant", func(t *testing.T) {
		path := fmt.Sprintf("/admin/candidates/%d", id)
		b.get(path)
		p := b.post(path+"/priority", url.Values{"needs": {"escort"}, "note": {"<i>x</i>"}})
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-reason" role="alert">请选择申请原因。`) ||
			!strings.Contains(p.Body, `id="need-escort" name="needs" value="escort" checked`) || !strings.Contains(p.Body, "&lt;i&gt;x&lt;/i&gt;</textarea>") {
			t.Errorf("no reason: %d\n%s", p.Status, p.Body)
		}
		if planningCount(a, t, "priority_grants", "candidate_id = $1", id) != 0 {
			t.Fatalf("a refused grant was made")
		}
		p = b.post(path+"/priority", url.Values{"reason": {"elderly"}, "needs": {"extra_time", "escort"}, "note": {"八十岁"}})
		if p.URL != path+"?done=lane_granted" || !strings.Contains(p.Body, "已开通绿色通道。") || !strings.Contains(p.Body, "已开通（高龄）") {
			t.Fatalf("grant: at %s\n%s", p.URL, p.Body)
		}
		r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/candidates/%d", id), a.Admin, nil)
		if pr, _ := r.Body["priority"].(map[string]any); pr == nil || pr["reason"] != "elderly" || fmt.Sprint(pr["needs"]) != "[extra_time escort]" {
			t.Errorf("the API's candidate: %s", r.Raw)
		}
		p = b.post(path+"/priority/revoke", nil)
		if p.URL != path+"?done=lane_revoked" || !strings.Contains(p.Body, "未开通绿色通道。") {
			t.Errorf("revoke: at %s\n%s", p.URL, p.Body)
		}
		if planningCount(a, t, "priority_grants", "candidate_id = $1 AND revoked_at IS NULL", id) != 0 {
			t.Errorf("the grant is still active")
		}
	})
}

// TestWebPlanningLaneRequests: a candidate asks for the lane on their page;
// staff see the request, grant it (the grant has the request's reason and
// needs, the request is marked granted by them) or decline it; deciding a
// decided request shows the domain's refusal in Chinese.
func TestWebPlanningLaneRequests(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	ask := func(name, reason string, needs ...string) (servertest.Candidate, int64) {
		t.Helper()
		c := a.NewCandidate(sched, map[string]any{"name": name})
		cb := newBrowser(a, t)
		cb.logIn(c.IDNo, "candidate-pw", "/candidate")
		cb.get("/candidate/priority")
		if p := cb.post("/candidate/priority", url.Values{"reason": {reason}, "needs": needs, "note": {"需要轮椅"}}); p.URL != "/candidate/priority?done=lane_requested" {
			t.Fatalf("request: at %s", p.URL)
		}
		var id int64
		if err := a.DB.Get(&id, `SELECT id FROM priority_requests WHERE candidate_id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		return c, id
	}
	c1, r1 := ask("李轮椅", "disability", "step_free", "adapted_vehicle")
	c2, r2 := ask(`<script>alert(2)</script>`, "pregnancy")
	staff := planningUser(a, "scheduler")
	b := newBrowser(a, t)
	b.get("/login")
	b.post("/login", url.Values{"username": {staff}, "password": {"staff-secret"}})
	p := b.get("/admin/candidates")
	row := rowOf(p.Body, fmt.Sprintf("request-%d", r1))
	if !strings.Contains(row, "李轮椅") || !strings.Contains(row, "残疾人") || !strings.Contains(row, "无障碍考场、专用改装车") || strings.Contains(row, c1.IDNo) {
		t.Errorf("request row: %s", row)
	}
	if strings.Contains(p.Body, "<script>alert(2)") || !strings.Contains(p.Body, "&lt;script&gt;alert(2)&lt;/script&gt;") {
		t.Errorf("the name is not escaped")
	}

	p = b.post(fmt.Sprintf("/admin/lane-requests/%d/grant", r1), nil)
	if p.URL != "/admin/candidates?done=request_granted" || !strings.Contains(p.Body, "已批准申请") || rowOf(p.Body, fmt.Sprintf("request-%d", r1)) != "" {
		t.Fatalf("grant: at %s\n%s", p.URL, p.Body)
	}
	var decided string
	if err := a.DB.Get(&decided, `SELECT r.status || ':' || u.username FROM priority_requests r JOIN users u ON u.id = r.decided_by WHERE r.id = $1`, r1); err != nil || decided != "granted:"+staff {
		t.Errorf("request %q (%v), want granted by %s", decided, err, staff)
	}
	r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/candidates/%d", c1.ID), sched, nil)
	if pr, _ := r.Body["priority"].(map[string]any); pr == nil || pr["reason"] != "disability" || fmt.Sprint(pr["needs"]) != "[step_free adapted_vehicle]" || pr["note"] != "需要轮椅" {
		t.Errorf("grant: %s", r.Raw)
	}

	// Someone else decided r1 already: the second decision is refused.
	p = b.post(fmt.Sprintf("/admin/lane-requests/%d/decline", r1), nil)
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `role="alert" data-code="request_decided">该申请已由其他工作人员处理`) {
		t.Errorf("decide twice: %d\n%s", p.Status, p.Body)
	}
	if planningCount(a, t, "priority_requests", "id = $1 AND status = 'granted'", r1) != 1 {
		t.Errorf("the refused decline changed the request")
	}

	// From the candidate's page, back to it.
	p = b.get(fmt.Sprintf("/admin/candidates/%d", c2.ID))
	if !strings.Contains(p.Body, fmt.Sprintf(`action="/admin/lane-requests/%d/decline"`, r2)) || !strings.Contains(p.Body, `id="reason-pregnancy" name="reason" value="pregnancy" required checked`) {
		t.Errorf("the candidate page lacks the request:\n%s", p.Body)
	}
	if !strings.Contains(p.Body, fmt.Sprintf(`id="decline-reason-%d" name="decline_reason"`, r2)) {
		t.Errorf("the decline form asks no reason")
	}
	if p := b.post(fmt.Sprintf("/admin/lane-requests/%d/decline", r2), url.Values{"back": {fmt.Sprint(c2.ID)}, "decline_reason": {strings.Repeat("理", 501)}}); p.Status != http.StatusUnprocessableEntity ||
		planningCount(a, t, "priority_requests", "id = $1 AND status = 'pending'", r2) != 1 {
		t.Errorf("a 501-character reason: %d, or the request was decided", p.Status)
	}
	const why = "  请携带<b>残疾人证</b>到窗口办理  "
	p = b.post(fmt.Sprintf("/admin/lane-requests/%d/decline", r2), url.Values{"back": {fmt.Sprint(c2.ID)}, "decline_reason": {why}})
	if p.URL != fmt.Sprintf("/admin/candidates/%d?done=request_declined", c2.ID) || !strings.Contains(p.Body, "已驳回该申请。") {
		t.Errorf("decline: at %s", p.URL)
	}
	if planningCount(a, t, "priority_requests", "id = $1 AND status = 'declined' AND decline_reason = '请携带<b>残疾人证</b>到窗口办理'", r2) != 1 || planningCount(a, t, "priority_grants", "candidate_id = $1", c2.ID) != 0 {
		t.Errorf("decline did not decline with its reason trimmed, or granted")
	}
	// The candidate reads the outcome and the reason, escaped, on the journey.
	cb := newBrowser(a, t)
	if j := cb.logInTo(c2.IDNo, "candidate-pw", "/candidate"); !strings.Contains(j.Body, `data-status="declined"`) ||
		!strings.Contains(j.Body, "理由：请携带&lt;b&gt;残疾人证&lt;/b&gt;到窗口办理") {
		t.Errorf("the journey does not show the declined request's reason:\n%s", j.Body)
	}
	if p := b.post("/admin/lane-requests/999999/grant", nil); p.Status != http.StatusNotFound {
		t.Errorf("unknown request: %d", p.Status)
	}
}
