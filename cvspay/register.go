package cvspay

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
	"github.com/kessai/kessai/service"
)

// RegisterInput is a collection checkout as the shop's backend (or the
// hosted checkout) submits it. The shopper chooses the actual channel
// (store, Pay-easy, e-money) on the collection agent's page, so there is
// nothing to choose here.
type RegisterInput struct {
	// ReturnURL is the link back to the shop on the agent's page (2Add
	// ReturnURL); the order's return_url when empty, then
	// Config.ReturnURL. The plugins sent the shop's top page; the
	// thank-you page is better now that it shows the payment details
	// (design A-06).
	ReturnURL string `json:"return_url,omitempty"`
	// Lang "en" writes the product name's "and more" suffix in English
	// (「　ｅｔｃ．」); anything else is Japanese (「、他」).
	Lang string `json:"lang,omitempty"`
}

// Statuses of a Result.
const (
	// StatusPending: registered; the shopper pays later at a store, by
	// Pay-easy or with e-money, starting from NextAction (CVS-06).
	StatusPending = "pending"
	// StatusSucceeded: nothing to pay, the order is paid (CVS-12).
	StatusSucceeded = "succeeded"
)

// NextAction tells the shop front where to send the shopper's browser:
// the collection agent's page for this payment (rkbn=1, spec §10.1 step 4).
type NextAction struct {
	// Type is "redirect" (a plain GET redirect).
	Type string `json:"type"`
	// Reason is "collection".
	Reason string `json:"reason"`
	Method string `json:"method"`
	URL    string `json:"url"`
}

// Result is a registered collection (or a zero-total order that needed
// none). Failures are errors (*Failure), never a Result.
type Result struct {
	Status  string          `json:"status"`
	Order   *kessai.Order   `json:"order"`
	Payment *kessai.Payment `json:"payment,omitempty"`
	// Collection is what the shopper needs to pay: amount (fee included),
	// fee, due date, the payment link for e-mails and the e-mail text
	// (CVS-08, design A-06).
	Collection *Details    `json:"collection,omitempty"`
	NextAction *NextAction `json:"next_action,omitempty"`
	// Replayed is set when the order was registered already: this is
	// that registration, nothing new was sent to the gateway.
	Replayed bool `json:"replayed,omitempty"`
}

// Register registers an order for payment at a convenience store, by
// Pay-easy or with e-money (CVS-01 … CVS-07, CVS-12), and returns where to
// send the shopper.
//
// The shopper's billing identity is checked first (CVS-02: kanji and kana
// names, phone), the settlement fee from the fee table is added once to
// the charged amount (CVS-04, design A-04), the due date is today + the
// shop's due days in JST at 23:59 (CVS-05), and the 2Add carries the
// fields of spec §10.2 (CVS-03, design A-05). On success the order is on
// hold (保留中) with the fee line, and payment.pending carries the payment
// details; no "processing" is ever set at this point (CVS-06). A refusal
// fails the order (CVS-07); a lost answer leaves the payment unknown,
// never retried. An order of 0 yen is paid at once without a registration
// (CVS-12).
//
// Register is idempotent per order: while the order has its unpaid
// registration, calling again returns it (Replayed) instead of registering
// twice — one active payment per order is the store's rule. That holds
// after the shop switched collections off too: the method's availability
// (SET-19) only governs new registrations, and a retried checkout (a
// double click, a lost answer) must get the payment code the shopper may
// already have been given, not a refusal.
func (c *Collector) Register(ctx context.Context, shopID, orderID string, in RegisterInput) (*Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		// Without credentials there is no registration to return
		// either; a checkout is refused as any new one would be.
		if _, uerr := c.env(ctx, shopID, true); uerr != nil {
			return nil, uerr
		}
		return nil, err
	}
	o, err := c.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	available := collectionMethod.Available(&e.Set)
	if res, err := c.existing(ctx, e, o, available); res != nil || err != nil {
		return res, err
	}
	if !available {
		return nil, collectionMethod.Unavailable()
	}
	if !payflow.Payable(o.Status) {
		return nil, payflow.ErrNotPayable(o)
	}
	returnURL := in.ReturnURL
	if returnURL != "" {
		if err := service.CheckReturnURL("return_url", returnURL); err != nil {
			return nil, kessai.ValidationErrors{kessai.AsError(err)}
		}
	} else if returnURL = o.ReturnURL; returnURL == "" {
		returnURL = c.returnURL
	}
	if v := collection.Validate(o.Billing); v != nil {
		return nil, v
	}
	if o.Amount == 0 {
		return c.payZero(ctx, e, o)
	}

	// The fee is computed on a copy: the order is written once, with the
	// outcome (success or unknown), so a refused registration leaves no
	// fee line behind for a card payment to charge.
	work := *o
	work.Items = slices.Clone(o.Items)
	fee, _ := collection.ApplyFee(&work, e.Set.Collection.FeeRows, e.Set.Collection.FeeEnabled)
	if err := card.CheckAmount(work.Amount); err != nil {
		return nil, kessai.Errorf(kessai.KindInvalid, "amount_too_large",
			fmt.Sprintf("決済手数料を含めたお支払い金額（%d円）が上限を超えています。", work.Amount),
			fmt.Sprintf("The amount including the settlement fee (%d yen) is above the gateway's limit.", work.Amount))
	}
	payLimit, err := collection.PayLimitForDueDays(c.now(), e.Set.Collection.DueDays)
	if err != nil {
		return nil, err
	}
	tel, err := collection.TelNo(o.Billing.Phone)
	if err != nil {
		return nil, err // Validate passed it, so only a bug gets here
	}
	code, err := c.newCode()
	if err != nil {
		return nil, err
	}
	now := c.now()
	pay := &kessai.Payment{ID: kessai.NewID(PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCollection,
		State: kessai.PaymentNew, Amount: work.Amount, Fee: fee, Currency: kessai.Currency, TransactionCode: code,
		Operation: escott.OpCvsAdd, PayLimit: payLimit, CustomerID: o.CustomerID, CreatedAt: now, UpdatedAt: now}
	if res, err := c.claim(ctx, e, o, pay); res != nil || err != nil {
		return res, err
	}
	req := escott.CollectionRequest{Ref: escott.Ref{MerchantFree1: code, MerchantFree2: o.ID}, Amount: pay.Amount,
		PayLimit: payLimit, NameKanji: collection.NameKanji(o.Billing), NameKana: collection.NameKana(o.Billing),
		TelNo: tel, ShouhinName: collection.ShouhinName(o.Items, in.Lang), ReturnURL: returnURL}
	return c.register(ctx, e, pay, req, true)
}

