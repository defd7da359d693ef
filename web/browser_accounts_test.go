package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAccountsDevice: the admin registers a device through the
// form, sees its key once, goes back to the list where the key is no more,
// and retires the device with the row's confirmation. Staff names are
// shown as text, and every account page passes checkPage at 1280 and at
// 375 px wide.
func TestBrowserAccountsDevice(t *testing.T) {
	a := servertest.Start(t)
	venue := a.NewVenue(a.Admin, false)
	evil := `<script>alert(1)</script><img/src=x/onerror=alert(2)>`
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": evil, "password": "staff-secret", "role": "issuer"})
	tb := openTab(a, t, 1280, 900)
	dialogs := tb.dialogs()

	tb.logIn("admin", servertest.AdminPassword, "admin_slots")
	tb.open("/admin/devices", "admin_devices")
	tb.checkPage()
	tb.do("fill in the device",
		chromedp.SetValue(chromedp.CSS("#d-venue"), fmt.Sprint(venue)),
		chromedp.SetValue(chromedp.CSS("#d-name"), "考试车 9号"),
		chromedp.SetValue(chromedp.CSS("#d-plate"), "京A9999学"),
		chromedp.Click(chromedp.CSS("#d-subject-2")),
		chromedp.Click(chromedp.CSS("#d-subject-3")),
		chromedp.SendKeys(chromedp.CSS("#d-classes"), "c1 c2"),
		chromedp.Click(chromedp.CSS("#d-adapted")),
	)
	tb.click(`#new-device button[type="submit"]`, "#device-key")
	key := eval[string](tb, `document.querySelector('#device-key').value`)
	if len(key) < 40 {
		t.Fatalf("key %q", key)
	}
	if got := tb.text("#once"); !strings.HasPrefix(got, "此密钥只显示一次") {
		t.Errorf("the warning says %q", got)
	}
	if got := tb.text("#issued h2"); got != "设备“考试车 9号”已登记" {
		t.Errorf("the heading says %q", got)
	}
	tb.checkPage()
	if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+key); r.Status != http.StatusOK {
		t.Errorf("the key shown: %d on the device API", r.Status)
	}

	tb.do("back to the list", chromedp.Click(chromedp.CSS("#done")),
		chromedp.WaitNotPresent(chromedp.CSS("#issued")), chromedp.WaitReady(chromedp.CSS("#devices")))
	if strings.Contains(eval[string](tb, `document.documentElement.outerHTML`), key) {
		t.Errorf("the list shows the key again")
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM devices WHERE name = '考试车 9号'`); err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf("#device-%d", id)
	if got := tb.text(row); !strings.Contains(got, "科目二、科目三") || !strings.Contains(got, "京A9999学 · C1、C2") || !strings.Contains(got, "在用") {
		t.Errorf("the list's row: %q", got)
	}

	tb.do("retire", chromedp.Click(chromedp.CSS(fmt.Sprintf("#confirm-device-%d", id))),
		chromedp.Click(chromedp.CSS(row+" button.danger")), chromedp.WaitReady(chromedp.CSS("#announce p")))
	if got := tb.text("#announce p"); got != "设备已停用，它的密钥已立即失效。" {
		t.Errorf("after retiring: %q", got)
	}
	if got := tb.text(row); !strings.Contains(got, "已于") {
		t.Errorf("the retired row: %q", got)
	}
	if r := a.Do("GET", "/api/v1/rules", "", nil, "Authorization", "Device "+key); r.Status != http.StatusUnauthorized {
		t.Errorf("the retired key: %d, want 401", r.Status)
	}

	for _, w := range [][2]int64{{1280, 900}, {375, 812}} {
		tb.do("resize", chromedp.EmulateViewport(w[0], w[1]))
		for _, p := range []struct{ path, page string }{
			{"/admin/users", "admin_users"}, {"/admin/devices", "admin_devices"}, {"/admin/audit", "admin_audit"},
		} {
			tb.open(p.path, p.page)
			tb.checkPage()
			if n := eval[int](tb, `document.querySelectorAll('script, img').length`); n != 0 {
				t.Errorf("%s: %d script or img elements, want none", p.path, n)
			}
		}
	}
	tb.open("/admin/users", "admin_users")
	if got := tb.text("#users tbody tr:first-child th"); got != evil {
		t.Errorf("the first username shows as %q, want it as text", got)
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened: a name ran as script", n)
	}
}

// TestBrowserScreenshotsAccounts saves the admin's account pages at desktop
// (1280 px) and phone (375 px) width into $EXAMD_SCREENSHOTS: the users, the
// devices, a device's key shown once, and the audit log.
func TestBrowserScreenshotsAccounts(t *testing.T) {
	dir := screenshotDir(t)
	a := servertest.Start(t)
	v1 := a.Must(http.StatusCreated, "POST", "/api/v1/venues", a.Admin, map[string]any{"name": "朝阳考场", "address": "朝阳区驾校路8号"}).ID()
	v2 := a.Must(http.StatusCreated, "POST", "/api/v1/venues", a.Admin, map[string]any{"name": "海淀考场", "address": "海淀区考试路2号"}).ID()
	for _, u := range []map[string]any{
		{"username": "zhang.wei", "role": "examiner", "venue_id": v1},
		{"username": "li.na", "role": "examiner", "venue_id": v2},
		{"username": "wang.fang", "role": "scheduler"},
		{"username": "liu.yang", "role": "issuer", "desk": "1号窗口"},
		{"username": "chen.jing", "role": "issuer", "desk": "2号窗口"},
	} {
		u["password"] = "staff-secret"
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, u)
	}
	var old int64
	for i, d := range []map[string]any{
		{"venue_id": v1, "name": "考试车 1号", "vehicle_plate": "京A1001学", "subjects": []int{2}, "licence_classes": []string{"C1"}},
		{"venue_id": v1, "name": "考试车 2号", "vehicle_plate": "京A1002学", "subjects": []int{2, 3}, "licence_classes": []string{"C1", "C2"}},
		{"venue_id": v1, "name": "考试车 3号", "vehicle_plate": "京A1003学", "subjects": []int{3}, "licence_classes": []string{"C1", "C5"}, "adapted_vehicle": true},
		{"venue_id": v2, "name": "理论考试机 12", "subjects": []int{4}, "licence_classes": []string{"C1", "C2"}},
	} {
		id := a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, d).ID()
		if i == 0 {
			old = id
		}
	}
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/devices/%d", old), a.Admin, nil)

	for _, w := range []struct {
		name          string
		width, height int
		car           string
	}{{"desktop", 1280, 900, "考试车 5号"}, {"phone", 375, 812, "考试车 6号"}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.logIn("admin", servertest.AdminPassword, "admin_slots")
			tb.open("/admin/users", "admin_users")
			tb.shoot(dir, "users-"+w.name+".png")
			tb.open("/admin/devices", "admin_devices")
			tb.shoot(dir, "devices-"+w.name+".png")
			tb.do("register a device",
				chromedp.SetValue(chromedp.CSS("#d-venue"), fmt.Sprint(v2)),
				chromedp.SetValue(chromedp.CSS("#d-name"), w.car),
				chromedp.SetValue(chromedp.CSS("#d-plate"), "京B2024学"),
				chromedp.Click(chromedp.CSS("#d-subject-2")),
				chromedp.SetValue(chromedp.CSS("#d-classes"), "C1"),
			)
			tb.click(`#new-device button[type="submit"]`, "#device-key")
			tb.shoot(dir, "device-key-"+w.name+".png")
			tb.open("/admin/audit", "admin_audit")
			eval[bool](tb, `document.querySelector('#entries details').open = true`)
			tb.shoot(dir, "audit-"+w.name+".png")
		})
	}
}
