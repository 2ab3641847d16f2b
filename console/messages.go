package console

import "fmt"

// The console's texts, in Japanese and English, by key. Each screen's file
// registers its own keys (prefixed with the screen's name) in an init
// function; a key registered twice is a programming error caught at start.
var messages = map[string][2]string{}

// register adds texts: key → {Japanese, English}.
func register(m map[string][2]string) {
	for k, v := range m {
		if _, dup := messages[k]; dup {
			panic(fmt.Sprintf("console: message %q registered twice", k))
		}
		messages[k] = v
	}
}

// known reports whether a key exists.
func known(key string) bool { _, ok := messages[key]; return ok }

// text returns a message in lang; a missing key shows itself, so a
// forgotten text is visible in tests and on screen rather than blank.
func text(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == langEn && m[1] != "" {
		return m[1]
	}
	return m[0]
}

func init() {
	register(map[string][2]string{
		"console":           {"kessai 管理画面", "kessai admin console"},
		"lang_switch":       {"English", "日本語"},
		"skip":              {"本文へ移動", "Skip to content"},
		"nav_dashboard":     {"ダッシュボード", "Dashboard"},
		"nav_orders":        {"注文", "Orders"},
		"nav_customers":     {"カード会員", "Card members"},
		"nav_subscriptions": {"定期購入", "Subscriptions"},
		"nav_logs":          {"決済ログ", "Payment log"},
		"nav_webhooks":      {"Webhook", "Webhooks"},
		"nav_settings_card": {"クレジットカード設定", "Card settings"},
		"nav_settings_cvs":  {"オンライン収納代行設定", "Collection settings"},
		"nav_golive":        {"本番切替チェック", "Go-live checklist"},
		"nav_account":       {"パスワード変更", "Change password"},
		"logout":            {"ログアウト", "Log out"},
		"role_admin":        {"管理者", "admin"},
		"role_readonly":     {"閲覧のみ", "read-only"},
		"banner_simulator": {"シミュレーターで稼働中です。決済はすべて模擬で、実際の請求は発生しません。",
			"Running on the simulator: every payment is simulated and nobody is charged."},
		"banner_test": {"テストモードで稼働中です（e-SCOTT テスト環境）。本番の決済はできません。",
			"Test mode (e-SCOTT test environment): real payments are not possible."},
		"banner_light": {"light 版で稼働中です。決済の操作（売上計上・取消・変更）は e-SCOTT 管理画面で行ってください。",
			"Light plan: capture, cancel and changes are done in the e-SCOTT merchant console."},
		"read_only_note": {"閲覧のみの権限でログインしています。変更はできません。", "You are logged in read-only: changes are not possible."},

		"error_title":     {"エラー", "Error"},
		"error_not_found": {"ページが見つかりません。", "Page not found."},
		"error_csrf": {"フォームの有効期限が切れたか、不正なリクエストです。ページを再読み込みしてやり直してください。",
			"The form expired or the request was not sent from the console. Reload the page and try again."},
		"error_read_only": {"閲覧のみの権限では変更できません。", "Read-only users cannot make changes."},
		"error_internal": {"システムエラーが発生しました。時間をおいて再度お試しください。問題が続く場合はログを確認してください。",
			"Something went wrong. Please try again later; if it persists, check the server log."},
		"back":     {"戻る", "Back"},
		"save":     {"保存", "Save"},
		"search":   {"検索", "Search"},
		"clear":    {"クリア", "Clear"},
		"next":     {"次へ", "Next"},
		"none":     {"なし", "none"},
		"yes":      {"はい", "yes"},
		"no":       {"いいえ", "no"},
		"close":    {"閉じる", "Close"},
		"required": {"必須", "required"},

		"login_title":    {"ログイン", "Log in"},
		"login_email":    {"ログイン名（メールアドレス）", "Login name (e-mail)"},
		"login_password": {"パスワード", "Password"},
		"login_submit":   {"ログイン", "Log in"},
		"login_expired":  {"ログインの有効期限が切れました。再度ログインしてください。", "Your session has ended. Please log in again."},
		"login_csrf": {"ログインフォームの有効期限が切れました。もう一度ログインしてください。",
			"The login form expired. Please log in again."},
		"done_logout": {"ログアウトしました。", "You have logged out."},

		"password_title":   {"パスワード変更", "Change password"},
		"password_current": {"現在のパスワード", "Current password"},
		"password_new":     {"新しいパスワード", "New password"},
		"password_confirm": {"新しいパスワード（確認）", "New password (again)"},
		"password_help": {"12 文字以上。変更すると、ほかの端末のログインはすべて終了します。",
			"At least 12 characters. Changing it logs you out everywhere else."},
		"password_mismatch": {"確認用のパスワードが一致しません。", "The two new passwords differ."},
		"password_submit":   {"変更する", "Change password"},
		"done_password":     {"パスワードを変更しました。", "Your password was changed."},
	})
}
