package hosted

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
)

// collectionMethod is online payment collection (オンライン収納代行:
// コンビニ・Pay-easy・電子マネー) on the checkout page (CVS-01, CVS-02,
// CVS-06, CVS-07). The shopper confirms the order here, with the
// settlement fee shown beforehand; kessai registers it (cvspay.Register)
// and sends the browser to the collection agent's page, where the shopper
// chooses a store, Pay-easy or e-money. The agent's page links back to
// this checkout, which then shows what to pay, by when and where
// (renderThanks, design A-06).
type collectionMethod struct{ h *Handler }

func (m *collectionMethod) id() kessai.Method { return kessai.MethodCollection }

// offered applies SET-19: enabled and configured, with a Collector wired
// in. A registration sends the browser to the agent's page, so its
// address must be known too (for the simulator, its URL).
func (m *collectionMethod) offered(c *checkoutCtx) bool {
	if m.h.cols == nil {
		return false
	}
	if ok, _ := c.set.CollectionAvailable(); !ok {
		return false
	}
	if c.order.Amount > 0 {
		if _, ok := m.h.agentOrigin(c.set); !ok {
			m.h.log.Warn("hosted: collection method hidden: the shop uses the simulator but no simulator URL is configured")
			return false
		}
	}
	return true
}

// agentOrigin is the origin of the collection agent's page (E8) that a
// registration sends the browser to, and whether the browser can reach
// one: the simulator serves the page itself, the real one is
// link.kessai.info. The checkout page's form-action must allow it, since
// the form's answer redirects there.
func (h *Handler) agentOrigin(set *kessai.Settings) (string, bool) {
	if set.Simulated() {
		return originOf(h.simURL), h.simURL != ""
	}
	return originOf(set.EscottEnvironment().AgentURL()), true
}

// ---- the shopper's identity (CVS-02, CVS-03) ----

// billingField is one field of the order's billing that a registration
// needs (collection.Validate) and that the panel can ask for.
type billingField struct {
	name  string // the form field, the billing JSON name without "billing."
	group string // fields asked for together: "kanji", "kana", "phone"
	get   func(*kessai.Billing) *string
	// clean turns what the shopper typed into what the order keeps.
	clean func(string) string
}

// billingFields are in the order the panel shows them.
var billingFields = []billingField{
	{"last_name", "kanji", func(b *kessai.Billing) *string { return &b.LastName }, trimSpace},
	{"first_name", "kanji", func(b *kessai.Billing) *string { return &b.FirstName }, trimSpace},
	{"last_name_kana", "kana", func(b *kessai.Billing) *string { return &b.LastNameKana }, cleanKana},
	{"first_name_kana", "kana", func(b *kessai.Billing) *string { return &b.FirstNameKana }, cleanKana},
	{"phone", "phone", func(b *kessai.Billing) *string { return &b.Phone }, cleanPhone},
}

// trimSpace drops white space, ASCII and full-width, at both ends.
func trimSpace(s string) string { return strings.TrimFunc(s, unicode.IsSpace) }

// cleanKana keeps a kana name as the gateway receives it (full-width
// katakana, collection.NameKana), so that the order shows what was sent.
func cleanKana(s string) string { return collection.ToFullWidthKatakana(trimSpace(s)) }

// cleanPhone keeps a phone number in the form the gateway receives it
// when it is one; anything else is kept as typed for Validate to refuse.
func cleanPhone(s string) string {
	if tel, err := collection.TelNo(s); err == nil {
		return tel
	}
	return trimSpace(s)
}

// neededFields are the billing fields the order lacks for a registration:
// every field of a group in which collection.Validate finds a problem (a
// pair of names is asked for together, even when only one half is
// missing, because the two are sent as one value). The panel asks only
// for these, and the order's other billing data is neither shown nor
// changed.
func neededFields(b kessai.Billing) []billingField {
	bad := map[string]bool{}
	for _, fe := range collection.Validate(b) {
		name := strings.TrimPrefix(fe.Field, "billing.")
		for _, f := range billingFields {
			if f.name == name {
				bad[f.group] = true
			}
		}
	}
	var out []billingField
	for _, f := range billingFields {
		if bad[f.group] {
			out = append(out, f)
		}
	}
	return out
}

