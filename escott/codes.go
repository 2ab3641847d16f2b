package escott

import (
	"fmt"
	"strings"
	"unicode"
)

// Class groups codes by what the caller should do about them. The gateway
// answers a failed call with one or more codes (spec §14); callers rarely
// care about the individual code, but they must decide whether to ask the
// shopper for another card, let the shopper correct a field, alert the
// operator, retry later, or reconcile. Class is that decision.
type Class int

// The classes. The zero value is ClassUnknown so that a Code that was never
// looked up, or a code missing from the catalogue, is never mistaken for an
// actionable answer.
const (
	// ClassUnknown: the code is not in the catalogue (or is "OK"). Treated
	// as a plain failure that nobody can act on automatically.
	ClassUnknown Class = iota
	// ClassIssuerDecline: the card issuer (or the card network on its
	// behalf) refused the card, e.g. G12, G55, G56, G60. Ask the shopper for
	// another card; repeating the request will not help.
	ClassIssuerDecline
	// ClassCardInput: the shopper entered something wrong or chose a
	// payment option the card does not allow, e.g. K20, K21, K24, K40, G44,
	// G65, G83, C13. The shopper can fix it and retry.
	ClassCardInput
	// ClassMerchantConfig: the shop's settings or its contract with SPS are
	// wrong or incomplete, e.g. K02, K03, K04, K06, K68, K99, KG8, KI1, C01,
	// C70. Nothing succeeds until the operator acts.
	ClassMerchantConfig
	// ClassTemporary: e-SCOTT or the card company is temporarily
	// unavailable, e.g. K96, K98, C02, C03, C80, G95, U14, U95. The same
	// request may succeed later.
	ClassTemporary
	// ClassThreeDS: 3-D Secure authentication failed or its result fields
	// were malformed (K30–K37 and most U codes).
	ClassThreeDS
	// ClassCollection: the online payment collection (convenience store,
	// Pay-easy, …) service rejected the registration (K28, K50–K55, K60 and
	// the W codes).
	ClassCollection
	// ClassMember: a stored-card member problem (K15, K45–K47, K69–K81,
	// K84, K85, …): the member must be re-registered, unlocked or fixed.
	ClassMember
	// ClassTransactionState: the transaction cannot be operated on now
	// (K12, K14, K88, KBX, KBY, KBZ, C14, …): already cancelled, expired,
	// duplicated or still in progress. Reload the state before acting.
	ClassTransactionState
	// ClassToken: the card token is malformed, used or expired (KHX, KHZ,
	// KI2, KI3, …). Get a new token from the shopper's browser.
	ClassToken
	// ClassRequest: a request field we generate is malformed (K01, K05,
	// K07–K11, K22, K23, K39, K86, …). This is a bug on our side.
	ClassRequest
	// ClassShopperCancel: the shopper cancelled or left the SPS-hosted
	// payment page (P51, P52, P55, P56, P62–P65, P69, P70). Not an error.
	ClassShopperCancel
	// ClassNoAnswer: the client-side pseudo code NG. No usable answer came
	// back, so the gateway may or may not have processed the request: the
	// attempt must be reconciled, never blindly repeated.
	ClassNoAnswer

	numClasses // keep last: the number of defined classes
)

// classNames are the stable identifiers of the classes. They appear in the
// JSON API and as metric labels, so they must never change once released.
var classNames = [numClasses]string{
	ClassUnknown:          "unknown",
	ClassIssuerDecline:    "issuer_decline",
	ClassCardInput:        "card_input",
	ClassMerchantConfig:   "merchant_config",
	ClassTemporary:        "temporary",
	ClassThreeDS:          "three_ds",
	ClassCollection:       "collection",
	ClassMember:           "member",
	ClassTransactionState: "transaction_state",
	ClassToken:            "token",
	ClassRequest:          "request",
	ClassShopperCancel:    "shopper_cancel",
	ClassNoAnswer:         "no_answer",
}

