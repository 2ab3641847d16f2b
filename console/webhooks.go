package console

// Webhooks (issue item 6; design §4; docs/webhooks.md): the shop's
// endpoints, their signing secrets, the delivery log and resending.
//
// A signing secret is shown exactly once, on the page that answers the
// form that made it (creation or rotation). It is never put in a URL — a
// redirect would carry it into the history, logs and Referer — and no
// later page can show it: the service does not return it again.

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/service"
)

func (h *Handler) webhookRoutes() []route {
	return []route{
		{"GET", "/webhooks", viewer, h.webhooksPage},
		{"POST", "/webhooks", writer, h.webhookCreate},
		{"GET", "/webhooks/events", viewer, h.webhookEventsPage},
		{"POST", "/webhooks/events/{event}/resend", writer, h.webhookResend},
		// The GET twins of the form targets only lead back to their page
		// (the language switch of a form's answer asks for them).
		{"GET", "/webhooks/events/{event}/resend", viewer, h.webhookBackToEvents},
		{"GET", "/webhooks/{id}", viewer, h.webhookPage},
		{"POST", "/webhooks/{id}", writer, h.webhookUpdate},
		{"POST", "/webhooks/{id}/rotate", writer, h.webhookRotate},
		{"GET", "/webhooks/{id}/rotate", viewer, h.webhookBackToEndpoint},
		{"POST", "/webhooks/{id}/delete", writer, h.webhookDelete},
		{"GET", "/webhooks/{id}/delete", viewer, h.webhookBackToEndpoint},
	}
}

// Page sizes.
const (
	webhookDeliveriesPerPage = 50
	webhookEventsPerPage     = 20
	// webhookDeliveriesPerEvent is how many attempts the events page shows
	// under each event (the newest).
	webhookDeliveriesPerEvent = 10
	// webhookDeliveryPrefix starts delivery log ids ("whd_…", set by the
	// job runner): the delivery log's cursor must look like one.
	webhookDeliveryPrefix = "whd"
)

// webhookForm is an endpoint form's values (as submitted, when refused).
type webhookForm struct {
	URL     string
	Types   []string
	Enabled bool
}

// webhookType is one event type checkbox.
type webhookType struct {
	Type    string
	Label   string
	Checked bool
}

type webhooksBody struct {
	Endpoints []webhookEndpointRow
	Form      webhookForm
	Types     []webhookType
	Max       int
	Full      bool
}

type webhookEndpointRow struct {
	kessai.WebhookEndpoint
	// Types are the filter's types with their descriptions ("" = all).
	Types []webhookType
}

type webhookDetailBody struct {
	Endpoint   webhookEndpointRow
	Form       webhookForm
	Types      []webhookType
	Deliveries []webhookDeliveryRow
	// Next is the delivery log's next page, "" on the last.
	Next string
	// Paged is set past the first page (a link back to it).
	Paged bool
}

// webhookDeliveryRow is one delivery attempt with what the log shows
// beside it.
type webhookDeliveryRow struct {
	kessai.WebhookDelivery
	EventType string
	// EndpointURL is the endpoint's URL ("" once it was deleted).
	EndpointURL string
	// Resend offers the resend button: on the newest attempt of each
	// event only, not on every retry.
	Resend bool
}

type webhookEventsBody struct {
	Events []webhookEventRow
	Next   string
	// After is this page's cursor ("" on the first page).
	After        string
	Paged        bool
	HasEndpoints bool
}

type webhookEventRow struct {
	kessai.Event
	Label      string
	Deliveries []webhookDeliveryRow
	More       bool
}

// webhookSecretBody is the one page that shows a signing secret.
type webhookSecretBody struct {
	Endpoint webhookEndpointRow
	Secret   string
	Rotated  bool
}

// webhookTypes is the checkbox list, checked where the form has them.
func webhookTypes(lang string, checked []string) []webhookType {
	out := make([]webhookType, 0, len(kessai.EventTypes))
	for _, t := range kessai.EventTypes {
		out = append(out, webhookType{Type: t, Label: webhookTypeLabel(lang, t), Checked: slices.Contains(checked, t)})
	}
	return out
}

// webhookTypeLabel describes an event type ("" for one this console
// does not know, e.g. from a newer version sharing the database).
func webhookTypeLabel(lang, typ string) string {
	if k := "webhooks_type_" + typ; known(k) {
		return text(lang, k)
	}
	return ""
}

