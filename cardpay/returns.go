package cardpay

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// The browser returns (spec §8.1 step 7 ff., §8.5, §9.2–9.4). The receiver
// decrypts the EncryptValue and routes it here; each handler finds its
// CheckoutSession by the echoed MerchantFree1, consumes it (so a replay is
// refused), finishes the work and sends the browser to the return URL
// with the outcome in the query:
//
//	status=succeeded|failed|cancelled|unknown  and  order_id, payment_id
//	(checkouts) or customer_id (saved cards), and error=<code> on failure.
//
// Without a return URL a small result page is shown instead.

// Browser outcome statuses.
const (
	browserSucceeded = "succeeded"
	browserFailed    = "failed"
	browserCancelled = "cancelled"
	browserUnknown   = "unknown"
)

// returnTimeout bounds the work done for one browser return; it goes on if
// the browser goes away (an authorisation must not be cut in half).
const returnTimeout = 3 * time.Minute

func detached(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), returnTimeout)
}

var (
	errReturnLost = kessai.Errorf(kessai.KindNotFound, "return_session_not_found",
		"3Dセキュア認証からの復帰に失敗しました。", "Failed to return from the gateway: the checkout could not be found.")
	errReturnReplayed = kessai.Errorf(kessai.KindConflict, "return_already_processed",
		"この認証結果はすでに処理されています。", "This return has already been processed.")
	errReturnExpired = kessai.Errorf(kessai.KindConflict, "return_session_expired",
		"お手続きの有効期限が切れました。最初からやり直してください。", "The checkout has expired. Please start again.")
)

// takeSession finds and consumes the session of a return.
func (p *Payer) takeSession(ctx context.Context, shopID, code string, kinds ...kessai.CheckoutKind) (*kessai.CheckoutSession, *checkoutState, error) {
	if !escott.ValidMerchantFree1(code) {
		return nil, nil, errReturnLost
	}
	s, err := p.store.FindCheckoutSession(ctx, shopID, code)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, nil, errReturnLost
	}
	if err != nil {
		return nil, nil, payflow.StoreErr(err)
	}
	kindOK := false
	for _, k := range kinds {
		kindOK = kindOK || s.Kind == k
	}
	if !kindOK {
		return nil, nil, errReturnLost
	}
	if !s.ConsumedAt.IsZero() {
		return nil, nil, errReturnReplayed
	}
	if p.now().After(s.ExpiresAt) {
		return nil, nil, errReturnExpired
	}
	if err := p.store.ConsumeCheckoutSession(ctx, shopID, s.ID, p.now()); err != nil {
		if errors.Is(err, kessai.ErrConflict) {
			return nil, nil, errReturnReplayed
		}
		return nil, nil, payflow.StoreErr(err)
	}
	var st checkoutState
	if err := json.Unmarshal(s.Data, &st); err != nil {
		return nil, nil, payflow.Internalf("cardpay: session %s: %w", s.ID, err)
	}
	return s, &st, nil
}

// checkoutOf loads the order and the payment of a checkout session; the
// payment must still be waiting (not superseded by a newer checkout).
func (p *Payer) checkoutOf(ctx context.Context, s *kessai.CheckoutSession) (*kessai.Order, *kessai.Payment, error) {
	o, err := p.store.GetOrder(ctx, s.ShopID, s.OrderID)
	if err != nil {
		return nil, nil, payflow.StoreErr(err)
	}
	pay, err := p.store.GetPayment(ctx, s.ShopID, s.PaymentID)
	if err != nil {
		return nil, nil, payflow.StoreErr(err)
	}
	if pay.State != kessai.PaymentNew {
		return nil, nil, errReturnReplayed
	}
	return o, pay, nil
}

