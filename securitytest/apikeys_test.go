package securitytest

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The documented answers to a bad key (docs/api.md "Keys", openapi.yaml
// "Authentication"). Messages are checked word for word in both languages:
// they are what a shop's developer reads, and they must not say more.
var (
	msgKeyMissing = [2]string{"API キーがありません。Authorization: Bearer sk_… ヘッダーを付けてください。",
		"No API key. Send the header Authorization: Bearer sk_…."}
	msgKeyInvalid = [2]string{"API キーが正しくありません。", "The API key is invalid."}
	msgKeyExpired = [2]string{"API キーの有効期限が切れています。新しいキーを使用してください。",
		"The API key has expired; use the new key."}
	msgPublishable = [2]string{"公開可能キー（pk_）ではこの API を呼び出せません。シークレットキー（sk_）を使用してください。",
		"A publishable key (pk_) cannot call this endpoint; use the secret key (sk_)."}
)

// endpointClass is one kind of call an attacker may try without a key:
// reads, money-moving and configuration-changing writes.
type endpointClass struct {
	method, path string
	body         any
}

var unauthenticatedTargets = []endpointClass{
	{"GET", "/v1/ping", nil},
	{"GET", "/v1/orders", nil},
	{"POST", "/v1/orders", map[string]any{"shop_order_id": "ATTACK-1", "amount": 1}},
	{"GET", "/v1/settings", nil},
	{"PATCH", "/v1/settings", map[string]any{"settings": map[string]any{"environment": "test"}}},
	{"POST", "/v1/webhook_endpoints", map[string]any{"url": "http://127.0.0.1:9/steal"}},
	{"POST", "/v1/test_clock/advance", map[string]any{"seconds": 86400}},
}

// wantAuthError checks a refused call: the status, the documented type,
// code and message (Japanese by default, English on request), the
// WWW-Authenticate challenge of a 401, and that the presented credential is
// not echoed back.
func wantAuthError(t *testing.T, a *answer, status int, typ, code string, msg [2]string, lang int, presented string) {
	t.Helper()
	if a.Status != status {
		t.Errorf("HTTP %d, want %d: %s", a.Status, status, a.Body)
		return
	}
	if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	e := decodeError(t, a)
	if e.Error.Type != typ || e.Error.Code != code || e.Error.Message != msg[lang] {
		t.Errorf("error %+v, want type %s code %s message %q", e.Error, typ, code, msg[lang])
	}
	if status == http.StatusUnauthorized && a.Header.Get("WWW-Authenticate") != `Bearer realm="kessai"` {
		t.Errorf("WWW-Authenticate %q", a.Header.Get("WWW-Authenticate"))
	}
	if len(presented) > 8 && strings.Contains(string(a.Body), presented) {
		t.Errorf("the answer echoes the presented credential: %s", a.Body)
	}
}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"))
}

