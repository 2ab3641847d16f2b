package collection

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kessai/kessai"
)

// simName is the simulator's (and, as far as the sources tell, the
// gateway's) rule for NameKanji and NameKana: present, at most MaxNameLen
// characters of valid UTF-8 without control characters (K51, K52).
func simName(v string) bool {
	return v != "" && utf8.ValidString(v) && utf8.RuneCountInString(v) <= MaxNameLen &&
		strings.IndexFunc(v, unicode.IsControl) < 0
}

// FuzzValidateBilling: a billing identity that Validate accepts (as a
// checkout does before 2Add) gives NameKanji, NameKana and TelNo that the
// gateway's rules accept; every refusal names a billing field with a
// KindInvalid error; NameKana is full-width katakana wherever kana were
// given.
func FuzzValidateBilling(f *testing.F) {
	f.Add("山田", "太郎", "ﾔﾏﾀﾞ", "たろう", "090-1234-5678")
	f.Add(" 山田 ", "\u3000太郎", "ヤマダ", "タロウ", "０３（１２３４）５６７８")
	f.Add("", "", "", "", "")
	f.Add("Smith", "John", "ｽﾐｽ", "ｼﾞｮﾝ", "+81-90-1234-5678")
	f.Add("山\x00田", "太郎", "ﾔﾏﾀﾞ", "\xff", "09012345678")
	f.Add(strings.Repeat("長", 30), strings.Repeat("名", 11), "ﾞ", "ﾟ", "0120-123-456")
	f.Add("山田", "太郎", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "ｳﾞｧ", "090ー1234ー5678")
	f.Fuzz(func(t *testing.T, last, first, lastKana, firstKana, phone string) {
		b := kessai.Billing{LastName: last, FirstName: first, LastNameKana: lastKana, FirstNameKana: firstKana, Phone: phone}
		v := Validate(b)
		for _, e := range v {
			if !strings.HasPrefix(e.Field, "billing.") || e.Kind != kessai.KindInvalid || e.Code == "" || e.Message("ja") == "" || e.Message("en") == "" {
				t.Fatalf("refusal %+v", e)
			}
		}
		kanji, kana := NameKanji(b), NameKana(b)
		if !utf8.ValidString(kana) && utf8.ValidString(lastKana+firstKana+last+first) {
			t.Fatalf("NameKana of %+v = %q", b, kana)
		}
		if len(v) > 0 {
			return
		}
		tel, err := TelNo(phone)
		if !simName(kanji) || !simName(kana) || err != nil {
			t.Fatalf("accepted %+v: NameKanji %q NameKana %q TelNo %q %v", b, kanji, kana, tel, err)
		}
		if halfKanaIn(kana) || strings.IndexFunc(kana, isHiragana) >= 0 {
			t.Fatalf("NameKana %q keeps half-width kana or hiragana", kana)
		}
		if kanji != strings.TrimFunc(last, unicode.IsSpace)+strings.TrimFunc(first, unicode.IsSpace) {
			t.Fatalf("NameKanji %q from %q %q", kanji, last, first)
		}
	})
}
