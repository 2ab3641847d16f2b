package cardpay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/payflow"
)

// gwMember is a stored member as the gateway knows it.
func gwMember(m *kessai.Member) escott.Member {
	if m == nil {
		return escott.Member{}
	}
	return escott.Member{KaiinID: m.KaiinID, KaiinPass: m.KaiinPass}
}

// member returns the customer's stored member, nil when there is none (or
// no customer).
func (p *Payer) member(ctx context.Context, shopID, customerID string) (*kessai.Member, error) {
	if customerID == "" {
		return nil, nil
	}
	m, err := p.store.GetMember(ctx, shopID, customerID)
	if errors.Is(err, kessai.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	return m, nil
}

// newMember generates the ids of a new member (MEMBER-01). The plugins
// put the WordPress user id in KaiinId; kessai's customer ids may be longer
// or use characters the gateway may refuse, so those get a random stem:
// the stored row, not the id, links member and customer.
func (p *Payer) newMember(shopID, customerID string) (*kessai.Member, error) {
	stem := customerID
	if len(stem) > escott.MaxKaiinCustomerIDLen || !alnum(stem) {
		stem = randomAlnum(p, escott.MaxKaiinCustomerIDLen)
	}
	id, err := escott.NewKaiinID(stem, p.rand)
	if err != nil {
		return nil, kessai.Internal(err)
	}
	pass, err := escott.NewKaiinPass(p.rand)
	if err != nil {
		return nil, kessai.Internal(err)
	}
	now := p.now()
	return &kessai.Member{ShopID: shopID, CustomerID: customerID, KaiinID: id, KaiinPass: pass, CreatedAt: now, UpdatedAt: now}, nil
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

func randomAlnum(p *Payer, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	buf := make([]byte, n)
	_, _ = p.rand.Read(buf)
	for i := range b {
		b[i] = letters[int(buf[i])%len(letters)]
	}
	b[0] = 'k' // never all digits
	return string(b)
}

// putMember stores the member and tells the shop (member.updated).
func (p *Payer) putMember(ctx context.Context, m *kessai.Member) error {
	m.UpdatedAt = p.now()
	err := p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.PutMember(ctx, m); err != nil {
			return err
		}
		return p.svc.Emit(ctx, tx, m.ShopID, kessai.EventMemberUpdated, m)
	})
	if err != nil {
		return payflow.StoreErr(err)
	}
	p.svc.Kick()
	if p.cardSaved != nil {
		p.cardSaved(ctx, m.ShopID, m.CustomerID)
	}
	return nil
}

