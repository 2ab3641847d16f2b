package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/service"
)

const (
	testAESKey = "ABCDEFGHIJKLMNOP"
	testAESIV  = "0123456789abcdef"
)

// recorder records what the receiver handed to its handlers.
type recorder struct {
	mu            sync.Mutex
	notifications []*escott.Notification
	returns       map[string][]*escott.Return
	err           error
	panicNotify   bool
}

func (rc *recorder) handlers() NotificationHandlers {
	ret := func(kind string) ReturnHandler {
		return func(w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return) {
			rc.mu.Lock()
			rc.returns[kind] = append(rc.returns[kind], ret)
			rc.mu.Unlock()
			http.Redirect(w, r, "/thanks/"+kind, http.StatusSeeOther)
		}
	}
	return NotificationHandlers{
		Collection: func(ctx context.Context, shopID string, n *escott.Notification) error {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if rc.panicNotify {
				panic("handler bug")
			}
			if shopID != kessai.DefaultShopID {
				return errors.New("wrong shop " + shopID)
			}
			rc.notifications = append(rc.notifications, n)
			return rc.err
		},
		ThreeDS:       ret("3ds"),
		ThreeDSMember: ret("3ds_member"),
		Link:          ret("link"),
	}
}

func newReceiverEnv(t testing.TB, db testdb.Backend, withHandlers bool) (*env, *recorder) {
	rc := &recorder{returns: map[string][]*escott.Return{}}
	e := newEnv(t, db, func(c *Config) {
		if withHandlers {
			c.Notifications = rc.handlers()
		}
	})
	patch := `{"card":{"aes_key":"` + testAESKey + `","aes_iv":"` + testAESIV + `"}}`
	if _, _, err := e.svc.UpdateSettings(context.Background(), kessai.DefaultShopID, []byte(patch), service.AnyVersion); err != nil {
		t.Fatal(err)
	}
	return e, rc
}

// post sends a form to the receiver; the client does not follow redirects.
func (e *env) post(t testing.TB, path string, form url.Values, lang string) *resp {
	t.Helper()
	r, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if lang != "" {
		r.Header.Set("Accept-Language", lang)
	}
	return e.send(t, r)
}

func (e *env) get(t testing.TB, path string) *resp {
	t.Helper()
	r, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	return e.send(t, r)
}

func (e *env) send(t testing.TB, r *http.Request) *resp {
	t.Helper()
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

func notification() url.Values {
	return url.Values{
		"MerchantId": {"030000001"}, "TransactionId": {"98765432"}, "RecvNum": {"1234567890"},
		"NyukinDate": {"20250102123456"}, "MerchantFree1": {"000771020345"}, "MerchantFree2": {"ord_x"},
		"CvsCd": {"SEV"}, "Amount": {"3630"},
	}
}

// params builds escott.Params from key, value pairs.
func params(kv ...string) escott.Params {
	var p escott.Params
	for i := 0; i+1 < len(kv); i += 2 {
		p = append(p, escott.Param{Key: kv[i], Value: kv[i+1]})
	}
	return p
}

func encrypt(fields escott.Params) string {
	ci, err := escott.NewCipher(testAESKey, testAESIV)
	if err != nil {
		panic(err)
	}
	return ci.Encrypt(fields)
}

func TestReceiverNotification(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e, rc := newReceiverEnv(t, db, true)
		// The plugin's URL, POST with a form body.
		r := e.post(t, "/?wc-api=wc_sonypayment", notification(), "")
		if r.status != 200 || len(r.body) != 0 {
			t.Fatalf("%d %q", r.status, r.body)
		}
		if len(rc.notifications) != 1 {
			t.Fatalf("handler called %d times", len(rc.notifications))
		}
		n := rc.notifications[0]
		if n.MerchantID != "030000001" || n.RecvNum != "1234567890" || n.MerchantFree1 != "000771020345" || n.MerchantFree2 != "ord_x" ||
			n.CvsCd != "SEV" || n.Amount != 3630 || n.Fields.Has("wc-api") {
			t.Fatalf("parsed %+v", n)
		}
		// The clean path, GET with the query string.
		r = e.get(t, "/escott/notify?"+notification().Encode())
		if r.status != 200 || len(r.body) != 0 || len(rc.notifications) != 2 {
			t.Fatalf("GET: %d %q %d", r.status, r.body, len(rc.notifications))
		}
		// A failing handler still answers 200 (and is logged).
		rc.err = errors.New("order not found")
		if r := e.post(t, "/escott/notify", notification(), ""); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("handler error: %d", r.status)
		}
		if !strings.Contains(e.logText(), "order not found") {
			t.Fatal("handler error not logged")
		}
		// So does a panicking one.
		rc.panicNotify = true
		if r := e.post(t, "/escott/notify", notification(), ""); r.status != 200 {
			t.Fatalf("handler panic: %d", r.status)
		}
		rc.panicNotify = false
		// A notification-looking request with a bad date is answered 200 and
		// not handed on: a retry cannot fix it.
		before := len(rc.notifications)
		bad := notification()
		bad.Set("NyukinDate", "yesterday")
		if r := e.post(t, "/escott/notify", bad, ""); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("bad date: %d", r.status)
		}
		if len(rc.notifications) != before {
			t.Fatal("malformed notification reached the handler")
		}
		// Logs are masked: personal fields never appear whole.
		withName := notification()
		withName.Set("NameKanji", "山田太郎")
		e.post(t, "/escott/notify", withName, "")
		if strings.Contains(e.logText(), "山田太郎") {
			t.Fatal("personal data logged")
		}
	})
}

