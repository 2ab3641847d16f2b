package hosted

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
)

// cardMethod is the credit card method of the checkout page (CARD-01 …
// CARD-17): token type with the gateway's script, or the link type.
type cardMethod struct{ h *Handler }

func (m *cardMethod) id() kessai.Method { return kessai.MethodCard }

// Card form modes.
const (
	modeToken = "token" // card fields and the gateway's token script
	modeLink  = "link"  // the card is entered on the gateway's page (CARD-11)
	modeZero  = "zero"  // nothing to charge (CARD-16)
)

func (m *cardMethod) mode(c *checkoutCtx) string {
	switch {
	case c.order.Amount == 0:
		return modeZero
	case c.set.Card.LinkType:
		return modeLink
	}
	return modeToken
}

// offered applies SET-18: enabled and configured; the browser must also
// be able to reach the gateway (its token script, or its card page).
func (m *cardMethod) offered(c *checkoutCtx) bool {
	if m.h.cards == nil {
		return false
	}
	if ok, _ := c.set.CardAvailable(); !ok {
		return false
	}
	if m.mode(c) != modeZero {
		// The token script comes from the gateway, and the link type
		// sends the browser there: either way its address is needed.
		if _, ok := m.h.gatewayBase(c.set); !ok {
			m.h.log.Warn("hosted: card method hidden: the shop uses the simulator but no simulator URL is configured")
			return false
		}
	}
	return true
}

// savedCard returns the customer's saved card, looked up once per page
// (a live 4MemRefM, as the plugins do); nil when there is none or it
// cannot be read now (the page then simply offers a new card).
func (c *checkoutCtx) savedCard(ctx context.Context) *cardpay.SavedCard {
	if c.savedLoaded {
		return c.saved
	}
	c.savedLoaded = true
	if c.order.CustomerID == "" || !c.set.Card.Members || c.h.cards == nil {
		return nil
	}
	sc, err := c.h.cards.GetCard(ctx, c.shopID, c.order.CustomerID)
	if err != nil {
		if kessai.ErrorKind(err) != kessai.KindNotFound {
			c.h.log.WarnContext(ctx, "hosted: saved card not available at checkout", "order", c.order.ID, "error", err)
		}
		return nil
	}
	c.saved = sc
	return sc
}

// cardPanel is the data of the card_panel and card_fields templates.
type cardPanel struct {
	Mode           string
	MsgsJSON       string
	RulesJSON      string
	InitialPrefix  string
	SavedPrefix    string
	SecurityCode   bool
	HideFields     bool
	HolderName     string
	PostHolder     bool
	Consent        bool
	ConsentChecked bool
	Saved          *cardpay.SavedCard
	Choice         string
	AlwaysRegister bool
	Installments   bool
	PayTypes       []payTypeOption
	SaveCheckbox   bool
	SaveChecked    bool
	SaveLabel      string
	WillSave       bool
}

func (m *cardMethod) panel(ctx context.Context, c *checkoutCtx) (methodPanel, error) {
	cs := &c.set.Card
	mode := m.mode(c)
	members := cs.Members && c.order.CustomerID != ""
	cp := &cardPanel{Mode: mode, MsgsJSON: jsMessages(c.lang), SecurityCode: cs.SecurityCode,
		AlwaysRegister: cs.AlwaysRegister, ConsentChecked: c.posted.Get("consent") == "1"}
	threeDS := mode == modeToken && cs.ThreeDS
	cp.Consent = threeDS || mode == modeLink
	cp.PostHolder = threeDS
	cp.HolderName = strings.ToUpper(strings.TrimSpace(c.posted.Get("cardholder_name")))
	if p := c.posted.Get("card_prefix"); len(p) <= maxPrefixDigits && allDigits(p) {
		cp.InitialPrefix = p
	}
	if mode == modeToken && members {
		cp.Saved = c.savedCard(ctx)
	}
	if cp.Saved != nil {
		cp.SavedPrefix = leadingDigits(cp.Saved.CardNumber, 4)
		cp.Choice = c.posted.Get("card_choice")
		if cp.Choice == "" && c.posted.Get("token") != "" {
			// Shown again after a new card failed: the card was saved
			// meanwhile (registration precedes the authorisation), so
			// the shopper now sees the choices; keep "a new card".
			cp.Choice = "new"
			if cs.AlwaysRegister || c.posted.Get("save_card") == "1" {
				cp.Choice = "change"
			}
		}
		if cp.Choice != "saved" && cp.Choice != "change" && !(cp.Choice == "new" && !cs.AlwaysRegister) {
			// CARD-06: the saved card is pre-selected.
			cp.Choice = "saved"
		}
		cp.HideFields = cp.Choice == "saved"
	}
	if mode == modeToken && cs.InstallmentMode() != escott.InstallmentsOff {
		cp.Installments = true
		cp.RulesJSON = jsonAttr(installmentRules(cs.InstallmentMode(), c.lang))
		prefix := cp.InitialPrefix
		if cp.Choice == "saved" {
			prefix = cp.SavedPrefix
		}
		cp.PayTypes = payTypeOptions(escott.AllowedPayTypes(escott.BrandGroupOf(prefix), cs.InstallmentMode()),
			escott.PayType(c.posted.Get("pay_type")), c.lang)
	}
	if members && mode != modeZero {
		isMember := cp.Saved != nil
		if mode == modeLink {
			_, err := m.h.store.GetMember(ctx, c.shopID, c.order.CustomerID)
			isMember = err == nil
		}
		switch {
		case cs.AlwaysRegister:
			cp.WillSave = !isMember
		case mode == modeLink || !isMember:
			// CARD-07: a checkbox when registering is optional; in
			// token type a member chooses with the radios instead.
			cp.SaveCheckbox = true
			cp.SaveChecked = c.posted.Get("save_card") == "1"
			cp.SaveLabel = text(c.lang, "save_card_new")
			if isMember {
				cp.SaveLabel = text(c.lang, "save_card_change")
			}
		}
	}
	html, err := renderPartial("checkout", "card_panel", partial{pageData: &pageData{Lang: c.lang}, C: cp})
	if err != nil {
		return methodPanel{}, err
	}
	title, desc := methodText(c.set, kessai.MethodCard, c.lang)
	mp := methodPanel{Title: title, Description: desc, Panel: html}
	switch mode {
	case modeLink:
		mp.Button = text(c.lang, "continue_link")
	case modeZero:
		mp.Button = text(c.lang, "confirm_order")
	default:
		mp.Button = text(c.lang, "place_order")
	}
	if base, ok := m.h.gatewayBase(c.set); ok {
		mp.GatewayOrigin = originOf(base)
		if mode == modeToken {
			mp.TokenScript = tokenScriptURL(base, c.set)
		}
	}
	return mp, nil
}

