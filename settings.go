package kessai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kessai/kessai/escott"
)

// Settings is one shop's settings document (features SET-01 … SET-23): the
// edition, the one gateway environment, the card method and the online
// payment collection method. It is stored as JSON (SettingsStore), sealed
// as a whole by the store adapter because it holds gateway credentials.
//
// Secrets are write-only through the API: send clients Redacted(), never
// the Settings itself (json.Marshal of Settings includes the secrets, which
// is what storage needs). Change settings with Apply, which validates.
//
// There is no currency setting: kessai settles JPY only (SET-20, A-14), so
// a shop cannot be configured into a state the gateway would refuse.
type Settings struct {
	// Plan is the edition (SET-22, design A-20): light = token type only,
	// no admin operations, no subscriptions; pro = everything.
	Plan Plan `json:"plan"`
	// Environment is the one gateway environment of the whole shop: card
	// and collection cannot differ (SET-21, design A-13), so there is no
	// per-method test mode.
	Environment Env `json:"environment"`
	// NotifyLog is 「ログを保存」 (SET-13) as ONE shop-wide flag: the plugins
	// show a checkbox on both screens but read only the card one for all
	// logging, so two flags would promise a distinction that never
	// existed. It controls the diagnostic log of gateway calls and
	// notifications (LOG-01, always masked); the payment history, from
	// which payment states are derived, is kept regardless.
	NotifyLog  bool               `json:"notify_log"`
	Card       CardSettings       `json:"card"`
	Collection CollectionSettings `json:"collection"`
}

// Plan is the edition a shop runs (design A-20).
type Plan string

// The two editions.
const (
	PlanLight Plan = "light"
	PlanPro   Plan = "pro"
)

// Env is the gateway environment a shop runs against.
type Env string

// The three environments. The simulator speaks the test environment's
// protocol at another base URL, with the test credentials.
const (
	EnvSimulator  Env = "simulator"
	EnvTest       Env = "test"
	EnvProduction Env = "production"
)

// InstallmentSetting is 支払回数 (SET-11) as stored in the document; Mode
// converts it to the escott type.
type InstallmentSetting string

// The three choices of 支払回数.
const (
	InstallmentsLumpSumOnly InstallmentSetting = "lump_sum_only"      // 一括払いのみ
	InstallmentsEnabled     InstallmentSetting = "installments"       // 分割払いを有効にする
	InstallmentsWithBonus   InstallmentSetting = "installments_bonus" // 分割払いとボーナス払いを有効にする
)

// Mode returns the escott installment mode; anything unknown is lump sum
// only, the safe default.
func (i InstallmentSetting) Mode() escott.InstallmentMode {
	switch i {
	case InstallmentsEnabled:
		return escott.Installments
	case InstallmentsWithBonus:
		return escott.InstallmentsAndBonus
	}
	return escott.InstallmentsOff
}

