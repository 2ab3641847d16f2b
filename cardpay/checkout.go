package cardpay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/card"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// Choice is what the shopper does with the saved card (CARD-06/07).
type Choice string

// The saved-card choices, as the gateway sequences them (spec §7.5).
const (
	ChoiceNone   Choice = ""       // a new card, not saved
	ChoiceAdd    Choice = "add"    // register the new card, then pay with it (4MemAdd)
	ChoiceChange Choice = "change" // replace the saved card, then pay with it (4MemChg, design A-02)
	ChoiceSaved  Choice = "saved"  // pay with the saved card (4MemRefM)
)

// PayInput is a card checkout as the shop's backend (or the hosted
// checkout) submits it. The card itself never appears: the shopper's
// browser gave it to the gateway's token script, which answered Token
// (CARD-02, design A-10).
type PayInput struct {
	// Token is the one-time token from the gateway's script; required in
	// token type unless UseSavedCard. Link type takes none.
	Token string `json:"token,omitempty"`
	// CardPrefix is the first digits (at most 6) of the card the token
	// stands for, which the checkout script knows: the token does not tell
	// the brand, and the installment rules depend on it (CARD-05).
	CardPrefix string `json:"card_prefix,omitempty"`
	// PayType is 支払回数: 01 (default) lump sum, 02…24 installments, 80
	// bonus, 88 revolving; checked against the setting and the brand.
	PayType escott.PayType `json:"pay_type,omitempty"`
	// UseSavedCard pays with the customer's saved card (no token).
	UseSavedCard bool `json:"use_saved_card,omitempty"`
	// SaveCard registers the new card (or replaces the saved one) for the
	// customer before paying. Guests cannot save cards (design A-25).
	SaveCard bool `json:"save_card,omitempty"`
	// CardholderName is カード名義, ASCII letters and spaces; required
	// with 3-D Secure for a new card (BillingFullName).
	CardholderName string `json:"cardholder_name,omitempty"`
	// Consent is 「個人情報の取り扱いに同意する」, required with 3-D Secure
	// and with the link type (CARD-10).
	Consent bool `json:"consent,omitempty"`
	// ReturnURL is where the shopper's browser goes after a 3-D Secure or
	// link-type round trip; the order's return_url when empty.
	ReturnURL string `json:"return_url,omitempty"`
	// Recurring marks a checkout whose order starts a subscription: the
	// card is always saved (the order needs a customer_id and the shop
	// card.members on) and only lump sum is allowed (SUB-02, CARD-05).
	// API clients send it for the first order of a subscription, then
	// create the subscription with that order as initial_order_id.
	Recurring bool `json:"recurring,omitempty"`
}

// Checkout statuses of a Result.
const (
	StatusSucceeded      = "succeeded"
	StatusRequiresAction = "requires_action"
)

// NextAction tells the shop front where to send the shopper's browser.
type NextAction struct {
	// Type is "redirect_form" (auto-submit a POST form: 3-D Secure) or
	// "redirect" (a plain GET redirect: the link-type card page).
	Type string `json:"type"`
	// Reason is "three_d_secure" or "link".
	Reason string `json:"reason"`
	Method string `json:"method"`
	URL    string `json:"url"`
	// Fields are the form fields of a redirect_form.
	Fields map[string]string `json:"fields,omitempty"`
}

// Result is a checkout that went through or needs the shopper's browser.
// Failures are errors (*Failure), never a Result.
type Result struct {
	Status     string          `json:"status"`
	Order      *kessai.Order   `json:"order"`
	Payment    *kessai.Payment `json:"payment,omitempty"`
	NextAction *NextAction     `json:"next_action,omitempty"`
}

// Limits of PayInput.
const (
	maxTokenLen          = 256
	maxCardholderNameLen = 45
	maxCardPrefixLen     = 6
	// checkoutTimeout bounds the work of one checkout once started. The
	// work goes on if the caller hangs up: an authorisation abandoned
	// half way would leave an unknown payment for nothing.
	checkoutTimeout = 3 * time.Minute
)

