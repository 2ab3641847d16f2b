package collection

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai/escott"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file\n--- got\n%s--- want\n%s", name, got, want)
	}
}

const testURL = "https://link.kessai.info/JLPCT/JLPcon?code=AbCdEf0123456789GhIj&rkbn=2"

// TestNewPaymentDetails: the details of design A-06 from what a
// registration stores.
func TestNewPaymentDetails(t *testing.T) {
	d, err := NewPaymentDetails(3630, 330, "202612012359", testURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantDue := time.Date(2026, 12, 1, 23, 59, 59, 0, escott.JST)
	if !d.DueAt.Equal(wantDue) || d.DueAt.Location() != escott.JST {
		t.Errorf("DueAt = %v, want %v in JST", d.DueAt, wantDue)
	}
	if d.Due != "2026年12月1日 23:59" {
		t.Errorf("Due = %q", d.Due)
	}
	if len(d.Stores) != len(escott.CvsCodes) || d.Stores[0] != (Store{"SEV", "セブンイレブン"}) {
		t.Errorf("Stores = %+v", d.Stores)
	}
	if _, err := NewPaymentDetails(1, 0, "20261201", testURL, nil); err == nil {
		t.Error("a PayLimit without the time was accepted")
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"amount":3630`, `"fee":330`, `"pay_limit":"202612012359"`, `"due_at":"2026-12-01T23:59:59+09:00"`, `"due":"2026年12月1日 23:59"`, `"payment_url":`, `{"code":"LSN","name":"ローソン"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

// TestStores maps channel codes to names (CVS-14), keeping unknown codes.
func TestStores(t *testing.T) {
	got := Stores([]string{"FAM", " LSN ", "XYZ"})
	want := []Store{{"FAM", "ファミリーマート"}, {"LSN", "ローソン"}, {"XYZ", "XYZ"}}
	if len(got) != len(want) {
		t.Fatalf("Stores = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Stores[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := Stores([]string{}); len(got) != 0 {
		t.Errorf("Stores(empty) = %+v", got)
	}
}

// TestEmailTextGolden pins the e-mail block of CVS-08 (with the amount and
// fee of design A-06) in Japanese and English.
func TestEmailTextGolden(t *testing.T) {
	withFee, err := NewPaymentDetails(12_330, 330, "202612012359", testURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	noFee, err := NewPaymentDetails(1000, 0, "202601050959", testURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "email_ja.golden", EmailText(withFee, "ja"))
	golden(t, "email_en.golden", EmailText(withFee, "en"))
	golden(t, "email_ja_nofee.golden", EmailText(noFee, "ja"))
	golden(t, "email_en_nofee.golden", EmailText(noFee, "en"))
}

// TestEmailText checks the properties every block has, whatever the
// golden files say: the plugins' CVS-08 wording, the amount, the link, the
// due date, no trailing spaces, a final newline.
func TestEmailText(t *testing.T) {
	d, err := NewPaymentDetails(1_234_567, 550, "202602282359", testURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ja := EmailText(d, "ja")
	for _, want := range []string{
		"お支払い方法",
		"まだお支払いが完了していない場合は、以下のURLからお支払いの手続きをお願いいたします。",
		"お支払いURL: " + testURL + "\n",
		"お支払い期限日: 2026年2月28日 23:59\n",
		"1,234,567円（うち決済手数料 550円）",
	} {
		if !strings.Contains(ja, want) {
			t.Errorf("Japanese text lacks %q:\n%s", want, ja)
		}
	}
	en := EmailText(d, "en")
	for _, want := range []string{"Payment URL: " + testURL + "\n", "Payment due: February 28, 2026 23:59 (JST)\n", "¥1,234,567 (including a settlement fee of ¥550)"} {
		if !strings.Contains(en, want) {
			t.Errorf("English text lacks %q:\n%s", want, en)
		}
	}
	for _, text := range []string{ja, en, EmailText(d, "")} {
		if !strings.HasSuffix(text, "\n") || strings.Contains(text, " \n") {
			t.Errorf("text is not clean:\n%q", text)
		}
	}
	if EmailText(d, "") != ja || EmailText(d, "fr") != ja {
		t.Error("an unknown language is not Japanese")
	}
	d.PaymentURL = ""
	if strings.Contains(EmailText(d, "ja"), "お支払いURL") {
		t.Error("empty PaymentURL still printed")
	}
}

// TestGroupDigits formats yen with thousands separators.
func TestGroupDigits(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 12330: "12,330", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := groupDigits(in); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", in, got, want)
		}
	}
}
