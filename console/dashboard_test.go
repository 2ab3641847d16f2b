package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/cardpay"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/paytest"
)

// The dashboard (issue item 7): range, tiles, the four SVG charts and
// their tables.

// dashboardDecline pays an order with the simulator's G12 card: a failed
// payment with a decline code.
func (e *env) dashboardDecline(o *kessai.Order) {
	e.T.Helper()
	tok, err := e.Sim.IssueToken(paytest.DemoID, "test", "4000000000000127", "2812", "", "")
	if err != nil {
		e.T.Fatal(err)
	}
	res, err := e.payer.Pay(e.Ctx, shopID, o.ID, cardpay.PayInput{Token: tok, CardPrefix: "400000"})
	if err == nil && res.Status == cardpay.StatusSucceeded {
		e.T.Fatalf("G12 card was approved")
	}
}

// dashboardPayCollection pays a registered collection at a convenience
// store in the simulator and waits for the notification to be applied.
func (e *env) dashboardPayCollection(p *kessai.Payment) {
	e.T.Helper()
	if err := e.Sim.PayCollection(paytest.DemoID, "test", p.FreeArea, "SEV"); err != nil {
		e.T.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.Ctx, 10*time.Second)
	defer cancel()
	if err := e.Sim.FlushNotifications(ctx); err != nil {
		e.T.Fatal(err)
	}
	paytest.WantState(e.T, e.GetPayment(p.ID), kessai.PaymentPaid)
}

// dashboardCell returns the text of an element by id.
func dashboardCell(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no #%s in page:\n%s", id, page)
	}
	return strings.TrimSpace(m[1])
}

