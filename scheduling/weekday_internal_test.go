package scheduling

import "testing"

// TestBookStepWeekday: the cool-down day in the next step carries its
// weekday, in both languages (5 and 6 December 2026 are a Saturday and a
// Sunday).
func TestBookStepWeekday(t *testing.T) {
	for day, want := range map[string][2]string{
		"2026-12-05": {"（星期六）", " (Sat)"},
		"2026-12-06": {"（星期日）", " (Sun)"},
		"2026-12-07": {"（星期一）", " (Mon)"},
		"bad":        {"", ""},
	} {
		if got := weekdayZh(day); got != want[0] {
			t.Errorf("weekdayZh(%s) = %q, want %q", day, got, want[0])
		}
		if got := weekdayEn(day); got != want[1] {
			t.Errorf("weekdayEn(%s) = %q, want %q", day, got, want[1])
		}
	}
	step := bookStep("book_subject2", "请预约科目二考试", "Book subject 2", SubjectState{Subject: 2, CooldownUntil: "2026-12-09"})
	if want := "请预约科目二考试（科目二最早可约 2026-12-09（星期三） 的考试）"; step.TextZh != want {
		t.Errorf("next step %q, want %q", step.TextZh, want)
	}
}
