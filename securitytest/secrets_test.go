package securitytest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kessai/kessai/escott/sim"
)

// corpus is everything kessai showed to anyone during a test: API answers,
// console pages, error pages, and (added at the end) its own output.
type corpus struct {
	items []corpusItem
}

type corpusItem struct {
	name string
	body []byte
}

func (c *corpus) add(name string, a *answer) *answer {
	c.items = append(c.items, corpusItem{name, a.Body})
	return a
}

func (c *corpus) addBytes(name string, b []byte) {
	c.items = append(c.items, corpusItem{name, b})
}

// leak returns the part of secret found in hay: the secret itself, or for
// a long random one any 8 characters of it in a row (a secret shown in
// part — say, all but a mask of its last characters — is shown). The
// last-2-character hints of docs/api.md are shorter than that.
func leak(hay []byte, secret string, window int) string {
	if window <= 0 || window > len(secret) {
		window = len(secret)
	}
	for i := 0; i+window <= len(secret); i++ {
		if bytes.Contains(hay, []byte(secret[i:i+window])) {
			return secret[i : i+window]
		}
	}
	return ""
}

// check fails the test for every item that shows any of secrets.
func (c *corpus) check(t *testing.T, secrets map[string]string, window int) {
	t.Helper()
	for _, it := range c.items {
		for label, s := range secrets {
			if part := leak(it.body, s, window); part != "" {
				i := bytes.Index(it.body, []byte(part))
				lo, hi := max(0, i-120), min(len(it.body), i+len(part)+120)
				t.Errorf("%s shows the %s (%q of %q):\n…%s…", it.name, label, part, s, it.body[lo:hi])
			}
		}
	}
}

// consoleGet reads a console page into the corpus, requiring 200.
func (c *corpus) consoleGet(t *testing.T, in *instance, b *browser, path string) *answer {
	t.Helper()
	a := c.add("console "+path, b.get(t, in.API+path))
	if a.Status != http.StatusOK {
		t.Errorf("console %s: HTTP %d", path, a.Status)
	}
	return a
}

