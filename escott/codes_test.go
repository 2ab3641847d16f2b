package escott

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// specCodes is every code of spec §14.2–§14.8, written from the spec in its
// order (including the † rows), so that a dropped or reordered row fails.
var specCodes = map[string][]string{
	"14.2 K": {
		"K01", "K02", "K03", "K04", "K05", "K06", "K07", "K08", "K09", "K10", "K11", "K12", "K14", "K15",
		"K20", "K21", "K22", "K23", "K24", "K25", "K26", "K27", "K28",
		"K30", "K31", "K32", "K33", "K34", "K35", "K36", "K37", "K39",
		"K40", "K41", "K42", "K43", "K44", "K45", "K46", "K47", "K48",
		"K50", "K51", "K52", "K53", "K54", "K55", "K60",
		"K64", "K65", "K66", "K67", "K68", "K69", "K70", "K71", "K73", "K74", "K75", "K79",
		"K80", "K81", "K82", "K83", "K84", "K85", "K86", "K87", "K88", "K89",
		"K95", "K96", "K98", "K99", "KA1", "KBX", "KBY", "KBZ",
		"KE0", "KE1", "KE2", "KE3", "KE4", "KE5", "KE6", "KEA", "KEB", "KEC", "KED", "KEE", "KEF",
		"KG8", "KGH", "KH0", "KH4", "KHS", "KHT", "KHU", "KHV", "KHX", "KHZ",
		"KI0", "KI1", "KI2", "KI3", "KI4", "KI5", "KI6", "KI8", "KIE", "KIF", "KIH", "KIJ", "KIK", "KIL", "KIN", "KIW",
	},
	"14.3 C": {
		"C01", "C02", "C03", "C10", "C11", "C12", "C13", "C14", "C15", "C16", "C17", "C18",
		"C70", "C71", "C80", "C98", "C99",
	},
	"14.4 G": {
		"G12", "G22", "G30", "G42", "G44", "G45", "G54", "G55", "G56", "G60", "G61", "G65", "G68",
		"G72", "G74", "G75", "G78", "G83", "G84", "G85", "G92", "G94", "G95", "G96", "G97", "G98", "G99",
	},
	"14.5 R": {
		"R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10",
		"R11", "R12", "R13", "R14", "R15", "R16", "R17", "R18", "R19", "R20",
		"R21", "R22", "R23", "R24", "R25", "R26", "R27", "R28", "R29", "R30",
		"R31", "R32", "R33", "R34", "R35", "R36", "R37",
	},
	"14.6 U": {
		"U01", "U02", "U03", "U04", "U05", "U06", "U07", "U08", "U09", "U10",
		"U11", "U12", "U13", "U14", "U95", "U96", "U99",
	},
	"14.7 W": {"W01", "W02", "W03", "W04", "W05", "W06", "W99"},
	"14.8 P": {"P51", "P52", "P55", "P56", "P62", "P63", "P64", "P65", "P69", "P70"},
}

// specSections fixes the order in which the table must list the sections.
var specSections = []string{"14.2 K", "14.3 C", "14.4 G", "14.5 R", "14.6 U", "14.7 W", "14.8 P"}

func hasNonASCII(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return true
		}
	}
	return false
}

func TestCodeCatalogueComplete(t *testing.T) {
	want := []string{CodeOK, CodeNG}
	for _, sec := range specSections {
		want = append(want, specCodes[sec]...)
	}
	if n := len(specCodes); n != len(specSections) {
		t.Fatalf("specSections lists %d sections, specCodes has %d", len(specSections), n)
	}

	var got []string
	for _, c := range Catalogue() {
		got = append(got, c.Code)
	}
	if !slices.Equal(got, want) {
		t.Errorf("catalogue order/content differs from spec §14.\n got %v\nwant %v", got, want)
	}
	if len(codeIndex) != len(codeTable) {
		t.Errorf("codeIndex has %d entries, codeTable %d rows: duplicate rows", len(codeIndex), len(codeTable))
	}

	for _, sec := range specSections {
		for _, code := range specCodes[sec] {
			t.Run(code, func(t *testing.T) {
				c := LookupCode(code)
				if c.Code != code {
					t.Fatalf("LookupCode(%q).Code = %q: not in the catalogue (§%s)", code, c.Code, sec)
				}
				if c.Class == ClassUnknown || c.Class == ClassNoAnswer {
					t.Errorf("%s: class %s; catalogued gateway codes need a real class", code, c.Class)
				}
				if c.Ja == "" || !hasNonASCII(c.Ja) {
					t.Errorf("%s: Japanese description %q missing or not Japanese", code, c.Ja)
				}
				if c.En == "" || hasNonASCII(strings.NewReplacer("–", "", "…", "").Replace(c.En)) {
					t.Errorf("%s: English description %q missing or not English", code, c.En)
				}
				if c.Guidance != "" && !hasNonASCII(c.Guidance) {
					t.Errorf("%s: guidance %q is not Japanese", code, c.Guidance)
				}
			})
		}
	}
}