func webhookRow(lang string, ep kessai.WebhookEndpoint) webhookEndpointRow {
	ep.Secret = "" // never near a template
	row := webhookEndpointRow{WebhookEndpoint: ep}
	for _, t := range ep.EventTypes {
		row.Types = append(row.Types, webhookType{Type: t, Label: webhookTypeLabel(lang, t)})
	}
	return row
}

// webhookFormOf reads an endpoint form.
func webhookFormOf(r *http.Request) webhookForm {
	_ = r.ParseForm()
	return webhookForm{URL: strings.TrimSpace(r.PostForm.Get("url")), Types: r.PostForm["event_types"],
		Enabled: r.PostForm.Get("enabled") != ""}
}

// webhookFieldErrors files the service's per-item errors of the event type
// list ("event_types[3]") under the checkbox group.
func webhookFieldErrors(p *page) {
	for k, v := range p.FieldErrors {
		if strings.HasPrefix(k, "event_types[") {
			if prev := p.FieldErrors["event_types"]; prev != "" && !strings.Contains(prev, v) {
				v = prev + " " + v
			}
			p.FieldErrors["event_types"] = v
		}
	}
}

func (h *Handler) webhooksPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "webhooks", "webhooks_title")
	h.renderWebhooks(w, r, rq, p, http.StatusOK, webhookForm{Enabled: true})
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int, form webhookForm) {
	eps, err := h.svc.ListWebhookEndpoints(r.Context(), rq.ShopID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	b := webhooksBody{Form: form, Types: webhookTypes(rq.Lang, form.Types), Max: service.MaxWebhookEndpoints,
		Full: len(eps) >= service.MaxWebhookEndpoints}
	for _, ep := range eps {
		b.Endpoints = append(b.Endpoints, webhookRow(rq.Lang, ep))
	}
	p.Body = b
	h.render(w, r, status, "webhooks", p)
}

func (h *Handler) webhookCreate(w http.ResponseWriter, r *http.Request, rq *request) {
	form := webhookFormOf(r)
	ep, secret, err := h.svc.CreateWebhookEndpoint(r.Context(), rq.ShopID, service.WebhookEndpointInput{
		URL: form.URL, EventTypes: form.Types, Enabled: &form.Enabled})
	if err != nil {
		p := h.newPage(r, rq, "webhooks", "webhooks_title")
		if !formErrors(p, err, rq.Lang) {
			h.fail(w, r, rq, err)
			return
		}
		webhookFieldErrors(p)
		status := kindOf(err).HTTPStatus()
		if status == http.StatusBadRequest {
			status = http.StatusUnprocessableEntity
		}
		h.renderWebhooks(w, r, rq, p, status, form)
		return
	}
	h.log.InfoContext(r.Context(), "console: webhook endpoint created", "user", rq.User.ID, "endpoint", ep.ID)
	h.renderSecret(w, r, rq, ep, secret, false)
}

// renderSecret answers the form that made a secret with the secret, once.
// The page is not cached (every console page is no-store).
func (h *Handler) renderSecret(w http.ResponseWriter, r *http.Request, rq *request, ep *kessai.WebhookEndpoint, secret string, rotated bool) {
	title := "webhooks_created_title"
	if rotated {
		title = "webhooks_rotated_title"
	}
	p := h.newPage(r, rq, "webhooks", title)
	p.Body = webhookSecretBody{Endpoint: webhookRow(rq.Lang, *ep), Secret: secret, Rotated: rotated}
	h.render(w, r, http.StatusOK, "webhooks_secret", p)
}

func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "webhooks", "webhooks_endpoint_title")
	h.renderWebhook(w, r, rq, p, http.StatusOK, nil)
}

