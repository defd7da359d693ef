package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"examd/exam"
)

// TestHallCatalogue: the board builds keys from data: every exam item of
// subjects 2 (each class's course) and 3, every weekday, every subject and
// result it shows has a text in each language.
func TestHallCatalogue(t *testing.T) {
	cats, err := loadCatalogues(files)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"status." + exam.Passed, "status." + exam.Failed}
	for _, class := range []string{"C1", "C2", "C5"} {
		for _, it := range exam.Items(2, class) {
			keys = append(keys, "item."+it)
		}
	}
	for _, it := range exam.Items(3, "C1") {
		keys = append(keys, "item."+it)
	}
	for d := range 7 {
		keys = append(keys, fmt.Sprintf("hall.weekday.%d", d))
	}
	for s := 2; s <= 4; s++ {
		keys = append(keys, fmt.Sprintf("subject.%d", s))
	}
	for lang, cat := range cats {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s: no text for %s", lang, k)
			}
		}
	}
}

// TestHideToken: once a hall request is answered, its path names no token,
// so that the request log (which logs the path) does not keep it.
func TestHideToken(t *testing.T) {
	e := echo.New()
	var logged string
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			logged = c.Request().URL.Path
			return err
		}
	})
	e.GET("/hall/:token/board", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, hideToken)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hall/s3cr3t-Token_x/board", nil))
	if rec.Code != http.StatusNoContent || logged != "/hall/:token/board" {
		t.Errorf("got %d, path %q, want the token hidden", rec.Code, logged)
	}
}
