package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/webhook"
)

// kindDeliver is the delivery job's kind (stored in river_job.kind: never
// rename).
const kindDeliver = "deliver_webhook"

// DefaultSchedule is the published retry schedule (docs/webhooks.md): the
// wait after the 1st, 2nd, … failed attempt. Eleven attempts over about
// 3 days 15½ hours, so a shop that is down over a long weekend still gets
// every event. Early retries are quick for blips; later ones are spaced
// out so a broken endpoint costs little.
var DefaultSchedule = []time.Duration{
	1 * time.Minute,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
	12 * time.Hour,
	24 * time.Hour,
	24 * time.Hour,
}

// DeliveryTimeout bounds one delivery request, connection to last byte:
// receivers should answer at once and do slow work afterwards.
const DeliveryTimeout = 10 * time.Second

// Bounds on what is kept of a response: enough to show the shop's error
// page's first line in the delivery log, never a memory risk.
const (
	maxResponseRead = 64 << 10 // drained so the connection can be reused
	maxErrorText    = 500      // bytes of error text stored per attempt
	maxBodySnippet  = 200      // bytes of a failed response's body quoted in the error
)

// userAgent names the sender in the shop's access logs.
const userAgent = "kessai-webhooks/1"

// deliverArgs are a delivery job's arguments: which event goes to which
// endpoint. Only the IDs are stored; the worker reads the event and the
// endpoint (URL, secret) when it runs, so a fixed URL or a rotated secret
// applies to the next retry and no secret is ever written into River's
// tables.
type deliverArgs struct {
	ShopID     string `json:"shop_id" river:"unique"`
	EventID    string `json:"event_id" river:"unique"`
	EndpointID string `json:"endpoint_id" river:"unique"`
	// Resend marks a manual resend; it is queued without uniqueness.
	Resend bool `json:"resend,omitempty"`
}

// Kind implements river.JobArgs.
func (deliverArgs) Kind() string { return kindDeliver }

// uniqueAllStates makes a dispatched delivery unique in every state River
// keeps, finished ones included: a completed, discarded (given up) or
// cancelled delivery must not be queued again by a late or repeated
// dispatch. River forgets finished jobs after its retention periods
// (completed and cancelled: 1 day, discarded: 7 days); by then the event
// has long been marked dispatched, so nothing dispatches it again.
var uniqueAllStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStateCancelled,
	rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// deliverInsertOpts are the options of a delivery job: one attempt more
// than the schedule has delays, and, for dispatched jobs, uniqueness by
// (shop, event, endpoint). A resend (unique false) is deliberately not
// unique: the operator asked for another delivery, whatever happened to
// earlier ones.
func (r *Runner) deliverInsertOpts(unique bool) *river.InsertOpts {
	o := &river.InsertOpts{Queue: QueueWebhooks, MaxAttempts: len(r.schedule) + 1}
	if unique {
		o.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: uniqueAllStates}
	}
	return o
}

// deliverWorker sends one event to one endpoint per attempt.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	r *Runner
}

// NextRetry implements the published schedule in place of River's
// default exponential backoff. It counts the errors recorded so far, as
// River's own policy does, because a snoozed or rescued job's attempt
// number can differ from the number of failures.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	s := w.r.schedule
	i := min(len(job.Errors), len(s)-1)
	if i < 0 {
		return time.Time{} // no schedule: River's default
	}
	return time.Now().Add(s[i]) // River schedules on the real clock, not Options.Now
}

// Timeout gives the job room for the request and for writing its log
// entry; River's default minute would do, but this states the intent.
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return DeliveryTimeout + 20*time.Second
}