// leadingDigits returns up to n leading digits of a (masked) card number.
func leadingDigits(s string, n int) string {
	i := 0
	for i < len(s) && i < n && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// submit builds the checkout's cardpay.PayInput from the form and runs it.
// The form carries no card data (hasCardData refused any before this
// runs): only the gateway's token and the first six digits.
func (m *cardMethod) submit(w http.ResponseWriter, r *http.Request, c *checkoutCtx) {
	h := m.h
	f := r.PostForm
	in := cardpay.PayInput{ReturnURL: c.returnURL, Consent: f.Get("consent") == "1",
		PayType: escott.PayType(f.Get("pay_type")), CardholderName: strings.ToUpper(strings.TrimSpace(f.Get("cardholder_name")))}
	switch f.Get("card_choice") {
	case "saved":
		in.UseSavedCard = true
	case "change":
		in.SaveCard = true
	case "new", "":
		in.SaveCard = f.Get("save_card") == "1"
	default:
		c.errors = []string{text(c.lang, "bad_request")}
		h.renderCheckout(w, r, c, http.StatusBadRequest)
		return
	}
	if !in.UseSavedCard {
		in.Token = f.Get("token")
		in.CardPrefix = f.Get("card_prefix")
	}
	if m.mode(c) == modeToken && !in.UseSavedCard && in.Token == "" {
		// The form was sent without the script's token (JavaScript
		// off, or the script failed): say what to do rather than
		// cardpay's "token is required".
		c.errors = []string{text(c.lang, "token_missing")}
		h.renderCheckout(w, r, c, http.StatusBadRequest)
		return
	}
	res, err := h.cards.Pay(r.Context(), c.shopID, c.order.ID, in)
	if err != nil {
		h.payFailed(w, r, c, err)
		return
	}
	if res.Status == cardpay.StatusRequiresAction && res.NextAction != nil {
		h.follow(w, r, c.lang, res.NextAction)
		return
	}
	http.Redirect(w, r, h.checkoutPath(r, c.order.ID)+"?lang="+c.lang, http.StatusSeeOther)
}

// payFailed shows what went wrong with a checkout: the form again with
// the message (CARD-17: usable at once for a retry with a new token), or
// the page of a payment whose outcome is unknown, or the order's state
// when it was paid meanwhile.
func (h *Handler) payFailed(w http.ResponseWriter, r *http.Request, c *checkoutCtx, err error) {
	var ke *kessai.Error
	if errors.As(err, &ke) {
		switch ke.Code {
		case "order_not_payable", "order_already_paid":
			http.Redirect(w, r, h.checkoutPath(r, c.order.ID)+"?lang="+c.lang, http.StatusSeeOther)
			return
		case "payment_unknown":
			h.renderUnknown(w, r, c)
			return
		}
	}
	var f *cardpay.Failure
	if errors.As(err, &f) {
		h.log.InfoContext(r.Context(), "hosted: card payment refused", "order", c.order.ID, "payment", f.PaymentID,
			"code", f.Err.Code, "gateway_codes", f.Codes)
		if f.Err.Kind == kessai.KindUnknown {
			h.renderUnknown(w, r, c)
			return
		}
	}
	// The order may have changed (a decline marks it failed); the page
	// shows its current state.
	if o, gerr := h.svc.GetOrder(r.Context(), c.shopID, c.order.ID); gerr == nil {
		c.order = o
	}
	c.errors = h.messagesOf(r.Context(), err, c.lang)
	h.renderCheckout(w, r, c, statusOf(err))
}
