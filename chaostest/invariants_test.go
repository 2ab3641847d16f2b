package chaostest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kessai/kessai/internal/htmlform"
)

// The invariants (design §4, the list), checked against the
// simulator's state — the gateway's truth — after recovery:
//
//  1. every charge at the gateway belongs to exactly one payment (its
//     MerchantFree1 is the transaction code of one payment's attempt),
//     of the order it names (MerchantFree2);
//  2. no order is charged twice (at most one live charge per order);
//  3. nothing paid is left unpaid: a live charge's payment is
//     authorised or captured (or unknown, see 4), with the charged
//     amount; a collection paid at the gateway is paid in kessai; and
//     nothing kessai calls paid is missing at the gateway;
//  4. every uncertain attempt is in the unknown list: a payment whose
//     charge kessai cannot confirm is "unknown" — never failed or
//     forgotten — and its order is on the admin console's list of orders
//     with an unknown payment; no attempt is left pending.

// simState is the part of GET /_sim/state the checks read.
type simState struct {
	Transactions []struct {
		ProcessID     string `json:"process_id"`
		Status        string `json:"status"` // AUTH, CAPTURED, CANCELLED
		Amount        int64  `json:"amount"`
		OriginalOp    string `json:"original_op"`
		KaiinID       string `json:"kaiin_id"`
		MerchantFree1 string `json:"merchant_free1"`
		MerchantFree2 string `json:"merchant_free2"`
	} `json:"transactions"`
	Collections []struct {
		ProcessID     string `json:"process_id"`
		FreeArea      string `json:"free_area"`
		Status        string `json:"status"` // UNPAID, PAID, DELETED
		Amount        int64  `json:"amount"`
		MerchantFree1 string `json:"merchant_free1"`
		MerchantFree2 string `json:"merchant_free2"`
	} `json:"collections"`
	Tokens []struct {
		Token string `json:"token"`
	} `json:"tokens"`
}

// payment is a payment as GET /v1/payments/{id} shows it.
type payment struct {
	ID              string `json:"id"`
	OrderID         string `json:"order_id"`
	Method          string `json:"method"`
	State           string `json:"state"`
	Amount          int64  `json:"amount"`
	TransactionCode string `json:"transaction_code"`
	Attempts        []struct {
		ID            string `json:"id"`
		Operation     string `json:"operation"`
		MerchantFree1 string `json:"merchant_free1"`
		Status        string `json:"status"`
	} `json:"attempts"`
}

// snapshot is both sides at one moment.
type snapshot struct {
	sim      simState
	orders   map[string]string // id → status
	payments []payment
	unknown  map[string]bool // orders on the console's unknown list
}

