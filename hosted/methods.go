package hosted

import (
	"context"
	"html/template"
	"net/http"

	"github.com/kessai/kessai"
)

// method is one payment method of the checkout page. The page lists the
// methods that are offered for the order (a radio choice when there are
// several), renders each one's panel inside the one checkout form, and
// hands the POST to the method the shopper chose.
//
// Card payments are cardMethod, online payment collection (コンビニ・
// Pay-easy・電子マネー) is collectionMethod. Another method is added the
// same way: a type implementing method, appended to Handler.methods in
// New, with its panel template in web/templates/checkout.html and its
// messages in messages.go.
type method interface {
	// id is the value of the form's "method" field.
	id() kessai.Method
	// offered reports whether the order can be paid with the method now.
	offered(c *checkoutCtx) bool
	// panel renders the method's part of the form: its fields and any
	// notices. c.posted holds the values of a POST being shown again.
	panel(ctx context.Context, c *checkoutCtx) (methodPanel, error)
	// submit handles the POST when the shopper chose this method: it
	// writes the answer (a redirect, the gateway hand-off, or the page
	// again with errors).
	submit(w http.ResponseWriter, r *http.Request, c *checkoutCtx)
}

// methodPanel is what a method contributes to the page.
type methodPanel struct {
	Title, Description string
	Panel              template.HTML
	// Button is the submit button's label while this method is chosen.
	Button string
	// TokenScript is a script the panel needs from the gateway (the card
	// token script), "" for none.
	TokenScript string
	// GatewayOrigin is the origin the panel's scripts and forms talk to,
	// or that the form's answer redirects to (form-action).
	GatewayOrigin string
}

// methodView is one method as the checkout template shows it.
type methodView struct {
	ID          kessai.Method
	Title       string
	Description string
	Panel       template.HTML
	Button      string
	Selected    bool
}

// methodText returns a method's title and description in lang: the
// operator's texts, with the plugins' default texts translated for English
// pages and the test-mode notice outside production (SET-01, SET-14).
func methodText(set *kessai.Settings, m kessai.Method, lang string) (title, desc string) {
	if lang != langEn {
		return set.CheckoutText(m)
	}
	var t, d string
	switch m {
	case kessai.MethodCard:
		t, d = set.Card.Title, set.Card.Description
		if t == kessai.DefaultCardTitle {
			t = "Credit card"
		}
		if d == kessai.DefaultCardDescription {
			d = "Pay by credit card"
		}
	case kessai.MethodCollection:
		t, d = set.Collection.Title, set.Collection.Description
		if t == kessai.DefaultCollectionTitle {
			t = "Convenience store, e-money, Pay-easy"
		}
		if d == kessai.DefaultCollectionDescription {
			d = "Pay at a convenience store, with e-money or Pay-easy"
		}
	}
	if set.TestMode() {
		if d != "" {
			d += " "
		}
		d += "(running in test mode)"
	}
	return t, d
}
