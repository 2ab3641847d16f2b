package console

import (
	"strings"

	"github.com/kessai/kessai/escott"
)

// Operator guidance for gateway codes (features.md ERR-04…ERR-09): what an
// operator can do when a code shows up in the payment result log or after
// an operation. The code descriptions themselves come from escott's
// catalogue (ERR-02); these texts add the manuals' advice and how kessai
// itself handles the code, in Japanese and English.

// guidanceEntry is the advice for one code.
type guidanceEntry struct {
	Ja, En string
	// Link points to the console page where the remedy is done, with its
	// link text.
	Link           string
	LinkJa, LinkEn string
	// ThreeDS adds the note about the shop's 3-D Secure setting (K06 is
	// mostly seen with 3-D Secure switched on, ERR-06).
	ThreeDS bool
}

// guidanceToken is KI2 and KI3 (ERR-07): kessai asks the shopper for the card
// again; a token is never reused.
var guidanceToken = guidanceEntry{
	Ja: "カード情報のトークンは1回限り・有効期限付きです（使用済み: KI2、期限切れ: KI3）。購入者には「支払い処理に失敗しました」と表示され、" +
		"カード情報を入力し直すと新しいトークンで処理されます。対応は不要ですが、同じ注文で繰り返し発生する場合は、" +
		"決済画面を開いたまま長時間経過していないか、決済画面のカスタマイズでトークンを二重に送っていないか確認してください。",
	En: "A card token is valid once and for a short time only (used: KI2, expired: KI3). The shopper was told the payment " +
		"failed; entering the card again gets a new token. Nothing to do, but if it keeps happening for one order, check " +
		"whether the checkout page stayed open for a long time or a customised checkout sends the token twice.",
}

