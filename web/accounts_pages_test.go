package web_test

import (
	"crypto/sha256"
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// accountsAdmin is a browser logged in as the admin.
func accountsAdmin(a *servertest.App, t *testing.T) *browser {
	t.Helper()
	b := newBrowser(a, t)
	b.logIn("admin", servertest.AdminPassword, "/admin/slots")
	return b
}

// accountsRow returns the HTML of the table row with id, "" when there is none.
func accountsRow(body, id string) string {
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

// accountsCount counts the rows of a query, such as the users or the devices.
func accountsCount(a *servertest.App, t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWebAccountsUsers: the admin creates an examiner through the form, who
// then logs in; refusals show in Chinese next to their field, with a 4xx,
// and create nothing; no page shows a password; names are escaped.
func TestWebAccountsUsers(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	venue := a.NewVenue(a.Admin, false)
	b := accountsAdmin(a, t)

	p := b.get("/admin/users")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `data-page="admin_users"`) || !strings.Contains(p.Body, "新建工作人员账号") ||
		!strings.Contains(p.Body, fmt.Sprintf(`<option value="%d">第一考场</option>`, venue)) {
		t.Fatalf("users page: %d\n%s", p.Status, p.Body)
	}
	p = b.post("/admin/users", url.Values{"username": {"zhang.kaoshi"}, "password": {"kaoshi-pw-1"},
		"role": {"examiner"}, "venue_id": {fmt.Sprint(venue)}})
	if p.Status != http.StatusOK || p.URL != "/admin/users?done=user_created" || !strings.Contains(p.Body, "用户已创建") {
		t.Fatalf("create: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM users WHERE username = 'zhang.kaoshi' AND role = 'examiner' AND venue_id = $1`, venue); err != nil {
		t.Fatalf("the examiner is not in the database with their venue: %v", err)
	}
	row := accountsRow(p.Body, fmt.Sprintf("user-%d", id))
	for _, want := range []string{"zhang.kaoshi", "考试员", "第一考场"} {
		if !strings.Contains(row, want) {
			t.Errorf("the list's row lacks %q: %s", want, row)
		}
	}
	if strings.Contains(p.Body, "kaoshi-pw-1") {
		t.Errorf("the page shows the password")
	}
	if r := accountsRow(p.Body, "user-1"); !strings.Contains(r, "admin") || !strings.Contains(r, "管理员") {
		t.Errorf("the admin's row: %s", r)
	}

	t.Run("LogIn", func(t *testing.T) {
		nb := newBrowser(a, t)
		p := nb.logIn("zhang.kaoshi", "kaoshi-pw-1", "/examiner")
		if !strings.Contains(p.Body, `data-page="examiner"`) {
			t.Errorf("the new user's home:\n%s", p.Body)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		users := accountsCount(a, t, `SELECT count(*) FROM users`)
		entries := accountsCount(a, t, `SELECT count(*) FROM audit_log`)
		for name, tc := range map[string]struct {
			form   url.Values
			status int
			field  string
			msg    string
		}{
			"Duplicate":       {url.Values{"username": {"zhang.kaoshi"}, "role": {"issuer"}}, http.StatusConflict, "username", "该用户名已被使用，请换一个。"},
			"WeakPassword":    {url.Values{"username": {"wang.zz"}, "password": {"short"}, "role": {"issuer"}}, http.StatusUnprocessableEntity, "password", "密码至少8个字符，最长72字节。"},
			"NoVenue":         {url.Values{"username": {"wang.zz"}, "role": {"examiner"}}, http.StatusUnprocessableEntity, "venue_id", "考试员必须选择所在考场。"},
			"UnknownVenue":    {url.Values{"username": {"wang.zz"}, "role": {"examiner"}, "venue_id": {"99999"}}, http.StatusUnprocessableEntity, "venue_id", "请从列表中选择考场。"},
			"BadVenue":        {url.Values{"username": {"wang.zz"}, "role": {"examiner"}, "venue_id": {"x"}}, http.StatusUnprocessableEntity, "venue_id", "请从列表中选择考场。"},
			"Spaces":          {url.Values{"username": {"wang zz"}, "role": {"issuer"}}, http.StatusUnprocessableEntity, "username", "请填写用户名：最多64个字符，不能包含空格。"},
			"NoUsername":      {url.Values{"username": {""}, "role": {"issuer"}}, http.StatusUnprocessableEntity, "username", "请填写用户名：最多64个字符，不能包含空格。"},
			"CandidateRole":   {url.Values{"username": {"wang.zz"}, "role": {"candidate"}}, http.StatusUnprocessableEntity, "role", "请从列表中选择角色。"},
			"LongDesk":        {url.Values{"username": {"wang.zz"}, "role": {"issuer"}, "desk": {strings.Repeat("窗", 33)}}, http.StatusUnprocessableEntity, "desk", "窗口名称最多32个字。"},
			"UnknownRoleOnly": {url.Values{"username": {"wang.zz"}, "role": {"root"}}, http.StatusUnprocessableEntity, "role", "请从列表中选择角色。"},
		} {
			t.Run(name, func(t *testing.T) {
				if !tc.form.Has("password") {
					tc.form.Set("password", "a-secret-password-9")
				}
				b.get("/admin/users")
				p := b.post("/admin/users", tc.form)
				if p.Status != tc.status {
					t.Errorf("got %d, want %d", p.Status, tc.status)
				}
				if want := fmt.Sprintf(`<p class="refusal" id="err-%s" role="alert">%s</p>`, tc.field, tc.msg); !strings.Contains(p.Body, want) {
					t.Errorf("the page lacks %s\n%s", want, p.Body)
				}
				if !regexp.MustCompile(`aria-describedby="[^"]*\berr-` + tc.field + `"[^>]*aria-invalid="true"|aria-invalid="true" aria-describedby="err-` + tc.field + `"`).MatchString(p.Body) {
					t.Errorf("the field %s is not marked invalid and described by its message", tc.field)
				}
				if strings.Contains(p.Body, tc.form.Get("password")) {
					t.Errorf("the page shows the password back")
				}
				if u := tc.form.Get("username"); tc.field != "username" && !strings.Contains(p.Body, `value="`+u+`"`) {
					t.Errorf("the form lost the username %q", u)
				}
			})
		}
		// NUL is no text: every page refuses it before the form is read,
		// with the pages' message (textOnly).
		b.get("/admin/users")
		if p := b.post("/admin/users", url.Values{"username": {"wang\x00zz"}, "password": {"a-secret-password-9"}, "role": {"issuer"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "提交的内容无效") {
			t.Errorf("NUL in the username: %d\n%s", p.Status, p.Body)
		}
		if n := accountsCount(a, t, `SELECT count(*) FROM users`); n != users {
			t.Errorf("%d users after the refusals, want %d", n, users)
		}
		if n := accountsCount(a, t, `SELECT count(*) FROM audit_log`); n != entries {
			t.Errorf("%d audit entries after the refusals, want %d", n, entries)
		}
	})

	t.Run("Escaped", func(t *testing.T) {
		b.get("/admin/users")
		p := b.post("/admin/users", url.Values{"username": {"<script>alert(1)</script>"}, "password": {"a-secret-password-9"},
			"role": {"issuer"}, "desk": {"<b>3号窗口</b>"}})
		if p.URL != "/admin/users?done=user_created" {
			t.Fatalf("create: %d at %s", p.Status, p.URL)
		}
		if strings.Contains(p.Body, "<script>alert(1)") || strings.Contains(p.Body, "<b>3号") ||
			!strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(p.Body, "&lt;b&gt;3号窗口&lt;/b&gt;") {
			t.Errorf("the username or desk is not escaped:\n%s", p.Body)
		}
	})
}

var deviceKeyInput = regexp.MustCompile(`id="device-key" class="key" type="text" value="([^"]+)"`)

// TestWebAccountsDevices: a device registered through the form gets a key
// shown once, on the page that answers the form; the key works for the
// device's API and is on no later page; retiring needs the row's
// confirmation and stops the key.
func TestWebAccountsDevices(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	venue := a.NewVenue(a.Admin, false)
	b := accountsAdmin(a, t)
	if p := b.get("/admin/devices"); p.Status != http.StatusOK || !strings.Contains(p.Body, "还没有登记设备") {
		t.Fatalf("devices page: %d\n%s", p.Status, p.Body)
	}
	p := b.post("/admin/devices", url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 7号"},
		"vehicle_plate": {"京A7777学"}, "subjects": {"2", "3"}, "licence_classes": {"c1, C2"}, "adapted_vehicle": {"1"}})
	if p.Status != http.StatusOK || p.URL != "/admin/devices" || !strings.Contains(p.Body, "此密钥只显示一次") {
		t.Fatalf("register: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	m := deviceKeyInput.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", p.Body)
	}
	key := m[1]
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM devices WHERE key_hash = $1 AND name = '考试车 7号' AND venue_id = $2
		AND subjects = '{2,3}' AND licence_classes = '{C1,C2}' AND adapted_vehicle`, accountsKeyHash(key), venue); err != nil {
		t.Fatalf("the device is not stored under the key's hash: %v", err)
	}
	if r := a.Do("POST", "/api/v1/exam/events", "", map[string]any{}, "Authorization", "Device "+key); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("an empty event with the key: %d %s, want 422 (authenticated, then refused)", r.Status, r.Raw)
	}
	if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+key); r.Status != http.StatusOK {
		t.Errorf("the rules with the key: %d", r.Status)
	}

	p = b.get("/admin/devices")
	row := accountsRow(p.Body, fmt.Sprintf("device-%d", id))
	if strings.Contains(p.Body, key) || strings.Contains(p.Body, "此密钥只显示一次") {
		t.Errorf("the list shows the key again")
	}
	for _, want := range []string{"考试车 7号", "第一考场", "科目二、科目三", "京A7777学", "C1、C2", "改装车", "在用", "停用设备"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row lacks %q: %s", want, row)
		}
	}

	t.Run("Refused", func(t *testing.T) {
		devices := accountsCount(a, t, `SELECT count(*) FROM devices`)
		for name, tc := range map[string]struct {
			form  url.Values
			field string
			msg   string
		}{
			"NoVenue":      {url.Values{"name": {"考试车 8号"}}, "venue_id", "请从列表中选择考场。"},
			"UnknownVenue": {url.Values{"venue_id": {"99999"}, "name": {"考试车 8号"}, "subjects": {"2"}, "licence_classes": {"C1"}}, "venue_id", "请从列表中选择考场。"},
			"NoName":       {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"  "}}, "name", "请填写设备名称，最多100字节（约33个汉字）。"},
			"LongPlate":    {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "vehicle_plate": {"京A12345678901234567学"}}, "vehicle_plate", "车牌号最多20字节。"},
			"Classes":      {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "subjects": {"2"}, "licence_classes": {"C1C2C3C4C5"}}, "licence_classes", "准驾车型请填写如 C1 C2，每个最多8个字符，用空格或逗号分隔。"},
			"NoClasses":    {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "subjects": {"2"}}, "licence_classes", "准驾车型请填写如 C1 C2，每个最多8个字符，用空格或逗号分隔。"},
			// ED-ATTEMPT: a car serves subject 2, 3 or both; a theory terminal 4 alone.
			"NoSubjects":    {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "licence_classes": {"C1"}}, "subjects", "请勾选考试科目：考试车选科目二、科目三或两者，理论考试终端只选科目四。"},
			"TheoryAndRoad": {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "subjects": {"3", "4"}, "licence_classes": {"C1"}}, "subjects", "请勾选考试科目：考试车选科目二、科目三或两者，理论考试终端只选科目四。"},
			"NotASubject":   {url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"考试车 8号"}, "subjects": {"二"}, "licence_classes": {"C1"}}, "subjects", "请勾选考试科目：考试车选科目二、科目三或两者，理论考试终端只选科目四。"},
		} {
			t.Run(name, func(t *testing.T) {
				b.get("/admin/devices")
				p := b.post("/admin/devices", tc.form)
				if p.Status != http.StatusUnprocessableEntity {
					t.Errorf("got %d, want 422", p.Status)
				}
				if want := fmt.Sprintf(`<p class="refusal" id="err-%s" role="alert">%s</p>`, tc.field, tc.msg); !strings.Contains(p.Body, want) {
					t.Errorf("the page lacks %s\n%s", want, p.Body)
				}
				if deviceKeyInput.MatchString(p.Body) {
					t.Errorf("a refused device got a key")
				}
			})
		}
		if n := accountsCount(a, t, `SELECT count(*) FROM devices`); n != devices {
			t.Errorf("%d devices after the refusals, want %d", n, devices)
		}
	})

	t.Run("Retire", func(t *testing.T) {
		path := fmt.Sprintf("/admin/devices/%d/retire", id)
		b.get("/admin/devices")
		p := b.post(path, nil)
		if p.Status != http.StatusUnprocessableEntity || !strings.Contains(accountsRow(p.Body, fmt.Sprintf("device-%d", id)),
			fmt.Sprintf(`id="err-device-%d" role="alert" data-code="confirm">请先勾选“确认停用”`, id)) {
			t.Errorf("retire unconfirmed: %d\n%s", p.Status, p.Body)
		}
		if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+key); r.Status != http.StatusOK {
			t.Errorf("the key after an unconfirmed retire: %d, want it still working", r.Status)
		}
		p = b.post(path, url.Values{"confirm": {"1"}})
		if p.URL != "/admin/devices?done=device_retired" || !strings.Contains(p.Body, "设备已停用") {
			t.Fatalf("retire: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		if row := accountsRow(p.Body, fmt.Sprintf("device-%d", id)); !strings.Contains(row, "已于") || strings.Contains(row, "<form") {
			t.Errorf("the retired row: %s", row)
		}
		if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+key); r.Status != http.StatusUnauthorized {
			t.Errorf("the retired key: %d, want 401", r.Status)
		}
		p = b.post(path, url.Values{"confirm": {"1"}})
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "该设备不存在或已停用") {
			t.Errorf("retire twice: %d\n%s", p.Status, p.Body)
		}
		if p := b.post("/admin/devices/abc/retire", url.Values{"confirm": {"1"}}); p.Status != http.StatusNotFound {
			t.Errorf("retire device abc: %d", p.Status)
		}
	})

	t.Run("Escaped", func(t *testing.T) {
		b.get("/admin/devices")
		p := b.post("/admin/devices", url.Values{"venue_id": {fmt.Sprint(venue)}, "name": {"<script>alert(1)</script>"}, "vehicle_plate": {"<i>京A</i>"},
			"subjects": {"4"}, "licence_classes": {"C1"}})
		if p.Status != http.StatusOK {
			t.Fatalf("register: %d", p.Status)
		}
		for _, page := range []webPage{p, b.get("/admin/devices")} {
			if strings.Contains(page.Body, "<script>alert(1)") || strings.Contains(page.Body, "<i>京A") ||
				!strings.Contains(page.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("the name or plate is not escaped:\n%s", page.Body)
			}
		}
	})
}

func accountsKeyHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// TestWebAccountsAudit: the audit page lists the user created through the
// form with its actor, newest first, by the API's filters, a page at a time,
// with Chinese action names (the raw action for one without), and checks the
// chain on request.
func TestWebAccountsAudit(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	b := accountsAdmin(a, t)
	b.get("/admin/users")
	if p := b.post("/admin/users", url.Values{"username": {"li.zhizheng"}, "password": {"zhizheng-pw-1"}, "role": {"issuer"}}); p.URL != "/admin/users?done=user_created" {
		t.Fatalf("create: %d at %s", p.Status, p.URL)
	}
	var user int64
	if err := a.DB.Get(&user, `SELECT id FROM users WHERE username = 'li.zhizheng'`); err != nil {
		t.Fatal(err)
	}
	venue := a.NewVenue(a.Admin, false)
	a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{"venue_id": venue, "name": "考试车 1号", "subjects": []int{2}, "licence_classes": []string{"C1"}})
	if _, err := a.DB.Exec(`INSERT INTO audit_log (actor_kind, action, subject) VALUES ('system', 'thing.changed', 'thing:1')`); err != nil {
		t.Fatal(err)
	}

	p := b.get("/admin/audit")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `data-page="admin_audit"`) {
		t.Fatalf("audit page: %d\n%s", p.Status, p.Body)
	}
	rows := regexp.MustCompile(`<tr id="entry-(\d+)"`).FindAllStringSubmatch(p.Body, -1)
	if len(rows) != 3 || rows[0][1] != "3" || rows[2][1] != "1" {
		t.Fatalf("entries %v, want 3, 2, 1 (newest first)", rows)
	}
	created := accountsRow(p.Body, "entry-1")
	for _, want := range []string{"创建用户", "<code>user.created</code>", ">admin<", fmt.Sprintf("user:%d", user), "li.zhizheng"} {
		if !strings.Contains(created, want) {
			t.Errorf("the user's creation lacks %q: %s", want, created)
		}
	}
	if r := accountsRow(p.Body, "entry-2"); !strings.Contains(r, "登记设备并签发密钥") {
		t.Errorf("the device's registration: %s", r)
	}
	if r := accountsRow(p.Body, "entry-3"); !strings.Contains(r, "<code>thing.changed</code>") || !strings.Contains(r, "系统") {
		t.Errorf("an action without a name: %s", r)
	}

	for name, tc := range map[string]struct {
		query string
		want  []string
	}{
		"Action":   {"action=user.created", []string{"1"}},
		"Actor":    {"actor=user:1", []string{"2", "1"}},
		"System":   {"actor=system", []string{"3"}},
		"Subject":  {fmt.Sprintf("subject=user:%d", user), []string{"1"}},
		"Days":     {"from=2001-01-01&to=2001-01-31", nil},
		"NoAction": {"action=device.retired", nil},
	} {
		p := b.get("/admin/audit?" + tc.query)
		var got []string
		for _, m := range regexp.MustCompile(`<tr id="entry-(\d+)"`).FindAllStringSubmatch(p.Body, -1) {
			got = append(got, m[1])
		}
		if p.Status != http.StatusOK || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: %d entries %v, want %v", name, p.Status, got, tc.want)
		}
		if tc.want == nil && !strings.Contains(p.Body, "没有符合条件的记录") {
			t.Errorf("%s: no empty message", name)
		}
	}

	t.Run("Paging", func(t *testing.T) {
		p := b.get("/admin/audit?limit=2")
		next := regexp.MustCompile(`href="([^"]*)" id="next-page"`).FindStringSubmatch(p.Body)
		if next == nil || accountsRow(p.Body, "entry-3") == "" || accountsRow(p.Body, "entry-1") != "" {
			t.Fatalf("first page of 2:\n%s", p.Body)
		}
		p = b.get(accountsUnescape(next[1]))
		if accountsRow(p.Body, "entry-1") == "" || accountsRow(p.Body, "entry-2") != "" || strings.Contains(p.Body, `id="next-page"`) ||
			!strings.Contains(p.Body, `id="first-page"`) {
			t.Errorf("second page (%s):\n%s", next[1], p.Body)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct{ query, field string }{
			{"from=yesterday", "from"}, {"from=2026-03-02&to=2026-03-01", "to"}, {"actor=robot:1", "actor"},
		} {
			p := b.get("/admin/audit?" + tc.query)
			if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-`+tc.field+`" role="alert"`) {
				t.Errorf("%s: %d\n%s", tc.query, p.Status, p.Body)
			}
		}
		if p := b.get("/admin/audit?after=x"); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "翻页参数无效") {
			t.Errorf("after=x: %d", p.Status)
		}
	})

	t.Run("Verify", func(t *testing.T) {
		p := b.get("/admin/audit?verify=1")
		if !strings.Contains(p.Body, "审计链完整：3 条记录") {
			t.Errorf("verify:\n%s", p.Body)
		}
		if strings.Contains(b.get("/admin/audit").Body, `id="chain"`) {
			t.Errorf("the chain is checked without being asked")
		}
	})
}

func accountsUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

// TestWebAccountsForbidden: only the admin reads or changes accounts,
// devices and the log: other staff and candidates get 403 and change
// nothing; without a session the pages send to the login page.
func TestWebAccountsForbidden(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	c := a.NewCandidate(sched, nil)
	for _, role := range []string{"scheduler", "examiner", "issuer"} {
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "web-" + role, "password": "staff-secret", "role": role})
	}
	venue := a.NewVenue(sched, false)
	device := a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{"venue_id": venue, "name": "考试车 1号", "subjects": []int{2}, "licence_classes": []string{"C1"}}).ID()
	users, devices := accountsCount(a, t, `SELECT count(*) FROM users`), accountsCount(a, t, `SELECT count(*) FROM devices`)

	logins := map[string][2]string{
		"scheduler": {"web-scheduler", "/admin/slots"}, "examiner": {"web-examiner", "/examiner"}, "issuer": {"web-issuer", "/desk"},
		"candidate": {c.IDNo, "/candidate"},
	}
	for role, l := range logins {
		t.Run(role, func(t *testing.T) {
			b := newBrowser(a, t)
			password := "staff-secret"
			if role == "candidate" {
				password = "candidate-pw"
			}
			b.logIn(l[0], password, l[1])
			for _, path := range []string{"/admin/users", "/admin/devices", "/admin/audit"} {
				if p := b.get(path); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "您没有权限查看此页面") {
					t.Errorf("GET %s: %d", path, p.Status)
				}
			}
			for path, form := range map[string]url.Values{
				"/admin/users":   {"username": {"sneaky"}, "password": {"sneaky-password"}, "role": {"admin"}},
				"/admin/devices": {"venue_id": {fmt.Sprint(venue)}, "name": {"sneaky"}},
				fmt.Sprintf("/admin/devices/%d/retire", device): {"confirm": {"1"}},
			} {
				b.get(l[1]) // a fresh CSRF token: the refusal is the role's
				if p := b.post(path, form); p.Status != http.StatusForbidden {
					t.Errorf("POST %s: %d", path, p.Status)
				}
			}
		})
	}
	if n, m := accountsCount(a, t, `SELECT count(*) FROM users`), accountsCount(a, t, `SELECT count(*) FROM devices WHERE retired_at IS NULL`); n != users || m != devices {
		t.Errorf("%d users and %d active devices after the refusals, want %d and %d", n, m, users, devices)
	}

	b := newBrowser(a, t)
	if p := b.get("/admin/devices"); p.URL != "/login?next=%2Fadmin%2Fdevices" {
		t.Errorf("without a session: at %s", p.URL)
	}
}

