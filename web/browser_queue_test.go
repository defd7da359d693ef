package web_test

import (
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"examd/internal/server/servertest"
)

// TestBrowserQueue: on their exam day, at phone width, the candidate's home
// page shows their place in the venue's queue and the time they are expected
// to be called, and follows the day (queue.js fetches the section again)
// as attempts start ahead of them, to "下一位就是您"; in English too.
func TestBrowserQueue(t *testing.T) {
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	_, b1 := d.Book(t, d.Slot, 2)
	_, b2 := d.Book(t, d.Slot, 2)
	c3, _ := d.Book(t, d.Slot, 2)
	tb := openTab(a, t, 375, 740)
	tb.logIn(c3.IDNo, "candidate-pw", "candidate_journey")

	if got, want := tb.text("#queue-text"), `^您前面还有 2 人，预计 \d\d:\d\d 叫号$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("queue says %q, want %s", got, want)
	}
	if got, want := tb.text("#queue-basis"), "今天尚无已完成的考试，按每场约 15 分钟、1 台考试车同时考试估算"; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("basis %q, want %q", got, want)
	}
	tb.checkPage()
	tb.checkAxe()

	// The page follows the day without being reloaded: each start ahead
	// brings the candidate nearer (the 30-second refresh, run at once here
	// as when the phone's screen comes back on).
	refresh := func(ahead string) {
		t.Helper()
		tb.do("refresh the queue",
			chromedp.Evaluate[chromedp.Void](`void document.dispatchEvent(new Event('visibilitychange'))`),
			chromedp.WaitReady(chromedp.CSS(`#queue-live #queue[data-ahead="`+ahead+`"]`)))
	}
	if r := d.Post(d.Device, b1, "exam_started", nil); r.Status != 201 {
		t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
	}
	refresh("1")
	if got, want := tb.text("#queue-text"), `^您前面还有 1 人，预计 \d\d:\d\d 叫号$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("after a start, queue says %q, want %s", got, want)
	}
	second := d.NewDevice(t, d.Venue)
	if r := d.Post(second, b2, "exam_started", nil); r.Status != 201 {
		t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
	}
	// No refresh asked: the candidate's note "your turn is next", arriving
	// on their live channel (notifications.js), refreshes the queue at once,
	// well before the 30-second round.
	tb.do("the queue follows the turn.next note",
		chromedp.WaitReady(chromedp.CSS(`#queue-live #queue[data-ahead="0"]`)))
	if got, want := tb.text("#queue-text"), `^下一位就是您，预计 \d\d:\d\d 叫号，请在候考区等候。$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("next: queue says %q, want %s", got, want)
	}
	tb.checkPage()
	tb.checkAxe()

	tb.open("/candidate?lang=en", "candidate_journey")
	if got, want := tb.text("#queue-text"), `^You are next: expected to be called at about \d\d:\d\d\. Please wait in the waiting room\.$`; !regexp.MustCompile(want).MatchString(got) {
		t.Errorf("English: queue says %q, want %s", got, want)
	}
	tb.checkPage()
	tb.checkAxe()
}
