package collection

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kessai/kessai"
)

// TestNameKanji: last name immediately followed by first name (§10.2,
// CVS-03).
func TestNameKanji(t *testing.T) {
	for _, c := range []struct {
		b    kessai.Billing
		want string
	}{
		{kessai.Billing{LastName: "山田", FirstName: "太郎"}, "山田太郎"},
		{kessai.Billing{LastName: " 山田\u3000", FirstName: "\u3000太郎 "}, "山田太郎"},
		{kessai.Billing{LastName: "Smith", FirstName: "John"}, "SmithJohn"},
		{kessai.Billing{LastName: "山田"}, "山田"},
		{kessai.Billing{}, ""},
	} {
		if got := NameKanji(c.b); got != c.want {
			t.Errorf("NameKanji(%+v) = %q, want %q", c.b, got, c.want)
		}
	}
}

// TestNameKana: kana last + first in full-width katakana, falling back to
// the kanji name when both are empty (§10.2, CVS-03, PRO 1.1.11).
func TestNameKana(t *testing.T) {
	for _, c := range []struct {
		b    kessai.Billing
		want string
	}{
		{kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ﾔﾏﾀﾞ", FirstNameKana: "たろう"}, "ヤマダタロウ"},
		{kessai.Billing{LastNameKana: "ヤマダ", FirstNameKana: "タロウ"}, "ヤマダタロウ"},
		{kessai.Billing{LastNameKana: " ﾔﾏﾀﾞ ", FirstNameKana: "\u3000ﾀﾛｳ"}, "ヤマダタロウ"},
		{kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ"}, "ヤマダ"}, // one part is enough
		{kessai.Billing{LastName: "山田", FirstName: "太郎"}, "山田太郎"},                     // fallback
		{kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "\u3000", FirstNameKana: " "}, "山田太郎"},
		{kessai.Billing{}, ""},
	} {
		if got := NameKana(c.b); got != c.want {
			t.Errorf("NameKana(%+v) = %q, want %q", c.b, got, c.want)
		}
	}
}

// items builds products (not fee lines) with the given names.
func items(names ...string) []kessai.LineItem {
	var out []kessai.LineItem
	for _, n := range names {
		out = append(out, kessai.LineItem{Name: n, Quantity: 1, UnitAmount: 1000})
	}
	return out
}

// TestShouhinName covers design A-05 and spec §10.2 (CVS-03): first
// non-fee item, full-width, 16 characters; one item: 13 + 「…」 when
// longer; several items: always 「、他」, with 12 + 「、他」 when the name
// and suffix do not fit.
func TestShouhinName(t *testing.T) {
	fee := kessai.LineItem{Name: FeeLineName, Quantity: 1, UnitAmount: 330, Fee: true, Virtual: true}
	const (
		n16 = "あいうえおかきくけこさしすせそた" // 16 characters
		n17 = n16 + "ち"
		n14 = "あいうえおかきくけこさしすせ"
		n15 = n14 + "そ"
	)
	for _, c := range []struct {
		name  string
		items []kessai.LineItem
		lang  string
		want  string
	}{
		{"single short", items("Tシャツ"), "ja", "Ｔシャツ"},
		{"single converted", items("ｺｰﾋｰ豆 500g"), "ja", "コーヒー豆　５００ｇ"},
		{"single exactly 16", items(n16), "ja", n16},
		{"single 17 → 13 + …", items(n17), "ja", "あいうえおかきくけこさしす…"},
		{"single ASCII 17 counted after widening", items("ABCDEFGHIJKLMNOPQ"), "ja", "ＡＢＣＤＥＦＧＨＩＪＫＬＭ…"},
		{"single half-width kana merged before counting", items("ｶﾞｷﾞｸﾞｹﾞｺﾞｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞﾊﾞ"), "ja", "ガギグゲゴザジズゼゾダヂヅデドバ"},
		{"multi short gets 、他 (A-05)", items("Tシャツ", "帽子"), "ja", "Ｔシャツ、他"},
		{"multi 14 + 、他 = 16 fits", items(n14, "帽子"), "ja", n14 + "、他"},
		{"multi 15 → 12 + 、他", items(n15, "帽子"), "ja", "あいうえおかきくけこさし、他"},
		{"multi 16 → 12 + 、他", items(n16, "帽子"), "ja", "あいうえおかきくけこさし、他"},
		{"multi long", items(strings.Repeat("長", 40), "x", "y"), "ja", strings.Repeat("長", 12) + "、他"},
		{"fee line first is skipped", append([]kessai.LineItem{fee}, items("帽子")...), "ja", "帽子"},
		{"fee line does not count as another item", append(items("帽子"), fee), "ja", "帽子"},
		{"fee line between items", []kessai.LineItem{fee, items("帽子")[0], fee, items("靴")[0]}, "ja", "帽子、他"},
		{"emoji is one character each", items(strings.Repeat("😀", 16)), "ja", strings.Repeat("😀", 16)},
		{"emoji 17 → 13 + …", items(strings.Repeat("😀", 17)), "ja", strings.Repeat("😀", 13) + "…"},
		{"multi-byte multi", items(strings.Repeat("𠮷", 15), "x"), "ja", strings.Repeat("𠮷", 12) + "、他"},
		{"spaces trimmed", items("  帽子\u3000"), "ja", "帽子"},
		{"no space before the suffix", items("ABCDEFGHIJKL MNOPQRS"), "ja", "ＡＢＣＤＥＦＧＨＩＪＫＬ…"},
		{"controls become spaces", items("帽\t子\n"), "ja", "帽\u3000子"},
		{"no items", nil, "ja", "ご注文商品"},
		{"only a fee line", []kessai.LineItem{fee}, "ja", "ご注文商品"},
		{"blank name", items(" "), "ja", "ご注文商品"},
		{"blank first of several", items("", "帽子"), "ja", "ご注文商品、他"},
		{"en single short", items("Hat"), "en", "Ｈａｔ"},
		{"en single 17 → 13 + …", items(n17), "en", "あいうえおかきくけこさしす…"},
		{"en multi short", items("Hat", "Cap"), "en", "Ｈａｔ　ｅｔｃ．"},
		{"en multi 11 + etc. = 16 fits", items("ABCDEFGHIJK", "x"), "en", "ＡＢＣＤＥＦＧＨＩＪＫ　ｅｔｃ．"},
		{"en multi 12 → 9 + etc.", items("ABCDEFGHIJKL", "x"), "en", "ＡＢＣＤＥＦＧＨＩ　ｅｔｃ．"},
		{"en no items", nil, "en", "Ｏｒｄｅｒ"},
		{"unknown lang is Japanese", items("Hat", "Cap"), "fr", "Ｈａｔ、他"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := ShouhinName(c.items, c.lang)
			if got != c.want {
				t.Errorf("ShouhinName = %q, want %q", got, c.want)
			}
			if n := utf8.RuneCountInString(got); n == 0 || n > MaxShouhinName {
				t.Errorf("ShouhinName %q has %d characters", got, n)
			}
			// What the simulator accepts (K53): no ASCII, no half-width kana.
			for _, r := range got {
				if r < 0x80 || (r >= 0xFF61 && r <= 0xFF9F) {
					t.Errorf("ShouhinName %q contains %U", got, r)
				}
			}
		})
	}
}

