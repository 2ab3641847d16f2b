package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/renewal"
	"github.com/kessai/kessai/service"
	"github.com/kessai/kessai/subscription"
	"github.com/kessai/kessai/testclock"
)

// Subscriptions (package renewal, SUB-01 … SUB-08) and the test clock over
// the JSON API. As for payments, the handlers only decode, check path ids
// and render; the lifecycle rules are package subscription's and the
// charging is the renewal engine's.
//
// A shop starts a subscription in two calls: it pays the first order with
// POST /v1/orders/{id}/pay and "recurring": true (the card is saved, lump
// sum only: SUB-02), then creates the subscription with that order as
// initial_order_id, which counts as the first payment. Creating is not
// idempotent by itself (every call makes a new subscription), so clients
// should send an Idempotency-Key, which the middleware honours as
// everywhere.
//
// The test clock moves the process's clock (package testclock, see its
// decisions) and then runs the renewals that became due synchronously, so
// a demo or a test sees their outcome in the answer instead of waiting for
// the job runner.

// subscriptionRoutes lists the subscription and test-clock endpoints (see
// routeTable).
func (a *API) subscriptionRoutes() []route {
	return []route{
		{"POST", "/v1/subscriptions", false, a.createSubscription},
		{"GET", "/v1/subscriptions", false, a.listSubscriptions},
		{"GET", "/v1/subscriptions/{id}", false, a.getSubscription},
		{"POST", "/v1/subscriptions/{id}/pause", false, a.subscriptionAction((*renewal.Engine).Pause)},
		{"POST", "/v1/subscriptions/{id}/resume", false, a.subscriptionAction((*renewal.Engine).Resume)},
		{"POST", "/v1/subscriptions/{id}/cancel", false, a.cancelSubscription},
		{"POST", "/v1/subscriptions/{id}/keep", false, a.subscriptionAction((*renewal.Engine).KeepActive)},

		{"GET", "/v1/test_clock", false, a.getTestClock},
		{"POST", "/v1/test_clock/advance", false, a.advanceTestClock},
		{"POST", "/v1/test_clock/reset", false, a.resetTestClock},
	}
}

var (
	errSubscriptionsUnavailable = kessai.Errorf(kessai.KindUnavailable, "subscriptions_unavailable",
		"このサーバーでは定期購入の API を利用できません（定期購入の機能が組み込まれていません）。",
		"Subscriptions are not available on this server (the renewal engine is not configured).")
	errSubscriptionNotFound = kessai.Errorf(kessai.KindNotFound, "subscription_not_found",
		"定期購入が見つかりません。", "No such subscription.")

	// The test clock is absent from a deployment (not a passing outage):
	// 404, like a route that does not exist, rather than a retryable 503.
	errTestClockUnavailable = kessai.Errorf(kessai.KindNotFound, "test_clock_unavailable",
		"このサーバーではテストクロックを利用できません（組み込みシミュレーターを使う構成でのみ有効です）。",
		"The test clock is not available on this server (only where the built-in simulator runs).")
	errTestClockProduction = kessai.Errorf(kessai.KindForbidden, "test_clock_production",
		"本番環境のショップではテストクロックを進められません。",
		"The test clock cannot be advanced for a shop in production.")
	errTestClockSimulatorOnly = kessai.Errorf(kessai.KindForbidden, "test_clock_simulator_only",
		"テストクロックはシミュレーター環境（environment: simulator）のショップでのみ進められます。SPS のテスト環境の日時は動かせません。",
		"The test clock can only be advanced for a shop on the simulator (environment: simulator): the dates of SPS's test environment cannot be moved.")
)

// subsCall starts a subscription route with an id in the path: the engine
// must be there, and the id plausible.
func (a *API) subsCall(c *call) (string, error) {
	if a.subs == nil {
		return "", errSubscriptionsUnavailable
	}
	id := c.r.PathValue("id")
	if !plausibleID(id) {
		return "", errSubscriptionNotFound
	}
	return id, nil
}

// subscriptionView is a subscription as the API shows it: the stored one
// plus the end of its paid period, which clients would otherwise have to
// compute from the schedule.
type subscriptionView struct {
	*kessai.Subscription
	// CurrentPeriodEnd is the next billing date on the schedule: the end
	// of the period paid last (or of the trial). In the past while a
	// renewal is failing; absent once the subscription is cancelled or
	// expired.
	CurrentPeriodEnd time.Time `json:"current_period_end,omitzero"`
}

