package paytest

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
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

// ---- HTML of the simulator's pages (as in escott/conformance) ----

var (
	reForm  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reInput = regexp.MustCompile(`(?is)<(?:input|button)\b([^>]*)>`)
	reAttr  = regexp.MustCompile(`(?is)([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// Form is one form of a page.
type Form struct {
	Action string
	// Fields are the named inputs that are not submit buttons.
	Fields url.Values
	// Buttons are the submit buttons, each as the value it submits.
	Buttons []url.Values
	// Names are the names of every input and button, in page order.
	Names []string
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range reAttr.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if v == "" {
			v = m[3]
		}
		if v == "" {
			v = m[4]
		}
		out[strings.ToLower(m[1])] = html.UnescapeString(v)
	}
	return out
}

// ParseForms returns the forms of a page.
func ParseForms(page string) []Form {
	var out []Form
	for _, fm := range reForm.FindAllStringSubmatch(page, -1) {
		f := Form{Action: attrs(fm[1])["action"], Fields: url.Values{}}
		for _, im := range reInput.FindAllStringSubmatch(fm[2], -1) {
			ia := attrs(im[1])
			name := ia["name"]
			if name == "" {
				continue
			}
			f.Names = append(f.Names, name)
			if strings.HasPrefix(strings.ToLower(im[0]), "<button") || strings.ToLower(ia["type"]) == "submit" {
				f.Buttons = append(f.Buttons, url.Values{name: {ia["value"]}})
				continue
			}
			f.Fields.Set(name, ia["value"])
		}
		out = append(out, f)
	}
	return out
}

// AutoSubmitted returns the action and EncryptValue of the simulator's
// hand-back page.
func AutoSubmitted(t testing.TB, page string) (action, encryptValue string) {
	t.Helper()
	for _, f := range ParseForms(page) {
		if v := f.Fields.Get("EncryptValue"); v != "" {
			return f.Action, v
		}
	}
	t.Fatalf("no auto-submitted EncryptValue in page:\n%s", page)
	return "", ""
}
