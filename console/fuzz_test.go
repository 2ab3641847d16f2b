package console

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
)

// Fuzz targets of the console's readers of what an operator types or a
// URL carries: numbers in the settings forms, amounts of the order
// operations, the date and filter queries of the lists, and the
// notification URL the go-live checklist judges. The HTTP-level target
// (every form and list of a logged-in admin) is in fuzz_more_test.go.

// FuzzSettingsInt: settingsNarrow turns what a Japanese input method
// types into ASCII (idempotent up to white space, never more characters); settingsInt accepts
// exactly the integers strconv does after that, and reads back what it
// would write, with or without digit-group commas and full-width digits.
func FuzzSettingsInt(f *testing.F) {
	for _, s := range []string{"7", " １，１００ ", "－５", "1,100", "*", "＊", "9223372036854775807", "9223372036854775808", "1.5", "ー1", "　", "\xff", "+3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		narrow := settingsNarrow(s)
		// Idempotent but for white space that dropping a comma bares
		// ("0\n," → "0\n"): an input field cannot hold a line break.
		if again := settingsNarrow(narrow); again != strings.TrimSpace(narrow) {
			t.Fatalf("settingsNarrow(%q) = %q, then %q", s, narrow, again)
		}
		if utf8.RuneCountInString(narrow) > utf8.RuneCountInString(s) {
			t.Fatalf("settingsNarrow(%q) = %q grew", s, narrow)
		}
		n, ok := settingsInt(s)
		want, err := strconv.ParseInt(narrow, 10, 64)
		if ok != (err == nil) || (ok && n != want) {
			t.Fatalf("settingsInt(%q) = %d, %v; ParseInt(%q) = %d, %v", s, n, ok, narrow, want, err)
		}
		if !ok {
			return
		}
		plain := strconv.FormatInt(n, 10)
		wide := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r - '0' + '０'
			}
			if r == '-' {
				return '－'
			}
			return r
		}, plain)
		for _, typed := range []string{plain, " " + plain + "　", wide, groupDigits(plain)} {
			if back, ok := settingsInt(typed); !ok || back != n {
				t.Fatalf("settingsInt(%q) = %d, %v; want %d", typed, back, ok, n)
			}
		}
	})
}

// groupDigits writes "-1234567" as "-1,234,567".
func groupDigits(s string) string {
	sign, d := "", s
	if strings.HasPrefix(s, "-") {
		sign, d = "-", s[1:]
	}
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + b.String()
}

// FuzzOrdersAmount: an amount typed into an order operation is a positive
// whole number of yen, at most 15 digits; the amounts the console shows
// (comma grouped) and their full-width forms read back to themselves.
func FuzzOrdersAmount(f *testing.F) {
	for _, s := range []string{"1100", "１，１００", "0", "-1", "1.5", "", " 12 ", "999999999999999", "1000000000000000", "1,,1", "１２３４５６７８９０１２３４５"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := ordersAmount(s)
		if !ok {
			return
		}
		if n <= 0 || n > 999_999_999_999_999 {
			t.Fatalf("ordersAmount(%q) = %d", s, n)
		}
		for _, typed := range []string{strconv.FormatInt(n, 10), comma(n), " " + comma(n) + " "} {
			if back, ok := ordersAmount(typed); !ok || back != n {
				t.Fatalf("ordersAmount(%q) = %d, %v; want %d", typed, back, ok, n)
			}
		}
	})
}

