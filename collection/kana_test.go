package collection

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// halfWidthKatakana pairs every character of the half-width katakana block
// U+FF61…U+FF9F with its full-width form, written out one by one (not
// derived from the tables under test) so that a shifted table shows up as
// a named wrong pair (CVS-02, CVS-03, spec §3.4).
var halfWidthKatakana = []struct{ half, full string }{
	{"｡", "。"}, {"｢", "「"}, {"｣", "」"}, {"､", "、"}, {"･", "・"},
	{"ｦ", "ヲ"},
	{"ｧ", "ァ"}, {"ｨ", "ィ"}, {"ｩ", "ゥ"}, {"ｪ", "ェ"}, {"ｫ", "ォ"},
	{"ｬ", "ャ"}, {"ｭ", "ュ"}, {"ｮ", "ョ"}, {"ｯ", "ッ"},
	{"ｰ", "ー"},
	{"ｱ", "ア"}, {"ｲ", "イ"}, {"ｳ", "ウ"}, {"ｴ", "エ"}, {"ｵ", "オ"},
	{"ｶ", "カ"}, {"ｷ", "キ"}, {"ｸ", "ク"}, {"ｹ", "ケ"}, {"ｺ", "コ"},
	{"ｻ", "サ"}, {"ｼ", "シ"}, {"ｽ", "ス"}, {"ｾ", "セ"}, {"ｿ", "ソ"},
	{"ﾀ", "タ"}, {"ﾁ", "チ"}, {"ﾂ", "ツ"}, {"ﾃ", "テ"}, {"ﾄ", "ト"},
	{"ﾅ", "ナ"}, {"ﾆ", "ニ"}, {"ﾇ", "ヌ"}, {"ﾈ", "ネ"}, {"ﾉ", "ノ"},
	{"ﾊ", "ハ"}, {"ﾋ", "ヒ"}, {"ﾌ", "フ"}, {"ﾍ", "ヘ"}, {"ﾎ", "ホ"},
	{"ﾏ", "マ"}, {"ﾐ", "ミ"}, {"ﾑ", "ム"}, {"ﾒ", "メ"}, {"ﾓ", "モ"},
	{"ﾔ", "ヤ"}, {"ﾕ", "ユ"}, {"ﾖ", "ヨ"},
	{"ﾗ", "ラ"}, {"ﾘ", "リ"}, {"ﾙ", "ル"}, {"ﾚ", "レ"}, {"ﾛ", "ロ"},
	{"ﾜ", "ワ"}, {"ﾝ", "ン"},
	{"ﾞ", "゛"}, {"ﾟ", "゜"}, // stand-alone sound marks: nothing to merge with
}

// halfWidthVoiced lists every half-width kana + ﾞ/ﾟ pair that merges into
// one precomposed full-width kana (CVS-03: "voiced marks merged").
var halfWidthVoiced = []struct{ half, full string }{
	{"ｳﾞ", "ヴ"},
	{"ｶﾞ", "ガ"}, {"ｷﾞ", "ギ"}, {"ｸﾞ", "グ"}, {"ｹﾞ", "ゲ"}, {"ｺﾞ", "ゴ"},
	{"ｻﾞ", "ザ"}, {"ｼﾞ", "ジ"}, {"ｽﾞ", "ズ"}, {"ｾﾞ", "ゼ"}, {"ｿﾞ", "ゾ"},
	{"ﾀﾞ", "ダ"}, {"ﾁﾞ", "ヂ"}, {"ﾂﾞ", "ヅ"}, {"ﾃﾞ", "デ"}, {"ﾄﾞ", "ド"},
	{"ﾊﾞ", "バ"}, {"ﾋﾞ", "ビ"}, {"ﾌﾞ", "ブ"}, {"ﾍﾞ", "ベ"}, {"ﾎﾞ", "ボ"},
	{"ﾊﾟ", "パ"}, {"ﾋﾟ", "ピ"}, {"ﾌﾟ", "プ"}, {"ﾍﾟ", "ペ"}, {"ﾎﾟ", "ポ"},
	{"ﾜﾞ", "ヷ"}, {"ｦﾞ", "ヺ"},
}

// TestHalfWidthBlockComplete checks that the test table above covers the
// whole half-width katakana block, so no character escapes the CVS-02
// conversion tests.
func TestHalfWidthBlockComplete(t *testing.T) {
	seen := map[rune]bool{}
	for _, c := range halfWidthKatakana {
		r, _ := utf8.DecodeRuneInString(c.half)
		seen[r] = true
	}
	for r := rune(0xFF61); r <= 0xFF9F; r++ {
		if !seen[r] {
			t.Errorf("U+%04X %c missing from the test table", r, r)
		}
	}
	if len(halfWidthKatakana) != 0xFF9F-0xFF61+1 {
		t.Errorf("test table has %d entries, want %d", len(halfWidthKatakana), 0xFF9F-0xFF61+1)
	}
}

