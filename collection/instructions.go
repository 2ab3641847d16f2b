package collection

import (
	yenfmt "github.com/kessai/kessai/internal/yen"
	"strings"
	"time"

	"github.com/kessai/kessai/escott"
)

// PaymentDetails is what a shopper needs to pay a registered collection:
// the thank-you page data and the API's payment details (design A-06;
// beyond the plugins, which show nothing, CVS-09), and the contents of the
// e-mail block (CVS-08, EmailText).
type PaymentDetails struct {
	// Amount is what the shopper pays, settlement fee included (the
	// gateway's Amount).
	Amount int64 `json:"amount"`
	// Fee is the settlement fee within Amount; 0 when there is none.
	Fee int64 `json:"fee"`
	// PayLimit is the gateway's due date, YYYYMMDDhhmm in JST.
	PayLimit string `json:"pay_limit"`
	// DueAt is the last second the collection can be paid, in JST:
	// PayLimit "202612012359" is 2026-12-01T23:59:59+09:00 (spec §10.3:
	// payable until the end of the due minute).
	DueAt time.Time `json:"due_at"`
	// Due is DueAt as Japanese screens and e-mails show it, e.g.
	// 「2026年12月1日 23:59」.
	Due string `json:"due"`
	// PaymentURL is the collection agent's page for this payment, the
	// link kept for e-mails and later visits (rkbn=2, spec §10.1). It
	// changes when the due date or amount is changed (2Chg, ADMIN-13).
	PaymentURL string `json:"payment_url"`
	// Stores are the payment channels, for a "where you can pay" list.
	// The shopper chooses on the agent's page, which offers the channels
	// of the merchant's contract.
	Stores []Store `json:"stores"`
}

// Store is one payment channel: a convenience store chain, Pay-easy, a net
// bank or an e-money (spec §10.9, CVS-14).
type Store struct {
	Code string `json:"code"` // CvsCd, e.g. "SEV"
	Name string `json:"name"` // e.g. 「セブンイレブン」
}

// Stores returns the channels of codes with their Japanese names, in the
// order given; nil codes means every channel the gateway knows
// (escott.CvsCodes). An unknown code keeps the code as its name (CVS-14).
func Stores(codes []string) []Store {
	if codes == nil {
		codes = escott.CvsCodes
	}
	out := make([]Store, 0, len(codes))
	for _, c := range codes {
		c = strings.TrimSpace(c)
		out = append(out, Store{Code: c, Name: escott.CvsName(c)})
	}
	return out
}

// NewPaymentDetails assembles the details of a registered collection from
// what the registration stored: the amount sent (fee included), the fee,
// the PayLimit and the payment link. stores are channel codes as for
// Stores (nil: all). The only error is a malformed PayLimit.
func NewPaymentDetails(amount, fee int64, payLimit, paymentURL string, stores []string) (PaymentDetails, error) {
	due, err := DueAt(payLimit)
	if err != nil {
		return PaymentDetails{}, err
	}
	return PaymentDetails{
		Amount:     amount,
		Fee:        fee,
		PayLimit:   payLimit,
		DueAt:      due,
		Due:        escott.FormatDisplayDate(due),
		PaymentURL: paymentURL,
		Stores:     Stores(stores),
	}, nil
}

// EmailText is the ready-made plain-text block for the shop's e-mails
// while a collection is unpaid (CVS-08): a heading, the plugins' request
// to pay, the amount (with the fee inside it, when there is one), the
// payment link and the due date. lang "en" gives English; anything else
// Japanese. The text ends with a newline and has no trailing spaces, so a
// shop can paste it into a template as it is; an empty PaymentURL leaves
// its line out.
//
// The Japanese block keeps the plugins' heading and wording (「お支払い方法」,
// 「まだお支払いが完了していない場合は、以下のURLからお支払いの手続きを
// お願いいたします。」, 「お支払いURL:」, 「お支払い期限日:」) and adds the
// amount, which the plugins leave to the order table, because a shop's
// own e-mail may not have one. It is meant for the on-hold (保留中) and
// pending e-mails only; after payment it must not be sent (CVS-08, since
// PRO 1.1.14).
func EmailText(d PaymentDetails, lang string) string {
	var b strings.Builder
	line := func(s string) {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	if lang == "en" {
		line("[Payment]")
		line("If you have not paid yet, please complete your payment at the URL below.")
		line("On that page you can choose to pay at a convenience store, by Pay-easy or with e-money.")
		amount := "Amount: ¥" + groupDigits(d.Amount)
		if d.Fee > 0 {
			amount += " (including a settlement fee of ¥" + groupDigits(d.Fee) + ")"
		}
		line(amount)
		if d.PaymentURL != "" {
			line("Payment URL: " + d.PaymentURL)
		}
		line("Payment due: " + d.DueAt.In(escott.JST).Format("January 2, 2006 15:04") + " (JST)")
		return b.String()
	}
	line("【お支払い方法】")
	line("まだお支払いが完了していない場合は、以下のURLからお支払いの手続きをお願いいたします。")
	line("お支払い先（コンビニ・Pay-easy・電子マネー）はリンク先でお選びいただけます。")
	amount := "お支払い金額: " + groupDigits(d.Amount) + "円"
	if d.Fee > 0 {
		amount += "（うち決済手数料 " + groupDigits(d.Fee) + "円）"
	}
	line(amount)
	if d.PaymentURL != "" {
		line("お支払いURL: " + d.PaymentURL)
	}
	due := d.Due
	if due == "" {
		due = escott.FormatDisplayDate(d.DueAt)
	}
	line("お支払い期限日: " + due)
	return b.String()
}

// groupDigits writes a yen amount with thousands separators (3630 →
// "3,630"), the way amounts are printed on Japanese receipts.
func groupDigits(v int64) string {
	return yenfmt.Group(v)
}
