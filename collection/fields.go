package collection

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kessai/kessai"
)

// Field limits of 2Add. The gateway's real limits are not documented
// (spec §3.4 and §17 are open on characters versus Shift_JIS bytes); these
// are the plugins' ShouhinName limit and the simulator's model, so an order
// that passes Validate is one the simulator accepts and, as far as the
// sources tell, the gateway too.
const (
	// MaxShouhinName is the longest ShouhinName in characters (spec §10.2).
	MaxShouhinName = 16
	// shouhinCut is the length of a ShouhinName that had to be shortened,
	// suffix included: the plugins keep 13 characters + 「…」 for one item
	// and 12 + 「、他」 for several, 14 characters either way.
	shouhinCut = 14
	// MaxNameLen is the longest NameKanji and NameKana (last and first
	// name together), in characters [SIM: the simulator's K51/K52 bound].
	MaxNameLen = 40
	// MinTelDigits and MaxTelDigits bound the digits of a Japanese phone
	// number (10 for fixed lines, 11 for mobiles and 050/0120 numbers);
	// maxTelLen is the longest TelNo with hyphens (090-1234-5678) [SIM].
	MinTelDigits = 10
	MaxTelDigits = 11
	maxTelLen    = 13
)

// Suffixes of a shortened ShouhinName (spec §10.2). They are full-width
// like the rest of the field; the plugins' English locale appends ASCII
// "..." and " etc.", which a full-width field cannot carry (the simulator
// answers K53), so kessai's English forms are the full-width ones, and
// "…" (one character, not ASCII) serves both languages.
const (
	ellipsis   = "…"
	moreJa     = "、他"
	moreEn     = "　ｅｔｃ．" // ToFullWidth(" etc.")
	fallbackJa = "ご注文商品"
	fallbackEn = "Ｏｒｄｅｒ" // ToFullWidth("Order")
)

// trimSpace removes white space, ASCII and full-width, at both ends: a
// name typed with a trailing space must not change what is sent.
func trimSpace(s string) string {
	return strings.TrimFunc(s, unicode.IsSpace)
}

// NameKanji is the 2Add NameKanji: the billing last name immediately
// followed by the first name, without a space (spec §10.2, CVS-03), e.g.
// 山田 + 太郎 → 山田太郎. Spaces around each part are dropped.
func NameKanji(b kessai.Billing) string {
	return trimSpace(b.LastName) + trimSpace(b.FirstName)
}

// NameKana is the 2Add NameKana: the kana last and first names, each
// converted to full-width katakana, without a space (spec §10.2, CVS-03),
// e.g. ﾔﾏﾀﾞ + たろう → ヤマダタロウ. When both are empty it is NameKanji
// instead (PRO 1.1.11, CHG-18), so a registration from the admin side or
// from an API order without kana still goes through; the checkout path
// requires the kana first (Validate, CVS-02).
func NameKana(b kessai.Billing) string {
	kana := ToFullWidthKatakana(trimSpace(b.LastNameKana)) + ToFullWidthKatakana(trimSpace(b.FirstNameKana))
	if kana == "" {
		return NameKanji(b)
	}
	return kana
}

