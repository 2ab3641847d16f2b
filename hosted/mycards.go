package hosted

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/service"
)

// The "my cards" page (MEMBER-02 … MEMBER-07). kessai has no shopper
// accounts: the shop's backend, for a customer signed in to the shop,
// asks kessai for a link (MyCardsLink, exposed by the API) and sends the
// customer there. The link is signed with the shop's key and lives
// minutes; on the first visit it is exchanged for an HttpOnly session
// cookie scoped to the page, and the browser is sent on to the page's
// plain URL, so the credential does not linger in the address bar, the
// history or a Referer.

// sessionCookie holds the my-cards session (a signed claims of kind
// session). Its path keeps it away from every other page.
const sessionCookie = "kessai_mycards"

// MyCardsLink returns a link to the my-cards page of a shop's customer and
// when it expires. returnURL ("" for none) is the shop's page the "back to
// the shop" link leads to; ttl is the link's lifetime (0 for
// DefaultLinkTTL, at most MaxLinkTTL). The link can be opened until it
// expires, so the shop creates it just before redirecting the customer.
func (h *Handler) MyCardsLink(ctx context.Context, shopID, customerID, returnURL string, ttl time.Duration) (string, time.Time, error) {
	var v kessai.ValidationErrors
	if customerID == "" || len(customerID) > 64 || !printable(customerID) {
		v.Add("customer_id", "invalid_customer_id", "customer_id が正しくありません。", "customer_id is not valid.")
	}
	if returnURL != "" {
		if err := service.CheckReturnURL("return_url", returnURL); err != nil {
			if ke := kessai.AsError(err); ke != nil {
				v = append(v, ke)
			}
		}
	}
	switch {
	case ttl == 0:
		ttl = DefaultLinkTTL
	case ttl < time.Minute || ttl > MaxLinkTTL:
		v.Add("ttl", "invalid_ttl", "リンクの有効期間は1分から60分の間で指定してください。",
			"The link's lifetime must be between 1 and 60 minutes.")
	}
	if err := v.Err(); err != nil {
		return "", time.Time{}, err
	}
	if h.cards == nil {
		return "", time.Time{}, kessai.Errorf(kessai.KindUnavailable, "cards_unavailable",
			"クレジットカード決済は現在ご利用いただけません。", "Card payments are not available.")
	}
	set, err := h.settings(ctx, shopID)
	if err != nil {
		return "", time.Time{}, err
	}
	if !set.Card.Members {
		return "", time.Time{}, kessai.Errorf(kessai.KindConflict, "members_disabled",
			"このショップではカード会員（カードの登録）を利用していません。", "Saved cards are not enabled in this shop.")
	}
	if h.publicURL == "" {
		return "", time.Time{}, kessai.Internal(errNoPublicURL)
	}
	exp := h.svc.Now().Add(ttl).Truncate(time.Second)
	tok, err := h.sign(ctx, claims{V: 1, Kind: claimLink, Shop: shopID, Customer: customerID, Return: returnURL,
		Exp: exp.Unix(), Nonce: randomString(9)})
	if err != nil {
		return "", time.Time{}, kessai.Internal(err)
	}
	return h.publicURL + MyCardsPath + "?t=" + url.QueryEscape(tok), exp, nil
}

var errNoPublicURL = errors.New("hosted: Config.PublicURL is required to build links")

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// session returns the my-cards session of the request, nil when there is
// none or it is invalid or expired.
func (h *Handler) session(r *http.Request) *claims {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	cl, err := h.verify(r.Context(), c.Value, claimSession, h.svc.Now())
	if err != nil {
		return nil
	}
	return cl
}

func (h *Handler) myCardsPath(r *http.Request) string { return h.basePath(r) + MyCardsPath }

func (h *Handler) linkInvalid(w http.ResponseWriter, r *http.Request, lang string) {
	h.renderMessage(w, r, http.StatusForbidden, lang, messagePage{Heading: "link_invalid_title", Text: "link_invalid"})
}