func TestCodeCatalogueIsACopy(t *testing.T) {
	cat := Catalogue()
	cat[2].Ja = "changed"
	if LookupCode(cat[2].Code).Ja == "changed" {
		t.Fatal("Catalogue() exposes the internal table")
	}
}

func TestCodeClasses(t *testing.T) {
	tests := []struct {
		code string
		want Class
	}{
		// issuer declines
		{"G12", ClassIssuerDecline}, {"G22", ClassIssuerDecline}, {"G30", ClassIssuerDecline},
		{"G55", ClassIssuerDecline}, {"G56", ClassIssuerDecline}, {"G60", ClassIssuerDecline},
		{"G61", ClassIssuerDecline}, {"G96", ClassIssuerDecline}, {"G97", ClassIssuerDecline},
		{"KI5", ClassIssuerDecline}, {"KI6", ClassIssuerDecline}, {"R18", ClassIssuerDecline},
		// card input
		{"K20", ClassCardInput}, {"K21", ClassCardInput}, {"K24", ClassCardInput}, {"K40", ClassCardInput},
		{"K82", ClassCardInput}, {"K83", ClassCardInput}, {"G44", ClassCardInput}, {"G45", ClassCardInput},
		{"G65", ClassCardInput}, {"G83", ClassCardInput}, {"C13", ClassCardInput}, {"C15", ClassCardInput},
		{"C16", ClassCardInput}, {"G75", ClassCardInput}, {"R15", ClassCardInput},
		// merchant configuration
		{"K02", ClassMerchantConfig}, {"K03", ClassMerchantConfig}, {"K04", ClassMerchantConfig},
		{"K06", ClassMerchantConfig}, {"K68", ClassMerchantConfig}, {"K99", ClassMerchantConfig},
		{"KG8", ClassMerchantConfig}, {"KI1", ClassMerchantConfig}, {"C01", ClassMerchantConfig},
		{"C70", ClassMerchantConfig}, {"C71", ClassMerchantConfig}, {"U12", ClassMerchantConfig},
		// temporary
		{"K96", ClassTemporary}, {"K98", ClassTemporary}, {"C02", ClassTemporary}, {"C03", ClassTemporary},
		{"C80", ClassTemporary}, {"G95", ClassTemporary}, {"U14", ClassTemporary}, {"U95", ClassTemporary},
		{"U96", ClassTemporary}, {"R01", ClassTemporary}, {"KHV", ClassTemporary},
		// 3-D Secure
		{"K30", ClassThreeDS}, {"K37", ClassThreeDS}, {"U01", ClassThreeDS}, {"U04", ClassThreeDS}, {"U99", ClassThreeDS},
		// collection
		{"K28", ClassCollection}, {"K50", ClassCollection}, {"K51", ClassCollection}, {"K55", ClassCollection},
		{"K60", ClassCollection}, {"W01", ClassCollection}, {"W99", ClassCollection},
		// member
		{"K45", ClassMember}, {"K46", ClassMember}, {"K47", ClassMember}, {"K69", ClassMember},
		{"K71", ClassMember}, {"K74", ClassMember}, {"K81", ClassMember}, {"K85", ClassMember},
		// transaction state
		{"K12", ClassTransactionState}, {"K14", ClassTransactionState}, {"K88", ClassTransactionState},
		{"C14", ClassTransactionState}, {"KBX", ClassTransactionState}, {"KBY", ClassTransactionState},
		{"KBZ", ClassTransactionState},
		// token
		{"KHX", ClassToken}, {"KHZ", ClassToken}, {"KI2", ClassToken}, {"KI3", ClassToken},
		// request
		{"K01", ClassRequest}, {"K05", ClassRequest}, {"K07", ClassRequest}, {"K11", ClassRequest},
		{"K22", ClassRequest}, {"K23", ClassRequest}, {"K39", ClassRequest}, {"K86", ClassRequest},
		// shopper cancel
		{"P51", ClassShopperCancel}, {"P70", ClassShopperCancel},
		// pseudo codes
		{"NG", ClassNoAnswer}, {"OK", ClassUnknown},
	}
	for _, tt := range tests {
		if got := LookupCode(tt.code).Class; got != tt.want {
			t.Errorf("LookupCode(%q).Class = %s, want %s", tt.code, got, tt.want)
		}
	}
}

