package collection

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Width and script conversions for the 2Add fields (spec §3.4, §10.2).
//
// The plugins convert with PHP's mb_convert_kana before sending NameKana
// and ShouhinName; the gateway and the payment slips work in full-width
// characters, and the simulator refuses ASCII and half-width katakana in
// ShouhinName (K53). The conversions here are written out as explicit
// tables rather than taken from golang.org/x/text: the set of characters
// is small and fixed (JIS X 0201 katakana), and a table that can be read
// in one screen says exactly what is sent to the gateway.

// halfKana lists the half-width katakana block U+FF61…U+FF9F in code point
// order and fullKana their full-width counterparts at the same positions:
// punctuation 。「」、・, the kana, the long-vowel mark ー, and the
// stand-alone (spacing) voiced and semi-voiced sound marks ゛ ゜, which are
// what ﾞ and ﾟ become when there is nothing to merge them with.
const (
	halfKana = "｡｢｣､･ｦｧｨｩｪｫｬｭｮｯｰｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜﾝﾞﾟ"
	fullKana = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜"
)

// voicedBase lists the katakana that take the voiced sound mark (濁点) and
// voicedForm the precomposed result at the same positions. ウ, ワ and ヲ
// are included because ｳﾞ, ﾜﾞ and ｦﾞ are written in half-width text (ヴ
// especially, in foreign names); ヰ, ヱ and ヽ only ever meet a combining
// mark, but a table that is complete costs nothing.
const (
	voicedBase = "カキクケコサシスセソタチツテトハヒフヘホウワヰヱヲヽ"
	voicedForm = "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴヷヸヹヺヾ"
)

// semiVoicedBase lists the katakana that take the semi-voiced sound mark
// (半濁点) and semiVoicedForm the result.
const (
	semiVoicedBase = "ハヒフヘホ"
	semiVoicedForm = "パピプペポ"
)

// Sound marks: the half-width forms and the combining forms. A combining
// mark can arrive from text entered on a system that decomposes kana
// (NFD, as macOS file names do); merging it too makes the result the same
// however the shopper's device encoded the name.
const (
	halfVoicedMark        = 'ﾞ'      // U+FF9E
	halfSemiVoicedMark    = 'ﾟ'      // U+FF9F
	combVoicedMark        = '\u3099' // COMBINING KATAKANA-HIRAGANA VOICED SOUND MARK
	combSemiVoicedMark    = '\u309A' // COMBINING KATAKANA-HIRAGANA SEMI-VOICED SOUND MARK
	spacingVoicedMark     = '゛'      // U+309B, what an unmerged ﾞ becomes
	spacingSemiVoicedMark = '゜'      // U+309C, what an unmerged ﾟ becomes
	halfKanaFirst         = 0xFF61
	halfKanaLast          = 0xFF9F
	hiraganaToKatakana    = 0x60     // distance from a hiragana to its katakana
	fullWidthASCIIShift   = 0xFEE0   // '!' U+0021 → '！' U+FF01 … '~' U+007E → '～' U+FF5E
	ideographicSpace      = '\u3000' // full-width space
)

// Lookup tables, filled by init from the strings above.
var (
	halfToFull [halfKanaLast - halfKanaFirst + 1]rune
	voiced     = map[rune]rune{}
	semiVoiced = map[rune]rune{}
)

func init() { loadTables() }

// loadTables fills the lookup tables from the readable strings above and
// panics if a pair of strings is out of step, so an editing mistake fails
// every test at once instead of silently mapping a kana to its neighbour.
func loadTables() {
	half, full := []rune(halfKana), []rune(fullKana)
	if len(half) != len(halfToFull) || len(full) != len(halfToFull) {
		panic("collection: half-width kana table out of step")
	}
	for i, r := range half {
		if r != rune(halfKanaFirst+i) {
			panic("collection: half-width kana table not in code point order")
		}
		halfToFull[i] = full[i]
	}
	pair := func(m map[rune]rune, from, to string) {
		f, t := []rune(from), []rune(to)
		if len(f) != len(t) {
			panic("collection: sound mark table out of step")
		}
		for i := range f {
			m[f[i]] = t[i]
		}
	}
	pair(voiced, voicedBase, voicedForm)
	pair(semiVoiced, semiVoicedBase, semiVoicedForm)
}

// isHiragana reports whether r is a hiragana with a katakana counterpart
// at r+0x60: ぁ…ゖ (including ゔ ゕ ゖ) and the iteration marks ゝ ゞ. ゟ
// (the より ligature) has no katakana equivalent and is left alone.
func isHiragana(r rune) bool {
	return (r >= 'ぁ' && r <= 'ゖ') || r == 'ゝ' || r == 'ゞ'
}