func TestReceiverWithoutHandlers(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e, _ := newReceiverEnv(t, db, false)
		if r := e.post(t, "/?wc-api=wc_sonypayment", notification(), ""); r.status != 200 || len(r.body) != 0 {
			t.Fatalf("notification: %d %q", r.status, r.body)
		}
		if !strings.Contains(e.logText(), "no handler") {
			t.Fatal("notification not logged")
		}
		ev := encrypt(params("OperateId", "3Secure", "ResponseCd", "OK", "SecureResultCode", "0", "MerchantFree1", "000482917365"))
		r := e.post(t, "/escott/notify", url.Values{"EncryptValue": {ev}}, "")
		if r.status != 400 || !strings.HasPrefix(string(r.body), "Bad request") || !strings.Contains(string(r.body), "不正なリクエスト") {
			t.Fatalf("return without handler: %d %q", r.status, r.body)
		}
		r = e.post(t, "/escott/notify", url.Values{"EncryptValue": {ev}}, "en")
		if r.status != 400 || strings.TrimSpace(string(r.body)) != "Bad request" {
			t.Fatalf("en page: %q", r.body)
		}
	})
}

func TestReceiverReturns(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e, rc := newReceiverEnv(t, db, true)
		cases := []struct {
			name   string
			fields escott.Params
			kind   string
		}{
			{"3ds checkout", params("OperateId", "3Secure", "ResponseCd", "OK", "SecureResultCode", "0", "MerchantFree1", "000482917365", "MerchantFree2", "ord_x"), "3ds"},
			{"3ds member add", params("OperateId", "4MemAdd", "ResponseCd", "OK", "SecureResultCode", "0", "KaiinId", "k1i1234567"), "3ds_member"},
			{"3ds member change", params("OperateId", "4MemChg", "ResponseCd", "OK", "SecureResultCode", "1"), "3ds_member"},
			{"link checkout", params("MerchantId", "030000001", "OperateId", "1Gathering", "ResponseCd", "OK", "MerchantFree2", "ord_x", "ProcessId", "p", "ProcessPass", "pp"), "link"},
			{"link auth", params("OperateId", "1Auth", "ResponseCd", "P51"), "link"},
			{"link member", params("OperateId", "4MemAdd", "ResponseCd", "OK", "KaiinId", "k1"), "link"},
			// The link page may run 3-D Secure before a member step: its
			// answer carries a SecureResultCode and, unlike the 3-D
			// Secure page's, MerchantId.
			{"link member after 3ds", params("MerchantId", "030000001", "OperateId", "4MemAdd", "ResponseCd", "U04", "SecureResultCode", "1", "MerchantFree2", "ord_x"), "link"},
			{"link my-cards after 3ds", params("MerchantId", "030000001", "OperateId", "4MemChg", "ResponseCd", "OK", "SecureResultCode", "0"), "link"},
		}
		for _, c := range cases {
			before := len(rc.returns[c.kind])
			r := e.post(t, "/?wc-api=wc_sonypayment", url.Values{"EncryptValue": {encrypt(c.fields)}}, "")
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/thanks/"+c.kind {
				t.Errorf("%s: %d %s", c.name, r.status, r.header.Get("Location"))
				continue
			}
			if len(rc.returns[c.kind]) != before+1 {
				t.Errorf("%s: handler not called", c.name)
				continue
			}
			got := rc.returns[c.kind][before]
			if got.OperateID() != escott.OperateID(c.fields.Get("OperateId")) || got.Get("ResponseCd") != c.fields.Get("ResponseCd") {
				t.Errorf("%s: %+v", c.name, got.Fields)
			}
		}

		// Tampered, undecryptable and incomplete values: 400 NOTIFY-06.
		good := encrypt(params("OperateId", "3Secure", "ResponseCd", "OK", "SecureResultCode", "0"))
		tampered := []byte(good)
		tampered[5] ^= 1
		for name, v := range map[string]string{
			"tampered":      string(tampered),
			"truncated":     good[:len(good)-4],
			"not base64":    "!!!",
			"empty":         "",
			"no OperateId":  encrypt(params("ResponseCd", "OK")),
			"no ResponseCd": encrypt(params("OperateId", "3Secure")),
			"3ds no result": encrypt(params("OperateId", "3Secure", "ResponseCd", "OK")),
		} {
			r := e.post(t, "/escott/notify", url.Values{"EncryptValue": {v}}, "en")
			if r.status != 400 || !strings.Contains(string(r.body), "EncryptValue is invalid.") {
				// A flipped byte may by chance still decrypt and parse; what
				// matters is that it is refused.
				if name == "tampered" && r.status == 400 {
					continue
				}
				t.Errorf("%s: %d %q", name, r.status, r.body)
			}
		}
		r := e.post(t, "/escott/notify", url.Values{"EncryptValue": {"!!!"}}, "")
		if r.status != 400 || !strings.Contains(string(r.body), "EncryptValue が不正です。") {
			t.Fatalf("ja page: %q", r.body)
		}
		// An operation nobody continues.
		r = e.post(t, "/escott/notify", url.Values{"EncryptValue": {encrypt(params("OperateId", "1Search", "ResponseCd", "OK"))}}, "")
		if r.status != 400 {
			t.Fatalf("unexpected op: %d", r.status)
		}
	})
}