// checkoutState is the part of a checkout that survives a browser round
// trip (CheckoutSession.Data).
type checkoutState struct {
	Choice         Choice         `json:"choice"`
	Token          string         `json:"token,omitempty"`
	PayType        escott.PayType `json:"pay_type,omitempty"`
	CardholderName string         `json:"cardholder_name,omitempty"`
	Consent        bool           `json:"consent,omitempty"`
	ReturnURL      string         `json:"return_url,omitempty"`
	Capture        bool           `json:"capture,omitempty"`
	// NewMember are the ids of a member being registered through the
	// gateway's page, not stored until the gateway confirms.
	NewMemberID   string `json:"new_member_id,omitempty"`
	NewMemberPass string `json:"new_member_pass,omitempty"`
	// Step is "member" on the first hop of a link checkout that registers
	// or changes the card, "pay" on the payment hop.
	Step string `json:"step,omitempty"`
	// AttemptID is the pending attempt of a link checkout: the money
	// moves on the gateway's page, so the intent is written before the
	// shopper is sent there.
	AttemptID string `json:"attempt_id,omitempty"`
}

// validatePayInput checks the input against the shop's settings and the
// order, and returns the saved-card choice.
func validatePayInput(set *kessai.Settings, o *kessai.Order, in *PayInput, isMember bool) (Choice, error) {
	var v kessai.ValidationErrors
	cs := &set.Card
	link := cs.LinkType
	if in.Token != "" && (len(in.Token) > maxTokenLen || !tokenChars(in.Token)) {
		v.Add("token", "invalid_token", "token の形式が正しくありません。", "token is not a valid card token.")
	}
	if in.CardPrefix != "" && (len(in.CardPrefix) > maxCardPrefixLen || !digits(in.CardPrefix)) {
		v.Add("card_prefix", "invalid_card_prefix",
			fmt.Sprintf("card_prefix はカード番号の先頭 %d 桁までの数字で指定してください（カード番号全体は送らないでください）。", maxCardPrefixLen),
			fmt.Sprintf("card_prefix must be at most the first %d digits of the card (never send the card number).", maxCardPrefixLen))
	}
	if n := in.CardholderName; n != "" && (len(n) > maxCardholderNameLen || !holderChars(n)) {
		v.Add("cardholder_name", "invalid_cardholder_name",
			fmt.Sprintf("カード名義は半角英字とスペースで %d 文字以内で入力してください。", maxCardholderNameLen),
			fmt.Sprintf("cardholder_name must be at most %d ASCII letters and spaces.", maxCardholderNameLen))
	}
	if in.ReturnURL != "" {
		if err := serviceCheckURL(in.ReturnURL); err != nil {
			v = append(v, err)
		}
	}
	canSave := o.CustomerID != "" && cs.Members
	switch {
	case in.UseSavedCard && link:
		v.Add("use_saved_card", "saved_card_link_type", "外部リンク型では登録済みカードの選択はカード会社の画面で行います。",
			"With the link type the saved card is chosen on the gateway's page.")
	case in.UseSavedCard && !canSave:
		v.Add("use_saved_card", "saved_card_unavailable", "登録済みのカードは会員のお客様のみご利用いただけます。",
			"Saved cards are available to signed-in customers of shops with saved cards enabled.")
	case in.UseSavedCard && !isMember:
		v.Add("use_saved_card", "card_not_found", "カード会員情報が見つかりません。", "The customer has no saved card.")
	case in.UseSavedCard && (in.Token != "" || in.SaveCard):
		v.Add("use_saved_card", "saved_card_conflict", "登録済みカードでのお支払いでは token と save_card は指定できません。",
			"Paying with the saved card takes neither token nor save_card.")
	}
	if in.SaveCard && !canSave {
		v.Add("save_card", "save_card_unavailable", "カードの登録は会員のお客様のみご利用いただけます。",
			"Only signed-in customers of shops with saved cards enabled can save a card.")
	}
	switch {
	case link && in.Token != "":
		v.Add("token", "token_link_type", "外部リンク型ではカード情報をカード会社の画面で入力するため token は不要です。",
			"The link type takes no token: the card is entered on the gateway's page.")
	case !link && !in.UseSavedCard && in.Token == "" && o.Amount > 0:
		v.Add("token", "required", "カード情報（token）は必須です。", "token is required.")
	}
	threeDS := !link && cs.ThreeDS && o.Amount > 0
	if (threeDS || link) && !in.Consent && o.Amount > 0 {
		v.Add("consent", "consent_required", "「個人情報の取り扱いに同意する」にチェックを入れてください。",
			"The shopper must agree to the handling of personal information (EMV 3-D Secure).")
	}
	if in.Recurring && !canSave {
		// A subscription is charged on the saved card: a checkout that
		// cannot save one (a guest, or card members off) cannot start one.
		v.Add("recurring", "recurring_needs_member",
			"定期購入の初回決済にはカードの登録が必要です（customer_id のある注文で、カード会員を有効にしてください）。",
			"A subscription's first payment saves the card: the order needs a customer_id and saved cards must be enabled.")
	}
	if threeDS && !in.UseSavedCard && in.CardholderName == "" {
		v.Add("cardholder_name", "required", "カード名義は必須です。", "cardholder_name is required.")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	save := canSave && (in.SaveCard || cs.AlwaysRegister || in.Recurring)
	switch {
	case in.UseSavedCard:
		return ChoiceSaved, nil
	case save && isMember:
		return ChoiceChange, nil
	case save:
		return ChoiceAdd, nil
	}
	return ChoiceNone, nil
}

func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// holderChars is the browser check of CARD-01: A–Z, a–z and spaces.
func holderChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ' ') {
			return false
		}
	}
	return strings.TrimSpace(s) != ""
}