// getMyCards exchanges a link for a session, or shows the page.
func (h *Handler) getMyCards(w http.ResponseWriter, r *http.Request) {
	h.rememberLang(w, r)
	lang := langOf(r)
	ctx := r.Context()
	q := r.URL.Query()
	if t := q.Get("t"); t != "" {
		cl, err := h.verify(ctx, t, claimLink, h.svc.Now())
		if err != nil {
			h.log.InfoContext(ctx, "hosted: my-cards link refused", "error", err)
			h.linkInvalid(w, r, lang)
			return
		}
		sess := *cl
		sess.Kind, sess.Nonce = claimSession, randomString(9)
		sess.Exp = h.svc.Now().Add(sessionTTL).Unix()
		tok, err := h.sign(ctx, sess)
		if err != nil {
			h.renderError(w, r, lang, kessai.Internal(err))
			return
		}
		// MaxAge rather than Expires: the browser's clock, not ours,
		// decides, and the signed expiry inside is what counts.
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: h.myCardsPath(r), MaxAge: int(sessionTTL / time.Second),
			HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
		target := h.myCardsPath(r)
		if l := q.Get("lang"); l == langEn || l == langJa {
			target += "?lang=" + l
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	cl := h.session(r)
	if cl == nil {
		h.linkInvalid(w, r, lang)
		return
	}
	v := &myCardsView{}
	switch q.Get("done") {
	case "saved":
		v.notice = text(lang, "mycards_updated")
	case "registered":
		v.notice = text(lang, "mycards_registered")
	case "deleted":
		v.notice = text(lang, "mycards_deleted")
	}
	// Back from the gateway (3-D Secure or its card page), with the
	// receiver's query; only about this customer.
	if st := q.Get("status"); st != "" && q.Get("customer_id") == cl.Customer {
		switch st {
		case "succeeded":
			v.notice = text(lang, "mycards_updated")
		case "failed":
			v.errors = []string{text(lang, savedCardFailureKey(q.Get("error")))}
		}
	}
	h.renderMyCards(w, r, cl, lang, v, http.StatusOK)
}

// myCardsView carries what a handler wants the page to say.
type myCardsView struct {
	notice string
	errors []string
	posted url.Values
}

// myCardsPage is the body of the mycards template.
type myCardsPage struct {
	Heading       string
	Notice        string
	Errors        []string
	Unavailable   string
	Card          *savedCardView
	CanDelete     bool
	DeleteRefusal string
	Action        string
	CSRF          string
	C             *cardPanel
	Fields        partial
	Button        string
	TokenScript   string
	ReturnURL     string
}

type savedCardView struct {
	Brand, Number, Last4, Expiry string
	Valid                        bool
}

func brandLabel(b string) string {
	switch b {
	case "visa_master_jcb":
		return "VISA / Mastercard / JCB"
	case "amex":
		return "American Express"
	case "diners":
		return "Diners Club"
	}
	return "Card"
}

// renderMyCards shows the saved card (a live 4MemRefM), its deletion
// (or why it cannot be deleted, design A-01) and the form to register or
// replace it (MEMBER-03).
func (h *Handler) renderMyCards(w http.ResponseWriter, r *http.Request, cl *claims, lang string, v *myCardsView, status int) {
	ctx := r.Context()
	set, err := h.settings(ctx, cl.Shop)
	if err != nil {
		h.renderError(w, r, lang, err)
		return
	}
	p := h.newPage(r, lang, "mycards_title")
	h.withShop(ctx, p, cl.Shop, set)
	nonce := h.csrfNonce(w, r)
	tok, err := h.csrfToken(ctx, cl.Shop, "mycards:"+cl.Customer, nonce)
	if err != nil {
		h.renderError(w, r, lang, kessai.Internal(err))
		return
	}
	body := &myCardsPage{Heading: text(lang, "mycards_title_new"), Notice: v.notice, Errors: v.errors, Action: h.myCardsPath(r),
		CSRF: tok, ReturnURL: cl.Return}
	p.Body = body
	gateway, tokenScript := "", false
	defer func() {
		p.Title = body.Heading
		p.Scripts = []string{p.Asset("checkout.js")}
		h.render(w, r, status, "mycards", csp(gateway, tokenScript, true), p)
	}()
	if h.cards == nil || !set.Card.Members {
		body.Unavailable = text(lang, "mycards_members_off")
		return
	}
	sc, err := h.cards.GetCard(ctx, cl.Shop, cl.Customer)
	switch {
	case err == nil:
		body.Heading = text(lang, "mycards_title")
		body.Card = &savedCardView{Brand: brandLabel(sc.Brand), Number: sc.CardNumber, Last4: sc.Last4, Expiry: sc.Expiry, Valid: sc.Valid}
		body.CanDelete = sc.Deletable
		if !sc.Deletable {
			body.DeleteRefusal = text(lang, "mycards_no_delete")
			if sc.DeleteRefusal != nil {
				body.DeleteRefusal = sc.DeleteRefusal.Message(lang)
			}
		}
	case kessai.ErrorKind(err) == kessai.KindNotFound:
	default:
		h.log.WarnContext(ctx, "hosted: saved card not available", "customer", cl.Customer, "error", err)
		body.Unavailable = text(lang, "mycards_unavailable")
		return
	}
	if ok, _ := set.CardAvailable(); !ok {
		return
	}
	cs := &set.Card
	// Design A-17: the token form when a token code is configured, the
	// gateway's own card page otherwise.
	mode := modeToken
	if cs.LinkType && !cs.TokenAuthCode.IsSet() {
		mode = modeLink
	}
	base, ok := h.gatewayBase(set)
	if mode == modeToken && !ok {
		return
	}
	threeDS := mode == modeToken && (cs.ThreeDS || cs.LinkType)
	cp := &cardPanel{Mode: mode, MsgsJSON: jsMessages(lang), SecurityCode: cs.SecurityCode, PostHolder: threeDS,
		Consent: threeDS || mode == modeLink, ConsentChecked: v.posted.Get("consent") == "1",
		HolderName: strings.ToUpper(strings.TrimSpace(v.posted.Get("cardholder_name")))}
	body.C = cp
	body.Fields = partial{pageData: p, C: cp}
	switch {
	case mode == modeLink:
		body.Button = text(lang, "mycards_link_save")
	case body.Card != nil:
		body.Button = text(lang, "mycards_save")
	default:
		body.Button = text(lang, "mycards_register")
	}
	if ok {
		gateway = originOf(base)
	}
	if mode == modeToken {
		body.TokenScript, tokenScript = tokenScriptURL(base, set), true
	}
}

// postMyCards saves or deletes the customer's card.
func (h *Handler) postMyCards(w http.ResponseWriter, r *http.Request) {
	lang := langOf(r)
	ctx := r.Context()
	cl := h.session(r)
	if cl == nil {
		h.linkInvalid(w, r, lang)
		return
	}
	v := &myCardsView{posted: r.PostForm}
	if !h.checkCSRF(r, cl.Shop, "mycards:"+cl.Customer) {
		h.log.InfoContext(ctx, "hosted: my-cards POST without a valid CSRF token", "customer", cl.Customer)
		v.errors = []string{text(lang, "csrf_failed")}
		h.renderMyCards(w, r, cl, lang, v, http.StatusForbidden)
		return
	}
	if h.cards == nil {
		h.renderMyCards(w, r, cl, lang, v, http.StatusServiceUnavailable)
		return
	}
	f := r.PostForm
	switch f.Get("action") {
	case "delete":
		if err := h.cards.DeleteCard(ctx, cl.Shop, cl.Customer); err != nil {
			v.errors = h.messagesOf(ctx, err, lang)
			h.renderMyCards(w, r, cl, lang, v, statusOf(err))
			return
		}
		http.Redirect(w, r, h.myCardsPath(r)+"?done=deleted&lang="+lang, http.StatusSeeOther)
	case "save":
		_, err := h.store.GetMember(ctx, cl.Shop, cl.Customer)
		had := err == nil
		ret := h.base(r) + MyCardsPath
		if service.CheckReturnURL("return_url", ret) != nil {
			ret = ""
		}
		in := cardpay.SaveCardInput{Token: f.Get("token"), Consent: f.Get("consent") == "1", ReturnURL: ret,
			CardholderName: strings.ToUpper(strings.TrimSpace(f.Get("cardholder_name")))}
		set, err := h.settings(ctx, cl.Shop)
		if err != nil {
			h.renderError(w, r, lang, err)
			return
		}
		linkPage := set.Card.LinkType && !set.Card.TokenAuthCode.IsSet()
		if !linkPage && in.Token == "" {
			v.errors = []string{text(lang, "token_missing")}
			h.renderMyCards(w, r, cl, lang, v, http.StatusBadRequest)
			return
		}
		res, err := h.cards.SaveCard(ctx, cl.Shop, cl.Customer, in)
		if err != nil {
			v.errors = h.messagesOf(ctx, err, lang)
			h.renderMyCards(w, r, cl, lang, v, statusOf(err))
			return
		}
		if res.NextAction != nil {
			h.follow(w, r, lang, res.NextAction)
			return
		}
		done := "registered"
		if had {
			done = "saved"
		}
		http.Redirect(w, r, h.myCardsPath(r)+"?done="+done+"&lang="+lang, http.StatusSeeOther)
	default:
		v.errors = []string{text(lang, "bad_request")}
		h.renderMyCards(w, r, cl, lang, v, http.StatusBadRequest)
	}
}
