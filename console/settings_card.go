package console

// クレジットカード設定 (SET-01 … SET-13): the manuals' fields in their screen
// order, with the environment and plan of the whole shop on top.

import (
	"net/http"
	"strings"

	"github.com/kessai/kessai"
)

var settingsCardScreen = settingsScreen{
	method: kessai.MethodCard, path: "/settings/card", page: "settings_card", nav: "settings_card",
	title: "settings_card_title", done: "settings_card",
	secrets: []settingsSecretDef{
		{"card.merchant_pass_test", "settings_card_pass_test", "settings_card_pass_test_help",
			func(s *kessai.Settings) kessai.Secret { return s.Card.MerchantPassTest }},
		{"card.merchant_pass_prod", "settings_card_pass_prod", "settings_card_pass_prod_help",
			func(s *kessai.Settings) kessai.Secret { return s.Card.MerchantPassProd }},
		{"card.aes_key", "settings_card_aes_key", "settings_card_aes_help",
			func(s *kessai.Settings) kessai.Secret { return s.Card.AESKey }},
		{"card.aes_iv", "settings_card_aes_iv", "settings_card_aes_help",
			func(s *kessai.Settings) kessai.Secret { return s.Card.AESIV }},
		{"card.token_auth_code", "settings_card_token_code", "settings_card_token_code_help",
			func(s *kessai.Settings) kessai.Secret { return s.Card.TokenAuthCode }},
	},
}

// settingsCardValues are the card screen's non-secret fields as shown.
type settingsCardValues struct {
	Enabled               bool
	Title                 string
	Description           string
	LinkType              bool
	MerchantID            string
	TenantID              string
	ThreeDS               bool
	SecurityCode          bool
	Members               bool
	AlwaysRegister        bool
	Operation             string
	SubscriptionOperation string
	Installments          string
	CompletedStatus       string
}

type settingsCardBody struct {
	settingsBody
	Card settingsCardValues
	// LinkTypeEditable: 接続方式 is a pro feature; on a light shop the box
	// stays editable only to untick a value left from pro.
	LinkTypeEditable bool
}

func settingsCardFrom(s *kessai.Settings) settingsCardValues {
	c := s.Card
	return settingsCardValues{Enabled: c.Enabled, Title: c.Title, Description: c.Description, LinkType: c.LinkType,
		MerchantID: c.MerchantID, TenantID: c.TenantID, ThreeDS: c.ThreeDS, SecurityCode: c.SecurityCode,
		Members: c.Members, AlwaysRegister: c.AlwaysRegister, Operation: string(c.Operation),
		SubscriptionOperation: string(c.SubscriptionOperation), Installments: string(c.Installments),
		CompletedStatus: string(c.CompletedStatus)}
}

func settingsCardForm(r *http.Request, stored *kessai.Settings) settingsCardValues {
	f := r.PostForm
	v := settingsCardValues{
		Enabled: settingsChecked(f.Get("card.enabled")), Title: strings.TrimSpace(f.Get("card.title")),
		Description: strings.TrimSpace(f.Get("card.description")), LinkType: settingsChecked(f.Get("card.link_type")),
		MerchantID: settingsNarrow(f.Get("card.merchant_id")), TenantID: settingsNarrow(f.Get("card.tenant_id")),
		ThreeDS: settingsChecked(f.Get("card.three_ds")), SecurityCode: settingsChecked(f.Get("card.security_code")),
		Members: settingsChecked(f.Get("card.members")), AlwaysRegister: settingsChecked(f.Get("card.always_register")),
		Operation: f.Get("card.operation"), SubscriptionOperation: f.Get("card.subscription_operation"),
		Installments: f.Get("card.installments"), CompletedStatus: f.Get("card.completed_status"),
	}
	// 定期購入処理区分 is disabled (so not posted) on a light shop: keep
	// the stored choice rather than send an empty one.
	if !f.Has("card.subscription_operation") {
		v.SubscriptionOperation = string(stored.Card.SubscriptionOperation)
	}
	return v
}

