package issuance

import (
	"time"

	"examd/scheduling"
)

// nextAtDesk is the journey's next step of a candidate at the issuing desk
// (the candidate is ready, IS-READY): come with the ticket, wait while the
// licence is made, or the licence issued with its file number and
// probation (IS-NUMBER, IS-VALIDITY). d.Licence is set once issued.
func nextAtDesk(d DeskState) scheduling.NextStep {
	switch {
	case d.Step == StateIssued && d.Licence != nil:
		l := d.Licence
		return scheduling.NextStep{Code: "licence_issued",
			TextZh: "驾驶证已核发，档案编号 " + l.FileNumber + "；实习期至 " + l.ProbationUntil.Format(time.DateOnly),
			TextEn: "Your licence is issued, file number " + l.FileNumber + "; probation until " + l.ProbationUntil.Format(time.DateOnly)}
	case d.Step == StateReady:
		return scheduling.NextStep{Code: "issuing_desk",
			TextZh: "请到制证窗口办理领证，您的号码 " + d.Ticket + "，请留意叫号",
			TextEn: "Go to the issuing desk with ticket " + d.Ticket + " and watch for your number"}
	default:
		return scheduling.NextStep{Code: "issuing_desk",
			TextZh: "正在制证窗口办理（号码 " + d.Ticket + "），请在窗口等候",
			TextEn: "Your licence is being prepared (ticket " + d.Ticket + "): please wait at the desk"}
	}
}