// TestSettingsSecretsNeverLeave: the shop's gateway credentials — merchant
// passwords (card and collection, test and production), the token auth
// code, the AES key and IV — and the gateway's per-payment ProcessPass are
// write-only (docs/console.md "Secrets … are never sent to the browser, not
// even in part"; settings.go "Secrets are write-only through the API"). This
// test uses them the way a shop does — payments with the diagnostic log on,
// collections, the console's live references — and then searches every
// answer of the API and the console, every error answer (including refused
// settings changes that carry new secrets), and kessai's whole log and
// output for them. Finally it checks the database files hold none of them in
// plain text (README: settings are "stored encrypted").
//
// The token auth code is the one credential the gateway's design makes
// public: the hosted checkout page must put it in the URL of the gateway's
// token script, so that page is not searched for it.
func TestSettingsSecretsNeverLeave(t *testing.T) {
	t.Parallel()
	in := start(t)
	var seen corpus
	admin := newBrowser(t)
	csrf := in.loginConsole(t, admin, in.AdminLogin, in.AdminPassword)

	// Phase 1: the demo merchant's credentials, which the simulator
	// accepts, so real traffic flows: a captured card payment (and live
	// references of it in the API and the console), a collection.
	demo := sim.DemoMerchant
	in.patchSettings(t, map[string]any{"notify_log": true})
	captured := in.createOrder(t, "SECRET-1", 1100, nil)
	var pay struct {
		Status  string  `json:"status"`
		Payment payment `json:"payment"`
	}
	seen.add("POST /pay", in.secret(t, "POST", "/v1/orders/"+captured.ID+"/pay", map[string]any{
		"token": in.simToken(t, "4123000000000300", "8888"), "card_prefix": "412300"}, http.StatusOK, &pay))
	if pay.Status != "succeeded" {
		t.Fatalf("card payment: %+v", pay)
	}
	_, cvs := in.collectionOrder(t, "SECRET-2")
	// The checkout page reveals the token auth code by design; it must not
	// take it anywhere else (the log).
	if a := newBrowser(t).get(t, in.API+"/checkout/"+in.createOrder(t, "SECRET-3", 500, nil).ID); a.Status != http.StatusOK ||
		!bytes.Contains(a.Body, []byte(url.QueryEscape(demo.TokenAuthCode))) {
		t.Errorf("checkout page without the token script's code: %.300s", a)
	}
	seen.add("GET /v1/settings", in.secret(t, "GET", "/v1/settings", nil, http.StatusOK, nil))
	seen.add("GET /v1/payments (card)", in.secret(t, "GET", "/v1/payments/"+pay.Payment.ID, nil, http.StatusOK, nil))
	seen.add("GET /v1/payments/card", in.secret(t, "GET", "/v1/payments/"+pay.Payment.ID+"/card", nil, http.StatusOK, nil))
	seen.add("POST /v1/payments/reference", in.secret(t, "POST", "/v1/payments/"+pay.Payment.ID+"/reference", nil, http.StatusOK, nil))
	seen.add("GET /v1/payments (collection)", in.secret(t, "GET", "/v1/payments/"+cvs.ID, nil, http.StatusOK, nil))
	seen.add("GET /v1/payments/collection", in.secret(t, "GET", "/v1/payments/"+cvs.ID+"/collection", nil, http.StatusOK, nil))
	seen.add("GET /v1/events", in.secret(t, "GET", "/v1/events?limit=100", nil, http.StatusOK, nil))
	for _, p := range []string{"/admin/", "/admin/orders", "/admin/orders/" + captured.ID,
		"/admin/orders/" + captured.ID + "/payment?payment=" + pay.Payment.ID, // runs a live 1Search
		"/admin/orders/" + cvs.OrderID + "/payment?payment=" + cvs.ID,         // runs a live 2Ref
		"/admin/logs", "/admin/settings/card", "/admin/settings/collection", "/admin/settings/golive", "/admin/webhooks/events"} {
		seen.consoleGet(t, in, admin, p)
	}
	// The gateway's handles of these payments (ProcessPass is "a secret,
	// encrypted at rest and never returned by the API").
	var st struct {
		Transactions []struct {
			ProcessPass string `json:"process_pass"`
		} `json:"transactions"`
		Collections []struct {
			ProcessPass string `json:"process_pass"`
		} `json:"collections"`
	}
	in.simJSON(t, "GET", "/_sim/state", nil, &st)
	phase1 := map[string]string{"card test password": demo.TestPass, "production password": demo.ProdPass,
		"AES key": demo.AESKey, "AES IV": demo.AESIV, "token auth code": demo.TokenAuthCode}
	for i, tx := range st.Transactions {
		phase1["ProcessPass of card transaction "+string(rune('1'+i))] = tx.ProcessPass
	}
	for i, c := range st.Collections {
		phase1["ProcessPass of collection "+string(rune('1'+i))] = c.ProcessPass
	}
	if len(st.Transactions) == 0 || len(st.Collections) == 0 {
		t.Fatalf("no gateway traffic to look at: %+v", st)
	}

	// Phase 2: new, random credentials, set through the API.
	fresh := map[string]string{
		"card test password": randomAlnum(24), "card production password": randomAlnum(24),
		"token auth code": randomAlnum(20), "AES key": randomAlnum(16), "AES IV": randomAlnum(16),
		"collection test password": randomAlnum(24), "collection production password": randomAlnum(24),
	}
	var view struct {
		Version  int64 `json:"version"`
		Settings struct {
			Card map[string]json.RawMessage `json:"card"`
		} `json:"settings"`
	}
	seen.add("PATCH /v1/settings", in.secret(t, "PATCH", "/v1/settings", map[string]any{"settings": map[string]any{
		"card": map[string]any{"merchant_pass_test": fresh["card test password"], "merchant_pass_prod": fresh["card production password"],
			"token_auth_code": fresh["token auth code"], "aes_key": fresh["AES key"], "aes_iv": fresh["AES IV"]},
		"collection": map[string]any{"merchant_pass_test": fresh["collection test password"], "merchant_pass_prod": fresh["collection production password"]},
	}}, http.StatusOK, &view))
	// The documented redacted form: set, a 2-character hint for passwords
	// and the token code, nothing at all for the AES key and IV.
	for field, want := range map[string]string{
		"merchant_pass_test": `{"set":true,"hint":"` + last2(fresh["card test password"]) + `"}`,
		"token_auth_code":    `{"set":true,"hint":"` + last2(fresh["token auth code"]) + `"}`,
		"aes_key":            `{"set":true}`, "aes_iv": `{"set":true}`,
	} {
		if got := string(view.Settings.Card[field]); got != want {
			t.Errorf("settings.card.%s = %s, want %s", field, got, want)
		}
	}
	version := view.Version

	// Refused changes that carry secrets: the error must not repeat them,
	// and nothing is stored.
	rejected := map[string]string{}
	// A password of digits only is checked whole: 8 random digits in a row
	// could well occur in a log full of timestamps.
	numeric := map[string]string{}
	refusals := []struct {
		name string
		body string
	}{
		{"a password of the wrong format", `{"settings":{"card":{"merchant_pass_test":"` + secretOf(rejected, "wrong-format password", randomAlnum(20)+"-!") + `"}}}`},
		{"an AES key of the wrong length", `{"settings":{"card":{"aes_key":"` + secretOf(rejected, "short AES key", randomAlnum(15)) + `"}}}`},
		{"a password as a JSON number", `{"settings":{"card":{"merchant_pass_prod":` + secretOf(numeric, "numeric password", "7"+randomDigits(15)) + `}}}`},
		{"secrets next to an unknown field", `{"settings":{"card":{"aes_iv":"` + secretOf(rejected, "AES IV next to an unknown field", randomAlnum(16)) + `","no_such_field":1}}}`},
		{"secrets next to an invalid field", `{"settings":{"environment":"mars","card":{"token_auth_code":"` + secretOf(rejected, "token code next to an invalid field", randomAlnum(20)) + `"}}}`},
		{"secrets in malformed JSON", `{"settings":{"collection":{"merchant_pass_test":"` + secretOf(rejected, "password in malformed JSON", randomAlnum(20)) + `",}}}`},
		{"secrets with a stale version", `{"version":0,"settings":{"collection":{"merchant_pass_prod":"` + secretOf(rejected, "password with a stale version", randomAlnum(20)) + `"}}}`},
	}
	for _, r := range refusals {
		req, _ := http.NewRequest("PATCH", in.API+"/v1/settings", strings.NewReader(r.body))
		req.Header.Set("Authorization", "Bearer "+in.SecretKey)
		req.Header.Set("Content-Type", "application/json")
		a := seen.add("PATCH /v1/settings with "+r.name, send(t, plainClient, req))
		if a.Status/100 != 4 {
			t.Errorf("PATCH with %s: %s, want a 4xx", r.name, a)
		}
	}

	// Gateway traffic with credentials the simulator refuses: the errors
	// shown to the shop, and the diagnostic log of the calls.
	o := in.createOrder(t, "SECRET-4", 1100, nil)
	a := seen.add("POST /pay refused by the gateway", in.apiCall(t, "POST", "/v1/orders/"+o.ID+"/pay", "Bearer "+in.SecretKey,
		map[string]any{"token": in.simToken(t, "4123000000000300", "8888"), "card_prefix": "412300"}))
	if a.Status/100 == 2 {
		t.Errorf("a payment with wrong gateway credentials succeeded: %s", a)
	}
	_, body := in.tryCollection(t, "SECRET-5")
	seen.add("POST /collect refused by the gateway", body)
	seen.add("POST /v1/payments/reference (wrong credentials)", in.apiCall(t, "POST", "/v1/payments/"+pay.Payment.ID+"/reference", "Bearer "+in.SecretKey, nil))
	seen.consoleGet(t, in, admin, "/admin/orders/"+captured.ID+"/payment?payment="+pay.Payment.ID)
	seen.consoleGet(t, in, admin, "/admin/logs")

	// The console: the settings pages, and a refused save into which the
	// operator typed new secrets (the form comes back with 422 and asks
	// for them again rather than showing them).
	page := seen.consoleGet(t, in, admin, "/admin/settings/card")
	if !bytes.Contains(page.Body, []byte("設定済み")) {
		t.Errorf("the card settings page does not say the secrets are set (設定済み)")
	}
	typed := map[string]string{"typed card password": randomAlnum(24), "typed token code": randomAlnum(20),
		"typed AES key": randomAlnum(16), "typed AES IV": randomAlnum(16)}
	form := url.Values{"csrf": {csrf}, "version": {versionOf(t, page)}, "environment": {"simulator"}, "plan": {"pro"}, "notify_log": {"1"},
		"card.enabled": {"1"}, "card.merchant_id": {demo.MerchantID}, "card.tenant_id": {"0001"},
		"card.merchant_pass_test": {typed["typed card password"]}, "card.token_auth_code": {typed["typed token code"]},
		"card.aes_key": {typed["typed AES key"]}, "card.aes_iv": {typed["typed AES IV"]},
		"card.aes_iv.delete": {"1"}} // typed and deleted at once: refused before anything is stored
	a = seen.add("console: refused card settings save", admin.post(t, in.API+"/admin/settings/card", form))
	if a.Status != http.StatusUnprocessableEntity {
		t.Errorf("refused settings save: HTTP %d, want 422", a.Status)
	}
	cform := url.Values{"csrf": {csrf}, "version": {"1"}, "environment": {"simulator"}, "plan": {"pro"}, "collection.enabled": {"1"},
		"collection.merchant_id": {"not digits"}, "collection.merchant_pass_prod": {typed["typed card password"]}}
	seen.add("console: refused collection settings save", admin.post(t, in.API+"/admin/settings/collection", cform))
	seen.consoleGet(t, in, admin, "/admin/settings/collection")
	seen.consoleGet(t, in, admin, "/admin/settings/golive")
	var now struct {
		Version int64 `json:"version"`
	}
	seen.add("GET /v1/settings (end)", in.secret(t, "GET", "/v1/settings", nil, http.StatusOK, &now))
	if now.Version != version {
		t.Errorf("settings version %d after refused changes, want %d", now.Version, version)
	}

	// kessai's own output: the structured log at debug level (gateway
	// diagnostics included) and the banner.
	seen.addBytes("kessai's log (stderr)", []byte(in.logs()))
	seen.addBytes("kessai's stdout", []byte(in.stdout.String()))

	// The diagnostic log of gateway calls was on (「ログを保存」) and
	// shows the password field masked: the search above covered it.
	if !strings.Contains(in.logs(), `"MerchantPass":["****"]`) {
		t.Errorf("no masked gateway call in the log: the diagnostic log was not exercised")
	}
	seen.check(t, phase1, 0)
	seen.check(t, numeric, 0)
	all := map[string]string{}
	for _, m := range []map[string]string{fresh, rejected, typed} {
		for k, v := range m {
			all[k] = v
		}
	}
	seen.check(t, all, 8)

	// At rest: the settings document is sealed, so the database files
	// (and the WAL) hold none of the secrets in plain text.
	files := in.atRest(t)
	files.check(t, fresh, 0)
	files.check(t, map[string]string{"card test password": demo.TestPass, "AES key": demo.AESKey}, 0)
	// ProcessPass is "encrypted at rest" too.
	pp := map[string]string{}
	for k, v := range phase1 {
		if strings.HasPrefix(k, "ProcessPass") {
			pp[k] = v
		}
	}
	files.check(t, pp, 0)
}

