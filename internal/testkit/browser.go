package testkit

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Chromium: $EXAMD_CHROMIUM, then Debian's. Without it
// the test skips, except under CI (the variable CI set), where it fails.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("EXAMD_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium not found (/usr/bin/chromium or $EXAMD_CHROMIUM): in CI the browser tests must run; .ci/run installs it")
	}
	t.Skip("Chromium not found (/usr/bin/chromium or $EXAMD_CHROMIUM): install Debian's chromium and fonts-noto-cjk")
	return ""
}

// Chromium returns the context of a tab of a headless Chromium of its own,
// on a fresh profile, with a window of width × height CSS pixels and the
// browser language Chinese (Accept-Language zh-CN), as at the hall; cancel
// stops the browser. The browser starts on the first action.
func Chromium(t testing.TB, width, height int) (ctx context.Context, cancel func()) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	return ctx, func() { cancelTab(); cancelAlloc() }
}
