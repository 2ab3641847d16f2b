package kessai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kessai/kessai/escott"
)

// Distinctive secret values, so a leak is easy to find in any output.
const (
	cardPassTest = "CardTestPw8842"
	cardPassProd = "CardProdPw5517"
	tokenCode    = "TokenAuth9931"
	aesKey       = "AesKey0123456789"
	aesIV        = "AesIvX9876543210"
	cvsPassTest  = "CvsTestPw6603"
	cvsPassProd  = "CvsProdPw4471"
)

var allSecrets = []string{cardPassTest, cardPassProd, tokenCode, aesKey, aesIV, cvsPassTest, cvsPassProd}

// filled returns the defaults with both methods enabled and every
// credential set, 3DS on and a fee table: a complete, valid shop.
func filled() Settings {
	s := DefaultSettings()
	s.Card.Enabled = true
	s.Card.MerchantID = "12345"
	s.Card.MerchantPassTest = cardPassTest
	s.Card.MerchantPassProd = cardPassProd
	s.Card.TokenAuthCode = tokenCode
	s.Card.ThreeDS = true
	s.Card.AESKey = aesKey
	s.Card.AESIV = aesIV
	s.Collection.Enabled = true
	s.Collection.MerchantID = "67890"
	s.Collection.MerchantPassTest = cvsPassTest
	s.Collection.MerchantPassProd = cvsPassProd
	s.Collection.FeeEnabled = true
	s.Collection.FeeRows = manualTable()
	return s
}