// ThreeDSReturn continues a checkout after 3-D Secure (OperateId 3Secure):
// SecureResultCode 1, 8 or 9 stops it (design A-18); anything else goes on
// to the member step and the authorisation with every 3DS field and a new
// MerchantFree1 (spec §8.1 steps 8–11).
func (p *Payer) ThreeDSReturn(w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return) {
	ctx, cancel := detached(r)
	defer cancel()
	s, st, err := p.takeSession(ctx, shopID, ret.MerchantFree1(), kessai.CheckoutThreeDS)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	o, pay, err := p.checkoutOf(ctx, s)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	out := &browserOutcome{returnURL: st.ReturnURL, orderID: o.ID, paymentID: pay.ID}
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	if ret.ThreeDS.StopsPayment() {
		codes := ret.FailureCodes()
		if len(codes) == 0 {
			codes = []string{"3DS" + ret.ThreeDS.SecureResultCode}
		}
		pay.SecureResultCode = ret.ThreeDS.SecureResultCode
		if err := p.failBeforeCharge(ctx, o, pay, nil, codes, false); err != nil {
			p.finishBrowser(w, r, out.fail(err))
			return
		}
		p.log.InfoContext(ctx, "cardpay: 3-D Secure stopped the payment", "shop", shopID, "payment", pay.ID,
			"secure_result_code", ret.ThreeDS.SecureResultCode, "codes", codes)
		p.finishBrowser(w, r, out.fail(failureWith("three_d_secure_failed", "3D セキュア認証ができませんでした。",
			"3-D Secure authentication failed.", pay, o.ID, codes)))
		return
	}
	member, err := p.member(ctx, shopID, o.CustomerID)
	if err == nil && (st.Choice == ChoiceSaved || st.Choice == ChoiceChange) && member == nil {
		err = failureWith("card_not_found", "カード会員情報が見つかりません。", "The saved card could not be found.", pay, o.ID, nil)
		_ = p.failBeforeCharge(ctx, o, pay, nil, []string{"card_not_found"}, false)
	}
	if err == nil && st.Choice == ChoiceChange {
		// The second pass looks the member up again before changing it
		// (spec §8.1 step 10).
		if _, rerr := e.GW.ReferMember(ctx, escott.Ref{MerchantFree2: o.ID, MerchantFree3: o.CustomerID}, gwMember(member)); rerr != nil {
			err = p.memberFailed(ctx, o, pay, rerr, "card_not_found", "カード会員情報が見つかりません。", "The saved card could not be found.")
		}
	}
	if err == nil {
		var code string
		if code, err = p.newCode(); err == nil {
			err = p.complete(ctx, e, o, pay, st, member, ret.ThreeDS, code)
		}
	}
	if err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	p.finishBrowser(w, r, out.ok())
}

// startLink sends the shopper to the gateway's card page (spec §9.1): a
// payment, or first a member registration/change when the card is to be
// saved (CARD-12). Link payments are lump sum only.
func (p *Payer) startLink(ctx context.Context, e *payflow.Env, o *kessai.Order, pay *kessai.Payment, st *checkoutState, member *kessai.Member) (*Result, error) {
	ci, err := e.Set.CardCipher()
	if err != nil {
		return nil, kessai.Internal(err)
	}
	req := escott.LinkRequest{Ref: escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: o.ID}, RedirectURL: p.returnURL}
	var m *kessai.Member
	switch st.Choice {
	case ChoiceAdd:
		if m, err = p.newMember(o.ShopID, o.CustomerID); err != nil {
			return nil, err
		}
		req.Op, st.Step = escott.OpMemAdd, "member"
	case ChoiceChange:
		m = member
		req.Op, st.Step = escott.OpMemChg, "member"
	default:
		// A signed-in member pays with the stored ids, so that the
		// gateway's page can offer the saved card (spec §9.1).
		if e.Set.Card.Members {
			m = member
		}
		req.Op, st.Step = e.Set.Card.Operation, "pay"
		req.Amount = pay.Amount
	}
	if m != nil {
		req.Member = gwMember(m)
		req.MerchantFree3 = o.CustomerID
		st.NewMemberID, st.NewMemberPass = m.KaiinID, m.KaiinPass
	}
	h, err := e.GW.LinkHandOff(ci, req)
	if err != nil {
		return nil, kessai.Internal(err)
	}
	att, err := p.beginAttempt(ctx, pay, e.Set.Card.Operation, pay.TransactionCode, pay.Amount, true)
	if err != nil {
		return nil, err
	}
	st.AttemptID = att.ID
	if err := p.saveSession(ctx, kessai.CheckoutLink, o.ShopID, o.ID, pay.ID, o.CustomerID, pay.TransactionCode, st); err != nil {
		return nil, err
	}
	return &Result{Status: StatusRequiresAction, Order: o, Payment: pay, NextAction: redirectAction("link", h)}, nil
}

