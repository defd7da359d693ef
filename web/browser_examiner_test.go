package web_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"examd/scheduling"
)

// examinerAt creates an examiner of venue and returns the username.
func examinerAt(a *servertest.App, t *testing.T, venue int64) string {
	t.Helper()
	name := fmt.Sprintf("examiner%d", servertest.Next())
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
		map[string]any{"username": name, "password": "staff-secret", "role": "examiner", "venue_id": venue})
	return name
}

// deviceID is the id of the device of venue named name.
func deviceID(a *servertest.App, t *testing.T, venue int64) int64 {
	t.Helper()
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM devices WHERE venue_id = $1 ORDER BY id LIMIT 1`, venue); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitText waits up to within for the element sel to contain want.
func (tb *tab) waitText(sel, want string, within time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel))
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s: want %q within %s, have %q", sel, want, within, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evilName is a candidate's name that is markup.
const evilName = "张<script>alert(1)</script>"

// TestBrowserExaminerScreen: the examiner's screen shows a deduction a
// device posts within 2 s; after a network drop it says so, reconnects by
// itself and shows the events posted meanwhile exactly once; the examiner
// signs the result.
func TestBrowserExaminerScreen(t *testing.T) {
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	car := deviceID(a, t, d.Venue)
	_, booking := d.Book(t, d.Slot, 2)
	if _, err := a.DB.Exec(`UPDATE candidates SET name = $2 WHERE id = (SELECT candidate_id FROM bookings WHERE id = $1)`, booking, evilName); err != nil {
		t.Fatal(err)
	}
	examiner := examinerAt(a, t, d.Venue)

	cable := newCutProxy(t, a.URL)
	via := *a
	via.Client = &testkit.Client{T: t, URL: cable.url}
	tb := openTab(&via, t, 1280, 900)
	tb.logIn(examiner, "staff-secret", "examiner")
	tb.checkPage()
	tb.waitText("#conn", "实时连接正常", 5*time.Second)
	tile := fmt.Sprintf(`.tile[data-device="%d"]`, car)
	tb.waitText(tile, "空闲", time.Second)
	tb.waitText("#roster", "张*", time.Second)

	// Live: the deduction shows within 2 s of the device's post.
	d.Post(d.Device, booking, "exam_started", nil)
	d.Post(d.Device, booking, "item_started", map[string]any{"item": "reverse_parking"})
	posted := time.Now()
	if r := d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"}); r.Status != http.StatusOK && r.Status != http.StatusCreated {
		t.Fatalf("deduction: %d %v", r.Status, r.Body)
	}
	tb.waitText(tile+" .deductions", "中途停车超过2秒", 2*time.Second)
	t.Logf("deduction on screen %s after the post", time.Since(posted).Round(time.Millisecond))
	tb.waitText(tile+" .item", "倒车入库", time.Second)
	tb.waitText(tile+" .score", "95", time.Second)
	tb.waitText("#roster", "考试中", 2*time.Second)
	if n := eval[int](tb, `[...document.scripts].filter(s => s.textContent.includes('alert')).length`); n != 0 {
		t.Errorf("%d script elements hold the candidate's name: it ran as markup", n)
	}
	if name := tb.text(tile + " .who .name"); name != scheduling.MaskName(evilName) {
		t.Errorf("the tile names the candidate %q, want the masked name", name)
	}

	// The network drops; the device goes on.
	cable.cut()
	tb.waitText("#conn", "连接已断开", 5*time.Second)
	d.Post(d.Device, booking, "deduction", map[string]any{"rule": "RP.STOP"})
	d.Post(d.Device, booking, "item_started", map[string]any{"item": "parallel_parking"})
	d.Post(d.Device, booking, "deduction", map[string]any{"rule": "PP.EXIT_SIGNAL"})
	d.Post(d.Device, booking, "exam_finished", nil)
	time.Sleep(300 * time.Millisecond)
	if n := eval[int](tb, `document.querySelectorAll('`+tile+` .deductions li').length`); n != 1 {
		t.Errorf("while unplugged the screen shows %d deductions, want the 1 it had", n)
	}

	// Back on the network: the screen catches up by itself, each event once.
	cable.restore()
	tb.waitText("#conn", "实时连接正常", 15*time.Second)
	tb.waitText(tile+" .result", "合格", 2*time.Second)
	deductions := eval[[]string](tb, `[...document.querySelectorAll('`+tile+` .deductions li')].map(li => li.textContent)`)
	want := []string{"扣 5 分 中途停车超过2秒", "扣 5 分 中途停车超过2秒", "扣 10 分 出库不使用或错误使用转向灯"}
	if strings.Join(deductions, "|") != strings.Join(want, "|") {
		t.Errorf("deductions after the reconnect:\n%q\nwant\n%q", deductions, want)
	}
	tb.waitText(tile+" .score", "80", time.Second)
	tb.waitText("#announce", "合格，80 分", time.Second)

	// Sign-off: the finished attempt waits for the examiner's signature.
	tb.waitText("#to-sign", "合格 80", time.Second)
	// ED-SIGN: the list opens the score sheet; the examiner reads it,
	// confirms, and the page says what was signed.
	tb.click("#to-sign a", `body[data-page="examiner_sheet"]`)
	tb.waitText("#sheet-deductions", "出库不使用或错误使用转向灯", time.Second)
	tb.click("#sign-as-examiner", "#confirm-examiner")
	tb.click("#confirm-examiner", "#signed-note")
	tb.waitText("#signed-note", "考试员已签字确认以下成绩：", time.Second)
	tb.waitText("#signed-note .what", scheduling.MaskName(evilName)+" · 科目二 · 合格 · 80 分", time.Second)
	tb.open("/examiner", "examiner")
	tb.waitText(tile+" .signed", "考试员已签字", 5*time.Second)
	if n := eval[int](tb, `document.querySelectorAll('#to-sign li').length`); n != 0 {
		t.Errorf("%d results still to sign after signing", n)
	}
	// The reloaded page replayed the day: still each deduction once.
	if n := eval[int](tb, `document.querySelectorAll('`+tile+` .deductions li').length`); n != 3 {
		t.Errorf("after the reload the screen shows %d deductions, want 3", n)
	}
	var signed int
	if err := a.DB.Get(&signed, `SELECT count(*) FROM attempt_signatures s JOIN attempts t ON t.id = s.attempt_id
		WHERE t.booking_id = $1 AND s.signer = 'examiner'`, booking); err != nil || signed != 1 {
		t.Errorf("examiner signatures: %d, %v", signed, err)
	}

	// The session ends (logged out elsewhere) while the screen is open:
	// after the next drop the screen goes to the login page by itself.
	a.DB.MustExec(`DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)`, examiner)
	cable.cut()
	cable.restore()
	tb.do("wait for the login page", chromedp.WaitReady(chromedp.CSS(`body[data-page="login"]`)))
}

// TestBrowserScreenshotsExaminer photographs the examiner's screen in the
// middle of an exam day, at desktop and phone width ($EXAMD_SCREENSHOTS).
func TestBrowserScreenshotsExaminer(t *testing.T) {
	dir := os.Getenv("EXAMD_SCREENSHOTS")
	if dir == "" {
		t.Skip("set EXAMD_SCREENSHOTS to the folder for the screenshots")
	}
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	second := d.A.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{
		"venue_id": d.Venue, "name": "考试车 5号", "vehicle_plate": "京A5678学", "subjects": []int{2, 3}, "licence_classes": []string{"C1"}, "adapted_vehicle": false,
	}).Body["key"].(string)
	a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{ // a third car, idle
		"venue_id": d.Venue, "name": "考试车 8号", "vehicle_plate": "京A9012学", "subjects": []int{2}, "licence_classes": []string{"C1", "C5"}, "adapted_vehicle": true,
	})
	names := []string{"王小明", "李秀英", "张伟", "刘洋", "陈静"}
	bookings := make([]int64, len(names))
	for i, n := range names {
		_, bookings[i] = d.Book(t, d.Slot, 2)
		a.DB.MustExec(`UPDATE candidates SET name = $2 WHERE id = (SELECT candidate_id FROM bookings WHERE id = $1)`, bookings[i], n)
	}
	a.DB.MustExec(`UPDATE bookings SET lane = 'priority' WHERE id = $1`, bookings[4])
	// Car 3: 王小明 failed; car 5: 李秀英 in the middle of hill start.
	d.Post(d.Device, bookings[0], "exam_started", nil)
	d.Post(d.Device, bookings[0], "item_started", map[string]any{"item": "reverse_parking"})
	d.Post(d.Device, bookings[0], "deduction", map[string]any{"rule": "RP.STOP"})
	d.Post(d.Device, bookings[0], "deduction", map[string]any{"rule": "RP.BODY_OUT"})
	d.Post(second, bookings[1], "exam_started", nil)
	d.Post(second, bookings[1], "item_started", map[string]any{"item": "hill_start"})
	d.Post(second, bookings[1], "deduction", map[string]any{"rule": "HS.BUMPER_WITHIN_50CM"})
	examiner := examinerAt(a, t, d.Venue)
	for _, w := range []struct {
		name          string
		width, height int
	}{{"desktop", 1280, 900}, {"phone", 375, 812}, {"wall", 1920, 1080}} {
		t.Run(w.name, func(t *testing.T) {
			tb := openTab(a, t, w.width, w.height)
			tb.logIn(examiner, "staff-secret", "examiner")
			tb.waitText("#conn", "实时连接正常", 5*time.Second)
			tb.waitText("#to-sign", "不合格", 5*time.Second)
			tb.checkPage()
			tb.shoot(dir, "examiner-"+w.name+".png")
			if w.name == "wall" {
				return
			}
			tb.click("#to-sign a", `body[data-page="examiner_sheet"]`)
			tb.shoot(dir, "examiner-sheet-"+w.name+".png")
		})
	}
}