func TestDefaultSettings(t *testing.T) {
	s := DefaultSettings()
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"plan", s.Plan, PlanPro},
		{"environment", s.Environment, EnvSimulator},
		{"notify_log", s.NotifyLog, true},
		{"card.enabled", s.Card.Enabled, false},
		{"card.title", s.Card.Title, "クレジットカード"},
		{"card.description", s.Card.Description, "クレジットカードで支払う"},
		{"card.link_type", s.Card.LinkType, false},
		{"card.tenant_id", s.Card.TenantID, "0001"},
		{"card.three_ds", s.Card.ThreeDS, false},
		{"card.security_code", s.Card.SecurityCode, true},
		{"card.members", s.Card.Members, true},
		{"card.always_register", s.Card.AlwaysRegister, true},
		{"card.operation", s.Card.Operation, escott.OpGathering},
		{"card.subscription_operation", s.Card.SubscriptionOperation, escott.OpGathering},
		{"card.installments", s.Card.Installments, InstallmentsLumpSumOnly},
		{"card.completed_status", s.Card.CompletedStatus, OrderProcessing},
		{"collection.enabled", s.Collection.Enabled, false},
		{"collection.title", s.Collection.Title, "コンビニ・電子マネー・Pay-easy"},
		{"collection.description", s.Collection.Description, "コンビニ・電子マネー・Pay-easy で支払う"},
		{"collection.due_days", s.Collection.DueDays, 7},
		{"collection.fee_enabled", s.Collection.FeeEnabled, false},
		{"collection.fee_rows", len(s.Collection.FeeRows), 0},
		{"collection.completed_status", s.Collection.CompletedStatus, OrderProcessing},
		{"collection.expire_cancels_order", s.Collection.ExpireCancelsOrder, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Both methods off: nothing is required yet, so the defaults are valid.
	if v := s.Validate(); len(v) != 0 {
		t.Errorf("defaults invalid: %v", v)
	}
	// Enabling a method without credentials is refused …
	s.Card.Enabled = true
	if v := s.Validate(); len(v) == 0 {
		t.Error("enabled card without credentials accepted")
	}
	// … and once credentials are filled, the defaults pass.
	f := filled()
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("filled defaults invalid: %v", v)
	}
	for _, env := range []Env{EnvSimulator, EnvTest, EnvProduction} {
		f.Environment = env
		if v := f.Validate(); len(v) != 0 {
			t.Errorf("%s: %v", env, v)
		}
	}
}

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		field  string
		code   string
	}{
		{"plan", func(s *Settings) { s.Plan = "gold" }, "plan", "invalid_choice"},
		{"environment", func(s *Settings) { s.Environment = "staging" }, "environment", "invalid_choice"},
		{"empty environment", func(s *Settings) { s.Environment = "" }, "environment", "invalid_choice"},

		{"card title required", func(s *Settings) { s.Card.Title = "  " }, "card.title", "required"},
		{"card title too long", func(s *Settings) { s.Card.Title = strings.Repeat("あ", MaxTitleLen+1) }, "card.title", "too_long"},
		{"card description too long", func(s *Settings) { s.Card.Description = strings.Repeat("x", MaxDescriptionLen+1) }, "card.description", "too_long"},
		{"merchant id digits", func(s *Settings) { s.Card.MerchantID = "12a45" }, "card.merchant_id", "invalid_format"},
		{"merchant id full-width digits", func(s *Settings) { s.Card.MerchantID = "１２３" }, "card.merchant_id", "invalid_format"},
		{"merchant id required", func(s *Settings) { s.Card.MerchantID = "" }, "card.merchant_id", "required"},
		{"test password alnum", func(s *Settings) { s.Card.MerchantPassTest = "Secret-Pw!99" }, "card.merchant_pass_test", "invalid_format"},
		{"prod password alnum", func(s *Settings) { s.Card.MerchantPassProd = "Secret Pw 99" }, "card.merchant_pass_prod", "invalid_format"},
		{"prod password alnum while in test", func(s *Settings) { s.Environment = EnvTest; s.Card.MerchantPassProd = "ｐａｓｓ" }, "card.merchant_pass_prod", "invalid_format"},
		{"test password required in simulator", func(s *Settings) { s.Card.MerchantPassTest = "" }, "card.merchant_pass_test", "required"},
		{"test password required in test", func(s *Settings) { s.Environment = EnvTest; s.Card.MerchantPassTest = "" }, "card.merchant_pass_test", "required"},
		{"prod password required in production", func(s *Settings) { s.Environment = EnvProduction; s.Card.MerchantPassProd = "" }, "card.merchant_pass_prod", "required"},
		{"tenant digits", func(s *Settings) { s.Card.TenantID = "000A" }, "card.tenant_id", "invalid_format"},
		{"tenant required", func(s *Settings) { s.Card.TenantID = "" }, "card.tenant_id", "required"},
		{"token code alnum", func(s *Settings) { s.Card.TokenAuthCode = "Token-Code!" }, "card.token_auth_code", "invalid_format"},
		{"token code required in token type", func(s *Settings) { s.Card.TokenAuthCode = "" }, "card.token_auth_code", "required"},
		{"aes key length", func(s *Settings) { s.Card.AESKey = "Short123" }, "card.aes_key", "invalid_format"},
		{"aes key alnum", func(s *Settings) { s.Card.AESKey = "AesKey01234567-9" }, "card.aes_key", "invalid_format"},
		{"aes iv length", func(s *Settings) { s.Card.AESIV = "AesIvX98765432100" }, "card.aes_iv", "invalid_format"},
		{"aes key required with 3ds", func(s *Settings) { s.Card.AESKey = "" }, "card.aes_key", "required"},
		{"aes iv required with 3ds", func(s *Settings) { s.Card.AESIV = "" }, "card.aes_iv", "required"},
		{"aes key required with link type", func(s *Settings) { s.Card.ThreeDS = false; s.Card.LinkType = true; s.Card.AESKey = "" }, "card.aes_key", "required"},
		{"light plan refuses link type", func(s *Settings) { s.Plan = PlanLight; s.Card.LinkType = true }, "card.link_type", "not_in_plan"},
		{"light plan refuses link type while disabled", func(s *Settings) { s.Plan = PlanLight; s.Card.Enabled = false; s.Card.LinkType = true }, "card.link_type", "not_in_plan"},
		{"operation", func(s *Settings) { s.Card.Operation = escott.OpCapture }, "card.operation", "invalid_choice"},
		{"subscription operation", func(s *Settings) { s.Card.SubscriptionOperation = "" }, "card.subscription_operation", "invalid_choice"},
		{"installments", func(s *Settings) { s.Card.Installments = "twelve" }, "card.installments", "invalid_choice"},
		{"card completed status", func(s *Settings) { s.Card.CompletedStatus = OrderCancelled }, "card.completed_status", "invalid_choice"},

		{"collection title required", func(s *Settings) { s.Collection.Title = "" }, "collection.title", "required"},
		{"collection merchant id digits", func(s *Settings) { s.Collection.MerchantID = "ABC" }, "collection.merchant_id", "invalid_format"},
		{"collection merchant id required", func(s *Settings) { s.Collection.MerchantID = "" }, "collection.merchant_id", "required"},
		{"collection password alnum", func(s *Settings) { s.Collection.MerchantPassTest = "ぱすわーど１" }, "collection.merchant_pass_test", "invalid_format"},
		{"collection test password required", func(s *Settings) { s.Collection.MerchantPassTest = "" }, "collection.merchant_pass_test", "required"},
		{"collection prod password required in production", func(s *Settings) { s.Environment = EnvProduction; s.Collection.MerchantPassProd = "" }, "collection.merchant_pass_prod", "required"},
		{"due days zero", func(s *Settings) { s.Collection.DueDays = 0 }, "collection.due_days", "out_of_range"},
		{"due days 61", func(s *Settings) { s.Collection.DueDays = escott.MaxDueDays + 1 }, "collection.due_days", "out_of_range"},
		{"due days negative", func(s *Settings) { s.Collection.DueDays = -7 }, "collection.due_days", "out_of_range"},
		{"fee row to below from", func(s *Settings) { s.Collection.FeeRows[2].To = yen(5000) }, "collection.fee_rows[2].to", "out_of_range"},
		{"fee rows required when enabled", func(s *Settings) { s.Collection.FeeRows = nil }, "collection.fee_rows", "required"},
		{"fee row overlap", func(s *Settings) { s.Collection.FeeRows[1].From = 1000 }, "collection.fee_rows[1].from", "overlap"},
		{"fee row negative fee", func(s *Settings) { s.Collection.FeeRows[2].Fee = -1 }, "collection.fee_rows[2].fee", "out_of_range"},
		{"fee rows checked while the fee is off", func(s *Settings) { s.Collection.FeeEnabled = false; s.Collection.FeeRows[0].From = -1 }, "collection.fee_rows[0].from", "out_of_range"},
		{"collection completed status", func(s *Settings) { s.Collection.CompletedStatus = "" }, "collection.completed_status", "invalid_choice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := filled()
			c.mutate(&s)
			v := s.Validate()
			if len(v) == 0 {
				t.Fatal("accepted")
			}
			assertBilingual(t, v)
			found := false
			for _, e := range v {
				if e.Field == c.field && e.Code == c.code {
					found = true
				}
				msg := e.Ja + "\n" + e.En + "\n" + e.Error()
				for _, secret := range append(slices.Clone(allSecrets), "Secret-Pw!99", "Secret Pw 99", "Token-Code!", "Short123", "AesKey01234567-9", "ぱすわーど１") {
					if strings.Contains(msg, secret) {
						t.Errorf("message of %s contains a secret value: %q", e.Field, msg)
					}
				}
			}
			if !found {
				t.Errorf("no %s error on %s; got %v", c.code, c.field, fields(v))
			}
		})
	}
}

