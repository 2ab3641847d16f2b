package htmlform

import (
	"net/url"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		page string
		want []Form
	}{
		{"no forms", `<html><body><p>nothing</p></body></html>`, nil},
		{"empty form", `<form action="/x"></form>`,
			[]Form{{Action: "/x", Fields: url.Values{}}}},
		{"inputs and buttons",
			`<form method="post" action="/pay">
			  <input type="hidden" name="a" value="1">
			  <input name="b" value="2">
			  <input type="text" value="no name">
			  <input type="SUBMIT" name="go" value="Go">
			  <button name="cancel" value="yes">Cancel</button>
			  <select name="s"><option value="o1">1</option></select>
			</form>`,
			[]Form{{
				Action:  "/pay",
				Fields:  url.Values{"a": {"1"}, "b": {"2"}},
				Buttons: []url.Values{{"go": {"Go"}}, {"cancel": {"yes"}}},
				Names:   []string{"a", "b", "go", "cancel"},
			}}},
		{"quoting",
			`<FORM ACTION='/q'><INPUT NAME=d VALUE=plain><input name='s' value='single "q"'><input name="dq" value="double 'q'"></FORM>`,
			[]Form{{
				Action: "/q",
				Fields: url.Values{"d": {"plain"}, "s": {`single "q"`}, "dq": {"double 'q'"}},
				Names:  []string{"d", "s", "dq"},
			}}},
		{"entities",
			`<form action="/e?a=1&amp;b=2"><input name="v" value="&lt;x&gt; &quot;y&quot; &#39;z&#39;"></form>`,
			[]Form{{
				Action: "/e?a=1&b=2",
				Fields: url.Values{"v": {`<x> "y" 'z'`}},
				Names:  []string{"v"},
			}}},
		{"two forms", `<form action="/1"><input name="a" value="x"></form><form action="/2"></form>`,
			[]Form{
				{Action: "/1", Fields: url.Values{"a": {"x"}}, Names: []string{"a"}},
				{Action: "/2", Fields: url.Values{}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.page); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestAttrs(t *testing.T) {
	got := Attrs(` ID="i" data-x='a b' n=v checked Value="&amp;"`)
	want := map[string]string{"id": "i", "data-x": "a b", "n": "v", "value": "&"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Attrs = %v, want %v", got, want)
	}
}

func TestScan(t *testing.T) {
	rs := Scan(`<form id="f"><select name="s"><option value="1"></select><Button name="b"></form>`)
	if len(rs) != 1 || rs[0].Attrs["id"] != "f" || len(rs[0].Controls) != 2 {
		t.Fatalf("Scan = %#v", rs)
	}
	if c := rs[0].Controls[0]; c.Tag != "select" || c.Attrs["name"] != "s" || c.Src != `<select name="s">` {
		t.Errorf("control 0 = %#v", c)
	}
	if c := rs[0].Controls[1]; c.Tag != "button" || c.Attrs["name"] != "b" {
		t.Errorf("control 1 = %#v", c)
	}
}

func TestAutoSubmitted(t *testing.T) {
	page := `<form action="/other"><input name="x" value="1"></form>
<form id="sim-autosubmit" method="post" action="https://shop.example/return">
<input type="hidden" name="MerchantId" value="m">
<input type="hidden" name="EncryptValue" value="abc+/=">
</form>`
	action, ev, ok := AutoSubmitted(page)
	if !ok || action != "https://shop.example/return" || ev != "abc+/=" {
		t.Errorf("AutoSubmitted = %q, %q, %v", action, ev, ok)
	}
	if _, _, ok := AutoSubmitted(`<form action="/x"><input name="EncryptValue" value=""></form>`); ok {
		t.Error("AutoSubmitted found an empty EncryptValue")
	}
	if _, _, ok := AutoSubmitted(`<p>no form</p>`); ok {
		t.Error("AutoSubmitted found a form in a page without one")
	}
}