func (v settingsCardValues) patch(p *settingsPatch, posted func(string) bool) {
	c := p.section
	c["enabled"] = v.Enabled
	c["title"] = v.Title
	c["description"] = v.Description
	c["link_type"] = v.LinkType
	c["merchant_id"] = v.MerchantID
	c["tenant_id"] = v.TenantID
	c["three_ds"] = v.ThreeDS
	c["security_code"] = v.SecurityCode
	c["members"] = v.Members
	c["always_register"] = v.AlwaysRegister
	c["operation"] = v.Operation
	if posted("card.subscription_operation") {
		c["subscription_operation"] = v.SubscriptionOperation
	}
	c["installments"] = v.Installments
	c["completed_status"] = v.CompletedStatus
}

func (h *Handler) settingsCardPage(w http.ResponseWriter, r *http.Request, rq *request) {
	st, err := h.loadSettings(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	p := h.newPage(r, rq, settingsCardScreen.nav, settingsCardScreen.title)
	b := &settingsCardBody{settingsBody: settingsBody{Version: st.version, Shop: settingsShopFrom(&st.stored)},
		Card: settingsCardFrom(&st.stored)}
	h.renderSettingsCard(w, r, rq, p, http.StatusOK, b, st, nil)
}

func (h *Handler) settingsCardSave(w http.ResponseWriter, r *http.Request, rq *request) {
	st, err := h.loadSettings(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	shop := settingsShopForm(r)
	card := settingsCardForm(r, &st.stored)
	pt := newSettingsPatch("card")
	pt.shop(shop, st.stored.Environment)
	card.patch(pt, r.PostForm.Has)
	pt.secrets(r, settingsCardScreen.secrets)
	err = h.saveSettingsPatch(r, rq, st, pt)
	if err == nil {
		redirect(w, r, BasePath+settingsCardScreen.path, settingsCardScreen.done)
		return
	}
	p := h.newPage(r, rq, settingsCardScreen.nav, settingsCardScreen.title)
	status, conflict, ok := settingsFailStatus(p, err, rq.Lang)
	if !ok {
		h.fail(w, r, rq, err)
		return
	}
	version, _ := settingsInt(r.PostForm.Get(settingsFieldVersion))
	b := &settingsCardBody{settingsBody: settingsBody{Version: version, Shop: shop, Retype: pt.retype, Conflict: conflict}, Card: card}
	h.renderSettingsCard(w, r, rq, p, status, b, st, settingsDeleted(r, settingsCardScreen.secrets))
}

func (h *Handler) renderSettingsCard(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int,
	b *settingsCardBody, st settingsState, deleted map[string]bool) {
	h.fillCommon(r, rq, p, &settingsCardScreen, &b.settingsBody, st, deleted)
	b.LinkTypeEditable = b.Shop.Plan != string(kessai.PlanLight) || b.Card.LinkType
	p.Body = b
	h.render(w, r, status, settingsCardScreen.page, p)
}

func init() {
	register(map[string][2]string{
		"settings_card_title": {"クレジットカード設定", "Card settings"},
		"done_settings_card":  {"クレジットカード設定を保存しました。", "The card settings were saved."},
		"settings_card_intro": {"ソニーペイメントサービスとのご契約で、クレジットカードでのお支払いが可能となります。",
			"With a Sony Payment Services contract, shoppers can pay by credit card."},
		"settings_card_legend": {"クレジットカード決済", "Card payments"},

		"settings_card_enabled":       {"有効化/無効化", "Enable/disable"},
		"settings_card_enabled_check": {"ソニーペイメントを有効化", "Enable Sony Payment (card)"},
		"settings_title":              {"タイトル", "Title"},
		"settings_title_help":         {"チェックアウトでお客様に表示する支払方法の名前です。", "The payment method's name shoppers see at checkout."},
		"settings_description":        {"説明", "Description"},
		"settings_description_help": {"チェックアウトでお客様に表示する説明です。本番環境以外では末尾に「※テストモードで稼働中」が付きます。",
			"The text shoppers see at checkout. Outside production “※テストモードで稼働中” (test mode) is appended."},

		"settings_card_link":       {"接続方式", "Connection type"},
		"settings_card_link_check": {"外部リンク型で接続する", "Connect with the link type"},
		"settings_card_link_help": {"外部リンク型では、お客様はソニーペイメントサービスの決済画面でお支払いします。チェックしない場合（トークン決済型）は、ショップの画面内で決済が完了します。外部リンク型の支払回数は一括払いのみです。",
			"With the link type shoppers pay on Sony Payment Services' page; otherwise (token type) payment completes inside the shop. The link type offers lump-sum payment only."},
		"settings_card_link_light":  {"light 版では外部リンク型は使えません（トークン決済型のみ）。", "The light plan has no link type (token type only)."},
		"settings_chargeback_title": {"【チャージバックに関する留意事項】", "About chargebacks"},
		"settings_chargeback_text": {"チャージバックは、与信（オーソリ）の結果が OK の取引でも発生します。チャージバックによる損失は、ソニーペイメントサービスやカード会社からは補償されません。また、加盟店の過失の有無にかかわらず発生します。詳しくはソニーペイメントサービスの「チャージバックについて」をご確認ください。",
			"Chargebacks happen even for transactions whose authorisation was OK. Losses from chargebacks are not compensated by Sony Payment Services or the card companies, and they happen whether or not the merchant was at fault. See Sony Payment Services' page on chargebacks (チャージバックについて)."},

		"settings_merchant_id": {"マーチャントID", "Merchant ID"},
		"settings_merchant_id_help": {"半角数字。テスト環境と本番環境で同じです。",
			"ASCII digits; the same in test and production."},
		"settings_card_pass_test": {"マーチャントパスワード（テスト環境）", "Merchant password (test)"},
		"settings_card_pass_test_help": {"半角英数字。シミュレーターとテスト環境で使います。",
			"ASCII letters and digits; used on the simulator and in the test environment."},
		"settings_card_pass_prod": {"マーチャントパスワード（本番環境）", "Merchant password (production)"},
		"settings_card_pass_prod_help": {"半角英数字。本番環境のパスワードはテスト環境と異なります。",
			"ASCII letters and digits; the production password differs from the test one."},
		"settings_card_tenant": {"店舗コード", "Store code (店舗コード)"},
		"settings_card_tenant_help": {"半角数字。ご契約の店舗が1つの場合は 0001 を入力してください。",
			"ASCII digits. Enter 0001 if your contract has one store."},

		"settings_card_3ds":       {"3Dセキュア", "3-D Secure"},
		"settings_card_3ds_check": {"3Dセキュア認証を利用する", "Use 3-D Secure authentication"},
		"settings_card_3ds_help": {"決済時の3Dセキュア認証。利用する場合はソニーペイメントサービスに申請する必要があります（有効になる前にチェックすると決済がエラー K06 になります）。",
			"3-D Secure authentication at payment. You must apply for it with Sony Payment Services (ticking it before it is activated makes payments fail with K06)."},
		"settings_3ds_title": {"【3Dセキュアについて】", "About 3-D Secure"},
		"settings_3ds_text": {"3Dセキュアを利用しない場合、不正利用による損害は加盟店の負担となります。チャージバックは売上金の入金後でも請求されます。3Dセキュアを利用してもチャージバックが発生することがあります。EMV 3-Dセキュアを申し込んだ加盟店は、必ずチェックしてください。",
			"Without 3-D Secure, losses from fraudulent use are borne by the merchant. Chargebacks are reclaimed even after payout, and can still occur with 3-D Secure. Merchants who applied for EMV 3-D Secure must tick this box."},
		"settings_card_aes_key": {"暗号化キー", "Encryption key"},
		"settings_card_aes_iv":  {"初期化ベクトル", "Initialisation vector"},
		"settings_card_aes_help": {"ソニーペイメントサービスが発行する半角英数字16文字。3Dセキュアまたは外部リンク型では必須です。",
			"16 ASCII letters and digits issued by Sony Payment Services; required with 3-D Secure or the link type."},
		"settings_card_token_code": {"トークン決済認証コード", "Token auth code"},
		"settings_card_token_code_help": {"ソニーペイメントサービスが発行する半角英数字。トークン決済型では必須です（未設定の場合、カード決済はチェックアウトに表示されません）。",
			"ASCII letters and digits issued by Sony Payment Services; required with the token type (without it the card method is not offered at checkout)."},

		"settings_card_seccode":       {"セキュリティコード（認証アシスト）", "Security code (認証アシスト)"},
		"settings_card_seccode_check": {"セキュリティコードの認証を利用する", "Check the security code"},
		"settings_card_seccode_help": {"利用しない場合は、カード入力欄にセキュリティコードが表示されません。e-SCOTT 管理画面でも「マッチング検証しない」に設定してください。",
			"When off, the card form has no security code field; also set “マッチング検証しない” (no matching check) in the e-SCOTT merchant console."},
		"settings_card_members":       {"カード会員", "Card members"},
		"settings_card_members_check": {"登録済みカードでの支払いを有効化", "Enable payment with saved cards"},
		"settings_card_members_help": {"ログインしたお客様がカードを登録し、次回から登録済みのカードで支払えます。カード情報はソニーペイメントサービスが保持し、ショップには保存されません。定期購入を利用する場合は、必ず有効化してください。",
			"Logged-in customers can save their card and pay with it later. Sony Payment Services holds the card data; the shop never stores it. Required for subscriptions."},
		"settings_card_always_check": {"常にカード会員に登録", "Always register the card"},
		"settings_card_always_help": {"お客様はカードを登録しない選択ができなくなります（カード会員が有効な場合のみ）。",
			"Customers cannot opt out of saving their card (only while card members are enabled)."},

		"settings_card_operation": {"処理区分", "Processing type"},
		"settings_op_auth":        {"与信", "Authorise only (与信)"},
		"settings_op_gathering":   {"与信売上計上", "Authorise and capture (与信売上計上)"},
		"settings_card_operation_help": {"「与信」では売上計上を後で行います（pro 版: 注文画面の決済情報から、light 版: e-SCOTT 管理画面で）。「与信売上計上」は購入時に売上を計上します。",
			"With “authorise only” the sale is captured later (pro: from the order's payment box; light: in the e-SCOTT merchant console). “Authorise and capture” records the sale at purchase."},
		"settings_card_sub_operation": {"定期購入処理区分", "Subscription processing type"},
		"settings_card_sub_operation_help": {"定期購入の自動更新の決済に使う処理区分です（pro 版のみ）。",
			"The processing type of automatic subscription renewals (pro plan only)."},
		"settings_card_installments": {"支払回数", "Installments"},
		"settings_inst_lump":         {"一括払いのみ", "Lump sum only"},
		"settings_inst_on":           {"分割払いを有効にする", "Enable installments"},
		"settings_inst_bonus":        {"分割払いとボーナス払いを有効にする", "Enable installments and bonus payments"},
		"settings_card_installments_help": {"外部リンク型では一括払いのみです（この選択は保存され、トークン決済型に戻すと使われます）。",
			"The link type offers lump sum only (this choice is kept and applies again with the token type)."},
		"settings_completed":     {"注文ステータス", "Order status"},
		"settings_card_done_pro": {"「処理中」にする", "Set to processing"},
		"settings_card_done_com": {"「完了」にする", "Set to completed"},
		"settings_card_completed_help": {"「完了」を選んでも、処理区分が「与信」の場合や配送が必要な商品を含む注文は「処理中」になります。",
			"Even with “completed”, orders become processing when the processing type is “authorise only” or when an item needs shipping."},
		"settings_card_returns": {"3Dセキュアと外部リンク型の戻り先も、この入金結果通知URLです。",
			"3-D Secure and link-type returns also come to this notification URL."},
	})
}