// guidanceByCode are the codes with operator guidance.
var guidanceByCode = map[string]guidanceEntry{
	// ERR-04 (MEMBER-09).
	"K71": {
		Ja: "カード会員情報の不整合です。テストモードで登録した会員は2か月で無効になり、テスト環境の会員は本番環境では使えません。" +
			"カード会員の画面でこの顧客のカード会員情報を削除し、購入者にカードを登録し直してもらってください。",
		En: "The card member data does not match the gateway's. Members registered in test mode expire after two months, " +
			"and test members cannot be used in production. Delete the customer's card member on the card members page " +
			"and ask the shopper to register the card again.",
		Link: BasePath + "/customers", LinkJa: "カード会員の画面へ", LinkEn: "Go to card members",
	},
	// ERR-05.
	"K99": {
		Ja: "サービス開始日前であるか、e-SCOTT 管理画面の IP アドレス制限にこのサーバーの送信元 IP アドレスが含まれていない可能性があります。" +
			"e-SCOTT 管理画面で利用開始日と IP アドレス制限の設定を確認してください。",
		En: "The service start date has not come yet, or the IP address restriction in the e-SCOTT merchant console does " +
			"not include this server's outgoing IP address. Check the start date and the IP restriction in the e-SCOTT console.",
	},
	// ERR-06.
	"K06": {
		Ja: "3Dセキュアを利用する設定で返った場合、SPS での 3Dセキュアの利用開始（審査・有効化）が済んでいないか、利用開始日前の可能性があります。" +
			"3Dセキュアが利用可能か SPS に確認するか、クレジットカード設定で 3Dセキュアを無効にしてください。" +
			"それ以外では、その処理（OperateId）が契約で利用可能か SPS に確認してください。",
		En: "With 3-D Secure switched on, this usually means SPS has not activated 3-D Secure for the shop yet (or its " +
			"start date has not come). Ask SPS whether 3-D Secure is available, or switch it off in the card settings. " +
			"Otherwise, ask SPS whether the operation (OperateId) is part of the contract.",
		Link: BasePath + "/settings/card", LinkJa: "クレジットカード設定へ", LinkEn: "Go to card settings",
		ThreeDS: true,
	},
	// ERR-07.
	"K12": {
		Ja: "ProcessId・ProcessPass が操作できる取引と一致しません。取引参照で返った場合は取扱期間（与信から60日など）が過ぎています（期限切れ）。" +
			"収納代行の削除後の参照で返った場合は取消済みです。それ以外では、e-SCOTT 管理画面で取引の状態を確認し、" +
			"管理画面で操作された取引でないか確認してください。",
		En: "ProcessId/ProcessPass do not match a transaction that can be operated on. Answered to a reference, the " +
			"operation period is over (expired, e.g. 60 days after the authorisation); after a collection was deleted, it " +
			"is cancelled. Otherwise check the transaction in the e-SCOTT console: it may have been operated there.",
	},
	"K81": {
		Ja: "会員ID設定の不一致です（会員で決済した取引の操作で会員IDが不要な場合）。売上計上・取消・利用額変更・再オーソリでは、" +
			"kessai が会員ID・パスワードを付けずに1回だけ自動で再送します。このコードが残っている場合は再送も失敗しています。" +
			"e-SCOTT 管理画面で取引を確認してください。",
		En: "Member id setting mismatch (the operation must be sent without the member ids). For capture, cancel, amount " +
			"change and re-authorisation kessai retries once without the member ids by itself; if this code remains, the " +
			"retry failed too. Check the transaction in the e-SCOTT console.",
	},
	"K39": {
		Ja: "売上日（SalesDate）の指定誤りです。kessai は再オーソリで売上日を必ず送ります。続く場合はサーバーの時刻を確認してください。",
		En: "The sales date (SalesDate) is wrong. kessai always sends it with a re-authorisation; if this repeats, check the server's clock.",
	},
	"KI2": guidanceToken,
	"KI3": guidanceToken,
	"KI1": {
		Ja:   "トークン認証コードが e-SCOTT 管理画面の値と一致しているか、クレジットカード設定を確認してください。",
		En:   "Check that the token authentication code in the card settings matches the e-SCOTT merchant console.",
		Link: BasePath + "/settings/card", LinkJa: "クレジットカード設定へ", LinkEn: "Go to card settings",
	},
	"KG8": {
		Ja: "マーチャントID・マーチャントパスワードを確認してください（本番環境とテスト環境でパスワードが異なります）。" +
			"ロックされた場合の解除方法は SPS にお問い合わせください。",
		En: "Check the merchant id and merchant password (the production password differs from the test one). Ask SPS " +
			"how to unlock the merchant if it is locked.",
		Link: BasePath + "/settings/card", LinkJa: "クレジットカード設定へ", LinkEn: "Go to card settings",
	},
	"K74": {
		Ja: "会員認証の失敗が続いたため、カード会員がロックされています。ロックの解除方法は SPS にお問い合わせください。",
		En: "The card member is locked after repeated authentication failures. Ask SPS how to unlock it.",
	},
	"KI5": {
		Ja: "カード情報の連続入力によりロックされています。カードの不正利用（カードテスティング）の可能性がないか、同じ時間帯の失敗を確認してください。",
		En: "Locked after repeated card entries. Look at the failures around the same time for signs of card testing.",
	},
	// ERR-08: kessai records NG when no usable answer arrived.
	escott.CodeNG: {
		Ja: "ゲートウェイから応答がありませんでした（TLS 1.2 で接続できない、60秒のタイムアウト、接続の切断、応答に ResponseCd がない等）。" +
			"結果が「失敗」の場合は要求が送られておらず、決済は行われていません。結果が「結果不明」の場合はゲートウェイで処理された可能性があるため、" +
			"同じ決済をやり直さず、e-SCOTT 管理画面で決済コードの取引を確認し、注文の画面で結果を確定してください。" +
			"続く場合はネットワークと、e-SCOTT 管理画面の IP アドレス制限を確認してください。",
		En: "No usable answer came from the gateway (no TLS 1.2 connection, the 60-second timeout, a dropped connection, " +
			"or no ResponseCd in the answer). With the result \"failed\" the request was never sent and nothing was charged. " +
			"With \"unknown\" the gateway may have processed it: do not pay again; look the transaction code up in the " +
			"e-SCOTT console and resolve the payment on the order's page. If it keeps happening, check the network and the " +
			"IP address restriction in the e-SCOTT console.",
	},
}