// requiredMessages are collection.Validate's messages for each empty
// field (CVS-02's 「請求先姓（カナ）を入力してください。」 …) in lang, for the
// browser's own check, so that the browser and the server say the same.
func requiredMessages(lang string) map[string]string {
	out := map[string]string{}
	for _, fe := range collection.Validate(kessai.Billing{}) {
		if fe.Code == "required" {
			out[strings.TrimPrefix(fe.Field, "billing.")] = fe.Message(lang)
		}
	}
	return out
}

// ---- the panel (CVS-01) ----

// collectionPanel is the data of the collection_panel template.
type collectionPanel struct {
	Zero bool
	// Fee is the settlement fee the registration will add; FeeYen the
	// notice's amount (¥330, as the plugins print it); Total what the
	// shopper will pay.
	Fee    int64
	FeeYen string
	Total  int64
	Groups []fieldGroup
}

// fieldGroup is a row of the panel: one or two inputs and a help text.
type fieldGroup struct {
	Fields       []fieldView
	Help, HelpID string
}

// fieldView is one input of the panel.
type fieldView struct {
	Name, ID, Label, Placeholder     string
	Type, Autocomplete, InputMode    string
	MaxLength                        int
	Value, Error, Required, Describe string
}

// fieldInputs describe each field's input: label key, placeholder, type,
// autocomplete and inputmode. The kana have no autocomplete token of
// their own, so the browser is not asked to guess them.
var fieldInputs = map[string]struct{ label, placeholder, typ, autocomplete, inputMode string }{
	"last_name":       {"cvs_last_name", "山田", "text", "family-name", ""},
	"first_name":      {"cvs_first_name", "太郎", "text", "given-name", ""},
	"last_name_kana":  {"cvs_last_name_kana", "ヤマダ", "text", "off", ""},
	"first_name_kana": {"cvs_first_name_kana", "タロウ", "text", "off", ""},
	"phone":           {"cvs_phone", "090-1234-5678", "tel", "tel", "tel"},
}

// groupHelp is the help text key of a group, "" for none.
var groupHelp = map[string]string{"kana": "cvs_kana_help", "phone": "cvs_phone_help"}

// feePreview is the settlement fee a registration of the order would add
// now and the amount the shopper would then pay: collection.ApplyFee on a
// copy, the computation cvspay.Register makes (CVS-01 uses the
// calculation of CVS-04), so the page cannot announce another fee than
// the one charged. The fee is looked up on the total before any fee line.
func feePreview(o *kessai.Order, set *kessai.CollectionSettings) (fee, total int64) {
	work := *o
	work.Items = slices.Clone(o.Items)
	fee, _ = collection.ApplyFee(&work, set.FeeRows, set.FeeEnabled)
	return fee, work.Amount
}

func (m *collectionMethod) panel(_ context.Context, c *checkoutCtx) (methodPanel, error) {
	cp := &collectionPanel{Zero: c.order.Amount == 0}
	cp.Fee, cp.Total = feePreview(c.order, &c.set.Collection)
	if cp.Fee > 0 {
		cp.FeeYen = "¥" + itoa(cp.Fee)
	}
	required := requiredMessages(c.lang)
	group := ""
	for _, f := range neededFields(c.order.Billing) {
		in := fieldInputs[f.name]
		fv := fieldView{Name: f.name, ID: "cvs-" + strings.ReplaceAll(f.name, "_", "-"), Label: text(c.lang, in.label),
			Placeholder: in.placeholder, Type: in.typ, Autocomplete: in.autocomplete, InputMode: in.inputMode,
			MaxLength: collection.MaxNameLen, Required: required[f.name], Error: c.fieldErrors[f.name],
			// Only what this POST brought is shown again, never the
			// order's billing: the checkout URL is all it takes to
			// open this page.
			Value: c.posted.Get(f.name)}
		if f.group == "phone" {
			fv.MaxLength = 20
		}
		if f.group != group {
			group = f.group
			g := fieldGroup{}
			if key := groupHelp[f.group]; key != "" {
				g.Help, g.HelpID = text(c.lang, key), "cvs-"+f.group+"-help"
			}
			cp.Groups = append(cp.Groups, g)
		}
		g := &cp.Groups[len(cp.Groups)-1]
		fv.Describe = fv.ID + "-error"
		if g.HelpID != "" {
			fv.Describe += " " + g.HelpID
		}
		g.Fields = append(g.Fields, fv)
	}
	html, err := renderPartial("checkout", "collection_panel", partial{pageData: &pageData{Lang: c.lang}, C: cp})
	if err != nil {
		return methodPanel{}, err
	}
	title, desc := methodText(c.set, kessai.MethodCollection, c.lang)
	mp := methodPanel{Title: title, Description: desc, Panel: html, Button: text(c.lang, "continue_link")}
	if cp.Zero {
		mp.Button = text(c.lang, "confirm_order")
	}
	if origin, ok := m.h.agentOrigin(c.set); ok {
		mp.GatewayOrigin = origin
	}
	return mp, nil
}