func fields(v ValidationErrors) []string {
	var out []string
	for _, e := range v {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

// TestValidateDisabledNeedsNoCredentials: a disabled method may be saved
// half set up (formats are still checked).
func TestValidateDisabledNeedsNoCredentials(t *testing.T) {
	s := DefaultSettings()
	s.Card.MerchantID = "12345"
	s.Card.ThreeDS = true
	s.Collection.DueDays = 60
	if v := s.Validate(); len(v) != 0 {
		t.Errorf("disabled methods: %v", v)
	}
	// Link type needs no token auth code; 3DS without link type keeps its
	// need for AES material.
	f := filled()
	f.Card.LinkType = true
	f.Card.ThreeDS = false
	f.Card.TokenAuthCode = ""
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("link type without token code: %v", v)
	}
	// Token type without 3DS needs no AES material.
	f = filled()
	f.Card.ThreeDS = false
	f.Card.AESKey, f.Card.AESIV = "", ""
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("token type without 3DS: %v", v)
	}
	// Light plan, token type: fine.
	f = filled()
	f.Plan = PlanLight
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("light plan: %v", v)
	}
	// Only the current environment's password is required.
	f = filled()
	f.Card.MerchantPassProd, f.Collection.MerchantPassProd = "", ""
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("simulator without production passwords: %v", v)
	}
	f.Environment = EnvProduction
	f.Card.MerchantPassProd, f.Collection.MerchantPassProd = cardPassProd, cvsPassProd
	f.Card.MerchantPassTest, f.Collection.MerchantPassTest = "", ""
	if v := f.Validate(); len(v) != 0 {
		t.Errorf("production without test passwords: %v", v)
	}
}