// ShouhinName is the 2Add ShouhinName (product name) of an order's items
// (spec §10.2, CVS-03, design A-05): the name of the first item that is
// not a fee line, converted to full-width (ToFullWidth), at most
// MaxShouhinName characters counted as Unicode code points (an emoji or a
// kanji is one character, as in the plugins' mb_substr; an emoji made of
// several code points, such as a family joined by U+200D, counts as
// several and a cut may split it, as the plugins' would):
//
//   - one item: the name as it is when it fits in 16 characters, otherwise
//     its first 13 characters + 「…」;
//   - several items: name + 「、他」 when that fits in 16 characters,
//     otherwise the first 12 characters of the name + 「、他」.
//
// Reconciling the sources: spec §10.2 and CVS-03 describe the plugins,
// which append 「、他」 only when they shorten the name, so a two-item
// order for 「Tシャツ」 reads as if it were one item on the payment slip.
// Design A-05 decides "with 「、他」 when there are more items", i.e.
// always (features Appendix A-05's suggestion), and kessai does that. It
// does not say how far to cut, so the plugins' cut lengths are kept (13 +
// 「…」 and 12 + 「、他」, 14 characters): a long name looks on the slip as
// it did with the plugins. The one oddity this leaves is at the edge: a
// 14-character name fits whole with its suffix (16), a 15-character one is
// cut to 12 (14).
//
// Fee lines are skipped both as "first item" and when counting items (the
// plugins' fee is not a product line). Control characters become spaces
// and spaces at the ends are dropped before converting; a cut never leaves
// a space before the suffix. With no named item the name is 「ご注文商品」
// (en: 「Ｏｒｄｅｒ」), because the gateway requires the field. lang "en"
// uses 「　ｅｔｃ．」 for 「、他」 and keeps the 14-character cut; any other
// lang is Japanese.
func ShouhinName(items []kessai.LineItem, lang string) string {
	var first string
	n := 0
	for _, it := range items {
		if it.Fee {
			continue
		}
		if n == 0 {
			first = it.Name
		}
		n++
	}
	name := []rune(trimSpace(ToFullWidth(strings.Map(controlToSpace, first))))
	if len(name) == 0 {
		name = []rune(fallbackJa)
		if lang == "en" {
			name = []rune(fallbackEn)
		}
	}
	suffix := ""
	if n > 1 {
		suffix = moreJa
		if lang == "en" {
			suffix = moreEn
		}
	}
	if len(name)+utf8.RuneCountInString(suffix) <= MaxShouhinName {
		return string(name) + suffix
	}
	if suffix == "" {
		suffix = ellipsis
	}
	keep := shouhinCut - utf8.RuneCountInString(suffix)
	return strings.TrimRightFunc(string(name[:keep]), unicode.IsSpace) + suffix
}

// controlToSpace maps control characters (tab, newline, DEL, C1) to a
// space: they have no full-width form and no place on a payment slip, and
// a newline between words should still separate them.
func controlToSpace(r rune) rune {
	if unicode.IsControl(r) {
		return ' '
	}
	return r
}

// TelNo normalises a billing phone number for 2Add's TelNo.
//
// The plugins send the phone exactly as typed (spec §10.2, CVS-03), and
// the gateway answers K28 to what it does not like — after the shopper
// has placed the order. kessai normalises instead, and refuses up front
// what cannot be a Japanese number: the result is ASCII digits with single
// hyphens where the shopper separated groups, 10–11 digits and at most 13
// characters, which is the simulator's rule (digits with optional hyphens)
// and the form of every Japanese number. Accepted on input, because
// Japanese input methods produce them: full-width digits (０９０), any dash
// or minus sign including the long-vowel mark ー that an IME types for
// "-", spaces, and parentheses around an area code (03(1234)5678 →
// 03-1234-5678). If the grouped form would be longer than 13 characters
// (more than two separators), the digits are sent without hyphens. "+81"
// and other characters are refused: an international form is not what
// the gateway expects, and guessing the domestic form could send a wrong
// number.
//
// Errors are *kessai.Error values for the field "billing.phone".
func TelNo(phone string) (string, error) {
	if trimSpace(phone) == "" {
		return "", kessai.FieldError("billing.phone", "required",
			"請求先電話番号を入力してください。", "Enter the billing phone number.")
	}
	invalid := kessai.FieldError("billing.phone", "invalid_phone",
		fmt.Sprintf("電話番号は%d桁または%d桁の数字で入力してください（ハイフン可）。", MinTelDigits, MaxTelDigits),
		fmt.Sprintf("The phone number must have %d or %d digits (hyphens allowed).", MinTelDigits, MaxTelDigits))
	if !utf8.ValidString(phone) {
		return "", invalid
	}
	var grouped, plain strings.Builder
	sep := false
	for _, r := range phone {
		switch {
		case r >= '０' && r <= '９':
			r = r - '０' + '0'
			fallthrough
		case r >= '0' && r <= '9':
			if sep && grouped.Len() > 0 {
				grouped.WriteByte('-')
			}
			sep = false
			grouped.WriteRune(r)
			plain.WriteRune(r)
		case isPhoneSeparator(r):
			sep = true
		default:
			return "", invalid
		}
	}
	if n := plain.Len(); n < MinTelDigits || n > MaxTelDigits {
		return "", invalid
	}
	if grouped.Len() > maxTelLen {
		return plain.String(), nil
	}
	return grouped.String(), nil
}

