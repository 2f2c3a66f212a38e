package browsertest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserShowsAPageAndTakesAScreenshot(t *testing.T) {
	ctx := New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><p id="p">hello &amp; welcome</p>`)
	}))
	defer srv.Close()
	if err := chromedp.Do(ctx, Phone.Emulate(), chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("p")))
	if err != nil || got != "hello & welcome" {
		t.Fatalf("the page's text: %q, %v", got, err)
	}
	dir := t.TempDir()
	t.Setenv("WHMCS_MCP_TEST_ARTIFACTS", dir)
	path := Screenshot(t, ctx, "page")
	if filepath.Dir(path) != dir {
		t.Errorf("screenshot in %s, want in WHMCS_MCP_TEST_ARTIFACTS (%s)", path, dir)
	}
	png, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the screenshot is not a PNG: %v", err)
	}
}

// TestNoBrowser runs itself in a child process without a browser, where New
// must fail under CI=true and skip elsewhere.
func TestNoBrowser(t *testing.T) {
	if os.Getenv("BROWSERTEST_HELPER") == "1" { // the child
		New(t)
		t.Error("New returned without a browser")
		return
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoBrowser$", "-test.v")
		cmd.Env = append(os.Environ(), "BROWSERTEST_HELPER=1", "CI="+ci,
			"WHMCS_MCP_TEST_CHROMIUM="+filepath.Join(t.TempDir(), "no-chromium"))
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "true" && (err == nil || !strings.Contains(string(out), "--- FAIL") || !strings.Contains(string(out), "CI=true")):
			t.Errorf("CI=true without a browser: want a failure that says why, got %v:\n%s", err, out)
		case ci == "" && (err != nil || !strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "apt-get install chromium")):
			t.Errorf("without CI and without a browser: want a skip that says what to install, got %v:\n%s", err, out)
		}
	}
}
