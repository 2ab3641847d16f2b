package htmlform

import (
	"html"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// pageTmpl renders a hand-back form the way the simulator's and the
// hosted pages' html/template files do.
var pageTmpl = template.Must(template.New("p").Parse(`<!doctype html><html><body>
<p>{{.Text}}</p>
<form id="sim-autosubmit" method="post" action="https://shop.example/return">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="go" value="{{.Button}}">送信</button>
</form></body></html>`))

type field struct{ Name, Value string }

// FuzzParse: Parse, Scan, Attrs and AutoSubmitted never panic on any
// page; a form written with escaped attributes (html.EscapeString, or
// html/template as the real pages are rendered) reads back exactly: its
// action, its fields and buttons, and the names in page order.
func FuzzParse(f *testing.F) {
	f.Add("/pay?a=1&b=2", "EncryptValue", "abc+/=", "MerchantId", "030000001", "<p>戻る</p>")
	f.Add("", "", "", "x", "", "")
	f.Add("https://shop.example/r", "a", "<form action=\"/x\"></form>", "b", "'\"&amp;", "<form><input name=z value=1></form>")
	f.Add("/x", "名前", "値\r\n", "name", "value=x name=y", "<FORM action=/q><INPUT NAME=q VALUE=1></FORM>")
	f.Add("/", "n", "\xff", "m", "\x00", "<form action='/a'><input name=a value='b'><button name=c>")
	f.Fuzz(func(t *testing.T, action, n1, v1, n2, v2, noise string) {
		// Arbitrary text around the forms must not break anything.
		for _, page := range []string{noise, "<form " + noise, noise + "</form>"} {
			for _, fm := range Parse(page) {
				if fm.Fields == nil {
					t.Fatalf("form without a field map in %q", page)
				}
			}
			_ = Scan(page)
			_, _, _ = AutoSubmitted(page)
			for k := range Attrs(page) {
				if k != strings.ToLower(k) || k == "" {
					t.Fatalf("attribute name %q from %q", k, page)
				}
			}
		}
		// A page whose noise is outside the form (escaped as text).
		esc := html.EscapeString
		page := "<p>" + esc(noise) + "</p><form method=\"post\" action=\"" + esc(action) + "\">" +
			"<input type=\"hidden\" name=\"" + esc(n1) + "\" value=\"" + esc(v1) + "\">" +
			"<input name=\"" + esc(n2) + "\" value=\"" + esc(v2) + "\">" +
			"<button name=\"go\" value=\"" + esc(v1) + "\">Go</button></form>"
		forms := Parse(page)
		if len(forms) != 1 {
			t.Fatalf("%d forms in %q", len(forms), page)
		}
		got := forms[0]
		want := url.Values{}
		var names []string
		for _, kv := range [][2]string{{n1, v1}, {n2, v2}} {
			if kv[0] != "" {
				want.Set(kv[0], kv[1])
				names = append(names, kv[0])
			}
		}
		names = append(names, "go")
		if got.Action != action || !equalValues(got.Fields, want) || !slices.Equal(got.Names, names) ||
			len(got.Buttons) != 1 || got.Buttons[0].Get("go") != v1 {
			t.Fatalf("Parse(%q) = %#v", page, got)
		}
		if n1 == "EncryptValue" && v1 != "" && (n2 != "EncryptValue" || v2 != "") {
			a, ev, ok := AutoSubmitted(page)
			if !ok || a != action || ev != want.Get("EncryptValue") {
				t.Fatalf("AutoSubmitted = %q, %q, %v", a, ev, ok)
			}
		}
		// html/template writes valid UTF-8 and replaces NUL: compare
		// against what it could faithfully render.
		if !utf8.ValidString(n1+v1+n2+v2+noise) || strings.ContainsRune(n1+v1+n2+v2+noise, 0) {
			return
		}
		var b strings.Builder
		fields := []field{{n1, v1}, {n2, v2}}
		if err := pageTmpl.Execute(&b, struct {
			Text, Button string
			Fields       []field
		}{noise, v2, fields}); err != nil {
			t.Fatal(err)
		}
		forms = Parse(b.String())
		if len(forms) != 1 || forms[0].Action != "https://shop.example/return" || !equalValues(forms[0].Fields, want) ||
			len(forms[0].Buttons) != 1 || forms[0].Buttons[0].Get("go") != v2 {
			t.Fatalf("template page %q read as %#v", b.String(), forms)
		}
	})
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
