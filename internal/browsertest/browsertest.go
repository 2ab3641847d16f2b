// Package browsertest drives Debian's headless Chromium from Go tests
// (through chromedp) for kessai's browser tests: the hosted checkout and
// the admin console. One browser is started on first use and shared by the
// package's tests; each test gets a tab in its own browser context
// (cookies and storage apart).
//
// A missing browser skips the test, except in CI (CI=true), where it is a
// failure: `apt-get install -y chromium fonts-noto-cjk`. A failing test
// leaves a screenshot in its artifact directory (go test -artifacts, or
// $KESSAI_ARTIFACTS). Every Content-Security-Policy violation on the
// tested server's pages fails the test. A suite ends with a leak scan of
// what the stack under test wrote (Leaks).
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

var (
	mu      sync.Mutex
	ctx0    context.Context
	stops   []func()
	err0    error
	tried   bool
	binPath string
)

// ErrNoChromium says the browser is not installed.
var ErrNoChromium = errors.New("chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")

// chromiumPath finds the browser: $KESSAI_CHROMIUM, else Debian's
// chromium (or another Chrome on PATH).
func chromiumPath() string {
	if p := os.Getenv("KESSAI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func start() (context.Context, error) {
	mu.Lock()
	defer mu.Unlock()
	if tried {
		return ctx0, err0
	}
	tried = true
	binPath = chromiumPath()
	if binPath == "" {
		err0 = ErrNoChromium
		return nil, err0
	}
	dir, err := os.MkdirTemp("", "kessai-chromium-")
	if err != nil {
		err0 = err
		return nil, err
	}
	stops = append(stops, func() { os.RemoveAll(dir) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(binPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1024, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	stops = append(stops, cancelAlloc, cancel)
	if err := chromedp.Do(ctx); err != nil {
		err0 = fmt.Errorf("starting %s: %w", binPath, err)
		return nil, err0
	}
	ctx0 = ctx
	return ctx, nil
}

// Stop ends the shared browser; call it from TestMain after m.Run.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	stops = nil
}

// Tab is one browser tab of a test.
type Tab struct {
	T *testing.T
	// Ctx is the tab's chromedp context (with the test's time limit).
	Ctx  context.Context
	base string

	mu  sync.Mutex
	csp []string
}

// NewTab opens a tab in a fresh browser context for pages of the server at
// base (Open's paths are relative to it; CSP violations on its pages fail
// the test). It skips the test when there is no browser, unless CI=true.
func NewTab(t *testing.T, base string) *Tab {
	t.Helper()
	bctx, err := start()
	if err != nil {
		if errors.Is(err, ErrNoChromium) && os.Getenv("CI") != "true" {
			t.Skip("browser test skipped: " + err.Error())
		}
		t.Fatal(err)
	}
	tctx, cancelTab := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancelTab)
	b := &Tab{T: t, base: base}
	// Every Content-Security-Policy violation is reported back (the
	// DevTools script is exempt from the policy).
	err = chromedp.Do(tctx,
		chromedp.ExposeFunc("kessaiReportCSP", func(_ context.Context, v string) (bool, error) {
			b.mu.Lock()
			b.csp = append(b.csp, v)
			b.mu.Unlock()
			return true, nil
		}),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
				Source: `document.addEventListener('securitypolicyviolation', function (e) {
					if (window.kessaiReportCSP) { window.kessaiReportCSP(e.documentURI + ' ' + e.violatedDirective + ' ' + e.blockedURI); }
				}, true);`})
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tctx, 3*time.Minute)
	t.Cleanup(cancel)
	b.Ctx = ctx
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failure")
		}
	})
	t.Cleanup(b.checkCSP)
	return b
}

// Screenshot saves the page as a PNG in the test's artifact directory.
func (b *Tab) Screenshot(name string) {
	dir := os.Getenv("KESSAI_ARTIFACTS")
	if dir != "" {
		dir = filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(b.T.Name(), "_"))
	} else {
		dir = b.T.ArtifactDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.T.Logf("screenshot: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Logf("screenshot: %v", err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.T.Logf("screenshot: %v", err)
		return
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		b.T.Logf("page %s", loc)
	}
	b.T.Logf("screenshot saved: %s", path)
}

// checkCSP fails the test for a violation on one of the server's pages.
func (b *Tab) checkCSP() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range b.csp {
		if strings.HasPrefix(v, b.base) {
			b.T.Errorf("Content-Security-Policy violation: %s", v)
		}
	}
}

// Do runs actions and fails the test on error.
func (b *Tab) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.T.Fatal(err)
	}
}

// Run runs an action with a result and fails the test on error.
func Run[T any](b *Tab, a chromedp.Action[T]) T {
	b.T.Helper()
	v, err := chromedp.Run(b.Ctx, a)
	if err != nil {
		b.T.Fatal(err)
	}
	return v
}

// Open navigates to a path of the server.
func (b *Tab) Open(path string) {
	b.T.Helper()
	b.Do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// Text waits for the element and returns its text.
func (b *Tab) Text(css string) string {
	b.T.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS(css)))
	return Run(b, chromedp.Text(chromedp.CSS(css)))
}

// TypeInto focuses a field, clears it and types v, key by key.
func (b *Tab) TypeInto(id, v string) {
	b.T.Helper()
	b.Do(chromedp.WaitVisible(chromedp.ID(id)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById(`+strconv.Quote(id)+`).value = ''`),
		chromedp.SendKeys(chromedp.ID(id), v))
}

// Click waits for the element with the id and clicks it.
func (b *Tab) Click(id string) {
	b.T.Helper()
	b.Do(chromedp.WaitVisible(chromedp.ID(id)), chromedp.Click(chromedp.ID(id)))
}

// WaitTrue waits until the JavaScript expression is true in the page,
// across navigations (an evaluation during one fails and is retried).
func (b *Tab) WaitTrue(expr string) {
	b.T.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.T.Fatalf("waited in vain for %s", expr)
}

// WaitNotice waits for the element #notice to say want (a new page: the
// old one may show another notice until the navigation ends).
func (b *Tab) WaitNotice(want string) {
	b.T.Helper()
	b.WaitTrue(`(function () { var n = document.getElementById('notice'); return !!n && n.textContent.trim() === ` + strconv.Quote(want) + `; })()`)
}

// Value is the value of the form field with the id.
func (b *Tab) Value(id string) string {
	b.T.Helper()
	return Run(b, chromedp.Value(chromedp.ID(id)))
}

// WaitError waits for the error box (#form-errors) to list a message and
// returns its text.
func (b *Tab) WaitError() string {
	b.T.Helper()
	b.Do(chromedp.WaitVisible(chromedp.CSS("#form-errors li")))
	return Run(b, chromedp.Text(chromedp.CSS("#form-errors")))
}

// AnswerDialogs answers every JavaScript dialog (confirm, alert) of the tab
// with accept, recording each message, until the test ends. Call it before
// the click that opens one.
func (b *Tab) AnswerDialogs(accept bool) *Dialogs {
	d := &Dialogs{}
	events := chromedp.Events(b.Ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.messages = append(d.messages, ev.Message)
			d.mu.Unlock()
			if _, err := chromedp.Call(b.Ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: accept}); err != nil {
				return
			}
		}
	}()
	return d
}

// Dialogs are the messages of the dialogs a tab answered.
type Dialogs struct {
	mu       sync.Mutex
	messages []string
}

// Messages returns the messages so far.
func (d *Dialogs) Messages() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.messages...)
}
