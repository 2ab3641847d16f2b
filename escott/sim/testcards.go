package sim

// TestCard is a card number with a fixed behaviour in the simulator. The
// cards are listed on the simulator's home page and in docs/simulator.md.
type TestCard struct {
	Number string
	Brand  string
	// SecurityCode, when set, is the only security code the card accepts
	// (any other given code answers G44). Empty: any 3–4 digits pass.
	SecurityCode string
	// Decline is the issuer code every authorisation answers, "" for none.
	Decline string
	// ThreeDS fixes the 3-D Secure outcome without showing the challenge
	// page: a SecureResultCode ("0".."9"). Empty: the tester chooses on
	// the challenge page.
	ThreeDS string
	// ThreeDSResponseCd is the ResponseCd returned with ThreeDS (a U code
	// for 3DS system errors), "" for OK.
	ThreeDSResponseCd string
	Note, NoteJa      string
}

// DemoCard is the manuals' public demo card; it succeeds with security code
// 8888 and expiry 2028-12 (any future expiry works in the simulator).
const DemoCard = "4123000000000300"

// TestCards is the fixed list of simulator cards. Numbers other than these
// behave as an ordinary approving card when they pass the Luhn check, and
// are declined with G65 (card number error) otherwise.
var TestCards = []TestCard{
	{Number: DemoCard, Brand: "VISA", SecurityCode: "8888", Note: "approves (the manuals' demo card, security code 8888, expiry 12/28)", NoteJa: "承認（マニュアル記載のデモカード。セキュリティコード 8888、有効期限 12/28）"},
	{Number: "4012000000000008", Brand: "VISA", Note: "approves", NoteJa: "承認"},
	{Number: "5123000000000001", Brand: "Mastercard", Note: "approves", NoteJa: "承認"},
	{Number: "3530000000000003", Brand: "JCB", Note: "approves", NoteJa: "承認"},
	{Number: "36000000000008", Brand: "Diners", Note: "approves; installments: 一括 and リボ only", NoteJa: "承認（支払回数は一括・リボのみ）"},
	{Number: "370000000000002", Brand: "AMEX", Note: "approves; no 2回 and no リボ", NoteJa: "承認（2回払い・リボ払い不可）"},
	{Number: "4000000000000127", Brand: "VISA", Decline: "G12", Note: "declines: card cannot be used", NoteJa: "拒否：カード使用不可"},
	{Number: "4000000000000556", Brand: "VISA", Decline: "G55", Note: "declines: credit limit exceeded", NoteJa: "拒否：限度額オーバー"},
	{Number: "4000000000000564", Brand: "VISA", Decline: "G56", Note: "declines: invalid card", NoteJa: "拒否：無効カード"},
	{Number: "4000000000000606", Brand: "VISA", Decline: "G60", Note: "declines: reported lost or stolen", NoteJa: "拒否：事故カード"},
	{Number: "4000000000000655", Brand: "VISA", Decline: "G65", Note: "declines: card number error", NoteJa: "拒否：カード番号エラー"},
	{Number: "4000000000000838", Brand: "VISA", Decline: "G83", Note: "declines: expiry date error", NoteJa: "拒否：有効期限エラー"},
	{Number: "4000000000000440", Brand: "VISA", Decline: "G44", Note: "declines: security code wrong", NoteJa: "拒否：セキュリティコード誤り"},
	{Number: "4000000000003006", Brand: "VISA", ThreeDS: "0", Note: "3-D Secure: authenticated without a challenge (SecureResultCode 0)", NoteJa: "3Dセキュア：チャレンジなしで認証成功（SecureResultCode 0）"},
	{Number: "4000000000003105", Brand: "VISA", ThreeDS: "1", Note: "3-D Secure: authentication failed (1)", NoteJa: "3Dセキュア：認証失敗（1）"},
	{Number: "4000000000003204", Brand: "VISA", ThreeDS: "2", Note: "3-D Secure: cardholder not enrolled (2)", NoteJa: "3Dセキュア：パスワード未設定（2）"},
	{Number: "4000000000003303", Brand: "VISA", ThreeDS: "3", Note: "3-D Secure: issuer does not support 3DS (3)", NoteJa: "3Dセキュア：発行会社が未対応（3）"},
	{Number: "4000000000003808", Brand: "VISA", ThreeDS: "8", Note: "3-D Secure: system maintenance (8)", NoteJa: "3Dセキュア：システムメンテナンス（8）"},
	{Number: "4000000000003907", Brand: "VISA", ThreeDS: "9", Note: "3-D Secure: authentication system error (9)", NoteJa: "3Dセキュア：認証システムエラー（9）"},
	{Number: "4000000000003022", Brand: "VISA", ThreeDS: "9", ThreeDSResponseCd: "U04", Note: "3-D Secure: could not be performed (ResponseCd U04, SecureResultCode 9)", NoteJa: "3Dセキュア：認証不可（U04）"},
}

// LookupTestCard returns the test card with this number.
func LookupTestCard(number string) (TestCard, bool) {
	for _, c := range TestCards {
		if c.Number == number {
			return c, true
		}
	}
	return TestCard{}, false
}

// luhnValid reports whether number passes the Luhn check.
func luhnValid(number string) bool {
	if len(number) < 12 {
		return false
	}
	sum, double := 0, false
	for i := len(number) - 1; i >= 0; i-- {
		c := number[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
