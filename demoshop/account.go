package demoshop

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// historyPageSize is how many orders the history shows per page.
const historyPageSize = 10

// cardLinkProbeTimeout bounds the "my cards" link check on the account
// page: the link is an extra, and a slow answer must not hold up the
// order history.
const cardLinkProbeTimeout = 3 * time.Second

// Lifetimes asked for the "my cards" links. A link is a bearer
// credential for the customer's saved card: the probe's is never used
// and gets kessai's minimum, the one followed at once a few minutes.
const (
	cardLinkProbeTTL = time.Minute
	cardLinkTTL      = 5 * time.Minute
)

// accountBody is the account page: the order history and the link to
// kessai's "my cards" page.
type accountBody struct {
	Orders []apiOrder
	// Next is the cursor of the next page, when there is one.
	Next string
	// First is false on later pages (a link back to the first).
	First bool
	// CardsLink is shown only when kessai can make the customer a
	// "my cards" link (a kessai without that route, or without saved
	// cards enabled, answers otherwise).
	CardsLink bool
	// CardsUnavailable is set when following the link just failed.
	CardsUnavailable bool
	Error            string
}

// requireLogin returns the logged-in customer, or sends the browser to
// the login page (coming back here afterwards) and returns nil.
func (s *shop) requireLogin(w http.ResponseWriter, r *http.Request, sess *session) *customer {
	if c, ok := customerByID(sess.Customer); ok {
		return c
	}
	http.Redirect(w, r, s.path(pathLogin)+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil
}

// account lists the customer's orders with the API's customer_id filter,
// newest first, one page at a time.
func (s *shop) account(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	c := s.requireLogin(w, r, sess)
	if c == nil {
		return
	}
	after := r.URL.Query().Get("after")
	if after != "" && !orderIDRE.MatchString(after) {
		after = ""
	}
	b := &accountBody{First: after == "", CardsUnavailable: r.URL.Query().Get("cards") == "unavailable"}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	l, err := s.api.customerOrders(ctx, c.ID, after, historyPageSize)
	if err != nil {
		s.log.Error("demoshop: list orders", "customer_id", c.ID, "err", err)
		b.Error = "ご注文履歴を読み込めませんでした。時間をおいて再度お試しください。"
	} else {
		// The API filtered by customer already; checking again costs
		// nothing and keeps a filter mistake from showing someone
		// else's orders.
		for _, o := range l.Data {
			if o.CustomerID == c.ID {
				b.Orders = append(b.Orders, o)
			}
		}
		if l.HasMore {
			b.Next = l.NextCursor
		}
	}
	b.CardsLink = s.cardsLinkAvailable(r.Context(), c)
	v := s.view(sess, ct, "マイページ", "account")
	v.Body = b
	s.render(w, r, http.StatusOK, "account", v)
}

// cardsLinkAvailable asks kessai for a "my cards" link and reports
// whether it made one. The link itself is not used: the page may stay
// open longer than a link lives, so the shop's own /account/cards asks
// for a fresh one when the customer clicks.
func (s *shop) cardsLinkAvailable(ctx context.Context, c *customer) bool {
	ctx, cancel := context.WithTimeout(ctx, cardLinkProbeTimeout)
	defer cancel()
	l, err := s.api.myCardsLink(ctx, c.ID, s.public+pathAccount, cardLinkProbeTTL)
	if err != nil {
		// Expected while kessai has no such route (404) or saved cards
		// are off (409): the link is simply not offered.
		s.log.Debug("demoshop: no my-cards link", "customer_id", c.ID, "err", err)
		return false
	}
	return usableLink(l.URL)
}

// usableLink accepts an absolute http(s) URL.
func usableLink(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// myCards sends the customer to kessai's "my cards" page with a link made
// just now, or back to the account page with a notice.
func (s *shop) myCards(w http.ResponseWriter, r *http.Request) {
	sess, _ := s.visit(w, r)
	c := s.requireLogin(w, r, sess)
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), apiTimeout)
	defer cancel()
	l, err := s.api.myCardsLink(ctx, c.ID, s.public+pathAccount, cardLinkTTL)
	if err != nil || !usableLink(l.URL) {
		s.log.Warn("demoshop: my-cards link", "customer_id", c.ID, "err", err)
		s.redirect(w, r, pathAccount+"?cards=unavailable")
		return
	}
	http.Redirect(w, r, l.URL, http.StatusSeeOther)
}
