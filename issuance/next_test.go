package issuance

import (
	"testing"
	"time"
)

// TestNextAtDesk: the journey's next step once the candidate is ready:
// watch for the ticket, wait while it is made, or the licence issued.
func TestNextAtDesk(t *testing.T) {
	probation := Date{time.Date(2027, 6, 15, 0, 0, 0, 0, time.UTC)}
	licence := &Licence{FileNumber: "000000000042", ProbationUntil: probation}
	tests := []struct {
		name   string
		desk   DeskState
		code   string
		zh, en string
	}{
		{"Ready", DeskState{Ticket: "A007", Step: StateReady}, "issuing_desk",
			"请到制证窗口办理领证，您的号码 A007，请留意叫号", "Go to the issuing desk with ticket A007 and watch for your number"},
		{"Accepted", DeskState{Ticket: "P001", Step: StateAccepted}, "issuing_desk",
			"正在制证窗口办理（号码 P001），请在窗口等候", "Your licence is being prepared (ticket P001): please wait at the desk"},
		{"Reviewed", DeskState{Ticket: "A1000", Step: StateReviewed}, "issuing_desk",
			"正在制证窗口办理（号码 A1000），请在窗口等候", "Your licence is being prepared (ticket A1000): please wait at the desk"},
		{"Issued", DeskState{Ticket: "A007", Step: StateIssued, Licence: licence}, "licence_issued",
			"驾驶证已核发，档案编号 000000000042；实习期至 2027-06-15", "Your licence is issued, file number 000000000042; probation until 2027-06-15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextAtDesk(tt.desk)
			if got.Code != tt.code || got.TextZh != tt.zh || got.TextEn != tt.en {
				t.Errorf("got %+v, want {%s %s %s}", got, tt.code, tt.zh, tt.en)
			}
		})
	}
}