// TestAPIRefusesMissingAndWrongKeys: no key, a malformed header, a key
// under the wrong scheme, and keys that were never issued (or are an issued
// one altered) are all 401 with the documented code, on reads and writes
// alike; every invalid key gets the same answer (nothing tells an attacker
// which keys exist); the key is never taken from the URL; nothing changes;
// and no presented key reaches the log.
func TestAPIRefusesMissingAndWrongKeys(t *testing.T) {
	t.Parallel()
	in := start(t)
	sk, pk := in.SecretKey, in.PublishableKey
	before := in.snapshot(t)

	// The key with its last character changed: one character from valid.
	flip := sk[:len(sk)-1] + "A"
	if strings.HasSuffix(sk, "A") {
		flip = sk[:len(sk)-1] + "B"
	}
	cases := []struct {
		name, auth, query string
		code              string
		msg               [2]string
	}{
		{name: "no Authorization header", code: "api_key_missing", msg: msgKeyMissing},
		{name: "the key in the query string", query: "?api_key=" + sk + "&key=" + sk, code: "api_key_missing", msg: msgKeyMissing},
		{name: "the real key without a scheme", auth: sk, code: "api_key_missing", msg: msgKeyMissing},
		{name: "the real key under an unknown scheme", auth: "Token " + sk, code: "api_key_missing", msg: msgKeyMissing},
		{name: "Basic that is not base64", auth: "Basic !!" + sk, code: "api_key_missing", msg: msgKeyMissing},
		{name: "Bearer without a key", auth: "Bearer", code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "a never issued secret key", auth: "Bearer " + fakeKey("sk_"), code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "a never issued key over Basic", auth: basic(fakeKey("sk_")), code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key with one character changed", auth: "Bearer " + flip, code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key truncated", auth: "Bearer " + sk[:len(sk)-1], code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key with a character appended", auth: "Bearer " + sk + "A", code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key upper-cased", auth: "Bearer " + strings.ToUpper(sk), code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the publishable key's body as a secret key", auth: "Bearer sk_" + pk[3:], code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key's body as a publishable key", auth: "Bearer pk_" + sk[3:], code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "the secret key as the Basic password", auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(":"+sk)), code: "api_key_invalid", msg: msgKeyInvalid},
		{name: "an admin console password", auth: "Bearer " + in.AdminPassword, code: "api_key_invalid", msg: msgKeyInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, ep := range unauthenticatedTargets {
				for lang, accept := range []string{"", "en"} {
					a := in.apiCall(t, ep.method, ep.path+c.query, c.auth, ep.body, "Accept-Language", accept)
					presented := strings.TrimPrefix(strings.TrimPrefix(c.auth, "Bearer "), "Basic ")
					wantAuthError(t, a, http.StatusUnauthorized, "unauthorized", c.code, c.msg, lang, presented)
				}
			}
		})
	}

	// The same scheme, key formats and endpoints, done right, work: the
	// refusals above are about the key, not the request.
	for _, auth := range []string{"Bearer " + sk, "bearer " + sk, basic(sk)} {
		if a := in.apiCall(t, "GET", "/v1/ping", auth, nil); a.Status != http.StatusOK {
			t.Errorf("ping with %q…: %s", auth[:10], a)
		}
	}
	if after := in.snapshot(t); after != before {
		t.Errorf("refused calls changed the shop: before %+v, after %+v", before, after)
	}
	// Only a hash of each key is stored (docs/api.md "Keys").
	in.atRest(t).check(t, map[string]string{"secret key": sk, "publishable key": pk}, 0)
	// Keys are credentials: the access log names the path, never the
	// Authorization header or a query string holding a key.
	logs := in.logs()
	for _, k := range []string{sk, pk, flip, sk[3:]} {
		if strings.Contains(logs, k) {
			t.Errorf("an API key (%s…) was written to the log", k[:6])
		}
	}
}

// TestAPIRefusesExpiredKeys: a key rotated with no grace period (`kessai
// apikey rotate <id> 0s`, the way to revoke a leaked key) is refused at once
// with 401 api_key_expired, on every endpoint and over Basic too, while the
// new key works; the same for the publishable key.
func TestAPIRefusesExpiredKeys(t *testing.T) {
	t.Parallel()
	in := start(t)
	oldSK, oldPK := in.SecretKey, in.PublishableKey
	newSK := in.rotateKey(t, oldSK)
	newPK := in.rotateKey(t, oldPK)
	before := snapshotWith(t, in, newSK)

	for _, ep := range unauthenticatedTargets {
		for lang, accept := range []string{"", "en"} {
			for _, auth := range []string{"Bearer " + oldSK, basic(oldSK)} {
				a := in.apiCall(t, ep.method, ep.path, auth, ep.body, "Accept-Language", accept)
				wantAuthError(t, a, http.StatusUnauthorized, "unauthorized", "api_key_expired", msgKeyExpired, lang, oldSK)
			}
		}
	}
	a := in.apiCall(t, "GET", "/v1/ping", "Bearer "+oldPK, nil)
	wantAuthError(t, a, http.StatusUnauthorized, "unauthorized", "api_key_expired", msgKeyExpired, 0, oldPK)

	for _, k := range []string{newSK, newPK} {
		if a := in.apiCall(t, "GET", "/v1/ping", "Bearer "+k, nil); a.Status != http.StatusOK {
			t.Errorf("the new key %s…: %s", k[:6], a)
		}
	}
	if after := snapshotWith(t, in, newSK); after != before {
		t.Errorf("calls with expired keys changed the shop: before %+v, after %+v", before, after)
	}
}

// rotateKey rotates the key with no grace period through the CLI and
// returns the new key.
func (in *instance) rotateKey(t *testing.T, key string) string {
	t.Helper()
	var keys []struct {
		ID, Kind, Hint string
	}
	if err := json.Unmarshal([]byte(in.cli(t, nil, "apikey", "list")), &keys); err != nil {
		t.Fatal(err)
	}
	hint := key[:3] + "…" + key[len(key)-4:]
	id := ""
	for _, k := range keys {
		if k.Hint == hint {
			id = k.ID
		}
	}
	if id == "" {
		t.Fatalf("no key with hint %s in %+v", hint, keys)
	}
	out := in.cli(t, nil, "apikey", "rotate", id, "0s")
	m := regexp.MustCompile(`\b((?:sk|pk)_[A-Za-z0-9_-]{43})\b`).FindStringSubmatch(out)
	if m == nil || m[1][:3] != key[:3] {
		t.Fatalf("no new key in: %s", out)
	}
	return m[1]
}

