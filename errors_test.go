package kessai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestKinds(t *testing.T) {
	tests := []struct {
		kind   Kind
		status int
		name   string
	}{
		{KindInternal, http.StatusInternalServerError, "internal"},
		{KindInvalid, http.StatusBadRequest, "invalid"},
		{KindUnauthorized, http.StatusUnauthorized, "unauthorized"},
		{KindForbidden, http.StatusForbidden, "forbidden"},
		{KindNotFound, http.StatusNotFound, "not_found"},
		{KindConflict, http.StatusConflict, "conflict"},
		{KindDeclined, http.StatusPaymentRequired, "declined"},
		{KindUnknown, http.StatusAccepted, "unknown_outcome"},
		{KindRateLimited, http.StatusTooManyRequests, "rate_limited"},
		{KindUnavailable, http.StatusServiceUnavailable, "unavailable"},
		// A kind this build does not know is treated as internal, never
		// as a client error.
		{Kind(-1), http.StatusInternalServerError, "internal"},
		{KindUnavailable + 1, http.StatusInternalServerError, "internal"},
	}
	for _, tc := range tests {
		if got := tc.kind.HTTPStatus(); got != tc.status {
			t.Errorf("Kind(%d).HTTPStatus() = %d, want %d", tc.kind, got, tc.status)
		}
		if got := tc.kind.String(); got != tc.name {
			t.Errorf("Kind(%d).String() = %q, want %q", tc.kind, got, tc.name)
		}
	}
	// Every kind of the list has its own status and name: none falls
	// through to internal by mistake.
	statuses, names := map[int]Kind{}, map[string]Kind{}
	for _, tc := range tests[:10] {
		if k, dup := statuses[tc.status]; dup {
			t.Errorf("%v and %v share status %d", k, tc.kind, tc.status)
		}
		if k, dup := names[tc.name]; dup {
			t.Errorf("%v and %v share name %q", k, tc.kind, tc.name)
		}
		statuses[tc.status], names[tc.name] = tc.kind, tc.kind
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name, ja, en, lang, want string
	}{
		{"ja asked", "日本語", "English", "ja", "日本語"},
		{"en asked", "日本語", "English", "en", "English"},
		{"other language gets ja", "日本語", "English", "fr", "日本語"},
		{"no language gets ja", "日本語", "English", "", "日本語"},
		{"en only, ja asked", "", "English", "ja", "English"},
		{"en only, other language", "", "English", "de", "English"},
		{"ja only, en asked", "日本語", "", "en", "日本語"},
		{"language tags are not parsed", "日本語", "English", "en-US", "日本語"},
		{"neither", "", "", "en", ""},
	}
	for _, tc := range tests {
		e := &Error{Kind: KindInvalid, Code: "c", Ja: tc.ja, En: tc.en}
		if got := e.Message(tc.lang); got != tc.want {
			t.Errorf("%s: Message(%q) = %q, want %q", tc.name, tc.lang, got, tc.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		err  *Error
		want string
	}{
		{Errorf(KindNotFound, "order_not_found", "注文がありません。", "No such order."), "No such order. (not_found)"},
		{&Error{Kind: KindConflict, Code: "busy"}, "busy (conflict)"},
		{FieldError("items[0].name", "required", "必須です。", "is required."), "items[0].name: is required. (invalid)"},
		{Internal(cause), "An internal error occurred. Please try again later. (internal): disk on fire"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestErrorKindAndAsError(t *testing.T) {
	notFound := Errorf(KindNotFound, "order_not_found", "注文がありません。", "No such order.")
	conflict := Errorf(KindConflict, "order_exists", "注文は登録済みです。", "The order exists.")
	amount := FieldError("amount", "invalid_amount", "金額が不正です。", "amount is invalid.")
	email := FieldError("billing.email", "invalid_email", "メールアドレスが不正です。", "email is invalid.")
	unavailable := &Error{Kind: KindUnavailable, Code: "gateway_down", Err: conflict}
	plain := errors.New("connection reset")
	twoFields := ValidationErrors{amount, email}

	tests := []struct {
		name string
		err  error
		kind Kind
		// as is the *Error AsError must return; nil means a new internal
		// error wrapping err.
		as *Error
		// fields is the length of the ValidationErrors errors.As must
		// find; -1 when it must find none.
		fields int
	}{
		{"plain", plain, KindInternal, nil, -1},
		{"context", fmt.Errorf("query: %w", context.Canceled), KindInternal, nil, -1},
		{"kessai error", notFound, KindNotFound, notFound, -1},
		{"wrapped", fmt.Errorf("get order: %w", notFound), KindNotFound, notFound, -1},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", conflict)), KindConflict, conflict, -1},
		{"the outer Error, not its cause", unavailable, KindUnavailable, unavailable, -1},
		{"joined with a plain error", errors.Join(plain, conflict), KindConflict, conflict, -1},
		{"joined: the first kind wins", errors.Join(notFound, conflict), KindNotFound, notFound, -1},
		{"validation errors", twoFields, KindInvalid, amount, 2},
		{"one field", ValidationErrors{email}, KindInvalid, email, 1},
		{"wrapped validation errors", fmt.Errorf("settings: %w", twoFields), KindInvalid, amount, 2},
		{"joined validation errors", errors.Join(plain, twoFields), KindInvalid, amount, 2},
		{"validation errors via Err", twoFields.Err(), KindInvalid, amount, 2},
		{"nil field errors are skipped", ValidationErrors{nil, email}, KindInvalid, email, 2},
		// An empty list is a bug (Err returns nil for it), not a client
		// error.
		{"empty validation errors", ValidationErrors{}, KindInternal, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorKind(tc.err); got != tc.kind {
				t.Errorf("ErrorKind = %v, want %v", got, tc.kind)
			}
			got := AsError(tc.err)
			switch {
			case tc.as != nil && got != tc.as:
				t.Errorf("AsError = %v, want %v", got, tc.as)
			case tc.as == nil && (got.Kind != KindInternal || got.Code != "internal_error" || !reflect.DeepEqual(got.Err, tc.err)):
				// (DeepEqual: an empty ValidationErrors, a slice, cannot
				// be compared with ==.)
				t.Errorf("AsError = %#v, want an internal error wrapping %v", got, tc.err)
			}
			if got.Kind.HTTPStatus() != tc.kind.HTTPStatus() {
				t.Errorf("AsError's status %d differs from ErrorKind's %d", got.Kind.HTTPStatus(), tc.kind.HTTPStatus())
			}
			var ve ValidationErrors
			fields := -1
			if errors.As(tc.err, &ve) {
				fields = len(ve)
			}
			if fields != tc.fields {
				t.Errorf("errors.As finds ValidationErrors of %d fields, want %d (-1: none)", fields, tc.fields)
			}
		})
	}
	// The field errors are reachable for errors.Is too, and through them
	// their causes.
	cause := errors.New("cause")
	withCause := ValidationErrors{&Error{Kind: KindInvalid, Code: "x", Field: "f", Err: cause}}
	if !errors.Is(withCause, cause) || !errors.Is(withCause, withCause[0]) {
		t.Error("errors.Is does not see through ValidationErrors")
	}
}

func TestValidationErrors(t *testing.T) {
	var v ValidationErrors
	if v.Err() != nil || v.Error() != "no errors" {
		t.Fatalf("empty: Err %v, Error %q", v.Err(), v.Error())
	}
	v.Add("amount", "invalid_amount", "金額が不正です。", "amount is invalid.")
	if got := v.Err().Error(); got != "amount: amount is invalid. (invalid)" {
		t.Errorf("one: %q", got)
	}
	v.Add("items", "too_many_items", "多すぎます。", "too many.")
	v.Add("metadata", "invalid_metadata_key", "不正です。", "invalid.")
	if got := v.Error(); !strings.HasSuffix(got, "(and 2 more)") || !strings.HasPrefix(got, "amount: ") {
		t.Errorf("three: %q", got)
	}
	for i, e := range v.Unwrap() {
		if e != v[i] {
			t.Errorf("Unwrap()[%d] = %v, want %v", i, e, v[i])
		}
	}
}
