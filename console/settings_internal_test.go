package console

import (
	"slices"
	"testing"
)

// OPS-09: SPS registers only public https URLs as 入金結果通知URL.
func TestSettingsNotifyURLProblems(t *testing.T) {
	cases := []struct {
		url  string
		want []string
	}{
		{"https://pay.shop.example.co.jp/escott/notify", nil},
		{"https://203.0.113.5/escott/notify", nil},
		{"http://pay.shop.co.jp/escott/notify", []string{"settings_gl_notify_https"}},
		{"https://localhost:8080/escott/notify", []string{"settings_gl_notify_local"}},
		{"http://127.0.0.1:8080/escott/notify", []string{"settings_gl_notify_https", "settings_gl_notify_local"}},
		{"https://[::1]/escott/notify", []string{"settings_gl_notify_local"}},
		{"https://192.168.1.10/escott/notify", []string{"settings_gl_notify_local"}},
		{"https://10.0.0.1/escott/notify", []string{"settings_gl_notify_local"}},
		{"https://kessai/escott/notify", []string{"settings_gl_notify_local"}},
		{"https://shop.test/escott/notify", []string{"settings_gl_notify_local"}},
		{"https://kessai.local./escott/notify", []string{"settings_gl_notify_local"}},
		{"/escott/notify", []string{"settings_gl_notify_invalid"}},
	}
	for _, c := range cases {
		if got := settingsNotifyURLProblems(c.url); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.url, got, c.want)
		}
	}
}

// Numbers as operators type them with a Japanese input method.
func TestSettingsInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"7", 7, true}, {" 60 ", 60, true}, {"１１０１", 1101, true}, {"1,100", 1100, true}, {"－1", -1, true},
		{"5　500", 5500, true}, {"", 0, false}, {"seven", 0, false}, {"7.5", 0, false}, {"1e3", 0, false},
		{"99999999999999999999", 0, false}, {"*", 0, false},
	}
	for _, c := range cases {
		if got, ok := settingsInt(c.in); ok != c.ok || (ok && got != c.want) {
			t.Errorf("settingsInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if got := settingsNarrow("＊"); got != "*" {
		t.Errorf("full-width asterisk: %q", got)
	}
}
