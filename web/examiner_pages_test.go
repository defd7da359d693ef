package web_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWebExaminer: the examiner's screen shows their own venue's cars and
// roster, masked; only examiners sign, with the form's CSRF token, and a
// refused signature says why in Chinese; the screen's websocket needs the
// session and a page of this site.
func TestWebExaminer(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 2)
	other := a.NewVenue(d.Sched, true)
	_, booking := d.Book(t, d.Slot, 2)
	a.DB.MustExec(`UPDATE candidates SET name = '欧阳<b>娜娜</b>' WHERE id = (SELECT candidate_id FROM bookings WHERE id = $1)`, booking)
	var idNumber string
	if err := a.DB.Get(&idNumber, `SELECT c.id_number FROM candidates c JOIN bookings b ON b.candidate_id = c.id WHERE b.id = $1`, booking); err != nil {
		t.Fatal(err)
	}
	examiner := examinerAt(a, t, d.Venue)
	a.Must(http.StatusCreated, "POST", "/api/v1/devices", a.Admin, map[string]any{
		"venue_id": d.Venue, "name": "<i>考试车</i> 9号", "vehicle_plate": "京A<b>9</b>学", "subjects": []int{2, 3}, "licence_classes": []string{"C1"},
	})

	b := newBrowser(a, t)
	p := b.logIn(examiner, "staff-secret", "/examiner")
	for _, want := range []string{"考试车 3号", "京A1234学", "欧**********", `data-venue="` + fmt.Sprint(d.Venue) + `"`, "候考名单"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("examiner screen lacks %q", want)
		}
	}
	if !strings.Contains(p.Body, "&lt;i&gt;考试车&lt;/i&gt; 9号") || !strings.Contains(p.Body, "京A&lt;b&gt;9&lt;/b&gt;学") {
		t.Errorf("a car's name and plate are not shown as text")
	}
	for _, leak := range []string{"欧阳", "娜娜", "<b>", "<i>", idNumber} {
		if strings.Contains(p.Body, leak) {
			t.Errorf("examiner screen shows %q", leak)
		}
	}
	// An examiner watches their own venue, whatever the address asks for.
	if p := b.get(fmt.Sprintf("/examiner?venue=%d", other)); !strings.Contains(p.Body, fmt.Sprintf(`data-venue="%d"`, d.Venue)) {
		t.Errorf("?venue= moved the examiner to another venue")
	}
	// The roster alone, for the script.
	if p := b.get("/examiner/roster"); p.Status != http.StatusOK || strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, "欧**********") {
		t.Errorf("roster part: %d\n%s", p.Status, p.Body)
	}

	// Signing: not while the exam runs; not without the token; then once.
	d.Post(d.Device, booking, "exam_started", nil)
	var attempt int64
	if err := a.DB.Get(&attempt, `SELECT id FROM attempts WHERE booking_id = $1`, booking); err != nil {
		t.Fatal(err)
	}
	sign := fmt.Sprintf("/examiner/attempts/%d/sign", attempt)
	b.get("/examiner")
	if p := b.post(sign, nil); p.Status != http.StatusConflict || !strings.Contains(p.Body, "考试尚未结束，不能签字确认。") {
		t.Errorf("signing a running exam: %d\n%s", p.Status, p.Body)
	}
	d.Post(d.Device, booking, "exam_finished", nil)
	if p := b.post(sign, url.Values{"_csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Errorf("signing with a forged token: %d", p.Status)
	}
	signatures := func() (n int) {
		a.DB.Get(&n, `SELECT count(*) FROM attempt_signatures WHERE attempt_id = $1`, attempt)
		return n
	}
	if n := signatures(); n != 0 {
		t.Fatalf("%d signatures before the examiner signed", n)
	}
	// ED-SIGN: the examiner confirms first, then the page says what was signed.
	if p := b.post(sign, nil); p.Status != http.StatusOK || p.URL != fmt.Sprintf("/examiner/attempts/%d?step=examiner", attempt) ||
		!strings.Contains(p.Body, "请确认，您将以考试员身份签署以下成绩") || !strings.Contains(p.Body, "欧********** · 科目二 · 合格 · 100 分") {
		t.Errorf("signing unconfirmed: %d at %s", p.Status, p.URL)
	}
	if n := signatures(); n != 0 {
		t.Fatalf("%d signatures before the examiner confirmed", n)
	}
	if p := b.post(sign, url.Values{"confirm": {"yes"}}); p.Status != http.StatusOK || p.URL != fmt.Sprintf("/examiner/attempts/%d?signed=examiner", attempt) ||
		!strings.Contains(p.Body, "考试员已签字确认以下成绩") {
		t.Errorf("signing: %d at %s", p.Status, p.URL)
	}
	if n := signatures(); n != 1 {
		t.Errorf("%d signatures after signing", n)
	}
	if p := b.post("/examiner/attempts/nonsense/sign", nil); p.Status != http.StatusNotFound {
		t.Errorf("signing attempt nonsense: %d", p.Status)
	}

	// Other examiners, schedulers and candidates.
	elsewhere := newBrowser(a, t)
	elsewhere.logIn(examinerAt(a, t, other), "staff-secret", "/examiner")
	if p := elsewhere.post(sign, nil); p.Status != http.StatusNotFound {
		t.Errorf("an examiner of another venue signing: %d", p.Status)
	}
	sched := newBrowser(a, t)
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "web-planner", "password": "staff-secret", "role": "scheduler"})
	sched.logIn("web-planner", "staff-secret", "/admin/slots")
	if p := sched.get(fmt.Sprintf("/examiner?venue=%d", d.Venue)); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="venue"`) || strings.Contains(p.Body, "待签字") {
		t.Errorf("a scheduler watching: %d", p.Status)
	}
	if p := sched.get("/examiner?venue=999999"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown venue: %d", p.Status)
	}
	if p := sched.get("/examiner?venue=x"); p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusBadRequest {
		t.Errorf("a venue x: %d", p.Status)
	}
	if p := sched.post(sign, nil); p.Status != http.StatusForbidden {
		t.Errorf("a scheduler signing: %d", p.Status)
	}
	novenue := newBrowser(a, t)
	a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin, map[string]any{"username": "web-novenue", "password": "staff-secret", "role": "examiner"})
	if p := novenue.logIn("web-novenue", "staff-secret", "/examiner"); !strings.Contains(p.Body, "您的账号尚未关联考场") || strings.Contains(p.Body, `id="screen"`) {
		t.Errorf("an examiner without a venue:\n%s", p.Body)
	}
	cand := a.NewCandidate(d.Sched, nil)
	cb := newBrowser(a, t)
	cb.logIn(cand.IDNo, "candidate-pw", "/candidate")
	if p := cb.get("/examiner"); p.Status != http.StatusForbidden {
		t.Errorf("a candidate on the examiner screen: %d", p.Status)
	}

	// The websocket: the session cookie, and a page of this site.
	wsURL := strings.Replace(a.URL, "http://", "ws://", 1) + "/examiner/live?since=0"
	if _, res, err := websocket.DefaultDialer.Dial(wsURL, nil); err == nil || res == nil || res.StatusCode != http.StatusSeeOther {
		t.Errorf("websocket without a session: %v %v", err, res)
	}
	u, _ := url.Parse(a.URL)
	cookies := b.c.Jar.Cookies(u)
	hd := http.Header{}
	for _, c := range cookies {
		hd.Add("Cookie", c.Name+"="+c.Value)
	}
	hd.Set("Origin", "http://evil.example")
	if _, res, err := websocket.DefaultDialer.Dial(wsURL, hd); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("websocket from another site's page: %v %v", err, res)
	}
	hd.Set("Origin", a.URL)
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, hd)
	if err != nil {
		t.Fatalf("websocket of the screen: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // a broken feed fails, not hangs
	var hello, first map[string]any
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v %v", hello, err)
	}
	if err := conn.ReadJSON(&first); err != nil || first["type"] == nil {
		t.Fatalf("first event: %v %v", first, err)
	}
	if dev, _ := first["device"].(map[string]any); first["type"] != "exam_started" || dev == nil || dev["name"] != "考试车 3号" {
		t.Errorf("exam_started without its car: %v", first)
	}
}
