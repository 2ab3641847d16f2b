package kessai

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for the caller: each kind maps to exactly one
// HTTP status, and only errors with a kind other than KindInternal show
// their message to API clients.
type Kind int

// The error kinds.
const (
	KindInternal     Kind = iota // a bug or an unavailable dependency: details stay in the log
	KindInvalid                  // the request is malformed or breaks a rule
	KindUnauthorized             // no or wrong credentials
	KindForbidden                // valid credentials, but not allowed (e.g. a publishable key on a secret call, the light plan)
	KindNotFound                 // no such resource in this shop
	KindConflict                 // the resource's state does not allow it now
	KindDeclined                 // the gateway refused (card declined, transaction state, …)
	KindUnknown                  // the gateway's answer was lost: the outcome must be reconciled
	KindRateLimited              // too many requests
	KindUnavailable              // the gateway or a dependency is temporarily unavailable
)

// HTTPStatus is the one status code of the kind.
func (k Kind) HTTPStatus() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindUnauthorized:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindDeclined:
		return http.StatusPaymentRequired
	case KindUnknown:
		return http.StatusAccepted
	case KindRateLimited:
		return http.StatusTooManyRequests
	case KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// String is the kind's stable name.
func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindDeclined:
		return "declined"
	case KindUnknown:
		return "unknown_outcome"
	case KindRateLimited:
		return "rate_limited"
	case KindUnavailable:
		return "unavailable"
	}
	return "internal"
}

// Error is an error with a kind, a stable machine code, an optional field
// name (JSON path of the offending input) and a message in Japanese and
// English for people.
type Error struct {
	Kind  Kind
	Code  string // e.g. "invalid_amount", "order_not_found"
	Field string // e.g. "amount", "items[0].name"
	Ja    string
	En    string
	Err   error // the underlying cause, never shown to clients
}

func (e *Error) Error() string {
	msg := e.En
	if msg == "" {
		msg = e.Code
	}
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %v", msg, e.Kind, e.Err)
	}
	return fmt.Sprintf("%s (%s)", msg, e.Kind)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Message returns the message in lang ("ja" or "en"; anything else is ja,
// the product's default language).
func (e *Error) Message(lang string) string {
	if lang == "en" && e.En != "" {
		return e.En
	}
	if e.Ja != "" {
		return e.Ja
	}
	return e.En
}

// Errorf builds an Error of a kind with a code and bilingual message.
func Errorf(kind Kind, code, ja, en string) *Error {
	return &Error{Kind: kind, Code: code, Ja: ja, En: en}
}

// FieldError builds a KindInvalid error for one input field.
func FieldError(field, code, ja, en string) *Error {
	return &Error{Kind: KindInvalid, Code: code, Field: field, Ja: ja, En: en}
}

// Internal wraps an unexpected error; its details are logged, never shown.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Code: "internal_error", Ja: "内部エラーが発生しました。時間をおいて再度お試しください。", En: "An internal error occurred. Please try again later.", Err: err}
}

// ErrorKind returns the kind of err: that of the first *Error found by
// errors.As (so KindInvalid for ValidationErrors, through their field
// errors), or KindInternal when err carries none.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// AsError returns the first *Error in err (for ValidationErrors, the first
// field error: get the whole list with errors.As), wrapping anything else
// as internal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// ValidationErrors collects several field errors of one request, so a
// client can fix all of them at once. Its Unwrap makes the field errors
// visible to errors.As, ErrorKind and AsError like any wrapped *Error.
type ValidationErrors []*Error

func (v ValidationErrors) Error() string {
	if len(v) == 0 {
		return "no errors"
	}
	s := v[0].Error()
	if len(v) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(v)-1)
	}
	return s
}

// Unwrap returns the field errors, for errors.Is and errors.As.
func (v ValidationErrors) Unwrap() []error {
	errs := make([]error, 0, len(v))
	for _, e := range v {
		if e != nil { // a nil *Error would be found by errors.As as a match
			errs = append(errs, e)
		}
	}
	return errs
}

// Add appends a field error.
func (v *ValidationErrors) Add(field, code, ja, en string) {
	*v = append(*v, FieldError(field, code, ja, en))
}

// Err returns nil when empty, otherwise the collected errors.
func (v ValidationErrors) Err() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

// ErrNotFound is returned by stores for a missing row; services turn it
// into a KindNotFound Error naming the resource.
var ErrNotFound = errors.New("kessai: not found")

// ErrDuplicate is returned by stores when a unique key already exists.
var ErrDuplicate = errors.New("kessai: duplicate")

// ErrConflict is returned by stores when an optimistic or state check
// fails (the row changed meanwhile).
var ErrConflict = errors.New("kessai: conflicting update")