// Pay runs a card checkout of an order (CARD-03 … CARD-17). It returns a
// Result (succeeded, or requires_action with the browser's NextAction), or
// an error: validation and conflicts as kinded errors, a refused payment as
// *Failure (KindDeclined), a lost answer as *Failure (KindUnknown).
func (p *Payer) Pay(ctx context.Context, shopID, orderID string, in PayInput) (*Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	e, err := p.env(ctx, shopID, true)
	if err != nil {
		return nil, err
	}
	o, err := p.svc.GetOrder(ctx, shopID, orderID)
	if err != nil {
		return nil, err
	}
	if !payflow.Payable(o.Status) {
		return nil, payflow.ErrNotPayable(o)
	}
	member, err := p.member(ctx, shopID, o.CustomerID)
	if err != nil {
		return nil, err
	}
	choice, err := validatePayInput(&e.Set, o, &in, member != nil)
	if err != nil {
		return nil, err
	}
	if in.ReturnURL == "" {
		in.ReturnURL = o.ReturnURL
	}
	if o.Amount == 0 {
		return p.payZero(ctx, e, o, &in, choice, member)
	}
	prefix := in.CardPrefix
	if choice == ChoiceSaved || choice == ChoiceChange {
		info, err := e.GW.ReferMember(ctx, escott.Ref{MerchantFree2: o.ID, MerchantFree3: o.CustomerID}, gwMember(member))
		if err != nil && (escott.IsUncertain(err) || payflow.NoAnswer(err)) {
			// The gateway did not answer: the card may well be there,
			// and nothing was charged (no payment yet).
			return nil, payflow.ErrGatewayUnavailable()
		}
		if err != nil {
			_ = p.failOrder(ctx, o)
			return nil, failureWith("card_not_found", "カード会員情報が見つかりません。", "The saved card could not be found.",
				nil, o.ID, gatewayCodes(err))
		}
		if choice == ChoiceSaved {
			prefix = info.CardNo
		}
	}
	payType, err := card.CheckPayType(&e.Set.Card, prefix, in.Recurring, in.PayType)
	if err != nil {
		return nil, err
	}
	code, err := p.newCode()
	if err != nil {
		return nil, err
	}
	now := p.now()
	pay := &kessai.Payment{ID: kessai.NewID(PaymentIDPrefix, now), ShopID: shopID, OrderID: o.ID, Method: kessai.MethodCard,
		State: kessai.PaymentNew, Amount: o.Amount, Currency: kessai.Currency, TransactionCode: code,
		Operation: e.Set.Card.Operation, PayType: payType, CustomerID: o.CustomerID, Consent: in.Consent,
		CreatedAt: now, UpdatedAt: now}
	if err := p.createPayment(ctx, pay); err != nil {
		return nil, err
	}
	st := &checkoutState{Choice: choice, Token: in.Token, PayType: payType, CardholderName: in.CardholderName,
		Consent: in.Consent, ReturnURL: in.ReturnURL, Capture: e.Set.Card.Operation == escott.OpGathering}
	if e.Set.Card.LinkType {
		return p.startLink(ctx, e, o, pay, st, member)
	}
	if st.Token != "" {
		if _, err := e.GW.TokenSearch(ctx, escott.Ref{MerchantFree1: code, MerchantFree2: o.ID}, st.Token); err != nil {
			codes := gatewayCodes(err)
			answered := !notSent(err) && !escott.IsUncertain(err)
			if codes == nil {
				codes = []string{escott.CodeNG}
			}
			if ferr := p.failBeforeCharge(ctx, o, pay, nil, codes, false); ferr != nil {
				return nil, ferr
			}
			if !answered {
				// A token check moves no money: without an answer
				// the shopper may simply try again.
				return nil, unreachedFailure("token_invalid", pay, o.ID, codes)
			}
			return nil, declined("token_invalid", pay, o.ID, codes)
		}
	}
	if e.Set.Card.ThreeDS {
		return p.startThreeDS(ctx, e, o, pay, st, member)
	}
	if err := p.complete(ctx, e, o, pay, st, member, escott.ThreeDSFields{}, code); err != nil {
		return nil, err
	}
	return &Result{Status: StatusSucceeded, Order: o, Payment: pay}, nil
}

