package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// passwordView is the password page's data: the refusals of the last try,
// by field.
type passwordView struct {
	Errors map[string]string // field → catalogue key
}

// passwordPage lets every signed-in user change their password.
func (h Handler) passwordPage(c echo.Context) error {
	return h.render(c, http.StatusOK, "account_password", "password.title", passwordView{})
}

// changePassword changes the caller's password through the auth store (the
// API's function), showing every bad field at once; the user's other
// sessions end, this one stays.
func (h Handler) changePassword(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	ch := auth.PasswordChange{Old: req.PostFormValue("old_password"), New: req.PostFormValue("new_password"), Repeat: req.PostFormValue("repeat")}
	err := h.Accounts.ChangePassword(req.Context(), auth.Caller(c).UserID, ch, h.cookieValue(c, sessionCookie))
	if all := refusal.All(err); len(all) > 0 && all[0].Field != "" {
		v := passwordView{Errors: map[string]string{}}
		for _, r := range all {
			v.Errors[r.Field] = "refusal." + r.Code
		}
		return h.render(c, http.StatusUnprocessableEntity, "account_password", "password.title", v)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account/password?done=password_changed")
}
