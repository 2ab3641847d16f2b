package securitytest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai/webhook"
)

// delivery is one request a webhook receiver got, byte for byte.
type delivery struct {
	Path   string
	Header http.Header
	Body   []byte
}

// hookServer is a shop's webhook receiver on loopback (kessai accepts http
// only for loopback hosts, which is what this is). /hook answers 204;
// /redirect answers a redirect to elsewhere, which kessai must not follow.
type hookServer struct {
	mu   sync.Mutex
	got  []delivery
	srv  *httptest.Server
	Next string // where /redirect points
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, delivery{Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		next := h.Next
		h.mu.Unlock()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, next, http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookServer) all() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// waitEvent waits for a delivery to path of an event of type typ whose data
// names id.
func (h *hookServer) waitEvent(t *testing.T, path, typ, id string) delivery {
	t.Helper()
	var found *delivery
	err := waitFor(20*time.Second, func() bool {
		for _, d := range h.all() {
			if d.Path == path && d.Header.Get(webhook.HeaderEventType) == typ && bytes.Contains(d.Body, []byte(`"id":"`+id+`"`)) {
				found = &d
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no %s delivery about %s at %s; got %d deliveries", typ, id, path, len(h.all()))
	}
	return *found
}

type endpoint struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

var secretFormatRE = regexp.MustCompile(`^whsec_[A-Za-z0-9_-]{43}$`)

// TestWebhookSignatures receives real deliveries from kessai and checks
// them the way docs/webhooks.md tells a shop to: the documented headers, the
// documented HMAC (computed here independently of package webhook), and
// then, with package webhook's Verify, everything an attacker might send
// instead — a changed body, timestamp or signature, another secret, a
// genuine delivery replayed outside the 5-minute tolerance. It also checks
// that the secret is shown only at creation and rotation, that a rotation
// takes effect at once, and that kessai does not follow redirects with a
// signed event.
func TestWebhookSignatures(t *testing.T) {
	t.Parallel()
	in := start(t)
	hooks := newHookServer(t)
	elsewhere := newHookServer(t) // a host nobody registered
	hooks.Next = elsewhere.srv.URL + "/stolen"

	// Created with an Idempotency-Key, so the answer holding the secret
	// is stored too (sealed, like the secret itself).
	var ep endpoint
	created := in.apiCall(t, "POST", "/v1/webhook_endpoints", "Bearer "+in.SecretKey, map[string]any{"url": hooks.srv.URL + "/hook"},
		"Idempotency-Key", "create-endpoint-1")
	if created.Status != http.StatusCreated {
		t.Fatalf("create endpoint: %s", created)
	}
	if err := json.Unmarshal(created.Body, &ep); err != nil {
		t.Fatal(err)
	}
	if !secretFormatRE.MatchString(ep.Secret) {
		t.Fatalf("endpoint secret %q is not whsec_ + 43 characters", ep.Secret)
	}
	// Shown once: never again in a read or a list.
	for _, path := range []string{"/v1/webhook_endpoints/" + ep.ID, "/v1/webhook_endpoints"} {
		if a := in.secret(t, "GET", path, nil, http.StatusOK, nil); bytes.Contains(a.Body, []byte(ep.Secret)) || bytes.Contains(a.Body, []byte("whsec_")) {
			t.Errorf("GET %s returns the endpoint secret: %s", path, a.Body)
		}
	}
	// Nor in the console (docs/console.md: "its signing secret is shown
	// once, on the answer page only").
	admin := newBrowser(t)
	in.loginConsole(t, admin, in.AdminLogin, in.AdminPassword)
	for _, path := range []string{"/admin/webhooks", "/admin/webhooks/" + ep.ID} {
		if a := admin.get(t, in.API+path); a.Status != http.StatusOK || bytes.Contains(a.Body, []byte("whsec_")) {
			t.Errorf("console %s: HTTP %d, shows a secret: %v", path, a.Status, bytes.Contains(a.Body, []byte("whsec_")))
		}
	}
	// A second endpoint, whose secret must not verify the first one's
	// deliveries.
	var other endpoint
	in.secret(t, "POST", "/v1/webhook_endpoints", map[string]any{"url": hooks.srv.URL + "/other", "event_types": []string{"payment.paid"}}, http.StatusCreated, &other)

	o := in.createOrder(t, "WH-1", 1100, nil)
	d := hooks.waitEvent(t, "/hook", "order.created", o.ID)

	// The documented request.
	var ev webhook.Event
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		t.Fatalf("delivery body: %v\n%s", err, d.Body)
	}
	for h, want := range map[string]string{
		"Content-Type":                "application/json",
		"User-Agent":                  "kessai-webhooks/1",
		webhook.HeaderEventID:         ev.ID,
		webhook.HeaderEventType:       "order.created",
		webhook.HeaderDeliveryAttempt: "1",
	} {
		if got := d.Header.Get(h); got != want {
			t.Errorf("header %s: %q, want %q", h, got, want)
		}
	}
	sig := d.Header.Get(webhook.HeaderSignature)
	m := regexp.MustCompile(`^t=(\d+),v1=([0-9a-f]{64})$`).FindStringSubmatch(sig)
	if m == nil {
		t.Fatalf("Kessai-Signature %q is not t=<unix>,v1=<64 lower-case hex>", sig)
	}
	ts, _ := strconv.ParseInt(m[1], 10, 64)
	sent := time.Unix(ts, 0)
	if d := time.Since(sent); d < -time.Minute || d > time.Minute {
		t.Errorf("signature timestamp %v is %v from now", sent, d)
	}
	// The algorithm of docs/webhooks.md, step by step: HMAC-SHA256 keyed
	// with the whole secret string, of t + "." + the raw body, hex.
	mac := hmac.New(sha256.New, []byte(ep.Secret))
	mac.Write([]byte(m[1] + "." + string(d.Body)))
	if want := hex.EncodeToString(mac.Sum(nil)); m[2] != want {
		t.Fatalf("v1 %s is not the documented HMAC %s", m[2], want)
	}

	secrets := func(s ...string) [][]byte {
		var out [][]byte
		for _, x := range s {
			out = append(out, []byte(x))
		}
		return out
	}
	flipped := []byte(m[2])
	if flipped[0] == '0' {
		flipped[0] = '1'
	} else {
		flipped[0] = '0'
	}
	tampered := bytes.Replace(d.Body, []byte(`"amount":1100`), []byte(`"amount":1`), 1)
	if bytes.Equal(tampered, d.Body) {
		t.Fatalf("the delivery has no amount to tamper with: %s", d.Body)
	}
	var reformatted bytes.Buffer
	_ = json.Indent(&reformatted, d.Body, "", " ")
	fresh := strconv.FormatInt(time.Now().Unix()+1000, 10) // a replay with a "refreshed" timestamp
	cases := []struct {
		name    string
		header  string
		body    []byte
		secrets [][]byte
		now     time.Time
		want    error // nil: accepted
	}{
		{"genuine", sig, d.Body, secrets(ep.Secret), sent, nil},
		{"genuine, 4m59s later", sig, d.Body, secrets(ep.Secret), sent.Add(299 * time.Second), nil},
		{"genuine during a rotation (old and new secret known)", sig, d.Body, secrets("whsec_new", ep.Secret), sent, nil},
		{"replayed 5m01s later", sig, d.Body, secrets(ep.Secret), sent.Add(301 * time.Second), webhook.ErrTooOld},
		{"replayed a day later", sig, d.Body, secrets(ep.Secret), sent.Add(24 * time.Hour), webhook.ErrTooOld},
		{"from 5m01s in the future", sig, d.Body, secrets(ep.Secret), sent.Add(-301 * time.Second), webhook.ErrTooNew},
		{"replayed with a refreshed timestamp", "t=" + fresh + ",v1=" + m[2], d.Body, secrets(ep.Secret), sent.Add(1000 * time.Second), webhook.ErrMismatch},
		{"amount changed in the body", sig, tampered, secrets(ep.Secret), sent, webhook.ErrMismatch},
		{"body re-serialised", sig, reformatted.Bytes(), secrets(ep.Secret), sent, webhook.ErrMismatch},
		{"body with a trailing newline", sig, append(append([]byte{}, d.Body...), '\n'), secrets(ep.Secret), sent, webhook.ErrMismatch},
		{"signature with one digit changed", "t=" + m[1] + ",v1=" + string(flipped), d.Body, secrets(ep.Secret), sent, webhook.ErrMismatch},
		{"another endpoint's secret", sig, d.Body, secrets(other.Secret), sent, webhook.ErrMismatch},
		{"a guessed secret", sig, d.Body, secrets("whsec_"), sent, webhook.ErrMismatch},
		{"an empty secret", sig, d.Body, secrets(""), sent, webhook.ErrMismatch},
		{"no secret at all", sig, d.Body, nil, sent, webhook.ErrMismatch},
		{"forged and outside the tolerance: a forgery, not a replay", "t=" + m[1] + ",v1=" + string(flipped), d.Body, secrets(ep.Secret), sent.Add(time.Hour), webhook.ErrMismatch},
		{"no header", "", d.Body, secrets(ep.Secret), sent, webhook.ErrNoSignature},
		{"timestamp only", "t=" + m[1], d.Body, secrets(ep.Secret), sent, webhook.ErrNoSignature},
		{"unknown scheme only", "t=" + m[1] + ",v0=" + m[2], d.Body, secrets(ep.Secret), sent, webhook.ErrNoSignature},
		{"garbage header", "garbage", d.Body, secrets(ep.Secret), sent, webhook.ErrBadHeader},
		{"two timestamps", "t=" + fresh + ",t=" + m[1] + ",v1=" + m[2], d.Body, secrets(ep.Secret), sent, webhook.ErrBadHeader},
		{"signed timestamp with a sign", "t=+" + m[1] + ",v1=" + m[2], d.Body, secrets(ep.Secret), sent, webhook.ErrBadHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(c.header, c.body, c.secrets, webhook.DefaultTolerance, c.now)
			switch {
			case c.want == nil && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("Verify: %v, want %v", err, c.want)
			}
			if c.want == webhook.ErrMismatch && errors.Is(err, webhook.ErrTimestamp) {
				t.Errorf("a forgery was reported as a timestamp problem: %v", err)
			}
		})
	}

	// ParseEvent, what the Go example in docs/webhooks.md uses, on the
	// genuine request and on a tampered one.
	req := httptest.NewRequest("POST", "/hook", bytes.NewReader(d.Body))
	req.Header = d.Header.Clone()
	if got, err := webhook.ParseEvent(req, secrets(ep.Secret), webhook.DefaultTolerance); err != nil || got.ID != d.Header.Get(webhook.HeaderEventID) {
		t.Errorf("ParseEvent of the genuine delivery: %+v %v", got, err)
	}
	req = httptest.NewRequest("POST", "/hook", bytes.NewReader(tampered))
	req.Header = d.Header.Clone()
	if _, err := webhook.ParseEvent(req, secrets(ep.Secret), webhook.DefaultTolerance); !errors.Is(err, webhook.ErrMismatch) {
		t.Errorf("ParseEvent of a tampered delivery: %v, want ErrMismatch", err)
	}

	// Rotation takes effect at once: the next delivery verifies with the
	// new secret only, and the new secret is shown once too.
	var rotated endpoint
	in.secret(t, "POST", "/v1/webhook_endpoints/"+ep.ID+"/rotate_secret", nil, http.StatusOK, &rotated)
	if !secretFormatRE.MatchString(rotated.Secret) || rotated.Secret == ep.Secret {
		t.Fatalf("rotated secret %q", rotated.Secret)
	}
	if a := in.secret(t, "GET", "/v1/webhook_endpoints/"+ep.ID, nil, http.StatusOK, nil); bytes.Contains(a.Body, []byte(rotated.Secret)) {
		t.Errorf("GET returns the rotated secret: %s", a.Body)
	}
	o2 := in.createOrder(t, "WH-2", 2200, nil)
	d2 := hooks.waitEvent(t, "/hook", "order.created", o2.ID)
	if err := webhook.Verify(d2.Header.Get(webhook.HeaderSignature), d2.Body, secrets(rotated.Secret), 0, time.Time{}); err != nil {
		t.Errorf("delivery after the rotation does not verify with the new secret: %v", err)
	}
	if err := webhook.Verify(d2.Header.Get(webhook.HeaderSignature), d2.Body, secrets(ep.Secret), 0, time.Time{}); !errors.Is(err, webhook.ErrMismatch) {
		t.Errorf("delivery after the rotation verifies with the old secret (%v): a leaked secret would stay useful", err)
	}

	// At rest the secrets are sealed (docs/architecture.md: "webhook
	// secrets … and stored idempotent answers pass through
	// kessai.Sealer").
	in.atRest(t).check(t, map[string]string{"first secret": ep.Secret, "rotated secret": rotated.Secret, "other secret": other.Secret}, 0)

	// Redirects are never followed: a signed event goes only to the
	// registered URL, and the redirect is a failed attempt in the log.
	var redir endpoint
	in.secret(t, "POST", "/v1/webhook_endpoints", map[string]any{"url": hooks.srv.URL + "/redirect", "event_types": []string{"order.created"}}, http.StatusCreated, &redir)
	o3 := in.createOrder(t, "WH-3", 3300, nil)
	d3 := hooks.waitEvent(t, "/redirect", "order.created", o3.ID)
	evID := d3.Header.Get(webhook.HeaderEventID)
	var log struct {
		Data []struct {
			Status     string `json:"status"`
			HTTPStatus int    `json:"http_status"`
			Error      string `json:"error"`
		} `json:"data"`
	}
	err := waitFor(10*time.Second, func() bool {
		in.secret(t, "GET", "/v1/events/"+evID+"/deliveries?endpoint_id="+redir.ID, nil, http.StatusOK, &log)
		return len(log.Data) > 0
	})
	if err != nil {
		t.Fatal("the redirected delivery was not logged")
	}
	if l := log.Data[0]; l.Status != "failed" || l.HTTPStatus != http.StatusTemporaryRedirect {
		t.Errorf("redirected delivery logged as %+v, want failed with HTTP 307", l)
	}
	time.Sleep(500 * time.Millisecond) // a followed redirect would have arrived by now
	if n := len(elsewhere.all()); n != 0 {
		t.Errorf("kessai followed the redirect: the unregistered host got %d signed deliveries", n)
	}
	// The other endpoint's filter held: it got none of these order events.
	for _, x := range hooks.all() {
		if x.Path == "/other" {
			t.Errorf("endpoint filtered to payment.paid got %s", x.Header.Get(webhook.HeaderEventType))
		}
	}
}