// complete is the second half of a checkout, after the token check and any
// 3-D Secure: member registration or change (CARD-07), then the
// authorisation with the token or the member (CARD-03/08), carrying the
// 3-D Secure result when there is one. code is the MerchantFree1 of the
// authorisation.
func (p *Payer) complete(ctx context.Context, e *payflow.Env, o *kessai.Order, pay *kessai.Payment, st *checkoutState,
	member *kessai.Member, tds escott.ThreeDSFields, code string) error {
	m, err := p.memberStep(ctx, e, o, pay, st, member, code)
	if err != nil {
		return err
	}
	if m == nil && st.Token == "" {
		// The saved card went away during the round trip.
		if err := p.failBeforeCharge(ctx, o, pay, nil, []string{"card_not_found"}, false); err != nil {
			return err
		}
		return failureWith("card_not_found", "カード会員情報が見つかりません。", "The saved card could not be found.", pay, o.ID, nil)
	}
	req := escott.AuthRequest{Ref: escott.Ref{MerchantFree1: code, MerchantFree2: o.ID}, Capture: st.Capture,
		Amount: pay.Amount, PayType: st.PayType, ThreeDS: tds}
	if m != nil {
		req.Member = gwMember(m)
		req.MerchantFree3 = o.CustomerID
	} else {
		req.Token = st.Token
	}
	return p.authorize(ctx, e, authCall{order: o, pay: pay, req: req, consent: st.Consent})
}

// memberStep registers or changes the saved card as the shopper chose, and
// returns the member to pay with (nil: pay with the token).
func (p *Payer) memberStep(ctx context.Context, e *payflow.Env, o *kessai.Order, pay *kessai.Payment, st *checkoutState,
	member *kessai.Member, code string) (*kessai.Member, error) {
	ref := escott.Ref{MerchantFree1: code, MerchantFree2: o.ID, MerchantFree3: o.CustomerID}
	switch st.Choice {
	case ChoiceSaved:
		return member, nil
	case ChoiceAdd:
		m, err := p.newMember(o.ShopID, o.CustomerID)
		if err != nil {
			return nil, err
		}
		if _, err := e.GW.AddMember(ctx, ref, gwMember(m), st.Token); err != nil {
			return nil, p.memberFailed(ctx, o, pay, err, "member_register_failed",
				"カード会員情報の登録に失敗しました。", "The card could not be saved.")
		}
		if err := p.putMember(ctx, m); err != nil {
			return nil, err
		}
		return m, nil
	case ChoiceChange:
		if _, err := e.GW.ChangeMember(ctx, ref, gwMember(member), st.Token); err != nil {
			return nil, p.memberFailed(ctx, o, pay, err, "member_change_failed",
				"カード会員情報の変更に失敗しました。", "The saved card could not be changed.")
		}
		if err := p.putMember(ctx, member); err != nil {
			return nil, err
		}
		return member, nil
	}
	return nil, nil
}

// memberFailed ends a checkout whose member step failed (CARD-07).
func (p *Payer) memberFailed(ctx context.Context, o *kessai.Order, pay *kessai.Payment, err error, code, ja, en string) error {
	codes := gatewayCodes(err)
	if codes == nil {
		codes = []string{escott.CodeNG}
	}
	if pay != nil {
		if ferr := p.failBeforeCharge(ctx, o, pay, nil, codes, false); ferr != nil {
			return ferr
		}
	} else if ferr := p.failOrder(ctx, o); ferr != nil {
		return ferr
	}
	p.log.InfoContext(ctx, "cardpay: member step failed", "shop", o.ShopID, "order", o.ID, "codes", codes,
		"description", escott.DescribeCodes(codes, "en"))
	return failureWith(code, ja, en, pay, o.ID, codes)
}

