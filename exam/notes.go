package exam

import (
	"fmt"
	"strconv"

	"examd/internal/notify"
)

// resultNote tells the candidate of a result made final by its second
// signature (ED-SIGN): the subject, pass or fail, and the score; corrected
// says it is a corrected result.
func resultNote(a lockedAttempt, score int, status string, corrected bool) notify.Note {
	subj := []string{"", "一", "二", "三", "四"}[a.Subject]
	verdict, verdictEn := "不合格", "failed"
	if status == "passed" {
		verdict, verdictEn = "合格", "passed"
	}
	zh := fmt.Sprintf("科目%s考试成绩已确认：%d 分，%s。", subj, score, verdict)
	en := fmt.Sprintf("Subject %d result confirmed: %d points, %s.", a.Subject, score, verdictEn)
	if corrected {
		zh = fmt.Sprintf("科目%s考试成绩经更正后已确认：%d 分，%s。", subj, score, verdict)
		en = fmt.Sprintf("Subject %d corrected result confirmed: %d points, %s.", a.Subject, score, verdictEn)
	}
	return notify.Note{CandidateID: a.CandidateID, Kind: notify.KindResultFinal, ZH: zh, EN: en,
		Link: "/candidate/bookings/" + strconv.FormatInt(a.BookingID, 10)}
}
