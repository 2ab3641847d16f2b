package escott

import (
	"net/url"
	"strings"
	"testing"
)

func notificationFields() url.Values {
	return url.Values{"MerchantId": {"030000001"}, "TransactionId": {"1000000000001"}, "RecvNum": {"R123"}, "NyukinDate": {"20241003101530"},
		"MerchantFree1": {"000771020345"}, "MerchantFree2": {"1235"}, "CvsCd": {"SEV "}, "Amount": {"3630"}}
}

func TestParseNotification(t *testing.T) {
	n, err := ParseNotification(notificationFields())
	if err != nil {
		t.Fatal(err)
	}
	if n.CvsCd != "SEV" || n.Amount != 3630 || n.MerchantFree2 != "1235" || CvsName(n.CvsCd) != "セブンイレブン" {
		t.Fatalf("%+v", n)
	}
	for _, k := range notificationKeys {
		f := notificationFields()
		f.Del(k)
		if IsNotification(f) {
			t.Errorf("without %s still a notification", k)
		}
		if _, err := ParseNotification(f); err == nil {
			t.Errorf("without %s parsed", k)
		}
	}
	bad := []func(url.Values){
		func(f url.Values) { f.Set("NyukinDate", "yesterday") },
		func(f url.Values) { f.Set("Amount", "-1") },
		func(f url.Values) { f.Set("Amount", "1.5") },
		func(f url.Values) { f.Set("RecvNum", strings.Repeat("9", 1000)) },
	}
	for i, mutate := range bad {
		f := notificationFields()
		mutate(f)
		if _, err := ParseNotification(f); err == nil {
			t.Errorf("bad notification %d accepted", i)
		}
	}
	if CvsName(" XYZ ") != "XYZ" {
		t.Fatal("unknown CvsCd should come back trimmed")
	}
}

func FuzzParseNotification(f *testing.F) {
	f.Add(notificationFields().Encode())
	f.Add("MerchantId=1&TransactionId=&RecvNum=1")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		n, err := ParseNotification(v)
		if err == nil && (n.MerchantID == "" || n.MerchantFree1 == "" || n.NyukinDate == "") {
			t.Fatal("accepted a notification without its required fields")
		}
	})
}