// renderWebhook shows an endpoint: its form (the submitted one when form
// is not nil) and a page of its delivery log (?after=).
func (h *Handler) renderWebhook(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int, form *webhookForm) {
	ctx := r.Context()
	ep, err := h.svc.GetWebhookEndpoint(ctx, rq.ShopID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	b := webhookDetailBody{Endpoint: webhookRow(rq.Lang, *ep)}
	if form == nil {
		form = &webhookForm{URL: ep.URL, Types: ep.EventTypes, Enabled: ep.Enabled}
	}
	b.Form, b.Types = *form, webhookTypes(rq.Lang, form.Types)

	// The delivery log of the endpoint across events: the service lists
	// by event, so this reads the store (its ListDeliveries takes either
	// filter).
	after := r.URL.Query().Get("after")
	if r.Method != http.MethodGet {
		after = ""
	}
	if after != "" && !kessai.ValidID(webhookDeliveryPrefix, after) {
		p.Errors = append(p.Errors, text(rq.Lang, "webhooks_bad_cursor"))
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
		after = ""
	}
	ds, err := h.svc.Store().ListDeliveries(ctx, rq.ShopID, "", ep.ID, kessai.Page{Limit: webhookDeliveriesPerPage + 1, After: after})
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	if len(ds) > webhookDeliveriesPerPage {
		ds = ds[:webhookDeliveriesPerPage]
		b.Next = BasePath + "/webhooks/" + url.PathEscape(ep.ID) + "?after=" + url.QueryEscape(ds[len(ds)-1].ID)
	}
	b.Paged = after != ""
	types := h.eventTypes(ctx, rq.ShopID, ds)
	seen := map[string]bool{}
	for _, d := range ds {
		b.Deliveries = append(b.Deliveries, webhookDeliveryRow{WebhookDelivery: d, EventType: types[d.EventID],
			EndpointURL: ep.URL, Resend: !seen[d.EventID]})
		seen[d.EventID] = true
	}
	p.Body = b
	h.render(w, r, status, "webhook", p)
}

// eventTypes looks up the type of each event of a page of deliveries
// (at most one query per distinct event; a missing event shows no type).
func (h *Handler) eventTypes(ctx context.Context, shopID string, ds []kessai.WebhookDelivery) map[string]string {
	out := map[string]string{}
	for _, d := range ds {
		if _, done := out[d.EventID]; done {
			continue
		}
		out[d.EventID] = ""
		if ev, err := h.svc.GetEvent(ctx, shopID, d.EventID); err == nil {
			out[d.EventID] = ev.Type
		}
	}
	return out
}

func (h *Handler) webhookUpdate(w http.ResponseWriter, r *http.Request, rq *request) {
	form := webhookFormOf(r)
	id := r.PathValue("id")
	types := form.Types
	if types == nil {
		types = []string{} // none ticked: every event again
	}
	_, err := h.svc.UpdateWebhookEndpoint(r.Context(), rq.ShopID, id, service.WebhookEndpointPatch{
		URL: &form.URL, EventTypes: &types, Enabled: &form.Enabled})
	if err != nil {
		if kindOf(err) == kessai.KindNotFound {
			h.fail(w, r, rq, err)
			return
		}
		p := h.newPage(r, rq, "webhooks", "webhooks_endpoint_title")
		if !formErrors(p, err, rq.Lang) {
			h.fail(w, r, rq, err)
			return
		}
		webhookFieldErrors(p)
		status := kindOf(err).HTTPStatus()
		if status == http.StatusBadRequest {
			status = http.StatusUnprocessableEntity
		}
		h.renderWebhook(w, r, rq, p, status, &form)
		return
	}
	h.log.InfoContext(r.Context(), "console: webhook endpoint updated", "user", rq.User.ID, "endpoint", id)
	redirect(w, r, BasePath+"/webhooks/"+url.PathEscape(id), "webhooks_updated")
}

func (h *Handler) webhookRotate(w http.ResponseWriter, r *http.Request, rq *request) {
	ep, secret, err := h.svc.RotateWebhookSecret(r.Context(), rq.ShopID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: webhook secret rotated", "user", rq.User.ID, "endpoint", ep.ID)
	h.renderSecret(w, r, rq, ep, secret, true)
}

func (h *Handler) webhookDelete(w http.ResponseWriter, r *http.Request, rq *request) {
	id := r.PathValue("id")
	if err := h.svc.DeleteWebhookEndpoint(r.Context(), rq.ShopID, id); err != nil {
		h.fail(w, r, rq, err)
		return
	}
	h.log.InfoContext(r.Context(), "console: webhook endpoint deleted", "user", rq.User.ID, "endpoint", id)
	redirect(w, r, BasePath+"/webhooks", "webhooks_deleted")
}

func (h *Handler) webhookBackToEndpoint(w http.ResponseWriter, r *http.Request, rq *request) {
	http.Redirect(w, r, BasePath+"/webhooks/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

func (h *Handler) webhookBackToEvents(w http.ResponseWriter, r *http.Request, rq *request) {
	http.Redirect(w, r, BasePath+"/webhooks/events", http.StatusSeeOther)
}

func (h *Handler) webhookEventsPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "webhooks", "webhooks_events_title")
	h.renderEvents(w, r, rq, p, http.StatusOK, r.URL.Query().Get("after"))
}

// renderEvents shows a page of events (after the cursor) with the newest
// delivery attempts of each.
func (h *Handler) renderEvents(w http.ResponseWriter, r *http.Request, rq *request, p *page, status int, after string) {
	ctx := r.Context()
	evs, err := h.svc.ListEvents(ctx, rq.ShopID, kessai.Page{Limit: webhookEventsPerPage, After: after})
	if err != nil && after != "" && formErrors(p, err, rq.Lang) {
		// A bad cursor: say so and show the first page.
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
		after = ""
		evs, err = h.svc.ListEvents(ctx, rq.ShopID, kessai.Page{Limit: webhookEventsPerPage})
	}
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	eps, err := h.svc.ListWebhookEndpoints(ctx, rq.ShopID)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	urls := map[string]string{}
	for _, ep := range eps {
		urls[ep.ID] = ep.URL
	}
	b := webhookEventsBody{HasEndpoints: len(eps) > 0, Paged: after != "", After: after}
	for _, ev := range evs.Events {
		row := webhookEventRow{Event: ev, Label: webhookTypeLabel(rq.Lang, ev.Type)}
		ds, err := h.svc.ListDeliveries(ctx, rq.ShopID, ev.ID, "", kessai.Page{Limit: webhookDeliveriesPerEvent})
		if err != nil {
			h.fail(w, r, rq, err)
			return
		}
		row.More = ds.HasMore
		for _, d := range ds.Deliveries {
			row.Deliveries = append(row.Deliveries, webhookDeliveryRow{WebhookDelivery: d, EventType: ev.Type, EndpointURL: urls[d.EndpointID]})
		}
		b.Events = append(b.Events, row)
	}
	if evs.HasMore && len(evs.Events) > 0 {
		b.Next = BasePath + "/webhooks/events?after=" + url.QueryEscape(evs.Events[len(evs.Events)-1].ID)
	}
	p.Body = b
	h.render(w, r, status, "webhooks_events", p)
}

// webhookResend queues an event again: to one endpoint (the form of the
// endpoint's delivery log) or to every endpoint that takes it (the events
// page). A refusal — no job runner, a disabled endpoint, no endpoint —
// is shown on the page the form came from.
func (h *Handler) webhookResend(w http.ResponseWriter, r *http.Request, rq *request) {
	eventID, endpointID := r.PathValue("event"), r.PostFormValue("endpoint_id")
	after := r.PostFormValue("after")
	if !kessai.ValidID(service.EventIDPrefix, after) {
		after = ""
	}
	_, err := h.svc.Resend(r.Context(), rq.ShopID, eventID, endpointID)
	if err == nil {
		h.log.InfoContext(r.Context(), "console: webhook resend", "user", rq.User.ID, "event", eventID, "endpoint", endpointID)
		if endpointID != "" {
			redirect(w, r, BasePath+"/webhooks/"+url.PathEscape(endpointID), "webhooks_resent")
			return
		}
		target := BasePath + "/webhooks/events"
		if after != "" {
			target += "?after=" + url.QueryEscape(after)
		}
		redirect(w, r, target, "webhooks_resent")
		return
	}
	if kindOf(err) == kessai.KindNotFound {
		h.fail(w, r, rq, err) // the event does not exist
		return
	}
	if endpointID != "" {
		if _, gerr := h.svc.GetWebhookEndpoint(r.Context(), rq.ShopID, endpointID); gerr == nil {
			p := h.newPage(r, rq, "webhooks", "webhooks_endpoint_title")
			if !formErrors(p, err, rq.Lang) {
				h.fail(w, r, rq, err)
				return
			}
			r.SetPathValue("id", endpointID)
			h.renderWebhook(w, r, rq, p, kindOf(err).HTTPStatus(), nil)
			return
		}
		h.fail(w, r, rq, err) // the endpoint is gone
		return
	}
	p := h.newPage(r, rq, "webhooks", "webhooks_events_title")
	if !formErrors(p, err, rq.Lang) {
		h.fail(w, r, rq, err)
		return
	}
	h.renderEvents(w, r, rq, p, kindOf(err).HTTPStatus(), after)
}

func init() {
	register(map[string][2]string{
		"webhooks_title":          {"Webhook", "Webhooks"},
		"webhooks_endpoint_title": {"Webhook エンドポイント", "Webhook endpoint"},
		"webhooks_events_title":   {"Webhook イベントと配信ログ", "Webhook events and deliveries"},
		"webhooks_created_title":  {"Webhook エンドポイントを作成しました", "Webhook endpoint created"},
		"webhooks_rotated_title":  {"署名シークレットを再発行しました", "Signing secret rotated"},
		"webhooks_intro": {"注文や決済の出来事を、登録した URL へ署名付き JSON で通知します。受信側は署名（Kessai-Signature）を検証し、イベント ID で重複を除いてください。",
			"kessai POSTs signed JSON events about orders and payments to the URLs registered here. Verify the Kessai-Signature header and de-duplicate by event id."},
		"webhooks_events_link":    {"イベントと配信ログ", "Events and deliveries"},
		"webhooks_endpoints":      {"エンドポイント", "Endpoints"},
		"webhooks_none":           {"エンドポイントはまだありません。", "No endpoints yet."},
		"webhooks_url":            {"URL", "URL"},
		"webhooks_url_help":       {"https の URL（http はローカルホストのみ）。リダイレクトはたどりません。", "An https URL (http only for localhost). Redirects are not followed."},
		"webhooks_event_types":    {"イベント種別", "Event types"},
		"webhooks_types_help":     {"チェックしない場合はすべてのイベントを送信します。", "Leave all unticked to receive every event."},
		"webhooks_all_events":     {"すべてのイベント", "All events"},
		"webhooks_enabled":        {"有効", "Enabled"},
		"webhooks_enabled_label":  {"このエンドポイントへ送信する", "Send events to this endpoint"},
		"webhooks_disabled":       {"無効", "Disabled"},
		"webhooks_status":         {"状態", "Status"},
		"webhooks_created_at":     {"作成日時", "Created"},
		"webhooks_id":             {"ID", "ID"},
		"webhooks_details":        {"詳細", "Details"},
		"webhooks_new":            {"エンドポイントを追加", "Add an endpoint"},
		"webhooks_create":         {"作成する", "Create"},
		"webhooks_full":           {"エンドポイントは %d 件までです。追加するには不要なものを削除してください。", "A shop can have at most %d endpoints; delete one to add another."},
		"webhooks_secret_label":   {"署名シークレット", "Signing secret"},
		"webhooks_secret_once":    {"このシークレットは今回だけ表示されます。再表示はできません。今すぐ受信側の設定に保存してください。", "This secret is shown only now and cannot be shown again. Save it in your receiver's configuration now."},
		"webhooks_secret_lost":    {"シークレットを紛失した場合は、エンドポイントの詳細画面から再発行してください。", "If you lose it, rotate it from the endpoint's page."},
		"webhooks_rotated_note":   {"以前のシークレットは直ちに無効になりました（猶予期間はありません）。これから送信される配信は、送信待ちの再試行も含め、新しいシークレットで署名されます。切り替えが済むまで、受信側では新旧両方のシークレットで検証してください。", "The old secret stopped signing at once (there is no grace period): every delivery from now on, including pending retries, is signed with the new one. Until your receiver is updated, verify against both the old and the new secret."},
		"webhooks_to_endpoint":    {"エンドポイントの詳細へ", "Go to the endpoint"},
		"webhooks_back_list":      {"Webhook 一覧へ", "Back to webhooks"},
		"webhooks_edit":           {"設定", "Settings"},
		"webhooks_save":           {"保存する", "Save"},
		"webhooks_rotate":         {"署名シークレットを再発行", "Rotate the signing secret"},
		"webhooks_rotate_help":    {"新しいシークレットを発行し、一度だけ表示します。以前のシークレットは直ちに無効になります。", "Issues a new secret, shown once; the old one stops signing at once."},
		"webhooks_rotate_confirm": {"署名シークレットを再発行します。以前のシークレットは直ちに無効になります。よろしいですか？", "Rotate the signing secret? The old secret stops signing at once."},
		"webhooks_delete":         {"エンドポイントを削除", "Delete the endpoint"},
		"webhooks_delete_help":    {"削除すると送信待ちの再試行も行われません。配信ログは残ります。", "Pending retries are dropped; the delivery log stays."},
		"webhooks_delete_confirm": {"このエンドポイントを削除します。よろしいですか？", "Delete this endpoint?"},
		"webhooks_deliveries":     {"配信ログ", "Delivery log"},
		"webhooks_no_deliveries":  {"配信の記録はまだありません。", "No deliveries yet."},
		"webhooks_at":             {"日時", "Time"},
		"webhooks_event":          {"イベント", "Event"},
		"webhooks_endpoint":       {"エンドポイント", "Endpoint"},
		"webhooks_http_status":    {"HTTP ステータス", "HTTP status"},
		"webhooks_attempt":        {"試行", "Attempt"},
		"webhooks_result":         {"結果", "Result"},
		"webhooks_duration":       {"所要時間", "Duration"},
		"webhooks_error":          {"エラー", "Error"},
		"webhooks_ms":             {"%d ミリ秒", "%d ms"},
		"webhooks_succeeded":      {"成功", "succeeded"},
		"webhooks_failed":         {"失敗", "failed"},
		"webhooks_deleted_ep":     {"（削除済み）", "(deleted)"},
		"webhooks_resend":         {"再送", "Resend"},
		"webhooks_resend_here":    {"このエンドポイントへ再送", "Resend to this endpoint"},
		"webhooks_resend_all":     {"全エンドポイントへ再送", "Resend to all endpoints"},
		"webhooks_resend_confirm": {"このイベントを再送します。よろしいですか？", "Resend this event?"},
		"webhooks_resend_help":    {"再送は新しい配信として試行 1 から始まり、同じイベント ID で届きます。", "A resend is a new delivery with the same event id, numbered from attempt 1."},
		"webhooks_no_events":      {"イベントはまだありません。", "No events yet."},
		"webhooks_more_attempts":  {"古い試行は API（GET /v1/events/{id}/deliveries）で確認できます。", "Older attempts are listed by the API (GET /v1/events/{id}/deliveries)."},
		"webhooks_no_endpoint":    {"有効なエンドポイントがないため、イベントは送信されません。", "There is no endpoint, so events are not sent anywhere."},
		"webhooks_first_page":     {"最初のページ", "First page"},
		"webhooks_bad_cursor":     {"ページの指定が正しくありません。最初のページを表示しています。", "The page cursor is not valid; showing the first page."},
		"webhooks_type":           {"種別", "Type"},

		"done_webhooks_updated": {"Webhook エンドポイントを更新しました。", "The webhook endpoint was updated."},
		"done_webhooks_deleted": {"Webhook エンドポイントを削除しました。", "The webhook endpoint was deleted."},
		"done_webhooks_resent":  {"再送を受け付けました。配信結果は配信ログに表示されます。", "The event was queued for resending; the result appears in the delivery log."},

		"webhooks_type_" + kessai.EventOrderCreated:          {"注文が作成された", "an order was created"},
		"webhooks_type_" + kessai.EventOrderUpdated:          {"注文の状態・内容が変わった", "an order's status or contents changed"},
		"webhooks_type_" + kessai.EventPaymentAuthorized:     {"カード決済の与信", "a card payment was authorised"},
		"webhooks_type_" + kessai.EventPaymentCaptured:       {"カード決済の売上計上", "a card payment was captured"},
		"webhooks_type_" + kessai.EventPaymentFailed:         {"決済が失敗した", "a payment failed"},
		"webhooks_type_" + kessai.EventPaymentCanceled:       {"決済の取消", "a payment was cancelled"},
		"webhooks_type_" + kessai.EventPaymentAmountChanged:  {"決済金額の変更", "a payment's amount changed"},
		"webhooks_type_" + kessai.EventPaymentReauthorized:   {"再オーソリ", "a card payment was re-authorised"},
		"webhooks_type_" + kessai.EventPaymentPending:        {"オンライン収納の登録・変更（支払待ち）", "a collection awaits payment (registered or changed)"},
		"webhooks_type_" + kessai.EventPaymentPaid:           {"オンライン収納の入金", "a collection was paid"},
		"webhooks_type_" + kessai.EventPaymentExpired:        {"オンライン収納の期限切れ", "a collection expired unpaid"},
		"webhooks_type_" + kessai.EventPaymentUnknown:        {"結果不明（要確認）", "the outcome is unknown (needs reconciling)"},
		"webhooks_type_" + kessai.EventMemberUpdated:         {"保存カードの登録・変更", "a saved card was registered or changed"},
		"webhooks_type_" + kessai.EventMemberDeleted:         {"保存カードの削除", "a saved card was deleted"},
		"webhooks_type_" + kessai.EventSubscriptionCreated:   {"定期購入の作成", "a subscription was created"},
		"webhooks_type_" + kessai.EventSubscriptionUpdated:   {"定期購入の変更", "a subscription changed"},
		"webhooks_type_" + kessai.EventSubscriptionRenewed:   {"定期購入の更新課金", "a subscription was renewed"},
		"webhooks_type_" + kessai.EventSubscriptionCancelled: {"定期購入の解約", "a subscription was cancelled"},
	})
}
