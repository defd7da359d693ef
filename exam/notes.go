package exam

import (
	"fmt"
	"strconv"
	"time"

	"examd/internal/notify"
	"examd/scheduling"
)

// resultNote tells the candidate of a result made final by its second
// signature (ED-SIGN): the subject, pass or fail, and the score; corrected
// says it is a corrected result.
// releasedNote tells the candidate of p that it was released because subject
// failed of the same day was failed (BK-COMBINED-FAIL, BK-PACKAGE).
func releasedNote(p scheduling.BookingForExam, failed int) notify.Note {
	at := p.StartsAt.In(scheduling.Shanghai)
	day, dayEn := scheduling.DayWords(at.Format(time.DateOnly))
	day, dayEn = day+at.Format("15:04"), dayEn+" "+at.Format("15:04")
	return notify.Note{CandidateID: p.CandidateID, Kind: notify.KindBookingCancelled, Link: "/candidate/bookings",
		ZH: fmt.Sprintf("%s 的科目%s预约已由考场取消：同日科目%s未通过，本场不能参加。名额已释放，此次取消不计入预约次数。", day, scheduling.SubjectZh(p.Subject), scheduling.SubjectZh(failed)),
		EN: fmt.Sprintf("Your subject %d booking of %s was cancelled by the exam hall: subject %d of the same day was failed, so it cannot be sat. The seat is freed; this cancellation does not count against your bookings.", p.Subject, dayEn, failed)}
}

func resultNote(a lockedAttempt, score int, status string, corrected bool) notify.Note {
	subj := scheduling.SubjectZh(a.Subject)
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
