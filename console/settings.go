package console

// The settings screens (issue item 2): クレジットカード設定, オンライン収納代行設定
// and the go-live checklist.
//
// Both settings screens edit one document (kessai.Settings) through
// service.UpdateSettings, a JSON merge patch with optimistic locking: the
// page carries the version it was rendered from, so an operator cannot
// silently overwrite a colleague's save. Each screen builds its patch from
// its own fields only (plus the shop-wide environment, plan and log flag,
// which both screens show), so saving one screen never touches the other.
//
// Secrets (merchant passwords, token auth code, AES key and IV) never
// reach the page, not even as masked characters: an operator sees 「設定済み」
// or 「未設定」, an empty input that replaces the value when typed into, and
// a 「削除」 box that clears it. An empty input leaves the stored value alone.

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
)

func (h *Handler) settingsRoutes() []route {
	return []route{
		{"GET", "/settings", viewer, func(w http.ResponseWriter, r *http.Request, _ *request) {
			http.Redirect(w, r, BasePath+"/settings/card", http.StatusSeeOther)
		}},
		{"GET", "/settings/card", viewer, h.settingsCardPage},
		{"POST", "/settings/card", writer, h.settingsCardSave},
		{"GET", "/settings/collection", viewer, h.settingsCollectionPage},
		{"POST", "/settings/collection", writer, h.settingsCollectionSave},
		{"GET", "/settings/golive", viewer, h.settingsGoLivePage},
	}
}

// Form names are the settings document's JSON paths, so the field of a
// kessai.ValidationErrors entry ("card.merchant_id") is the name of the
// input its message belongs next to. Fee rows post three parallel lists;
// their messages use the row's index in the saved table
// ("collection.fee_rows[2].to"), which the form keeps per row.
const (
	settingsFieldEnv       = "environment"
	settingsFieldPlan      = "plan"
	settingsFieldNotifyLog = "notify_log"
	settingsFieldConfirm   = "confirm_production"
	settingsFieldVersion   = "version"
	settingsDeleteSuffix   = ".delete"
	settingsFeeFrom        = "collection.fee_rows.from"
	settingsFeeTo          = "collection.fee_rows.to"
	settingsFeeFee         = "collection.fee_rows.fee"
)

// settingsScreen describes one of the two settings screens.
type settingsScreen struct {
	method  kessai.Method
	path    string // the page's address
	page    string // template name
	nav     string
	title   string // message key
	done    string // success notice, done_<done>
	secrets []settingsSecretDef
}

// settingsSecretDef is one write-only credential of a screen.
type settingsSecretDef struct {
	name  string // JSON path, also the input's name
	label string // message keys
	help  string
	get   func(*kessai.Settings) kessai.Secret
}

// settingsShop is the shop-wide part both screens show (SET-13, SET-21,
// SET-22): one environment, one plan and one log flag for the whole shop.
type settingsShop struct {
	Environment string
	Plan        string
	NotifyLog   bool
	// ConfirmProduction is the box an operator must tick to switch the
	// shop to production (OPS-01).
	ConfirmProduction bool
}

// settingsSecretView is how a secret appears: its state, never its value.
type settingsSecretView struct {
	Name, ID    string
	Label, Help string
	Set         bool
	Status      string // 設定済み / 未設定
	Delete      bool   // the 削除 box stays ticked after a refused save
	DeleteLabel string
	Placeholder string
	Error       string
}

// settingsBody is the common part of both settings pages.
type settingsBody struct {
	Action  string
	Version int64
	Shop    settingsShop
	// StoredEnv is the environment in force (the form may show another
	// one after a refused save).
	StoredEnv  kessai.Env
	Production bool // StoredEnv is production
	Available  bool
	Reasons    []string
	NotifyURL  string
	// TestMembers is the number of card members (up to a page) while the
	// shop is not in production: they do not carry over (OPS-04).
	TestMembers int
	// Retype says a secret was typed into a refused form: it is not shown
	// again, so it must be typed again.
	Retype   bool
	Conflict bool
	secrets  map[string]settingsSecretView
}

// Secret returns the view of the secret input named name.
func (b *settingsBody) Secret(name string) settingsSecretView { return b.secrets[name] }

// settingsState is what a POST handler knows before building its patch.
type settingsState struct {
	stored  kessai.Settings
	version int64
}

func (h *Handler) loadSettings(r *http.Request, rq *request) (settingsState, error) {
	set, version, err := h.svc.GetSettings(r.Context(), rq.ShopID)
	return settingsState{stored: set, version: version}, err
}