func TestCodePseudo(t *testing.T) {
	ok := LookupCode(" OK ")
	if ok.Code != "OK" || ok.Ja != "正常" || ok.En != "success" {
		t.Errorf("OK = %+v", ok)
	}
	ng := LookupCode("NG")
	if ng.Class != ClassNoAnswer || ng.Ja != "ゲートウェイから応答がありませんでした（通信エラー）" || ng.Guidance == "" {
		t.Errorf("NG = %+v", ng)
	}
}

func TestCodeGuidance(t *testing.T) {
	// ERR-04…ERR-07: the manuals' advice must reach the operator.
	for _, code := range []string{"K06", "K12", "K39", "K71", "K81", "K99", "KI2", "KI3", "NG"} {
		if LookupCode(code).Guidance == "" {
			t.Errorf("%s has no guidance", code)
		}
	}
	if !strings.Contains(LookupCode("K99").Guidance, "IP アドレス制限") {
		t.Error("K99 guidance does not mention the IP address restriction")
	}
	if !strings.Contains(LookupCode("K71").Guidance, "削除して再登録") {
		t.Error("K71 guidance does not say to delete and re-register the member")
	}
	if LookupCode("K20").Guidance != "" {
		t.Error("K20 should have no guidance")
	}
	if UnexpectedErrorChecklist == "" {
		t.Error("empty ERR-09 checklist")
	}
}

func TestCodeLookupUnknown(t *testing.T) {
	long := strings.Repeat("Z", 1<<20)
	inputs := []string{"", " ", "\t\n", "K00", "k20", "ZZZ", "K20|K21", "%7C", "\x00\xff\xfe", "エラー", long, "K2\u200b0"}
	for _, in := range inputs {
		c := LookupCode(in)
		if c.Class != ClassUnknown {
			t.Errorf("LookupCode(%.20q).Class = %s, want unknown", in, c.Class)
		}
		if c.Ja == "" || c.En == "" {
			t.Errorf("LookupCode(%.20q) has empty text", in)
		}
		if !utf8.ValidString(c.Ja) || !utf8.ValidString(c.En) {
			t.Errorf("LookupCode(%.20q) text is not valid UTF-8", in)
		}
		if len(c.Ja) > 200 || len(c.En) > 200 {
			t.Errorf("LookupCode(%.20q) text is %d/%d bytes; unknown codes must be shortened", in, len(c.Ja), len(c.En))
		}
	}
	c := LookupCode(" K00 ")
	if c.Code != "K00" || !strings.Contains(c.Ja, "K00") || !strings.Contains(c.En, "K00") {
		t.Errorf("unknown code text must quote the code: %+v", c)
	}
	if c := LookupCode("A\x01B"); strings.ContainsRune(c.En, '\x01') {
		t.Errorf("control character leaked into %q", c.En)
	}
	if got := LookupCode(" K20\t"); got.Code != "K20" || got.Class != ClassCardInput {
		t.Errorf("LookupCode does not trim: %+v", got)
	}
}