// FuzzListFilters: the query of the dashboard, orders and logs lists is
// read without panicking whatever it holds; a date range is only ever
// used when it is in order and not too long; every filter that reaches
// the store has the form the store expects, and every refused value is
// reported in the operator's language.
func FuzzListFilters(f *testing.F) {
	for _, q := range []string{
		"", "days=7", "days=0", "days=367", "from=2026-03-01&to=2026-03-31", "from=2026-04-01&to=2025-04-01",
		"from=2024-01-01&to=2026-01-02", "to=2026-02-30", "status=paid&method=card&from=2026-01-01&to=2026-01-01",
		"status=x&method=cash&from=yesterday", "code=k20&tx=000482917365&op=1Auth&payment=pay_00000000000000000000000000",
		"code=K20%7C&tx=12&op=2Del&status=succeeded&from=1999-12-31&to=3000-01-01", "from=%20&to=%00",
	} {
		f.Add(q, int64(0), true)
	}
	base := time.Date(2026, 4, 1, 12, 0, 0, 0, kessai.JST)
	f.Fuzz(func(t *testing.T, query string, offset int64, en bool) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return // net/http hands the handler what it could parse
		}
		lang := langJa
		if en {
			lang = langEn
		}
		now := base.Add(time.Duration(offset%(1<<33)) * time.Second)

		rng, ok := parseDashboardRange(q, now)
		if rng.From.After(rng.To) || rng.days() < 1 || rng.days() > dashboardMaxDays || !rng.From.Equal(jstDay(rng.From)) {
			t.Fatalf("dashboard range %v – %v (ok %v) from %q", rng.From, rng.To, ok, query)
		}
		if query == "" && (!ok || rng.days() != dashboardDefaultDays || !rng.To.Equal(jstDay(now))) {
			t.Fatalf("default range %v – %v", rng.From, rng.To)
		}

		of, msgs := ordersFilter(q, lang)
		if !of.CreatedFrom.IsZero() && !of.CreatedTo.IsZero() && !of.CreatedFrom.Before(of.CreatedTo) && len(msgs) == 0 {
			t.Fatalf("orders range %v – %v accepted from %q", of.CreatedFrom, of.CreatedTo, query)
		}
		if of.Status != "" && !of.Status.Valid() || of.Method != "" && of.Method != kessai.MethodCard && of.Method != kessai.MethodCollection {
			t.Fatalf("orders filter %+v from %q", of, query)
		}
		for _, m := range msgs {
			if m == "" || strings.HasPrefix(m, "orders_") {
				t.Fatalf("untranslated message %q", m)
			}
		}

		form, af, errs := parseLogsFilter(q, lang)
		if af.Code != "" && !logsValidCode(af.Code) || af.MerchantFree1 != "" && !escott.ValidMerchantFree1(af.MerchantFree1) ||
			af.PaymentID != "" && !kessai.ValidID("pay", af.PaymentID) ||
			af.Operation != "" && !slices.Contains(logsOperations, af.Operation) || af.Status != "" && !slices.Contains(logsStatuses, af.Status) {
			t.Fatalf("logs filter %+v from %q", af, query)
		}
		for _, d := range []time.Time{af.CreatedFrom, af.CreatedTo} {
			if !d.IsZero() && (d.Year() < 2000 || d.Year() > 3000) {
				t.Fatalf("logs date %v from %q", d, query)
			}
		}
		if !af.CreatedFrom.IsZero() && !af.CreatedTo.IsZero() && !af.CreatedFrom.Before(af.CreatedTo) && errs["to"] == "" {
			t.Fatalf("logs range %v – %v accepted from %q", af.CreatedFrom, af.CreatedTo, query)
		}
		for k, m := range errs {
			if m == "" || strings.HasPrefix(m, "logs_") || !slices.Contains([]string{"status", "code", "tx", "op", "payment", "from", "to"}, k) {
				t.Fatalf("logs error %s: %q", k, m)
			}
		}
		if form.Code != strings.ToUpper(strings.TrimSpace(q.Get("code"))) {
			t.Fatalf("logs form %+v", form)
		}
	})
}

// FuzzNotifyURLProblems: any URL typed as the 入金結果通知URL gets a
// verdict, made of known message keys: unusable URLs only "invalid",
// everything else https and not local unless said so.
func FuzzNotifyURLProblems(f *testing.F) {
	for _, s := range []string{"https://pay.shop.example.co.jp/escott/notify", "http://127.0.0.1:8080/escott/notify", "https://[::1]/x",
		"https://[fe80::1%25eth0]/", "https://0x7f.0.0.1/", "https://10.0.0.1/", "//x.jp/", "https:///", "https://%zz/", "\x00", ""} {
		f.Add(s)
	}
	known := []string{"settings_gl_notify_invalid", "settings_gl_notify_https", "settings_gl_notify_local"}
	f.Fuzz(func(t *testing.T, raw string) {
		got := settingsNotifyURLProblems(raw)
		for _, k := range got {
			if !slices.Contains(known, k) {
				t.Fatalf("%q: unknown key %q", raw, k)
			}
		}
		if slices.Contains(got, known[0]) && len(got) != 1 {
			t.Fatalf("%q: %v", raw, got)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			if !slices.Equal(got, known[:1]) {
				t.Fatalf("unusable %q judged %v", raw, got)
			}
			return
		}
		if (u.Scheme != "https") != slices.Contains(got, known[1]) {
			t.Fatalf("%q: scheme %q judged %v", raw, u.Scheme, got)
		}
		if h := strings.ToLower(u.Hostname()); (h == "localhost" || h == "127.0.0.1" || h == "::1") && !slices.Contains(got, known[2]) {
			t.Fatalf("%q: local host judged %v", raw, got)
		}
	})
}