func TestEnvironmentChoosesPassword(t *testing.T) {
	s := filled()
	cases := []struct {
		env       Env
		escott    escott.Environment
		card, cvs string
		simulated bool
	}{
		{EnvSimulator, escott.Test, cardPassTest, cvsPassTest, true},
		{EnvTest, escott.Test, cardPassTest, cvsPassTest, false},
		{EnvProduction, escott.Production, cardPassProd, cvsPassProd, false},
		{"bogus", escott.Test, cardPassTest, cvsPassTest, false}, // never production by accident
	}
	for _, c := range cases {
		s.Environment = c.env
		if got := s.EscottEnvironment(); got != c.escott {
			t.Errorf("%s: escott environment %v", c.env, got)
		}
		if s.Simulated() != c.simulated {
			t.Errorf("%s: Simulated = %v", c.env, s.Simulated())
		}
		cm := s.CardMerchant()
		if cm.MerchantID != "12345" || cm.MerchantPass != c.card || cm.TenantID != "0001" {
			t.Errorf("%s: card merchant %+v", c.env, cm)
		}
		vm := s.CollectionMerchant()
		if vm.MerchantID != "67890" || vm.MerchantPass != c.cvs || vm.TenantID != "" {
			t.Errorf("%s: collection merchant %+v", c.env, vm)
		}
	}
}

func TestHelpers(t *testing.T) {
	s := filled()
	title, desc := s.CheckoutText(MethodCard)
	if title != "クレジットカード" || desc != "クレジットカードで支払う ※テストモードで稼働中" {
		t.Errorf("simulator card text %q / %q", title, desc)
	}
	s.Environment = EnvProduction
	if _, desc := s.CheckoutText(MethodCollection); desc != "コンビニ・電子マネー・Pay-easy で支払う" {
		t.Errorf("production collection text %q", desc)
	}
	if s.TestMode() {
		t.Error("production is test mode")
	}

	s.Card.Installments = InstallmentsWithBonus
	if s.Card.InstallmentMode() != escott.InstallmentsAndBonus {
		t.Error("installments with bonus")
	}
	s.Card.LinkType = true
	if s.Card.InstallmentMode() != escott.InstallmentsOff {
		t.Error("link type must be lump sum only (SET-11)")
	}
	for in, want := range map[InstallmentSetting]escott.InstallmentMode{
		InstallmentsLumpSumOnly: escott.InstallmentsOff, InstallmentsEnabled: escott.Installments,
		InstallmentsWithBonus: escott.InstallmentsAndBonus, "": escott.InstallmentsOff,
	} {
		if in.Mode() != want {
			t.Errorf("%q.Mode() = %v", in, in.Mode())
		}
	}

	if fee := s.Collection.Fee(1101); fee != 330 {
		t.Errorf("fee %d", fee)
	}
	s.Collection.FeeEnabled = false
	if fee := s.Collection.Fee(1101); fee != 0 {
		t.Errorf("fee while off %d", fee)
	}

	c, err := s.CardCipher()
	if err != nil {
		t.Fatal(err)
	}
	if enc := c.EncryptString("x"); enc == "" {
		t.Error("cipher")
	}
	s.Card.AESKey = ""
	if _, err := s.CardCipher(); err == nil {
		t.Error("cipher without a key")
	}
}

func TestAvailability(t *testing.T) {
	s := filled()
	if ok, why := s.CardAvailable(); !ok || len(why) != 0 {
		t.Errorf("card: %v %v", ok, why)
	}
	if ok, why := s.CollectionAvailable(); !ok || len(why) != 0 {
		t.Errorf("collection: %v %v", ok, why)
	}

	d := DefaultSettings()
	ok, why := d.CardAvailable()
	if ok || len(why) != 1 || !strings.Contains(why[0], "有効化されていません") {
		t.Errorf("disabled card: %v %q", ok, why)
	}
	if ok, why := d.CollectionAvailable(); ok || len(why) != 1 {
		t.Errorf("disabled collection: %v %q", ok, why)
	}

	// SET-18: missing credentials or token code hide the method, with reasons.
	s.Card.TokenAuthCode = ""
	s.Card.MerchantPassTest = ""
	ok, why = s.CardAvailable()
	if ok || len(why) != 2 {
		t.Fatalf("card without token code and password: %v %q", ok, why)
	}
	joined := strings.Join(why, "\n")
	if !strings.Contains(joined, "トークン決済認証コード") || !strings.Contains(joined, "マーチャントパスワード") {
		t.Errorf("reasons %q", why)
	}
	// Card problems do not make collection unavailable.
	if ok, _ := s.CollectionAvailable(); !ok {
		t.Error("collection hidden by a card problem")
	}
	// SET-19: production without the production password.
	s = filled()
	s.Environment = EnvProduction
	s.Collection.MerchantPassProd = ""
	ok, why = s.CollectionAvailable()
	if ok || len(why) != 1 || !strings.Contains(why[0], "本番環境") {
		t.Errorf("collection in production without its password: %v %q", ok, why)
	}
	// Light plan with link type (a document from before a plan change).
	s = filled()
	s.Plan = PlanLight
	s.Card.LinkType = true
	if ok, why := s.CardAvailable(); ok || !strings.Contains(strings.Join(why, ""), "pro版") {
		t.Errorf("light + link type: %v %q", ok, why)
	}
}