// Work delivers the event once. It returns nil on a 2xx answer and an
// error otherwise, so River retries on the schedule; it cancels the job
// (no retry, no log entry) when there is nothing to deliver any more: the
// event or endpoint is gone, the endpoint is disabled, or its filter no
// longer takes the event.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	r, a := w.r, job.Args
	ev, err := r.store.GetEvent(ctx, a.ShopID, a.EventID)
	if errors.Is(err, kessai.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("event %s no longer exists", a.EventID))
	}
	if err != nil {
		return fmt.Errorf("load event %s: %w", a.EventID, err)
	}
	ep, err := r.store.GetWebhookEndpoint(ctx, a.ShopID, a.EndpointID)
	if errors.Is(err, kessai.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("endpoint %s was deleted", a.EndpointID))
	}
	if err != nil {
		return fmt.Errorf("load endpoint %s: %w", a.EndpointID, err)
	}
	if !ep.Enabled {
		return river.JobCancel(fmt.Errorf("endpoint %s is disabled", a.EndpointID))
	}
	if !a.Resend && !wants(ep, ev.Type) {
		return river.JobCancel(fmt.Errorf("endpoint %s no longer subscribes to %s", a.EndpointID, ev.Type))
	}

	body, err := json.Marshal(webhook.Event{ID: ev.ID, Type: ev.Type, CreatedAt: ev.CreatedAt.UTC(), Data: ev.Data})
	if err != nil {
		// Only invalid JSON in Data gets here: a bug upstream that no
		// retry fixes. Log the attempt so the shop sees why nothing came.
		r.record(ctx, r.newDelivery(job, r.now(), 0, "event data is not valid JSON", 0))
		return river.JobCancel(fmt.Errorf("encode event %s: %w", ev.ID, err))
	}

	at := r.now()
	start := time.Now()
	status, sendErr := r.send(ctx, ep, ev, body, job.Attempt)
	r.record(ctx, r.newDelivery(job, at, status, errorText(sendErr), time.Since(start)))

	if sendErr == nil {
		return nil
	}
	attrs := []any{
		slog.String("event_id", ev.ID), slog.String("endpoint_id", ep.ID), slog.String("shop_id", ev.ShopID),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts), slog.Any("error", sendErr),
	}
	if job.Attempt >= job.MaxAttempts {
		r.log.ErrorContext(ctx, "jobs: webhook delivery failed for the last time; giving up", attrs...)
	} else {
		r.log.InfoContext(ctx, "jobs: webhook delivery failed; will retry", attrs...)
	}
	return sendErr
}

// send POSTs body to the endpoint and returns the HTTP status (0 when no
// answer came) and nil only for a 2xx answer.
//
// The signature's timestamp is the real time, not Options.Now: it is
// checked against the receiver's clock to stop replays, so a shifted
// business clock (the simulator's, in a demo) must not make every
// delivery look stale.
func (r *Runner) send(ctx context.Context, ep *kessai.WebhookEndpoint, ev *kessai.Event, body []byte, attempt int) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("bad endpoint URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte(ep.Secret), time.Now(), body))
	req.Header.Set(webhook.HeaderEventID, ev.ID)
	req.Header.Set(webhook.HeaderEventType, ev.Type)
	req.Header.Set(webhook.HeaderDeliveryAttempt, strconv.Itoa(attempt))

	resp, err := r.httpClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Say it plainly in the log; %w keeps the chain, which River
			// inspects to tell a shutdown from a failure.
			return 0, fmt.Errorf("no answer within %v: %w", r.timeout, err)
		}
		return 0, err
	}
	defer resp.Body.Close()
	// Read a bounded amount: enough to quote the start of an error page
	// and to let the connection be reused, never the whole of a huge or
	// endless answer.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return resp.StatusCode, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return resp.StatusCode, fmt.Errorf("HTTP %d: redirect to %q not followed; register the final URL", resp.StatusCode, resp.Header.Get("Location"))
	}
	if s := snippet(head); s != "" {
		return resp.StatusCode, fmt.Errorf("HTTP %d: %s", resp.StatusCode, s)
	}
	return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
}

// DeliveryIDPrefix starts the id of every delivery log entry ("whd_…").
const DeliveryIDPrefix = "whd"

// newDelivery builds the log entry of job's current attempt, started at at.
func (r *Runner) newDelivery(job *river.Job[deliverArgs], at time.Time, httpStatus int, errText string, took time.Duration) *kessai.WebhookDelivery {
	d := &kessai.WebhookDelivery{
		ID:         kessai.NewID(DeliveryIDPrefix, at),
		ShopID:     job.Args.ShopID,
		EventID:    job.Args.EventID,
		EndpointID: job.Args.EndpointID,
		Attempt:    job.Attempt,
		Status:     kessai.DeliverySucceeded,
		HTTPStatus: httpStatus,
		Error:      errText,
		DurationMS: took.Milliseconds(),
		At:         at,
	}
	if errText != "" {
		d.Status = kessai.DeliveryFailed
	}
	return d
}