// takeSnapshot reads the simulator, every order with its payments and
// attempts through the API, and the console's unknown list.
func (c *cluster) takeSnapshot(ctx context.Context) (*snapshot, error) {
	s := &snapshot{orders: map[string]string{}}
	if _, err := c.simCall(ctx, "GET", "/_sim/state", nil, &s.sim); err != nil {
		return nil, err
	}
	cursor := ""
	for {
		path := "/v1/orders?limit=100"
		if cursor != "" {
			path += "&starting_after=" + url.QueryEscape(cursor)
		}
		ans, err := c.send(ctx, "GET /v1/orders", "GET", path, nil, "")
		if err != nil {
			return nil, err
		}
		var page struct {
			Data []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
			HasMore    bool   `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		if err := ans.decode(&page); err != nil {
			return nil, fmt.Errorf("orders: %v: %s", err, ans)
		}
		for _, o := range page.Data {
			s.orders[o.ID] = o.Status
		}
		if !page.HasMore {
			break
		}
		cursor = page.NextCursor
	}
	for id := range s.orders {
		ans, err := c.send(ctx, "GET /v1/orders/{id}/payments", "GET", "/v1/orders/"+id+"/payments", nil, "")
		if err != nil {
			return nil, err
		}
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := ans.decode(&list); err != nil {
			return nil, fmt.Errorf("payments of %s: %v: %s", id, err, ans)
		}
		for _, p := range list.Data {
			ans, err := c.send(ctx, "GET /v1/payments/{id}", "GET", "/v1/payments/"+p.ID, nil, "")
			if err != nil {
				return nil, err
			}
			var pay payment
			if err := ans.decode(&pay); err != nil {
				return nil, fmt.Errorf("payment %s: %v: %s", p.ID, err, ans)
			}
			s.payments = append(s.payments, pay)
		}
	}
	sort.Slice(s.payments, func(i, j int) bool { return s.payments[i].ID < s.payments[j].ID })
	unknown, err := c.consoleUnknown(ctx)
	if err != nil {
		return nil, err
	}
	s.unknown = unknown
	return s, nil
}

var orderLinkRE = regexp.MustCompile(`/admin/orders/(ord_[0-9A-Za-z]+)`)

// consoleUnknown logs into the admin console as the first admin user and
// reads its list of orders with a payment of unknown outcome — the
// operator's to-do list (design gap #25) — page by page.
func (c *cluster) consoleUnknown(ctx context.Context) (map[string]bool, error) {
	jar, _ := cookiejar.New(nil)
	br := &http.Client{Jar: jar, Timeout: c.client.Timeout}
	get := func(u string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
		if err != nil {
			return "", err
		}
		resp, err := br.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
		}
		return string(b), err
	}
	page, err := get(c.api + "/admin/login")
	if err != nil {
		return nil, err
	}
	forms := htmlform.Parse(page)
	if len(forms) == 0 {
		return nil, fmt.Errorf("no login form:\n%s", truncate([]byte(page), 500))
	}
	f := forms[0]
	f.Fields.Set("email", c.adminEmail)
	f.Fields.Set("password", c.adminPass)
	req, err := http.NewRequestWithContext(ctx, "POST", resolve(c.api+"/admin/login", f.Action), strings.NewReader(f.Fields.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := br.Do(req)
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Request.URL.Path, "/login") {
		return nil, fmt.Errorf("console login: HTTP %d at %s\n%s", resp.StatusCode, resp.Request.URL, truncate(b, 500))
	}
	out := map[string]bool{}
	next := c.api + "/admin/orders?state=unknown"
	for pages := 0; next != "" && pages < 1000; pages++ {
		page, err := get(next)
		if err != nil {
			return nil, err
		}
		for _, m := range orderLinkRE.FindAllStringSubmatch(page, -1) {
			out[m[1]] = true
		}
		next = ""
		for _, m := range regexp.MustCompile(`href="([^"]*state=unknown[^"]*after=[^"]*)"`).FindAllStringSubmatch(page, -1) {
			next = resolve(c.api+"/admin/orders", strings.ReplaceAll(m[1], "&amp;", "&"))
		}
	}
	return out, nil
}

// verdict is the outcome of the checks on one snapshot.
type verdict struct {
	violations []string
	stats      map[string]int
}

func (v *verdict) fail(format string, args ...any) {
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
}

// chargeOps are the operations that start a payment's money moving.
var chargeOps = map[string]bool{"1Auth": true, "1Gathering": true, "2Add": true}

// live reports whether a card transaction holds money.
func live(status string) bool { return status == "AUTH" || status == "CAPTURED" }