// AdminRegisterInput is the operator's registration of an order that has
// no collection yet (ADMIN-15, 新規 → 登録).
type AdminRegisterInput struct {
	// DueDate is 支払期日, YYYYMMDD or YYYY-MM-DD (JST), from today (design
	// A-26) to 60 days ahead; empty means today + the shop's due days.
	DueDate string `json:"due_date,omitempty"`
	// Amount is 支払い金額; 0 means the order's total.
	Amount int64 `json:"amount,omitempty"`
}

// RegisterFromAdmin registers an order from the admin console (ADMIN-15):
// pro plan only; the operator's due date and amount; the data of CVS-03
// without ReturnURL; the kana may be empty (the kanji name is sent
// instead, as the plugins do on this path). Unlike checkout, no fee is
// added and the order status is not changed. Only an order without a
// registration can be registered: an unpaid one is changed or cancelled
// instead, and a cancelled one cannot be registered again ([MANUAL]).
func (c *Collector) RegisterFromAdmin(ctx context.Context, shopID, orderID string, in AdminRegisterInput) (*View, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
	defer cancel()
	e, err := c.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	if err := checkPlan(e.Set.Plan); err != nil {
		return nil, err
	}
	o, err := c.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	switch o.Status {
	case kessai.OrderProcessing, kessai.OrderCompleted:
		return nil, payflow.ErrAlreadyPaid
	case kessai.OrderCancelled:
		return nil, kessai.Errorf(kessai.KindConflict, "order_cancelled",
			"キャンセル済みの注文は登録できません。", "A cancelled order cannot be registered.")
	}
	if err := c.checkAdminRegistrable(ctx, e, o); err != nil {
		return nil, err
	}
	now := c.now()
	var v kessai.ValidationErrors
	amount := in.Amount
	if amount == 0 {
		amount = o.Amount
	}
	if err := card.CheckAmount(amount); err != nil {
		v = append(v, kessai.AsError(err))
	}
	var payLimit string
	if in.DueDate == "" {
		payLimit, err = collection.PayLimitForDueDays(now, e.Set.Collection.DueDays)
	} else {
		payLimit, err = collection.PayLimitForDate(in.DueDate, now)
	}
	if err != nil {
		v = append(v, kessai.AsError(err))
	}
	for _, fe := range collection.Validate(o.Billing) {
		// The kana may be empty here: NameKana falls back to the kanji
		// name on this path (ADMIN-15, CHG-18).
		if fe.Code == "required" && (fe.Field == "billing.last_name_kana" || fe.Field == "billing.first_name_kana") {
			continue
		}
		v = append(v, fe)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	tel, err := collection.TelNo(o.Billing.Phone)
	if err != nil {
		return nil, err
	}
	code, err := c.newCode()
	if err != nil {
		return nil, err
	}
	pay := &kessai.Payment{ID: kessai.NewID(PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCollection,
		State: kessai.PaymentNew, Amount: amount, Currency: kessai.Currency, TransactionCode: code,
		Operation: escott.OpCvsAdd, PayLimit: payLimit, CustomerID: o.CustomerID, CreatedAt: now, UpdatedAt: now}
	if err := c.store.CreatePayment(ctx, pay); err != nil {
		if errors.Is(err, kessai.ErrDuplicate) {
			return nil, payflow.ErrInProgress // registered meanwhile by someone else
		}
		return nil, payflow.StoreErr(err)
	}
	req := escott.CollectionRequest{Ref: escott.Ref{MerchantFree1: code, MerchantFree2: o.ID}, Amount: amount,
		PayLimit: payLimit, NameKanji: collection.NameKanji(o.Billing), NameKana: collection.NameKana(o.Billing),
		TelNo: tel, ShouhinName: collection.ShouhinName(o.Items, "ja")}
	var f *Failure
	if _, err := c.register(ctx, e, pay, req, false); err != nil {
		if errors.As(err, &f) {
			// The operator reads the codes (ERR-02), not the shopper's text.
			if f.Err.Kind == kessai.KindUnknown {
				f.Err.Ja, f.Err.En = errUnknownBlocks().Ja, errUnknownBlocks().En
			} else {
				f.Err.Ja = "登録に失敗しました。" + escott.DescribeCodes(f.Codes, "ja")
				f.Err.En = "The registration failed: " + escott.DescribeCodes(f.Codes, "en")
			}
		}
		return nil, err
	}
	return c.Get(ctx, shopID, pay.ID)
}

// checkAdminRegistrable refuses ADMIN-15 for an order that already has a
// payment: an active one of either method, or a collection that was ever
// registered (card.PermitCollection on its state says why: unpaid, paid,
// cancelled, expired).
func (c *Collector) checkAdminRegistrable(ctx context.Context, e *payflow.Env, o *kessai.Order) error {
	pays, err := c.store.ListPayments(ctx, e.ShopID, o.ID)
	if err != nil {
		return payflow.StoreErr(err)
	}
	for i := len(pays) - 1; i >= 0; i-- {
		p := &pays[i]
		switch {
		case p.State == kessai.PaymentUnknown:
			return errUnknownBlocks()
		case p.State == kessai.PaymentNew:
			return payflow.ErrInProgress
		case p.Method == kessai.MethodCard && p.State.Active():
			return payflow.ErrAlreadyPaid
		case p.Method != kessai.MethodCollection || p.State == kessai.PaymentFailed:
			continue
		}
		hist, err := c.store.ListHistory(ctx, e.ShopID, p.ID)
		if err != nil {
			return payflow.StoreErr(err)
		}
		if err := card.PermitCollection(e.Set.Plan, card.DeriveCollectionState(hist), escott.OpCvsAdd, c.now()); err != nil {
			return err
		}
	}
	return nil
}

// existing returns the order's registration when it has one that the
// shopper can still pay (Register is idempotent per order), an error when
// the order's active payment stands in the way, or nothing when the order
// is free. When takeOver is set, an abandoned payment that never reached
// the gateway is cleared on the way; without it (no new registration may
// follow, the method being off) such a payment is left alone and the
// order counts as free, so that a refused checkout changes nothing.
func (c *Collector) existing(ctx context.Context, e *payflow.Env, o *kessai.Order, takeOver bool) (*Result, error) {
	pays, err := c.store.ListPayments(ctx, e.ShopID, o.ID)
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	var cur *kessai.Payment
	for i := range pays {
		if pays[i].State.Active() {
			cur = &pays[i]
		}
	}
	if cur == nil {
		return nil, nil
	}
	switch {
	case cur.State == kessai.PaymentUnknown:
		return nil, errUnknownBlocks()
	case cur.State == kessai.PaymentNew:
		if !takeOver {
			return nil, nil
		}
		return nil, c.supersede(ctx, cur)
	case cur.Method == kessai.MethodCollection && cur.State == kessai.PaymentPending:
		if !slices.Contains(reopenable, o.Status) {
			return nil, payflow.ErrNotPayable(o)
		}
		if past, _ := collection.Expired(cur.PayLimit, c.now()); past {
			return nil, kessai.Errorf(kessai.KindConflict, "collection_past_due",
				"この注文のお支払い期限を過ぎています。ショップにお問い合わせください。",
				"The payment due date of this order has passed. Please contact the shop.")
		}
		return c.pendingResult(e, o, cur, true), nil
	}
	return nil, payflow.ErrAlreadyPaid
}

// pendingResult is the Result of a registered, unpaid collection.
func (c *Collector) pendingResult(e *payflow.Env, o *kessai.Order, pay *kessai.Payment, replayed bool) *Result {
	r := &Result{Status: StatusPending, Order: o, Payment: pay, Collection: details(e.GW, pay), Replayed: replayed}
	if pay.FreeArea != "" {
		r.NextAction = &NextAction{Type: "redirect", Reason: "collection", Method: "GET", URL: e.GW.PaymentURL(pay.FreeArea, false)}
	}
	return r
}

// claim inserts the new payment, which makes it the order's one active
// payment. When another active payment got there first — a concurrent
// Register of the same order, typically — it answers as existing does:
// that registration, or why not.
func (c *Collector) claim(ctx context.Context, e *payflow.Env, o *kessai.Order, pay *kessai.Payment) (*Result, error) {
	for range 3 {
		err := c.store.CreatePayment(ctx, pay)
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, kessai.ErrDuplicate) {
			return nil, payflow.StoreErr(err)
		}
		res, err := c.existing(ctx, e, o, true)
		if res != nil || err != nil {
			return res, err
		}
	}
	return nil, payflow.ErrInProgress
}

// supersede clears a payment that is "new" (created, no outcome yet) when
// it is provably idle, or says why not: a payment with a gateway call in
// flight or undecided is in progress; one waiting at a card 3-D Secure or
// link page whose session is still open is taken over — its session is
// consumed, so its return, should it still come, is refused — as is one
// left without any call for longer than the stale period. This is
// cardpay's rule (payflow.CheckNoCall, payflow.TakeOver), so a shopper who
// leaves the card page and picks a convenience store is not blocked.
func (c *Collector) supersede(ctx context.Context, cur *kessai.Payment) error {
	if err := payflow.CheckNoCall(ctx, c.store, cur); err != nil {
		return err
	}
	if err := payflow.TakeOver(ctx, c.store, cur, c.now(), c.stale); err != nil {
		return err
	}
	return c.abandon(ctx, cur, "superseded")
}

// abandon fails a payment that never reached the gateway, freeing its
// order. Nothing happened at the gateway; payment.failed is for the
// shop's records.
func (c *Collector) abandon(ctx context.Context, pay *kessai.Payment, reason string) error {
	err := c.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetPayment(ctx, pay.ShopID, pay.ID)
		if err != nil {
			return err
		}
		if cur.State != kessai.PaymentNew {
			return nil
		}
		cur.State, cur.FailureCodes, cur.UpdatedAt = kessai.PaymentFailed, []string{reason}, c.now()
		if err := tx.UpdatePayment(ctx, cur); err != nil {
			return err
		}
		return c.svc.Emit(ctx, tx, cur.ShopID, kessai.EventPaymentFailed, cur)
	})
	if err != nil {
		return payflow.StoreErr(err)
	}
	c.svc.Kick()
	return nil
}