func subscriptionViewOf(s *kessai.Subscription) subscriptionView {
	v := subscriptionView{Subscription: s}
	if !subscription.Status(s.Status).Final() {
		i := subscription.Interval{Unit: subscription.Unit(s.IntervalUnit), Count: s.IntervalCount, AnchorDay: s.AnchorDay}
		v.CurrentPeriodEnd = i.Date(s.First, s.Period).UTC()
	}
	return v
}

// subscriptionDetail is GET /v1/subscriptions/{id}: the subscription and
// its renewals, newest period first.
type subscriptionDetail struct {
	subscriptionView
	Renewals []kessai.Renewal `json:"renewals"`
}

// createTimeFields are the time fields of renewal.CreateInput. time.Time
// decodes itself, so decode's shape check cannot name a bad one, and
// encoding/json's own error names no field at all.
var createTimeFields = []string{"start_at", "trial_end", "end_at"}

// timeFieldErrors checks the named top-level fields of a JSON object as
// RFC 3339 times, exactly as time.Time decodes them. A body that is not
// an object yields nothing: decode reports that.
func timeFieldErrors(body []byte, names ...string) kessai.ValidationErrors {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return nil
	}
	var v kessai.ValidationErrors
	for _, n := range names {
		raw, ok := obj[n]
		if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		var t time.Time
		if err := t.UnmarshalJSON(raw); err == nil {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			typeMismatch(&v, n, "文字列（RFC 3339 の日時）", "a string (an RFC 3339 time)")
			continue
		}
		v.Add(n, "invalid_time", "日時は RFC 3339 形式（例: 2026-04-01T10:00:00+09:00）で指定してください。",
			"Use an RFC 3339 time with its offset, e.g. 2026-04-01T10:00:00+09:00.")
	}
	return v
}

// decodeCreate reads a CreateInput, naming bad times by field together
// with the shape check's findings.
func decodeCreate(c *call, in *renewal.CreateInput) error {
	terrs := timeFieldErrors(c.body, createTimeFields...)
	err := decode(c, in, false)
	if err == nil || len(terrs) == 0 {
		return err
	}
	var ve kessai.ValidationErrors
	if errors.As(err, &ve) {
		return append(ve, terrs...)
	}
	if kessai.AsError(err).Code == "invalid_body" {
		return terrs // the times were what encoding/json could not take
	}
	return err
}

// createSubscription makes a subscription over the customer's saved card
// (renewal.Engine.Create).
func (a *API) createSubscription(c *call) (int, any, error) {
	if a.subs == nil {
		return 0, nil, errSubscriptionsUnavailable
	}
	var in renewal.CreateInput
	if err := decodeCreate(c, &in); err != nil {
		return 0, nil, err
	}
	sub, err := a.subs.Create(c.ctx(), c.shopID, in)
	if err != nil {
		return 0, nil, err
	}
	c.header.Set("Location", "/v1/subscriptions/"+url.PathEscape(sub.ID))
	return http.StatusCreated, subscriptionViewOf(sub), nil
}

func (a *API) listSubscriptions(c *call) (int, any, error) {
	if a.subs == nil {
		return 0, nil, errSubscriptionsUnavailable
	}
	q, err := query(c, "status", "customer_id", "limit", "starting_after")
	if err != nil {
		return 0, nil, err
	}
	p, err := page(q)
	if err != nil {
		return 0, nil, err
	}
	var v kessai.ValidationErrors
	f := kessai.SubscriptionFilter{Status: q.Get("status"), CustomerID: q.Get("customer_id")}
	if f.CustomerID != "" && !validCustomerID(f.CustomerID) {
		v.Add("customer_id", "invalid_customer_id", "customer_id が正しくありません。", "customer_id is not valid.")
	}
	// A cursor from another list would silently skip rows (as in the
	// service's lists).
	if p.After != "" && !kessai.ValidID(renewal.IDPrefix, p.After) {
		v.Add("starting_after", "invalid_cursor", "starting_after が正しいカーソルではありません。", "starting_after is not a valid cursor.")
	}
	if err := v.Err(); err != nil {
		return 0, nil, err
	}
	if p.Limit == 0 {
		p.Limit = service.DefaultLimit
	}
	// One more than asked tells whether another page follows.
	subs, err := a.subs.List(c.ctx(), c.shopID, f, kessai.Page{Limit: p.Limit + 1, After: p.After})
	if err != nil {
		return 0, nil, err
	}
	out := listResponse[subscriptionView]{Data: make([]subscriptionView, 0, min(len(subs), p.Limit)), HasMore: len(subs) > p.Limit}
	for i := range subs[:min(len(subs), p.Limit)] {
		out.Data = append(out.Data, subscriptionViewOf(&subs[i]))
	}
	if out.HasMore {
		out.NextCursor = out.Data[len(out.Data)-1].ID
	}
	return http.StatusOK, out, nil
}