// CardSettings is the card method's screen (SET-01 … SET-12). The licence
// key SET-05 is out of scope (design §1).
type CardSettings struct {
	// Enabled is 「ソニーペイメントを有効化」 (default off).
	Enabled     bool   `json:"enabled"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// LinkType is 接続方式 「外部リンク型で接続する」 (SET-03): the shopper
	// pays on the gateway's page. Pro plan only; off = token type.
	LinkType bool `json:"link_type"`
	// MerchantID is the same in test and production (SET-04).
	MerchantID string `json:"merchant_id"`
	// MerchantPassTest is used in the test environment and the simulator;
	// MerchantPassProd in production: SPS issues different passwords.
	MerchantPassTest Secret `json:"merchant_pass_test"`
	MerchantPassProd Secret `json:"merchant_pass_prod"`
	// TenantID is the store code 店舗コード (default "0001").
	TenantID string `json:"tenant_id"`
	// TokenAuthCode is トークン決済認証コード (SET-07), required in token type.
	TokenAuthCode Secret `json:"token_auth_code"`
	// ThreeDS is 「3Dセキュア認証を利用する」 (SET-06).
	ThreeDS bool `json:"three_ds"`
	// AESKey and AESIV encrypt the 3-D Secure and link-type hand-offs;
	// exactly 16 ASCII alphanumerics each, required with 3DS or link
	// type (the plugins' silent fallback to a built-in pair is dropped).
	AESKey Secret `json:"aes_key"`
	AESIV  Secret `json:"aes_iv"`
	// SecurityCode is 認証アシスト (SET-08, default on).
	SecurityCode bool `json:"security_code"`
	// Members is カード会員 (SET-09, default on): saved cards.
	Members bool `json:"members"`
	// AlwaysRegister is 「常にカード会員に登録」 (default on); it only
	// matters while Members is on.
	AlwaysRegister bool `json:"always_register"`
	// Operation is 処理区分 (SET-10): 1Auth or 1Gathering (default).
	Operation escott.OperateID `json:"operation"`
	// SubscriptionOperation is 定期購入処理区分 for renewals (pro).
	SubscriptionOperation escott.OperateID `json:"subscription_operation"`
	// Installments is 支払回数 (SET-11). Link type ignores it (lump sum
	// only there): see InstallmentMode.
	Installments InstallmentSetting `json:"installments"`
	// CompletedStatus is 注文ステータス (SET-12): processing (default) or
	// completed; the rule that still gives processing is CARD-15.
	CompletedStatus OrderStatus `json:"completed_status"`
}

// InstallmentMode is the mode checkout actually offers: the setting, or
// lump sum only in link type (SET-11). The setting itself is kept so that
// switching link type off again restores the operator's choice.
func (c *CardSettings) InstallmentMode() escott.InstallmentMode {
	if c.LinkType {
		return escott.InstallmentsOff
	}
	return c.Installments.Mode()
}

// CollectionSettings is the online payment collection screen
// (SET-14 … SET-17). There is no store code and no test mode of its own.
type CollectionSettings struct {
	Enabled          bool   `json:"enabled"`
	Title            string `json:"title"`
	Description      string `json:"description"`
	MerchantID       string `json:"merchant_id"`
	MerchantPassTest Secret `json:"merchant_pass_test"`
	MerchantPassProd Secret `json:"merchant_pass_prod"`
	// DueDays is 支払期限日数 (SET-15): 1 … escott.MaxDueDays (design A-03).
	DueDays int `json:"due_days"`
	// FeeEnabled is 「決済手数料を設定する」 (SET-16); FeeRows apply only
	// while it is on, but are kept (and validated) while it is off.
	FeeEnabled bool     `json:"fee_enabled"`
	FeeRows    FeeTable `json:"fee_rows"`
	// CompletedStatus is 注文ステータス after payment (SET-17).
	CompletedStatus OrderStatus `json:"completed_status"`
	// ExpireCancelsOrder cancels the order when a collection expires
	// unpaid (design A-07; default off: the order stays on hold).
	ExpireCancelsOrder bool `json:"expire_cancels_order"`
}

// Fee is the settlement fee to add to an order total (CVS-04): 0 while the
// fee is off or no row matches.
func (c *CollectionSettings) Fee(total int64) int64 {
	if !c.FeeEnabled {
		return 0
	}
	fee, _ := c.FeeRows.FeeFor(total)
	return fee
}

// Default titles and descriptions, the plugins' texts (SET-01, SET-14).
const (
	DefaultCardTitle             = "クレジットカード"
	DefaultCardDescription       = "クレジットカードで支払う"
	DefaultCollectionTitle       = "コンビニ・電子マネー・Pay-easy"
	DefaultCollectionDescription = "コンビニ・電子マネー・Pay-easy で支払う"
	// TestModeNotice follows the description at checkout outside
	// production (SET-01, SET-14), separated by a space.
	TestModeNotice = "※テストモードで稼働中"
	// DefaultTenantID is the store code of a contract with one store.
	DefaultTenantID = "0001"
	// DefaultDueDays is the default 支払期限日数.
	DefaultDueDays = 7
)

// Length limits: generous for any real value, but they keep a document
// from growing without bound.
const (
	MaxTitleLen       = 100  // characters
	MaxDescriptionLen = 1000 // characters
	maxCredentialLen  = 64
	aesMaterialLen    = 16
)

// DefaultSettings returns the settings of a new shop, with the plugins'
// defaults: pro plan, simulator, both methods off, 1Gathering, security
// code and card members on, lump sum only, 7 due days, no fee. The
// simulator default lets a newcomer run everything offline (design §1).
func DefaultSettings() Settings {
	return Settings{
		Plan:        PlanPro,
		Environment: EnvSimulator,
		NotifyLog:   true,
		Card: CardSettings{
			Title:                 DefaultCardTitle,
			Description:           DefaultCardDescription,
			TenantID:              DefaultTenantID,
			SecurityCode:          true,
			Members:               true,
			AlwaysRegister:        true,
			Operation:             escott.OpGathering,
			SubscriptionOperation: escott.OpGathering,
			Installments:          InstallmentsLumpSumOnly,
			CompletedStatus:       OrderProcessing,
		},
		Collection: CollectionSettings{
			Title:           DefaultCollectionTitle,
			Description:     DefaultCollectionDescription,
			DueDays:         DefaultDueDays,
			FeeRows:         FeeTable{},
			CompletedStatus: OrderProcessing,
		},
	}
}

// ParseSettings decodes a stored document over the defaults, so a field
// added in a later version takes its default in documents saved before.
// Unknown fields of the document and its two method objects are ignored
// here (a document written by a newer version during a rolling upgrade
// must still load); fee rows decode strictly (FeeRow.UnmarshalJSON), and
// the API path, Apply, refuses unknown fields everywhere. The result is
// not validated: it was validated when saved, and CardAvailable /
// CollectionAvailable re-check it before checkout offers a method.
func ParseSettings(doc []byte) (Settings, error) {
	s := DefaultSettings()
	if err := json.Unmarshal(doc, &s); err != nil {
		return Settings{}, fmt.Errorf("kessai: settings document: %w", err)
	}
	return s, nil
}

// Secret is a credential inside Settings. It marshals to JSON as its
// value (the stored document needs it; the store seals the document), but
// fmt and log/slog print "[redacted]", so a settings value logged by
// mistake does not leak it. Use Reveal where the value is really needed.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether a value is present.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format makes every fmt verb (%v, %s, %q, %x, %#v, …) print String.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue keeps the value out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// cardPass returns the card password of the environment: the production
// one in production, the test one in test and simulator.
func (s *Settings) cardPass() Secret {
	if s.Environment == EnvProduction {
		return s.Card.MerchantPassProd
	}
	return s.Card.MerchantPassTest
}

func (s *Settings) collectionPass() Secret {
	if s.Environment == EnvProduction {
		return s.Collection.MerchantPassProd
	}
	return s.Collection.MerchantPassTest
}

// EscottEnvironment is the escott environment whose protocol and
// credentials apply: Production only for EnvProduction. The simulator is
// the test environment at another address: the caller sets
// escott.Config.BaseURL when Simulated() is true. Anything unknown maps to
// Test, so a damaged setting can never send real charges.
func (s *Settings) EscottEnvironment() escott.Environment {
	if s.Environment == EnvProduction {
		return escott.Production
	}
	return escott.Test
}

// Simulated reports whether calls go to the built-in simulator.
func (s *Settings) Simulated() bool { return s.Environment == EnvSimulator }

// TestMode reports whether the shop runs outside production, which shows
// the test notice at checkout.
func (s *Settings) TestMode() bool { return s.Environment != EnvProduction }

// CardMerchant returns the card credentials for the current environment.
func (s *Settings) CardMerchant() escott.Merchant {
	return escott.Merchant{MerchantID: s.Card.MerchantID, MerchantPass: s.cardPass().Reveal(), TenantID: s.Card.TenantID}
}

// CollectionMerchant returns the collection credentials for the current
// environment. It has no store code: collection calls do not send one.
func (s *Settings) CollectionMerchant() escott.Merchant {
	return escott.Merchant{MerchantID: s.Collection.MerchantID, MerchantPass: s.collectionPass().Reveal()}
}

// CardCipher returns the cipher of the 3-D Secure and link-type hand-offs.
func (s *Settings) CardCipher() (*escott.Cipher, error) {
	return escott.NewCipher(s.Card.AESKey.Reveal(), s.Card.AESIV.Reveal())
}

// CheckoutText returns the title and description shoppers see for a
// method, with the test notice appended outside production.
func (s *Settings) CheckoutText(m Method) (title, description string) {
	switch m {
	case MethodCard:
		title, description = s.Card.Title, s.Card.Description
	case MethodCollection:
		title, description = s.Collection.Title, s.Collection.Description
	}
	if s.TestMode() {
		if description == "" {
			description = TestModeNotice
		} else {
			description += " " + TestModeNotice
		}
	}
	return title, description
}

// CardAvailable reports whether checkout may offer the card method
// (SET-18) and, when not, why, in Japanese for the admin console (the
// plugins hide the method silently; the shopper still sees nothing). The
// rule is "enabled and the settings valid": Validate requires exactly the
// credentials SET-18 names (merchant ID, the environment's password, the
// token auth code in token type) and more (3DS key and IV, the plan).
func (s *Settings) CardAvailable() (bool, []string) {
	var v ValidationErrors
	s.validateTop(&v)
	s.validateCard(&v)
	return availability(s.Card.Enabled, "クレジットカード決済が有効化されていません。", v)
}

// CollectionAvailable is CardAvailable for online payment collection
// (SET-19).
func (s *Settings) CollectionAvailable() (bool, []string) {
	var v ValidationErrors
	s.validateTop(&v)
	s.validateCollection(&v)
	return availability(s.Collection.Enabled, "オンライン収納代行が有効化されていません。", v)
}

func availability(enabled bool, disabled string, v ValidationErrors) (bool, []string) {
	var reasons []string
	if !enabled {
		reasons = append(reasons, disabled)
	}
	for _, e := range v {
		if !slices.Contains(reasons, e.Ja) {
			reasons = append(reasons, e.Ja)
		}
	}
	return len(reasons) == 0, reasons
}

// Validate checks the whole document (SET-23, design,
// A-20) and returns every problem at once, each with the JSON path of its
// field ("card.merchant_id", "collection.fee_rows[2].to") and a message in
// Japanese and English. Formats are checked always; what a method needs
// to run (credentials of the current environment, token auth code, AES
// material) only while it is enabled, so a shop can be set up step by
// step. Messages never contain a submitted value.
func (s *Settings) Validate() ValidationErrors {
	var v ValidationErrors
	s.validateTop(&v)
	s.validateCard(&v)
	s.validateCollection(&v)
	return v
}

func (s *Settings) validateTop(v *ValidationErrors) {
	switch s.Plan {
	case PlanLight, PlanPro:
	default:
		v.Add("plan", "invalid_choice", "プランは light または pro を選んでください。", `plan must be "light" or "pro"`)
	}
	switch s.Environment {
	case EnvSimulator, EnvTest, EnvProduction:
	default:
		v.Add("environment", "invalid_choice", "環境は simulator、test、production のいずれかを選んでください。", `environment must be "simulator", "test" or "production"`)
	}
}

// envLabel names the environment whose password is needed, in ja and en.
func (s *Settings) envLabel() (ja, en string) {
	if s.Environment == EnvProduction {
		return "本番環境", "production"
	}
	return "テスト環境", "test"
}

func (s *Settings) validateCard(v *ValidationErrors) {
	c := &s.Card
	checkTexts(v, "card", c.Enabled, c.Title, c.Description)
	checkCredentials(v, "card", c.MerchantID, c.MerchantPassTest, c.MerchantPassProd)
	if c.TenantID != "" && (!isDigits(c.TenantID) || len(c.TenantID) > maxCredentialLen) {
		v.Add("card.tenant_id", "invalid_format", "店舗コードは半角数字で入力してください（通常は0001）。", "tenant_id (store code) must be ASCII digits (usually 0001)")
	}
	if c.TokenAuthCode != "" && (!isAlnum(string(c.TokenAuthCode)) || len(c.TokenAuthCode) > maxCredentialLen) {
		v.Add("card.token_auth_code", "invalid_format", "トークン決済認証コードは半角英数字で入力してください。", "token_auth_code must be ASCII letters and digits")
	}
	for _, f := range []struct {
		name, ja string
		val      Secret
	}{{"aes_key", "暗号化キー", c.AESKey}, {"aes_iv", "初期化ベクトル", c.AESIV}} {
		if f.val != "" && (len(f.val) != aesMaterialLen || !isAlnum(string(f.val))) {
			v.Add("card."+f.name, "invalid_format", f.ja+"は半角英数字16文字で入力してください。", f.name+" must be exactly 16 ASCII letters and digits")
		}
	}
	if c.LinkType && s.Plan == PlanLight {
		v.Add("card.link_type", "not_in_plan", "外部リンク型はpro版でのみ利用できます。light版ではトークン決済型をお使いください。", "link type is available on the pro plan only; the light plan uses the token type")
	}
	for _, f := range []struct {
		name, ja string
		val      escott.OperateID
	}{{"operation", "処理区分", c.Operation}, {"subscription_operation", "定期購入処理区分", c.SubscriptionOperation}} {
		if f.val != escott.OpAuth && f.val != escott.OpGathering {
			v.Add("card."+f.name, "invalid_choice", f.ja+"は「与信」(1Auth)または「与信売上計上」(1Gathering)を選んでください。", f.name+` must be "1Auth" or "1Gathering"`)
		}
	}
	switch c.Installments {
	case InstallmentsLumpSumOnly, InstallmentsEnabled, InstallmentsWithBonus:
	default:
		v.Add("card.installments", "invalid_choice", "支払回数の選択が正しくありません。", `installments must be "lump_sum_only", "installments" or "installments_bonus"`)
	}
	checkCompletedStatus(v, "card", c.CompletedStatus)

	if !c.Enabled {
		return
	}
	// What the method needs to run (SET-18, SET-23).
	checkRequiredCredentials(v, s, "card", c.MerchantID, s.cardPass())
	if c.TenantID == "" {
		v.Add("card.tenant_id", "required", "店舗コードを入力してください（通常は0001）。", "tenant_id (store code) is required (usually 0001)")
	}
	if !c.LinkType && c.TokenAuthCode == "" {
		v.Add("card.token_auth_code", "required", "トークン決済型ではトークン決済認証コードが必要です。", "token_auth_code is required with the token type")
	}
	if c.LinkType || c.ThreeDS {
		why, whyEn := "3Dセキュア", "3-D Secure"
		if c.LinkType {
			why, whyEn = "外部リンク型", "the link type"
		}
		if c.AESKey == "" {
			v.Add("card.aes_key", "required", why+"では暗号化キー（半角英数字16文字）が必要です。", "aes_key (16 ASCII letters and digits) is required with "+whyEn)
		}
		if c.AESIV == "" {
			v.Add("card.aes_iv", "required", why+"では初期化ベクトル（半角英数字16文字）が必要です。", "aes_iv (16 ASCII letters and digits) is required with "+whyEn)
		}
	}
}

func (s *Settings) validateCollection(v *ValidationErrors) {
	c := &s.Collection
	checkTexts(v, "collection", c.Enabled, c.Title, c.Description)
	checkCredentials(v, "collection", c.MerchantID, c.MerchantPassTest, c.MerchantPassProd)
	if c.DueDays < 1 || c.DueDays > escott.MaxDueDays {
		v.Add("collection.due_days", "out_of_range",
			fmt.Sprintf("支払期限日数は1から%dまでの整数で入力してください。", escott.MaxDueDays),
			fmt.Sprintf("due_days must be an integer from 1 to %d", escott.MaxDueDays))
	}
	c.FeeRows.validateAt("collection.fee_rows", v)
	if c.FeeEnabled && len(c.FeeRows) == 0 {
		v.Add("collection.fee_rows", "required", "決済手数料を設定する場合は、手数料の行を1行以上入力してください。", "at least one fee row is required while the fee is enabled")
	}
	checkCompletedStatus(v, "collection", c.CompletedStatus)
	if !c.Enabled {
		return
	}
	checkRequiredCredentials(v, s, "collection", c.MerchantID, s.collectionPass())
}

// checkCompletedStatus checks 注文ステータス (SET-12, SET-17).
func checkCompletedStatus(v *ValidationErrors, method string, st OrderStatus) {
	if st != OrderProcessing && st != OrderCompleted {
		v.Add(method+".completed_status", "invalid_choice", "注文ステータスは「処理中」(processing)または「完了」(completed)を選んでください。", `completed_status must be "processing" or "completed"`)
	}
}

func checkTexts(v *ValidationErrors, method string, enabled bool, title, description string) {
	if enabled && strings.TrimSpace(title) == "" {
		v.Add(method+".title", "required", "タイトルを入力してください。", "title is required")
	}
	if utf8.RuneCountInString(title) > MaxTitleLen {
		v.Add(method+".title", "too_long", fmt.Sprintf("タイトルは%d文字以内で入力してください。", MaxTitleLen), fmt.Sprintf("title must be at most %d characters", MaxTitleLen))
	}
	if utf8.RuneCountInString(description) > MaxDescriptionLen {
		v.Add(method+".description", "too_long", fmt.Sprintf("説明は%d文字以内で入力してください。", MaxDescriptionLen), fmt.Sprintf("description must be at most %d characters", MaxDescriptionLen))
	}
}

// checkCredentials checks the formats of SET-04 / SET-14.
func checkCredentials(v *ValidationErrors, method, id string, passTest, passProd Secret) {
	if id != "" && (!isDigits(id) || len(id) > maxCredentialLen) {
		v.Add(method+".merchant_id", "invalid_format", "マーチャントIDは半角数字で入力してください。", "merchant_id must be ASCII digits")
	}
	for _, f := range []struct {
		name, ja string
		val      Secret
	}{{"merchant_pass_test", "テスト環境", passTest}, {"merchant_pass_prod", "本番環境", passProd}} {
		if f.val != "" && (!isAlnum(string(f.val)) || len(f.val) > maxCredentialLen) {
			v.Add(method+"."+f.name, "invalid_format", f.ja+"のマーチャントパスワードは半角英数字で入力してください。", f.name+" must be ASCII letters and digits")
		}
	}
}

// checkRequiredCredentials requires the merchant ID and the password of
// the current environment of an enabled method.
func checkRequiredCredentials(v *ValidationErrors, s *Settings, method, id string, pass Secret) {
	if id == "" {
		v.Add(method+".merchant_id", "required", "マーチャントIDを入力してください。", "merchant_id is required")
	}
	if pass == "" {
		ja, en := s.envLabel()
		field := "merchant_pass_test"
		if s.Environment == EnvProduction {
			field = "merchant_pass_prod"
		}
		v.Add(method+"."+field, "required", ja+"のマーチャントパスワードを入力してください。", "the "+en+" merchant password ("+field+") is required")
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// SecretState is how a secret appears to API clients and the admin
// console: whether it is set and, for merchant passwords and the token
// auth code of at least 8 characters, a hint of its last 2 characters, so
// an operator can tell which of two values is in place (say, the test
// password pasted into the production field) without the value being
// recoverable. AES key and IV never get a hint: they are the encryption
// key itself, and any character shown weakens it.
type SecretState struct {
	Set  bool   `json:"set"`
	Hint string `json:"hint,omitempty"`
}

// secretHintMin is the shortest secret that gets a hint: shorter ones
// would give away too large a share of the value.
const secretHintMin = 8

func stateOf(s Secret, hint bool) SecretState {
	st := SecretState{Set: s != ""}
	if hint && len(s) >= secretHintMin {
		st.Hint = string(s[len(s)-2:])
	}
	return st
}

// RedactedSettings is the JSON view of Settings for API clients: the same
// document with every secret replaced by its SecretState.
type RedactedSettings struct {
	Plan        Plan                       `json:"plan"`
	Environment Env                        `json:"environment"`
	NotifyLog   bool                       `json:"notify_log"`
	Card        RedactedCardSettings       `json:"card"`
	Collection  RedactedCollectionSettings `json:"collection"`
}

// RedactedCardSettings is CardSettings with its secrets redacted.
type RedactedCardSettings struct {
	Enabled               bool               `json:"enabled"`
	Title                 string             `json:"title"`
	Description           string             `json:"description"`
	LinkType              bool               `json:"link_type"`
	MerchantID            string             `json:"merchant_id"`
	MerchantPassTest      SecretState        `json:"merchant_pass_test"`
	MerchantPassProd      SecretState        `json:"merchant_pass_prod"`
	TenantID              string             `json:"tenant_id"`
	TokenAuthCode         SecretState        `json:"token_auth_code"`
	ThreeDS               bool               `json:"three_ds"`
	AESKey                SecretState        `json:"aes_key"`
	AESIV                 SecretState        `json:"aes_iv"`
	SecurityCode          bool               `json:"security_code"`
	Members               bool               `json:"members"`
	AlwaysRegister        bool               `json:"always_register"`
	Operation             escott.OperateID   `json:"operation"`
	SubscriptionOperation escott.OperateID   `json:"subscription_operation"`
	Installments          InstallmentSetting `json:"installments"`
	CompletedStatus       OrderStatus        `json:"completed_status"`
}

// RedactedCollectionSettings is CollectionSettings with its secrets
// redacted.
type RedactedCollectionSettings struct {
	Enabled            bool        `json:"enabled"`
	Title              string      `json:"title"`
	Description        string      `json:"description"`
	MerchantID         string      `json:"merchant_id"`
	MerchantPassTest   SecretState `json:"merchant_pass_test"`
	MerchantPassProd   SecretState `json:"merchant_pass_prod"`
	DueDays            int         `json:"due_days"`
	FeeEnabled         bool        `json:"fee_enabled"`
	FeeRows            FeeTable    `json:"fee_rows"`
	CompletedStatus    OrderStatus `json:"completed_status"`
	ExpireCancelsOrder bool        `json:"expire_cancels_order"`
}

// Redacted returns the settings as API clients may see them.
func (s Settings) Redacted() RedactedSettings {
	c, k := s.Card, s.Collection
	rows := s.clone().Collection.FeeRows
	if rows == nil {
		rows = FeeTable{} // [] rather than null: the table is never "absent"
	}
	return RedactedSettings{
		Plan:        s.Plan,
		Environment: s.Environment,
		NotifyLog:   s.NotifyLog,
		Card: RedactedCardSettings{
			Enabled:               c.Enabled,
			Title:                 c.Title,
			Description:           c.Description,
			LinkType:              c.LinkType,
			MerchantID:            c.MerchantID,
			MerchantPassTest:      stateOf(c.MerchantPassTest, true),
			MerchantPassProd:      stateOf(c.MerchantPassProd, true),
			TenantID:              c.TenantID,
			TokenAuthCode:         stateOf(c.TokenAuthCode, true),
			ThreeDS:               c.ThreeDS,
			AESKey:                stateOf(c.AESKey, false),
			AESIV:                 stateOf(c.AESIV, false),
			SecurityCode:          c.SecurityCode,
			Members:               c.Members,
			AlwaysRegister:        c.AlwaysRegister,
			Operation:             c.Operation,
			SubscriptionOperation: c.SubscriptionOperation,
			Installments:          c.Installments,
			CompletedStatus:       c.CompletedStatus,
		},
		Collection: RedactedCollectionSettings{
			Enabled:            k.Enabled,
			Title:              k.Title,
			Description:        k.Description,
			MerchantID:         k.MerchantID,
			MerchantPassTest:   stateOf(k.MerchantPassTest, true),
			MerchantPassProd:   stateOf(k.MerchantPassProd, true),
			DueDays:            k.DueDays,
			FeeEnabled:         k.FeeEnabled,
			FeeRows:            rows,
			CompletedStatus:    k.CompletedStatus,
			ExpireCancelsOrder: k.ExpireCancelsOrder,
		},
	}
}

// clone returns a deep copy (the fee rows are the only shared memory).
func (s *Settings) clone() Settings {
	c := *s
	if s.Collection.FeeRows != nil {
		c.Collection.FeeRows = make(FeeTable, len(s.Collection.FeeRows))
		for i, r := range s.Collection.FeeRows {
			if r.To != nil {
				to := *r.To
				r.To = &to
			}
			c.Collection.FeeRows[i] = r
		}
	}
	return c
}

// SettingsPatch is a partial update of the settings: a JSON object with the
// shape of the settings document, applied with JSON merge patch semantics
// (RFC 7396) by Settings.Apply.
//
//   - A field that is absent keeps its value; objects merge field by field.
//   - Arrays (fee_rows) are replaced as a whole, as RFC 7396 says.
//   - Secrets are write-only: a string replaces the secret, null clears it,
//     and "" is refused (secret_empty). An HTML form that posts every input
//     would otherwise wipe the stored password with its empty field; to
//     clear, say so with null.
//   - null is refused for every other field: the document is typed and has
//     no "absent" state for them; send the value wanted.
//   - Unknown fields and wrong JSON types are errors naming the field's
//     path, e.g. "card.merchnt_id" or "collection.fee_rows[1].fee".
type SettingsPatch []byte

// Apply merges patch into s (see SettingsPatch), then validates the
// result. On any error s is unchanged and the error is ValidationErrors
// with every problem found: structural ones (unknown fields, wrong types)
// first, and only when there are none, the rules of Validate.
func (s *Settings) Apply(patch SettingsPatch) error {
	next := s.clone()
	var errs ValidationErrors
	mergeStruct(reflect.ValueOf(&next).Elem(), json.RawMessage(patch), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	if v := next.Validate(); len(v) > 0 {
		return v
	}
	*s = next
	return nil
}

var (
	secretType      = reflect.TypeFor[Secret]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	jsonFieldCache  sync.Map // reflect.Type → map[string]int
)

// jsonFields maps the JSON names of a struct's fields to their indexes.
func jsonFields(t reflect.Type) map[string]int {
	if m, ok := jsonFieldCache.Load(t); ok {
		return m.(map[string]int)
	}
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		m[name] = i
	}
	jsonFieldCache.Store(t, m)
	return m
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

func startsWith(raw json.RawMessage, c byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == c
}

func joinPath(path, name string) string {
	switch {
	case path == "":
		return name
	case name == "":
		return path
	}
	return path + "." + name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func unknownFieldError(path string) *Error {
	return FieldError(path, "unknown_field", "この項目は設定にありません。", "unknown field")
}

func typeError(path, ja, en string) *Error {
	return FieldError(path, "invalid_type", ja+"で指定してください。", "must be "+en)
}

// mergeStruct merges the JSON object raw into the struct dst.
func mergeStruct(dst reflect.Value, raw json.RawMessage, path string, errs *ValidationErrors) {
	var m map[string]json.RawMessage
	if !startsWith(raw, '{') || json.Unmarshal(raw, &m) != nil {
		*errs = append(*errs, typeError(path, "オブジェクト", "a JSON object"))
		return
	}
	fields := jsonFields(dst.Type())
	for _, k := range sortedKeys(m) {
		fp := joinPath(path, k)
		i, ok := fields[k]
		if !ok {
			*errs = append(*errs, unknownFieldError(fp))
			continue
		}
		mergeValue(dst.Field(i), m[k], fp, errs)
	}
}

// mergeValue merges raw into one field: secrets by their own rule,
// objects recursively, arrays as a whole, anything else by decoding a
// fresh value (so a failed decode leaves nothing half-written).
func mergeValue(dst reflect.Value, raw json.RawMessage, path string, errs *ValidationErrors) {
	switch {
	case dst.Type() == secretType:
		if isNull(raw) {
			dst.SetString("")
			return
		}
		var v string
		if !startsWith(raw, '"') || json.Unmarshal(raw, &v) != nil {
			*errs = append(*errs, typeError(path, "文字列またはnull（削除）", "a string, or null to clear it"))
			return
		}
		if v == "" {
			errs.Add(path, "secret_empty", "空の値は保存できません。変更しない場合は項目を送らず、削除する場合はnullを送ってください。",
				"an empty secret is refused: omit the field to keep the stored value, send null to clear it")
			return
		}
		dst.SetString(v)
	case isNull(raw):
		errs.Add(path, "null_not_allowed", "この項目にnullは指定できません。", "must not be null")
	case dst.Kind() == reflect.Struct && !reflect.PointerTo(dst.Type()).Implements(unmarshalerType):
		mergeStruct(dst, raw, path, errs)
	case dst.Kind() == reflect.Slice:
		var items []json.RawMessage
		if !startsWith(raw, '[') || json.Unmarshal(raw, &items) != nil {
			*errs = append(*errs, typeError(path, "配列", "a JSON array"))
			return
		}
		out := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, item := range items {
			mergeValue(out.Index(i), item, fmt.Sprintf("%s[%d]", path, i), errs)
		}
		dst.Set(out)
	default:
		v := reflect.New(dst.Type())
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			var fe *Error
			if errors.As(err, &fe) { // from a strict UnmarshalJSON such as FeeRow's
				e := *fe
				e.Field = joinPath(path, fe.Field)
				*errs = append(*errs, &e)
				return
			}
			ja, en := typeName(dst.Type())
			*errs = append(*errs, typeError(path, ja, en))
			return
		}
		dst.Set(v.Elem())
	}
}

// typeName describes the JSON type a field expects.
func typeName(t reflect.Type) (ja, en string) {
	switch t.Kind() {
	case reflect.String:
		return "文字列", "a string"
	case reflect.Bool:
		return "true または false", "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数", "an integer"
	}
	return "正しい形式", "of the right type"
}