// isPhoneSeparator reports whether r separates digit groups of a typed
// phone number: dashes and minus signs of every width (ASCII, Unicode
// dashes, full-width, the long-vowel marks ー and ｰ), white space and
// parentheses.
func isPhoneSeparator(r rune) bool {
	switch r {
	case '-', '‐', '‑', '‒', '–', '—', '―', '−', '－', '﹣', 'ー', 'ｰ',
		'(', ')', '（', '）':
		return true
	}
	return unicode.IsSpace(r)
}

// Validate checks the billing identity a collection registration needs
// (spec §5.13; CVS-02, CVS-03) and returns every problem at once, with the
// JSON field names of kessai.Billing ("billing.last_name_kana", …) and
// messages in Japanese and English:
//
//   - last and first name (kanji) are required: NameKanji may not be
//     empty at the gateway (K51);
//   - last and first kana are required (ValidKanaName), with CVS-02's
//     messages 「請求先姓（カナ）を入力してください。」 /
//     「請求先名（カナ）を入力してください。」. The plugins check this only in
//     the browser; kessai checks it on the server for checkout (CVS-02's
//     note). NameKana's fallback to the kanji name stays for the paths
//     that do not call Validate (admin registration, ADMIN-15);
//   - no control characters or invalid UTF-8 in any of the four;
//   - NameKanji and NameKana (as sent, after conversion) at most
//     MaxNameLen characters, reported on the last-name field;
//   - the phone as TelNo accepts it.
//
// The result is nil when everything passes.
func Validate(b kessai.Billing) kessai.ValidationErrors {
	var v kessai.ValidationErrors
	namesOK := true
	for _, f := range []struct {
		field, value string
		ja, en       string // what the field is called
	}{
		{"billing.last_name", b.LastName, "請求先姓", "billing last name"},
		{"billing.first_name", b.FirstName, "請求先名", "billing first name"},
		{"billing.last_name_kana", b.LastNameKana, "請求先姓（カナ）", "billing last name in kana"},
		{"billing.first_name_kana", b.FirstNameKana, "請求先名（カナ）", "billing first name in kana"},
	} {
		// The two cases together are ValidKanaName; they are told apart
		// here only to word the message (CVS-02's texts for the kana).
		switch {
		case !cleanText(f.value):
			v.Add(f.field, "invalid_characters",
				f.ja+"に使用できない文字が含まれています。",
				"The "+f.en+" contains characters that cannot be used.")
			namesOK = false
		case trimSpace(f.value) == "":
			v.Add(f.field, "required",
				f.ja+"を入力してください。",
				"Enter the "+f.en+".")
			namesOK = false
		}
	}
	if namesOK {
		if utf8.RuneCountInString(NameKanji(b)) > MaxNameLen {
			v.Add("billing.last_name", "too_long",
				fmt.Sprintf("請求先の姓と名は合わせて%d文字以内で入力してください。", MaxNameLen),
				fmt.Sprintf("The billing last and first name together must be at most %d characters.", MaxNameLen))
		}
		if utf8.RuneCountInString(NameKana(b)) > MaxNameLen {
			v.Add("billing.last_name_kana", "too_long",
				fmt.Sprintf("請求先の姓（カナ）と名（カナ）は合わせて%d文字以内で入力してください。", MaxNameLen),
				fmt.Sprintf("The billing last and first name in kana together must be at most %d characters.", MaxNameLen))
		}
	}
	if _, err := TelNo(b.Phone); err != nil {
		v = append(v, kessai.AsError(err))
	}
	if len(v) == 0 {
		return nil
	}
	return v
}
