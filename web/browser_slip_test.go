package web_test

import (
	"fmt"
	"strings"
	"testing"

	"examd/internal/server/servertest"
	"examd/scheduling"
)

// TestBrowserPrintablesSlip: a candidate books through the slot page, lands
// on the booking slip (预约凭证), and its A4 print holds the booking number,
// the date with its weekday, the arrival time, the venue, its address and
// what to bring, with the QR code named by the number; the counter opens
// the same slip.
func TestBrowserPrintablesSlip(t *testing.T) {
	a := servertest.Start(t)
	sched, _, s2, _ := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	tb := openTab(a, t, 1280, 900)
	tb.logIn(c.IDNo, "candidate-pw", "candidate_journey")
	tb.open("/candidate/slots?subject=2", "candidate_slots")
	tb.click(fmt.Sprintf("#slot-%d button", s2), `body[data-page="candidate_slip"]`)
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM bookings WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	number := scheduling.BookingNumber(id)
	day := a.Day(5)
	weekday := []string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}[day.Weekday()]
	date := fmt.Sprintf("%d年%d月%d日 %s", day.Year(), int(day.Month()), day.Day(), weekday)
	if got := tb.text("#slip-number"); got != number {
		t.Errorf("slip number %q, want %q", got, number)
	}
	if got := tb.text("#slip-date"); got != date {
		t.Errorf("slip date %q, want %q", got, date)
	}
	if alt := eval[string](tb, `document.querySelector('#slip img.qr').alt`); !strings.Contains(alt, number) {
		t.Errorf("QR alt %q, want the number", alt)
	}
	if w := eval[int](tb, `document.querySelector('#slip img.qr').naturalWidth`); w == 0 {
		t.Errorf("the QR image did not load")
	}
	tb.checkPage()
	tb.checkAxe()
	printed := tb.printed(a4, "slip")
	for _, want := range []string{number, date, "07:30 前到达", "第一考场", "长安街1号", "本人居民身份证原件", "学习驾驶证明", "预约凭证"} {
		if !strings.Contains(printed, want) {
			t.Errorf("printed slip lacks %q:\n%s", want, printed)
		}
	}
	// Only the slip prints: not the header's navigation nor the buttons.
	for _, not := range []string{"预约考试", "打印预约凭证", "退出"} {
		if strings.Contains(printed, not) {
			t.Errorf("printed slip holds %q:\n%s", not, printed)
		}
	}

	t.Run("Counter", func(t *testing.T) {
		tb.click(`form[action="/logout"] button`, `body[data-page="login"]`)
		tb.logIn("admin", servertest.AdminPassword, "admin_slots")
		tb.open(fmt.Sprintf("/admin/candidates/%d", c.ID), "admin_candidate")
		tb.click(fmt.Sprintf(`#booking-%d a[href$="/slip"]`, id), `body[data-page="candidate_slip"]`)
		if got := tb.text("#slip-number"); got != number {
			t.Errorf("counter's slip number %q, want %q", got, number)
		}
		tb.checkAxe()
		if printed := tb.printed(a4, "counter-slip"); !strings.Contains(printed, number) || !strings.Contains(printed, "长安街1号") {
			t.Errorf("counter's printed slip:\n%s", printed)
		}
	})
}