func TestRedactedNeverContainsSecrets(t *testing.T) {
	s := filled()
	out, err := json.Marshal(s.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range allSecrets {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("redacted JSON contains %q: %s", secret, out)
		}
	}
	var top map[string]any
	if err := json.Unmarshal(out, &top); err != nil {
		t.Fatal(err)
	}
	doc := map[string]map[string]any{"card": top["card"].(map[string]any), "collection": top["collection"].(map[string]any)}
	want := map[string]any{"set": true, "hint": "42"}
	if got := doc["card"]["merchant_pass_test"]; !reflect.DeepEqual(got, want) {
		t.Errorf("merchant_pass_test = %v, want %v", got, want)
	}
	for _, f := range []string{"aes_key", "aes_iv"} {
		if got := doc["card"][f]; !reflect.DeepEqual(got, map[string]any{"set": true}) {
			t.Errorf("%s = %v: AES material must have no hint", f, got)
		}
	}
	if got := doc["card"]["token_auth_code"]; !reflect.DeepEqual(got, map[string]any{"set": true, "hint": "31"}) {
		t.Errorf("token_auth_code = %v", got)
	}
	if doc["collection"]["fee_rows"] == nil {
		t.Error("fee rows missing from the redacted view")
	}

	// Unset and short secrets.
	s.Card.MerchantPassProd = ""
	s.Collection.MerchantPassTest = "short7x"
	r := s.Redacted()
	if r.Card.MerchantPassProd != (SecretState{}) {
		t.Errorf("unset secret: %+v", r.Card.MerchantPassProd)
	}
	if r.Collection.MerchantPassTest != (SecretState{Set: true}) {
		t.Errorf("short secret must have no hint: %+v", r.Collection.MerchantPassTest)
	}
	// The redacted view shares no memory with the settings.
	r.Collection.FeeRows[0].Fee = 999
	*r.Collection.FeeRows[0].To = 1
	if s.Collection.FeeRows[0].Fee != 0 || *s.Collection.FeeRows[0].To != 1100 {
		t.Error("redacted view aliases the fee table")
	}
	if r := DefaultSettings().Redacted(); r.Collection.FeeRows == nil {
		t.Error("fee_rows should be [] not null")
	}
}

