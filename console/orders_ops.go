package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/collection"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/escott"
)

// The form targets of the 決済情報 dialog (ADMIN-05 … ADMIN-15, gap #25).
// Each runs one cardpay/cvspay call, which checks plan, state and period
// again; success answers with a redirect to the dialog and a notice
// (post/redirect/get), a refusal re-renders the dialog with the messages
// and the history, which then holds the refused call's row.

func init() {
	register(map[string][2]string{
		"done_orders_capture":           {"売上計上が完了しました。", "The capture is complete."},
		"done_orders_cancel":            {"取消が完了しました。", "The cancellation is complete."},
		"done_orders_change_amount":     {"利用額変更が完了しました。", "The amount change is complete."},
		"done_orders_reauthorize":       {"再オーソリが完了しました。", "The re-authorisation is complete."},
		"done_orders_change_due":        {"変更が完了しました。", "The change is complete."},
		"done_orders_collection_cancel": {"削除が完了しました。", "The collection was deleted."},
		"done_orders_auth":              {"与信が完了しました。", "The authorisation is complete."},
		"done_orders_gathering":         {"与信売上計上が完了しました。", "The authorisation with capture is complete."},
		"done_orders_register":          {"登録が完了しました。", "The registration is complete."},
		"done_orders_resolved":          {"決済の結果を確定しました。", "The payment's outcome was resolved."},
		"done_orders_noop_amount":       {"利用金額が現在と同じため、変更は行いませんでした。", "The amount is unchanged, so nothing was done."},
		"done_orders_noop_due":          {"支払期日・支払い金額が現在と同じため、変更は行いませんでした。", "The due date and amount are unchanged, so nothing was done."},

		// ADMIN-07 / ADMIN-13 input checks, worded as the plugin's alerts.
		"orders_bad_amount":     {"利用金額の形式が不正です。数値で入力してください。", "The amount is not valid. Enter a number."},
		"orders_bad_cvs_amount": {"支払額の形式が不正です。数値で入力してください。", "The amount to pay is not valid. Enter a number."},
		"orders_error":          {"エラー", "Error"},
		"orders_unknown_op": {"処理結果が不明です（決済代行会社から応答がありませんでした）。この処理は決済ログに「結果不明」として記録されています。決済情報を開き直すと取引参照で現在の状態を確認できます。",
			"The outcome is unknown (the gateway did not answer). The call is recorded as unknown in the payment log; reopen the payment info to check the current state with a reference."},
		"orders_unknown_new": {"処理結果が不明です（決済代行会社から応答がありませんでした）。この決済は「結果不明」として注文一覧の「結果不明の決済がある注文」に表示されます。e-SCOTT 管理画面で取引を確認し、結果を確定してください。",
			"The outcome is unknown (the gateway did not answer). The payment is listed under 「Orders with an unknown payment」; check the transaction in the e-SCOTT console and resolve it."},
	})
}

// ordersAmount reads an amount the operator typed: digits (full-width
// digits and thousands commas accepted), not zero. ADMIN-07: empty, zero
// or non-numeric is refused with the plugin's message; the upper bound is
// the payment package's (card.CheckAmount).
func ordersAmount(s string) (int64, bool) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == ',' || r == '，':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" || len(s) > 15 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// opPayment loads the payment a form names; a missing one is the error
// page.
func (h *Handler) opPayment(w http.ResponseWriter, r *http.Request, rq *request) (*kessai.Payment, bool) {
	pay, err := h.svc.GetPayment(r.Context(), rq.ShopID, r.PathValue("pid"))
	if err != nil {
		h.fail(w, r, rq, err)
		return nil, false
	}
	return pay, true
}

// dialogRefused re-renders the dialog of paymentID ("" for the new-payment
// dialog) with a refused form's messages, keeping the operator's entries.
func (h *Handler) dialogRefused(w http.ResponseWriter, r *http.Request, rq *request, orderID, paymentID string, err error, unknownKey string) {
	p := h.newPage(r, rq, "orders", "orders_detail_title")
	if !formErrors(p, err, rq.Lang) {
		h.fail(w, r, rq, err)
		return
	}
	// The due date's errors name the payment package's field; the
	// dialog's input is pay_limit.
	if msg, ok := p.FieldErrors[collection.DueDateField]; ok {
		delete(p.FieldErrors, collection.DueDateField)
		p.FieldErrors["pay_limit"] = msg
	}
	kind := kindOf(err)
	if kind == kessai.KindUnknown {
		p.Errors = append(p.Errors, text(rq.Lang, unknownKey))
	}
	h.showOrder(w, r, rq, p, browserStatus(kind), orderID, &dialogReq{PaymentID: paymentID, Inputs: r.PostForm})
}

// inputRefused re-renders the dialog for input the console itself
// refused (before any call).
func (h *Handler) inputRefused(w http.ResponseWriter, r *http.Request, rq *request, orderID, paymentID string, v kessai.ValidationErrors) {
	h.dialogRefused(w, r, rq, orderID, paymentID, v, "")
}

