package chaostest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kessai/kessai/internal/htmlform"
)

// The shop side of the suite: journeys through the public API as a shop
// backend and a shopper's browser make them, recording what the test
// handed out (cards, tokens) for the leak scan and what each journey saw.

// Test cards of the simulator (docs/simulator.md).
var (
	approvingCards = []string{"4012000000000008", "5123000000000001", "3530000000000003", "36000000000008", "370000000000002"}
	decliningCards = []string{"4000000000000127", "4000000000000556"}
	// threeDSCards answer 3-D Secure at once: authenticated (0),
	// attempted (2), failed (1, which stops the payment).
	threeDSCards = []string{"4000000000003006", "4000000000003204", "4000000000003105"}
	// securityCodes are given with the tokens; kessai never sees them,
	// and the leak scan looks for them next to their labels.
	securityCodes = []string{"123", "4567", "8181"}
)

// shopReturnURL is the orders' return URL: the browser is sent there
// with the outcome in the query (not followed).
const shopReturnURL = "https://shop.example/thanks"

// billing is an identity a collection accepts (CVS-02).
var billing = map[string]any{"last_name": "山田", "first_name": "太郎", "last_name_kana": "ヤマダ",
	"first_name_kana": "タロウ", "email": "taro@example.jp", "phone": "090-1234-5678"}

// ledger is what the test handed out and what the journeys saw.
type ledger struct {
	mu        sync.Mutex
	tokens    []string
	cards     map[string]bool
	outcomes  map[string]int
	stuck     []string          // labels of requests whose key stayed in progress
	agentPaid map[string]string // payment code → order id, paid at the agent page
	customers []string          // customers with a subscription
}

func newLedger() *ledger {
	return &ledger{cards: map[string]bool{}, outcomes: map[string]int{}, agentPaid: map[string]string{}}
}

func (l *ledger) outcome(kind, what string) {
	l.mu.Lock()
	l.outcomes[kind+": "+what]++
	l.mu.Unlock()
}

// shop runs journeys against a cluster.
type shop struct {
	c   *cluster
	led *ledger
}

// token issues a card token at the simulator's control API, as the
// token script would in a browser: the card goes to the gateway only.
func (s *shop) token(ctx context.Context, card string) (string, error) {
	sc := securityCodes[rand.IntN(len(securityCodes))]
	var out struct {
		Token string `json:"token"`
	}
	if _, err := s.c.simCall(ctx, "POST", "/_sim/tokens", map[string]any{"card_number": card, "exp": "3012",
		"security_code": sc, "holder_name": "TARO YAMADA"}, &out); err != nil {
		return "", err
	}
	s.led.mu.Lock()
	s.led.tokens = append(s.led.tokens, out.Token)
	s.led.cards[card] = true
	s.led.mu.Unlock()
	return out.Token, nil
}