// settingsShopFrom reads the shop-wide fields of stored settings.
func settingsShopFrom(s *kessai.Settings) settingsShop {
	return settingsShop{Environment: string(s.Environment), Plan: string(s.Plan), NotifyLog: s.NotifyLog}
}

// settingsShopForm reads the shop-wide fields of a posted form.
func settingsShopForm(r *http.Request) settingsShop {
	f := r.PostForm
	return settingsShop{Environment: strings.TrimSpace(f.Get(settingsFieldEnv)), Plan: strings.TrimSpace(f.Get(settingsFieldPlan)),
		NotifyLog: settingsChecked(f.Get(settingsFieldNotifyLog)), ConfirmProduction: settingsChecked(f.Get(settingsFieldConfirm))}
}

func settingsChecked(v string) bool { return v != "" }

// settingsPatch collects a screen's JSON merge patch and the problems
// found before the service sees it (numbers that are not numbers, a
// production switch without its confirmation, a secret both typed and
// deleted). Those are field errors like the service's own, so the page
// shows them the same way.
type settingsPatch struct {
	doc     map[string]any
	section map[string]any // doc["card"] or doc["collection"]
	local   kessai.ValidationErrors
	// skipPrefix drops the service's dry-run messages for fields the
	// patch could not include (a fee table with a bad cell): their
	// indexes would not match the form's rows.
	skipPrefix []string
	retype     bool
}

func newSettingsPatch(section string) *settingsPatch {
	p := &settingsPatch{doc: map[string]any{}, section: map[string]any{}}
	p.doc[section] = p.section
	return p
}

// fieldError adds a local field error with a registered message whose
// {label} is the field's label (the list at the top of the page must say
// which field it is about).
func (p *settingsPatch) fieldError(field, code, key, label string) {
	msg := func(lang string) string { return strings.ReplaceAll(text(lang, key), "{label}", text(lang, label)) }
	p.local.Add(field, code, msg(langJa), msg(langEn))
}

// shop adds the shop-wide fields and checks the production switch.
func (p *settingsPatch) shop(v settingsShop, stored kessai.Env) {
	p.doc[settingsFieldPlan] = v.Plan
	p.doc[settingsFieldNotifyLog] = v.NotifyLog
	if kessai.Env(v.Environment) == kessai.EnvProduction && stored != kessai.EnvProduction && !v.ConfirmProduction {
		// Real charges start with this switch: it takes a deliberate
		// tick (OPS-01), and without it the environment stays as is.
		p.fieldError(settingsFieldEnv, "confirmation_required", "settings_env_confirm_missing", "settings_env")
		return
	}
	p.doc[settingsFieldEnv] = v.Environment
}

// secrets adds the screen's secrets: a typed value replaces the stored
// one, the 削除 box clears it (JSON null), an empty input keeps it (the
// field is left out of the patch: an empty string would be refused).
func (p *settingsPatch) secrets(r *http.Request, defs []settingsSecretDef) {
	for _, d := range defs {
		typed := strings.TrimSpace(r.PostForm.Get(d.name))
		del := settingsChecked(r.PostForm.Get(d.name + settingsDeleteSuffix))
		if typed != "" {
			p.retype = true
		}
		_, key, _ := strings.Cut(d.name, ".")
		switch {
		case typed != "" && del:
			p.fieldError(d.name, "ambiguous", "settings_secret_both", d.label)
		case del:
			p.section[key] = nil
		case typed != "":
			p.section[key] = typed
		}
	}
}