// recordTimeout bounds the write of one log entry. It is generous because
// the entry is the shop's only view of the attempt, and a busy database
// (SQLite's single writer under load) can take seconds to give its lock.
const recordTimeout = 30 * time.Second

// record writes the log entry even if the job's context has just been
// cancelled (a hard stop): the attempt happened and the shop should see
// it. A write failure is logged, not returned: failing the job would send
// a successful delivery again just to log it.
func (r *Runner) record(ctx context.Context, d *kessai.WebhookDelivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := r.store.RecordDelivery(ctx, d); err != nil {
		r.log.ErrorContext(ctx, "jobs: recording a webhook delivery attempt failed",
			slog.String("event_id", d.EventID), slog.String("endpoint_id", d.EndpointID),
			slog.Int("attempt", d.Attempt), slog.Any("error", err))
	}
}

// errorText is err's message cut to maxErrorText bytes of valid UTF-8.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return truncate(err.Error(), maxErrorText)
}

// snippet is the start of a response body as one line of printable text.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	return truncate(s, maxBodySnippet)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// deliveryClient returns the client deliveries go through: a copy of c (or
// a fresh client) that never follows redirects, so a 3xx is reported as a
// failure instead of sending the signed event to another URL, perhaps
// another host.
func deliveryClient(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4 // a few warm connections per shop
		t.ResponseHeaderTimeout = DeliveryTimeout
		cp.Transport = t
	}
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// Resend queues a new delivery of event eventID of shop shopID to endpoint
// endpointID (enabled, whatever its filter says: the caller chose it), or,
// when endpointID is empty, to every enabled endpoint of the shop whose
// filter takes the event. It implements service.Resender. It backs the API's and the
// console's "resend" and works whatever happened to earlier deliveries:
// the new job has its own attempts and full retry schedule, and its
// attempts appear in the delivery log like any other.
//
// Errors are *kessai.Error: not found (event or endpoint) or conflict
// (endpoint disabled, or no endpoint to send to).
func (r *Runner) Resend(ctx context.Context, shopID, eventID, endpointID string) error {
	ev, err := r.store.GetEvent(ctx, shopID, eventID)
	if errors.Is(err, kessai.ErrNotFound) {
		return kessai.Errorf(kessai.KindNotFound, "event_not_found", "イベントが見つかりません。", "No such event.")
	}
	if err != nil {
		return kessai.Internal(fmt.Errorf("jobs: resend: load event: %w", err))
	}
	var targets []string
	if endpointID != "" {
		ep, err := r.store.GetWebhookEndpoint(ctx, shopID, endpointID)
		if errors.Is(err, kessai.ErrNotFound) {
			return kessai.Errorf(kessai.KindNotFound, "webhook_endpoint_not_found", "Webhook エンドポイントが見つかりません。", "No such webhook endpoint.")
		}
		if err != nil {
			return kessai.Internal(fmt.Errorf("jobs: resend: load endpoint: %w", err))
		}
		if !ep.Enabled {
			return kessai.Errorf(kessai.KindConflict, "webhook_endpoint_disabled",
				"Webhook エンドポイントが無効になっています。有効にしてから再送してください。",
				"The webhook endpoint is disabled. Enable it, then resend.")
		}
		// The endpoint's filter is not consulted: naming the endpoint is
		// an explicit request (the service layer documents the same).
		targets = []string{ep.ID}
	} else {
		eps, err := r.store.ListWebhookEndpoints(ctx, shopID)
		if err != nil {
			return kessai.Internal(fmt.Errorf("jobs: resend: list endpoints: %w", err))
		}
		for i := range eps {
			if wants(&eps[i], ev.Type) {
				targets = append(targets, eps[i].ID)
			}
		}
		if len(targets) == 0 {
			return kessai.Errorf(kessai.KindConflict, "no_webhook_endpoints",
				"このイベントを受け取る有効な Webhook エンドポイントがありません。",
				"No enabled webhook endpoint subscribes to this event.")
		}
	}
	params := make([]river.InsertManyParams, len(targets))
	for i, id := range targets {
		params[i] = river.InsertManyParams{
			Args:       deliverArgs{ShopID: shopID, EventID: eventID, EndpointID: id, Resend: true},
			InsertOpts: r.deliverInsertOpts(false),
		}
	}
	if _, err := r.client.InsertMany(ctx, params); err != nil {
		return kessai.Internal(fmt.Errorf("jobs: resend: queue delivery: %w", err))
	}
	return nil
}