// createOrder creates an order (with an Idempotency-Key); when its answer
// is lost for good (the key stuck), the order is found by its
// shop_order_id, as a shop would.
func (s *shop) createOrder(ctx context.Context, ref string, amount int64, customer string, withBilling bool) (string, error) {
	body := map[string]any{"shop_order_id": ref, "amount": amount, "return_url": shopReturnURL,
		"items": []any{map[string]any{"name": "緑茶 100g", "quantity": 1, "unit_amount": amount}}}
	if customer != "" {
		body["customer_id"] = customer
	}
	if withBilling {
		body["billing"] = billing
	}
	ans, err := s.c.send(ctx, "POST /v1/orders", "POST", "/v1/orders", body, "order-"+ref)
	if errors.Is(err, errStuck) {
		s.stuck("POST /v1/orders")
		id, found, ferr := s.findOrder(ctx, ref)
		if ferr != nil || found {
			return id, ferr
		}
		// The process died after claiming the key and before the
		// order was written: the key stays claimed, the order does not
		// exist. A shop that checked creates it under a new key.
		s.led.outcome("order", "key stuck and no order: created again under a new key")
		ans, err = s.c.send(ctx, "POST /v1/orders", "POST", "/v1/orders", body, "order-again-"+ref)
		if errors.Is(err, errStuck) {
			id, found, err := s.findOrder(ctx, ref)
			if err == nil && !found {
				err = fmt.Errorf("order %s: lost twice", ref)
			}
			return id, err
		}
	}
	if err != nil {
		return "", err
	}
	if ans.Status != http.StatusCreated {
		return "", fmt.Errorf("create order %s: %s", ref, ans)
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := ans.decode(&o); err != nil {
		return "", err
	}
	return o.ID, nil
}

func (s *shop) stuck(label string) {
	s.led.mu.Lock()
	s.led.stuck = append(s.led.stuck, label)
	s.led.mu.Unlock()
}

// findOrder looks an order up by the shop's own id.
func (s *shop) findOrder(ctx context.Context, ref string) (string, bool, error) {
	ans, err := s.c.send(ctx, "GET /v1/orders", "GET", "/v1/orders?shop_order_id="+url.QueryEscape(ref), nil, "")
	if err != nil {
		return "", false, err
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := ans.decode(&list); err != nil || len(list.Data) > 1 {
		return "", false, fmt.Errorf("looking order %s up: %s", ref, ans)
	}
	if len(list.Data) == 0 {
		return "", false, nil
	}
	return list.Data[0].ID, true, nil
}

// nextAction is where kessai sends the shopper's browser.
type nextAction struct {
	Type   string            `json:"type"`
	Method string            `json:"method"`
	URL    string            `json:"url"`
	Fields map[string]string `json:"fields"`
}

// payResult is the part of /pay's and the card registration's success
// answers the journeys read.
type payResult struct {
	Status     string      `json:"status"`
	NextAction *nextAction `json:"next_action"`
}

// cardCheckout creates an order and pays it with a new card's token; with
// 3-D Secure on, the browser goes through the simulator's 3-D Secure page
// and back to kessai, which authorises.
func (s *shop) cardCheckout(ctx context.Context, ref, card string) error {
	oid, err := s.createOrder(ctx, ref, 1000+int64(rand.IntN(9000)), "", false)
	if err != nil {
		return err
	}
	tok, err := s.token(ctx, card)
	if err != nil {
		return err
	}
	body := map[string]any{"token": tok, "card_prefix": card[:6], "cardholder_name": "TARO YAMADA", "consent": true}
	ans, err := s.c.send(ctx, "POST /v1/orders/{id}/pay", "POST", "/v1/orders/"+oid+"/pay", body, "pay-"+ref)
	return s.afterPay(ctx, "card", ans, err)
}

// afterPay records a checkout's answer and follows a next action.
func (s *shop) afterPay(ctx context.Context, kind string, ans *answer, err error) error {
	switch {
	case errors.Is(err, errStuck):
		s.stuck(kind)
		s.led.outcome(kind, "answer lost (key stuck in progress)")
		return nil
	case err != nil:
		return err
	case ans.Status == http.StatusOK:
		var r payResult
		if err := ans.decode(&r); err != nil {
			return err
		}
		if r.Status == "requires_action" && r.NextAction != nil {
			s.led.outcome(kind, "browser: "+s.browse(ctx, r.NextAction))
			return nil
		}
		s.led.outcome(kind, r.Status)
	default:
		s.led.outcome(kind, fmt.Sprintf("%d %s", ans.Status, ans.code()))
	}
	return nil
}

// browse plays the shopper's browser through a next action: the
// simulator's 3-D Secure page (frictionless, or the challenge answered
// "authenticated"), then the hand-back to kessai, whose redirect to the
// shop's return URL carries the outcome. A hand-back cut off by a kill is
// sent again once kessai is back, as a shopper's reload would.
func (s *shop) browse(ctx context.Context, na *nextAction) string {
	form := url.Values{}
	for k, v := range na.Fields {
		form.Set(k, v)
	}
	target := na.URL
	for hop := 0; hop < 4; hop++ {
		page, _, err := s.browserPost(ctx, target, form)
		if err != nil {
			return "gateway page failed: " + err.Error()
		}
		if action, ev, ok := htmlform.AutoSubmitted(page); ok {
			fields := url.Values{}
			for _, f := range htmlform.Parse(page) {
				if f.Fields.Get("EncryptValue") == ev {
					fields = f.Fields
				}
			}
			return s.handBack(ctx, resolve(target, action), fields)
		}
		// The challenge page: answer "authenticated".
		next := ""
		for _, f := range htmlform.Parse(page) {
			for _, b := range f.Buttons {
				if b.Get("outcome") == "0" {
					form = f.Fields
					for k, v := range b {
						form[k] = v
					}
					next = resolve(target, f.Action)
				}
			}
		}
		if next == "" {
			return "unexpected gateway page"
		}
		target = next
	}
	return "too many gateway pages"
}

// handBack posts the gateway's answer to kessai and reads the outcome
// from the redirect to the shop.
func (s *shop) handBack(ctx context.Context, action string, fields url.Values) string {
	for try := 0; try < 3; try++ {
		_, loc, err := s.browserPost(ctx, action, fields)
		if err != nil {
			// kessai was killed while finishing the payment: reload.
			if s.c.waitUp(ctx) != nil {
				return "kessai did not come back"
			}
			continue
		}
		if loc == "" {
			return "result page"
		}
		u, err := url.Parse(loc)
		if err != nil {
			return "bad redirect"
		}
		st := u.Query().Get("status")
		if e := u.Query().Get("error"); e != "" {
			st += " " + e
		}
		if try > 0 {
			st += " (after a reload)"
		}
		return st
	}
	return "hand-back failed"
}

// browserPost sends a form as a browser does, without following redirects;
// it returns the page and the Location.
func (s *shop) browserPost(ctx context.Context, target string, form url.Values) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", target, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.c.client.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", "", err
	}
	return string(b), resp.Header.Get("Location"), nil
}