// settingsNarrow turns what an operator may type with a Japanese input
// method into ASCII: full-width digits, minus, asterisk and spaces; and
// it drops digit-group commas ("1,100").
func settingsNarrow(s string) string {
	var b strings.Builder
	for _, c := range strings.TrimSpace(s) {
		switch {
		case c >= '０' && c <= '９':
			b.WriteRune('0' + (c - '０'))
		case c == '－' || c == 'ー' || c == '−':
			b.WriteByte('-')
		case c == '＊':
			b.WriteByte('*')
		case c == ',' || c == '，' || c == '　' || c == ' ':
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// settingsInt parses an integer input; ok is false for anything else
// (letters, fractions, a number beyond int64).
func settingsInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(settingsNarrow(s), 10, 64)
	return n, err == nil
}

// save applies the patch: on local problems it only checks the rest
// against the current settings (nothing is stored), so the operator sees
// every problem at once; otherwise UpdateSettings validates and stores it
// if nobody saved since the page was rendered.
func (h *Handler) saveSettingsPatch(r *http.Request, rq *request, st settingsState, p *settingsPatch) error {
	if len(p.local) > 0 {
		errs := p.local
		doc, err := json.Marshal(p.doc)
		if err != nil {
			return kessai.Internal(err)
		}
		dry := st.stored
		var v kessai.ValidationErrors
		if errors.As(dry.Apply(kessai.SettingsPatch(doc)), &v) {
			for _, e := range v {
				if !settingsSkipped(e.Field, p.skipPrefix) {
					errs = append(errs, e)
				}
			}
		}
		return errs
	}
	version, err := strconv.ParseInt(r.PostForm.Get(settingsFieldVersion), 10, 64)
	if err != nil || version < 0 {
		// A form without its version cannot be checked against a
		// concurrent save: treat it as stale.
		return kessai.Errorf(kessai.KindConflict, "settings_version_conflict", text(langJa, "settings_conflict"), text(langEn, "settings_conflict"))
	}
	doc, err := json.Marshal(p.doc)
	if err != nil {
		return kessai.Internal(err)
	}
	_, _, err = h.svc.UpdateSettings(r.Context(), rq.ShopID, doc, version)
	return err
}

var settingsFeeRowRE = regexp.MustCompile(`^collection\.fee_rows\[(\d+)\]`)

// settingsNameRows prefixes the messages about a fee row with its number
// ("決済手数料 2行目: …"): the service's texts name the cell, not the row.
func settingsNameRows(ve kessai.ValidationErrors) kessai.ValidationErrors {
	out := make(kessai.ValidationErrors, len(ve))
	for i, e := range ve {
		out[i] = e
		m := settingsFeeRowRE.FindStringSubmatch(e.Field)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		row := func(lang string) string {
			return strings.ReplaceAll(text(lang, "settings_fee_row_n"), "{n}", strconv.Itoa(n+1))
		}
		c := *e
		c.Ja, c.En = row(langJa)+e.Ja, row(langEn)+e.En
		out[i] = &c
	}
	return out
}

func settingsSkipped(field string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(field, p) {
			return true
		}
	}
	return false
}

// settingsFailStatus sorts a refused save into the page and returns its
// status: 422 for field problems, 409 for a concurrent save; ok is false
// for an internal error (the caller shows the error page).
func settingsFailStatus(p *page, err error, lang string) (status int, conflict, ok bool) {
	var ve kessai.ValidationErrors
	if errors.As(err, &ve) {
		formErrors(p, settingsNameRows(ve), lang)
		return http.StatusUnprocessableEntity, false, true
	}
	switch kindOf(err) {
	case kessai.KindInternal:
		return 0, false, false
	case kessai.KindConflict:
		// The service's own text says the same; ours adds where to click.
		p.Errors = append(p.Errors, text(lang, "settings_conflict"))
		return http.StatusConflict, true, true
	}
	formErrors(p, err, lang)
	status = kindOf(err).HTTPStatus()
	if status == http.StatusAccepted || status == http.StatusPaymentRequired {
		status = http.StatusConflict
	}
	return status, false, true
}

// fillCommon completes the common part of a settings page: secrets as
// states, availability, the notification URL and the test-era members.
func (h *Handler) fillCommon(r *http.Request, rq *request, p *page, scr *settingsScreen, b *settingsBody, st settingsState, deleted map[string]bool) {
	b.Action = BasePath + scr.path
	b.StoredEnv = st.stored.Environment
	b.Production = st.stored.Environment == kessai.EnvProduction
	b.Available, b.Reasons = settingsAvailability(&st.stored, scr.method, rq.Lang)
	b.NotifyURL = h.notifyURL()
	b.secrets = map[string]settingsSecretView{}
	for _, d := range scr.secrets {
		set := d.get(&st.stored).IsSet()
		v := settingsSecretView{Name: d.name, ID: settingsID(d.name), Label: text(rq.Lang, d.label), Help: text(rq.Lang, d.help),
			Set: set, Delete: deleted[d.name], DeleteLabel: text(rq.Lang, "settings_secret_delete"), Error: p.Field(d.name)}
		if set {
			v.Status = text(rq.Lang, "settings_secret_set")
			v.Placeholder = text(rq.Lang, "settings_secret_keep")
		} else {
			v.Status = text(rq.Lang, "settings_secret_unset")
		}
		b.secrets[d.name] = v
	}
	if !b.Production {
		if ms, err := h.svc.Store().ListMembers(r.Context(), rq.ShopID, kessai.Page{Limit: 100}); err == nil {
			b.TestMembers = len(ms)
		} else {
			h.log.WarnContext(r.Context(), "console: settings: list members", "err", err)
		}
	}
	p.Scripts = append(p.Scripts, assetURL("settings.js"))
}

// settingsDeleted reads the 削除 boxes of a posted form.
func settingsDeleted(r *http.Request, defs []settingsSecretDef) map[string]bool {
	out := map[string]bool{}
	for _, d := range defs {
		out[d.name] = settingsChecked(r.PostForm.Get(d.name + settingsDeleteSuffix))
	}
	return out
}

// settingsID makes an element id of a form name (no dots: ids are also
// CSS selectors).
func settingsID(name string) string {
	return strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(name)
}

// notifyURL is the one address to register with SPS as 入金結果通知URL
// (NOTIFY-01): collection notifications, 3-D Secure and link-type returns
// all arrive there (api/receiver.go serves /escott/notify).
func (h *Handler) notifyURL() string { return h.publicURL + "/escott/notify" }

// settingsAvailability is CardAvailable / CollectionAvailable with the
// reasons in the page's language: the kessai methods give them in
// Japanese; the same rule in English is "enabled, and no validation
// problem of the shop-wide fields or the method's".
func settingsAvailability(s *kessai.Settings, m kessai.Method, lang string) (bool, []string) {
	var ok bool
	var ja []string
	prefix, enabled, disabledKey := "card.", s.Card.Enabled, "settings_avail_card_off"
	if m == kessai.MethodCard {
		ok, ja = s.CardAvailable()
	} else {
		ok, ja = s.CollectionAvailable()
		prefix, enabled, disabledKey = "collection.", s.Collection.Enabled, "settings_avail_collection_off"
	}
	if ok || lang != langEn {
		return ok, ja
	}
	var out []string
	if !enabled {
		out = append(out, text(lang, disabledKey))
	}
	for _, e := range s.Validate() {
		if e.Field != "plan" && e.Field != "environment" && !strings.HasPrefix(e.Field, prefix) {
			continue
		}
		msg := e.Message(lang)
		dup := false
		for _, o := range out {
			dup = dup || o == msg
		}
		if !dup {
			out = append(out, msg)
		}
	}
	return false, out
}

func init() {
	register(map[string][2]string{
		// Shop-wide section.
		"settings_shop_legend": {"ショップ全体の設定（両方の画面で共通）", "Shop-wide settings (shared by both screens)"},
		"settings_env":         {"環境", "Environment"},
		"settings_env_simulator": {"シミュレーター（kessai 内蔵の模擬ゲートウェイ・テスト用パスワード）",
			"Simulator (kessai's built-in gateway, test password)"},
		"settings_env_test":       {"テスト環境（e-SCOTT テスト環境・テスト用パスワード）", "Test (e-SCOTT test environment, test password)"},
		"settings_env_production": {"本番環境（実際の決済・本番用パスワード）", "Production (real payments, production password)"},
		"settings_env_help": {"クレジットカード決済とオンライン収納代行は必ず同じ環境で動作します（ショップ全体で1つの切り替えです）。片方だけテストモードにすることはできません。",
			"Card payments and online payment collection always run in the same environment: this one switch applies to the whole shop. One method cannot be in test mode while the other is live."},
		"settings_env_warning": {"本番環境ではありません。実際の決済は行われず、チェックアウトの説明には「※テストモードで稼働中」が表示されます。",
			"This shop is not in production: no real payment happens, and checkout shows “※テストモードで稼働中” (test mode) after the description."},
		"settings_env_confirm": {"本番環境に切り替えます。実際の決済が行われることを確認しました。",
			"I am switching to production and understand that real payments will be made."},
		"settings_env_confirm_missing": {"本番環境に切り替えるには、確認のチェックを入れてください。",
			"To switch to production, tick the confirmation box."},
		"settings_golive_reminder": {"本番に切り替える前に確認してください:", "Before switching to production:"},
		"settings_golive_r1": {"本番用のマーチャントパスワードを入力しましたか（テスト用とは異なります。マーチャントIDは同じです）。",
			"Enter the production merchant passwords (they differ from the test ones; the merchant ID is the same)."},
		"settings_golive_r2": {"入金結果通知URLをソニーペイメントサービスに登録しましたか。", "Register the notification URL with Sony Payment Services."},
		"settings_golive_r3": {"テスト環境のカード会員（登録済みカード）は本番では使えません。お客様は本番でカードを登録し直す必要があります。",
			"Card members registered in the test environment do not work in production: customers must register their cards again."},
		"settings_golive_r4": {"切り替えたら、実際のカードで購入し、オンライン収納代行は実店舗での入金で通知を確認してください。",
			"After switching, make a purchase with a real card, and confirm a collection notification with a real store payment."},
		"settings_golive_members": {"テスト期間に登録されたカード会員がいます（件数）:", "Card members registered during testing:"},
		"settings_golive_link":    {"本番切替チェックを開く", "Open the go-live checklist"},
		"settings_plan":           {"契約プラン", "Plan"},
		"settings_plan_pro":       {"pro 版", "Pro"},
		"settings_plan_light":     {"light 版", "Light"},
		"settings_plan_help": {"light 版はトークン決済型のみです。外部リンク型、管理画面からの決済操作（売上計上・取消・金額変更）、定期購入は使えません（決済の操作は e-SCOTT 管理画面で行います）。プランを変えてもソニーペイメントサービスとの契約は変わりません。契約の変更はソニーペイメントサービスにお申し込みください。",
			"The light plan offers the token type only: no link type, no payment operations from this console (capture, cancel, amount changes; use the e-SCOTT merchant console) and no subscriptions. Changing the plan here does not change your contract with Sony Payment Services: ask them to change it."},
		"settings_notify_log":       {"ログを保存", "Save logs"},
		"settings_notify_log_check": {"支払い結果通知ログを保存", "Save the payment result notification log"},
		"settings_notify_log_help": {"ゲートウェイとの通信と通知の診断ログ（マスク済み）を保存します。この設定はショップ全体で1つで、クレジットカード設定とオンライン収納代行設定で共通です。決済の履歴はこの設定にかかわらず保存されます。",
			"Keeps the diagnostic log (masked) of gateway calls and notifications. This is one shop-wide setting, shared by the card and collection screens. The payment history is kept regardless."},

		// Secrets.
		"settings_secret_set":    {"設定済み", "set"},
		"settings_secret_unset":  {"未設定", "not set"},
		"settings_secret_delete": {"削除", "Delete"},
		"settings_secret_keep":   {"変更しない場合は空欄のまま", "Leave empty to keep"},
		"settings_secret_both": {"{label}: 新しい値の入力と「削除」を同時には指定できません。どちらか一方にしてください。",
			"{label}: either type a new value or tick Delete, not both."},
		"settings_secret_note": {"パスワード・認証コード・暗号化キーは表示されません。入力すると保存済みの値を置き換え、空欄のままなら変わりません。",
			"Passwords, codes and keys are never shown. Typing a value replaces the stored one; an empty field keeps it."},
		"settings_retype": {"入力したパスワード・コード・キーは安全のため再表示していません。保存する場合はもう一度入力してください。",
			"For safety the passwords, codes and keys you typed are not shown again: type them again to save them."},

		// Availability, saving.
		"settings_avail_yes":            {"チェックアウトに表示されています（利用可能）。", "Offered at checkout (available)."},
		"settings_avail_no":             {"チェックアウトに表示されていません。理由:", "Not offered at checkout. Why:"},
		"settings_avail_card_off":       {"クレジットカード決済が有効化されていません。", "The card method is not enabled."},
		"settings_avail_collection_off": {"オンライン収納代行が有効化されていません。", "Online payment collection is not enabled."},
		"settings_conflict": {"ほかの担当者がこの間に設定を保存しました。ページを再読み込みして最新の設定を確認してから、もう一度変更してください。",
			"Another operator saved the settings meanwhile. Reload the page to see the current settings, then make your change again."},
		"settings_reload":    {"再読み込み", "Reload"},
		"settings_save":      {"設定を保存", "Save settings"},
		"settings_number":    {"{label}は半角数字（整数）で入力してください。", "{label}: enter a whole number."},
		"settings_required":  {"{label}を入力してください。", "{label} is required."},
		"settings_fee_row_n": {"決済手数料 {n}行目: ", "Fee row {n}: "},
		"settings_pro_only":  {"pro 版のみ", "Pro plan only"},

		// Notification URL (NOTIFY-01, OPS-09).
		"settings_notify_url": {"入金結果通知URL", "Notification URL (入金結果通知URL)"},
		"settings_notify_help": {"このURLをソニーペイメントサービスに「入金結果通知URL」として登録を申請してください。オンライン収納代行の入金通知と、3Dセキュア・外部リンク型の戻り先はすべてこのURLです。URLが違うと入金が反映されません。テスト・ステージング環境のURLは登録できません。",
			"Ask Sony Payment Services to register this URL as your notification URL (入金結果通知URL). Collection payment notifications and the 3-D Secure and link-type returns all arrive here; with a wrong URL payments are never marked as paid. URLs of test or staging sites cannot be registered."},
		"settings_copy":   {"コピー", "Copy"},
		"settings_copied": {"コピーしました", "Copied"},
	})
}