// ---- the POST (CVS-02 … CVS-07) ----

// submit checks the fields the panel asked for with the rules the
// registration applies (collection.Validate: CVS-02's messages, field by
// field), writes them to the order, registers the order and sends the
// browser to the agent's page (CVS-06). A refusal shows the form again
// with the plugins' message (CVS-07).
func (m *collectionMethod) submit(w http.ResponseWriter, r *http.Request, c *checkoutCtx) {
	h := m.h
	ctx := r.Context()
	fields := neededFields(c.order.Billing)
	b := c.order.Billing
	for _, f := range fields {
		*f.get(&b) = f.clean(r.PostForm.Get(f.name))
	}
	if v := collection.Validate(b); v != nil {
		h.showFieldErrors(w, r, c, v)
		return
	}
	if len(fields) > 0 {
		if err := h.saveBilling(ctx, c, fields, b); err != nil {
			h.renderError(w, r, c.lang, err)
			return
		}
	}
	res, err := h.cols.Register(ctx, c.shopID, c.order.ID, cvspay.RegisterInput{ReturnURL: c.returnURL, Lang: c.lang})
	if err != nil {
		var v kessai.ValidationErrors
		if errors.As(err, &v) {
			h.showFieldErrors(w, r, c, v)
			return
		}
		var f *cvspay.Failure
		if errors.As(err, &f) {
			h.log.InfoContext(ctx, "hosted: collection registration refused", "order", c.order.ID, "payment", f.PaymentID,
				"code", f.Err.Code, "gateway_codes", f.Codes)
		}
		h.payFailed(w, r, c, err)
		return
	}
	if na := res.NextAction; na != nil && na.Type == "redirect" && na.URL != "" {
		http.Redirect(w, r, na.URL, http.StatusSeeOther)
		return
	}
	// Nothing to pay (CVS-12): the order is paid; the page says so.
	http.Redirect(w, r, h.checkoutPath(r, c.order.ID)+"?lang="+c.lang, http.StatusSeeOther)
}

// showFieldErrors shows the form again with each problem beside its field
// and all of them above the form, keeping what the shopper typed.
func (h *Handler) showFieldErrors(w http.ResponseWriter, r *http.Request, c *checkoutCtx, v kessai.ValidationErrors) {
	c.fieldErrors = map[string]string{}
	for _, fe := range v {
		msg := fe.Message(c.lang)
		name := strings.TrimPrefix(fe.Field, "billing.")
		if _, seen := c.fieldErrors[name]; !seen {
			c.fieldErrors[name] = msg
		}
		c.errors = append(c.errors, msg)
	}
	h.renderCheckout(w, r, c, http.StatusBadRequest)
}

