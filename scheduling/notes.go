package scheduling

import (
	"fmt"
	"strings"
	"time"

	"examd/internal/notify"
)

// Notes to candidates of the decisions made here. They name the subjects,
// the day with its weekday, the times and the venue, never an ID number.

// slotText says when and where booking b sits, as "科目二 08:00–10:00（第一考场）".
func slotText(b Booking, venue string) (zh, en string) {
	start, end := b.StartsAt.In(Shanghai), b.EndsAt.In(Shanghai)
	times := start.Format("15:04") + "–" + end.Format("15:04")
	zh = "科目" + subjectZh(b.Subject) + " " + times
	en = "subject " + subjectEn(b.Subject) + " " + times
	if venue != "" {
		zh += "（" + venue + "）"
		en += " (" + venue + ")"
	}
	return zh, en
}

// dayText is b's exam day with its weekday.
func dayText(b Booking) (zh, en string) {
	return DayWords(b.ExamDay.Format(time.DateOnly))
}

// DayWords is a day written YYYY-MM-DD with its weekday, as the candidates'
// notes say it: "2026-12-10（星期四）" and "2026-12-10 (Thu)".
func DayWords(day string) (zh, en string) {
	return day + weekdayZh(day), day + weekdayEn(day)
}

// bookingsText says bs (one day's bookings): "2026-12-10（星期四）科目二 08:00–10:00（第一考场）、…".
func bookingsText(bs []Booking, venues map[int64]string) (zh, en string) {
	var zs, es []string
	for _, b := range bs {
		z, e := slotText(b, venues[b.VenueID])
		zs, es = append(zs, z), append(es, e)
	}
	dz, de := dayText(bs[0])
	return dz + " " + strings.Join(zs, "、"), de + " " + strings.Join(es, "; ")
}

// bookedNote tells candidate of bookings bs made by by (themselves or a
// scheduler).
func bookedNote(candidate, by int64, bs []Booking, venues map[int64]string) notify.Note {
	zh, en := bookingsText(bs, venues)
	who, whoEn := "由您本人预约", "booked by you"
	if by != candidate {
		who, whoEn = "由考务人员为您预约", "booked for you by the exam office"
	}
	link := "/candidate/bookings"
	if len(bs) > 0 {
		link = fmt.Sprintf("/candidate/bookings/%d", bs[0].ID)
	}
	return notify.Note{CandidateID: candidate, Kind: notify.KindBookingConfirmed, Link: link,
		ZH: "预约成功：" + zh + "，" + who + "。请按时携带身份证件到场。",
		EN: "Booking confirmed: " + en + ", " + whoEn + ". Bring your ID card on time."}
}

// cancelledNote tells candidate of bookings bs cancelled by by, for reason
// (staff cancellations carry one).
func cancelledNote(candidate, by int64, bs []Booking, venues map[int64]string, reason string) notify.Note {
	zh, en := bookingsText(bs, venues)
	who, whoEn := "由您本人取消", "cancelled by you"
	if by != candidate {
		who, whoEn = "由考务人员取消", "cancelled by the exam office"
	}
	if reason = clip(reason); reason != "" {
		who += "，原因：" + reason
		whoEn += ", reason: " + reason
	}
	return notify.Note{CandidateID: candidate, Kind: notify.KindBookingCancelled, Link: "/candidate/bookings",
		ZH: "预约已取消：" + zh + "，" + who + "。名额已释放，可重新预约。",
		EN: "Booking cancelled: " + en + ", " + whoEn + ". The seat is freed; you may book again."}
}

// laneGrantedNote tells candidate that they are on the priority lane
// (PL-GRANT), granted on their request or by staff.
func laneGrantedNote(candidate int64) notify.Note {
	return notify.Note{CandidateID: candidate, Kind: notify.KindLaneDecided, Link: "/candidate/priority",
		ZH: "优先通道申请已批准：您可以预约为优先通道保留的名额，考试当天优先安排。",
		EN: "Priority lane granted: you may book the seats kept for the priority lane, and are called first on the exam day."}
}

// laneDeclinedNote tells candidate that their priority-lane request was
// declined, with the staff's reason when given.
func laneDeclinedNote(candidate int64, reason string) notify.Note {
	zh, en := "优先通道申请未获批准。", "Priority lane request declined."
	if reason = clip(reason); reason != "" {
		zh, en = "优先通道申请未获批准，原因："+reason+"。", "Priority lane request declined, reason: "+reason+"."
	}
	return notify.Note{CandidateID: candidate, Kind: notify.KindLaneDecided, Link: "/candidate/priority",
		ZH: zh + "如有疑问请咨询车管所窗口。", EN: en + " Ask at the office if in doubt."}
}

// clip trims a staff member's reason to what a note holds (notes have at
// most 500 characters; the full reason stays in the audit log).
func clip(reason string) string {
	r := []rune(strings.TrimSpace(reason))
	if len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return string(r)
}
