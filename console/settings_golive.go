package console

// 本番切替チェック (OPS-01): what kessai can verify before and after the
// switch from test to production, computed from the settings, the
// notification URL and the store, next to the steps only a person can do.

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
)

// Check outcomes.
const (
	settingsCheckOK   = "ok"
	settingsCheckFail = "fail"
	settingsCheckWarn = "warn" // worth a look, does not block the switch
	settingsCheckNA   = "na"   // does not apply to this configuration
)

// settingsCheck is one line of the checklist.
type settingsCheck struct {
	ID      string
	Status  string
	Label   string
	Details []string
	// Link is where to fix it.
	Link string
}

// Mark is the symbol of the outcome.
func (c settingsCheck) Mark() string {
	switch c.Status {
	case settingsCheckOK:
		return "✓"
	case settingsCheckFail:
		return "✗"
	case settingsCheckWarn:
		return "⚠"
	}
	return "–"
}

type settingsGoLiveBody struct {
	Checks    []settingsCheck
	Manual    []string
	Failures  int
	Warnings  int
	Summary   string
	EnvLabel  string
	NotifyURL string
}

func (h *Handler) settingsGoLivePage(w http.ResponseWriter, r *http.Request, rq *request) {
	st, err := h.loadSettings(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	members, err := h.svc.Store().ListMembers(r.Context(), rq.ShopID, kessai.Page{Limit: 100})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	paid, err := h.settingsHasPayment(r, rq)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	lang := rq.Lang
	b := settingsGoLive(&st.stored, h.notifyURL(), len(members), paid, lang)
	p := h.newPage(r, rq, "golive", "settings_golive_title")
	p.Body = b
	h.render(w, r, http.StatusOK, "golive", p)
}

// settingsHasPayment reports whether the shop has a payment that went
// through (authorised, captured or paid). Payments do not record the
// environment they were made in, so in production this may still count a
// test-era payment: the check is optional and says so.
func (h *Handler) settingsHasPayment(r *http.Request, rq *request) (bool, error) {
	for _, s := range []kessai.PaymentState{kessai.PaymentCaptured, kessai.PaymentAuthorized, kessai.PaymentPaid} {
		ps, err := h.svc.Store().ListPaymentsByState(r.Context(), rq.ShopID, s, kessai.Page{Limit: 1})
		if err != nil {
			return false, err
		}
		if len(ps) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// settingsGoLive computes the checklist.
func settingsGoLive(s *kessai.Settings, notify string, members int, paid bool, lang string) settingsGoLiveBody {
	t := func(key string) string { return text(lang, key) }
	b := settingsGoLiveBody{NotifyURL: notify, EnvLabel: t("settings_env_" + string(s.Environment))}
	add := func(c settingsCheck) { b.Checks = append(b.Checks, c) }
	ok := func(cond bool) string {
		if cond {
			return settingsCheckOK
		}
		return settingsCheckFail
	}
	cardURL, colURL := BasePath+"/settings/card", BasePath+"/settings/collection"
	prod := s.Environment == kessai.EnvProduction

	c := settingsCheck{ID: "check-environment", Status: ok(prod), Label: t("settings_gl_env"), Link: cardURL}
	if !prod {
		c.Details = []string{t("settings_gl_env_now") + b.EnvLabel}
	}
	add(c)
	add(settingsCheck{ID: "check-method", Status: ok(s.Card.Enabled || s.Collection.Enabled), Label: t("settings_gl_method"), Link: cardURL})

	// The same rules checkout applies, evaluated as if the shop were in
	// production already: the production password, not the test one.
	asProd := *s
	asProd.Environment = kessai.EnvProduction

	methods := []struct {
		prefix, link string
		enabled      bool
		id           string
		pass         kessai.Secret
	}{
		{"card", cardURL, s.Card.Enabled, s.Card.MerchantID, s.Card.MerchantPassProd},
		{"collection", colURL, s.Collection.Enabled, s.Collection.MerchantID, s.Collection.MerchantPassProd},
	}
	for _, m := range methods {
		name := t("settings_gl_" + m.prefix)
		if !m.enabled {
			add(settingsCheck{ID: "check-" + m.prefix + "-enabled", Status: settingsCheckNA, Label: name + t("settings_gl_off"), Link: m.link})
			continue
		}
		add(settingsCheck{ID: "check-" + m.prefix + "-merchant-id", Status: ok(m.id != ""), Label: name + t("settings_gl_merchant_id"), Link: m.link})
		add(settingsCheck{ID: "check-" + m.prefix + "-prod-pass", Status: ok(m.pass.IsSet()), Label: name + t("settings_gl_prod_pass"), Link: m.link})
		if m.prefix == "card" {
			if s.Card.LinkType {
				add(settingsCheck{ID: "check-card-token-code", Status: settingsCheckNA, Label: name + t("settings_gl_token_code"),
					Details: []string{t("settings_gl_token_link")}, Link: m.link})
			} else {
				add(settingsCheck{ID: "check-card-token-code", Status: ok(s.Card.TokenAuthCode.IsSet()), Label: name + t("settings_gl_token_code"), Link: m.link})
			}
			if s.Card.ThreeDS || s.Card.LinkType {
				add(settingsCheck{ID: "check-card-aes", Status: ok(s.Card.AESKey.IsSet() && s.Card.AESIV.IsSet()), Label: name + t("settings_gl_aes"), Link: m.link})
			} else {
				add(settingsCheck{ID: "check-card-aes", Status: settingsCheckNA, Label: name + t("settings_gl_aes"),
					Details: []string{t("settings_gl_aes_na")}, Link: m.link})
			}
		}
		method := kessai.MethodCard
		if m.prefix == "collection" {
			method = kessai.MethodCollection
		}
		avail, reasons := settingsAvailability(&asProd, method, lang)
		add(settingsCheck{ID: "check-" + m.prefix + "-available", Status: ok(avail), Label: name + t("settings_gl_available"),
			Details: reasons, Link: m.link})
	}

	c = settingsCheck{ID: "check-notify-url", Status: settingsCheckOK, Label: t("settings_gl_notify"), Details: []string{notify}}
	for _, key := range settingsNotifyURLProblems(notify) {
		c.Status = settingsCheckFail
		c.Details = append(c.Details, t(key))
	}
	add(c)

	// Test-era members do not carry over (OPS-04, MEMBER-09); in
	// production nothing tells the two apart any more.
	switch {
	case prod:
		add(settingsCheck{ID: "check-members", Status: settingsCheckNA, Label: t("settings_gl_members"),
			Details: []string{t("settings_gl_members_prod")}})
	case members > 0:
		n := strconv.Itoa(members)
		if members >= 100 {
			n += "+"
		}
		add(settingsCheck{ID: "check-members", Status: settingsCheckWarn, Label: t("settings_gl_members"),
			Details: []string{t("settings_golive_members") + " " + n, t("settings_golive_r3")}, Link: BasePath + "/customers"})
	default:
		add(settingsCheck{ID: "check-members", Status: settingsCheckOK, Label: t("settings_gl_members")})
	}

	c = settingsCheck{ID: "check-payment", Status: settingsCheckOK, Label: t("settings_gl_payment"), Details: []string{t("settings_gl_payment_note")}}
	if !paid {
		c.Status = settingsCheckWarn
	}
	add(c)

	for _, c := range b.Checks {
		switch c.Status {
		case settingsCheckFail:
			b.Failures++
		case settingsCheckWarn:
			b.Warnings++
		}
	}
	switch {
	case b.Failures > 0:
		b.Summary = strings.ReplaceAll(t("settings_gl_summary_fail"), "{n}", strconv.Itoa(b.Failures))
	case prod:
		b.Summary = t("settings_gl_summary_live")
	default:
		b.Summary = t("settings_gl_summary_ready")
	}
	for _, key := range []string{"settings_gl_manual_register", "settings_gl_manual_card", "settings_gl_manual_store", "settings_gl_manual_tls"} {
		b.Manual = append(b.Manual, t(key))
	}
	return b
}

// settingsNotifyURLProblems lists why SPS would not accept the URL as a
// 入金結果通知URL (OPS-09): it must be https and reachable from the
// internet; local and reserved names and addresses cannot be registered.
func settingsNotifyURLProblems(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return []string{"settings_gl_notify_invalid"}
	}
	var out []string
	if u.Scheme != "https" {
		out = append(out, "settings_gl_notify_https")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	local := host == "localhost" || !strings.Contains(host, ".")
	for _, suffix := range []string{".localhost", ".local", ".test", ".example", ".invalid", ".internal", ".lan", ".home.arpa"} {
		local = local || strings.HasSuffix(host, suffix)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		local = ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() || ip.Is4In6() && ip.Unmap().IsLoopback()
	}
	if local {
		out = append(out, "settings_gl_notify_local")
	}
	return out
}

func init() {
	register(map[string][2]string{
		"settings_golive_title": {"本番切替チェック", "Go-live checklist"},
		"settings_gl_intro": {"本番環境に切り替える前と後に確認する項目です。✓ は kessai が設定から確認できた項目、✗ は対応が必要な項目、⚠ は確認をおすすめする項目です。",
			"What to check before and after switching to production. ✓ kessai verified it from the settings, ✗ needs action, ⚠ worth checking."},
		"settings_gl_env_label":      {"現在の環境", "Current environment"},
		"settings_gl_computed":       {"自動チェック", "Automatic checks"},
		"settings_gl_item":           {"項目", "Check"},
		"settings_gl_result":         {"結果", "Result"},
		"settings_gl_fix":            {"設定を開く", "Open settings"},
		"settings_gl_manual":         {"手動で確認する項目", "Steps to do by hand"},
		"settings_gl_summary_fail":   {"対応が必要な項目が {n} 件あります。", "{n} item(s) need action."},
		"settings_gl_summary_ready":  {"自動チェックはすべて完了しています。手動の項目を確認してから本番環境に切り替えてください。", "All automatic checks pass. Do the manual steps, then switch to production."},
		"settings_gl_summary_live":   {"本番環境で稼働中です。自動チェックはすべて完了しています。", "Running in production; all automatic checks pass."},
		"settings_gl_status_ok":      {"完了", "done"},
		"settings_gl_status_fail":    {"未完了", "needs action"},
		"settings_gl_status_warn":    {"要確認", "check"},
		"settings_gl_status_na":      {"対象外", "not applicable"},
		"settings_gl_env":            {"環境が本番環境になっている", "The environment is production"},
		"settings_gl_env_now":        {"現在: ", "Now: "},
		"settings_gl_method":         {"支払方法が1つ以上有効になっている", "At least one payment method is enabled"},
		"settings_gl_card":           {"クレジットカード: ", "Card: "},
		"settings_gl_collection":     {"オンライン収納代行: ", "Collection: "},
		"settings_gl_off":            {"無効のため確認しません", "disabled, not checked"},
		"settings_gl_merchant_id":    {"マーチャントIDが入力されている", "merchant ID entered"},
		"settings_gl_prod_pass":      {"本番用マーチャントパスワードが設定されている", "production merchant password set"},
		"settings_gl_token_code":     {"トークン決済認証コードが設定されている", "token auth code set"},
		"settings_gl_token_link":     {"外部リンク型では使いません。", "Not used with the link type."},
		"settings_gl_aes":            {"暗号化キーと初期化ベクトルが設定されている", "encryption key and IV set"},
		"settings_gl_aes_na":         {"3Dセキュアも外部リンク型も使わないため不要です。", "Not needed without 3-D Secure or the link type."},
		"settings_gl_available":      {"本番環境の設定でチェックアウトに表示できる", "would be offered at checkout in production"},
		"settings_gl_notify":         {"入金結果通知URLが登録できる形式である（https・公開されたホスト名）", "The notification URL can be registered (https, a public host)"},
		"settings_gl_notify_invalid": {"URLの形式が正しくありません。kessai の公開URLの設定を確認してください。", "The URL is not valid: check kessai's public URL setting."},
		"settings_gl_notify_https":   {"https ではありません。ソニーペイメントサービスには https のURLを登録します。", "It is not https: Sony Payment Services requires an https URL."},
		"settings_gl_notify_local": {"ローカルまたはテスト用のホストです。インターネットから届くURLでないと登録できません（kessai の公開URLの設定を確認してください）。",
			"It is a local or test host: only a URL reachable from the internet can be registered (check kessai's public URL setting)."},
		"settings_gl_members": {"テスト環境で登録したカード会員が残っていない", "No card members from the test period"},
		"settings_gl_members_prod": {"本番環境では、テスト期間の会員と区別できません。テスト期間の会員は本番では使えません。",
			"In production test-era members cannot be told apart any more; they do not work in production."},
		"settings_gl_payment": {"決済が1件以上完了している（任意）", "At least one payment went through (optional)"},
		"settings_gl_payment_note": {"kessai は決済ごとの環境を記録していないため、テスト期間の決済も数えます。本番での確認は下の手動の項目で行ってください。",
			"kessai does not record the environment of each payment, so test-period payments count too: confirm production with the manual steps below."},
		"settings_gl_manual_register": {"入金結果通知URLをソニーペイメントサービスに登録申請した（オンライン収納代行・3Dセキュア・外部リンク型で必要）。",
			"Apply to Sony Payment Services to register the notification URL (needed for collection, 3-D Secure and the link type)."},
		"settings_gl_manual_card": {"本番環境で実際のカードで購入し、決済が完了することを確認した（テストカードは本番では使えません）。",
			"Buy with a real card in production and check the payment completes (test cards do not work in production)."},
		"settings_gl_manual_store": {"オンライン収納代行: 実際の店舗で入金し、入金結果通知で注文が「入金済」になることを確認した。",
			"Collection: pay at a real store and check the notification marks the order as paid."},
		"settings_gl_manual_tls": {"ショップと kessai が TLS 1.2 の HTTPS（SHA-2 の証明書）で公開されている。",
			"The shop and kessai are served over HTTPS with TLS 1.2 (SHA-2 certificate)."},
	})
}