func TestSplitCodes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"|||", nil},
		{"  ", nil},
		{"OK", []string{"OK"}},
		{"K20|K21", []string{"K20", "K21"}},
		{" K20 | K21 ", []string{"K20", "K21"}},
		{"K20||K21|", []string{"K20", "K21"}},
		// Decoding is ParseResponse's job (url.ParseQuery): an encoded pipe
		// reaching SplitCodes is kept as it is.
		{"K20%7CK21", []string{"K20%7CK21"}},
	}
	for _, tt := range tests {
		got := SplitCodes(tt.in)
		if !slices.Equal(got, tt.want) || (tt.want == nil) != (got == nil) {
			t.Errorf("SplitCodes(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestDescribeCodes(t *testing.T) {
	tests := []struct {
		codes []string
		lang  string
		want  string
	}{
		{nil, "ja", ""},
		{[]string{"OK"}, "ja", ""},
		{[]string{"K12"}, "ja", "K12 : 項目「ProcessId」または「ProcessPass」不整合エラー"},
		{[]string{"K20", "K21"}, "ja", "K20 : 項目「CardNo」精査エラー, K21 : 項目「CardExp」精査エラー"},
		{[]string{"K20", "K21"}, "en", "K20 : CardNo (card number) is invalid, K21 : CardExp (expiry date) is invalid"},
		{[]string{"G55"}, "fr", "G55 : 限度額オーバー"},
		{[]string{"G55"}, "", "G55 : 限度額オーバー"},
		{[]string{" K20|K21 ", "", "OK"}, "en", "K20 : CardNo (card number) is invalid, K21 : CardExp (expiry date) is invalid"},
		{[]string{"X01"}, "ja", "X01 : 未定義のレスポンスコード"},
		{[]string{"X01"}, "en", "X01 : unknown response code"},
		{[]string{"NG"}, "en", "NG : No usable answer from the gateway (communication error)"},
	}
	for _, tt := range tests {
		if got := DescribeCodes(tt.codes, tt.lang); got != tt.want {
			t.Errorf("DescribeCodes(%q, %q) = %q, want %q", tt.codes, tt.lang, got, tt.want)
		}
	}
	long := DescribeCodes([]string{strings.Repeat("\x01", 1000)}, "en")
	if len(long) > 100 || strings.ContainsRune(long, '\x01') {
		t.Errorf("garbage code not sanitised: %q", long)
	}
}

func TestShopperMessage(t *testing.T) {
	const (
		cardNumber  = "指定のカード番号が適切ではありません。"
		expiry      = "カード有効期限が適切ではありません。"
		secCode     = "セキュリティコードが適切ではありません。"
		cardInfo    = "カード情報が適切ではありません。"
		unusable    = "クレジットカードが使用不可能です。"
		amount      = "金額が適切ではありません。"
		threeDS     = "3D セキュア認証ができませんでした。"
		contactShop = "恐れ入りますが、お問い合わせフォームより管理者にお問い合わせください。"
	)
	tests := []struct {
		codes  []string
		wantJa string // exact, or "" to check by group below
		group  shopperGroup
	}{
		{[]string{"K20"}, cardNumber, shopperCardNumber},
		{[]string{"K82"}, cardNumber, shopperCardNumber},
		{[]string{"C16"}, cardNumber, shopperCardNumber},
		{[]string{"G65"}, cardNumber, shopperCardNumber},
		{[]string{"K21"}, expiry, shopperExpiry},
		{[]string{"C13"}, expiry, shopperExpiry},
		{[]string{"G83"}, expiry, shopperExpiry},
		{[]string{"K24"}, secCode, shopperSecurityCode},
		{[]string{"G45"}, secCode, shopperSecurityCode},
		{[]string{"K40"}, cardInfo, shopperCardInfo},
		{[]string{"KHX"}, cardInfo, shopperCardInfo},
		{[]string{"G84"}, cardInfo, shopperCardInfo},
		{[]string{"G12"}, unusable, shopperUnusableCard},
		{[]string{"G30"}, unusable, shopperUnusableCard},
		{[]string{"G97"}, unusable, shopperUnusableCard},
		{[]string{"G54"}, "", shopperDailyCount},
		{[]string{"G55"}, "", shopperDailyLimit},
		{[]string{"G68"}, amount, shopperAmount},
		{[]string{"G72"}, amount, shopperAmount},
		{[]string{"G75"}, "", shopperInstallmentMin},
		{[]string{"C15"}, "", shopperBonusMin},
		{[]string{"K28"}, "", shopperPhone},
		{[]string{"K51"}, "", shopperName},
		{[]string{"K52"}, "", shopperKana},
		{[]string{"K30"}, threeDS, shopperThreeDS},
		{[]string{"K37"}, threeDS, shopperThreeDS},
		{[]string{"U01"}, threeDS, shopperThreeDS},
		{[]string{"U14"}, threeDS, shopperThreeDS},
		{[]string{"U99"}, threeDS, shopperThreeDS},
		{[]string{"P51"}, "", shopperCancelled},
		{[]string{"NG"}, "", shopperNoAnswer},
		{[]string{"K99"}, contactShop, shopperContactShop},
		{[]string{"C01"}, contactShop, shopperContactShop},
		{[]string{"R05"}, contactShop, shopperContactShop},
		{[]string{"W01"}, contactShop, shopperContactShop},
		{[]string{"Q99"}, contactShop, shopperContactShop},
		{nil, contactShop, shopperContactShop},
		{[]string{"OK"}, contactShop, shopperContactShop},
		// multi-code answers: the most specific group wins, whatever the order
		{[]string{"K99", "K20"}, cardNumber, shopperCardNumber},
		{[]string{"K21", "K20"}, cardNumber, shopperCardNumber},
		{[]string{"K24", "K21"}, expiry, shopperExpiry},
		{[]string{"U04", "G12"}, unusable, shopperUnusableCard},
		{[]string{"K30", "K24"}, secCode, shopperSecurityCode},
		{[]string{"K51|K52"}, "", shopperName},
		{[]string{"K20", "NG"}, "", shopperNoAnswer},
	}
	for _, tt := range tests {
		ja, en := ShopperMessage(tt.codes)
		want := shopperTexts[tt.group]
		if ja != want.ja || en != want.en {
			t.Errorf("ShopperMessage(%q) = %q / %q, want group %d (%q)", tt.codes, ja, en, tt.group, want.ja)
		}
		if tt.wantJa != "" && ja != tt.wantJa {
			t.Errorf("ShopperMessage(%q) ja = %q, want %q (ERR-03 wording)", tt.codes, ja, tt.wantJa)
		}
	}

	ja, en := ShopperMessage([]string{"NG"})
	if !strings.Contains(ja, "再度のお支払い操作はしないでください") || !strings.Contains(en, "do not pay again") {
		t.Errorf("NG message must tell the shopper not to pay again: %q / %q", ja, en)
	}
	if !strings.Contains(ja, "ショップにて決済状況を確認") || !strings.Contains(en, "shop will check") {
		t.Errorf("NG message must say the shop will confirm the payment: %q / %q", ja, en)
	}

	// every group has both texts
	for g, txt := range shopperTexts {
		if txt.ja == "" || txt.en == "" {
			t.Errorf("shopper group %d has an empty text", g)
		}
	}
	// every U code and every P code of the catalogue lands in its group
	for _, c := range Catalogue() {
		switch c.Code[0] {
		case 'U':
			if g := shopperGroupOf(c.Code); g != shopperThreeDS {
				t.Errorf("%s: shopper group %d, want 3DS", c.Code, g)
			}
		case 'P':
			if g := shopperGroupOf(c.Code); g != shopperCancelled {
				t.Errorf("%s: shopper group %d, want cancelled", c.Code, g)
			}
		}
	}
}

func TestClassString(t *testing.T) {
	seen := map[string]Class{}
	for c := ClassUnknown; c < numClasses; c++ {
		s := c.String()
		if s == "" || s != strings.ToLower(s) || strings.ContainsAny(s, " -") {
			t.Errorf("Class(%d).String() = %q: want a lower_snake identifier", int(c), s)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("classes %d and %d share the name %q", int(prev), int(c), s)
		}
		seen[s] = c
		back, ok := ParseClass(s)
		if !ok || back != c {
			t.Errorf("ParseClass(%q) = %v, %v; want %d", s, back, ok, int(c))
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("json.Marshal(%s): %v", s, err)
		}
		var dec Class
		if err := json.Unmarshal(b, &dec); err != nil || dec != c {
			t.Errorf("JSON round trip of %s: %s → %v, %v", s, b, dec, err)
		}
	}
	if len(seen) != 13 {
		t.Errorf("%d classes, want 13", len(seen))
	}
	for c, want := range map[Class]string{
		ClassUnknown: "unknown", ClassIssuerDecline: "issuer_decline", ClassCardInput: "card_input",
		ClassMerchantConfig: "merchant_config", ClassTemporary: "temporary", ClassThreeDS: "three_ds",
		ClassCollection: "collection", ClassMember: "member", ClassTransactionState: "transaction_state",
		ClassToken: "token", ClassRequest: "request", ClassShopperCancel: "shopper_cancel", ClassNoAnswer: "no_answer",
	} {
		if got := c.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(c), got, want)
		}
	}
	if got := Class(99).String(); got != "class(99)" {
		t.Errorf("Class(99).String() = %q", got)
	}
	if got := Class(-1).String(); got != "class(-1)" {
		t.Errorf("Class(-1).String() = %q", got)
	}
	if _, err := json.Marshal(Class(99)); err == nil {
		t.Error("marshalling an undefined class must fail")
	}
	var c Class
	if err := json.Unmarshal([]byte(`"nonsense"`), &c); err == nil {
		t.Error("unmarshalling an unknown name must fail")
	}
	if _, ok := ParseClass("Issuer_Decline"); ok {
		t.Error("ParseClass must be exact")
	}
}

