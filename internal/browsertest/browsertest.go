// Package browsertest starts the system's headless Chromium for tests, driven
// by chromedp, and keeps the screenshots they take as artefacts.
//
// The browser is Debian's chromium (/usr/bin/chromium), or the one that
// WHMCS_MCP_TEST_CHROMIUM names; never a browser downloaded for the tests.
// Outside CI a test skips when there is none or it cannot start; under
// CI=true it fails, so that a missing browser never passes unnoticed
// (.ci/run installs chromium).
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startTimeout bounds the browser's start.
const startTimeout = time.Minute

// DefaultChromium is where Debian's chromium package puts its launcher.
const DefaultChromium = "/usr/bin/chromium"

// Viewports the tests look at the pages in.
var (
	// Phone is a phone held upright (CSS pixels, device scale 2).
	Phone = Viewport{Name: "phone", Width: 390, Height: 844, Scale: 2, Mobile: true}
	// Desktop is a laptop's browser window.
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 800, Scale: 1}
)

// Viewport is a browser window's size.
type Viewport struct {
	Name          string
	Width, Height int64
	Scale         float64
	Mobile        bool
}

// Emulate sets the tab's viewport to v.
func (v Viewport) Emulate() chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.Scale)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile)
	}
	return chromedp.EmulateViewport(v.Width, v.Height, opts...)
}

// Path returns the Chromium to run: WHMCS_MCP_TEST_CHROMIUM, or
// DefaultChromium.
func Path() string {
	if p := os.Getenv("WHMCS_MCP_TEST_CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// inCI reports whether the tests run under CI (CI=true), where a browser
// test must not skip.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// unavailable fails the test under CI and skips it elsewhere.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("%s (CI=true: a browser test fails rather than skips; .ci/run installs Debian's chromium)", msg)
	}
	t.Skipf("%s; install Debian's chromium (apt-get install chromium) or set WHMCS_MCP_TEST_CHROMIUM to run it", msg)
}

// New starts a headless Chromium with one tab and returns the tab's
// context; the browser stops when the test ends. Each browser has its own
// profile, so cookies never leak between tests.
func New(t testing.TB) context.Context {
	t.Helper()
	path := Path()
	if _, err := exec.LookPath(path); err != nil {
		unavailable(t, "no Chromium at %s: %v", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
	)
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
	})
	// Start the browser now, so that a browser that cannot start is told
	// apart from a test's failure. The first run must get the tab's own
	// context (the browser lives as long as the context it starts in), so
	// the start-up bound cancels the tab rather than a derived context.
	bound := time.AfterFunc(startTimeout, cancelTab)
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
	if !bound.Stop() && err == nil {
		err = fmt.Errorf("no answer within %s", startTimeout)
	}
	if err != nil {
		unavailable(t, "Chromium (%s) did not start: %v", path, err)
	}
	t.Logf("browser: %s (%s)", path, version)
	return ctx
}

// ArtifactDir returns the directory test artefacts go to, created if need
// be: WHMCS_MCP_TEST_ARTIFACTS if set, else artifacts/ in the test's
// package directory (the working directory of go test; gitignored), so
// that they outlive the run.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("WHMCS_MCP_TEST_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatalf("test artefacts: %v", err)
	}
	return abs
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot takes a screenshot of the whole page in ctx's tab as a PNG,
// writes it to ArtifactDir as TEST-NAME.png, logs its path and returns it.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := unsafeName.ReplaceAllString(t.Name()+"-"+name, "_") + ".png"
	path := filepath.Join(ArtifactDir(t), file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot: %s", path)
	return path
}
