package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/service"
)

// Webhooks (issue item 6; design §4: signing secret, delivery log,
// resend).

var webhookSecretRE = regexp.MustCompile(`id="webhook-secret">(whsec_[A-Za-z0-9_-]+)<`)

// webhookEndpoint creates an endpoint through the service.
func (e *env) webhookEndpoint(u string, types ...string) *kessai.WebhookEndpoint {
	e.T.Helper()
	ep, _, err := e.Svc.CreateWebhookEndpoint(e.Ctx, shopID, service.WebhookEndpointInput{URL: u, EventTypes: types})
	if err != nil {
		e.T.Fatal(err)
	}
	return ep
}

func (e *env) webhookStored(id string) *kessai.WebhookEndpoint {
	e.T.Helper()
	ep, err := e.Store.GetWebhookEndpoint(e.Ctx, shopID, id)
	if err != nil {
		e.T.Fatal(err)
	}
	return ep
}

// webhookEvent makes an event (an order's order.created) and returns it.
func (e *env) webhookEvent() kessai.Event {
	e.T.Helper()
	e.order(1500)
	evs := e.EventList()
	ev := evs[len(evs)-1]
	if ev.Type != kessai.EventOrderCreated {
		e.T.Fatalf("newest event %s", ev.Type)
	}
	return ev
}

// webhookDelivery records an attempt as the job runner would.
func (e *env) webhookDelivery(ev kessai.Event, ep *kessai.WebhookEndpoint, attempt int, ok bool, status int, msg string, ms int64) kessai.WebhookDelivery {
	e.T.Helper()
	d := kessai.WebhookDelivery{ID: kessai.NewID("whd", e.Clock.Now()), ShopID: shopID, EventID: ev.ID, EndpointID: ep.ID,
		Attempt: attempt, Status: kessai.DeliveryFailed, HTTPStatus: status, Error: msg, DurationMS: ms, At: e.Clock.Now()}
	if ok {
		d.Status = kessai.DeliverySucceeded
	}
	if err := e.Store.RecordDelivery(e.Ctx, &d); err != nil {
		e.T.Fatal(err)
	}
	return d
}

func TestWebhooksCreateShowsSecretOnce(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	page := b.page("/admin/webhooks")
	wantContains(t, page, `id="webhook-create-form"`, `id="webhooks-none"`, `aria-current="page">Webhook`,
		// Every known event type is a checkbox.
		`value="payment.paid"`, `value="subscription.canceled"`, `value="order.created"`)
	if n := strings.Count(page, `name="event_types"`); n != len(kessai.EventTypes) {
		t.Errorf("%d event type boxes, want %d", n, len(kessai.EventTypes))
	}

	r := b.post("/admin/webhooks", "/admin/webhooks", url.Values{"url": {"https://shop.example.jp/kessai/hook"},
		"event_types": {kessai.EventPaymentPaid, kessai.EventPaymentExpired}, "enabled": {"1"}})
	if r.Status != http.StatusOK || r.Loc != "" {
		t.Fatalf("create: HTTP %d Location %q\n%s", r.Status, r.Loc, r.Body)
	}
	m := webhookSecretRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no secret on the answer:\n%s", r.Body)
	}
	secret := m[1]
	wantContains(t, r.Body, "Webhook エンドポイントを作成しました", "このシークレットは今回だけ表示されます。再表示はできません。",
		"https://shop.example.jp/kessai/hook")

	eps, err := e.Svc.ListWebhookEndpoints(e.Ctx, shopID)
	if err != nil || len(eps) != 1 {
		t.Fatalf("endpoints %v, %v", eps, err)
	}
	stored := e.webhookStored(eps[0].ID)
	if stored.URL != "https://shop.example.jp/kessai/hook" || !stored.Enabled ||
		!slices.Equal(stored.EventTypes, []string{kessai.EventPaymentPaid, kessai.EventPaymentExpired}) {
		t.Errorf("stored %+v", stored)
	}
	if stored.Secret != secret {
		t.Errorf("shown secret is not the stored one")
	}
	// Never again: not on the list, the endpoint, the events page.
	for _, p := range []string{"/admin/webhooks", "/admin/webhooks/" + stored.ID, "/admin/webhooks/events", "/admin/webhooks/" + stored.ID + "?lang=en"} {
		body := b.page(p)
		wantNotContains(t, body, secret, "whsec_")
	}
	list := b.page("/admin/webhooks?lang=ja") // back from English
	wantContains(t, list, `href="/admin/webhooks/`+stored.ID+`"`, "<code>payment.paid</code>", "オンライン収納の入金", "有効")

	// No filter ticked means every event; unticked "enabled" a disabled
	// endpoint; http to localhost is allowed for development.
	r = b.post("/admin/webhooks", "/admin/webhooks", url.Values{"url": {"http://localhost:8080/hook"}})
	if r.Status != http.StatusOK || webhookSecretRE.FindStringSubmatch(r.Body) == nil {
		t.Fatalf("create localhost: HTTP %d\n%s", r.Status, r.Body)
	}
	eps, _ = e.Svc.ListWebhookEndpoints(e.Ctx, shopID)
	if len(eps) != 2 || eps[1].URL != "http://localhost:8080/hook" || eps[1].Enabled || len(eps[1].EventTypes) != 0 {
		t.Errorf("second endpoint %+v", eps[len(eps)-1])
	}
	wantContains(t, b.page("/admin/webhooks"), "すべてのイベント", "無効")
}