// saveBilling writes the fields the panel asked for — and no others — to
// the order's billing before the registration reads them. The
// registration takes the shopper's identity from the order
// (cvspay.RegisterInput has no fields for it), and the order is where the
// plugins keep the kana too (billing fields, CVS-02) and where the shop
// finds them afterwards (order.updated). An order that is no longer
// payable is left alone: Register then says what became of it.
func (h *Handler) saveBilling(ctx context.Context, c *checkoutCtx, fields []billingField, b kessai.Billing) error {
	changed := false
	err := h.store.InTx(ctx, func(tx kessai.Store) error {
		changed = false
		o, err := tx.GetOrder(ctx, c.shopID, c.order.ID)
		if err != nil {
			return err
		}
		if o.Status != kessai.OrderPending && o.Status != kessai.OrderFailed {
			return nil
		}
		for _, f := range fields {
			if p := f.get(&o.Billing); *p != *f.get(&b) {
				*p = *f.get(&b)
				changed = true
			}
		}
		if !changed {
			return nil
		}
		o.UpdatedAt = h.svc.Now()
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return err
		}
		return h.svc.Emit(ctx, tx, c.shopID, kessai.EventOrderUpdated, o)
	})
	if err != nil {
		return kessai.Internal(err)
	}
	if changed {
		h.svc.Kick()
	}
	return nil
}

// ---- the thank-you page (design A-06) ----

// Outcomes of the link back to the shop (the status query parameter, as
// the gateway receiver's redirect writes it): a collection is pending
// until the shopper has paid at the store.
const (
	outcomeSucceeded = "succeeded"
	outcomePending   = "pending"
)

// collectionThanks is the collection part of the thank-you page: what to
// pay, by when, and the agent's page to pay on.
type collectionThanks struct {
	Amount, Fee int64
	Due         string
	// PaymentURL is the agent's page (the link kept for e-mails, rkbn=2),
	// "" once the due date has passed.
	PaymentURL string
}

// collectionThanksOf fills the thank-you page of an order paid, or to be
// paid, by a collection, and returns the status its link back to the shop
// carries: succeeded once paid, pending while waiting for the payment.
func (h *Handler) collectionThanksOf(ctx context.Context, c *checkoutCtx, p *kessai.Payment, body *thanksPage) string {
	body.Method, _ = methodText(c.set, kessai.MethodCollection, c.lang)
	if p.State == kessai.PaymentPaid {
		body.State, body.Message = "paid", text(c.lang, "paid_captured")
		if p.CvsCd != "" {
			body.PayType = escott.CvsName(p.CvsCd) // where it was paid (CVS-14)
		}
		return outcomeSucceeded
	}
	ct := &collectionThanks{Amount: p.Amount, Fee: p.Fee}
	body.Collection = ct
	due, err := collection.DueAt(p.PayLimit)
	if err == nil {
		ct.Due = dueText(due, c.lang)
	}
	past := p.State == kessai.PaymentExpired
	if !past && err == nil {
		past, _ = collection.Expired(p.PayLimit, h.svc.Now())
	}
	if past {
		// The agent's page refuses a collection past its due date; only
		// the shop can help now (change the due date, or cancel).
		body.State, body.Message = "collection_expired", text(c.lang, "cvs_past_due")
		return outcomePending
	}
	body.State, body.Message = "collection_pending", text(c.lang, "cvs_thanks")
	if h.cols == nil {
		return outcomePending // no Collector: amount and due date, without the link
	}
	d, err := h.cols.Details(ctx, c.shopID, p.ID)
	if err != nil {
		h.log.WarnContext(ctx, "hosted: collection details not available", "order", c.order.ID, "payment", p.ID, "error", err)
		return outcomePending
	}
	ct.Amount, ct.Fee, ct.PaymentURL = d.Amount, d.Fee, d.PaymentURL
	ct.Due = dueText(d.DueAt, c.lang)
	return outcomePending
}

// dueText writes a due date in Japan time as the shopper reads it:
// 「2026年4月8日 23:59」, as the e-mails (CVS-08) and the agent's page
// write it, or "April 8, 2026 23:59 (JST)".
func dueText(due time.Time, lang string) string {
	if lang == langEn {
		return due.In(escott.JST).Format("January 2, 2006 15:04") + " (JST)"
	}
	return escott.FormatDisplayDate(due)
}
