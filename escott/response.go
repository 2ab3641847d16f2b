package escott

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
)

// CodeOK is the only success value of ResponseCd and TokenResponseCd.
const CodeOK = "OK"

// CodeNG is the client-side pseudo code for "no usable answer": the gateway
// itself never sends it. It is what the merchant plugins record when the
// connection failed, timed out, or the body had no ResponseCd.
const CodeNG = "NG"

// maxResponseBody caps how much of a gateway answer is read. Real answers
// are a few hundred bytes; anything near this size is not the gateway.
const maxResponseBody = 64 << 10

// Response is a parsed gateway answer (or decrypted hand-off return).
type Response struct {
	// Fields holds every field as received, URL-decoded.
	Fields url.Values
	// Codes is ResponseCd split on '|': ["OK"] on success.
	Codes []string
	// TokenCodes is TokenResponseCd split on '|' (1TokenSearch only).
	TokenCodes []string
}

// ErrNoResponseCd is the cause recorded when a body parsed but carried no
// ResponseCd.
var ErrNoResponseCd = errors.New("escott: answer has no ResponseCd")

// ErrEmptyBody is the cause recorded when the gateway answered with nothing.
var ErrEmptyBody = errors.New("escott: empty answer body")

// ParseResponse parses a form-encoded answer body. The HTTP status is never
// consulted (the gateway's outcome is only in the body). Leading and
// trailing whitespace is ignored, values are URL-decoded so that both a
// literal and an encoded ('%7C') pipe separate codes. A body without
// ResponseCd is an error: callers turn it into the pseudo code NG.
func ParseResponse(body []byte) (*Response, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, ErrEmptyBody
	}
	if len(body) > maxResponseBody {
		return nil, fmt.Errorf("escott: answer of %d bytes is too large", len(body))
	}
	fields, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("escott: answer is not form-encoded: %w", err)
	}
	return responseFromFields(fields)
}

// responseFromFields builds a Response from already-decoded fields.
func responseFromFields(fields url.Values) (*Response, error) {
	if _, ok := fields["ResponseCd"]; !ok || fields.Get("ResponseCd") == "" {
		return nil, ErrNoResponseCd
	}
	r := &Response{Fields: fields, Codes: SplitCodes(fields.Get("ResponseCd"))}
	if _, ok := fields["TokenResponseCd"]; ok {
		r.TokenCodes = SplitCodes(fields.Get("TokenResponseCd"))
	}
	if len(r.Codes) == 0 {
		return nil, ErrNoResponseCd
	}
	return r, nil
}

// Get returns a field of the answer, "" when absent.
func (r *Response) Get(key string) string {
	if r == nil {
		return ""
	}
	return r.Fields.Get(key)
}

// OK reports whether ResponseCd is exactly OK and, when TokenResponseCd is
// present, it is OK too (a token search succeeds only if both are).
func (r *Response) OK() bool {
	if r == nil || !isOK(r.Codes) {
		return false
	}
	return r.TokenCodes == nil || isOK(r.TokenCodes)
}

// FailureCodes returns every non-OK code of ResponseCd and TokenResponseCd,
// in that order; empty on success.
func (r *Response) FailureCodes() []string {
	if r == nil {
		return []string{CodeNG}
	}
	var out []string
	for _, list := range [][]string{r.Codes, r.TokenCodes} {
		for _, c := range list {
			if c != CodeOK {
				out = append(out, c)
			}
		}
	}
	return out
}

// Common fields echoed by the gateway.

// OperateID returns the echoed OperateId.
func (r *Response) OperateID() OperateID { return OperateID(r.Get("OperateId")) }

// TransactionID returns the gateway's sequence number of this call (処理連番).
func (r *Response) TransactionID() string { return r.Get("TransactionId") }

// ProcessID returns the transaction handle for follow-up operations.
func (r *Response) ProcessID() string { return r.Get("ProcessId") }

// ProcessPass returns the transaction secret for follow-up operations.
func (r *Response) ProcessPass() string { return r.Get("ProcessPass") }

// MerchantFree1 returns the echoed transaction code.
func (r *Response) MerchantFree1() string { return r.Get("MerchantFree1") }

func isOK(codes []string) bool { return len(codes) == 1 && codes[0] == CodeOK }

// Error reports an operation that did not succeed: either the gateway
// answered with error codes (Declined), or no usable answer arrived (the
// pseudo code NG).
type Error struct {
	Op OperateID
	// Codes are the gateway's failure codes, or ["NG"] when no usable
	// answer arrived.
	Codes []string
	// Response is the parsed answer, nil when there was none.
	Response *Response
	// Cause is the transport or parse error behind an NG.
	Cause error
	// MaySucceeded is set when no usable answer arrived but the request
	// had (or may have) been written to the connection: the gateway may
	// have processed it. Such an attempt must be reconciled, never blindly
	// retried.
	MaySucceeded bool
}

func (e *Error) Error() string {
	if e.NoAnswer() {
		state := "request not sent"
		if e.MaySucceeded {
			state = "outcome unknown"
		}
		return fmt.Sprintf("escott %s: no usable answer (%s): %v", e.Op, state, e.Cause)
	}
	return fmt.Sprintf("escott %s: %s", e.Op, DescribeCodes(e.Codes, "en"))
}

// Unwrap returns the transport or parse cause.
func (e *Error) Unwrap() error { return e.Cause }

// NoAnswer reports whether this is the client-side NG.
func (e *Error) NoAnswer() bool { return e.Response == nil }

// Class is the class deciding what to do about the failure.
func (e *Error) Class() Class {
	if e.NoAnswer() {
		return ClassNoAnswer
	}
	return ClassOf(e.Codes)
}

// HasCode reports whether the failure carries code.
func (e *Error) HasCode(code string) bool {
	for _, c := range e.Codes {
		if c == code {
			return true
		}
	}
	return false
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsUncertain reports whether err means the gateway may have processed the
// request although no answer arrived.
func IsUncertain(err error) bool {
	e, ok := AsError(err)
	return ok && e.NoAnswer() && e.MaySucceeded
}