// LinkReturn handles a return from the gateway's card page (spec §9.2–9.4):
// a checkout's payment, the member step of a checkout (then the second hop
// to pay, CARD-12), or a saved-card registration outside a checkout.
func (p *Payer) LinkReturn(w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return) {
	ctx, cancel := detached(r)
	defer cancel()
	if !ret.FromCheckout() {
		p.memberReturn(ctx, w, r, shopID, ret, kessai.CheckoutMemberLink)
		return
	}
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	if ret.Get("MerchantId") != e.Set.Card.MerchantID {
		// CARD-13: a return for another merchant is not ours.
		p.log.WarnContext(ctx, "cardpay: link return for another MerchantId", "shop", shopID, "fields", escott.MaskValues(ret.Fields))
		p.returnError(w, r, kessai.Errorf(kessai.KindInvalid, "merchant_mismatch", "不正なリクエストです。", "Bad request."), ret)
		return
	}
	s, st, err := p.takeSession(ctx, shopID, ret.MerchantFree1(), kessai.CheckoutLink)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	o, pay, err := p.checkoutOf(ctx, s)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	out := &browserOutcome{returnURL: st.ReturnURL, orderID: o.ID, paymentID: pay.ID}
	att, err := p.store.GetAttempt(ctx, shopID, st.AttemptID)
	if err != nil || att.Status != kessai.AttemptPending {
		// Swept to unknown meanwhile (the shopper took longer than
		// the session allows): the operator resolves it.
		p.returnError(w, r, errReturnExpired, ret)
		return
	}
	codes := ret.FailureCodes()
	switch {
	case ret.ShopperCancelled():
		// CARD-13: back to the shop without a message; the order stays
		// as it was.
		if err := p.failBeforeCharge(ctx, o, pay, att, codes, true); err != nil {
			p.finishBrowser(w, r, out.fail(err))
			return
		}
		out.status = browserCancelled
		out.errCode = "cancelled"
		p.finishBrowser(w, r, out)
		return
	case !ret.OK():
		p.log.InfoContext(ctx, "cardpay: link payment failed", "shop", shopID, "payment", pay.ID, "codes", codes,
			"description", escott.DescribeCodes(codes, "en"))
		pay.SecureResultCode = ret.ThreeDS.SecureResultCode
		if err := p.failBeforeCharge(ctx, o, pay, att, codes, false); err != nil {
			p.finishBrowser(w, r, out.fail(err))
			return
		}
		if ret.ThreeDS.StopsPayment() {
			p.finishBrowser(w, r, out.fail(failureWith("three_d_secure_failed", "3D セキュア認証ができませんでした。",
				"3-D Secure authentication failed.", pay, o.ID, codes)))
			return
		}
		if op := ret.OperateID(); op == escott.OpMemAdd || op == escott.OpMemChg {
			// The first hop registers or changes the card (CARD-07,
			// CARD-12): say that this step failed, not the payment.
			me := memberSaveFailed(op)
			p.finishBrowser(w, r, out.fail(failureWith(me.Code, me.Ja, me.En, pay, o.ID, codes)))
			return
		}
		p.finishBrowser(w, r, out.fail(declined("payment_failed", pay, o.ID, codes)))
		return
	}
	switch op := ret.OperateID(); op {
	case escott.OpMemAdd, escott.OpMemChg:
		p.linkSecondHop(ctx, w, r, e, o, pay, att, st, ret, out)
	case escott.OpAuth, escott.OpGathering:
		att.Operation, att.MerchantFree1 = op, ret.MerchantFree1()
		req := escott.AuthRequest{Ref: escott.Ref{MerchantFree1: ret.MerchantFree1(), MerchantFree2: o.ID},
			Capture: op == escott.OpGathering, Amount: pay.Amount, PayType: escott.PayLump, ThreeDS: ret.ThreeDS,
			Member: escott.Member{KaiinID: st.NewMemberID, KaiinPass: st.NewMemberPass}}
		if amt := ret.Get("Amount"); amt != "" && amt != strconv.FormatInt(pay.Amount, 10) {
			// The amount is the one we sent; a different one is
			// recorded as sent and flagged for the operator.
			p.log.WarnContext(ctx, "cardpay: link return with a different amount", "shop", shopID, "payment", pay.ID, "amount", amt)
		}
		res := &escott.AuthResult{Response: ret.Response, Process: ret.Process(), TransactionID: ret.TransactionID(), PayType: escott.PayLump}
		if err := p.settleAuth(ctx, e, authCall{order: o, pay: pay, req: req, consent: st.Consent}, att, res, nil); err != nil {
			p.finishBrowser(w, r, out.fail(err))
			return
		}
		p.finishBrowser(w, r, out.ok())
	default:
		p.returnError(w, r, errReturnLost, ret)
	}
}

