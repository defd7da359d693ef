package issuance

import (
	"examd/internal/notify"
)

// Notes to the candidate of the desk's decisions; the link is their journey
// page, which shows the ticket and the steps.

// readyNote tells the candidate that every result is in (IS-READY) and
// gives them the day's ticket.
func readyNote(candidate int64, ticket string) notify.Note {
	return notify.Note{CandidateID: candidate, Kind: notify.KindDeskReady, Link: "/candidate",
		ZH: "全部科目已合格，可以领证：您的取号为 " + ticket + "，请到制证窗口等候叫号。",
		EN: "Every subject is passed, your licence can be issued: your ticket is " + ticket + "; wait at the issuing desk to be called."}
}

// calledNote tells the candidate that their ticket is called to desk.
func calledNote(candidate int64, ticket, desk string) notify.Note {
	zh, en := "请到制证窗口办理", "please go to the issuing desk"
	if desk != "" {
		zh, en = "请到 "+desk+" 号窗口办理", "please go to desk "+desk
	}
	return notify.Note{CandidateID: candidate, Kind: notify.KindTicketCalled, Link: "/candidate",
		ZH: ticket + " 号请就位：" + zh + "。", EN: "Ticket " + ticket + " is called: " + en + "."}
}

// issuedNote tells the candidate that their licence is issued.
func issuedNote(candidate int64, l *Licence) notify.Note {
	zh, en := "驾驶证已制发，请在窗口领取。", "Your driving licence is issued; collect it at the desk."
	if l != nil {
		zh = "驾驶证已制发，请在窗口领取。实习期至 " + l.ProbationUntil.Format("2006-01-02") + "。"
		en = "Your driving licence is issued; collect it at the desk. Probation until " + l.ProbationUntil.Format("2006-01-02") + "."
	}
	return notify.Note{CandidateID: candidate, Kind: notify.KindLicenceIssued, Link: "/candidate", ZH: zh, EN: en}
}