// payZero completes a zero-total order without a registration (CVS-12):
// the order is paid at once, with the status a paid collection gets.
func (c *Collector) payZero(ctx context.Context, e *payflow.Env, o *kessai.Order) (*Result, error) {
	to := card.OrderStatusAfterCollectionPaid(e.Set.Collection.CompletedStatus == kessai.OrderCompleted, o)
	var fresh *kessai.Order
	err := c.store.InTx(ctx, func(tx kessai.Store) error {
		var err error
		fresh, _, err = c.updateOrder(ctx, tx, o.ShopID, o.ID, moveStatus(payflow.PayableStatuses, to))
		return err
	})
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	c.svc.Kick()
	return &Result{Status: StatusSucceeded, Order: fresh}, nil
}

// register sends the 2Add of a claimed payment and settles it: the attempt
// first, then the call, then one transaction with the outcome. checkout
// says whether the shopper's checkout asked (the order gets the fee line
// and goes on hold, or fails) or an operator did (the order is left
// alone, ADMIN-15).
func (c *Collector) register(ctx context.Context, e *payflow.Env, pay *kessai.Payment, req escott.CollectionRequest, checkout bool) (*Result, error) {
	att, err := c.beginAttempt(ctx, pay, escott.OpCvsAdd, pay.Amount)
	if err != nil {
		// No call was made; the payment must not block the order.
		_ = c.abandon(ctx, pay, "not_sent")
		return nil, err
	}
	res, callErr := e.GW.RegisterCollection(ctx, req)
	oc := outcomeOf(callErr)
	codes := gatewayCodes(callErr)
	now := c.now()
	payflow.FinishAttempt(att, oc, codes, now)
	pay.UpdatedAt = now
	var resp *escott.Response
	if res != nil {
		resp = res.Response
	}
	event := kessai.EventPaymentFailed
	switch oc {
	case payflow.Succeeded:
		pay.State, event = kessai.PaymentPending, kessai.EventPaymentPending
		pay.ProcessID, pay.ProcessPass, pay.FreeArea = res.Process.ProcessID, res.Process.ProcessPass, res.FreeArea
		pay.FailureCodes = nil
	case payflow.Unknown:
		pay.State, event = kessai.PaymentUnknown, kessai.EventPaymentUnknown
		pay.FailureCodes = codes
	default:
		pay.State = kessai.PaymentFailed
		pay.FailureCodes = codes
	}
	var hist *kessai.HistoryEntry
	if oc != payflow.Unknown {
		hist = c.historyEntry(pay, escott.OpCvsAdd, resp, codes, pay.Amount)
		// The plugins add the request's PayLimit and Amount to the logged
		// answer (spec §5.13), which does not carry them.
		hist.Fields["PayLimit"] = req.PayLimit
		hist.Fields["Amount"] = fmt.Sprint(req.Amount)
	}
	var order *kessai.Order
	err = c.store.InTx(ctx, func(tx kessai.Store) error {
		if err := payflow.RecordOutcome(ctx, tx, att, pay, hist); err != nil {
			return err
		}
		if err := c.emit(ctx, tx, e.GW, event, pay, oc == payflow.Succeeded); err != nil {
			return err
		}
		var err error
		order, _, err = c.updateOrder(ctx, tx, pay.ShopID, pay.OrderID, func(o *kessai.Order) bool {
			if !checkout {
				return false
			}
			switch oc {
			case payflow.Succeeded:
				// CVS-06: on hold, awaiting the payment; the fee line
				// is written with the registration that charges it.
				changed := setFee(o, pay.Fee)
				return moveStatus(payflow.PayableStatuses, kessai.OrderOnHold)(o) || changed
			case payflow.Unknown:
				// The gateway may hold this amount: keep the fee on the
				// order until an operator resolves the payment.
				return setFee(o, pay.Fee)
			}
			// CVS-07: the order fails, and carries no fee that a card
			// payment would then charge.
			changed := setFee(o, 0)
			return moveStatus(payflow.PayableStatuses, kessai.OrderFailed)(o) || changed
		})
		return err
	})
	if err != nil {
		// The call happened but its outcome could not be written: the
		// attempt stays pending and the sweep turns it unknown, which is
		// the truth from the database's point of view.
		c.log.ErrorContext(ctx, "cvspay: registration outcome not recorded", "shop", pay.ShopID, "payment", pay.ID,
			"attempt", att.ID, "outcome", oc, "codes", codes, "error", err)
		return nil, payflow.StoreErr(err)
	}
	c.svc.Kick()
	switch oc {
	case payflow.Succeeded:
		if pay.FreeArea == "" {
			c.log.ErrorContext(ctx, "cvspay: 2Add answered OK without FreeArea: no payment link", "shop", pay.ShopID, "payment", pay.ID)
		}
		return c.pendingResult(e, order, pay, false), nil
	case payflow.Unknown:
		c.log.WarnContext(ctx, "cvspay: registration outcome unknown", "shop", pay.ShopID, "payment", pay.ID,
			"merchant_free1", pay.TransactionCode, "error", callErr)
		return nil, &Failure{Err: errRegistrationUnknown(), PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
	}
	c.log.InfoContext(ctx, "cvspay: registration refused", "shop", pay.ShopID, "payment", pay.ID,
		"codes", codes, "description", escott.DescribeCodes(codes, "en"))
	return nil, &Failure{Err: &kessai.Error{Kind: kessai.KindDeclined, Code: "payment_failed",
		Ja: "支払い処理に失敗しました。再度お試しください。", En: "The payment could not be processed. Please try again."},
		PaymentID: pay.ID, OrderID: pay.OrderID, Codes: codes}
}
