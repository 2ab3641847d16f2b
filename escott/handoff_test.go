package escott

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestThreeDSHandOff(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:8470")
	ci := testCipher(t)
	h, err := c.ThreeDSHandOff(ci, ThreeDSRequest{Op: OpSecure, Ref: Ref{MerchantFree1: "000000000001", MerchantFree2: "42"}, Amount: 5500,
		Token: "tok", ProcNo: "0384112", RedirectURL: "https://shop.example/r", BillingFullName: "TARO YAMADA", BillingEmail: "taro@example.jp"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Method != "POST" || h.Action != "http://127.0.0.1:8470"+PathThreeDS || h.Fields.Get("MerchantId") != "030000001" {
		t.Fatalf("%+v", h)
	}
	v, err := ci.Decrypt(h.Fields.Get("EncryptValue"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"MerchantId": "030000001", "MerchantPass": "pass", "TenantId": "0001", "TransactionDate": "20260401", "OperateId": "3Secure",
		"Amount": "5500", "Token": "tok", "ProcNo": "0384112", "RedirectUrl": "https://shop.example/r", "BillingFullName": "TARO YAMADA", "MerchantFree2": "42"}
	for k, w := range want {
		if v.Get(k) != w {
			t.Errorf("%s = %q, want %q", k, v.Get(k), w)
		}
	}
	bad := []ThreeDSRequest{
		{Op: OpAuth, Amount: 1, Token: "t", ProcNo: "0000001", RedirectURL: "x"},
		{Op: OpSecure, Amount: 0, Token: "t", ProcNo: "0000001", RedirectURL: "x"},
		{Op: OpSecure, Amount: 1, ProcNo: "0000001", RedirectURL: "x"},
		{Op: OpSecure, Amount: 1, Token: "t", ProcNo: "1", RedirectURL: "x"},
		{Op: OpSecure, Amount: 1, Token: "t", ProcNo: "0000001"},
		{Op: OpSecure, Amount: 1, Token: "t", Member: Member{"k", "p"}, ProcNo: "0000001", RedirectURL: "x"},
		{Op: OpMemAdd, Token: "t", ProcNo: "0000001", RedirectURL: "x"},
		{Op: OpMemChg, Member: Member{"k", "p"}, ProcNo: "0000001", RedirectURL: "x"},
	}
	for i, r := range bad {
		if _, err := c.ThreeDSHandOff(ci, r); err == nil {
			t.Errorf("bad request %d accepted", i)
		}
	}
}

func TestLinkHandOff(t *testing.T) {
	c := newTestClient(t, "")
	ci := testCipher(t)
	h, err := c.LinkHandOff(ci, LinkRequest{Op: OpGathering, Ref: Ref{MerchantFree1: "000000000002", MerchantFree2: "43"}, Amount: 1200, RedirectURL: "https://shop.example/r"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(h.URL())
	if err != nil || h.Method != "GET" || u.Host != "www.test.e-scott.jp" || u.Path != PathLink {
		t.Fatalf("%s %v", h.URL(), err)
	}
	v, err := ci.Decrypt(u.Query().Get("EncryptValue"))
	if err != nil {
		t.Fatal(err)
	}
	if v.Has("MerchantId") || v.Get("PayType") != "01" || v.Get("ProcNo") != LinkProcNo || v.Get("Amount") != "1200" {
		t.Fatalf("payload %v", v)
	}
	if _, err := c.LinkHandOff(ci, LinkRequest{Op: OpMemAdd, RedirectURL: "x"}); err == nil {
		t.Error("member op without ids accepted")
	}
	if _, err := c.LinkHandOff(ci, LinkRequest{Op: OpCapture, RedirectURL: "x"}); err == nil {
		t.Error("capture accepted")
	}
}

func TestParseReturn(t *testing.T) {
	ci := testCipher(t)
	enc := func(s string) string { return ci.EncryptString(s) }
	r, err := ParseReturn(ci, enc("OperateId=3Secure&ResponseCd=OK&SecureResultCode=1&MerchantFree1=000000000001&ECI3D=07&DSTransactionId=ds"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsThreeDS() || !r.ThreeDS.StopsPayment() || r.ThreeDS.ECI3D != "07" || r.ThreeDS.DSTransactionID != "ds" {
		t.Fatalf("%+v", r)
	}
	var p Params
	r.ThreeDS.Apply(&p)
	if p.Get("SecureResultCode") != "1" || p.Get("DSTransactionId") != "ds" || p.Get("CAVV3D") != "" {
		t.Fatalf("Apply %v", p)
	}
	for code, stop := range map[string]bool{"0": false, "1": true, "2": false, "3": false, "8": true, "9": true, "7": false} {
		if (ThreeDSFields{SecureResultCode: code}).StopsPayment() != stop {
			t.Errorf("SecureResultCode %s", code)
		}
	}
	link, err := ParseReturn(ci, enc("OperateId=1Gathering&ResponseCd=P51&MerchantId=030000001&MerchantFree2=9"))
	if err != nil || !link.ShopperCancelled() || !link.FromCheckout() || link.IsThreeDS() {
		t.Fatalf("%+v %v", link, err)
	}
	mem, _ := ParseReturn(ci, enc("OperateId=4MemAdd&ResponseCd=OK&KaiinId=k1i0000001&KaiinPass=000000000009"))
	if mem.Member().KaiinID != "k1i0000001" || mem.FromCheckout() || mem.ShopperCancelled() {
		t.Fatalf("%+v", mem)
	}
	if _, err := ParseReturn(ci, enc("ResponseCd=OK")); !errors.Is(err, ErrIncompleteReturn) {
		t.Errorf("no OperateId: %v", err)
	}
	if _, err := ParseReturn(ci, enc("OperateId=3Secure")); !errors.Is(err, ErrIncompleteReturn) {
		t.Errorf("no ResponseCd: %v", err)
	}
	if _, err := ParseReturn(ci, strings.Repeat("A", 24)); !errors.Is(err, ErrBadEncryptValue) {
		t.Errorf("garbage: %v", err)
	}
}