// TestWebAccountsCSRF: the account forms need the CSRF token.
func TestWebAccountsCSRF(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	venue := a.NewVenue(a.Admin, false)
	device := a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{"venue_id": venue, "name": "考试车 1号", "subjects": []int{2}, "licence_classes": []string{"C1"}}).ID()
	b := accountsAdmin(a, t)
	users := accountsCount(a, t, `SELECT count(*) FROM users`)
	for name, tc := range map[string]struct {
		token  string
		header []string
	}{
		"Missing":   {"", nil},
		"Wrong":     {"not-the-token", nil},
		"CrossSite": {"", []string{"Sec-Fetch-Site", "cross-site"}},
	} {
		t.Run(name, func(t *testing.T) {
			b.get("/admin/users")
			form := func(v url.Values) url.Values {
				if tc.header == nil {
					v.Set("_csrf", tc.token)
				}
				return v
			}
			for path, v := range map[string]url.Values{
				"/admin/users":   {"username": {"forged"}, "password": {"forged-password"}, "role": {"admin"}},
				"/admin/devices": {"venue_id": {fmt.Sprint(venue)}, "name": {"forged"}},
				fmt.Sprintf("/admin/devices/%d/retire", device): {"confirm": {"1"}},
			} {
				p := b.post(path, form(v), tc.header...)
				// A cross-site form is refused before its token is read, as forbidden.
				if p.Status != http.StatusForbidden || tc.header == nil && !strings.Contains(p.Body, "页面已过期") || deviceKeyInput.MatchString(p.Body) {
					t.Errorf("POST %s: %d\n%s", path, p.Status, p.Body)
				}
			}
		})
	}
	if n := accountsCount(a, t, `SELECT count(*) FROM users`); n != users {
		t.Errorf("%d users, want %d", n, users)
	}
	if n := accountsCount(a, t, `SELECT count(*) FROM devices WHERE retired_at IS NULL AND name = '考试车 1号'`); n != 1 {
		t.Errorf("forged forms changed the devices")
	}
	if n := accountsCount(a, t, `SELECT count(*) FROM devices`); n != 1 {
		t.Errorf("%d devices, want 1", n)
	}
}