func TestClassRetryable(t *testing.T) {
	for c := ClassUnknown; c < numClasses; c++ {
		if got, want := c.Retryable(), c == ClassTemporary; got != want {
			t.Errorf("%s.Retryable() = %v, want %v", c, got, want)
		}
	}
	if ClassNoAnswer.Retryable() {
		t.Error("no_answer must be reconciled, not retried")
	}
}

func TestClassOf(t *testing.T) {
	tests := []struct {
		codes []string
		want  Class
	}{
		{nil, ClassUnknown},
		{[]string{}, ClassUnknown},
		{[]string{"OK"}, ClassUnknown},
		{[]string{"", " "}, ClassUnknown},
		{[]string{"K20"}, ClassCardInput},
		{[]string{"K20", "K21"}, ClassCardInput},
		{[]string{" G12 "}, ClassIssuerDecline},
		{[]string{"NG"}, ClassNoAnswer},
		{[]string{"K20", "NG"}, ClassNoAnswer},
		{[]string{"K20", "K02"}, ClassMerchantConfig},
		{[]string{"K07", "K02"}, ClassMerchantConfig},
		{[]string{"K20", "K07"}, ClassRequest},
		{[]string{"KI2", "KBX"}, ClassTransactionState},
		{[]string{"K20", "KI3"}, ClassToken},
		{[]string{"K20", "K71"}, ClassMember},
		{[]string{"K24", "U04"}, ClassThreeDS},
		{[]string{"K20", "K51"}, ClassCollection},
		{[]string{"K20", "KI5"}, ClassIssuerDecline},
		{[]string{"P51", "K20"}, ClassCardInput},
		{[]string{"K96", "K20"}, ClassCardInput},
		{[]string{"K96", "C80"}, ClassTemporary},
		{[]string{"K96", "X42"}, ClassUnknown},
		{[]string{"K96|K20"}, ClassCardInput},
		{[]string{"P51"}, ClassShopperCancel},
	}
	for _, tt := range tests {
		if got := ClassOf(tt.codes); got != tt.want {
			t.Errorf("ClassOf(%q) = %s, want %s", tt.codes, got, tt.want)
		}
	}
	// the documented invariant: retryable only when every code is temporary
	for _, a := range codeTable {
		for _, b := range []string{"K96", "K20", "G12", "X99"} {
			codes := []string{a.Code, b}
			if a.Code == CodeOK {
				continue
			}
			both := LookupCode(a.Code).Class == ClassTemporary && LookupCode(b).Class == ClassTemporary
			if got := ClassOf(codes).Retryable(); got != both {
				t.Errorf("ClassOf(%q).Retryable() = %v, want %v", codes, got, both)
			}
		}
	}
}