func resolve(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// collectionCheckout creates an order, registers it for payment at a
// store and, when pay, pays it at the simulator's agent page, whose
// notification then reaches kessai.
func (s *shop) collectionCheckout(ctx context.Context, ref string, pay bool) error {
	oid, err := s.createOrder(ctx, ref, 1000+int64(rand.IntN(9000)), "", true)
	if err != nil {
		return err
	}
	ans, err := s.c.send(ctx, "POST /v1/orders/{id}/collect", "POST", "/v1/orders/"+oid+"/collect", map[string]any{}, "collect-"+ref)
	switch {
	case errors.Is(err, errStuck):
		s.stuck("collect")
		s.led.outcome("collection", "answer lost (key stuck in progress)")
		return nil
	case err != nil:
		return err
	case ans.Status != http.StatusOK:
		s.led.outcome("collection", fmt.Sprintf("%d %s", ans.Status, ans.code()))
		return nil
	}
	var r struct {
		Status     string `json:"status"`
		Collection struct {
			PaymentURL string `json:"payment_url"`
		} `json:"collection"`
	}
	if err := ans.decode(&r); err != nil {
		return err
	}
	s.led.outcome("collection", r.Status)
	if !pay || r.Collection.PaymentURL == "" {
		return nil
	}
	if err := s.payAtAgent(ctx, r.Collection.PaymentURL, oid); err != nil {
		return err
	}
	s.led.outcome("collection", "paid at the agent page")
	return nil
}

// payAtAgent opens the agent page of a payment code and pays at a
// convenience store.
func (s *shop) payAtAgent(ctx context.Context, paymentURL, orderID string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", paymentURL, nil)
	if err != nil {
		return err
	}
	resp, err := s.c.client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, f := range htmlform.Parse(string(b)) {
		for _, btn := range f.Buttons {
			if btn.Get("cvs") != "SEV" {
				continue
			}
			form := f.Fields
			form.Set("cvs", "SEV")
			page, _, err := s.browserPost(ctx, resolve(paymentURL, f.Action), form)
			if err != nil {
				return err
			}
			if !strings.Contains(page, "SEV") && !strings.Contains(page, "セブン") {
				return fmt.Errorf("agent page: no receipt:\n%s", truncate([]byte(page), 500))
			}
			s.led.mu.Lock()
			s.led.agentPaid[form.Get("code")] = orderID
			s.led.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("agent page %s: no store button (HTTP %d)", paymentURL, resp.StatusCode)
}

// subscribe saves a card for a new customer (through 3-D Secure when it
// is on) and creates a monthly subscription starting now: its first
// charge is a renewal, made by kessai's renewal engine.
func (s *shop) subscribe(ctx context.Context, ref string) error {
	customer := "cus-" + ref
	card := approvingCards[rand.IntN(len(approvingCards))]
	tok, err := s.token(ctx, card)
	if err != nil {
		return err
	}
	body := map[string]any{"token": tok, "cardholder_name": "TARO YAMADA", "consent": true, "return_url": shopReturnURL}
	ans, err := s.c.send(ctx, "POST /v1/customers/{id}/card", "POST", "/v1/customers/"+customer+"/card", body, "card-"+ref)
	switch {
	case errors.Is(err, errStuck):
		s.stuck("save card")
		s.led.outcome("saved card", "answer lost (key stuck in progress)")
	case err != nil:
		return err
	case ans.Status == http.StatusOK:
		var r payResult
		if err := ans.decode(&r); err != nil {
			return err
		}
		if r.Status == "requires_action" && r.NextAction != nil {
			s.led.outcome("saved card", "browser: "+s.browse(ctx, r.NextAction))
		} else {
			s.led.outcome("saved card", r.Status)
		}
	default:
		s.led.outcome("saved card", fmt.Sprintf("%d %s", ans.Status, ans.code()))
		return nil
	}
	sub := map[string]any{"customer_id": customer, "description": "コーヒー豆 定期便", "amount": 1980,
		"interval": map[string]any{"unit": "month", "count": 1}}
	ans, err = s.c.send(ctx, "POST /v1/subscriptions", "POST", "/v1/subscriptions", sub, "sub-"+ref)
	switch {
	case errors.Is(err, errStuck):
		s.stuck("subscription")
		s.led.outcome("subscription", "answer lost (key stuck in progress)")
	case err != nil:
		return err
	case ans.Status == http.StatusCreated:
		s.led.outcome("subscription", "created")
		s.led.mu.Lock()
		s.led.customers = append(s.led.customers, customer)
		s.led.mu.Unlock()
	default:
		s.led.outcome("subscription", fmt.Sprintf("%d %s", ans.Status, ans.code()))
	}
	return nil
}

// randomJourney is one journey of the load phase.
func (s *shop) randomJourney(ctx context.Context, ref string) error {
	switch n := rand.IntN(100); {
	case n < 35:
		return s.cardCheckout(ctx, ref, approvingCards[rand.IntN(len(approvingCards))])
	case n < 45:
		return s.cardCheckout(ctx, ref, decliningCards[rand.IntN(len(decliningCards))])
	case n < 55:
		return s.cardCheckout(ctx, ref, threeDSCards[rand.IntN(len(threeDSCards))])
	case n < 85:
		return s.collectionCheckout(ctx, ref, n < 80)
	default:
		return s.subscribe(ctx, ref)
	}
}

// settings applies a settings patch (read, then PATCH with If-Match),
// waiting out a kill.
func (s *shop) settings(ctx context.Context, patch map[string]any) error {
	c := s.c
	for try := 0; try < 10; try++ {
		ans, err := c.send(ctx, "GET /v1/settings", "GET", "/v1/settings", nil, "")
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, "PATCH", c.api+"/v1/settings", strings.NewReader(mustJSON(map[string]any{"settings": patch})))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+c.sk)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("If-Match", ans.Header.Get("ETag"))
		resp, err := c.client.Do(req)
		if err != nil {
			_ = c.waitUp(ctx)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return nil
		case http.StatusConflict, http.StatusServiceUnavailable:
			time.Sleep(100 * time.Millisecond)
		default:
			return fmt.Errorf("PATCH /v1/settings: HTTP %d %s", resp.StatusCode, b)
		}
	}
	return fmt.Errorf("PATCH /v1/settings: kept failing")
}
