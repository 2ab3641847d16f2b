// Package htmlform reads the forms of the HTML pages the gateway
// simulator and the hosted pages show a browser, for tests.
//
// It is a small regular-expression reader, enough for the pages these
// packages render; it is not an HTML parser.
package htmlform

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

var (
	reForm    = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reControl = regexp.MustCompile(`(?is)<(input|button|select)\b([^>]*)>`)
	reAttr    = regexp.MustCompile(`(?is)([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
)

// Attrs returns the attributes of a tag's attribute text (what follows
// the tag name), names lowercased and values unescaped. Attributes
// without a value are left out.
func Attrs(s string) map[string]string {
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

// Raw is one form as written in the page.
type Raw struct {
	// Attrs are the form tag's attributes.
	Attrs map[string]string
	// Body is the HTML between <form> and </form>.
	Body string
	// Controls are the input, button and select tags, in page order.
	Controls []Control
}

// Control is one input, button or select tag of a form.
type Control struct {
	// Tag is the tag name, lowercased: input, button or select.
	Tag string
	// Attrs are the tag's attributes.
	Attrs map[string]string
	// Src is the tag as written.
	Src string
}

// Scan returns the forms of a page as written.
func Scan(page string) []Raw {
	var out []Raw
	for _, fm := range reForm.FindAllStringSubmatch(page, -1) {
		r := Raw{Attrs: Attrs(fm[1]), Body: fm[2]}
		for _, cm := range reControl.FindAllStringSubmatch(fm[2], -1) {
			r.Controls = append(r.Controls, Control{Tag: strings.ToLower(cm[1]), Attrs: Attrs(cm[2]), Src: cm[0]})
		}
		out = append(out, r)
	}
	return out
}

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

// Parse returns the forms of a page: their inputs and buttons (select
// tags are not read).
func Parse(page string) []Form {
	var out []Form
	for _, r := range Scan(page) {
		f := Form{Action: r.Attrs["action"], Fields: url.Values{}}
		for _, c := range r.Controls {
			name := c.Attrs["name"]
			if c.Tag == "select" || name == "" {
				continue
			}
			f.Names = append(f.Names, name)
			if c.Tag == "button" || strings.ToLower(c.Attrs["type"]) == "submit" {
				f.Buttons = append(f.Buttons, url.Values{name: {c.Attrs["value"]}})
				continue
			}
			f.Fields.Set(name, c.Attrs["value"])
		}
		out = append(out, f)
	}
	return out
}

// AutoSubmitted returns the action and EncryptValue of the simulator's
// hand-back page: the first form with a non-empty EncryptValue field.
// ok is false when the page has none.
func AutoSubmitted(page string) (action, encryptValue string, ok bool) {
	for _, f := range Parse(page) {
		if v := f.Fields.Get("EncryptValue"); v != "" {
			return f.Action, v, true
		}
	}
	return "", "", false
}
