package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/refusal"
	"examd/internal/secret"
)

// MinPasswordLength is the shortest new password a user may choose, in
// characters.
const MinPasswordLength = 10

// Refusals of a password change, each on its field, all reported at once.
var (
	ErrWrongPassword    = &refusal.Error{Code: "wrong_password", Message: "原密码不正确", Field: "old_password"}
	ErrPasswordTooShort = &refusal.Error{Code: "password_too_short", Message: "新密码至少10个字符", Field: "new_password"}
	ErrPasswordTooLong  = &refusal.Error{Code: "password_too_long", Message: "新密码不能超过72个字节", Field: "new_password"}
	ErrPasswordMismatch = &refusal.Error{Code: "password_mismatch", Message: "两次输入的新密码不一致", Field: "repeat"}
)

// PasswordChange is a user's request to change their own password.
type PasswordChange struct {
	Old    string `json:"old_password"`
	New    string `json:"new_password"`
	Repeat string `json:"repeat"`
}

// ChangePassword checks the user's old password and sets the new one,
// refusing with every bad field at once (a refusal.List). It ends the user's
// other sessions: whoever knew the old password is signed out everywhere,
// while the session token that asked (the caller's) stays open.
func (s *Store) ChangePassword(ctx context.Context, userID int64, ch PasswordChange, token string) error {
	var hash string
	err := s.db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE id = $1`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return refusal.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("find user %d: %w", userID, err)
	}
	ok, err := s.matches(ctx, []byte(hash), ch.Old)
	if err != nil {
		return err
	}
	var bad refusal.List
	if !ok {
		bad = append(bad, ErrWrongPassword)
	}
	switch {
	case utf8.RuneCountInString(ch.New) < MinPasswordLength:
		bad = append(bad, ErrPasswordTooShort)
	case len(ch.New) > 72: // bcrypt reads no further
		bad = append(bad, ErrPasswordTooLong)
	}
	if ch.New != ch.Repeat {
		bad = append(bad, ErrPasswordMismatch)
	}
	if err := bad.Err(); err != nil {
		return err
	}
	newHash, err := s.Hash(ctx, ch.New)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, newHash); err != nil {
		return fmt.Errorf("set password of %d: %w", userID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, secret.Hash(token)); err != nil {
		return fmt.Errorf("end other sessions of %d: %w", userID, err)
	}
	return tx.Commit()
}

// changePassword is POST /me/password: the caller changes their own
// password; their other sessions end.
func (h Handler) changePassword(c echo.Context) error {
	var ch PasswordChange
	if err := api.Bind(c, &ch); err != nil {
		return err
	}
	tok, _ := bearer(c.Request())
	if err := h.Store.ChangePassword(c.Request().Context(), Caller(c).UserID, ch, tok); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