// linkSecondHop stores the member the gateway registered or changed and
// sends the browser straight back to the gateway to pay with it, carrying
// over any 3-D Secure result (spec §9.3). The second hop has its own
// transaction code, session and attempt: the first hop's attempt is
// finished as the member step it turned out to be, and the pending one of
// the second hop carries the code the gateway will charge under, so that
// a lost second answer is found by the sweep under the right code.
func (p *Payer) linkSecondHop(ctx context.Context, w http.ResponseWriter, r *http.Request, e *payflow.Env, o *kessai.Order,
	pay *kessai.Payment, att *kessai.Attempt, st *checkoutState, ret *escott.Return, out *browserOutcome) {
	m := &kessai.Member{ShopID: o.ShopID, CustomerID: o.CustomerID, KaiinID: st.NewMemberID, KaiinPass: st.NewMemberPass, CreatedAt: p.now()}
	if echoed := ret.Member(); echoed.KaiinID != "" && echoed.KaiinPass != "" {
		m.KaiinID, m.KaiinPass = echoed.KaiinID, echoed.KaiinPass
	}
	if err := p.putMember(ctx, m); err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	code, err := p.newCode()
	if err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	ci, err := e.Set.CardCipher()
	if err != nil {
		p.finishBrowser(w, r, out.fail(kessai.Internal(err)))
		return
	}
	h, err := e.GW.LinkHandOff(ci, escott.LinkRequest{Op: e.Set.Card.Operation,
		Ref:    escott.Ref{MerchantFree1: code, MerchantFree2: o.ID, MerchantFree3: o.CustomerID},
		Amount: pay.Amount, Member: gwMember(m), RedirectURL: p.returnURL, ThreeDS: ret.ThreeDS,
		TransactionDate: ret.Get("TransactionDate")})
	if err != nil {
		p.finishBrowser(w, r, out.fail(kessai.Internal(err)))
		return
	}
	now := p.now()
	hop := payflow.NewAttempt(now, pay, e.Set.Card.Operation, code, pay.Amount)
	next := *st
	next.Step, next.NewMemberID, next.NewMemberPass, next.AttemptID = "pay", m.KaiinID, m.KaiinPass, hop.ID
	if err := p.saveSession(ctx, kessai.CheckoutLink, o.ShopID, o.ID, pay.ID, o.CustomerID, code, &next); err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	att.Operation, att.MerchantFree1 = ret.OperateID(), ret.MerchantFree1()
	payflow.FinishAttempt(att, payflow.Succeeded, ret.Codes, now)
	err = p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.FinishAttempt(ctx, att); err != nil {
			return err
		}
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentNew {
			return errSuperseded
		}
		cur.TransactionCode, cur.UpdatedAt = code, now
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		*pay = *cur
		return tx.CreateAttempt(ctx, hop)
	})
	if err != nil {
		if !errors.Is(err, errSuperseded) {
			err = payflow.StoreErr(err)
		}
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	http.Redirect(w, r, h.URL(), http.StatusSeeOther)
}

// ThreeDSMemberReturn finishes a saved-card registration or change made
// through 3-D Secure (spec §8.5): on success the member is confirmed with
// 4MemRefM and only then stored; on failure a change keeps the old card
// (the plugins' wiping of it is a defect, MEMBER-05).
func (p *Payer) ThreeDSMemberReturn(w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return) {
	ctx, cancel := detached(r)
	defer cancel()
	p.memberReturn(ctx, w, r, shopID, ret, kessai.CheckoutMemberThreeDS)
}

func (p *Payer) memberReturn(ctx context.Context, w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return, kind kessai.CheckoutKind) {
	s, st, err := p.takeSession(ctx, shopID, ret.MerchantFree1(), kind)
	if err != nil {
		p.returnError(w, r, err, ret)
		return
	}
	out := &browserOutcome{returnURL: st.ReturnURL, customerID: s.CustomerID}
	switch {
	case kind == kessai.CheckoutMemberLink && ret.ShopperCancelled():
		out.status, out.errCode = browserCancelled, "cancelled"
		p.finishBrowser(w, r, out)
		return
	case ret.ThreeDS.StopsPayment():
		p.finishBrowser(w, r, out.fail(kessai.Errorf(kessai.KindDeclined, "three_d_secure_failed",
			"3D セキュア認証ができませんでした。", "3-D Secure authentication failed.")))
		return
	case !ret.OK():
		p.log.InfoContext(ctx, "cardpay: saved-card registration failed", "shop", shopID, "customer", s.CustomerID,
			"codes", ret.FailureCodes())
		// The return names the operation that failed; the session's
		// choice is the fallback for a return without one.
		op := ret.OperateID()
		if op != escott.OpMemAdd && op != escott.OpMemChg {
			op = escott.OpMemAdd
			if st.Choice == ChoiceChange {
				op = escott.OpMemChg
			}
		}
		p.finishBrowser(w, r, out.fail(memberSaveFailed(op)))
		return
	}
	m := &kessai.Member{ShopID: shopID, CustomerID: s.CustomerID, KaiinID: st.NewMemberID, KaiinPass: st.NewMemberPass, CreatedAt: p.now()}
	if echoed := ret.Member(); echoed.KaiinID != "" && echoed.KaiinPass != "" {
		m.KaiinID, m.KaiinPass = echoed.KaiinID, echoed.KaiinPass
	}
	e, err := p.env(ctx, shopID, false)
	if err == nil {
		if _, rerr := e.GW.ReferMember(ctx, escott.Ref{MerchantFree3: s.CustomerID}, gwMember(m)); rerr != nil {
			err = memberSaveFailed(escott.OpMemAdd)
		}
	}
	if err == nil {
		err = p.putMember(ctx, m)
	}
	if err != nil {
		p.finishBrowser(w, r, out.fail(err))
		return
	}
	p.finishBrowser(w, r, out.ok())
}