// guidanceByClass cover whole classes of codes without guidance of their own.
var guidanceByClass = map[escott.Class]guidanceEntry{
	escott.ClassIssuerDecline: {
		Ja: "カード会社が取引をお断りしました。理由はショップには開示されません。購入者に別のカードを使うか、カード会社に問い合わせるよう案内してください。",
		En: "The card issuer declined. The reason is not disclosed to the shop: the shopper should use another card or contact the issuer.",
	},
	escott.ClassCardInput: {
		Ja: "購入者の入力したカード情報（番号・有効期限・セキュリティコード等）の誤りです。購入者が入力し直せば処理できます。",
		En: "The shopper entered card details wrongly (number, expiry, security code, …). Entering them again fixes it.",
	},
	escott.ClassTemporary: {
		Ja: "e-SCOTT またはカード会社の一時的な障害です。時間をおいて再度お試しください。",
		En: "A temporary failure at e-SCOTT or the card company. Try again later.",
	},
	escott.ClassShopperCancel: {
		Ja: "購入者が SPS の決済画面で中止または離脱しました。注文は未決済のままです（対応は不要です）。",
		En: "The shopper cancelled or left the SPS payment page. The order stays unpaid; nothing to do.",
	},
}

// guidanceView is guidance ready for a template.
type guidanceView struct {
	Text     string
	Link     string
	LinkText string
	// Note is an extra line about the shop's own settings.
	Note string
}

// guidanceFor returns the guidance for code in lang, nil when there is
// none. threeDS is the shop's 3-D Secure setting (the K06 note).
func guidanceFor(code, lang string, threeDS bool) *guidanceView {
	code = strings.TrimSpace(code)
	g, ok := guidanceByCode[code]
	if !ok {
		g, ok = guidanceByClass[escott.LookupCode(code).Class]
	}
	if !ok {
		return nil
	}
	v := &guidanceView{Text: g.Ja, Link: g.Link, LinkText: g.LinkJa}
	if lang == langEn {
		v.Text, v.LinkText = g.En, g.LinkEn
	}
	if g.ThreeDS && threeDS {
		v.Note = text(lang, "logs_guide_threeds_on")
	}
	return v
}

// guidanceChecklist is the manual's "unexpected error" checklist (ERR-09), one
// item per line.
var guidanceChecklist = [][2]string{
	{"クレジットカード設定・オンライン収納代行設定の内容（マーチャントID、パスワード、トークン認証コード、環境）を確認してください。",
		"Check the card and collection settings (merchant id, password, token authentication code, environment)."},
	{"本番環境で NG となるテストカードやシミュレーターのテストカードを使用していないか確認してください。",
		"Make sure no test card that is declined on purpose (or a simulator test card in production) is used."},
	{"SSL 証明書が有効か確認してください（署名アルゴリズム SHA-2、TLS 1.2 のみ）。",
		"Check that the SSL certificate is valid (SHA-2 signature, TLS 1.2 only)."},
	{"ショップや kessai に Basic 認証や IP アドレス制限をかけていないか確認してください（SPS からの通知や 3Dセキュアの戻りが届かなくなります）。",
		"Make sure no Basic authentication or IP restriction sits in front of the shop or kessai (it blocks SPS notifications and 3-D Secure returns)."},
	{"メンテナンスモードや、決済に関わる他の拡張機能・プロキシを一時的に外して確認してください。",
		"Temporarily switch off maintenance mode and other extensions or proxies involved in checkout, and try again."},
	{"決済画面をカスタマイズしている場合は、ブラウザーの開発者ツールで JavaScript エラーが出ていないか確認してください。",
		"If the checkout page is customised, look for JavaScript errors in the browser's developer tools."},
}

// guidanceChecklistIn returns the checklist in lang.
func guidanceChecklistIn(lang string) []string {
	out := make([]string, len(guidanceChecklist))
	for i, c := range guidanceChecklist {
		out[i] = c[0]
		if lang == langEn {
			out[i] = c[1]
		}
	}
	return out
}