// TestTelNo covers the phone normalisation for 2Add's TelNo (§10.2, K28):
// 10–11 digits, hyphens kept where the shopper grouped, full-width and IME
// forms accepted.
func TestTelNo(t *testing.T) {
	for _, c := range []struct {
		in, want string
		code     string // error code, "" for success
	}{
		{"09012345678", "09012345678", ""},
		{"090-1234-5678", "090-1234-5678", ""},
		{"03-1234-5678", "03-1234-5678", ""},
		{"0312345678", "0312345678", ""},
		{"０９０－１２３４－５６７８", "090-1234-5678", ""},
		{"０９０ー１２３４ー５６７８", "090-1234-5678", ""}, // IME long-vowel mark typed for "-"
		{"090‐1234‐5678", "090-1234-5678", ""}, // U+2010
		{"090−1234−5678", "090-1234-5678", ""}, // U+2212
		{"090 1234 5678", "090-1234-5678", ""},
		{" 090-1234-5678 ", "090-1234-5678", ""},
		{"03(1234)5678", "03-1234-5678", ""},
		{"(03)1234-5678", "03-1234-5678", ""},
		{"（03）1234－5678", "03-1234-5678", ""},
		{"090--1234--5678", "090-1234-5678", ""},     // runs collapse
		{"-090-1234-5678-", "090-1234-5678", ""},     // no leading/trailing hyphen
		{"0-9-0-1-2-3-4-5-6-7-8", "09012345678", ""}, // too many hyphens: digits only
		{"0120-123-456", "0120-123-456", ""},
		{"050-1234-5678", "050-1234-5678", ""},
		{"", "", "required"},
		{"   ", "", "required"},
		{"\u3000", "", "required"},
		{"---", "", "invalid_phone"},
		{"090-1234-567", "090-1234-567", ""},      // 10 digits: a valid length
		{"090-123-456", "", "invalid_phone"},      // 9 digits
		{"123456789", "", "invalid_phone"},        // 9 digits
		{"090123456789", "", "invalid_phone"},     // 12 digits
		{"+81-90-1234-5678", "", "invalid_phone"}, // international form refused
		{"090-1234-5678 ext 1", "", "invalid_phone"},
		{"090.1234.5678", "", "invalid_phone"},
		{"tel:0312345678", "", "invalid_phone"},
		{"0312345678\x00", "", "invalid_phone"},
		{"03\xff12345678", "", "invalid_phone"},
	} {
		got, err := TelNo(c.in)
		if c.code == "" {
			if err != nil || got != c.want {
				t.Errorf("TelNo(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			continue
		}
		var e *kessai.Error
		if !errors.As(err, &e) || e.Code != c.code || e.Field != "billing.phone" || e.Kind != kessai.KindInvalid || e.Ja == "" || e.En == "" {
			t.Errorf("TelNo(%q) = %q, %#v; want error %s on billing.phone", c.in, got, err, c.code)
		}
	}
}

// validBilling is a billing identity that passes Validate.
func validBilling() kessai.Billing {
	return kessai.Billing{LastName: "山田", FirstName: "太郎", LastNameKana: "ヤマダ", FirstNameKana: "タロウ", Phone: "090-1234-5678", Email: "taro@example.jp"}
}

// TestValidate covers the server-side check of CVS-02 (kana required, with
// its Japanese messages) and the other 2Add fields (K51, K52, K28).
func TestValidate(t *testing.T) {
	type want struct{ field, code string }
	for _, c := range []struct {
		name   string
		modify func(*kessai.Billing)
		want   []want
	}{
		{"valid", func(*kessai.Billing) {}, nil},
		{"half-width and hiragana kana", func(b *kessai.Billing) { b.LastNameKana, b.FirstNameKana = "ﾔﾏﾀﾞ", "たろう" }, nil},
		{"Latin kana accepted as the plugins do", func(b *kessai.Billing) { b.LastNameKana, b.FirstNameKana = "Smith", "John" }, nil},
		{"full-width phone", func(b *kessai.Billing) { b.Phone = "０９０１２３４５６７８" }, nil},
		{"missing kana (CVS-02)", func(b *kessai.Billing) { b.LastNameKana, b.FirstNameKana = "", " " },
			[]want{{"billing.last_name_kana", "required"}, {"billing.first_name_kana", "required"}}},
		{"missing kanji", func(b *kessai.Billing) { b.LastName, b.FirstName = "", "\u3000" },
			[]want{{"billing.last_name", "required"}, {"billing.first_name", "required"}}},
		{"control characters", func(b *kessai.Billing) { b.LastName, b.FirstNameKana = "山\n田", "タロウ\x00" },
			[]want{{"billing.last_name", "invalid_characters"}, {"billing.first_name_kana", "invalid_characters"}}},
		{"invalid UTF-8", func(b *kessai.Billing) { b.FirstName = "\xff" },
			[]want{{"billing.first_name", "invalid_characters"}}},
		{"kanji name too long", func(b *kessai.Billing) {
			b.LastName, b.FirstName = strings.Repeat("山", 20), strings.Repeat("田", 21)
		}, []want{{"billing.last_name", "too_long"}}},
		{"kanji name 40 fits", func(b *kessai.Billing) {
			b.LastName, b.FirstName = strings.Repeat("山", 20), strings.Repeat("田", 20)
		}, nil},
		{"kana too long after conversion", func(b *kessai.Billing) {
			b.LastNameKana, b.FirstNameKana = strings.Repeat("ア", 20), strings.Repeat("イ", 21)
		}, []want{{"billing.last_name_kana", "too_long"}}},
		{"half-width voiced kana counted merged", func(b *kessai.Billing) {
			b.LastNameKana, b.FirstNameKana = strings.Repeat("ｶﾞ", 20), strings.Repeat("ｷﾞ", 20) // 80 runes, 40 merged
		}, nil},
		{"missing phone", func(b *kessai.Billing) { b.Phone = "" }, []want{{"billing.phone", "required"}}},
		{"bad phone", func(b *kessai.Billing) { b.Phone = "12345" }, []want{{"billing.phone", "invalid_phone"}}},
		{"everything missing", func(b *kessai.Billing) { *b = kessai.Billing{} }, []want{
			{"billing.last_name", "required"}, {"billing.first_name", "required"},
			{"billing.last_name_kana", "required"}, {"billing.first_name_kana", "required"},
			{"billing.phone", "required"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := validBilling()
			c.modify(&b)
			v := Validate(b)
			if len(c.want) == 0 {
				if v != nil {
					t.Fatalf("Validate = %v, want nil", v)
				}
				return
			}
			if len(v) != len(c.want) {
				t.Fatalf("Validate = %d errors %v, want %v", len(v), v, c.want)
			}
			for i, e := range v {
				if e.Field != c.want[i].field || e.Code != c.want[i].code {
					t.Errorf("error %d = %s/%s, want %s/%s", i, e.Field, e.Code, c.want[i].field, c.want[i].code)
				}
				if e.Kind != kessai.KindInvalid || e.Ja == "" || e.En == "" {
					t.Errorf("error %d = %#v: want kind invalid with ja and en", i, e)
				}
			}
		})
	}
}

// TestValidateKanaMessages pins CVS-02's Japanese texts.
func TestValidateKanaMessages(t *testing.T) {
	b := validBilling()
	b.LastNameKana, b.FirstNameKana = "", ""
	v := Validate(b)
	if len(v) != 2 {
		t.Fatalf("Validate = %v", v)
	}
	if got := v[0].Message("ja"); got != "請求先姓（カナ）を入力してください。" {
		t.Errorf("last kana message = %q", got)
	}
	if got := v[1].Message("ja"); got != "請求先名（カナ）を入力してください。" {
		t.Errorf("first kana message = %q", got)
	}
	if got := v[0].Message("en"); got != "Enter the billing last name in kana." {
		t.Errorf("last kana message (en) = %q", got)
	}
}