// browserOutcome is where a return sends the browser.
type browserOutcome struct {
	returnURL                      string
	orderID, paymentID, customerID string
	status, errCode                string
	ja, en                         string
	httpStatus                     int
}

func (o *browserOutcome) ok() *browserOutcome {
	o.status = browserSucceeded
	o.ja, o.en = "お支払いが完了しました。", "Payment is completed."
	if o.orderID == "" {
		o.ja, o.en = "カード情報を登録しました。", "The card has been saved."
	}
	return o
}

func (o *browserOutcome) fail(err error) *browserOutcome {
	o.status = browserFailed
	o.errCode = "internal_error"
	o.ja, o.en = "支払い処理に失敗しました。再度お試しください。", "The payment failed. Please try again."
	var f *Failure
	var ke *kessai.Error
	switch {
	case errors.As(err, &f):
		ke = f.Err
	case errors.As(err, &ke):
	}
	if ke != nil && ke.Kind != kessai.KindInternal {
		o.errCode, o.ja, o.en = ke.Code, ke.Ja, ke.En
		if ke.Kind == kessai.KindUnknown {
			o.status = browserUnknown
		}
	}
	return o
}

// finishBrowser sends the browser to the return URL, or shows the result.
func (p *Payer) finishBrowser(w http.ResponseWriter, r *http.Request, o *browserOutcome) {
	if o.returnURL != "" {
		if u, err := url.Parse(o.returnURL); err == nil {
			q := u.Query()
			q.Set("status", o.status)
			for k, v := range map[string]string{"order_id": o.orderID, "payment_id": o.paymentID, "customer_id": o.customerID, "error": o.errCode} {
				if v != "" {
					q.Set(k, v)
				}
			}
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.String(), http.StatusSeeOther)
			return
		}
	}
	status := o.httpStatus
	if status == 0 {
		status = http.StatusOK
	}
	renderResult(w, status, o)
}

// returnError answers a return that cannot be processed at all (unknown,
// replayed, expired or foreign): no state changes, a plain page.
func (p *Payer) returnError(w http.ResponseWriter, r *http.Request, err error, ret *escott.Return) {
	var ke *kessai.Error
	if !errors.As(err, &ke) {
		ke = kessai.Internal(err)
	}
	level := p.log.WarnContext
	if ke.Kind == kessai.KindInternal {
		level = p.log.ErrorContext
	}
	level(r.Context(), "cardpay: browser return refused", "code", ke.Code, "error", err, "fields", escott.MaskValues(ret.Fields))
	status := http.StatusBadRequest
	if ke.Kind == kessai.KindConflict {
		status = http.StatusConflict
	} else if ke.Kind == kessai.KindInternal {
		status = http.StatusInternalServerError
	}
	o := &browserOutcome{status: browserFailed, errCode: ke.Code, ja: ke.Ja, en: ke.En, httpStatus: status}
	renderResult(w, status, o)
}

var resultPage = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Ja}}</title>
<style>body{font-family:system-ui,"Noto Sans CJK JP",sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
p.en{color:#666}</style></head>
<body><h1 data-status="{{.Status}}">{{.Ja}}</h1><p class="en">{{.En}}</p>
{{if .Code}}<p><small>{{.Code}}</small></p>{{end}}</body></html>
`))

func renderResult(w http.ResponseWriter, status int, o *browserOutcome) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = resultPage.Execute(w, struct{ Status, Ja, En, Code string }{o.status, o.ja, o.en, o.errCode})
}