func (a *API) getSubscription(c *call) (int, any, error) {
	id, err := a.subsCall(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	sub, rs, err := a.subs.Get(c.ctx(), c.shopID, id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, subscriptionDetail{subscriptionView: subscriptionViewOf(sub), Renewals: rs}, nil
}

// subscriptionAction is the handler of a transition that takes no input
// (pause, resume, keep): the body, if any, must be an empty object.
func (a *API) subscriptionAction(act func(e *renewal.Engine, ctx context.Context, shopID, id string) (*kessai.Subscription, error)) handlerFunc {
	return func(c *call) (int, any, error) {
		id, err := a.subsCall(c)
		if err != nil {
			return 0, nil, err
		}
		var none struct{}
		if err := decode(c, &none, true); err != nil {
			return 0, nil, err
		}
		sub, err := act(a.subs, c.ctx(), c.shopID, id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, subscriptionViewOf(sub), nil
	}
}

// cancelRequest is the body of POST /v1/subscriptions/{id}/cancel.
type cancelRequest struct {
	// AtPeriodEnd keeps the subscription until the paid period ends and
	// cancels it then, without a renewal; false or absent cancels now.
	AtPeriodEnd bool `json:"at_period_end,omitempty"`
}

func (a *API) cancelSubscription(c *call) (int, any, error) {
	id, err := a.subsCall(c)
	if err != nil {
		return 0, nil, err
	}
	var in cancelRequest
	if err := decode(c, &in, true); err != nil {
		return 0, nil, err
	}
	sub, err := a.subs.Cancel(c.ctx(), c.shopID, id, in.AtPeriodEnd)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, subscriptionViewOf(sub), nil
}

// --- test clock ---

// MaxTestClockAdvance bounds one advance: five years (of 365 days), the
// longest billing interval, so one call can always reach the next renewal
// while a typo (milliseconds for seconds) cannot throw the clock
// centuries ahead.
const MaxTestClockAdvance = 5 * 365 * 24 * time.Hour

// testClockView is the clock as the API shows it.
type testClockView struct {
	Now time.Time `json:"now"`
	// OffsetSeconds is how far the clock is ahead of real time.
	OffsetSeconds int64 `json:"offset_seconds"`
}

// testClockAdvanced is the answer of an advance.
type testClockAdvanced struct {
	testClockView
	// RenewalsWoken counts the subscriptions the advance woke (charged,
	// retried, cancelled or expired as their time came).
	RenewalsWoken int `json:"renewals_woken"`
	// WakeError says that waking stopped on an error (logged under the
	// request id). The clock has moved all the same, and the job runner
	// wakes the rest: the answer is still a success, so a retry with the
	// same Idempotency-Key does not move the clock twice.
	WakeError string `json:"wake_error,omitempty"`
}

func (a *API) clockView() testClockView {
	return testClockView{Now: a.clock.Now().UTC(), OffsetSeconds: int64(a.clock.Offset() / time.Second)}
}

// advanceRequest is the body of POST /v1/test_clock/advance: exactly one
// of seconds and to.
type advanceRequest struct {
	Seconds *int64 `json:"seconds"`
	// To is an RFC 3339 time ahead of the clock; a string, so that a bad
	// one is named by field (see createTimeFields).
	To string `json:"to"`
}

func (a *API) getTestClock(c *call) (int, any, error) {
	if a.clock == nil {
		return 0, nil, errTestClockUnavailable
	}
	if _, err := query(c); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.clockView(), nil
}

// advanceTestClock moves the clock forward, then wakes every subscription
// that became due, synchronously. Only a shop on the simulator may: the
// simulator shares the clock, SPS's environments do not.
func (a *API) advanceTestClock(c *call) (int, any, error) {
	if a.clock == nil {
		return 0, nil, errTestClockUnavailable
	}
	var in advanceRequest
	if err := decode(c, &in, false); err != nil {
		return 0, nil, err
	}
	set, _, err := a.svc.GetSettings(c.ctx(), c.shopID)
	if err != nil {
		return 0, nil, err
	}
	switch set.Environment {
	case kessai.EnvSimulator:
	case kessai.EnvProduction:
		return 0, nil, errTestClockProduction
	default:
		return 0, nil, errTestClockSimulatorOnly
	}
	d, err := a.advanceBy(in)
	if err != nil {
		return 0, nil, err
	}
	if err := a.clock.Advance(d); err != nil {
		if errors.Is(err, testclock.ErrTooFar) {
			return 0, nil, kessai.ValidationErrors{kessai.FieldError("seconds", "test_clock_too_far",
				"テストクロックをこれ以上進められません。reset で実時間に戻してください。",
				"The test clock cannot go further ahead; reset it to real time.")}
		}
		return 0, nil, kessai.Internal(err)
	}
	out := testClockAdvanced{}
	if a.subs != nil {
		// The renewals run even if the client hangs up: the clock has
		// moved, and a charge abandoned half way helps no one.
		n, err := a.subs.WakeDue(context.WithoutCancel(c.ctx()))
		out.RenewalsWoken = n
		if err != nil {
			a.log.WarnContext(c.ctx(), "api: test clock: waking due subscriptions", "request_id", c.reqID, "error", err)
			out.WakeError = "Waking the due subscriptions stopped on an error; the job runner wakes the rest (see the log)."
			if c.lang != "en" {
				out.WakeError = "期日の来た定期購入の処理がエラーで中断しました。残りはジョブが処理します（ログを参照）。"
			}
		}
	}
	out.testClockView = a.clockView()
	return http.StatusOK, out, nil
}

// advanceBy validates an advance and returns its step.
func (a *API) advanceBy(in advanceRequest) (time.Duration, error) {
	var v kessai.ValidationErrors
	switch {
	case in.Seconds == nil && in.To == "":
		v.Add("seconds", "required", "seconds（進める秒数）または to（進める先の日時）を指定してください。",
			"Give seconds (how far to go) or to (the time to go to).")
	case in.Seconds != nil && in.To != "":
		v.Add("to", "seconds_and_to", "seconds と to はどちらか一方だけを指定してください。",
			"Give either seconds or to, not both.")
	case in.Seconds != nil:
		if *in.Seconds < 1 || *in.Seconds > int64(MaxTestClockAdvance/time.Second) {
			v.Add("seconds", "invalid_seconds", "seconds は 1〜157680000（5年）の整数で指定してください。",
				"seconds must be an integer from 1 to 157680000 (5 years).")
			break
		}
		return time.Duration(*in.Seconds) * time.Second, nil
	default:
		to, err := time.Parse(time.RFC3339Nano, in.To)
		if err != nil {
			v.Add("to", "invalid_time", "to は RFC 3339 形式の日時（例: 2026-05-01T00:00:00+09:00）で指定してください。",
				"to must be an RFC 3339 time, e.g. 2026-05-01T00:00:00+09:00.")
			break
		}
		d := to.Sub(a.clock.Now())
		switch {
		case d <= 0:
			v.Add("to", "to_not_future", "to はテストクロックの現在時刻より後にしてください（時間は戻せません。実時間へは reset）。",
				"to must be after the test clock's current time (it never goes back; reset returns to real time).")
		case d > MaxTestClockAdvance:
			v.Add("to", "to_too_far", "一度に進められるのは5年までです。",
				"The clock moves at most 5 years at a time.")
		default:
			return d, nil
		}
	}
	return 0, v.Err()
}

// resetTestClock returns the clock to real time. It is allowed in every
// environment: it only ever moves the shop towards real time, which is
// where a production shop must be.
func (a *API) resetTestClock(c *call) (int, any, error) {
	if a.clock == nil {
		return 0, nil, errTestClockUnavailable
	}
	var none struct{}
	if err := decode(c, &none, true); err != nil {
		return 0, nil, err
	}
	a.clock.Reset()
	return http.StatusOK, a.clockView(), nil
}