// payZero completes a zero-total order without a payment (CARD-16): no
// gateway payment and no 3-D Secure, but a requested card registration
// still runs.
func (p *Payer) payZero(ctx context.Context, e *payflow.Env, o *kessai.Order, in *PayInput, choice Choice, member *kessai.Member) (*Result, error) {
	if in.Token != "" && (choice == ChoiceAdd || choice == ChoiceChange) && !e.Set.Card.LinkType {
		code, err := p.newCode()
		if err != nil {
			return nil, err
		}
		st := &checkoutState{Choice: choice, Token: in.Token}
		if _, err := e.GW.TokenSearch(ctx, escott.Ref{MerchantFree1: code, MerchantFree2: o.ID}, in.Token); err != nil {
			return nil, p.memberFailed(ctx, o, nil, err, "token_invalid", "カード情報を確認できませんでした。再度お試しください。",
				"The card could not be checked. Please try again.")
		}
		if _, err := p.memberStep(ctx, e, o, nil, st, member, code); err != nil {
			return nil, err
		}
	}
	to := card.OrderStatusAfterPayment(e.Set.Card.Operation, e.Set.Card.CompletedStatus == kessai.OrderCompleted, o)
	err := p.store.InTx(ctx, func(tx kessai.Store) error { return p.setOrderStatus(ctx, tx, o, to) })
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	p.svc.Kick()
	return &Result{Status: StatusSucceeded, Order: o}, nil
}

// startThreeDS keeps the checkout under its transaction code and sends the
// browser to the gateway's 3-D Secure page (spec §8.1 steps 2–5). A saved
// card is authenticated by its member ids, a new one by its token.
func (p *Payer) startThreeDS(ctx context.Context, e *payflow.Env, o *kessai.Order, pay *kessai.Payment, st *checkoutState, member *kessai.Member) (*Result, error) {
	ci, err := e.Set.CardCipher()
	if err != nil {
		return nil, kessai.Internal(err)
	}
	procNo, err := escott.NewProcNo(p.rand)
	if err != nil {
		return nil, kessai.Internal(err)
	}
	req := escott.ThreeDSRequest{Op: escott.OpSecure, Ref: escott.Ref{MerchantFree1: pay.TransactionCode, MerchantFree2: o.ID},
		Amount: pay.Amount, ProcNo: procNo, RedirectURL: p.returnURL, BillingEmail: o.Billing.Email}
	if st.Choice == ChoiceSaved {
		req.Member = gwMember(member)
		req.MerchantFree3 = o.CustomerID
	} else {
		req.Token = st.Token
		req.BillingFullName = st.CardholderName
	}
	h, err := e.GW.ThreeDSHandOff(ci, req)
	if err != nil {
		return nil, kessai.Internal(err)
	}
	if err := p.saveSession(ctx, kessai.CheckoutThreeDS, o.ShopID, o.ID, pay.ID, o.CustomerID, pay.TransactionCode, st); err != nil {
		return nil, err
	}
	return &Result{Status: StatusRequiresAction, Order: o, Payment: pay, NextAction: formAction("three_d_secure", h)}, nil
}

// saveSession writes the state of a browser round trip.
func (p *Payer) saveSession(ctx context.Context, kind kessai.CheckoutKind, shopID, orderID, paymentID, customerID, code string, st *checkoutState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return kessai.Internal(err)
	}
	now := p.now()
	s := &kessai.CheckoutSession{ID: kessai.NewID("cks", now), ShopID: shopID, Kind: kind, OrderID: orderID,
		PaymentID: paymentID, CustomerID: customerID, MerchantFree1: code, Data: data, CreatedAt: now, ExpiresAt: now.Add(p.ttl)}
	if err := p.store.CreateCheckoutSession(ctx, s); err != nil {
		if errors.Is(err, kessai.ErrDuplicate) {
			// Two live sessions with one 12-digit random code: retryable.
			return kessai.Errorf(kessai.KindUnavailable, "code_collision", "もう一度お試しください。", "Please try again.")
		}
		return payflow.StoreErr(err)
	}
	return nil
}

func formAction(reason string, h escott.HandOff) *NextAction {
	fields := make(map[string]string, len(h.Fields))
	for _, f := range h.Fields {
		fields[f.Key] = f.Value
	}
	return &NextAction{Type: "redirect_form", Reason: reason, Method: "POST", URL: h.Action, Fields: fields}
}

func redirectAction(reason string, h escott.HandOff) *NextAction {
	return &NextAction{Type: "redirect", Reason: reason, Method: "GET", URL: h.URL()}
}