// snapshotWith reads the snapshot with another secret key.
func snapshotWith(t *testing.T, in *instance, sk string) snapshot {
	t.Helper()
	saved := in.SecretKey
	in.SecretKey = sk
	defer func() { in.SecretKey = saved }()
	return in.snapshot(t)
}

// operation is one operation of docs/openapi.yaml.
type operation struct {
	method, path string
	publishable  bool
}

// documentedOperations reads every operation of docs/openapi.yaml and
// whether it is marked x-publishable, so a new endpoint is covered by
// TestPublishableKeyOnlyOnPublishableRoutes as soon as it is documented.
// (A plain line scan: the file is generated by hand in one fixed layout,
// and the count is checked.)
func documentedOperations(t *testing.T) []operation {
	t.Helper()
	f, err := os.Open("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRE := regexp.MustCompile(`^  (/v1/\S*):\s*$`)
	methodRE := regexp.MustCompile(`^    (get|post|put|patch|delete):\s*$`)
	var ops []operation
	cur := ""
	inPaths := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "paths:":
			inPaths = true
		case inPaths && line != "" && !strings.HasPrefix(line, " "):
			inPaths = false
		case !inPaths:
		case pathRE.MatchString(line):
			cur = pathRE.FindStringSubmatch(line)[1]
		case methodRE.MatchString(line) && cur != "":
			ops = append(ops, operation{method: strings.ToUpper(methodRE.FindStringSubmatch(line)[1]), path: cur})
		case strings.TrimSpace(line) == "x-publishable: true" && len(ops) > 0:
			ops[len(ops)-1].publishable = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(ops) < 40 {
		t.Fatalf("read only %d operations from docs/openapi.yaml: has its layout changed?", len(ops))
	}
	return ops
}

// TestPublishableKeyOnlyOnPublishableRoutes: the publishable key is meant to
// sit in browsers, so anyone has it. Every documented operation that is not
// x-publishable (for now all but GET /v1/ping) must answer it 403
// publishable_key_forbidden — orders, payments and their operations, saved
// cards, subscriptions, settings, webhooks, events and the test clock — over
// Bearer and Basic alike, and change nothing.
func TestPublishableKeyOnlyOnPublishableRoutes(t *testing.T) {
	t.Parallel()
	in := start(t)
	pk := in.PublishableKey
	// Real ids where the route takes one, so a refusal cannot be a 404
	// in disguise: an order, and the default ids elsewhere.
	o := in.createOrder(t, "PK-1", 1100, nil)
	before := in.snapshot(t)

	publishable := 0
	for _, op := range documentedOperations(t) {
		path := strings.ReplaceAll(op.path, "{id}", o.ID)
		var body any
		if op.method != "GET" {
			body = map[string]any{}
		}
		if op.publishable {
			publishable++
			if a := in.apiCall(t, op.method, path, "Bearer "+pk, body); a.Status == http.StatusUnauthorized || a.Status == http.StatusForbidden {
				t.Errorf("%s %s is publishable but refuses the publishable key: %s", op.method, op.path, a)
			}
			continue
		}
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			for lang, accept := range []string{"", "en"} {
				for _, auth := range []string{"Bearer " + pk, basic(pk)} {
					a := in.apiCall(t, op.method, path, auth, body, "Accept-Language", accept, "Idempotency-Key", randomAlnum(20))
					wantAuthError(t, a, http.StatusForbidden, "forbidden", "publishable_key_forbidden", msgPublishable, lang, pk)
				}
			}
		})
	}
	if publishable != 1 {
		t.Errorf("%d operations are documented as publishable; docs/api.md says only GET /v1/ping", publishable)
	}
	if after := in.snapshot(t); after != before {
		t.Errorf("publishable-key calls changed the shop: before %+v, after %+v", before, after)
	}
	if o2 := in.order(t, o.ID); o2.Status != "pending" {
		t.Errorf("order %s is %s after publishable-key calls, want pending", o.ID, o2.Status)
	}
}