func TestReceiverOther(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		e, rc := newReceiverEnv(t, db, true)
		// Neither notification nor return.
		for _, p := range []string{"/?wc-api=wc_sonypayment", "/escott/notify", "/escott/notify?MerchantId=1&RecvNum=2"} {
			if r := e.get(t, p); r.status != 400 || !strings.HasPrefix(string(r.body), "Bad request") {
				t.Errorf("%s: %d %q", p, r.status, r.body)
			}
		}
		// The site root without the plugin's marker is not ours.
		if r := e.get(t, "/?"+notification().Encode()); r.status != 404 {
			t.Fatalf("root: %d", r.status)
		}
		if r := e.get(t, "/?wc-api=other"); r.status != 404 {
			t.Fatalf("other wc-api: %d", r.status)
		}
		// Bodies are bounded.
		big := url.Values{"EncryptValue": {strings.Repeat("A", maxReceiverBody)}}
		if r := e.post(t, "/escott/notify", big, ""); r.status != 400 {
			t.Fatalf("big body: %d", r.status)
		}
		// Only GET and POST.
		r, _ := http.NewRequest("PUT", e.srv.URL+"/escott/notify", nil)
		if res := e.send(t, r); res.status != 405 {
			t.Fatalf("PUT: %d", res.status)
		}
		// No cipher configured: an encrypted return is refused, logged.
		e2 := newEnv(t, db, func(c *Config) { c.Notifications = rc.handlers() })
		ev := encrypt(params("OperateId", "3Secure", "ResponseCd", "OK", "SecureResultCode", "0"))
		if r := e2.post(t, "/escott/notify", url.Values{"EncryptValue": {ev}}, ""); r.status != 400 {
			t.Fatalf("no AES key: %d", r.status)
		}
		if !strings.Contains(e2.logText(), "AES") {
			t.Fatal("missing AES settings not logged")
		}
	})
}
