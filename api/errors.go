package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/cvspay"
	"github.com/kessai/kessai/service"
)

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	// Type is the error kind's stable name (kessai.Kind.String).
	Type string `json:"type"`
	// Code is a stable machine code, e.g. "order_not_found".
	Code string `json:"code"`
	// Message is for people, in Japanese or English.
	Message string `json:"message"`
	// Field is the JSON path of the offending input, when there is one.
	Field string `json:"field,omitempty"`
	// Errors lists every field problem of a validation failure.
	Errors []fieldError `json:"errors,omitempty"`
	// PaymentID, OrderID and GatewayCodes describe a card payment or a
	// collection that was refused or whose outcome is unknown (a
	// *cardpay.Failure or *cvspay.Failure), for the shop's backend: the
	// gateway codes (e.g. "G12", "K12") belong in its logs and support
	// tickets, never on a shopper's screen (ERR-01); Message is the text
	// for the shopper.
	PaymentID    string   `json:"payment_id,omitempty"`
	OrderID      string   `json:"order_id,omitempty"`
	GatewayCodes []string `json:"gateway_codes,omitempty"`
	// RequestID names the request in kessai's log.
	RequestID string `json:"request_id"`
}

type fieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// httpError is an error whose HTTP status is not its kind's: the few
// protocol-level answers (405, 413, 415, 422) that have no domain kind.
// Its type in the body is still the kind's name, so clients that switch
// on type keep working.
type httpError struct {
	status int
	err    *kessai.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// The protocol-level errors.
func errMethodNotAllowed() error {
	return &httpError{http.StatusMethodNotAllowed, kessai.Errorf(kessai.KindInvalid, "method_not_allowed",
		"この URL ではそのメソッドは使えません。", "The method is not allowed for this URL.")}
}

func errBodyTooLarge() error {
	return &httpError{http.StatusRequestEntityTooLarge, kessai.Errorf(kessai.KindInvalid, "body_too_large",
		fmt.Sprintf("リクエスト本文が大きすぎます（%d バイトまで）。", maxBody),
		fmt.Sprintf("The request body is too large (at most %d bytes).", maxBody))}
}

func errUnsupportedMediaType() error {
	return &httpError{http.StatusUnsupportedMediaType, kessai.Errorf(kessai.KindInvalid, "unsupported_media_type",
		"リクエスト本文は JSON（Content-Type: application/json）で送ってください。",
		"Send the request body as JSON (Content-Type: application/json).")}
}

func errIdempotencyKeyReused() error {
	return &httpError{http.StatusUnprocessableEntity, kessai.Errorf(kessai.KindInvalid, "idempotency_key_reused",
		"この Idempotency-Key は別の内容のリクエストで使用済みです。新しいキーを使ってください。",
		"This Idempotency-Key was already used with a different request. Use a new key.")}
}

var errIdempotencyInProgress = service.ErrIdempotencyInProgress

var errRouteNotFound = kessai.Errorf(kessai.KindNotFound, "route_not_found",
	"この URL の API はありません。", "No API endpoint at this URL.")

// statusOf is the HTTP status of an error.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return kessai.ErrorKind(err).HTTPStatus() // ValidationErrors: their field errors' KindInvalid, 400
}

// errorResponse builds the status and body of err for a client in lang.
// Internal errors are logged here, with the request id that the body
// repeats, and never described to the client.
func (a *API) errorResponse(c *call, err error) (int, *errorBody) {
	status := statusOf(err)
	d := errorDetail{RequestID: c.reqID}
	var ve kessai.ValidationErrors
	if errors.As(err, &ve) && len(ve) > 0 {
		d.Type = kessai.KindInvalid.String()
		d.Code = "validation_failed"
		d.Field = ve[0].Field
		for _, fe := range ve {
			d.Errors = append(d.Errors, fieldError{Field: fe.Field, Code: fe.Code, Message: fe.Message(c.lang)})
		}
		if len(ve) == 1 {
			d.Message = fieldMessage(ve[0], c.lang)
		} else if c.lang == "en" {
			d.Message = strconv.Itoa(len(ve)) + " fields are invalid; see errors."
		} else {
			d.Message = "入力内容に " + strconv.Itoa(len(ve)) + " 件の誤りがあります（errors を参照）。"
		}
		return status, &errorBody{d}
	}
	ke := kessai.AsError(err)
	d.Type = ke.Kind.String()
	d.Code = ke.Code
	if ke.Kind == kessai.KindInternal && statusOf(err) >= 500 {
		a.log.ErrorContext(c.r.Context(), "api: internal error", "request_id", c.reqID,
			"method", c.r.Method, "path", c.r.URL.Path, "shop", c.shopID, "error", err)
		ie := kessai.Internal(nil)
		d.Code, d.Message = ie.Code, ie.Message(c.lang)
		return status, &errorBody{d}
	}
	if ke.Kind == kessai.KindUnavailable {
		a.log.WarnContext(c.r.Context(), "api: unavailable", "request_id", c.reqID, "path", c.r.URL.Path, "error", err)
	}
	d.Message = ke.Message(c.lang)
	var f *cardpay.Failure
	var cf *cvspay.Failure
	switch {
	case errors.As(err, &f):
		d.PaymentID, d.OrderID = f.PaymentID, f.OrderID
		if len(f.Codes) > 0 {
			d.GatewayCodes = append([]string(nil), f.Codes...)
		}
	case errors.As(err, &cf):
		d.PaymentID, d.OrderID = cf.PaymentID, cf.OrderID
		if len(cf.Codes) > 0 {
			d.GatewayCodes = append([]string(nil), cf.Codes...)
		}
	}
	if ke.Field != "" {
		d.Field = ke.Field
		if ke.Kind == kessai.KindInvalid {
			d.Message = fieldMessage(ke, c.lang)
			d.Errors = []fieldError{{Field: ke.Field, Code: ke.Code, Message: ke.Message(c.lang)}}
		}
	}
	if d.Code == "" {
		d.Code = d.Type
	}
	return status, &errorBody{d}
}

// fieldMessage prefixes a field error's message with its field, so the
// one-line message is useful on its own.
func fieldMessage(e *kessai.Error, lang string) string {
	if e.Field == "" {
		return e.Message(lang)
	}
	return e.Field + ": " + e.Message(lang)
}

// language picks "en" when Accept-Language prefers English to Japanese,
// and "ja" (the product's language) otherwise: no header, "*", other
// languages only, or a tie.
func language(r *http.Request) string {
	h := r.Header.Get("Accept-Language")
	if h == "" || len(h) > 1024 {
		return "ja"
	}
	best, bestQ := "ja", -1.0
	jaQ := -1.0
	for i, part := range strings.Split(h, ",") {
		if i >= 32 {
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if p := strings.TrimSpace(params); p != "" {
			if v, ok := strings.CutPrefix(p, "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || f > 1 {
					continue
				}
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		switch primary {
		case "ja":
			jaQ = max(jaQ, q)
		case "en":
			if q > bestQ {
				best, bestQ = "en", q
			}
		}
	}
	if bestQ > 0 && bestQ > jaQ {
		return best
	}
	return "ja"
}