// dashboardTable returns the rows of a chart's data table as "cell|cell|…".
func dashboardTable(t *testing.T, page, id string) []string {
	t.Helper()
	start := strings.Index(page, `<table id="`+id+`-table">`)
	if start < 0 {
		t.Fatalf("no table %s:\n%s", id, page)
	}
	body := page[start:]
	body = body[strings.Index(body, "<tbody>"):strings.Index(body, "</tbody>")]
	var rows []string
	cell := regexp.MustCompile(`<t[hd][^>]*>([^<]*)</t[hd]>`)
	for _, tr := range strings.Split(body, "<tr")[1:] {
		var cells []string
		for _, m := range cell.FindAllStringSubmatch(tr, -1) {
			cells = append(cells, m[1])
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows
}

func TestDashboardSums(t *testing.T) {
	e := newEnv(t)
	// Day 1 (2026-04-01 JST): a card payment left authorised, one
	// captured, a decline, and a collection that is then paid.
	authorised := e.payCard(e.order(1000), false)
	captured := e.payCard(e.order(2500), false)
	if _, err := e.payer.Operate(e.Ctx, shopID, captured.ID, escott.OpCapture, 0); err != nil {
		t.Fatal(err)
	}
	e.dashboardDecline(e.order(700))
	paidCVS := e.register(e.order(3000)).Payment
	e.dashboardPayCollection(paidCVS)
	paidAmount := e.GetPayment(paidCVS.ID).Amount

	// Day 2: another card payment and an unpaid collection.
	e.Advance(24 * time.Hour)
	second := e.payCard(e.order(4000), false)
	unpaid := e.register(e.order(5000)).Payment
	paytest.WantState(t, e.GetPayment(authorised.ID), kessai.PaymentAuthorized)
	paytest.WantState(t, e.GetPayment(second.ID), kessai.PaymentAuthorized)
	paytest.WantState(t, e.GetPayment(captured.ID), kessai.PaymentCaptured)

	b := e.asAdmin()
	page := b.page("/admin/")
	wantContains(t, page, "ダッシュボード", `aria-current="page">ダッシュボード`)
	total := 1000 + 2500 + 4000 + paidAmount
	if got, want := dashboardCell(t, page, "dashboard-total-sales"), dashboardComma(total)+"円"; got != want {
		t.Errorf("total sales %q, want %q", got, want)
	}
	if got := dashboardCell(t, page, "dashboard-sales-count"); got != "4件" {
		t.Errorf("sales count %q", got)
	}
	if got := dashboardCell(t, page, "dashboard-unpaid"); got != "1件" {
		t.Errorf("unpaid tile %q", got)
	}
	wantContains(t, page, `href="/admin/orders?status=on-hold&amp;method=collection" id="dashboard-unpaid-link"`)
	wantContains(t, page, `<span class="dashboard-sub">`+dashboardComma(e.GetPayment(unpaid.ID).Amount)+`円</span>`)
	if got := dashboardCell(t, page, "dashboard-unknown"); got != "0件" {
		t.Errorf("unknown tile %q", got)
	}
	// Default range: the 30 days up to today (2026-04-02 JST).
	wantContains(t, page, `name="from" value="2026-03-04"`, `name="to" value="2026-04-02"`,
		`href="/admin/?days=30" aria-current="true"`)

	sales := dashboardTable(t, page, "dashboard-sales")
	wantRows(t, "sales", sales, []string{
		"2026-04-01|" + dashboardComma(3500) + "円|" + dashboardComma(paidAmount) + "円|" + dashboardComma(3500+paidAmount) + "円",
		"2026-04-02|4,000円|0円|4,000円",
		"合計|7,500円|" + dashboardComma(paidAmount) + "円|" + dashboardComma(total) + "円",
	})
	wantRows(t, "auth", dashboardTable(t, page, "dashboard-auth"), []string{
		"2026-04-01|1,000円|2,500円",
		"2026-04-02|4,000円|0円",
		"合計|5,000円|2,500円",
	})
	wantRows(t, "codes", dashboardTable(t, page, "dashboard-codes"), []string{
		escott.DescribeCodes([]string{"G12"}, "ja") + "|1件",
	})
	wantRows(t, "collections", dashboardTable(t, page, "dashboard-collections"), []string{
		"2026-04-01|1件|0件|0件|" + dashboardComma(paidAmount) + "円|0円|0円",
		"2026-04-02|0件|1件|0件|0円|" + dashboardComma(e.GetPayment(unpaid.ID).Amount) + "円|0円",
		"合計|1件|1件|0件|" + dashboardComma(paidAmount) + "円|" + dashboardComma(e.GetPayment(unpaid.ID).Amount) + "円|0円",
	})

	// Every chart is inline SVG with its accessible name, no script, no
	// inline style, and a table fallback.
	for _, title := range []string{"売上（日別・支払方法別）", "与信額と売上計上額", "拒否コード（上位 10 件）", "収納（日別の件数）"} {
		wantContains(t, page, `role="img" aria-label="`+title+`"`, `<title>`+title+`</title>`)
	}
	if n := strings.Count(page, "<details class=\"dashboard-data\""); n != 4 {
		t.Errorf("%d data tables", n)
	}
	wantNotContains(t, page, "style=", "<style", "データがありません")
	if strings.Count(page, "<script") != 1 { // console.js only
		t.Errorf("unexpected scripts")
	}

	// The tiles' links lead to the order list's matching filters.
	for _, link := range []string{"/admin/orders?state=unknown", "/admin/orders?status=on-hold&method=collection"} {
		b.page(link)
	}

	// A range of day 2 only leaves day 1 out.
	page = b.page("/admin/?from=2026-04-02&to=2026-04-02")
	if got := dashboardCell(t, page, "dashboard-total-sales"); got != "4,000円" {
		t.Errorf("day 2 total %q", got)
	}
	wantContains(t, page, "データがありません") // no declines on day 2
	wantRows(t, "one day", dashboardTable(t, page, "dashboard-codes"), []string{"データがありません"})
	// Day 1 only, by the quick link's logic of "from" alone: to = today.
	page = b.page("/admin/?from=2026-04-01")
	if got := dashboardCell(t, page, "dashboard-total-sales"); got != dashboardComma(total)+"円" {
		t.Errorf("from day 1 total %q", got)
	}
	// The read-only user sees the same.
	if got := dashboardCell(t, e.asReader().page("/admin/"), "dashboard-total-sales"); got != dashboardComma(total)+"円" {
		t.Errorf("reader total %q", got)
	}
}

func wantRows(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s table:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDashboardRange(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	const bad = "期間の指定が正しくありません"
	cases := []struct {
		query    string
		bad      bool
		from, to string
	}{
		{"", false, "2026-03-03", "2026-04-01"},
		{"?days=7", false, "2026-03-26", "2026-04-01"},
		{"?days=90", false, "2026-01-02", "2026-04-01"},
		{"?from=2025-04-01&to=2026-03-31", false, "2025-04-01", "2026-03-31"}, // 365 days
		{"?from=2025-03-31&to=2026-03-31", false, "2025-03-31", "2026-03-31"}, // 366 days
		{"?to=2026-02-10", false, "2026-01-12", "2026-02-10"},
		{"?from=2025-03-30&to=2026-03-31", true, "2026-03-03", "2026-04-01"}, // 367 days
		{"?from=2026-04-02&to=2026-04-01", true, "2026-03-03", "2026-04-01"},
		{"?from=2026-13-01", true, "2026-03-03", "2026-04-01"},
		{"?from=yesterday", true, "2026-03-03", "2026-04-01"},
		{"?days=0", true, "2026-03-03", "2026-04-01"},
		{"?days=367", true, "2026-03-03", "2026-04-01"},
		{"?days=%3Cscript%3E", true, "2026-03-03", "2026-04-01"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			r := b.get("/admin/" + c.query)
			if r.Status != http.StatusOK {
				t.Fatalf("HTTP %d", r.Status)
			}
			if strings.Contains(r.Body, bad) != c.bad {
				t.Errorf("range message shown = %v, want %v", !c.bad, c.bad)
			}
			wantContains(t, r.Body, `name="from" value="`+c.from+`"`, `name="to" value="`+c.to+`"`)
			wantNotContains(t, r.Body, "<script>")
		})
	}
	// An empty shop: every chart says so, the tables too.
	page := b.page("/admin/")
	if n := strings.Count(page, ">データがありません</text>"); n != 4 {
		t.Errorf("%d empty charts, want 4", n)
	}
}

func TestDashboardEnglish(t *testing.T) {
	e := newEnv(t)
	e.payCard(e.order(12345), false)
	b := e.asAdmin()
	page := b.page("/admin/?lang=en&days=7")
	wantContains(t, page, "<h1>Dashboard</h1>", "Total sales", "Sales by day and payment method", "Authorised and captured amounts",
		"Decline codes (top 10)", "Collections by day (count)", "Show the numbers as a table", `aria-label="Sales by day and payment method"`,
		`href="/admin/?days=7" aria-current="true">Last 7 days</a>`, "No data", "Payments needing attention")
	if got := dashboardCell(t, page, "dashboard-total-sales"); got != "¥12,345" {
		t.Errorf("total %q", got)
	}
	if got := dashboardCell(t, page, "dashboard-sales-count"); got != "1" {
		t.Errorf("count %q", got)
	}
	wantNotContains(t, page, "売上合計", "データがありません")
	page = b.page("/admin/?from=x")
	wantContains(t, page, "The period is not valid")
}

// Unknown payments show on the attention tile with the link to the
// orders that need resolving.
func TestDashboardUnknownTile(t *testing.T) {
	e := newEnv(t)
	p := e.payCard(e.order(1000), false)
	// A lost answer is rare to provoke here; the store state is what the
	// tile reads.
	pm := e.GetPayment(p.ID)
	pm.State = kessai.PaymentUnknown
	if err := e.Store.UpdatePayment(e.Ctx, pm); err != nil {
		t.Fatal(err)
	}
	page := e.asAdmin().page("/admin/")
	if got := dashboardCell(t, page, "dashboard-unknown"); got != "1件" {
		t.Errorf("unknown tile %q", got)
	}
	wantContains(t, page, `dashboard-tile dashboard-alert`, `href="/admin/orders?state=unknown"`)
	// An unknown payment holds no money: not in the sales.
	if got := dashboardCell(t, page, "dashboard-total-sales"); got != "0円" {
		t.Errorf("total %q", got)
	}
}

// dashboardComma groups digits as the console does: 12,345.
func dashboardComma(n int64) string {
	d := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
