package escott

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		ok         bool
		codes      []string
		tokenCodes []string
		wantErr    error
	}{
		{"ok", "TransactionId=1&OperateId=1Auth&ResponseCd=OK&ProcessId=abc", true, []string{"OK"}, nil, nil},
		{"literal pipe", "ResponseCd=K20|K21", false, []string{"K20", "K21"}, nil, nil},
		{"encoded pipe", "ResponseCd=K20%7CK21&OperateId=1Auth", false, []string{"K20", "K21"}, nil, nil},
		{"token both ok", "ResponseCd=OK&TokenResponseCd=OK", true, []string{"OK"}, []string{"OK"}, nil},
		{"token failed", "ResponseCd=OK&TokenResponseCd=KI2", false, []string{"OK"}, []string{"KI2"}, nil},
		{"trailing newline", "ResponseCd=OK\r\n", true, []string{"OK"}, nil, nil},
		{"ok among others", "ResponseCd=OK|K20", false, []string{"OK", "K20"}, nil, nil},
		{"no ResponseCd", "OperateId=1Auth", false, nil, nil, ErrNoResponseCd},
		{"empty ResponseCd", "ResponseCd=", false, nil, nil, ErrNoResponseCd},
		{"empty", "", false, nil, nil, ErrEmptyBody},
		{"html", "<html><body>Service Unavailable</body></html>", false, nil, nil, ErrNoResponseCd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tc.body))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.OK() != tc.ok || !reflect.DeepEqual(r.Codes, tc.codes) || !reflect.DeepEqual(r.TokenCodes, tc.tokenCodes) {
				t.Fatalf("got ok=%v codes=%v token=%v", r.OK(), r.Codes, r.TokenCodes)
			}
		})
	}
}

func TestFailureCodesMergesTokenCodes(t *testing.T) {
	r, err := ParseResponse([]byte("ResponseCd=K02&TokenResponseCd=KI3|KHX"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.FailureCodes(); !reflect.DeepEqual(got, []string{"K02", "KI3", "KHX"}) {
		t.Fatalf("FailureCodes = %v", got)
	}
}

func TestParseResponseTooLarge(t *testing.T) {
	if _, err := ParseResponse([]byte("ResponseCd=OK&x=" + strings.Repeat("a", maxResponseBody))); err == nil {
		t.Fatal("accepted an oversized answer")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Op: OpAuth, Codes: []string{CodeNG}, Cause: errors.New("dial tcp: refused")}
	if !e.NoAnswer() || e.Class() != ClassNoAnswer || !strings.Contains(e.Error(), "not sent") {
		t.Fatalf("%v / %v", e, e.Class())
	}
	e.MaySucceeded = true
	if !IsUncertain(e) || !strings.Contains(e.Error(), "unknown") {
		t.Fatalf("uncertain error: %v", e)
	}
	r, _ := ParseResponse([]byte("ResponseCd=G55"))
	d := &Error{Op: OpAuth, Codes: r.FailureCodes(), Response: r}
	if d.NoAnswer() || IsUncertain(d) || !d.HasCode("G55") || d.Class() != ClassIssuerDecline {
		t.Fatalf("decline error misread: %v", d)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"ResponseCd=OK", "ResponseCd=K20%7CK21&OperateId=1Auth", "ResponseCd=OK&TokenResponseCd=KI2", "", "=&=&", "ResponseCd=%ZZ"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseResponse(body)
		if err != nil {
			if r != nil {
				t.Fatal("answer and error together")
			}
			return
		}
		if len(r.Codes) == 0 {
			t.Fatal("parsed answer without codes")
		}
		if r.OK() && len(r.FailureCodes()) != 0 {
			t.Fatal("OK answer with failure codes")
		}
		if !r.OK() && len(r.FailureCodes()) == 0 {
			t.Fatal("failed answer without failure codes")
		}
	})
}
