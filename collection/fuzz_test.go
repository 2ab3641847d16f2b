package collection

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kessai/kessai"
)

// Fuzz tests of the conversions and field builders. Seed inputs live in
// testdata/fuzz/<FuzzName>/ (committed corpora: half-width kana with every
// kind of sound mark, hiragana, NFD input, ASCII, invalid UTF-8) and run as
// ordinary tests; `go test -fuzz=FuzzToFullWidth ./collection/` explores
// further.

// halfKanaIn reports whether s contains a half-width katakana (U+FF61…
// U+FF9F), which neither conversion may leave behind.
func halfKanaIn(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }) >= 0
}

// FuzzToFullWidthKatakana: valid UTF-8 out, idempotent, never longer than
// the input, and no half-width katakana or convertible hiragana left
// (CVS-03 NameKana).
func FuzzToFullWidthKatakana(f *testing.F) {
	f.Add("ﾔﾏﾀﾞ ﾀﾛｳ")
	f.Fuzz(func(t *testing.T, s string) {
		out := ToFullWidthKatakana(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		if again := ToFullWidthKatakana(out); again != out {
			t.Fatalf("not idempotent on %q: %q then %q", s, out, again)
		}
		if utf8.RuneCountInString(out) > utf8.RuneCountInString(s) {
			t.Fatalf("%q grew to %q", s, out)
		}
		if halfKanaIn(out) {
			t.Fatalf("half-width kana left in %q (from %q)", out, s)
		}
		if strings.IndexFunc(out, isHiragana) >= 0 {
			t.Fatalf("hiragana left in %q (from %q)", out, s)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && strings.ContainsRune(out, utf8.RuneError) {
			t.Fatalf("U+FFFD made up from valid %q: %q", s, out)
		}
	})
}

// FuzzToFullWidth: valid UTF-8 out, idempotent, never longer, and no
// printable ASCII, ASCII space or half-width katakana left (ShouhinName,
// spec §3.4).
func FuzzToFullWidth(f *testing.F) {
	f.Add("Tシャツ Lｻｲｽﾞ")
	f.Fuzz(func(t *testing.T, s string) {
		out := ToFullWidth(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		if again := ToFullWidth(out); again != out {
			t.Fatalf("not idempotent on %q: %q then %q", s, out, again)
		}
		if utf8.RuneCountInString(out) > utf8.RuneCountInString(s) {
			t.Fatalf("%q grew to %q", s, out)
		}
		if halfKanaIn(out) {
			t.Fatalf("half-width kana left in %q (from %q)", out, s)
		}
		if i := strings.IndexFunc(out, func(r rune) bool { return r >= ' ' && r < 0x7F }); i >= 0 {
			t.Fatalf("printable ASCII left in %q (from %q)", out, s)
		}
	})
}

// FuzzShouhinName: whatever the item names, ShouhinName is 1–16
// characters of valid UTF-8 with no ASCII (controls included) and no
// half-width katakana: what the simulator accepts without K53.
func FuzzShouhinName(f *testing.F) {
	f.Add("Tシャツ", "帽子", uint8(2), true)
	f.Fuzz(func(t *testing.T, first, second string, n uint8, en bool) {
		var its []kessai.LineItem
		for i := range int(n % 5) {
			name := first
			if i > 0 {
				name = second
			}
			its = append(its, kessai.LineItem{Name: name, Quantity: 1, Fee: i == 1 && n%2 == 0})
		}
		lang := "ja"
		if en {
			lang = "en"
		}
		out := ShouhinName(its, lang)
		if c := utf8.RuneCountInString(out); c < 1 || c > MaxShouhinName || !utf8.ValidString(out) {
			t.Fatalf("ShouhinName(%+v) = %q (%d characters)", its, out, c)
		}
		for _, r := range out {
			if r < 0x80 || (r >= 0xFF61 && r <= 0xFF9F) {
				t.Fatalf("ShouhinName(%+v) = %q contains %U", its, out, r)
			}
		}
	})
}

var telNoForm = regexp.MustCompile(`^[0-9]+(-[0-9]+)*$`)

// FuzzTelNo: an accepted phone comes out as ASCII digit groups joined by
// single hyphens, 10–11 digits, at most 13 characters, and is accepted
// again unchanged.
func FuzzTelNo(f *testing.F) {
	f.Add("090-1234-5678")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := TelNo(s)
		if err != nil {
			if kessai.AsError(err).Field != "billing.phone" {
				t.Fatalf("TelNo(%q) error without the field: %v", s, err)
			}
			return
		}
		digits := strings.Count(out, "") - 1 - strings.Count(out, "-")
		if !telNoForm.MatchString(out) || len(out) > maxTelLen || digits < MinTelDigits || digits > MaxTelDigits {
			t.Fatalf("TelNo(%q) = %q", s, out)
		}
		if again, err := TelNo(out); err != nil || again != out {
			t.Fatalf("TelNo(%q) = %q, %v on its own output", out, again, err)
		}
	})
}