// SavedCard is a customer's saved card as the gateway reports it
// (4MemRefM): masked, never the number (MEMBER-01, MEMBER-03).
type SavedCard struct {
	CustomerID string `json:"customer_id"`
	// CardNumber is the gateway's masked number: the first 4 and last 4
	// digits, the rest as *.
	CardNumber string `json:"card_number"`
	Last4      string `json:"last4"`
	// Brand is the installment brand group: visa_master_jcb, amex,
	// diners or other.
	Brand string `json:"brand"`
	// Expiry is MM/YY.
	Expiry string `json:"expiry,omitempty"`
	// Valid is false when the gateway holds the member invalidated.
	Valid bool `json:"valid"`
	// Deletable says whether the customer may delete it now, and
	// DeleteRefusal why not (design A-01).
	Deletable     bool           `json:"deletable"`
	DeleteRefusal *kessai.Error  `json:"-"`
	Refusal       *RefusalReason `json:"delete_refusal,omitempty"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// RefusalReason is a refusal in both languages, for the JSON view.
type RefusalReason struct {
	Code string `json:"code"`
	Ja   string `json:"message_ja"`
	En   string `json:"message_en"`
}

var errCardNotFound = kessai.Errorf(kessai.KindNotFound, "card_not_found",
	"カード会員情報が見つかりません。", "The customer has no saved card.")

// cardNotFound is errCardNotFound for a gateway refusal: the gateway's
// codes stay reachable (errors.As) for the console and the renewal
// history; shoppers and API clients get the message.
func cardNotFound(gatewayErr error) *kessai.Error {
	return &kessai.Error{Kind: errCardNotFound.Kind, Code: errCardNotFound.Code, Ja: errCardNotFound.Ja,
		En: errCardNotFound.En, Err: gatewayErr}
}

func errMembersOff() *kessai.Error {
	return kessai.Errorf(kessai.KindConflict, "members_disabled",
		"このショップではカード会員（カードの登録）を利用していません。", "Saved cards are not enabled in this shop.")
}

// GetCard returns the customer's saved card, looked up live at the gateway
// (MEMBER-01: kessai keeps only the member ids).
func (p *Payer) GetCard(ctx context.Context, shopID, customerID string) (*SavedCard, error) {
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return nil, err
	}
	m, err := p.member(ctx, shopID, customerID)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errCardNotFound
	}
	info, err := e.GW.ReferMember(ctx, escott.Ref{MerchantFree3: customerID}, gwMember(m))
	if err != nil {
		if escott.IsUncertain(err) || payflow.NoAnswer(err) {
			return nil, payflow.ErrGatewayUnavailable()
		}
		return nil, cardNotFound(err)
	}
	c := &SavedCard{CustomerID: customerID, CardNumber: info.CardNo, Last4: info.Last4(), Brand: brandName(info.Brand()),
		Valid: info.Status == "" || info.Status == "0", UpdatedAt: m.UpdatedAt}
	if len(info.CardExp) == 4 {
		c.Expiry = info.CardExp[2:] + "/" + info.CardExp[:2]
	}
	if refusal, err := p.deleteRefusal(ctx, shopID, customerID); err != nil {
		return nil, err
	} else if refusal != nil {
		c.DeleteRefusal = refusal
		c.Refusal = &RefusalReason{Code: refusal.Code, Ja: refusal.Ja, En: refusal.En}
	} else {
		c.Deletable = true
	}
	return c, nil
}

func brandName(b escott.BrandGroup) string {
	switch b {
	case escott.BrandVisaMasterJCB:
		return "visa_master_jcb"
	case escott.BrandAmex:
		return "amex"
	case escott.BrandDiners:
		return "diners"
	}
	return "other"
}

// deleteWindow is the 与信 look-back of design A-01.
const deleteWindow = 90 * 24 * time.Hour

// deleteRefusal applies design A-01: a saved card may not be deleted while
// the customer has a card payment in 与信 from the last 90 days, a card
// payment still open (in progress or undecided), a card order not yet
// settled (pending, on hold or processing), or an active subscription.
// nil means deletion is allowed.
func (p *Payer) deleteRefusal(ctx context.Context, shopID, customerID string) (*kessai.Error, error) {
	pays, err := p.store.ListCustomerPayments(ctx, shopID, customerID, time.Time{})
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	now := p.now()
	for _, pay := range pays {
		if pay.Method != kessai.MethodCard {
			continue
		}
		switch {
		case pay.State == kessai.PaymentAuthorized && now.Sub(pay.CreatedAt) < deleteWindow:
			return kessai.Errorf(kessai.KindConflict, "card_in_use_authorized",
				"売上計上されていない（与信中の）カード決済があるため、カード情報を削除できません。売上計上または取消の後に削除してください。",
				"The card has an authorised payment that is not captured yet; capture or cancel it before deleting the card."), nil
		case pay.State == kessai.PaymentNew || pay.State == kessai.PaymentUnknown:
			return kessai.Errorf(kessai.KindConflict, "card_in_use_open",
				"処理中のカード決済があるため、カード情報を削除できません。",
				"A card payment of this customer is still in progress."), nil
		}
		if !pay.State.Active() {
			continue
		}
		o, err := p.store.GetOrder(ctx, shopID, pay.OrderID)
		if err != nil {
			return nil, payflow.StoreErr(err)
		}
		switch o.Status {
		case kessai.OrderPending, kessai.OrderOnHold, kessai.OrderProcessing:
			return kessai.Errorf(kessai.KindConflict, "card_in_use_order",
				fmt.Sprintf("このカードで支払われた注文（%s）が%sのため、カード情報を削除できません。", o.ShopOrderID, o.Status.Label()),
				fmt.Sprintf("Order %s paid with this card is still %s.", o.ShopOrderID, o.Status)), nil
		}
	}
	// Active and on-hold subscriptions are charged on this card (SUB-08);
	// a pending one (its checkout still open) is not yet.
	n, err := p.store.CountCustomerSubscriptions(ctx, shopID, customerID,
		[]string{kessai.SubscriptionActive, kessai.SubscriptionOnHold})
	if err != nil {
		return nil, payflow.StoreErr(err)
	}
	if n > 0 {
		return kessai.Errorf(kessai.KindConflict, "card_in_use_subscription",
			"継続中の定期購入があるため、カード情報を削除できません。先に定期購入を停止してください。",
			"The customer has an active subscription; stop it before deleting the card."), nil
	}
	return nil, nil
}

// DeleteCard deletes the customer's saved card (MEMBER-06): the A-01
// checks, then 4MemRefM, 4MemInval and 4MemDel at the gateway; the stored
// ids go only after the gateway confirmed. In the test environment a K71
// answer (the gateway no longer knows the member; test members expire
// after two months) also clears them (MEMBER-09).
func (p *Payer) DeleteCard(ctx context.Context, shopID, customerID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	e, err := p.env(ctx, shopID, false)
	if err != nil {
		return err
	}
	m, err := p.member(ctx, shopID, customerID)
	if err != nil {
		return err
	}
	if m == nil {
		return errCardNotFound
	}
	if refusal, err := p.deleteRefusal(ctx, shopID, customerID); err != nil {
		return err
	} else if refusal != nil {
		return refusal
	}
	ref := escott.Ref{MerchantFree3: customerID}
	_, err = e.GW.ReferMember(ctx, ref, gwMember(m))
	if err == nil {
		_, err = e.GW.RemoveMember(ctx, ref, gwMember(m))
	}
	if err != nil {
		ge, _ := escott.AsError(err)
		if !(e.Set.TestMode() && ge != nil && ge.HasCode("K71")) {
			p.log.WarnContext(ctx, "cardpay: saved card not deleted", "shop", shopID, "customer", customerID, "error", err)
			if payflow.NoAnswer(err) {
				return payflow.ErrGatewayUnavailable()
			}
			return &kessai.Error{Kind: kessai.KindDeclined, Code: "card_delete_failed",
				Ja: "カード会員情報の削除に失敗しました。", En: "The saved card could not be deleted.", Err: err}
		}
	}
	err = p.store.InTx(ctx, func(tx kessai.Store) error {
		if err := tx.DeleteMember(ctx, shopID, customerID); err != nil {
			return err
		}
		return p.svc.Emit(ctx, tx, shopID, kessai.EventMemberDeleted, map[string]string{"customer_id": customerID})
	})
	if err != nil {
		return payflow.StoreErr(err)
	}
	p.svc.Kick()
	return nil
}

// SaveCardInput registers or replaces a customer's saved card outside a
// checkout (the my-cards page, MEMBER-04/05).
type SaveCardInput struct {
	Token          string `json:"token,omitempty"`
	CardholderName string `json:"cardholder_name,omitempty"`
	Consent        bool   `json:"consent,omitempty"`
	// Email is the customer's account e-mail, passed to 3-D Secure as
	// BillingEmail (spec §8.5: the issuer's risk check uses it).
	Email string `json:"email,omitempty"`
	// ReturnURL receives the browser after a 3-D Secure or link round
	// trip; required when one will happen.
	ReturnURL string `json:"return_url,omitempty"`
}

// CardResult is a saved-card registration: done (Card), or waiting for the
// shopper's browser at the gateway (NextAction).
type CardResult struct {
	Status     string      `json:"status"`
	Card       *SavedCard  `json:"card,omitempty"`
	NextAction *NextAction `json:"next_action,omitempty"`
}

// SaveCard registers a new saved card or replaces the existing one. With
// 3-D Secure it goes through the gateway's 3-D Secure page (spec §8.5);
// in a link-type shop without a token code, through the gateway's card
// page (design A-17); otherwise server to server (MEMBER-04).
func (p *Payer) SaveCard(ctx context.Context, shopID, customerID string, in SaveCardInput) (*CardResult, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkoutTimeout)
	defer cancel()
	e, err := p.env(ctx, shopID, true)
	if err != nil {
		return nil, err
	}
	if !e.Set.Card.Members {
		return nil, errMembersOff()
	}
	if customerID == "" || len(customerID) > 64 {
		return nil, kessai.FieldError("customer_id", "invalid_customer_id", "customer_id が正しくありません。", "customer_id is not valid.")
	}
	linkPage := e.Set.Card.LinkType && !e.Set.Card.TokenAuthCode.IsSet()
	threeDS := !linkPage && (e.Set.Card.ThreeDS || e.Set.Card.LinkType)
	var v kessai.ValidationErrors
	switch {
	case linkPage && in.Token != "":
		v.Add("token", "token_link_type", "カード情報はカード会社の画面で入力します。token は不要です。",
			"The card is entered on the gateway's page: no token is taken.")
	case !linkPage && in.Token == "":
		v.Add("token", "required", "カード情報（token）は必須です。", "token is required.")
	case in.Token != "" && (len(in.Token) > maxTokenLen || !tokenChars(in.Token)):
		v.Add("token", "invalid_token", "token の形式が正しくありません。", "token is not a valid card token.")
	}
	if n := in.CardholderName; n != "" && (len(n) > maxCardholderNameLen || !holderChars(n)) {
		v.Add("cardholder_name", "invalid_cardholder_name", "カード名義は半角英字とスペースで入力してください。",
			"cardholder_name must be ASCII letters and spaces.")
	}
	if (threeDS || linkPage) && !in.Consent {
		v.Add("consent", "consent_required", "「個人情報の取り扱いに同意する」にチェックを入れてください。",
			"The shopper must agree to the handling of personal information (EMV 3-D Secure).")
	}
	if threeDS && in.CardholderName == "" {
		v.Add("cardholder_name", "required", "カード名義は必須です。", "cardholder_name is required.")
	}
	if in.Email != "" && (len(in.Email) > 254 || !strings.Contains(in.Email, "@") || strings.ContainsAny(in.Email, " \t\r\n&=")) {
		v.Add("email", "invalid_email", "メールアドレスの形式が正しくありません。", "email is not a valid e-mail address.")
	}
	if threeDS || linkPage {
		if in.ReturnURL == "" {
			v.Add("return_url", "required", "return_url は必須です（カード会社の画面から戻る先）。",
				"return_url is required: the browser comes back there from the gateway's page.")
		} else if err := serviceCheckURL(in.ReturnURL); err != nil {
			v = append(v, err)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cur, err := p.member(ctx, shopID, customerID)
	if err != nil {
		return nil, err
	}
	op, m := escott.OpMemChg, cur
	if cur == nil {
		op = escott.OpMemAdd
		if m, err = p.newMember(shopID, customerID); err != nil {
			return nil, err
		}
	}
	code, err := p.newCode()
	if err != nil {
		return nil, err
	}
	ref := escott.Ref{MerchantFree1: code, MerchantFree3: customerID}
	st := &checkoutState{Choice: ChoiceAdd, ReturnURL: in.ReturnURL, NewMemberID: m.KaiinID, NewMemberPass: m.KaiinPass}
	if op == escott.OpMemChg {
		st.Choice = ChoiceChange
	}
	ci, _ := e.Set.CardCipher()
	if linkPage {
		if ci == nil {
			return nil, kessai.Internal(errors.New("cardpay: link type without AES key"))
		}
		h, err := e.GW.LinkHandOff(ci, escott.LinkRequest{Op: op, Ref: ref, Member: gwMember(m), RedirectURL: p.returnURL})
		if err != nil {
			return nil, kessai.Internal(err)
		}
		if err := p.saveSession(ctx, kessai.CheckoutMemberLink, shopID, "", "", customerID, code, st); err != nil {
			return nil, err
		}
		return &CardResult{Status: StatusRequiresAction, NextAction: redirectAction("link", h)}, nil
	}
	if _, err := e.GW.TokenSearch(ctx, ref, in.Token); err != nil {
		return nil, kessai.Errorf(kessai.KindDeclined, "token_invalid", "更新処理に失敗しました。再度お試しください。",
			"The card could not be checked. Please try again.")
	}
	if threeDS {
		if ci == nil {
			return nil, kessai.Internal(errors.New("cardpay: 3-D Secure without AES key"))
		}
		procNo, err := escott.NewProcNo(p.rand)
		if err != nil {
			return nil, kessai.Internal(err)
		}
		email := in.Email
		h, err := e.GW.ThreeDSHandOff(ci, escott.ThreeDSRequest{Op: op, Ref: ref, Token: in.Token, Member: gwMember(m),
			ProcNo: procNo, RedirectURL: p.returnURL, BillingFullName: in.CardholderName, BillingEmail: email})
		if err != nil {
			return nil, kessai.Internal(err)
		}
		if err := p.saveSession(ctx, kessai.CheckoutMemberThreeDS, shopID, "", "", customerID, code, st); err != nil {
			return nil, err
		}
		return &CardResult{Status: StatusRequiresAction, NextAction: formAction("three_d_secure", h)}, nil
	}
	if op == escott.OpMemChg {
		if _, err = e.GW.ReferMember(ctx, ref, gwMember(m)); err != nil {
			return nil, errCardNotFound
		}
		_, err = e.GW.ChangeMember(ctx, ref, gwMember(m), in.Token)
	} else {
		_, err = e.GW.AddMember(ctx, ref, gwMember(m), in.Token)
	}
	if err != nil {
		return nil, memberSaveFailed(op)
	}
	if err := p.putMember(ctx, m); err != nil {
		return nil, err
	}
	c, err := p.GetCard(ctx, shopID, customerID)
	if err != nil {
		return nil, err
	}
	return &CardResult{Status: StatusSucceeded, Card: c}, nil
}

func memberSaveFailed(op escott.OperateID) *kessai.Error {
	if op == escott.OpMemChg {
		return kessai.Errorf(kessai.KindDeclined, "member_change_failed", "カード会員情報の変更に失敗しました。", "The saved card could not be changed.")
	}
	return kessai.Errorf(kessai.KindDeclined, "member_register_failed", "カード会員情報の登録に失敗しました。", "The card could not be saved.")
}