// String returns the stable lower-case identifier of the class, e.g.
// "issuer_decline". Values outside the defined range render as
// "class(N)" so that a bug is visible instead of being folded into
// "unknown".
func (c Class) String() string {
	if c >= 0 && c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// ParseClass is the inverse of [Class.String]. It reports false for a name
// that no class has.
func ParseClass(s string) (Class, bool) {
	for c, name := range classNames {
		if name == s {
			return Class(c), true
		}
	}
	return ClassUnknown, false
}

// MarshalText encodes the class as its String identifier, so that JSON
// carries "issuer_decline" rather than a number that would change meaning
// if the constants were ever reordered.
func (c Class) MarshalText() ([]byte, error) {
	if c < 0 || c >= numClasses {
		return nil, fmt.Errorf("escott: cannot marshal undefined %s", c)
	}
	return []byte(c.String()), nil
}

// UnmarshalText decodes an identifier produced by MarshalText.
func (c *Class) UnmarshalText(b []byte) error {
	v, ok := ParseClass(string(b))
	if !ok {
		return fmt.Errorf("escott: unknown response code class %q", b)
	}
	*c = v
	return nil
}

// Retryable reports whether repeating the very same request later can
// succeed. Only ClassTemporary qualifies. ClassNoAnswer is deliberately not
// retryable: the first request may have been processed, so a blind retry
// risks a double charge; it must be reconciled first.
func (c Class) Retryable() bool {
	return c == ClassTemporary
}

// Code describes one gateway response code.
type Code struct {
	// Code is the code as it appears in ResponseCd, e.g. "K20".
	Code string
	// Class says what the caller should do about the code.
	Class Class
	// Ja is the operator-facing description in Japanese, in the style of
	// the merchant plugins' labels (admin dialog and logs, ERR-02).
	Ja string
	// En is the operator-facing description in English.
	En string
	// Guidance is optional Japanese advice for operators, taken from the
	// operator manuals where they give one (ERR-04…ERR-09); "" otherwise.
	Guidance string
}

// Japanese operator guidance from the manuals (features.md ERR-04…ERR-09)
// and from the plugins' built-in handling (ERR-07).
const (
	guidanceK06 = "3Dセキュアを有効にしていますが、SPS での 3Dセキュアの利用申込みが完了していないか、利用開始日前の可能性があります。" +
		"3Dセキュアが利用可能か SPS に確認するか、設定で 3Dセキュアを無効にしてください。"
	guidanceK12 = "取引参照（1Search）で返った場合は取扱期限切れ、収納代行の削除（2Del）後の参照（2Ref）で返った場合は取消済みを意味します。" +
		"それ以外では ProcessId/ProcessPass が対象取引のものか確認してください。"
	guidanceK39 = "再オーソリ（1ReAuth）では売上日（SalesDate）を必ず送信してください。"
	guidanceK71 = "カード会員情報の不整合です（テストモードで登録した会員の有効期限切れ、テスト環境の会員を本番環境で使用した場合など）。" +
		"カード会員を削除して再登録してください。"
	guidanceK74 = "会員認証の失敗が続いたため会員がロックされています。保存している会員ID・パスワードを確認し、ロックの解除方法は SPS にお問い合わせください。"
	guidanceK81 = "売上計上・取消・利用額変更・再オーソリで返った場合は、会員ID・会員パスワードを指定せずに再送すると処理できます。"
	guidanceK99 = "サービス開始日前であるか、e-SCOTT 管理画面の IP アドレス制限にショップサーバーの送信元 IP アドレスが含まれていない可能性があります。"
	guidanceKG8 = "MerchantId・MerchantPass の設定を確認してください（本番環境とテスト環境でパスワードが異なります）。ロックの解除方法は SPS にお問い合わせください。"
	guidanceKI1 = "設定のトークン認証コードが e-SCOTT 管理画面の値と一致しているか確認してください。"
	guidanceTok = "トークンは1回限り有効で、有効期限があります。購入者にカード情報を再入力してもらい、新しいトークンで処理してください。"
	guidanceKI5 = "カード情報の連続入力によりロックされています。カードの不正利用（カードテスティング）の可能性がないか確認してください。"
	guidanceKH0 = "カード会社からの応答を確認できませんでした。同じ決済を再実行する前に、e-SCOTT 管理画面で取引の有無を確認してください。"
	guidanceClo = "カード会社のオンライン業務時間外です。時間をおいて再度お試しください。"
	guidanceP   = "購入者が SPS の決済画面で中止または離脱しました。注文は未決済のままです（対応は不要です）。"
	guidanceNG  = "接続失敗（TLS 1.2 で接続できない等）、タイムアウト（60秒）、または応答に ResponseCd がなかった場合に記録されます。" +
		"ゲートウェイ側で決済が成立している可能性があるため、同じ決済を再実行せず、e-SCOTT 管理画面で取引の有無を確認してください。" +
		"続く場合はネットワーク設定（送信元 IP アドレス制限を含む）を確認してください。"
)

// UnexpectedErrorChecklist is the operator manual's checklist for an
// "unexpected error" (features.md ERR-09), for admin help pages.
const UnexpectedErrorChecklist = "設定内容を確認してください。" +
	"NG となるテストカードを使用していないか確認してください。" +
	"SSL 証明書が有効か確認してください（署名アルゴリズム SHA-2、2018年3月以降は TLS 1.2 のみ）。" +
	"ショップに Basic 認証や IP アドレス制限をかけていないか確認してください（SPS からの通知が届かなくなります）。" +
	"メンテナンスモードを含む他の拡張機能を無効にして確認してください。" +
	"決済画面をカスタマイズしている場合は JavaScript エラーが出ていないか確認してください。"

// Labels shared by many rows.
const (
	jaP = "外部リンク決済画面：購入者による中止・離脱"
	enP = "The shopper cancelled or left the SPS payment page (external link type)"
)

// codeTable is the catalogue. Its order mirrors spec §14 (pseudo codes,
// then §14.2 K, §14.3 C, §14.4 G, §14.5 R, §14.6 U, §14.7 W, §14.8 P) so
// that a review against the spec is a side-by-side read. Codes marked † in
// the spec (SFRA message file only) are included: they may still be sent.
//
// Class choices that are not obvious from the family are commented on the
// row. Japanese labels for field validation errors follow the plugins'
// style 「項目「X」精査エラー」 (ERR-02).
var codeTable = []Code{
	// §14.1 / §3.3: success and the client-side pseudo code.
	{CodeOK, ClassUnknown, "正常", "success", ""},
	{CodeNG, ClassNoAnswer, "ゲートウェイから応答がありませんでした（通信エラー）", "No usable answer from the gateway (communication error)", guidanceNG},

	// §14.2 K — request, member and token validation.
	{"K01", ClassRequest, "オンライン取引電文精査エラー", "The request message failed validation", ""},
	{"K02", ClassMerchantConfig, "項目「MerchantId」精査エラー", "MerchantId is invalid", ""},
	{"K03", ClassMerchantConfig, "項目「MerchantPass」精査エラー", "MerchantPass is invalid", ""},
	{"K04", ClassMerchantConfig, "項目「TenantId」精査エラー", "TenantId is invalid", ""},
	{"K05", ClassRequest, "項目「TransactionDate」精査エラー", "TransactionDate is invalid", ""},
	// K06 is also what an operation the shop has not been enabled for
	// (typically 3-D Secure) yields: the operator must act.
	{"K06", ClassMerchantConfig, "項目「OperateId」精査エラー", "OperateId is invalid or the operation is not enabled for the shop (e.g. 3-D Secure not activated)", guidanceK06},
	{"K07", ClassRequest, "項目「MerchantFree1」精査エラー", "MerchantFree1 is invalid", ""},
	{"K08", ClassRequest, "項目「MerchantFree2」精査エラー", "MerchantFree2 is invalid", ""},
	{"K09", ClassRequest, "項目「MerchantFree3」精査エラー", "MerchantFree3 is invalid", ""},
	{"K10", ClassRequest, "項目「ProcessId」精査エラー", "ProcessId is invalid", ""},
	{"K11", ClassRequest, "項目「ProcessPass」精査エラー", "ProcessPass is invalid", ""},
	{"K12", ClassTransactionState, "項目「ProcessId」または「ProcessPass」不整合エラー", "ProcessId/ProcessPass do not match any operable transaction", guidanceK12},
	{"K14", ClassTransactionState, "ステータス遷移不整合エラー（取引の現在の状態では要求された処理を実行できません）", "The requested operation is not allowed in the transaction's current status", ""},
	{"K15", ClassMember, "返戻対象会員数エラー（カード番号に該当する会員が多すぎます）", "Too many card members match the card number (limit 30)", ""},
	{"K20", ClassCardInput, "項目「CardNo」精査エラー", "CardNo (card number) is invalid", ""},
	{"K21", ClassCardInput, "項目「CardExp」精査エラー", "CardExp (expiry date) is invalid", ""},
	{"K22", ClassRequest, "項目「PayType」精査エラー", "PayType is invalid", ""},
	{"K23", ClassRequest, "項目「Amount」精査エラー", "Amount is invalid", ""},
	{"K24", ClassCardInput, "項目「SecCd」精査エラー", "SecCd (security code) is invalid", ""},
	// K25–K27 and K41–K44 are authentication-assist items the shopper types.
	{"K25", ClassCardInput, "項目「KanaSei」精査エラー", "KanaSei (family name in kana) is invalid", ""},
	{"K26", ClassCardInput, "項目「KanaMei」精査エラー", "KanaMei (given name in kana) is invalid", ""},
	{"K27", ClassCardInput, "項目「BirthDay」精査エラー", "BirthDay is invalid", ""},
	{"K28", ClassCollection, "項目「TelNo」精査エラー", "TelNo (phone number) is invalid", ""},
	{"K30", ClassThreeDS, "3D項目「MessageVersionNo3D」精査エラー", "MessageVersionNo3D is invalid", ""},
	{"K31", ClassThreeDS, "3D項目「TransactionId3D」精査エラー", "TransactionId3D is invalid", ""},
	{"K32", ClassThreeDS, "3D項目「EncodeXId3D」精査エラー", "EncodeXId3D is invalid (the gateway's label spells it EncordXId3D)", ""},
	{"K33", ClassThreeDS, "3D項目「TransactionStatus3D」精査エラー", "TransactionStatus3D is invalid", ""},
	{"K34", ClassThreeDS, "3D項目「CAVVAlgorithm3D」精査エラー", "CAVVAlgorithm3D is invalid", ""},
	{"K35", ClassThreeDS, "3D項目「CAVV3D」精査エラー", "CAVV3D is invalid", ""},
	{"K36", ClassThreeDS, "3D項目「ECI3D」精査エラー", "ECI3D is invalid", ""},
	{"K37", ClassThreeDS, "3D項目「PANCard3D」精査エラー", "PANCard3D is invalid", ""},
	{"K39", ClassRequest, "項目「SalesDate」精査エラー", "SalesDate is invalid", guidanceK39},
	{"K40", ClassCardInput, "セキュリティコード誤り（認証アシストNG）", "The security code does not match", ""},
	{"K41", ClassCardInput, "生年月日不一致（認証アシストNG）", "The birthday does not match", ""},
	{"K42", ClassCardInput, "電話番号下4桁不一致（認証アシストNG）", "The last 4 digits of the phone number do not match", ""},
	{"K43", ClassCardInput, "姓不一致（認証アシストNG）", "The family name does not match", ""},
	{"K44", ClassCardInput, "名不一致（認証アシストNG）", "The given name does not match", ""},
	{"K45", ClassMember, "項目「KaiinId」精査エラー", "KaiinId (member id) is invalid", ""},
	{"K46", ClassMember, "項目「KaiinPass」精査エラー", "KaiinPass (member password) is invalid", ""},
	{"K47", ClassMember, "項目「NewKaiinPass」精査エラー", "NewKaiinPass (new member password) is invalid", ""},
	// K48 is a flag we set, not member data.
	{"K48", ClassRequest, "項目「EnableCheckUseKbn」精査エラー", "EnableCheckUseKbn is invalid", ""},
	{"K50", ClassCollection, "項目「PayLimit」精査エラー", "PayLimit (payment due date) is invalid", ""},
	{"K51", ClassCollection, "項目「NameKanji」精査エラー", "NameKanji (name) is invalid", ""},
	{"K52", ClassCollection, "項目「NameKana」精査エラー", "NameKana (name in kana) is invalid", ""},
	{"K53", ClassCollection, "項目「ShouhinName」精査エラー", "ShouhinName (product name) is invalid", ""},
	{"K54", ClassCollection, "項目「Free1」～「Free7」精査エラー", "Free1–Free7 are invalid", ""},
	{"K55", ClassCollection, "項目「Comment」精査エラー", "Comment is invalid", ""},
	{"K60", ClassCollection, "項目「ReturnURL」（戻り先URL）精査エラー", "ReturnURL is invalid", ""},
	{"K64", ClassRequest, "返品区分精査エラー", "The refund type is invalid", ""},
	{"K65", ClassRequest, "カード会社コード精査エラー", "The card company code is invalid", ""},
	{"K66", ClassRequest, "承認番号精査エラー", "The approval number is invalid", ""},
	{"K67", ClassRequest, "売上日精査エラー", "The capture date is invalid", ""},
	{"K68", ClassMerchantConfig, "会員登録機能利用不可エラー（会員登録機能が利用できない設定です）", "The card member function is not available for this merchant", ""},
	{"K69", ClassMember, "会員ID重複エラー（指定の会員IDは既に登録されています）", "The member id already exists", ""},
	{"K70", ClassMember, "会員が無効状態ではありません（削除の前に無効化が必要です）", "The member is not invalidated (required before deletion)", ""},
	{"K71", ClassMember, "会員ID認証エラー（会員IDまたは会員パスワードが一致しません）", "Member id / password authentication failed", guidanceK71},
	{"K73", ClassMember, "会員が既に有効です", "The member is already valid", ""},
	{"K74", ClassMember, "会員ロックアウト（認証失敗が続いたため会員がロックされました）", "The member is locked out after repeated authentication failures", guidanceK74},
	{"K75", ClassMember, "会員が有効ではありません（無効化されています）", "The member is not valid (invalidated)", ""},
	{"K79", ClassMember, "会員判定エラー（ログイン無効または会員無効）", "Member judgement error (login invalid or member invalid)", ""},
	{"K80", ClassMember, "会員ID設定不一致エラー（会員IDの指定が必要です）", "Member id setting mismatch: a member id is required", ""},
	{"K81", ClassMember, "会員ID設定不一致エラー（会員IDの指定は不要です）", "Member id setting mismatch: a member id must not be given", guidanceK81},
	// K82/K83 are about the card the shopper entered, not the member
	// record, so the shopper can fix them (and ERR-03 groups them with
	// K20/K21).
	{"K82", ClassCardInput, "カード番号入力内容不正", "The card number content is invalid", ""},
	{"K83", ClassCardInput, "有効期限入力内容不正", "The card expiry content is invalid", ""},
	{"K84", ClassMember, "会員ID入力内容不正", "The member id content is invalid", ""},
	{"K85", ClassMember, "会員パスワード入力内容不正", "The member password content is invalid", ""},
	{"K86", ClassRequest, "項目「ProcNo」精査エラー", "ProcNo is invalid", ""},
	{"K87", ClassRequest, "項目「PostUrl」精査エラー", "PostUrl is invalid", ""},
	{"K88", ClassTransactionState, "元取引重複エラー", "Duplicate original transaction", ""},
	// K89: ProcNo is generated by us; a fresh one fixes it.
	{"K89", ClassRequest, "処理番号（ProcNo）重複エラー", "ProcNo has already been used", ""},
	{"K95", ClassRequest, "フォーマットエラー", "File format error", ""},
	{"K96", ClassTemporary, "通信障害（e-SCOTT 内部のタイムアウト）", "Internal communication failure (timeout) inside e-SCOTT", ""},
	{"K98", ClassTemporary, "内部軽度障害（e-SCOTT）", "Minor internal failure inside e-SCOTT", ""},
	// K99: the manual's two causes (service start date, IP restriction)
	// are both on the operator's side.
	{"K99", ClassMerchantConfig, "その他例外エラー", "Other exception (service not started yet or IP address restriction misconfigured)", guidanceK99},
	{"KA1", ClassRequest, "通貨コード（CurrencyId）精査エラー", "CurrencyId is invalid", ""},
	{"KBX", ClassTransactionState, "二重取引エラー", "Duplicate (double) transaction", ""},
	{"KBY", ClassTransactionState, "処理未完了エラー（前回の処理が完了していません）", "The previous processing has not completed", ""},
	{"KBZ", ClassTransactionState, "元取引なしエラー（対象の元取引が存在しません）", "The original transaction was not found", ""},
	{"KE0", ClassCardInput, "項目「Sex」（性別）精査エラー", "Sex (gender) is invalid", ""},
	{"KE1", ClassCardInput, "項目「BirthYear」（生年）精査エラー", "BirthYear is invalid", ""},
	{"KE2", ClassCardInput, "項目「Postal」（郵便番号）精査エラー", "Postal (postal code) is invalid", ""},
	{"KE3", ClassCardInput, "項目「AcntNo1」（口座番号1）精査エラー", "AcntNo1 (bank account number 1) is invalid", ""},
	{"KE4", ClassCardInput, "項目「AcntNo2」（口座番号2）精査エラー", "AcntNo2 (bank account number 2) is invalid", ""},
	{"KE5", ClassCardInput, "項目「CardMei」（カード名義）精査エラー", "CardMei (card-holder name) is invalid", ""},
	{"KE6", ClassRequest, "項目「CardDispLength」（表示桁）精査エラー", "CardDispLength is invalid", ""},
	{"KEA", ClassCardInput, "性別不一致（認証アシストNG）", "The gender does not match", ""},
	{"KEB", ClassCardInput, "生年不一致（認証アシストNG）", "The birth year does not match", ""},
	{"KEC", ClassCardInput, "郵便番号不一致（認証アシストNG）", "The postal code does not match", ""},
	{"KED", ClassCardInput, "口座番号上4桁不一致（認証アシストNG）", "The first 4 digits of the bank account do not match", ""},
	{"KEE", ClassCardInput, "口座番号下4桁不一致（認証アシストNG）", "The last 4 digits of the bank account do not match", ""},
	{"KEF", ClassCardInput, "カード名義不一致（認証アシストNG）", "The card-holder name does not match", ""},
	{"KG8", ClassMerchantConfig, "事業者認証ロックアウト（MerchantId・MerchantPass の認証失敗が続いたためロックされました）", "Merchant authentication (MerchantId/MerchantPass) is locked out after repeated failures", guidanceKG8},
	{"KGH", ClassMerchantConfig, "会員参照電文利用設定エラー（会員参照が利用設定で許可されていません）", "The member reference message is not permitted by the usage settings", ""},
	// KH0: e-SCOTT got no definite answer from the card network and reports
	// failure (it cancels such authorisations itself, cf. KHV), so a later
	// retry is safe [INFERENCE]; the guidance still asks the operator to
	// check the console before retrying by hand.
	{"KH0", ClassTransactionState, "レスポンス不明エラー", "Unknown response from the card network", guidanceKH0},
	{"KH4", ClassRequest, "項目「PageLanguage」精査エラー", "PageLanguage is invalid", ""},
	{"KHS", ClassRequest, "項目「SuccessURL」精査エラー", "SuccessURL is invalid", ""},
	{"KHT", ClassRequest, "項目「ErrorURL」精査エラー", "ErrorURL is invalid", ""},
	{"KHU", ClassRequest, "項目「StatusNoticeURL」精査エラー", "StatusNoticeURL is invalid", ""},
	// KHV literally says "process again".
	{"KHV", ClassTemporary, "自動取消実施済（再度処理を行ってください）", "An automatic cancellation has already been performed; process again", ""},
	{"KHX", ClassToken, "項目「Token」精査エラー", "Token is invalid", guidanceTok},
	{"KHZ", ClassToken, "利用可能トークンなしエラー", "No usable token", guidanceTok},
	{"KI0", ClassTransactionState, "与信売上計上中止", "Authorisation with capture was aborted", ""},
	// KI1: the token authentication code is a shop setting.
	{"KI1", ClassMerchantConfig, "項目「k_TokenNinsyoCode」（トークン認証コード）精査エラー", "k_TokenNinsyoCode (token authentication code) is invalid", guidanceKI1},
	{"KI2", ClassToken, "使用済みトークンエラー", "The token has already been used", guidanceTok},
	{"KI3", ClassToken, "トークン有効期限切れエラー", "The token has expired", guidanceTok},
	// KI4: terminal information is produced by the token script together
	// with the token; a new token carries fresh terminal information.
	{"KI4", ClassToken, "端末情報精査エラー", "The terminal information is invalid", ""},
	// KI5/KI6 are anti-card-testing locks. They are classed as issuer
	// declines, not card input: inviting the shopper to re-type would only
	// feed the lock; the card (or terminal) is refused for now.
	{"KI5", ClassIssuerDecline, "同一カード番号連続入力ロック", "Locked because the same card number was entered repeatedly", guidanceKI5},
	{"KI6", ClassIssuerDecline, "同一端末連続入力ロック", "The terminal is locked because of repeated entries from it", guidanceKI5},
	{"KI8", ClassTransactionState, "対象取引複数エラー（該当する取引が複数あります）", "More than one transaction matches", ""},
	// KIE/KIF/KIH: signature of a wallet (Apple Pay) payment token.
	{"KIE", ClassToken, "項目「signature」精査エラー", "signature is invalid", ""},
	{"KIF", ClassToken, "signature エラー（オブジェクト識別子なし）", "Signature error: the object identifier is missing", ""},
	{"KIH", ClassToken, "signature エラー（署名時刻が許容範囲外）", "Signature error: the signing time is outside the allowed window", ""},
	{"KIJ", ClassMerchantConfig, "トークン決済（ApplePay）取引許可エラー", "Token payment / Apple Pay transactions are not permitted", ""},
	{"KIK", ClassMember, "ApplePay 会員元取引不整合エラー", "Apple Pay member original-transaction mismatch", ""},
	{"KIL", ClassMember, "通常会員元取引不整合エラー", "Normal member original-transaction mismatch", ""},
	{"KIN", ClassTransactionState, "取消不要（既に取消済みです）", "Cancellation is not required (already cancelled)", ""},
	{"KIW", ClassRequest, "項目「KaiinIdAutoRiyoFlg」精査エラー", "KaiinIdAutoRiyoFlg is invalid", ""},

	// §14.3 C — e-SCOTT / processing centre.
	{"C01", ClassMerchantConfig, "e-SCOTT 設定関連エラー", "e-SCOTT configuration error", ""},
	{"C02", ClassTemporary, "e-SCOTT システムエラー", "e-SCOTT system error", ""},
	{"C03", ClassTemporary, "e-SCOTT 通信エラー", "e-SCOTT communication error", ""},
	// C10–C12, C15 (and G72–G78): the shopper's choice of payment type or
	// installments is not possible for this card; choosing another fixes it.
	{"C10", ClassCardInput, "支払区分エラー", "Payment type error", ""},
	{"C11", ClassCardInput, "ボーナス期間外エラー", "Bonus payment outside the bonus period", ""},
	{"C12", ClassCardInput, "分割回数エラー", "Installment count error", ""},
	{"C13", ClassCardInput, "有効期限切れエラー", "The card has expired", ""},
	{"C14", ClassTransactionState, "取消済みエラー", "Already cancelled", ""},
	{"C15", ClassCardInput, "ボーナス金額下限エラー", "The bonus amount is below the minimum", ""},
	{"C16", ClassCardInput, "カード番号エラー（該当するカードがありません）", "Card number error (the card does not exist)", ""},
	{"C17", ClassCardInput, "カード番号体系エラー", "Card number scheme error", ""},
	// C18: a valid number the centre will not authorise: another card is
	// needed.
	{"C18", ClassIssuerDecline, "オーソリ除外対象エラー（オーソリ対象外のカード番号体系です）", "The card number scheme is excluded from authorisation", ""},
	{"C70", ClassMerchantConfig, "弊社（SPS）設定情報エラー", "SPS-side configuration error", ""},
	{"C71", ClassMerchantConfig, "弊社（SPS）設定情報エラー", "SPS-side configuration error", ""},
	{"C80", ClassTemporary, "カード会社センター閉局", "The card company centre is closed", guidanceClo},
	// C98/C99: centre-side exceptions with no stated cause; later retries
	// are the only automatic remedy.
	{"C98", ClassTemporary, "その他例外エラー（処理センター）", "Other exception (processing centre)", ""},
	{"C99", ClassTemporary, "その他例外エラー（処理センター）", "Other exception (processing centre)", ""},

	// §14.4 G — issuer / authorisation network results.
	{"G12", ClassIssuerDecline, "カード使用不可", "The card cannot be used", ""},
	{"G22", ClassIssuerDecline, "支払永久禁止", "Payment permanently prohibited", ""},
	// G30: the issuer holds the authorisation for review; for the shopper
	// this is a refusal.
	{"G30", ClassIssuerDecline, "取引判定保留", "Transaction decision pending at the issuer", ""},
	{"G42", ClassCardInput, "暗証番号エラー", "PIN error", ""},
	{"G44", ClassCardInput, "セキュリティコード誤り", "The security code is wrong", ""},
	{"G45", ClassCardInput, "セキュリティコード入力無", "The security code was not entered", ""},
	{"G54", ClassIssuerDecline, "利用回数エラー（利用回数または1日の利用金額超過）", "Usage count (or daily amount) exceeded", ""},
	{"G55", ClassIssuerDecline, "限度額オーバー", "Credit limit exceeded", ""},
	{"G56", ClassIssuerDecline, "無効カード", "Invalid card", ""},
	{"G60", ClassIssuerDecline, "事故カード", "Reported (lost or stolen) card", ""},
	{"G61", ClassIssuerDecline, "無効カード", "Invalid card", ""},
	{"G65", ClassCardInput, "カード番号エラー", "Card number error", ""},
	{"G68", ClassIssuerDecline, "金額エラー", "Amount error", ""},
	{"G72", ClassCardInput, "ボーナス額エラー", "Bonus amount error", ""},
	{"G74", ClassCardInput, "分割回数エラー", "Installment count error", ""},
	{"G75", ClassCardInput, "分割金額エラー（分割払いの最低金額未満）", "Installment amount error (below the minimum)", ""},
	{"G78", ClassCardInput, "支払区分エラー", "Payment type error", ""},
	{"G83", ClassCardInput, "有効期限エラー", "Expiry date error", ""},
	{"G84", ClassIssuerDecline, "承認番号エラー", "Approval number error", ""},
	{"G85", ClassTemporary, "CAFIS 代行エラー", "CAFIS proxy processing error", ""},
	{"G92", ClassIssuerDecline, "カード会社任意エラー", "Card company discretionary error", ""},
	{"G94", ClassTemporary, "サイクル通番エラー", "Cycle sequence number error", ""},
	{"G95", ClassTemporary, "当該業務オンライン終了（カード会社のオンライン業務時間外）", "The card company's online service is closed", guidanceClo},
	{"G96", ClassIssuerDecline, "事故カードデータエラー", "Reported-card data error", ""},
	{"G97", ClassIssuerDecline, "当該要求拒否", "Request rejected", ""},
	// G98: the card company does not handle this business for the shop,
	// i.e. a contract matter [INFERENCE]. G99: the company refused the
	// connection; no charge happened, so a later retry is harmless.
	{"G98", ClassMerchantConfig, "当該自社対象業務エラー", "Company-specific business error (not handled for this merchant)", ""},
	{"G99", ClassTemporary, "接続要求自社受付拒否", "Connection request refused by the card company", ""},

	// §14.5 R — UnionPay (銀聯). The spec gives English only; the Japanese
	// labels are ours.
	{"R01", ClassTemporary, "銀聯：システム未稼働または一時停止中（時間をおいて再度お試しください）", "UnionPay: system not running or temporarily down; retry later", ""},
	{"R02", ClassRequest, "銀聯：電文フォーマットエラー", "UnionPay: message format error", ""},
	{"R03", ClassRequest, "銀聯：署名エラー", "UnionPay: signature error", ""},
	{"R04", ClassRequest, "銀聯：取引の必須要素不足", "UnionPay: transaction key element missing", ""},
	{"R05", ClassIssuerDecline, "銀聯：取引失敗（別の銀聯カードをご利用ください）", "UnionPay: transaction failed; use another UnionPay card", ""},
	{"R06", ClassMerchantConfig, "銀聯：加盟店ステータス不正", "UnionPay: merchant status incorrect", ""},
	{"R07", ClassMerchantConfig, "銀聯：当該取引の権限なし", "UnionPay: not entitled to this transaction", ""},
	{"R08", ClassIssuerDecline, "銀聯：金額上限超過", "UnionPay: amount exceeds the limit", ""},
	{"R09", ClassTransactionState, "銀聯：元取引なしまたは元取引の状態不正", "UnionPay: original transaction missing or in the wrong state", ""},
	{"R10", ClassTransactionState, "銀聯：元取引との不一致", "UnionPay: does not match the original transaction", ""},
	{"R11", ClassTemporary, "銀聯：照会回数超過または操作頻度過多", "UnionPay: query limit exceeded or operations too frequent", ""},
	{"R12", ClassIssuerDecline, "銀聯：リスク管理による制限", "UnionPay: restricted by UnionPay risk control", ""},
	{"R13", ClassTemporary, "銀聯：取引受付時間外", "UnionPay: outside accepted transaction hours", ""},
	{"R14", ClassTransactionState, "銀聯：残高からの引落しは可能だが支払時間を超過", "UnionPay: balance deductible but the payment time has passed", ""},
	{"R15", ClassCardInput, "銀聯：カード番号無効（再入力してください）", "UnionPay: card number invalid; re-enter it", ""},
	{"R16", ClassIssuerDecline, "銀聯：カード発行会社が当該加盟店に未対応（別のカードをご利用ください）", "UnionPay: the issuer does not support this merchant; use another card", ""},
	{"R17", ClassIssuerDecline, "銀聯：カード状態不正", "UnionPay: card status incorrect", ""},
	{"R18", ClassIssuerDecline, "銀聯：残高不足", "UnionPay: insufficient balance", ""},
	{"R19", ClassCardInput, "銀聯：暗証番号・有効期限・CVN2 のいずれかが誤り", "UnionPay: PIN, expiry or CVN2 wrong", ""},
	{"R20", ClassCardInput, "銀聯：カード会員の身分証番号または携帯電話番号が誤り", "UnionPay: cardholder ID or mobile number wrong", ""},
	{"R21", ClassIssuerDecline, "銀聯：暗証番号入力回数超過", "UnionPay: PIN attempts exceeded", ""},
	{"R22", ClassIssuerDecline, "銀聯：当該取引に利用できないカード", "UnionPay: the card cannot be used for this transaction", ""},
	{"R23", ClassCardInput, "銀聯：入力試行の制限時間超過", "UnionPay: attempt time limit exceeded", ""},
	{"R24", ClassTransactionState, "銀聯：リダイレクト済み（カード会員の入力画面を待機中）", "UnionPay: redirected; waiting for the cardholder input screen", ""},
	{"R25", ClassCardInput, "銀聯：ダイナミックパスワードまたは SMS 認証コードを検証できません", "UnionPay: dynamic password / SMS code cannot be verified", ""},
	{"R26", ClassIssuerDecline, "銀聯：当該カードは銀聯オンライン決済が未開通", "UnionPay: online payment not activated for the card", ""},
	{"R27", ClassCardInput, "銀聯：カード有効期限切れ", "UnionPay: card expired", ""},
	{"R28", ClassIssuerDecline, "銀聯：暗号化による本人確認が必要", "UnionPay: encryption verification required", ""},
	{"R29", ClassIssuerDecline, "銀聯：当該カードは認証付き決済が未開通", "UnionPay: card not activated for verified payments", ""},
	{"R30", ClassIssuerDecline, "銀聯：カード発行会社によりカードの取引権限が制限されています", "UnionPay: the issuer restricted the card's transaction rights", ""},
	{"R31", ClassIssuerDecline, "銀聯：カード発行会社が SMS 認証に未対応", "UnionPay: the issuer does not support SMS verification", ""},
	{"R32", ClassRequest, "銀聯：ファイルが存在しません", "UnionPay: file does not exist", ""},
	{"R33", ClassTemporary, "銀聯：一般エラー", "UnionPay: general error", ""},
	// R34/R35 tell the merchant to contact SPS: operator action.
	{"R34", ClassMerchantConfig, "銀聯：SLN（ソニーペイメントサービス）へお問い合わせください", "UnionPay: contact SLN (SPS)", ""},
	{"R35", ClassMerchantConfig, "銀聯：SLN（ソニーペイメントサービス）へお問い合わせください", "UnionPay: contact SLN (SPS)", ""},
	{"R36", ClassTransactionState, "銀聯：取引が存在しません", "UnionPay: transaction does not exist", ""},
	{"R37", ClassIssuerDecline, "銀聯：取引失敗（カード発行会社へお問い合わせください）", "UnionPay: transaction failed; contact the issuer", ""},

	// §14.6 U — 3-D Secure. Outages (U03, U10, U14, U95, U96) are
	// temporary: the same payment can be authenticated once the brand or
	// SPS is back. U12 is the shop's 3DS registration, an operator matter.
	{"U01", ClassThreeDS, "3Dパスワード未設定（カード会員が 3Dセキュアのパスワードを設定していません）", "The cardholder has not set a 3-D Secure password", ""},
	{"U02", ClassThreeDS, "3D未対応カード発行会社", "The issuer does not support 3-D Secure", ""},
	{"U03", ClassTemporary, "ブランド・イシュア障害（認証できませんでした）", "Brand or issuer server failure; not authenticated", ""},
	{"U04", ClassThreeDS, "3D認証不可（カード会社の規定によりチャレンジ画面なしで NG となる場合があります）", "3-D Secure could not be performed (may fail without a challenge, per card-company rules)", ""},
	{"U05", ClassThreeDS, "改ざんチェックNG（認証システム）", "Tampering check failed in the authentication system", ""},
	{"U06", ClassThreeDS, "タイムアウト（購入者の操作が40分を超えてありませんでした）", "Timeout: more than 40 minutes of shopper inactivity", ""},
	{"U07", ClassThreeDS, "処理中重複受信（処理中に同一電文を受信しました）", "The same message was received while still processing", ""},
	{"U08", ClassThreeDS, "セッション削除後重複受信", "A duplicate message was received after the session data was deleted", ""},
	{"U09", ClassThreeDS, "3D未対応ブランド", "The card brand is not covered by 3-D Secure", ""},
	{"U10", ClassTemporary, "ブランドサーバー停止（停止中または接続不可）", "The brand server is stopped or unreachable", ""},
	{"U11", ClassThreeDS, "認証システム精査エラー", "Authentication system validation error", ""},
	{"U12", ClassMerchantConfig, "加盟店認証エラー（3Dセキュア）", "Merchant authentication error (3-D Secure)", ""},
	{"U13", ClassThreeDS, "認証システム項目エラー", "Authentication system item error", ""},
	{"U14", ClassTemporary, "計画停止中（終了後に再度お試しください）", "Planned maintenance; retry after it ends", ""},
	{"U95", ClassTemporary, "一時的処理不可（再度お試しください）", "Temporary failure; retry", ""},
	{"U96", ClassTemporary, "障害発生中（復旧のお知らせ後に再度お試しください）", "Failure reported; retry after the recovery notice", ""},
	{"U99", ClassThreeDS, "想定外エラー（3Dセキュア）", "Unexpected error (3-D Secure)", ""},

	// §14.7 W — online collection agency. All ClassCollection, including
	// the internal errors (W03, W06): the collection service gives no finer
	// signal and the operator decides from the code.
	{"W01", ClassCollection, "オンライン収納代行サービス設定エラー", "Collection service configuration error", ""},
	{"W02", ClassCollection, "設定値エラー（オンライン収納代行）", "Setting value error (collection service)", ""},
	{"W03", ClassCollection, "内部エラー（Web系）（オンライン収納代行）", "Collection service internal error (web tier)", ""},
	{"W04", ClassCollection, "システム設定エラー（オンライン収納代行）", "System configuration error (collection service)", ""},
	{"W05", ClassCollection, "項目設定エラー（オンライン収納代行）", "Item configuration error (collection service)", ""},
	{"W06", ClassCollection, "内部エラー（DB系）（オンライン収納代行）", "Collection service internal error (DB tier)", ""},
	{"W99", ClassCollection, "その他例外エラー（オンライン収納代行）", "Other exception (collection service)", ""},

	// §14.8 P — external link page outcomes. Individual meanings are a gap
	// in the spec; the plugins treat all of these as "the shopper left".
	{"P51", ClassShopperCancel, jaP, enP, guidanceP},
	{"P52", ClassShopperCancel, jaP, enP, guidanceP},
	{"P55", ClassShopperCancel, jaP, enP, guidanceP},
	{"P56", ClassShopperCancel, jaP, enP, guidanceP},
	{"P62", ClassShopperCancel, jaP, enP, guidanceP},
	{"P63", ClassShopperCancel, jaP, enP, guidanceP},
	{"P64", ClassShopperCancel, jaP, enP, guidanceP},
	{"P65", ClassShopperCancel, jaP, enP, guidanceP},
	{"P69", ClassShopperCancel, jaP, enP, guidanceP},
	{"P70", ClassShopperCancel, jaP, enP, guidanceP},
}

// codeIndex is codeTable keyed by code, built once at start-up.
var codeIndex = indexCodeTable(codeTable)

// indexCodeTable builds the lookup map. A duplicate row is a programming
// error in the table above and stops the program at start-up, where every
// test notices it, rather than silently shadowing a description.
func indexCodeTable(rows []Code) map[string]Code {
	m := make(map[string]Code, len(rows))
	for _, c := range rows {
		if _, dup := m[c.Code]; dup {
			panic("escott: duplicate response code in catalogue: " + c.Code)
		}
		m[c.Code] = c
	}
	return m
}

// Catalogue returns every catalogued code in spec order (including the
// pseudo codes OK and NG), for admin help pages and the simulator. The
// slice is a copy; changing it does not change lookups.
func Catalogue() []Code {
	return append([]Code(nil), codeTable...)
}

// maxCodeDisplay caps how much of an unknown code is echoed into
// descriptions. Real codes are three characters; anything long is garbage
// and must not bloat logs.
const maxCodeDisplay = 16

// codeDisplay makes an arbitrary (possibly hostile) code safe to embed in a
// log line or admin page: valid UTF-8, no control characters, bounded
// length.
func codeDisplay(code string) string {
	code = strings.ToValidUTF8(code, "?")
	var b strings.Builder
	n := 0
	for _, r := range code {
		if n == maxCodeDisplay {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// LookupCode returns the catalogue entry of code, ignoring surrounding
// spaces. Codes are matched exactly (the gateway sends upper case). An
// unknown code, including "" and arbitrary garbage, yields ClassUnknown with
// a generic description that quotes the (sanitised, shortened) code, so a
// log line still says what arrived. It never panics.
func LookupCode(code string) Code {
	code = strings.TrimSpace(code)
	if c, ok := codeIndex[code]; ok {
		return c
	}
	if code == "" {
		return Code{Class: ClassUnknown, Ja: "レスポンスコードが空です", En: "empty response code"}
	}
	d := codeDisplay(code)
	return Code{
		Code:  code,
		Class: ClassUnknown,
		Ja:    "未定義のレスポンスコード（" + d + "）",
		En:    "unknown response code (" + d + ")",
	}
}

// SplitCodes splits a ResponseCd (or TokenResponseCd) value on '|', trims
// spaces and drops empty parts; "" and "|||" give nil. The value must
// already be URL-decoded: decoding ("%7C" → "|") is the parser's job
// (ParseResponse uses url.ParseQuery), and decoding twice here would
// misread a literal '%' in garbage input.
func SplitCodes(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// normaliseCodes flattens codes (tolerating un-split "K20|K21" elements),
// trims them and drops empties and OK, which is never a failure reason.
func normaliseCodes(codes []string) []string {
	var out []string
	for _, c := range codes {
		for _, p := range SplitCodes(c) {
			if p != CodeOK {
				out = append(out, p)
			}
		}
	}
	return out
}

// DescribeCodes renders codes for logs and the admin dialog in the
// plugins' format (ERR-02): "K20 : <description>, K21 : <description>".
// lang "en" selects English; anything else gives Japanese, the operators'
// language. OK codes are skipped; unknown codes are described generically.
func DescribeCodes(codes []string, lang string) string {
	var b strings.Builder
	for _, code := range normaliseCodes(codes) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		c, known := codeIndex[code]
		b.WriteString(codeDisplay(code))
		b.WriteString(" : ")
		switch {
		case !known && lang == "en":
			b.WriteString("unknown response code")
		case !known:
			b.WriteString("未定義のレスポンスコード")
		case lang == "en":
			b.WriteString(c.En)
		default:
			b.WriteString(c.Ja)
		}
	}
	return b.String()
}

// shopperGroup is one shopper-facing message of ERR-03 (spec §14.9). The
// constants are in order of precedence: when a multi-code answer touches
// several groups, the lowest value wins.
type shopperGroup int

const (
	// No answer comes first: whatever else is known, the shopper must be
	// told not to pay again.
	shopperNoAnswer shopperGroup = iota
	shopperCancelled
	// Field-specific messages before general ones: telling the shopper
	// exactly which field to correct is the most useful answer.
	shopperCardNumber
	shopperExpiry
	shopperSecurityCode
	shopperCardInfo
	shopperUnusableCard
	shopperDailyCount
	shopperDailyLimit
	shopperAmount
	shopperInstallmentMin
	shopperBonusMin
	shopperPhone
	shopperName
	shopperKana
	shopperThreeDS
	shopperContactShop // default: everything else
)

// shopperTexts holds the Japanese (verbatim from ERR-03 where it gives
// them) and English messages of each group.
var shopperTexts = [...]struct{ ja, en string }{
	shopperNoAnswer: {
		"決済結果を確認できませんでした。二重のお支払いを防ぐため、再度のお支払い操作はしないでください。ショップにて決済状況を確認のうえご連絡いたします。",
		"We could not confirm the result of your payment. To avoid being charged twice, please do not pay again. The shop will check the payment and contact you.",
	},
	shopperCancelled: {
		"お支払い手続きが中止されたため、決済は完了していません。",
		"The payment was cancelled and has not been completed.",
	},
	shopperCardNumber:   {"指定のカード番号が適切ではありません。", "The card number is not valid."},
	shopperExpiry:       {"カード有効期限が適切ではありません。", "The card expiry date is not valid."},
	shopperSecurityCode: {"セキュリティコードが適切ではありません。", "The security code is not valid."},
	shopperCardInfo:     {"カード情報が適切ではありません。", "The card information is not valid."},
	shopperUnusableCard: {"クレジットカードが使用不可能です。", "This credit card cannot be used."},
	shopperDailyCount: {
		"本日のカードご利用回数または金額が上限を超えています。",
		"This card has exceeded its daily number of uses or daily amount.",
	},
	shopperDailyLimit: {
		"カードのご利用限度額を超えています。",
		"This payment exceeds the card's spending limit.",
	},
	shopperAmount: {"金額が適切ではありません。", "The amount is not valid."},
	shopperInstallmentMin: {
		"分割払いの最低ご利用金額に達していません。お支払い回数を変更してください。",
		"The amount is below the minimum for instalment payments. Please choose a different number of instalments.",
	},
	shopperBonusMin: {
		"ボーナス払いの最低ご利用金額に達していません。お支払い方法を変更してください。",
		"The amount is below the minimum for bonus payment. Please choose a different payment method.",
	},
	shopperPhone:   {"電話番号が適切ではありません。", "The phone number is not valid."},
	shopperName:    {"お名前が適切ではありません。", "The name is not valid."},
	shopperKana:    {"お名前（フリガナ）が適切ではありません。", "The name in katakana is not valid."},
	shopperThreeDS: {"3D セキュア認証ができませんでした。", "3-D Secure authentication could not be completed."},
	shopperContactShop: {
		"恐れ入りますが、お問い合わせフォームより管理者にお問い合わせください。",
		"Sorry, the payment could not be processed. Please contact the shop through its contact form.",
	},
}

// shopperGroupOf maps one code to its ERR-03 group. The lists are those of
// ERR-03 / §14.9, plus NG and the P codes, which ERR-03 does not cover.
func shopperGroupOf(code string) shopperGroup {
	switch code {
	case CodeNG:
		return shopperNoAnswer
	case "K20", "K82", "C16", "C17", "G65":
		return shopperCardNumber
	case "K21", "K83", "C13", "G83":
		return shopperExpiry
	case "K24", "G44", "G45":
		return shopperSecurityCode
	case "K40", "K45", "K46", "K47", "K48", "KHX", "G42", "G84":
		return shopperCardInfo
	case "G12", "G22", "G30", "G56", "G60", "G61", "G96", "G97":
		return shopperUnusableCard
	case "G54":
		return shopperDailyCount
	case "G55":
		return shopperDailyLimit
	case "G68", "G72":
		return shopperAmount
	case "G75":
		return shopperInstallmentMin
	case "C15":
		return shopperBonusMin
	case "K28":
		return shopperPhone
	case "K51":
		return shopperName
	case "K52":
		return shopperKana
	case "K30", "K31", "K32", "K33", "K34", "K35", "K36", "K37":
		return shopperThreeDS
	}
	// Every U code is a 3DS failure (ERR-03 lists U01–U14, U95, U96, U99:
	// all of them); P codes are the shopper leaving the hosted page.
	if c, ok := codeIndex[code]; ok {
		if c.Class == ClassShopperCancel {
			return shopperCancelled
		}
		if code[0] == 'U' {
			return shopperThreeDS
		}
	}
	return shopperContactShop
}

// ShopperMessage returns the message to show the shopper for a failed
// answer (ERR-03), in Japanese and English. Among several codes the most
// specific group wins: no answer, then shopper cancel, then the
// field-specific groups (card number, expiry, security code, …), then 3-D
// Secure; only when no code belongs to a group does the generic "contact
// the shop" text appear. OK codes are ignored; no codes at all also give
// the generic text.
func ShopperMessage(codes []string) (ja, en string) {
	best := shopperContactShop
	for _, code := range normaliseCodes(codes) {
		if g := shopperGroupOf(code); g < best {
			best = g
		}
	}
	t := shopperTexts[best]
	return t.ja, t.en
}

// classRank orders the classes for ClassOf: a lower rank wins. The rule is
// "the remedy that must come first":
//
//  1. no_answer: the outcome is unknown; reconcile before anything else.
//  2. merchant_config: nothing works until the operator fixes the shop;
//     other codes in the same answer may be side effects of it.
//  3. request: a bug on our side; nobody else can fix it.
//  4. transaction_state: the transaction itself is in the way (e.g. a
//     double transaction); acting on other codes could charge twice.
//  5. token: a new token is needed before any field can be re-checked.
//  6. member, 7. three_ds, 8. collection: flow-specific failures.
//  9. issuer_decline before 10. card_input: a refused (or locked) card
//     stays refused however well the shopper re-types it.
//  11. shopper_cancel.
//  12. unknown: an uncatalogued code is not retryable, so it must
//     outrank temporary.
//  13. temporary last: an answer is retryable only when every code in it
//     is temporary.
var classRank = [numClasses]int{
	ClassNoAnswer:         1,
	ClassMerchantConfig:   2,
	ClassRequest:          3,
	ClassTransactionState: 4,
	ClassToken:            5,
	ClassMember:           6,
	ClassThreeDS:          7,
	ClassCollection:       8,
	ClassIssuerDecline:    9,
	ClassCardInput:        10,
	ClassShopperCancel:    11,
	ClassUnknown:          12,
	ClassTemporary:        13,
}

// ClassOf returns the class deciding the outcome of a (possibly multi-code)
// answer: the class of the code whose remedy must come first (see
// classRank: no_answer, merchant_config, request, transaction_state, token,
// member, three_ds, collection, issuer_decline, card_input, shopper_cancel,
// unknown, temporary). Consequently ClassOf(codes).Retryable() holds only
// when every code is temporary. OK codes are ignored; no codes gives
// ClassUnknown.
func ClassOf(codes []string) Class {
	best, found := ClassUnknown, false
	for _, code := range normaliseCodes(codes) {
		c := LookupCode(code).Class
		if !found || classRank[c] < classRank[best] {
			best, found = c, true
		}
	}
	return best
}