// TestRedactedMirrorsSettings keeps the two structs in step: the same JSON
// keys at every level, secrets (and only they) turned into SecretState.
func TestRedactedMirrorsSettings(t *testing.T) {
	pairs := []struct{ plain, red reflect.Type }{
		{reflect.TypeFor[Settings](), reflect.TypeFor[RedactedSettings]()},
		{reflect.TypeFor[CardSettings](), reflect.TypeFor[RedactedCardSettings]()},
		{reflect.TypeFor[CollectionSettings](), reflect.TypeFor[RedactedCollectionSettings]()},
	}
	for _, p := range pairs {
		pf, rf := jsonFields(p.plain), jsonFields(p.red)
		if p.plain.NumField() != len(pf) {
			t.Errorf("%v: a field has no JSON name", p.plain)
		}
		if !reflect.DeepEqual(sortedKeys(pf), sortedKeys(rf)) {
			t.Errorf("%v / %v keys differ:\n%v\n%v", p.plain, p.red, sortedKeys(pf), sortedKeys(rf))
			continue
		}
		for name, i := range pf {
			pt, rt := p.plain.Field(i).Type, p.red.Field(rf[name]).Type
			switch {
			case pt == secretType && rt != reflect.TypeFor[SecretState]():
				t.Errorf("%s: secret shown as %v", name, rt)
			case pt != secretType && pt.Kind() != reflect.Struct && pt != rt:
				t.Errorf("%s: %v vs %v", name, pt, rt)
			}
		}
	}
	// And the values carry over: un-redact by hand and compare.
	s := filled()
	r := s.Redacted()
	rs, _ := json.Marshal(r)
	var back map[string]any
	_ = json.Unmarshal(rs, &back)
	ps, _ := json.Marshal(s)
	var plain map[string]any
	_ = json.Unmarshal(ps, &plain)
	for _, m := range []string{"card", "collection"} {
		for k, v := range plain[m].(map[string]any) {
			rv := back[m].(map[string]any)[k]
			if _, isSecret := rv.(map[string]any); isSecret {
				continue
			}
			if !reflect.DeepEqual(v, rv) {
				t.Errorf("%s.%s: %v vs %v", m, k, v, rv)
			}
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	s := filled()
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("settings", "card_pass", s.Card.MerchantPassTest, "aes", s.Card.AESKey)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("settings", "pass", s.Collection.MerchantPassProd)
	out := fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s.Card.AESKey, s.Card.AESIV, s.Card.TokenAuthCode, s.Card.MerchantPassProd) + buf.String()
	for _, secret := range allSecrets {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("printed output contains %q", secret)
		}
	}
	if !strings.Contains(out, "[redacted]") {
		t.Error("no [redacted] marker in printed output")
	}
	if Secret("").String() != "" || !Secret("x").IsSet() || Secret("abc").Reveal() != "abc" {
		t.Error("Secret helpers")
	}
	// Storage needs the values: the document marshals them.
	doc, _ := json.Marshal(s)
	if !bytes.Contains(doc, []byte(cardPassProd)) {
		t.Error("stored document lost a secret")
	}
}

