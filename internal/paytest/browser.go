package paytest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/internal/htmlform"
)

// The shopper's browser: plain HTTP against the simulator's pages and the
// receiver, redirects not followed.

// Resp is one browser answer.
type Resp struct {
	Status int
	Body   string
	// Loc is the Location header of a redirect.
	Loc string
}

// NoRedirect is the browser's client: it does not follow redirects.
var NoRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// Browse sends one browser request: form is the body of a POST, the query
// of anything else.
func (e *Env) Browse(method, target string, form url.Values) Resp {
	e.T.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	} else if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(e.Ctx, method, target, body)
	if err != nil {
		e.T.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := NoRedirect.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	return Resp{Status: res.StatusCode, Body: string(b), Loc: res.Header.Get("Location")}
}

// SimAction makes a form action of a simulator page absolute.
func (e *Env) SimAction(action string) string {
	u, err := url.Parse(action)
	if err != nil {
		e.T.Fatalf("bad action %q: %v", action, err)
	}
	base, _ := url.Parse(e.SimURL + "/")
	return base.ResolveReference(u).String()
}

// ---- HTML of the simulator's pages ----

// Form is one form of a page.
type Form = htmlform.Form

// ParseForms returns the forms of a page.
func ParseForms(page string) []Form { return htmlform.Parse(page) }

// AutoSubmitted returns the action and EncryptValue of the simulator's
// hand-back page.
func AutoSubmitted(t testing.TB, page string) (action, encryptValue string) {
	t.Helper()
	action, encryptValue, ok := htmlform.AutoSubmitted(page)
	if !ok {
		t.Fatalf("no auto-submitted EncryptValue in page:\n%s", page)
	}
	return action, encryptValue
}
