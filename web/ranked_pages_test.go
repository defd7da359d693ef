package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"examd/internal/server/servertest"
)

// fieldRefusal is the message shown under the form control field, "" when none.
func fieldRefusal(body, field string) string {
	m := regexp.MustCompile(`<p class="refusal" id="err-` + field + `" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestWebCombinedApplication: the slot page offers a pair of ranked subject
// 2 and 3 slots of one day as 申请联考 (not a mixed pair, nor one across
// days); the combined form refuses every bad preference at once, each under
// its select (a pair across two days, the same pair twice, an instant
// slot, a pair that does not exist, none at all) and records nothing; it
// applies with two pairs in order and lands on the applications, each
// preference with both subjects; a second combined application shows the
// store's refusal above the form; the application is withdrawn behind the
// confirmation.
func TestWebCombinedApplication(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2a, s3a, s2b, s3b := rankedPairs(a, sched, venue)
	instant3 := a.NewSlot(sched, venue, 3, 5, 16, nil)
	c := a.NewCandidate(sched, nil)
	b := newBrowser(a, t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")
	pair := func(s2, s3 int64) string { return fmt.Sprintf("%d-%d", s2, s3) }

	p := b.get("/candidate/slots?subject=23")
	row, _, _ := strings.Cut(p.Body[max(0, strings.Index(p.Body, `id="pair-`+pair(s2a, s3a)+`"`)):], "\n    </li>")
	if want := fmt.Sprintf(`href="/candidate/apply/combined?pair=%s"`, pair(s2a, s3a)); !strings.Contains(row, want) || !strings.Contains(row, "申请联考") || strings.Contains(row, "<form") {
		t.Errorf("ranked pair: want a 申请联考 link and no booking form\n%s", row)
	}
	for _, no := range []string{pair(s2a, instant3), pair(s2a, s3b)} {
		if strings.Contains(p.Body, "pair-"+no) {
			t.Errorf("pair %s offered: a ranked with an instant slot, or two days", no)
		}
	}

	p = b.get("/candidate/apply/combined?pair=" + pair(s2a, s3a))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "科目二三联考") {
		t.Fatalf("combined form: %d\n%s", p.Status, p.Body)
	}
	first := fmt.Sprintf(`<option value="%s" selected>%s · 科目二 08:00–10:00 + 科目三 13:00–15:00 · 第一考场</option>`, pair(s2a, s3a), longDateZh(a.Day(5)))
	if body := html.UnescapeString(p.Body); !strings.Contains(body, first) || !strings.Contains(body, fmt.Sprintf(`<option value="%s">`, pair(s2b, s3b))) {
		t.Errorf("the form's pairs: want %s selected first and the day 6 pair\n%s", first, p.Body)
	}
	if n := strings.Count(p.Body, fmt.Sprintf(`value="%s"`, pair(s2a, instant3))); n != 0 {
		t.Errorf("the form offers a pair with an instant slot")
	}

	applications := func() int {
		t.Helper()
		r := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil)
		return strings.Count(string(r.Raw), `"kind":"application"`)
	}
	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			prefs  [3]string
			status int
			want   map[string]string // field → message, every field listed
		}{
			{"AcrossDaysAndRepeated", [3]string{pair(s2a, s3b), pair(s2b, s3b), pair(s2b, s3b)}, http.StatusConflict, map[string]string{
				"pref1": "联考须为同一天的科目二和科目三场次，且科目二场次在科目三开始前结束",
				"pref3": "该志愿与前面的志愿有相同场次，请另选联考场次或不填"}},
			{"InstantAndUnknown", [3]string{pair(s2a, instant3), "", "x-" + fmt.Sprint(s3a)}, http.StatusConflict, map[string]string{
				"pref1": "所选场次不接受预约申请，请直接预约",
				"pref3": "该联考场次已不存在，请从列表中选择"}},
			{"SubjectThreeFirst", [3]string{pair(s3a, s2a), pair(s2a, s3a), ""}, http.StatusUnprocessableEntity, map[string]string{
				"pref2": "该志愿与前面的志愿有相同场次，请另选联考场次或不填"}},
			{"None", [3]string{"", "", ""}, http.StatusUnprocessableEntity, map[string]string{
				"pref1": "请选择第1志愿的联考场次"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.post("/candidate/apply/combined", url.Values{"pref1": {tc.prefs[0]}, "pref2": {tc.prefs[1]}, "pref3": {tc.prefs[2]}})
				if p.Status != tc.status || p.URL != "/candidate/apply/combined" {
					t.Errorf("answer %d at %s, want %d on the form", p.Status, p.URL, tc.status)
				}
				for _, f := range []string{"pref1", "pref2", "pref3"} {
					if got := fieldRefusal(p.Body, f); got != tc.want[f] {
						t.Errorf("%s: refusal %q, want %q", f, got, tc.want[f])
					}
					if invalid := strings.Contains(p.Body, fmt.Sprintf(`aria-invalid="true" aria-describedby="err-%s"`, f)); invalid != (tc.want[f] != "") {
						t.Errorf("%s: aria-invalid %v", f, invalid)
					}
				}
				if n := applications(); n != 0 {
					t.Errorf("%d applications recorded", n)
				}
			})
		}
	})

	p = b.post("/candidate/apply/combined", url.Values{"pref1": {pair(s2a, s3a)}, "pref2": {pair(s3b, s2b)}, "pref3": {""}})
	if p.Status != http.StatusOK || !strings.HasPrefix(p.URL, "/candidate/bookings?done=applied") {
		t.Fatalf("apply: %d at %s\n%s", p.Status, p.URL, p.Body)
	}
	r := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil)
	if want := fmt.Sprintf(`"preferences":[[%d,%d],[%d,%d]]`, s2a, s3a, s2b, s3b); !strings.Contains(string(r.Raw), want) {
		t.Errorf("recorded %s, want %s", r.Raw, want)
	}
	var id int64
	if err := a.DB.Get(&id, `SELECT id FROM applications WHERE candidate_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	item := rowOf(p.Body, fmt.Sprintf("application-%d", id))
	for _, want := range []string{
		"科目二 科目三 · <span class=\"status\">待分配</span>",
		"<li>科目二 " + longDateZh(a.Day(5)) + ` <span class="nowrap">08:00–10:00</span> · 第一考场 + 科目三 ` + longDateZh(a.Day(5)) + ` <span class="nowrap">13:00–15:00</span> · 第一考场</li>`,
		"<li>科目二 " + longDateZh(a.Day(6)) + ` <span class="nowrap">08:00–10:00</span> · 第一考场 + 科目三 ` + longDateZh(a.Day(6)) + ` <span class="nowrap">13:00–15:00</span> · 第一考场</li>`,
		`name="confirm" value="yes" required`,
	} {
		if !strings.Contains(item, want) {
			t.Errorf("the application lacks %q\n%s", want, item)
		}
	}

	t.Run("StoreRefusal", func(t *testing.T) {
		b.get("/candidate/apply/combined")
		p := b.post("/candidate/apply/combined", url.Values{"pref1": {pair(s2b, s3b)}})
		if p.Status != http.StatusConflict || p.URL != "/candidate/apply/combined" {
			t.Errorf("second application: %d at %s", p.Status, p.URL)
		}
		if !strings.Contains(p.Body, `<p class="refusal" id="err-apply" role="alert" data-code="already_applied">该科目已有待分配的预约申请</p>`) ||
			!strings.Contains(p.Body, `aria-describedby="err-apply"`) {
			t.Errorf("the store's refusal is not shown at the form\n%s", p.Body)
		}
		if n := applications(); n != 1 {
			t.Errorf("%d applications, want 1", n)
		}
	})

	t.Run("Withdraw", func(t *testing.T) {
		path := fmt.Sprintf("/candidate/applications/%d/withdraw", id)
		b.get("/candidate/bookings")
		if p := b.post(path, nil); p.Status != http.StatusUnprocessableEntity {
			t.Errorf("withdraw unconfirmed: %d", p.Status)
		}
		p := b.post(path, url.Values{"confirm": {"yes"}})
		if !strings.HasPrefix(p.URL, "/candidate/bookings?done=withdrawn") || rowOf(p.Body, fmt.Sprintf("application-%d", id)) != "" {
			t.Errorf("withdraw: %d at %s\n%s", p.Status, p.URL, p.Body)
		}
		if r := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil); !strings.Contains(string(r.Raw), `"status":"withdrawn"`) {
			t.Errorf("after withdrawal: %s", r.Raw)
		}
	})
}

// rankedPairs publishes at venue two combined exams open for applications:
// ranked subject 2 at 08:00 and subject 3 at 13:00, in 5 days (s2a, s3a)
// and in 6 (s2b, s3b).
func rankedPairs(a *servertest.App, sched string, venue int64) (s2a, s3a, s2b, s3b int64) {
	ranked := map[string]any{"allocation": "ranked"}
	return a.NewSlot(sched, venue, 2, 5, 8, ranked), a.NewSlot(sched, venue, 3, 5, 13, ranked),
		a.NewSlot(sched, venue, 2, 6, 8, ranked), a.NewSlot(sched, venue, 3, 6, 13, ranked)
}