// atRest reads every file of the instance's data directory (the SQLite
// database, its WAL, the master key file) while it runs: what a stolen
// disk or backup shows.
func (in *instance) atRest(t *testing.T) *corpus {
	t.Helper()
	var files corpus
	err := filepath.WalkDir(in.dataDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files.addBytes("data file "+filepath.Base(p), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &files
}

// tryCollection creates an order and tries to register it for collection,
// whatever the gateway says; it returns the order id and the answer.
func (in *instance) tryCollection(t *testing.T, shopOrderID string) (string, *answer) {
	t.Helper()
	o := in.createOrder(t, shopOrderID, 5500, map[string]any{"billing": map[string]any{
		"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ", "first_name_kana": "タロウ",
		"email": "taro@example.jp", "phone": "090-1234-5678"}})
	return o.ID, in.apiCall(t, "POST", "/v1/orders/"+o.ID+"/collect", "Bearer "+in.SecretKey, map[string]any{})
}

var versionRE = regexp.MustCompile(`name="version" value="(\d+)"`)

func versionOf(t *testing.T, page *answer) string {
	t.Helper()
	m := versionRE.FindSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no version field on the settings page")
	}
	return string(m[1])
}

// secretOf records a secret under label and returns it.
func secretOf(m map[string]string, label, v string) string {
	m[label] = v
	return v
}

func last2(s string) string { return s[len(s)-2:] }

func randomDigits(n int) string {
	s := make([]byte, n)
	for i := range s {
		s[i] = '0' + randomAlnum(1)[0]%10
	}
	return string(s)
}