// TestToFullWidthKatakanaHalfWidth converts every half-width katakana on
// its own, and every voiced / semi-voiced pair (CVS-02/CVS-03, §10.2).
func TestToFullWidthKatakanaHalfWidth(t *testing.T) {
	for _, tab := range [][]struct{ half, full string }{halfWidthKatakana, halfWidthVoiced} {
		for _, c := range tab {
			if got := ToFullWidthKatakana(c.half); got != c.full {
				t.Errorf("ToFullWidthKatakana(%q) = %q, want %q", c.half, got, c.full)
			}
			// ShouhinName's conversion treats katakana the same way.
			if got := ToFullWidth(c.half); got != c.full {
				t.Errorf("ToFullWidth(%q) = %q, want %q", c.half, got, c.full)
			}
		}
	}
}

// TestToFullWidthKatakanaNoVoicedForm checks that a sound mark after a kana
// that cannot take it stays a separate full-width spacing mark instead of
// being dropped or attached to the wrong kana (CVS-03).
func TestToFullWidthKatakanaNoVoicedForm(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"ｱﾞ", "ア゛"},
		{"ｱﾟ", "ア゜"},
		{"ｶﾟ", "カ゜"},  // ka has no semi-voiced form
		{"ﾏﾞ", "マ゛"},  // ma has no voiced form
		{"ｶﾞﾞ", "ガ゛"}, // the second mark has nothing left to merge with
		{"ﾞｶ", "゛カ"},  // a leading mark stays a mark
		{"ﾝﾟ", "ン゜"},
		{"ｰﾞ", "ー゛"},
		{"１ﾞ", "１゛"},
		{"ﾞ", "゛"},
	} {
		if got := ToFullWidthKatakana(c.in); got != c.want {
			t.Errorf("ToFullWidthKatakana(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestToFullWidthKatakanaHiragana converts every hiragana that has a
// katakana form (CVS-03: hiragana → katakana), including small kana,
// ゔ ゕ ゖ and the iteration marks.
func TestToFullWidthKatakanaHiragana(t *testing.T) {
	hira := "ぁあぃいぅうぇえぉおかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろゎわゐゑをんゔゕゖゝゞ"
	kata := "ァアィイゥウェエォオカガキギクグケゲコゴサザシジスズセゼソゾタダチヂッツヅテデトドナニヌネノハバパヒビピフブプヘベペホボポマミムメモャヤュユョヨラリルレロヮワヰヱヲンヴヵヶヽヾ"
	if got := ToFullWidthKatakana(hira); got != kata {
		t.Errorf("ToFullWidthKatakana(hiragana)\n got %q\nwant %q", got, kata)
	}
	// ゟ (the より ligature) has no katakana counterpart; ToFullWidth
	// keeps hiragana as it is.
	if got := ToFullWidthKatakana("ゟ"); got != "ゟ" {
		t.Errorf("ToFullWidthKatakana(ゟ) = %q", got)
	}
	if got := ToFullWidth(hira); got != hira {
		t.Errorf("ToFullWidth changed hiragana: %q", got)
	}
}

// TestToFullWidthKatakanaMixed covers names as shoppers type them: mixed
// widths and scripts, spaces, the long-vowel mark, characters that are not
// kana, and decomposed (NFD) input with combining marks (CVS-02/CVS-03).
func TestToFullWidthKatakanaMixed(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"ﾔﾏﾀﾞ", "ヤマダ"},
		{"やまだ", "ヤマダ"},
		{"ヤマダ", "ヤマダ"},
		{"やﾏダ", "ヤマダ"},
		{"ｽｽﾞｷ　ｲﾁﾛｰ", "スズキ　イチロー"},          // full-width space and ー kept
		{"ｽｽﾞｷ ｲﾁﾛｰ", "スズキ イチロー"},          // ASCII space is not kana: kept
		{"ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"},            // half-width middle dot
		{"ｳﾞｨｸﾄﾙ", "ヴィクトル"},                // ｳﾞ
		{"ゔぃくとる", "ヴィクトル"},                 // ゔ
		{"ﾎﾟｰﾙ", "ポール"},                    // ﾎﾟ
		{"ｷｬｯﾁｭ", "キャッチュ"},                 // small kana
		{"山田ﾀﾛｳ", "山田タロウ"},                 // kanji untouched
		{"Smith ｽﾐｽ", "Smith スミス"},         // ASCII untouched
		{"カ\u3099", "ガ"},                   // NFD voiced mark
		{"ハ\u309A", "パ"},                   // NFD semi-voiced mark
		{"か\u3099", "ガ"},                   // hiragana + combining → katakana
		{"ア\u3099", "ア\u3099"},             // nothing to merge: combining mark kept
		{"ｶ\u3099", "ガ"},                   // half-width + combining
		{"カﾞ", "ガ"},                        // full-width + half-width mark
		{"ヽﾞ", "ヾ"},                        // iteration mark
		{"ｬ\x00ｭ", "ャ\x00ュ"},               // control characters are not ours to judge
		{"\xffｱ", "\uFFFDア"},               // invalid UTF-8 → U+FFFD
		{"😀ｱ", "😀ア"},                       // astral characters pass through
		{"ｱ\u200dｲ", "ア\u200dイ"},           // zero-width joiner passes through
		{"｢ｱ｣､｡", "「ア」、。"},                 // half-width punctuation
		{"ABCｱﾞ", "ABCア゛"},                 // ASCII is not widened by the kana conversion
		{"\u3000ｱ\u3000", "\u3000ア\u3000"}, // spaces are the caller's to trim
	} {
		if got := ToFullWidthKatakana(c.in); got != c.want {
			t.Errorf("ToFullWidthKatakana(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestToFullWidth covers ShouhinName's conversion (spec §3.4, §10.2):
// every printable ASCII character, space, half-width katakana; other
// characters are kept.
func TestToFullWidth(t *testing.T) {
	var ascii, wide strings.Builder
	for r := rune(0x21); r <= 0x7E; r++ {
		ascii.WriteRune(r)
		wide.WriteRune(r - 0x21 + 0xFF01)
	}
	if got := ToFullWidth(ascii.String()); got != wide.String() {
		t.Errorf("ToFullWidth(printable ASCII)\n got %q\nwant %q", got, wide.String())
	}
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{" ", "\u3000"},
		{"Tシャツ L", "Ｔシャツ　Ｌ"},
		{"ｺｰﾋｰ豆 500g", "コーヒー豆　５００ｇ"},
		{"ﾊﾟｿｺﾝ", "パソコン"},
		{"ほうじ茶", "ほうじ茶"},
		{"１２３ＡＢＣ", "１２３ＡＢＣ"}, // already full-width
		{"~\\\"'", "～＼＂＇"},   // the characters mb_convert_kana's "A" leaves alone
		{"¥100", "¥１００"},     // not ASCII: kept
		{"a\tb\n", "ａ\tｂ\n"}, // controls have no full-width form
		{"\x7f", "\x7f"},
		{"😀", "😀"},
		{"\xe3\x81", "\uFFFD\uFFFD"}, // truncated UTF-8 sequence
	} {
		if got := ToFullWidth(c.in); got != c.want {
			t.Errorf("ToFullWidth(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestValidKanaName follows CVS-02: the plugins' browser check refuses
// only an empty kana field; any characters are accepted (kessai adds: white
// space only is empty; control characters and invalid UTF-8 are refused).
func TestValidKanaName(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"ヤマダ", true},
		{"ﾔﾏﾀﾞ", true},
		{"やまだ", true},
		{"ヤマダ　タロウ", true},
		{"山田", true},          // the gateway takes kanji here (PRO 1.1.11 fallback)
		{"Smith", true},       // so a Latin name is not refused either
		{"ｵｰﾙﾄﾞﾏﾝ-ｽﾐｽ", true}, // punctuation
		{"", false},
		{" ", false},
		{"\u3000", false},
		{" \u3000\t", false},
		{"ヤマ\nダ", false},
		{"ヤマダ\x00", false},
		{"\x7f", false},
		{"ヤマ\x85ダ", false},   // invalid UTF-8 byte
		{"ヤマ\u0085ダ", false}, // C1 control
		{"ヤマ\uFFFDダ", false},
	} {
		if got := ValidKanaName(c.in); got != c.want {
			t.Errorf("ValidKanaName(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestConversionsIdempotent applies each conversion twice to every
// interesting character alone and after each kana, so a merge that a
// second pass would redo (or undo) is caught.
func TestConversionsIdempotent(t *testing.T) {
	var inputs []string
	for r := rune(0x20); r <= 0x7F; r++ {
		inputs = append(inputs, string(r))
	}
	for r := rune(0x3041); r <= 0x30FF; r++ {
		inputs = append(inputs, string(r))
	}
	for r := rune(0xFF61); r <= 0xFF9F; r++ {
		inputs = append(inputs, string(r))
	}
	marks := []string{"ﾞ", "ﾟ", "\u3099", "\u309A", "゛", "゜"}
	n := len(inputs)
	for _, s := range inputs[:n] {
		for _, m := range marks {
			inputs = append(inputs, s+m, s+m+m)
		}
	}
	for _, s := range inputs {
		for name, f := range map[string]func(string) string{"ToFullWidthKatakana": ToFullWidthKatakana, "ToFullWidth": ToFullWidth} {
			once := f(s)
			if twice := f(once); twice != once {
				t.Errorf("%s not idempotent on %q: %q then %q", name, s, once, twice)
			}
		}
	}
}

// ExampleToFullWidthKatakana shows the NameKana conversion (CVS-03).
func ExampleToFullWidthKatakana() {
	fmt.Println(ToFullWidthKatakana("ﾔﾏﾀﾞ"), ToFullWidthKatakana("たろう"), ToFullWidthKatakana("ﾎﾟｰﾙ"))
	// Output: ヤマダ タロウ ポール
}

// ExampleToFullWidth shows the ShouhinName conversion (spec §10.2).
func ExampleToFullWidth() {
	fmt.Println(ToFullWidth("Tシャツ Lｻｲｽﾞ"))
	// Output: Ｔシャツ　Ｌサイズ
}
