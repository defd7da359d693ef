package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// TestWebRatingCancelledBooking: a booking staff cancelled is offered for
// rating on the journey; one the candidate cancelled is not_rateable, shown
// in the page in the catalogue's words on GET and POST; a score out of 1–5
// is refused on its field; someone else's booking is not found.
func TestWebRatingCancelledBooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched, _, s2, s3 := bookingDay(t, a)
	c := a.NewCandidate(sched, nil)
	book := func(slot int64) int64 {
		return int64(a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}}).Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	}
	byStaff, bySelf := book(s2), book(s3)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", byStaff, url.QueryEscape("考场设备检修")), sched, nil)
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", bySelf), c.Token, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")

	p := b.get("/candidate")
	if !strings.Contains(p.Body, fmt.Sprintf(`href="/candidate/feedback?booking_id=%d"`, byStaff)) ||
		strings.Contains(p.Body, fmt.Sprintf(`booking_id=%d"`, bySelf)) {
		t.Errorf("journey offers the wrong ratings:\n%s", p.Body)
	}
	const notRateable = `data-code="not_rateable">只能评价已发放的驾驶证，或由工作人员取消的预约`
	p = b.get(fmt.Sprintf("/candidate/feedback?booking_id=%d", bySelf))
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, notRateable) || strings.Contains(p.Body, `name="score"`) {
		t.Errorf("GET own cancellation: %d\n%s", p.Status, p.Body)
	}
	p = b.post("/candidate/feedback", url.Values{"booking_id": {fmt.Sprint(bySelf)}, "score": {"4"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, notRateable) {
		t.Errorf("POST own cancellation: %d\n%s", p.Status, p.Body)
	}
	p = b.get(fmt.Sprintf("/candidate/feedback?booking_id=%d", byStaff))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `<legend>`) || strings.Count(p.Body, `type="radio" id="score-`) != 5 {
		t.Errorf("GET staff cancellation: %d\n%s", p.Status, p.Body)
	}
	p = b.post("/candidate/feedback", url.Values{"booking_id": {fmt.Sprint(byStaff)}, "score": {"6"}, "comment": {"x"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="err-score" role="alert">请选择1到5分中的一项`) {
		t.Errorf("score 6: %d\n%s", p.Status, p.Body)
	}
	p = b.post("/candidate/feedback", url.Values{"booking_id": {fmt.Sprint(byStaff)}, "score": {"2"}, "comment": {"  改期太晚通知  "}})
	if p.URL != "/candidate?done=rated" || !strings.Contains(p.Body, "已评价，感谢您的评价！") {
		t.Errorf("rate: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	var score int
	var comment string
	if err := a.DB.QueryRow(`SELECT score, comment FROM feedback WHERE booking_id = $1`, byStaff).Scan(&score, &comment); err != nil || score != 2 || comment != "改期太晚通知" {
		t.Errorf("feedback row: %d %q %v", score, comment, err)
	}
	p = b.post("/candidate/feedback", url.Values{"booking_id": {fmt.Sprint(byStaff)}, "score": {"5"}})
	if p.Status != http.StatusConflict || !strings.Contains(p.Body, `data-code="already_rated">该项服务已评价过`) {
		t.Errorf("rating twice: %d\n%s", p.Status, p.Body)
	}

	other := a.NewCandidate(sched, nil)
	ob := newBrowser(a, t)
	ob.logIn(other.IDNo, "candidate-pw", "/candidate")
	ob.get("/candidate")
	if p := ob.post("/candidate/feedback", url.Values{"booking_id": {fmt.Sprint(byStaff)}, "score": {"1"}}); p.Status != http.StatusNotFound {
		t.Errorf("someone else's booking: %d", p.Status)
	}
	if p := ob.get("/candidate/feedback?booking_id=x"); p.Status != http.StatusNotFound {
		t.Errorf("a bad id: %d", p.Status)
	}
}
