package exam_test

import (
	"fmt"
	"net/http"
	"testing"

	"examd/internal/pg/pgtest"
	"examd/internal/server/servertest"
)

// TestCombinedReleaseWhicheverSlotCloses: with BK-COMBINED-FAIL set to
// release, a combined booking whose candidate did not come has its subject
// 3 half released, not made a no-show (which BK-CAP would count), whichever
// slot has the lower id and whichever is closed first.
func TestCombinedReleaseWhicheverSlotCloses(t *testing.T) {
	t.Parallel()
	for _, subject3First := range []bool{false, true} {
		t.Run(fmt.Sprintf("Subject3SlotFirst=%v", subject3First), func(t *testing.T) {
			t.Parallel()
			db, url := pgtest.NewDB(t)
			a := servertest.StartOn(t, db, url, "EXAMD_COMBINED_ON_SUBJECT2_FAIL", "release")
			d := &servertest.ExamDay{A: a, Sched: a.Staff("scheduler")}
			d.Venue = a.NewVenue(d.Sched, false)
			h := &servertest.Hall{ExamDay: d}
			if subject3First {
				h.Slot3 = d.TodaySlot(t, 3)
				d.Slot = d.TodaySlot(t, 2)
			} else {
				d.Slot = d.TodaySlot(t, 2)
				h.Slot3 = d.TodaySlot(t, 3)
			}
			h.Slot4 = d.TodaySlot(t, 4)
			d.Device = d.NewDevice(t, d.Venue)
			_, b2, b3, _ := h.Combined(t)

			// The subject 3 slot is closed first, then the subject 2 slot.
			for _, slot := range []int64{h.Slot3, d.Slot} {
				a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/slots/%d/close", slot), d.Sched, nil)
			}
			for _, b := range []struct {
				id   int64
				want string
			}{{b2, "no_show"}, {b3, "cancelled"}} {
				var status string
				if err := a.DB.Get(&status, `SELECT status FROM bookings WHERE id = $1`, b.id); err != nil || status != b.want {
					t.Errorf("booking %d: %s (%v), want %s", b.id, status, err, b.want)
				}
			}
		})
	}
}
