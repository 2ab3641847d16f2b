package hosted

import (
	"net/http"
)

// Languages of the pages: Japanese first (the shoppers of a Japanese
// shop), English on request.
const (
	langJa = "ja"
	langEn = "en"
)

// langCookie remembers an explicit choice, so that a browser coming back
// from the gateway (which knows nothing of ?lang) keeps its language.
const langCookie = "kessai_lang"

// langOf picks the page language: ?lang= (or the form's lang field), then
// the cookie, then Japanese. Accept-Language is deliberately not read:
// the shop's language is Japanese, and an English browser should not
// surprise a Japanese shopper.
func langOf(r *http.Request) string {
	// r.PostForm, not PostFormValue: reading the language must never be
	// what parses a body (ServeHTTP parses it, with a size limit, after
	// its checks).
	for _, v := range []string{r.URL.Query().Get("lang"), r.PostForm.Get("lang")} {
		if v == langEn || v == langJa {
			return v
		}
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEn || c.Value == langJa) {
		return c.Value
	}
	return langJa
}

// rememberLang stores an explicit ?lang= choice.
func (h *Handler) rememberLang(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query().Get("lang")
	if v != langEn && v != langJa {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: v, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
}

// text returns a message in lang. A missing key is a bug that a page
// test finds: the key itself is shown rather than nothing.
func text(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == langEn {
		return m.en
	}
	return m.ja
}

type msg struct{ ja, en string }

// messages are every text of the pages. The shopper-facing texts of the
// plugins (features CARD-01/06/07/10/17, MEMBER-03…06, ERR-01) are kept
// word for word in Japanese.
var messages = map[string]msg{
	// layout
	"lang_switch":     {"English", "日本語"},
	"test_mode":       {"テスト環境で稼働中です。実際の請求は発生しません。", "Test mode: no real charge is made."},
	"back_to_shop":    {"ショップに戻る", "Back to the shop"},
	"order_summary":   {"ご注文内容", "Your order"},
	"order_number":    {"注文番号", "Order number"},
	"item":            {"商品", "Item"},
	"quantity":        {"数量", "Quantity"},
	"subtotal":        {"小計", "Subtotal"},
	"total":           {"お支払い金額（税込）", "Total (tax included)"},
	"yen_suffix":      {"円", ""},
	"yen_prefix":      {"", "¥"},
	"payment_method":  {"お支払い方法", "Payment method"},
	"checkout_title":  {"お支払い", "Checkout"},
	"no_method":       {"現在ご利用いただけるお支払い方法がありません。ショップにお問い合わせください。", "No payment method is available at the moment. Please contact the shop."},
	"place_order":     {"注文する", "Place order"},
	"continue_link":   {"支払いを続ける", "Continue to payment"},
	"confirm_order":   {"注文を確定する", "Confirm the order"},
	"processing":      {"処理中です…", "Processing…"},
	"internal_error":  {"エラーが発生しました。しばらくしてから再度お試しください。", "Something went wrong. Please try again in a moment."},
	"csrf_failed":     {"ページの有効期限が切れました。もう一度お試しください。", "This page has expired. Please try again."},
	"bad_request":     {"不正なリクエストです。", "Bad request."},
	"unknown_method":  {"お支払い方法を選択してください。", "Please choose a payment method."},
	"payment_failed":  {"支払い処理に失敗しました。再度お試しください。", "The payment failed. Please try again."},
	"three_ds_failed": {"3D セキュア認証ができませんでした。", "3-D Secure authentication failed."},
	"three_ds_lost":   {"3Dセキュア認証からの復帰に失敗しました。", "Failed to return from 3-D Secure authentication."},
	"card_not_found":  {"カード会員情報が見つかりません。", "The saved card could not be found."},
	"member_add_ng":   {"カード会員情報の登録に失敗しました。", "The card could not be saved."},
	"member_chg_ng":   {"カード会員情報の変更に失敗しました。", "The saved card could not be changed."},
	"session_expired": {"お手続きの有効期限が切れました。最初からやり直してください。", "The checkout has expired. Please start again."},
	"payment_unknown": {"決済結果を確認できませんでした。二重決済を防ぐため、再度のお支払いはしないでください。ショップからのご連絡をお待ちください。",
		"The payment result could not be confirmed. To avoid paying twice, do not pay again; the shop will contact you."},
	"payment_unknown_title": {"お支払い結果を確認中です", "Payment result pending"},

	// card form (CARD-01, CARD-05, CARD-06, CARD-07, CARD-10)
	"card_number":        {"カード番号", "Card number"},
	"card_expiry":        {"有効期限(月/年)", "Expiry (month/year)"},
	"card_expiry_month":  {"月（2桁）", "Month (MM)"},
	"card_expiry_year":   {"年（下2桁）", "Year (YY)"},
	"card_csc":           {"セキュリティーコード", "Security code"},
	"card_csc_help":      {"カード裏面（AMEX は表面）に記載の3桁または4桁の数字", "3 or 4 digits on the back of the card (front for AMEX)"},
	"card_name":          {"カード名義", "Cardholder name"},
	"card_name_help":     {"半角英字（カードに記載のとおり）", "As printed on the card (letters A–Z)"},
	"pay_type":           {"支払回数", "Number of payments"},
	"required":           {"必須", "required"},
	"card_choice":        {"お支払いに使用するカード", "Card to pay with"},
	"use_saved":          {"登録済みのカードで支払う", "Pay with the saved card"},
	"saved_last4":        {"登録済みのカード番号の下4桁：", "Last 4 digits of the saved card: "},
	"change_saved":       {"登録済みのカードを変更して支払う", "Replace the saved card and pay"},
	"new_card_once":      {"新しいカードを使用する", "Use a new card (not saved)"},
	"save_card_new":      {"お支払い情報を登録します。次回のご利用からカード番号の入力の必要がなくなります。", "Save this card: next time you will not need to enter the card number."},
	"save_card_change":   {"登録済みのカード情報を変更して支払います。", "Replace the saved card with the one I enter and pay."},
	"token_missing":      {"カード情報を送信できませんでした。JavaScript を有効にして、もう一度お試しください。", "The card could not be sent. Please enable JavaScript and try again."},
	"card_will_be_saved": {"このカードは次回のお支払いのために登録されます。", "This card will be saved for your next payments."},
	"link_note":          {"「支払いを続ける」を押すと、カード会社（ソニーペイメントサービス）のお支払い画面に移動します。", "Continue to enter your card on the payment company's page (Sony Payment Services)."},
	"zero_note":          {"お支払い金額は0円です。カード情報の入力は不要です。", "The total is 0 yen: no card is needed."},
	"consent_title":      {"個人情報の取り扱いについて", "Handling of personal information"},
	"consent_check":      {"個人情報の取り扱いに同意する", "I agree to the handling of personal information"},
	"consent_1h":         {"■利用上の注意", "■ Notes"},
	"consent_1": {"本人認証サービス（EMV 3-D セキュア）は、クレジットカードの不正利用を防ぐための仕組みです。認証のため、お客様の情報をカード発行会社へ提供します。同意いただける場合のみカード情報を入力してください。",
		"EMV 3-D Secure protects your card from misuse. To authenticate you, your information is sent to the card issuer. Please enter your card only if you agree."},
	"consent_2h": {"■個人情報の第三者提供", "■ Provision to third parties"},
	"consent_2": {"氏名、メールアドレス、当ショップが保有する会員情報、IPアドレス、デバイス情報、インターネット利用環境に関する情報、請求先住所は、不正利用検知のためカード発行会社へ提供されます。カード発行会社が外国にある場合、これらの情報は当該発行会社の所在国に移転されることがあります。未成年の方は親権者の同意を得てください。",
		"Your name, e-mail address, member data held by the shop, IP address, device data, data on your internet environment and billing address are sent to the card issuer for fraud detection, which may be abroad if the issuer is a foreign company. Minors need a guardian's consent."},
	"consent_3h": {"■個人情報の第三者提供についての同意", "■ Consent"},
	"consent_3":  {"上記に同意いただける場合は「個人情報の取り扱いに同意する」にチェックを入れ、お手続きを進めてください。", "If you agree, tick \"I agree to the handling of personal information\" and continue."},
	"consent_4h": {"■安全管理措置について", "■ Safeguards"},
	"consent_4": {"提供される情報は、適切な安全管理措置のもと、米国の委託先で取り扱われることがあります。外国の個人情報保護制度については、個人情報保護委員会のウェブサイトをご確認ください。",
		"The data may be handled by subcontractors in the United States under appropriate safeguards. For the data protection systems of foreign countries, see the website of Japan's Personal Information Protection Commission."},

	// collection (CVS-01, CVS-02; design A-06)
	"cvs_fee_before":      {"※決済時に決済手数料 ", "※ A settlement fee of "},
	"cvs_fee_after":       {" が加算されます。", " is added at payment."},
	"cvs_total":           {"お支払い金額（決済手数料込み）", "Amount to pay (fee included)"},
	"cvs_zero_note":       {"お支払い金額は0円です。", "The total is 0 yen: there is nothing to pay."},
	"cvs_identity":        {"お支払いの手続きに必要な情報", "Needed for the payment"},
	"cvs_identity_help":   {"お名前と電話番号は、お支払い先での手続きのため収納代行会社に送られます。", "Your name and phone number are sent to the payment collection company for the payment."},
	"cvs_last_name":       {"姓", "Last name"},
	"cvs_first_name":      {"名", "First name"},
	"cvs_last_name_kana":  {"セイ", "Last name (katakana)"},
	"cvs_first_name_kana": {"メイ", "First name (katakana)"},
	"cvs_kana_help":       {"全角カタカナで入力してください（ひらがな・半角カナは全角カタカナに変換します）。", "In full-width katakana (hiragana and half-width kana are converted)."},
	"cvs_phone":           {"電話番号", "Phone number"},
	"cvs_phone_help":      {"10桁または11桁。ハイフンはあってもなくてもかまいません。", "10 or 11 digits, with or without hyphens."},
	"cvs_note": {"「支払いを続ける」を押すと、お支払い画面に移動します。お支払い先（コンビニ・Pay-easy・電子マネー）はその画面でお選びください。",
		"Continue to the payment page, where you choose where to pay: a convenience store, Pay-easy or e-money."},
	"cvs_thanks": {"ご注文を受け付けました。お支払い期限までに、下記のお支払いページからお支払いの手続きをお願いいたします。",
		"Your order has been received. Please pay by the due date, starting from the payment page below."},
	"cvs_past_due":  {"お支払い期限を過ぎたため、このお支払いはお受けできません。ショップにお問い合わせください。", "The payment due date has passed, so this payment can no longer be made. Please contact the shop."},
	"cvs_details":   {"お支払い方法のご案内", "How to pay"},
	"cvs_amount":    {"お支払い金額", "Amount to pay"},
	"cvs_fee_line":  {"うち決済手数料", "Settlement fee (included)"},
	"cvs_due":       {"お支払い期限", "Payment due"},
	"cvs_pay_link":  {"お支払いページへ進む", "Go to the payment page"},
	"cvs_link_note": {"お支払いページでお支払い先（コンビニ・Pay-easy・電子マネー）を選んでください。このページに戻れば、お支払い期限までいつでもお支払いページを開けます。", "Choose where to pay (convenience store, Pay-easy or e-money) on the payment page. You can come back here to open it at any time until the due date."},

	// browser-side validation and token script (checkout.js)
	"js_invalid":      {"クレジットカード情報に誤りがあります。", "The card details are not valid."},
	"js_number":       {"カード番号を数字で入力してください。", "Enter the card number in digits."},
	"js_expiry":       {"有効期限を月（01〜12）と年（下2桁）で入力してください。", "Enter the expiry as month (01–12) and year (2 digits)."},
	"js_csc":          {"セキュリティーコードを3桁または4桁の数字で入力してください。", "Enter the 3 or 4 digit security code."},
	"js_name":         {"カード名義を半角英字で入力してください。", "Enter the cardholder name in letters A–Z."},
	"js_choice":       {"お支払いに使用するカードを選択してください。", "Please choose the card to pay with."},
	"js_consent":      {"「個人情報の取り扱いに同意する」にチェックを入れてください。", "Please tick \"I agree to the handling of personal information\"."},
	"js_script":       {"カード情報の送信に必要なスクリプトを読み込めませんでした。ページを再読み込みしてください。", "The card script could not be loaded. Please reload the page."},
	"js_token_ng":     {"カード会社に接続できませんでした。しばらくしてから再度お試しください。", "The card company could not be reached. Please try again in a moment."},
	"js_token_config": {"カード決済の設定に誤りがあります。ショップにお問い合わせください。", "The shop's card settings are not valid. Please contact the shop."},
	"js_token_other":  {"カード情報を確認できませんでした。入力内容をご確認のうえ、再度お試しください。", "The card could not be checked. Please check the details and try again."},
	"js_confirm_del":  {"カード会員情報を削除してもよろしいですか？", "Delete the saved card?"},

	// thank-you and results
	"thanks_title":      {"ご注文ありがとうございます", "Thank you for your order"},
	"paid_captured":     {"お支払いが完了しました。", "Payment is completed."},
	"paid_authorized":   {"クレジットカードの与信（ご利用枠の確保）が完了しました。代金はショップが売上を確定した時点で請求されます。", "Your card has been authorised. The amount is charged when the shop confirms the sale."},
	"paid_zero":         {"ご注文が完了しました。", "Your order is complete."},
	"paid_card":         {"クレジットカード", "Credit card"},
	"order_closed":      {"この注文はお支払いできない状態です。", "This order cannot be paid."},
	"order_cancelled":   {"この注文はキャンセルされました。", "This order has been cancelled."},
	"order_on_hold":     {"この注文はお支払い待ちです。お支払い方法のご案内に沿ってお手続きください。", "This order is awaiting payment as instructed."},
	"result_title":      {"お手続きの結果", "Result"},
	"card_saved_result": {"カード情報を登録しました。", "The card has been saved."},
	"cancelled_result":  {"お手続きを中止しました。", "The process was cancelled."},

	// my cards (MEMBER-02 … MEMBER-07)
	"mycards_title_new":   {"クレジットカード登録", "Register a card"},
	"mycards_title":       {"クレジットカード更新", "Update your card"},
	"mycards_saved":       {"登録済みのカード", "Saved card"},
	"mycards_expiry":      {"有効期限", "Expiry"},
	"mycards_invalid":     {"このカードは現在無効になっています。", "This card is currently invalid."},
	"mycards_none":        {"登録済みのカードはありません。", "No card is saved."},
	"mycards_new_card":    {"新しいカード", "New card"},
	"mycards_save":        {"変更を保存", "Save changes"},
	"mycards_register":    {"カードを登録する", "Save the card"},
	"mycards_link_save":   {"カード会社の画面で登録する", "Continue on the card company's page"},
	"mycards_delete":      {"カード会員情報を削除", "Delete the saved card"},
	"mycards_no_delete":   {"現在、登録済みのカードは削除できません。", "The saved card cannot be deleted now."},
	"mycards_updated":     {"カード会員情報を更新しました。", "The saved card has been updated."},
	"mycards_registered":  {"カード会員情報を登録しました。", "The card has been saved."},
	"mycards_deleted":     {"カード会員情報を削除しました。", "The saved card has been deleted."},
	"mycards_members_off": {"このショップではカードの登録を利用していません。", "This shop does not keep saved cards."},
	"mycards_unavailable": {"現在カード情報を表示できません。しばらくしてから再度お試しください。", "The card cannot be shown at the moment. Please try again later."},
	"link_invalid_title":  {"ページを表示できません", "This page cannot be shown"},
	"link_invalid":        {"リンクの有効期限が切れているか、リンクが正しくありません。ショップのページからもう一度開いてください（ブラウザの Cookie を有効にしてください）。", "The link has expired or is not valid. Please open the page again from the shop (with cookies enabled)."},

	// guards
	"card_data_title":    {"送信できません", "Not accepted"},
	"card_data_refused":  {"カード番号などのカード情報はこのページに送信できません。カード情報はカード会社へ直接送られます。", "Card details must not be sent to this page: they go to the card company directly."},
	"rate_limited_title": {"しばらくお待ちください", "Please wait"},
	"rate_limited":       {"短時間に多くのお手続きがありました。しばらくしてから再度お試しください。", "Too many attempts in a short time. Please try again later."},
	"bad_request_title":  {"不正なリクエスト", "Bad request"},
	"not_found_title":    {"ページが見つかりません", "Page not found"},
	"not_found":          {"お探しのページは見つかりませんでした。", "The page you are looking for does not exist."},
	"order_not_found":    {"ご注文が見つかりません。ショップのページからもう一度お手続きください。", "The order could not be found. Please start again from the shop."},
	"redirect_title":     {"カード会社の画面へ移動します", "Continuing to the card company"},
	"redirect_text":      {"自動的に移動しない場合は、ボタンを押してください。", "If nothing happens, press the button."},
	"redirect_button":    {"次へ進む", "Continue"},
}