// mergeMark returns the precomposed form of base with a voiced (semi is
// false) or semi-voiced mark, for katakana and for hiragana (whose voiced
// forms sit 0x60 below the katakana ones, where they exist: there is no
// hiragana ヷ, so わ + ゛ stays two characters).
func mergeMark(base rune, semi bool) (rune, bool) {
	table := voiced
	if semi {
		table = semiVoiced
	}
	if v, ok := table[base]; ok {
		return v, true
	}
	if isHiragana(base) {
		if v, ok := table[base+hiraganaToKatakana]; ok {
			if h := v - hiraganaToKatakana; isHiragana(h) {
				return h, true
			}
		}
	}
	return 0, false
}

// convert is the common walk of ToFullWidthKatakana and ToFullWidth:
// half-width katakana become full-width, sound marks merge into the kana
// before them, and, as asked, hiragana become katakana and ASCII becomes
// full-width. Invalid UTF-8 comes out as U+FFFD, so the result is always
// valid UTF-8.
func convert(s string, toKatakana, wideASCII bool) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case halfVoicedMark, combVoicedMark, halfSemiVoicedMark, combSemiVoicedMark:
			semi := r == halfSemiVoicedMark || r == combSemiVoicedMark
			if n := len(out); n > 0 {
				if m, ok := mergeMark(out[n-1], semi); ok {
					out[n-1] = m
					continue
				}
			}
			// Nothing to merge with: a half-width mark becomes the
			// full-width spacing mark; a combining one stays as it is
			// (turning it into a spacing mark would change the text).
			switch r {
			case halfVoicedMark:
				r = spacingVoicedMark
			case halfSemiVoicedMark:
				r = spacingSemiVoicedMark
			}
		default:
			switch {
			case r >= halfKanaFirst && r <= halfKanaLast:
				r = halfToFull[r-halfKanaFirst]
			case toKatakana && isHiragana(r):
				r += hiraganaToKatakana
			case wideASCII && r == ' ':
				r = ideographicSpace
			case wideASCII && r > ' ' && r < 0x7F:
				r += fullWidthASCIIShift
			}
		}
		out = append(out, r)
	}
	return string(out)
}

// ToFullWidthKatakana converts a kana name the way the plugins prepare
// NameKana (spec §10.2, CVS-03): half-width katakana become full-width with
// voiced and semi-voiced marks merged (ｶﾞ → ガ, ﾊﾟ → パ, ｳﾞ → ヴ), hiragana
// become katakana (やまだ → ヤマダ), the half-width long-vowel mark becomes
// ー, and ー, the full-width space and every other character (kanji,
// ASCII, controls) are left as they are. A sound mark — half-width ﾞ ﾟ or
// combining U+3099 U+309A — merges into the kana before it whenever a
// precomposed form exists (カ + ﾞ → ガ as well); a half-width mark that
// cannot merge becomes the full-width ゛ or ゜. It is idempotent, and its
// result is valid UTF-8 whatever the input.
func ToFullWidthKatakana(s string) string {
	return convert(s, true, false)
}

// ToFullWidth converts a product name the way the plugins prepare
// ShouhinName (spec §3.4, §10.2): printable ASCII (letters, digits and
// symbols) becomes the full-width forms U+FF01…U+FF5E, the ASCII space
// becomes the full-width space U+3000, and half-width katakana become
// full-width with sound marks merged. Hiragana, kanji and everything else
// are kept; ASCII control characters are kept too (they have no full-width
// form; ShouhinName removes them before converting). It is idempotent, and
// its result is valid UTF-8 whatever the input.
func ToFullWidth(s string) string {
	return convert(s, false, true)
}

// ValidKanaName reports whether s is acceptable as a kana name field (姓
// （カナ） / 名（カナ）) of a collection order (CVS-02).
//
// CVS-02's check — the plugins' browser script — only refuses an empty
// field; it accepts any characters. kessai keeps that rule and does not
// demand katakana, for a reason found in the sources: since PRO 1.1.11 the
// plugin sends the kanji name as NameKana when the kana is empty (CVS-03),
// so the gateway accepts non-kana text there, and refusing, say, a
// foreign shopper's Latin name would block a payment the plugins let
// through. The value is converted to full-width katakana before sending
// (ToFullWidthKatakana), so half-width and hiragana input is fine.
//
// Two things are stricter than the browser check, because the check now
// runs on the server (CVS-02's note) and must hold for any client: a
// value of only white space (ASCII or full-width) counts as empty, and
// invalid UTF-8, control characters and U+FFFD (a character lost in an
// earlier conversion) are refused.
func ValidKanaName(s string) bool {
	if !cleanText(s) {
		return false
	}
	return strings.TrimFunc(s, unicode.IsSpace) != ""
}

// cleanText reports whether s is valid UTF-8 without control characters
// or U+FFFD: text a gateway field can carry as it is.
func cleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