func FuzzLookupCode(f *testing.F) {
	for _, s := range []string{"K20|K21", "OK", "NG", "", " K20 | K21 ", "|||", "K20%7CK21", "\xff\x00", "P51|U01|G12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := LookupCode(s)
		if c.Class < ClassUnknown || c.Class >= numClasses {
			t.Fatalf("LookupCode(%q): class %d out of range", s, int(c.Class))
		}
		if c.Ja == "" || c.En == "" || !utf8.ValidString(c.Ja) || !utf8.ValidString(c.En) {
			t.Fatalf("LookupCode(%q): bad texts %q / %q", s, c.Ja, c.En)
		}
		if c.Code != strings.TrimSpace(s) {
			t.Fatalf("LookupCode(%q).Code = %q", s, c.Code)
		}
		codes := SplitCodes(s)
		for _, p := range codes {
			if p == "" || p != strings.TrimSpace(p) || strings.Contains(p, "|") {
				t.Fatalf("SplitCodes(%q) yielded %q", s, p)
			}
		}
		if d := DescribeCodes(codes, "ja"); !utf8.ValidString(d) {
			t.Fatalf("DescribeCodes(%q) is not valid UTF-8", s)
		}
		if d := DescribeCodes([]string{s}, "en"); !utf8.ValidString(d) {
			t.Fatalf("DescribeCodes(%q) is not valid UTF-8", s)
		}
		if ja, en := ShopperMessage(codes); ja == "" || en == "" {
			t.Fatalf("ShopperMessage(%q) empty", s)
		}
		cl := ClassOf(codes)
		if len(codes) == 0 && cl != ClassUnknown {
			t.Fatalf("ClassOf(nil-ish %q) = %s", s, cl)
		}
	})
}