// browserStatus is a kind's status for a page: 202 and 402 are answers of
// the JSON API, a browser page says 409 (as fail does).
func browserStatus(k kessai.Kind) int {
	s := k.HTTPStatus()
	if s == http.StatusAccepted || s == http.StatusPaymentRequired {
		return http.StatusConflict
	}
	return s
}

var cardDone = map[escott.OperateID]string{
	escott.OpCapture: "orders_capture",
	escott.OpDelete:  "orders_cancel",
	escott.OpChange:  "orders_change_amount",
	escott.OpReAuth:  "orders_reauthorize",
}

// paymentCardOp runs a card operation (ADMIN-05 capture, ADMIN-06 cancel,
// ADMIN-07 amount change, ADMIN-08 re-authorisation).
func (h *Handler) paymentCardOp(op escott.OperateID) func(http.ResponseWriter, *http.Request, *request) {
	return func(w http.ResponseWriter, r *http.Request, rq *request) {
		pay, ok := h.opPayment(w, r, rq)
		if !ok {
			return
		}
		h.cardOp(w, r, rq, pay, op)
	}
}

func (h *Handler) cardOp(w http.ResponseWriter, r *http.Request, rq *request, pay *kessai.Payment, op escott.OperateID) {
	var amount int64
	if op == escott.OpChange || op == escott.OpReAuth {
		n, ok := ordersAmount(r.PostFormValue("amount"))
		if !ok {
			var v kessai.ValidationErrors
			v.Add("amount", "invalid_amount", text(langJa, "orders_bad_amount"), text(langEn, "orders_bad_amount"))
			h.inputRefused(w, r, rq, pay.OrderID, pay.ID, v)
			return
		}
		amount = n
	}
	v, err := h.cards.Operate(r.Context(), rq.ShopID, pay.ID, op, amount)
	if err != nil {
		h.dialogRefused(w, r, rq, pay.OrderID, pay.ID, err, "orders_unknown_op")
		return
	}
	done := cardDone[op]
	if v.Noop {
		done = "orders_noop_amount"
	}
	h.log.InfoContext(r.Context(), "console: payment operation", "user", rq.User.ID, "payment", pay.ID, "operation", op)
	redirect(w, r, orderPaymentURL(pay.OrderID, pay.ID), done)
}

// paymentCancel cancels a payment of either method: 1Delete (ADMIN-06)
// or 2Del (ADMIN-14).
func (h *Handler) paymentCancel(w http.ResponseWriter, r *http.Request, rq *request) {
	pay, ok := h.opPayment(w, r, rq)
	if !ok {
		return
	}
	if pay.Method == kessai.MethodCollection {
		h.collectionCancel(w, r, rq, pay)
		return
	}
	h.cardOp(w, r, rq, pay, escott.OpDelete)
}

func (h *Handler) paymentCollectionCancel(w http.ResponseWriter, r *http.Request, rq *request) {
	pay, ok := h.opPayment(w, r, rq)
	if !ok {
		return
	}
	h.collectionCancel(w, r, rq, pay)
}

func (h *Handler) collectionCancel(w http.ResponseWriter, r *http.Request, rq *request, pay *kessai.Payment) {
	if _, err := h.cvs.Cancel(r.Context(), rq.ShopID, pay.ID); err != nil {
		h.dialogRefused(w, r, rq, pay.OrderID, pay.ID, err, "orders_unknown_op")
		return
	}
	h.log.InfoContext(r.Context(), "console: payment operation", "user", rq.User.ID, "payment", pay.ID, "operation", escott.OpCvsDel)
	redirect(w, r, orderPaymentURL(pay.OrderID, pay.ID), "orders_collection_cancel")
}

// collectionInput checks the due date (支払期日, 8 digits, from today:
// design A-26) and amount (支払い金額) of a change or registration
// (ADMIN-13, ADMIN-15), both required as the dialog pre-fills them.
func (h *Handler) collectionInput(r *http.Request) (string, int64, kessai.ValidationErrors) {
	var v kessai.ValidationErrors
	due := strings.TrimSpace(r.PostFormValue("pay_limit"))
	if _, err := collection.PayLimitForDate(due, h.now()); err != nil {
		ke := kessai.AsError(err)
		v.Add("pay_limit", ke.Code, ke.Ja, ke.En)
	}
	amount, ok := ordersAmount(r.PostFormValue("amount"))
	if !ok {
		v.Add("amount", "invalid_amount", text(langJa, "orders_bad_cvs_amount"), text(langEn, "orders_bad_cvs_amount"))
	}
	return due, amount, v
}

