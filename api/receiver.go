package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// The gateway receiver (spec §13, NOTIFY-01 … NOTIFY-06).
//
// The merchant registers one URL with SPS (「入金結果通知URL」), and the
// WooCommerce plugins used "https://{site}/?wc-api=wc_sonypayment". kessai
// serves that exact URL so a shop can move from the plugin without asking
// SPS to change its registration, and the clean path /escott/notify for
// new installations. Both accept GET and POST and read the parameters
// from the query string and a form body alike, as the plugins did.
//
// There is no API key: the gateway and the shopper's browser are the
// callers. This version runs a single shop, Config.GatewayShopID (the
// default shop), which receives all gateway traffic.
//
// Dispatch, in the plugins' order:
//
//  1. A payment notification (all six of MerchantId, TransactionId,
//     RecvNum, NyukinDate, MerchantFree1, MerchantFree2 present) goes to
//     NotificationHandlers.Collection. The answer is always HTTP 200 with
//     an empty body (NOTIFY-02): the gateway retries anything else, and a
//     retry cannot fix a notification we could not use. That includes a
//     malformed one (say, an unparsable NyukinDate) and a handler error:
//     both are logged, masked, for the operator; the reconciliation job
//     (2Ref) settles any collection whose notification was lost this way.
//  2. Otherwise an EncryptValue is decrypted with the shop's AES key and
//     IV and routed on its content, not on configuration (spec §13's
//     advice): OperateId 3Secure → ThreeDS (checkout continuation); an
//     answer carrying MerchantId (only the link page's do) → Link;
//     4MemAdd/4MemChg carrying SecureResultCode → ThreeDSMember (my-cards
//     continuation); other link-type returns (MerchantFree2, or OperateId
//     1Auth/1Gathering/4MemAdd/4MemChg) → Link. An EncryptValue
//     that cannot be decrypted or lacks OperateId/ResponseCd (or a 3Secure
//     return without SecureResultCode) is answered 400 "EncryptValue is
//     invalid." (NOTIFY-06); an encrypted return nobody handles is 400
//     "Bad request". These are plain-text pages: the caller is a browser.
//  3. Anything else is 400 "Bad request".
//
// Bodies are bounded (64 KiB: real messages are a few hundred bytes), and
// the receiver never panics: a panicking handler is logged and answered
// like a failed one.

// maxReceiverBody bounds the receiver's request body.
const maxReceiverBody = 64 << 10

// handlerTimeout bounds a notification handler. The gateway's own timeout
// is unknown; the work is a few queries and perhaps one 2Ref call.
const handlerTimeout = 60 * time.Second

// ReturnHandler continues a shopper's browser round trip through the
// gateway (3-D Secure or the link-type payment page): it answers the
// browser itself, typically with a redirect to the thank-you page.
type ReturnHandler func(w http.ResponseWriter, r *http.Request, shopID string, ret *escott.Return)

// NotificationHandlers are what later packages plug into the receiver.
// Every field is optional; see the dispatch rules above for what happens
// without one.
type NotificationHandlers struct {
	// Collection applies a payment notification (入金結果通知). Its error
	// is only logged: the gateway is answered 200 regardless. It must be
	// idempotent: the gateway may send the same notification twice.
	Collection func(ctx context.Context, shopID string, n *escott.Notification) error
	// ThreeDS continues a card checkout after 3-D Secure (OperateId
	// 3Secure).
	ThreeDS ReturnHandler
	// ThreeDSMember continues a card registration or change with 3-D
	// Secure from the my-cards page (4MemAdd / 4MemChg).
	ThreeDSMember ReturnHandler
	// Link continues a link-type return: a checkout (it carries the order
	// in MerchantFree2) or a my-cards registration (it does not). It
	// should check the returned MerchantId against the settings.
	Link ReturnHandler
}

// receive is the receiver's handler.
func (a *API) receive(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && r.URL.Query().Get("wc-api") != "wc_sonypayment" {
		http.NotFound(w, r) // the site root is not ours unless the plugin's URL is used
		return
	}
	lang := language(r)
	// answered tracks whether the response was started, so a panic after
	// a handler wrote something does not write twice.
	rw := &trackingWriter{ResponseWriter: w}
	notification := false
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.ErrorContext(r.Context(), "receiver: panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if rw.wrote {
				return
			}
			if notification {
				rw.WriteHeader(http.StatusOK) // the gateway must not retry (see dispatch rule 1)
				return
			}
			badRequest(rw, lang, "", "")
		}
	}()
	r.Body = http.MaxBytesReader(rw, r.Body, maxReceiverBody)
	if err := r.ParseForm(); err != nil {
		a.log.WarnContext(r.Context(), "receiver: unreadable request", "method", r.Method, "error", err)
		badRequest(rw, lang, "", "")
		return
	}
	fields := make(url.Values, len(r.Form))
	for k, v := range r.Form {
		if k != "wc-api" {
			fields[k] = v
		}
	}
	switch {
	case escott.IsNotification(fields):
		notification = true
		a.receiveNotification(rw, r, fields)
	case fields.Has("EncryptValue"):
		a.receiveReturn(rw, r, lang, fields)
	default:
		a.log.InfoContext(r.Context(), "receiver: neither a notification nor a return", "method", r.Method,
			"fields", escott.MaskValues(fields))
		badRequest(rw, lang, "", "")
	}
}