// check applies the invariants to a snapshot.
func (s *snapshot) check(led *ledger) *verdict {
	v := &verdict{stats: map[string]int{}}
	byCode := map[string][]*payment{} // MerchantFree1 → payments with an attempt (or the code) of it
	byID := map[string]*payment{}
	for i := range s.payments {
		p := &s.payments[i]
		byID[p.ID] = p
		codes := []string{p.TransactionCode}
		for _, a := range p.Attempts {
			codes = append(codes, a.MerchantFree1)
		}
		slices.Sort(codes)
		for _, code := range slices.Compact(codes) {
			if code != "" {
				byCode[code] = append(byCode[code], p)
			}
		}
		v.stats["payment "+p.Method+" "+p.State]++
	}

	// 1–3 for card charges.
	liveCharges := map[string]int{}
	charged := map[string]bool{} // transaction codes of live charges
	for _, tx := range s.sim.Transactions {
		v.stats["gateway charge "+tx.Status]++
		p, ok := v.owner(byCode, "charge", tx.ProcessID, tx.MerchantFree1, tx.MerchantFree2, tx.Status)
		if !ok {
			continue
		}
		if !live(tx.Status) {
			if p.State == "authorized" || p.State == "captured" {
				v.fail("payment %s is %s but its gateway charge %s is %s", p.ID, p.State, tx.ProcessID, tx.Status)
			}
			continue
		}
		liveCharges[tx.MerchantFree2]++
		charged[tx.MerchantFree1] = true
		switch p.State {
		case "authorized", "captured":
			if p.Amount != tx.Amount {
				v.fail("payment %s is %s for %d yen, the gateway charged %d", p.ID, p.State, p.Amount, tx.Amount)
			}
		case "unknown":
			v.stats["live charge of an unknown payment"]++
		default:
			v.fail("order %s was charged at the gateway (%s, %d yen, %s) but its payment %s is %q: paid, and left unpaid",
				p.OrderID, tx.ProcessID, tx.Amount, tx.Status, p.ID, p.State)
		}
	}
	for order, n := range liveCharges {
		if n > 1 {
			v.fail("order %s is charged %d times at the gateway", order, n)
		}
	}

	// 1–3 for collections.
	liveCols := map[string]int{}
	paidCodes := map[string]bool{}
	for _, col := range s.sim.Collections {
		v.stats["gateway collection "+col.Status]++
		p, ok := v.owner(byCode, "collection", col.ProcessID, col.MerchantFree1, col.MerchantFree2, col.Status)
		if !ok {
			continue
		}
		if col.Status != "DELETED" {
			liveCols[col.MerchantFree2]++
		}
		if col.Status == "PAID" {
			paidCodes[col.MerchantFree1] = true
			switch p.State {
			case "paid":
			case "unknown":
				v.stats["paid collection of an unknown payment"]++
			default:
				v.fail("order %s was paid at the store (collection %s, %d yen) but its payment %s is %q: paid, and left unpaid",
					p.OrderID, col.ProcessID, col.Amount, p.ID, p.State)
			}
		}
	}
	for order, n := range liveCols {
		if n > 1 {
			v.fail("order %s has %d registered collections at the gateway", order, n)
		}
	}
	led.mu.Lock()
	for code, order := range led.agentPaid {
		found := false
		for _, col := range s.sim.Collections {
			if col.FreeArea == code {
				found = col.Status == "PAID"
			}
		}
		if !found {
			v.fail("the agent page took the payment of order %s but the gateway does not show it paid", order)
		}
	}
	led.mu.Unlock()

	// Nothing kessai calls paid is missing at the gateway, and 4.
	for i := range s.payments {
		p := &s.payments[i]
		switch {
		case p.Method == "card" && (p.State == "authorized" || p.State == "captured"):
			if !charged[p.TransactionCode] {
				v.fail("payment %s of order %s is %s but the gateway holds no live charge with its code %s", p.ID, p.OrderID, p.State, p.TransactionCode)
			}
		case p.Method == "collection" && p.State == "paid":
			if !paidCodes[p.TransactionCode] {
				v.fail("payment %s of order %s is paid but the gateway shows no payment of its collection %s", p.ID, p.OrderID, p.TransactionCode)
			}
		case p.State == "unknown":
			if !s.unknown[p.OrderID] {
				v.fail("payment %s of order %s is unknown but its order is not on the console's unknown list", p.ID, p.OrderID)
			}
		}
		for _, a := range p.Attempts {
			v.stats["attempt "+a.Operation+" "+a.Status]++
			switch a.Status {
			case "pending":
				v.fail("attempt %s (%s) of payment %s is still pending after recovery", a.ID, a.Operation, p.ID)
			case "unknown":
				// A lost answer to a charge: the payment stays unknown
				// (on the operator's list) until someone resolves it, which
				// turns the attempt itself into succeeded or failed.
				if chargeOps[a.Operation] && p.State != "unknown" {
					v.fail("the uncertain %s %s of payment %s is unresolved but the payment is %q, not on the unknown list",
						a.Operation, a.ID, p.ID, p.State)
				}
			}
		}
	}
	for order := range s.unknown {
		has := false
		for _, p := range s.payments {
			has = has || (p.OrderID == order && p.State == "unknown")
		}
		if !has {
			v.fail("order %s is on the console's unknown list without an unknown payment", order)
		}
	}
	v.stats["orders"] = len(s.orders)
	v.stats["orders on the unknown list"] = len(s.unknown)
	return v
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// owner is invariant 1 for one gateway record (a charge or a collection):
// its MerchantFree1 is the transaction code of exactly one payment, of the
// order its MerchantFree2 names. It returns that payment, or false when
// there is not exactly one.
func (v *verdict) owner(byCode map[string][]*payment, kind, processID, mf1, mf2, status string) (*payment, bool) {
	pays := byCode[mf1]
	if len(pays) != 1 {
		v.fail("gateway %s %s (MerchantFree1 %s, order %s, %s) belongs to %d payments, want exactly 1",
			kind, processID, mf1, mf2, status, len(pays))
		return nil, false
	}
	p := pays[0]
	if p.OrderID != mf2 {
		v.fail("gateway %s %s names order %s, its payment %s belongs to order %s", kind, processID, mf2, p.ID, p.OrderID)
	}
	return p, true
}
