package escott

import (
	"net/url"
	"testing"
)

func TestParamsEncodeKeepsOrderAndFormEncoding(t *testing.T) {
	var p Params
	p.Set("MerchantId", "030000001")
	p.Set("BillingFullName", "TARO YAMADA")
	p.Set("RedirectUrl", "https://shop.example/?wc-api=wc_sonypayment")
	p.Set("NameKanji", "山田")
	p.SetIf("Empty", "")
	p.Set("MerchantId", "030000002") // replaces in place
	want := "MerchantId=030000002&BillingFullName=TARO+YAMADA&RedirectUrl=https%3A%2F%2Fshop.example%2F%3Fwc-api%3Dwc_sonypayment&NameKanji=%E5%B1%B1%E7%94%B0"
	if got := p.Encode(); got != want {
		t.Fatalf("Encode\n got %s\nwant %s", got, want)
	}
	p.Del("BillingFullName")
	if p.Get("BillingFullName") != "" || len(p) != 3 {
		t.Fatalf("Del left %v", p)
	}
	v, _ := url.ParseQuery(p.Encode())
	if v.Get("NameKanji") != "山田" {
		t.Fatal("round trip lost UTF-8")
	}
}

func TestMask(t *testing.T) {
	p := Params{{"MerchantPass", "secret"}, {"KaiinPass", "001234567890"}, {"ProcessPass", "x"}, {"Token", "tok"},
		{"CardNo", "4123000000000300"}, {"NameKanji", "山田太郎"}, {"TelNo", "09012345678"}, {"KaiinId", "k15i0000001"}, {"EncryptValue", "abc"}, {"Amount", "1000"}}
	m := MaskParams(p)
	want := map[string]string{"MerchantPass": Masked, "KaiinPass": Masked, "ProcessPass": Masked, "Token": Masked,
		"CardNo": "4123********0300", "NameKanji": "山***", "TelNo": "0***", "KaiinId": "k15i0000001", "EncryptValue": Masked, "Amount": "1000"}
	for k, w := range want {
		if got := m.Get(k); got != w {
			t.Errorf("%s masked to %q, want %q", k, got, w)
		}
	}
	if p.Get("MerchantPass") != "secret" {
		t.Fatal("MaskParams changed its input")
	}
	if MaskPAN("12345678") != "********" {
		t.Fatal("short PAN kept digits")
	}
	mv := MaskValues(url.Values{"KaiinPass": {"a", "b"}})
	if mv.Get("KaiinPass") != Masked {
		t.Fatal("MaskValues")
	}
}

func TestOperateEndpoints(t *testing.T) {
	cases := map[OperateID]Endpoint{
		OpAuth: EndpointCard, OpGathering: EndpointCard, OpCapture: EndpointCard, OpChange: EndpointCard, OpDelete: EndpointCard,
		OpReAuth: EndpointCard, OpSearch: EndpointCard, OpCheck: EndpointCard, OpTokenSearch: EndpointToken,
		OpMemAdd: EndpointMember, OpMemChg: EndpointMember, OpMemRefM: EndpointMember, OpMemInval: EndpointMember,
		OpMemUnInval: EndpointMember, OpMemDel: EndpointMember, OpCvsAdd: EndpointCollection, OpCvsChg: EndpointCollection,
		OpCvsDel: EndpointCollection, OpCvsRef: EndpointCollection, OpSecure: 0, "bogus": 0,
	}
	for op, ep := range cases {
		if op.Endpoint() != ep {
			t.Errorf("%s → %v, want %v", op, op.Endpoint(), ep)
		}
		if ep == EndpointCollection && op.UsesTenant() {
			t.Errorf("%s must not carry TenantId", op)
		}
		if op.Label() == "" {
			t.Errorf("%s has no label", op)
		}
	}
	if OpGathering.Label() != "与信売上計上" || OperateID("paid").Label() != "入金" {
		t.Fatal("labels")
	}
	if Production.BaseURL() != "https://www.e-scott.jp" || Test.AgentURL() != "https://link.kessai.info/JLPCT/JLPcon" {
		t.Fatal("environment URLs")
	}
}