func TestWebhooksValidation(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	cases := []struct {
		name  string
		form  url.Values
		field string
		text  string
	}{
		{"plain http", url.Values{"url": {"http://shop.example.jp/hook"}}, "webhook-url-error",
			"URL は https でなければなりません（http はローカルホストのみ可）。"},
		{"empty", url.Values{"url": {""}}, "webhook-url-error", "URL を指定してください。"},
		{"relative", url.Values{"url": {"/hook"}}, "webhook-url-error", "絶対 URL（https://…）を指定してください。"},
		{"credentials", url.Values{"url": {"https://user:pw@shop.example.jp/"}}, "webhook-url-error",
			"URL にユーザー名やパスワードを含めないでください。"},
		{"unknown type", url.Values{"url": {"https://shop.example.jp/hook"}, "event_types": {"payment.paid", "<script>x</script>"}},
			"webhook-types-error", "不明なイベント種別です: &lt;script&gt;x&lt;/script&gt;"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.post("/admin/webhooks", "/admin/webhooks", c.form)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("HTTP %d, want 422\n%s", r.Status, r.Body)
			}
			m := regexp.MustCompile(`id="` + c.field + `">([^<]*)<`).FindStringSubmatch(r.Body)
			if m == nil || !strings.Contains(m[0], c.text) {
				t.Errorf("field error %q, want %q", m, c.text)
			}
			wantContains(t, r.Body, `id="form-errors"`, `value="`+htmlEscape(c.form.Get("url"))+`"`)
			wantNotContains(t, r.Body, "whsec_", "<script>x")
			if eps, _ := e.Svc.ListWebhookEndpoints(e.Ctx, shopID); len(eps) != 0 {
				t.Errorf("saved despite the error: %+v", eps)
			}
		})
	}
	// The submitted ticks survive the refusal.
	r := b.post("/admin/webhooks", "/admin/webhooks", url.Values{"url": {"http://x.example/"}, "event_types": {"payment.failed"}})
	wantContains(t, r.Body, `value="payment.failed" checked`)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestWebhooksUpdateRotateDelete(t *testing.T) {
	e := newEnv(t)
	ep, old, err := e.Svc.CreateWebhookEndpoint(e.Ctx, shopID, service.WebhookEndpointInput{URL: "https://a.example/hook"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.asAdmin()
	path := "/admin/webhooks/" + ep.ID
	page := b.page(path)
	wantContains(t, page, `id="webhook-edit-form"`, `value="https://a.example/hook"`, `id="webhook-enabled" name="enabled" value="1" checked`,
		`data-confirm="署名シークレットを再発行します。`, `data-confirm="このエンドポイントを削除します。よろしいですか？"`, "配信の記録はまだありません。")
	wantNotContains(t, page, old)

	// Update: URL, one event type, disabled.
	r := b.post(path, path, url.Values{"url": {"https://b.example/kessai"}, "event_types": {kessai.EventOrderCreated}})
	wantRedirect(t, r, path+"?done=webhooks_updated")
	got := e.webhookStored(ep.ID)
	if got.URL != "https://b.example/kessai" || got.Enabled || !slices.Equal(got.EventTypes, []string{kessai.EventOrderCreated}) {
		t.Errorf("after update %+v", got)
	}
	page = b.page(r.Loc)
	wantContains(t, page, "Webhook エンドポイントを更新しました。", `value="order.created" checked`, "無効")

	// A refused update shows the errors and changes nothing.
	r = b.post(path, path, url.Values{"url": {"ftp://c.example/"}, "enabled": {"1"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad update: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, `id="webhook-url-error">URL は https でなければなりません。`, `value="ftp://c.example/"`)
	if got := e.webhookStored(ep.ID); got.URL != "https://b.example/kessai" || got.Enabled {
		t.Errorf("refused update saved: %+v", got)
	}
	// Unticking every type means every event again; enabling it.
	wantRedirect(t, b.post(path, path, url.Values{"url": {"https://b.example/kessai"}, "enabled": {"1"}}), path)
	if got := e.webhookStored(ep.ID); len(got.EventTypes) != 0 || !got.Enabled {
		t.Errorf("after reset %+v", got)
	}

	// Rotate: a new secret, shown once, with the explanation.
	r = b.post(path, path+"/rotate", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("rotate: HTTP %d\n%s", r.Status, r.Body)
	}
	m := webhookSecretRE.FindStringSubmatch(r.Body)
	if m == nil || m[1] == old {
		t.Fatalf("rotation shows %v (old %s)", m, old)
	}
	if stored := e.webhookStored(ep.ID).Secret; stored != m[1] {
		t.Errorf("stored secret is not the one shown")
	}
	wantContains(t, r.Body, "署名シークレットを再発行しました", "以前のシークレットは直ちに無効になりました（猶予期間はありません）",
		"新旧両方のシークレットで検証してください")
	wantNotContains(t, b.page(path), m[1], old)
	wantRedirect(t, b.get(path+"/rotate"), path) // the language switch of the answer

	// Delete.
	r = b.post(path, path+"/delete", nil)
	wantRedirect(t, r, "/admin/webhooks?done=webhooks_deleted")
	wantContains(t, b.page(r.Loc), "Webhook エンドポイントを削除しました。", "エンドポイントはまだありません。")
	if _, err := e.Store.GetWebhookEndpoint(e.Ctx, shopID, ep.ID); err == nil {
		t.Error("endpoint still stored")
	}
	r = b.get(path)
	if r.Status != http.StatusNotFound {
		t.Errorf("deleted endpoint: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "Webhook エンドポイントが見つかりません。")
	if r := b.get("/admin/webhooks/we_nonsense"); r.Status != http.StatusNotFound {
		t.Errorf("bad id: HTTP %d", r.Status)
	}
}

func TestWebhooksDeliveryLog(t *testing.T) {
	e := newEnv(t)
	ep := e.webhookEndpoint("https://shop.example.jp/hook")
	other := e.webhookEndpoint("https://other.example.jp/hook")
	ev := e.webhookEvent()
	failed := e.webhookDelivery(ev, ep, 1, false, 500, "HTTP 500: <b>boom</b>", 87)
	e.Advance(time.Minute)
	okd := e.webhookDelivery(ev, ep, 2, true, 204, "", 123)
	timeout := e.webhookDelivery(ev, other, 1, false, 0, "timeout after 10s", 10000)

	b := e.asAdmin()
	page := b.page("/admin/webhooks/" + ep.ID)
	wantContains(t, page, `id="webhook-deliveries"`,
		`<tr id="delivery-`+failed.ID+`">`, "2026-04-01 12:00:00", "2026-04-01 12:01:00", ev.ID, "<code>order.created</code>",
		"HTTP 500: &lt;b&gt;boom&lt;/b&gt;", "87 ミリ秒", "123 ミリ秒", ">204<", ">500<", "失敗", "成功")
	wantNotContains(t, page, "<b>boom", timeout.ID) // another endpoint's attempt
	// Newest first, one resend button per event.
	if strings.Index(page, okd.ID) > strings.Index(page, failed.ID) {
		t.Error("deliveries not newest first")
	}
	if n := strings.Count(page, `action="/admin/webhooks/events/`+ev.ID+`/resend"`); n != 1 {
		t.Errorf("%d resend buttons for the event, want 1", n)
	}
	wantContains(t, page, `name="endpoint_id" value="`+ep.ID+`"`)

	// The events page: the event with every endpoint's attempts.
	page = b.page("/admin/webhooks/events")
	wantContains(t, page, `id="event-`+ev.ID+`"`, "注文が作成された", failed.ID, okd.ID, timeout.ID, "timeout after 10s",
		`href="/admin/webhooks/`+other.ID+`"`, "全エンドポイントへ再送")
	// An attempt of a deleted endpoint stays explainable.
	if err := e.Svc.DeleteWebhookEndpoint(e.Ctx, shopID, other.ID); err != nil {
		t.Fatal(err)
	}
	wantContains(t, b.page("/admin/webhooks/events"), other.ID+"</span> （削除済み）")

	// Paging: 50 a page.
	for i := range 50 {
		e.Advance(time.Second)
		e.webhookDelivery(ev, ep, 3+i, false, 503, "", 5)
	}
	page = b.page("/admin/webhooks/" + ep.ID)
	if n := strings.Count(page, `<tr id="delivery-`); n != 50 {
		t.Errorf("first page has %d rows", n)
	}
	m := regexp.MustCompile(`href="(/admin/webhooks/` + ep.ID + `\?after=whd_[0-9a-z]+)" id="webhook-next"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no next link:\n%s", page)
	}
	page = b.page(m[1])
	if n := strings.Count(page, `<tr id="delivery-`); n != 2 || !strings.Contains(page, failed.ID) || !strings.Contains(page, okd.ID) {
		t.Errorf("second page has %d rows", n)
	}
	wantNotContains(t, page, `id="webhook-next"`)
	if r := b.get("/admin/webhooks/" + ep.ID + "?after=bogus"); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Body, "ページの指定が正しくありません。") {
		t.Errorf("bad cursor: HTTP %d", r.Status)
	}
	if r := b.get("/admin/webhooks/events?after=bogus"); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Body, "starting_after が正しいカーソルではありません。") || !strings.Contains(r.Body, ev.ID) {
		t.Errorf("bad events cursor: HTTP %d\n%s", r.Status, r.Body)
	}
}

func TestWebhooksEventsPaging(t *testing.T) {
	e := newEnv(t)
	for range 21 {
		e.order(100)
	}
	b := e.asAdmin()
	page := b.page("/admin/webhooks/events")
	if n := strings.Count(page, `<section class="panel webhooks-event"`); n != 20 {
		t.Errorf("%d events on the first page", n)
	}
	wantContains(t, page, "有効なエンドポイントがないため", "配信の記録はまだありません。")
	m := regexp.MustCompile(`href="(/admin/webhooks/events\?after=evt_[0-9a-z]+)" id="webhooks-next"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no next link")
	}
	page = b.page(m[1])
	if n := strings.Count(page, `<section class="panel webhooks-event"`); n != 1 {
		t.Errorf("%d events on the second page", n)
	}
}

func TestWebhooksResend(t *testing.T) {
	e := newEnv(t)
	ep := e.webhookEndpoint("https://shop.example.jp/hook")
	ev := e.webhookEvent()
	e.webhookDelivery(ev, ep, 1, false, 500, "HTTP 500", 30)
	b := e.asAdmin()
	path := "/admin/webhooks/" + ep.ID

	// The test service has no job runner: the service says so, the page
	// shows it.
	r := b.post(path, "/admin/webhooks/events/"+ev.ID+"/resend", url.Values{"endpoint_id": {ep.ID}})
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("resend: HTTP %d\n%s", r.Status, r.Body)
	}
	wantContains(t, r.Body, "再送機能が利用できません（ジョブ実行が構成されていません）。", `id="webhook-deliveries"`, ep.URL)
	r = b.post("/admin/webhooks/events", "/admin/webhooks/events/"+ev.ID+"/resend", nil)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("resend all: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "再送機能が利用できません", `id="event-`+ev.ID+`"`)
	r = b.post("/admin/webhooks/events", "/admin/webhooks/events/"+ev.ID+"/resend?lang=en", nil)
	wantContains(t, r.Body, "Resending is unavailable: no job runner is configured.")
	b.page("/admin/webhooks?lang=ja")
	wantRedirect(t, b.get("/admin/webhooks/events/"+ev.ID+"/resend"), "/admin/webhooks/events")

	// A disabled endpoint is refused before that.
	off := false
	if _, err := e.Svc.UpdateWebhookEndpoint(e.Ctx, shopID, ep.ID, service.WebhookEndpointPatch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	r = b.post(path, "/admin/webhooks/events/"+ev.ID+"/resend", url.Values{"endpoint_id": {ep.ID}})
	if r.Status != http.StatusConflict {
		t.Fatalf("disabled: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "無効化された Webhook エンドポイントには再送できません。先に有効にしてください。")
	r = b.post("/admin/webhooks/events", "/admin/webhooks/events/"+ev.ID+"/resend", nil)
	wantContains(t, r.Body, "このイベントを受け取る有効な Webhook エンドポイントがありません。")
	// An unknown event is a 404.
	r = b.post("/admin/webhooks/events", "/admin/webhooks/events/evt_missing/resend", nil)
	if r.Status != http.StatusNotFound {
		t.Errorf("unknown event: HTTP %d", r.Status)
	}
}

func TestWebhooksReadOnly(t *testing.T) {
	e := newEnv(t)
	ep := e.webhookEndpoint("https://shop.example.jp/hook")
	ev := e.webhookEvent()
	e.webhookDelivery(ev, ep, 1, true, 200, "", 12)
	b := e.asReader()
	for _, p := range []string{"/admin/webhooks", "/admin/webhooks/" + ep.ID, "/admin/webhooks/events"} {
		page := b.page(p)
		// The logout button is the page's only form.
		if n := strings.Count(page, "<form"); n != 1 {
			t.Errorf("%s: %d forms", p, n)
		}
		wantNotContains(t, page, "whsec_", `name="event_types"`, "再送</button>")
		wantContains(t, page, "https://shop.example.jp/hook")
	}
	wantContains(t, b.page("/admin/webhooks/"+ep.ID), ev.ID, "成功", "すべてのイベント")

	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/admin/webhooks", url.Values{"url": {"https://evil.example/"}}},
		{"/admin/webhooks/" + ep.ID, url.Values{"url": {"https://evil.example/"}, "enabled": {"1"}}},
		{"/admin/webhooks/" + ep.ID + "/rotate", nil},
		{"/admin/webhooks/" + ep.ID + "/delete", nil},
		{"/admin/webhooks/events/" + ev.ID + "/resend", url.Values{"endpoint_id": {ep.ID}}},
	} {
		r := b.post("/admin/webhooks", c.path, c.form)
		if r.Status != http.StatusForbidden {
			t.Errorf("POST %s: HTTP %d, want 403", c.path, r.Status)
		}
		wantContains(t, r.Body, "閲覧のみの権限では変更できません。")
		wantNotContains(t, r.Body, "whsec_")
	}
	got := e.webhookStored(ep.ID)
	if got.URL != "https://shop.example.jp/hook" || got.Secret != e.webhookStored(ep.ID).Secret {
		t.Errorf("changed by a reader: %+v", got)
	}
	if eps, _ := e.Svc.ListWebhookEndpoints(e.Ctx, shopID); len(eps) != 1 {
		t.Errorf("%d endpoints", len(eps))
	}
}

func TestWebhooksEnglish(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	page := b.page("/admin/webhooks?lang=en")
	wantContains(t, page, "<h1>Webhooks</h1>", "Add an endpoint", "Leave all unticked to receive every event.", "a collection was paid")
	r := b.post("/admin/webhooks", "/admin/webhooks", url.Values{"url": {"https://shop.example.jp/hook"}})
	wantContains(t, r.Body, "Webhook endpoint created", "This secret is shown only now and cannot be shown again.")
	r = b.post("/admin/webhooks", "/admin/webhooks", url.Values{"url": {"http://shop.example.jp/hook"}})
	wantContains(t, r.Body, "The URL must use https (http is allowed for localhost only).")
	wantNotContains(t, r.Body, "URL は https")
}