// paymentChangeDue changes an unpaid collection's due date and/or amount,
// once (ADMIN-13); both unchanged is a no-op.
func (h *Handler) paymentChangeDue(w http.ResponseWriter, r *http.Request, rq *request) {
	pay, ok := h.opPayment(w, r, rq)
	if !ok {
		return
	}
	due, amount, v := h.collectionInput(r)
	if len(v) > 0 {
		h.inputRefused(w, r, rq, pay.OrderID, pay.ID, v)
		return
	}
	view, err := h.cvs.Change(r.Context(), rq.ShopID, pay.ID, cvspay.ChangeInput{DueDate: due, Amount: amount})
	if err != nil {
		h.dialogRefused(w, r, rq, pay.OrderID, pay.ID, err, "orders_unknown_op")
		return
	}
	done := "orders_change_due"
	if view.Noop {
		done = "orders_noop_due"
	}
	h.log.InfoContext(r.Context(), "console: payment operation", "user", rq.User.ID, "payment", pay.ID, "operation", escott.OpCvsChg)
	redirect(w, r, orderPaymentURL(pay.OrderID, pay.ID), done)
}

// orderCharge charges an order without a payment on the customer's saved
// card (ADMIN-09): 与信 or 与信売上計上 of the operator's amount.
func (h *Handler) orderCharge(w http.ResponseWriter, r *http.Request, rq *request) {
	orderID := r.PathValue("id")
	amount, ok := ordersAmount(r.PostFormValue("amount"))
	if !ok {
		var v kessai.ValidationErrors
		v.Add("amount", "invalid_amount", text(langJa, "orders_bad_amount"), text(langEn, "orders_bad_amount"))
		h.inputRefused(w, r, rq, orderID, "", v)
		return
	}
	capture := false
	switch r.PostFormValue("capture") {
	case "1", "true", "on":
		capture = true
	}
	v, err := h.cards.NewCharge(r.Context(), rq.ShopID, orderID, amount, capture)
	if err != nil {
		h.dialogRefused(w, r, rq, orderID, "", err, "orders_unknown_new")
		return
	}
	done := "orders_auth"
	if capture {
		done = "orders_gathering"
	}
	h.log.InfoContext(r.Context(), "console: new charge", "user", rq.User.ID, "order", orderID, "payment", v.Payment.ID)
	redirect(w, r, orderPaymentURL(orderID, v.Payment.ID), done)
}

// orderRegister registers a collection for an order without a payment
// (ADMIN-15).
func (h *Handler) orderRegister(w http.ResponseWriter, r *http.Request, rq *request) {
	orderID := r.PathValue("id")
	due, amount, v := h.collectionInput(r)
	if len(v) > 0 {
		h.inputRefused(w, r, rq, orderID, "", v)
		return
	}
	view, err := h.cvs.RegisterFromAdmin(r.Context(), rq.ShopID, orderID, cvspay.AdminRegisterInput{DueDate: due, Amount: amount})
	if err != nil {
		h.dialogRefused(w, r, rq, orderID, "", err, "orders_unknown_new")
		return
	}
	h.log.InfoContext(r.Context(), "console: collection registered", "user", rq.User.ID, "order", orderID, "payment", view.Payment.ID)
	redirect(w, r, orderPaymentURL(orderID, view.Payment.ID), "orders_register")
}

// paymentResolve settles a payment whose outcome is unknown (design gap
// #25): succeeded with the ProcessId/ProcessPass from the e-SCOTT console
// (checked by a reference before anything is written), or failed.
func (h *Handler) paymentResolve(w http.ResponseWriter, r *http.Request, rq *request) {
	pay, ok := h.opPayment(w, r, rq)
	if !ok {
		return
	}
	outcome := r.PostFormValue("outcome")
	pid, pass := strings.TrimSpace(r.PostFormValue("process_id")), strings.TrimSpace(r.PostFormValue("process_pass"))
	if outcome == "failed" {
		pid, pass = "", "" // the failed form carries no handle
	}
	var err error
	if pay.Method == kessai.MethodCard {
		_, err = h.cards.Resolve(r.Context(), rq.ShopID, pay.ID, cardpay.ResolveInput{Outcome: outcome, ProcessID: pid, ProcessPass: pass})
	} else {
		free := ""
		if outcome != "failed" {
			free = strings.TrimSpace(r.PostFormValue("free_area"))
		}
		_, err = h.cvs.Resolve(r.Context(), rq.ShopID, pay.ID, cvspay.ResolveInput{Outcome: outcome, ProcessID: pid, ProcessPass: pass, FreeArea: free})
	}
	inDialog := r.PostFormValue("view") == "dialog"
	if err != nil {
		if inDialog {
			h.dialogRefused(w, r, rq, pay.OrderID, pay.ID, err, "orders_unknown_op")
			return
		}
		p := h.newPage(r, rq, "orders", "orders_detail_title")
		if !formErrors(p, err, rq.Lang) {
			h.fail(w, r, rq, err)
			return
		}
		h.showOrder(w, r, rq, p, browserStatus(kindOf(err)), pay.OrderID, nil)
		return
	}
	h.log.InfoContext(r.Context(), "console: unknown payment resolved", "user", rq.User.ID, "payment", pay.ID, "outcome", outcome)
	target := orderURL(pay.OrderID)
	if inDialog {
		target = orderPaymentURL(pay.OrderID, pay.ID)
	}
	redirect(w, r, target, "orders_resolved")
}
