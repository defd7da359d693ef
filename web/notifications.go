package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/internal/notify"
	"examd/internal/refusal"
)

// notificationsView is the data of the candidate's 通知 page.
type notificationsView struct {
	Items  []notify.Item
	Unread int
	// Unseen are the ids of the unread notes shown, which 全部标为已读
	// marks (the notes arriving later stay unread).
	Unseen string
}

// notifications lists the candidate's notifications, newest first, the
// unread ones marked; the layout's script adds new ones live.
func (h Handler) notifications(c echo.Context) error {
	if _, err := h.me(c); err != nil {
		return err
	}
	items, err := h.Notifications.List(c.Request().Context(), auth.Caller(c).UserID, nil)
	if err != nil {
		return err
	}
	v := notificationsView{Items: items}
	var unseen []string
	for _, it := range items {
		if !it.Read {
			v.Unread++
			unseen = append(unseen, strconv.FormatInt(it.ID, 10))
		}
	}
	v.Unseen = strings.Join(unseen, ",")
	return h.render(c, http.StatusOK, "candidate_notifications", "notifications.title", v)
}

// readNotifications marks read the notes the page showed unread (its form's
// ids), the candidate's own only, and goes back to the page.
func (h Handler) readNotifications(c echo.Context) error {
	var ids []int64
	for _, s := range strings.Split(c.Request().PostFormValue("ids"), ",") {
		if s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || len(ids) >= notify.MaxList {
			return refusal.Invalid("ids", "notification ids separated by commas")
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		if _, _, err := h.Notifications.MarkRead(c.Request().Context(), auth.Caller(c).UserID, 0, ids, h.Now()); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/notifications?done=notifications_read")
}