func TestParseSettings(t *testing.T) {
	s := filled()
	doc, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSettings(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, s)
	}
	// An old document without newer fields gets their defaults; unknown
	// fields of a newer version are ignored.
	back, err = ParseSettings([]byte(`{"plan":"light","card":{"enabled":true},"future_field":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if back.Plan != PlanLight || !back.Card.Enabled || back.Card.TenantID != "0001" || back.Collection.DueDays != 7 || back.Environment != EnvSimulator {
		t.Errorf("partial document: %+v", back)
	}
	if _, err := ParseSettings([]byte(`{"plan":`)); err == nil {
		t.Error("broken document accepted")
	}
}

func applyErr(t *testing.T, s *Settings, patch string) ValidationErrors {
	t.Helper()
	before := s.clone()
	err := s.Apply(SettingsPatch(patch))
	if err == nil {
		t.Fatalf("patch %s accepted", patch)
	}
	var v ValidationErrors
	if !errors.As(err, &v) {
		t.Fatalf("patch %s: error %T %v, want ValidationErrors", patch, err, err)
	}
	if !reflect.DeepEqual(*s, before) {
		t.Errorf("patch %s: settings changed despite the error", patch)
	}
	assertBilingual(t, v)
	return v
}

func hasError(v ValidationErrors, field, code string) bool {
	for _, e := range v {
		if e.Field == field && e.Code == code {
			return true
		}
	}
	return false
}

func TestApplyMerges(t *testing.T) {
	s := filled()
	err := s.Apply(SettingsPatch(`{
		"environment": "test",
		"card": {"title": "カード払い", "merchant_pass_prod": "NewProdPw1234", "installments": "installments"},
		"collection": {"due_days": 14, "fee_rows": [{"from": 0, "to": "*", "fee": 220}]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := filled()
	want.Environment = EnvTest
	want.Card.Title = "カード払い"
	want.Card.MerchantPassProd = "NewProdPw1234"
	want.Card.Installments = InstallmentsEnabled
	want.Collection.DueDays = 14
	want.Collection.FeeRows = FeeTable{{From: 0, Fee: 220}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("after patch:\n got %+v\nwant %+v", s, want)
	}
	// Absent secrets kept.
	if s.Card.MerchantPassTest != cardPassTest || s.Card.AESKey != aesKey || s.Collection.MerchantPassProd != cvsPassProd {
		t.Error("absent secrets changed")
	}
	// An empty patch changes nothing.
	if err := s.Apply(SettingsPatch(`{}`)); err != nil || !reflect.DeepEqual(s, want) {
		t.Errorf("empty patch: %v", err)
	}
	// null clears a secret (here one the current environment does not need).
	if err := s.Apply(SettingsPatch(`{"card":{"merchant_pass_prod":null}}`)); err != nil {
		t.Fatal(err)
	}
	if s.Card.MerchantPassProd != "" {
		t.Error("null did not clear the secret")
	}
	// Turning the fee off keeps the rows; [] clears them.
	if err := s.Apply(SettingsPatch(`{"collection":{"fee_enabled":false}}`)); err != nil || len(s.Collection.FeeRows) != 1 {
		t.Errorf("fee off: %v %v", err, s.Collection.FeeRows)
	}
	if err := s.Apply(SettingsPatch(`{"collection":{"fee_rows":[]}}`)); err != nil || len(s.Collection.FeeRows) != 0 {
		t.Errorf("fee rows cleared: %v %v", err, s.Collection.FeeRows)
	}
}

func TestApplyRejects(t *testing.T) {
	cases := []struct {
		name, patch, field, code string
	}{
		{"unknown top-level field", `{"currency":"USD"}`, "currency", "unknown_field"},
		{"unknown nested field", `{"card":{"merchnt_id":"1"}}`, "card.merchnt_id", "unknown_field"},
		{"unknown fee row field", `{"collection":{"fee_rows":[{"from":0,"to":1,"fee":0},{"from":2,"fee":1,"tax":10}]}}`, "collection.fee_rows[1].tax", "unknown_field"},
		{"licence key is not a setting", `{"card":{"auth_key":"123"}}`, "card.auth_key", "unknown_field"},
		{"string for bool", `{"card":{"enabled":"yes"}}`, "card.enabled", "invalid_type"},
		{"string for int", `{"collection":{"due_days":"7"}}`, "collection.due_days", "invalid_type"},
		{"fraction for int", `{"collection":{"due_days":7.5}}`, "collection.due_days", "invalid_type"},
		{"number for string", `{"card":{"merchant_id":12345}}`, "card.merchant_id", "invalid_type"},
		{"number for secret", `{"card":{"merchant_pass_test":1234}}`, "card.merchant_pass_test", "invalid_type"},
		{"array for object", `{"card":[]}`, "card", "invalid_type"},
		{"object for array", `{"collection":{"fee_rows":{"from":0}}}`, "collection.fee_rows", "invalid_type"},
		{"fee as fraction", `{"collection":{"fee_rows":[{"from":0,"to":null,"fee":1.5}]}}`, "collection.fee_rows[0].fee", "invalid_type"},
		{"fee row to text", `{"collection":{"fee_rows":[{"from":0,"to":"1100","fee":0}]}}`, "collection.fee_rows[0].to", "invalid_type"},
		{"fee row null", `{"collection":{"fee_rows":[null]}}`, "collection.fee_rows[0]", "null_not_allowed"},
		{"null for a plain field", `{"card":{"title":null}}`, "card.title", "null_not_allowed"},
		{"null for an object", `{"card":null}`, "card", "null_not_allowed"},
		{"empty secret", `{"card":{"token_auth_code":""}}`, "card.token_auth_code", "secret_empty"},
		{"not an object", `[1,2]`, "", "invalid_type"},
		{"not JSON", `{"card":`, "", "invalid_type"},
		// Rules of Validate run after the merge.
		{"due days out of range", `{"collection":{"due_days":61}}`, "collection.due_days", "out_of_range"},
		{"light plan refuses link type", `{"plan":"light","card":{"link_type":true}}`, "card.link_type", "not_in_plan"},
		{"clearing a needed secret", `{"card":{"merchant_pass_test":null}}`, "card.merchant_pass_test", "required"},
		{"production without its password", `{"environment":"production","card":{"merchant_pass_prod":null}}`, "card.merchant_pass_prod", "required"},
		{"overlapping fee rows", `{"collection":{"fee_rows":[{"from":0,"to":100,"fee":0},{"from":100,"to":"","fee":5}]}}`, "collection.fee_rows[1].from", "overlap"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := filled()
			v := applyErr(t, &s, c.patch)
			if !hasError(v, c.field, c.code) {
				t.Errorf("want %s on %q, got %v", c.code, c.field, fields(v))
			}
		})
	}

	// Several problems are reported together, in a stable order, and the
	// values sent never appear in the messages.
	s := filled()
	v := applyErr(t, &s, `{"zzz":1,"card":{"enabled":"SecretLooking1","aes_key":42},"aaa":2}`)
	got := fields(v)
	want := []string{"aaa:unknown_field", "card.aes_key:invalid_type", "card.enabled:invalid_type", "zzz:unknown_field"}
	if !slices.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	for _, e := range v {
		if strings.Contains(e.Ja+e.En+e.Error(), "SecretLooking1") {
			t.Errorf("message echoes the value: %v", e)
		}
	}
}

// TestApplyLightPlanSwitch: switching to light is possible once link type
// is off, in the same patch.
func TestApplyLightPlanSwitch(t *testing.T) {
	s := filled()
	s.Card.LinkType = true
	if v := s.Validate(); len(v) != 0 {
		t.Fatal(v)
	}
	applyErr(t, &s, `{"plan":"light"}`)
	if err := s.Apply(SettingsPatch(`{"plan":"light","card":{"link_type":false}}`)); err != nil {
		t.Fatal(err)
	}
	if s.Plan != PlanLight || s.Card.LinkType {
		t.Errorf("%+v", s)
	}
}

// TestApplyEveryField: every field of the document can be set through a
// patch (the walker knows the whole schema).
func TestApplyEveryField(t *testing.T) {
	s := DefaultSettings()
	patch := `{
		"plan":"pro","environment":"production","notify_log":false,
		"card":{"enabled":true,"title":"T","description":"D","link_type":true,"merchant_id":"1",
			"merchant_pass_test":"a1","merchant_pass_prod":"b2","tenant_id":"0002","token_auth_code":"c3",
			"three_ds":true,"aes_key":"0123456789abcdef","aes_iv":"fedcba9876543210","security_code":false,
			"members":false,"always_register":false,"operation":"1Auth","subscription_operation":"1Auth",
			"installments":"installments_bonus","completed_status":"completed"},
		"collection":{"enabled":true,"title":"T2","description":"D2","merchant_id":"2","merchant_pass_test":"d4",
			"merchant_pass_prod":"e5","due_days":60,"fee_enabled":true,"fee_rows":[{"from":0,"to":null,"fee":1}],
			"completed_status":"completed","expire_cancels_order":true}
	}`
	if err := s.Apply(SettingsPatch(patch)); err != nil {
		t.Fatal(err)
	}
	// Marshal back and compare with the patch: every key must round-trip.
	var want, got map[string]any
	_ = json.Unmarshal([]byte(patch), &want)
	doc, _ := json.Marshal(s)
	_ = json.Unmarshal(doc, &got)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("document after a full patch:\n got %v\nwant %v", got, want)
	}
	var keys []string
	for k := range got["card"].(map[string]any) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != reflect.TypeFor[CardSettings]().NumField() {
		t.Errorf("card keys %v", keys)
	}
}

// FuzzApply: no patch makes Apply panic; a patch that is accepted leaves
// valid settings that survive storage; a refused one changes nothing.
func FuzzApply(f *testing.F) {
	f.Add(`{}`)
	f.Add(`{"card":{"title":"x","merchant_pass_test":null}}`)
	f.Add(`{"collection":{"fee_rows":[{"from":0,"to":"*","fee":1}],"due_days":3}}`)
	f.Add(`{"collection":{"fee_rows":[{"from":0,"to":1,"fee":0},{"from":2,"to":"","fee":5}]}}`)
	f.Add(`{"plan":"light","card":{"link_type":false},"environment":"production"}`)
	f.Add(`{"card":{"aes_key":"","enabled":"yes"},"x":null}`)
	f.Add(`[{"a":1}]`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, patch string) {
		s := filled()
		before := s.clone()
		err := s.Apply(SettingsPatch(patch))
		if err != nil {
			var v ValidationErrors
			if !errors.As(err, &v) || len(v) == 0 {
				t.Fatalf("error %T %v", err, err)
			}
			if !reflect.DeepEqual(s, before) {
				t.Fatal("refused patch changed the settings")
			}
			return
		}
		if v := s.Validate(); len(v) != 0 {
			t.Fatalf("accepted patch left invalid settings: %v", v)
		}
		doc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSettings(doc)
		if err != nil || !reflect.DeepEqual(back, s) {
			t.Fatalf("stored document does not round-trip: %v", err)
		}
	})
}