// receiveNotification handles a payment notification; the answer is
// always 200 with an empty body.
func (a *API) receiveNotification(w http.ResponseWriter, r *http.Request, fields url.Values) {
	defer w.WriteHeader(http.StatusOK)
	n, err := escott.ParseNotification(fields)
	if err != nil {
		a.log.WarnContext(r.Context(), "receiver: malformed payment notification, ignored", "shop", a.shopID,
			"error", err, "fields", escott.MaskValues(fields))
		return
	}
	h := a.notify.Collection
	if h == nil {
		a.log.InfoContext(r.Context(), "receiver: payment notification received; no handler is registered", "shop", a.shopID,
			"fields", escott.MaskValues(fields))
		return
	}
	// The work continues if the gateway hangs up: the notification was
	// received, and dropping it half-applied helps nobody.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), handlerTimeout)
	defer cancel()
	if err := safeCall(func() error { return h(ctx, a.shopID, n) }); err != nil {
		a.log.ErrorContext(r.Context(), "receiver: payment notification handler failed", "shop", a.shopID,
			"error", err, "fields", escott.MaskValues(fields))
	}
}

// receiveReturn decrypts and routes a browser return.
func (a *API) receiveReturn(w http.ResponseWriter, r *http.Request, lang string, fields url.Values) {
	ci, err := a.cipher(r.Context(), a.shopID)
	if err != nil {
		a.log.ErrorContext(r.Context(), "receiver: no EncryptValue cipher for the shop (AES key and IV set?)", "shop", a.shopID, "error", err)
		badRequest(w, lang, "EncryptValue を復号できません（店舗の暗号化設定を確認してください）。", "EncryptValue cannot be decrypted (check the shop's encryption settings).")
		return
	}
	ret, err := escott.ParseReturn(ci, fields.Get("EncryptValue"))
	if err == nil && ret.OperateID() == escott.OpSecure && !ret.IsThreeDS() {
		err = escott.ErrIncompleteReturn // NOTIFY-03: a 3DS return must carry SecureResultCode
	}
	if err != nil {
		a.log.WarnContext(r.Context(), "receiver: Response Error: invalid EncryptValue", "shop", a.shopID,
			"error", err, "fields", escott.MaskValues(fields))
		badRequest(w, lang, "EncryptValue が不正です。", "EncryptValue is invalid.")
		return
	}
	var h ReturnHandler
	kind := ""
	switch op := ret.OperateID(); {
	case op == escott.OpSecure:
		h, kind = a.notify.ThreeDS, "3ds"
	case ret.Get("MerchantId") != "":
		// Only the link page's answers carry MerchantId (spec §9.4; the
		// 3-D Secure page's never do, B-15), also when the link page ran
		// 3-D Secure before a member step and so carries its result.
		h, kind = a.notify.Link, "link"
	case (op == escott.OpMemAdd || op == escott.OpMemChg) && ret.IsThreeDS():
		h, kind = a.notify.ThreeDSMember, "3ds_member"
	case ret.FromCheckout(), op == escott.OpAuth, op == escott.OpGathering, op == escott.OpMemAdd, op == escott.OpMemChg:
		h, kind = a.notify.Link, "link"
	default:
		a.log.WarnContext(r.Context(), "receiver: encrypted return of an unexpected operation", "shop", a.shopID,
			"operate_id", string(op), "fields", escott.MaskValues(ret.Fields))
		badRequest(w, lang, "", "")
		return
	}
	if h == nil {
		a.log.WarnContext(r.Context(), "receiver: encrypted return with no handler registered", "shop", a.shopID,
			"kind", kind, "fields", escott.MaskValues(ret.Fields))
		badRequest(w, lang, "", "")
		return
	}
	h(w, r, a.shopID, ret)
}

// settingsCipher is the default Config.Cipher: the shop's card AES key
// and IV.
func (a *API) settingsCipher(ctx context.Context, shopID string) (*escott.Cipher, error) {
	set, _, err := a.svc.GetSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	return set.CardCipher()
}

// badRequest writes the plain-text 400 page of the receiver, with an
// optional reason (a generic Japanese one when none is given).
func badRequest(w http.ResponseWriter, lang, ja, en string) {
	if ja == "" {
		ja = "不正なリクエストです。"
	}
	msg := "Bad request\n"
	if reason := pick(lang, ja, en); reason != "" {
		msg += reason + "\n"
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(msg))
}

func pick(lang, ja, en string) string {
	if lang == "en" {
		return en
	}
	return ja
}

// safeCall runs f, turning a panic into an error.
func safeCall(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = kessai.Internal(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	return f()
}

// trackingWriter remembers whether the response was started.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if t.wrote {
		return
	}
	t.wrote = true
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
