package console

// The dashboard (issue item 7): sales, authorisations, decline codes and
// collections over a range of Japan-time days, as SVG charts drawn on the
// server (internal/svgchart) with a table of the numbers under each, and
// tiles for what needs the operator now (unknown payments, unpaid
// collections).
//
// The figures come from the store's aggregates (PaymentStats,
// FailureCodeStats): payments are counted on the day they were created, in
// their current state, with their current amount. A card payment
// authorised on Monday and captured on Wednesday therefore counts as
// captured on Monday; that is what "the sales of Monday" means to an
// operator who reconciles orders.

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/escott"
	"github.com/kessai/kessai/internal/svgchart"
)

func (h *Handler) dashboardRoutes() []route {
	// "/{$}": exactly /admin/, not the catch-all under it.
	return []route{{"GET", "/{$}", viewer, h.dashboardPage}}
}

// Range limits.
const (
	dashboardDefaultDays = 30
	dashboardMaxDays     = 366
	// dashboardTopCodes is how many decline codes the chart shows.
	dashboardTopCodes = 10
	// dashboardUnknownCap and dashboardPendingCap bound the tiles'
	// counting queries; beyond them the tile shows "N+".
	dashboardUnknownCap = 100
	dashboardPendingCap = 1000
)

// dashboardQuickDays are the quick range links.
var dashboardQuickDays = []int{7, 30, 90}

type dashboardBody struct {
	From, To string // YYYY-MM-DD, JST, both included
	Days     int
	Quick    []dashboardQuick

	TotalSales    int64
	SalesCount    int64
	Unknown       string // count, "100+" beyond the cap
	UnknownZero   bool
	Pending       string
	PendingAmount int64
	Charts        []dashboardChart
}

type dashboardQuick struct {
	Label   string
	URL     string
	Current bool
}

// dashboardChart is one chart with its accessible fallback: the same
// numbers as a table.
type dashboardChart struct {
	ID    string
	Title string
	Note  string
	SVG   template.HTML
	Head  []string
	Rows  []dashboardRow
	// Daily tables leave out the days without values.
	Daily bool
}

// dashboardRow is a table row: a header cell (the day or the code) and
// numeric cells, already formatted.
type dashboardRow struct {
	Head  string
	Cells []string
	Total bool
}

// dashboardRange is a range of whole JST days, [From, To] inclusive.
type dashboardRange struct {
	From, To time.Time // JST midnights
}

func (r dashboardRange) days() int { return int(r.To.Sub(r.From)/(24*time.Hour)) + 1 }

// jstDay is the JST midnight of t's day.
func jstDay(t time.Time) time.Time {
	t = t.In(kessai.JST)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, kessai.JST)
}

// parseDashboardRange reads ?days=N or ?from=&to= (YYYY-MM-DD, JST). No
// parameters give the last 30 days up to today. Anything unusable — a
// malformed date, from after to, more than 366 days — gives the default
// and ok = false, so the page says so rather than guessing.
func parseDashboardRange(q url.Values, now time.Time) (dashboardRange, bool) {
	today := jstDay(now)
	def := dashboardRange{From: today.AddDate(0, 0, -(dashboardDefaultDays - 1)), To: today}
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > dashboardMaxDays {
			return def, false
		}
		return dashboardRange{From: today.AddDate(0, 0, -(n - 1)), To: today}, true
	}
	fs, ts := q.Get("from"), q.Get("to")
	if fs == "" && ts == "" {
		return def, true
	}
	parse := func(s string) (time.Time, bool) {
		t, err := time.ParseInLocation("2006-01-02", s, kessai.JST)
		return t, err == nil
	}
	r := def
	var ok bool
	if ts != "" {
		if r.To, ok = parse(ts); !ok {
			return def, false
		}
	}
	if fs != "" {
		if r.From, ok = parse(fs); !ok {
			return def, false
		}
	} else {
		r.From = r.To.AddDate(0, 0, -(dashboardDefaultDays - 1))
	}
	if r.From.After(r.To) || r.days() > dashboardMaxDays {
		return def, false
	}
	return r, true
}

func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request, rq *request) {
	p := h.newPage(r, rq, "dashboard", "dashboard_title")
	rng, ok := parseDashboardRange(r.URL.Query(), h.now())
	if !ok {
		p.Errors = append(p.Errors, text(rq.Lang, "dashboard_bad_range"))
	}
	body, err := h.dashboard(r, p, rng)
	if err != nil {
		h.fail(w, r, rq, err)
		return
	}
	p.Body = body
	h.render(w, r, http.StatusOK, "dashboard", p)
}

func (h *Handler) dashboard(r *http.Request, p *page, rng dashboardRange) (*dashboardBody, error) {
	ctx, st, lang := r.Context(), h.svc.Store(), p.Lang
	end := rng.To.AddDate(0, 0, 1) // exclusive
	stats, err := st.PaymentStats(ctx, h.shopID, rng.From, end, kessai.JST)
	if err != nil {
		return nil, err
	}
	codes, err := st.FailureCodeStats(ctx, h.shopID, rng.From, end)
	if err != nil {
		return nil, err
	}

	today := jstDay(h.now())
	n := rng.days()
	b := &dashboardBody{From: rng.From.Format("2006-01-02"), To: rng.To.Format("2006-01-02"), Days: n}
	for _, d := range dashboardQuickDays {
		b.Quick = append(b.Quick, dashboardQuick{Label: fmt.Sprintf(text(lang, "dashboard_last_days"), d),
			URL: BasePath + "/?days=" + strconv.Itoa(d), Current: n == d && rng.To.Equal(today)})
	}

	// Per-day series, indexed by day from rng.From.
	days := make([]string, n)  // chart labels: 4/1
	dates := make([]string, n) // table labels: 2026-04-01
	index := make(map[string]int, n)
	for i := range n {
		d := rng.From.AddDate(0, 0, i)
		days[i] = fmt.Sprintf("%d/%d", d.Month(), d.Day())
		dates[i] = d.Format("2006-01-02")
		index[dates[i]] = i
	}
	series := func() []int64 { return make([]int64, n) }
	salesCard, salesCVS := series(), series()
	authorized, captured := series(), series()
	paid, pending, expired := series(), series(), series()
	paidAmt, pendingAmt, expiredAmt := series(), series(), series()
	for _, s := range stats {
		i, ok := index[s.Day.In(kessai.JST).Format("2006-01-02")]
		if !ok {
			continue
		}
		switch s.Method {
		case kessai.MethodCard:
			switch s.State {
			case kessai.PaymentAuthorized:
				salesCard[i] += s.Amount
				authorized[i] += s.Amount
				b.SalesCount += s.Count
			case kessai.PaymentCaptured:
				salesCard[i] += s.Amount
				captured[i] += s.Amount
				b.SalesCount += s.Count
			}
		case kessai.MethodCollection:
			switch s.State {
			case kessai.PaymentPaid:
				salesCVS[i] += s.Amount
				paid[i] += s.Count
				paidAmt[i] += s.Amount
				b.SalesCount += s.Count
			case kessai.PaymentPending:
				pending[i] += s.Count
				pendingAmt[i] += s.Amount
			case kessai.PaymentExpired:
				expired[i] += s.Count
				expiredAmt[i] += s.Amount
			}
		}
	}
	for i := range n {
		b.TotalSales += salesCard[i] + salesCVS[i]
	}

	yen := p.Yen
	count := func(v int64) string { return fmt.Sprintf(text(lang, "dashboard_count"), comma(v)) }
	opts := func(f func(int64) string) svgchart.Options {
		return svgchart.Options{Format: f, Empty: text(lang, "dashboard_no_data")}
	}
	// dailyRows is a chart's table: the days with any value, and a total.
	dailyRows := func(cols [][]int64, formats []func(int64) string) []dashboardRow {
		var rows []dashboardRow
		totals := make([]int64, len(cols))
		for i := range n {
			has := false
			cells := make([]string, len(cols))
			for c, col := range cols {
				has = has || col[i] != 0
				totals[c] += col[i]
				cells[c] = formats[c](col[i])
			}
			if has {
				rows = append(rows, dashboardRow{Head: dates[i], Cells: cells})
			}
		}
		cells := make([]string, len(cols))
		for c := range cols {
			cells[c] = formats[c](totals[c])
		}
		return append(rows, dashboardRow{Head: text(lang, "dashboard_total"), Cells: cells, Total: true})
	}
	t := func(k string) string { return text(lang, k) }

	title := t("dashboard_chart_sales")
	sales := dashboardChart{ID: "dashboard-sales", Daily: true, Title: title, Note: t("dashboard_note_sales"),
		SVG: svgchart.StackedBars(title, days, []svgchart.Series{
			{Name: t("dashboard_series_card"), Class: "card", Values: salesCard},
			{Name: t("dashboard_series_collection"), Class: "collection", Values: salesCVS},
		}, opts(yen)),
		Head: []string{t("dashboard_date"), t("dashboard_series_card"), t("dashboard_series_collection"), t("dashboard_total")},
	}
	salesTotal := series()
	for i := range n {
		salesTotal[i] = salesCard[i] + salesCVS[i]
	}
	sales.Rows = dailyRows([][]int64{salesCard, salesCVS, salesTotal}, []func(int64) string{yen, yen, yen})

	title = t("dashboard_chart_auth")
	auth := dashboardChart{ID: "dashboard-auth", Daily: true, Title: title, Note: t("dashboard_note_auth"),
		SVG: svgchart.GroupedBars(title, days, []svgchart.Series{
			{Name: t("dashboard_series_authorized"), Class: "authorized", Values: authorized},
			{Name: t("dashboard_series_captured"), Class: "captured", Values: captured},
		}, opts(yen)),
		Head: []string{t("dashboard_date"), t("dashboard_series_authorized"), t("dashboard_series_captured")},
		Rows: dailyRows([][]int64{authorized, captured}, []func(int64) string{yen, yen}),
	}

	// Codes with their admin descriptions (ERR-02).
	title = t("dashboard_chart_codes")
	var bars []svgchart.Bar
	var codeRows []dashboardRow
	for i, c := range codes {
		if i == dashboardTopCodes {
			break
		}
		label := t("dashboard_no_code")
		if c.Code != "" {
			label = escott.DescribeCodes([]string{c.Code}, lang)
		}
		bars = append(bars, svgchart.Bar{Label: label, Value: c.Count})
		codeRows = append(codeRows, dashboardRow{Head: label, Cells: []string{count(c.Count)}})
	}
	declines := dashboardChart{ID: "dashboard-codes", Title: title, Note: t("dashboard_note_codes"),
		SVG:  svgchart.HorizontalBars(title, bars, opts(count)),
		Head: []string{t("dashboard_code"), t("dashboard_count_col")}, Rows: codeRows,
	}

	title = t("dashboard_chart_collections")
	cvs := dashboardChart{ID: "dashboard-collections", Daily: true, Title: title, Note: t("dashboard_note_collections"),
		SVG: svgchart.StackedBars(title, days, []svgchart.Series{
			{Name: t("dashboard_series_paid"), Class: "paid", Values: paid},
			{Name: t("dashboard_series_pending"), Class: "pending", Values: pending},
			{Name: t("dashboard_series_expired"), Class: "expired", Values: expired},
		}, opts(count)),
		Head: []string{t("dashboard_date"), t("dashboard_series_paid"), t("dashboard_series_pending"), t("dashboard_series_expired"),
			t("dashboard_series_paid") + " " + t("dashboard_amount"), t("dashboard_series_pending") + " " + t("dashboard_amount"),
			t("dashboard_series_expired") + " " + t("dashboard_amount")},
		Rows: dailyRows([][]int64{paid, pending, expired, paidAmt, pendingAmt, expiredAmt},
			[]func(int64) string{count, count, count, yen, yen, yen}),
	}
	b.Charts = []dashboardChart{sales, auth, declines, cvs}

	// The tiles about now, whatever the range: what waits for the operator.
	unknown, err := st.ListPaymentsByState(ctx, h.shopID, kessai.PaymentUnknown, kessai.Page{Limit: dashboardUnknownCap + 1})
	if err != nil {
		return nil, err
	}
	b.Unknown, b.UnknownZero = capped(len(unknown), dashboardUnknownCap, count), len(unknown) == 0
	unpaid, err := st.ListPaymentsByState(ctx, h.shopID, kessai.PaymentPending, kessai.Page{Limit: dashboardPendingCap + 1})
	if err != nil {
		return nil, err
	}
	for i, pm := range unpaid {
		if i < dashboardPendingCap {
			b.PendingAmount += pm.Amount
		}
	}
	b.Pending = capped(len(unpaid), dashboardPendingCap, count)
	return b, nil
}

// capped formats a count that was fetched with a limit of max+1.
func capped(n, max int, count func(int64) string) string {
	if n > max {
		return count(int64(max)) + "+"
	}
	return count(int64(n))
}

func init() {
	register(map[string][2]string{
		"dashboard_title":     {"ダッシュボード", "Dashboard"},
		"dashboard_range":     {"表示期間", "Period"},
		"dashboard_from":      {"開始日", "From"},
		"dashboard_to":        {"終了日", "To"},
		"dashboard_show":      {"表示", "Show"},
		"dashboard_last_days": {"直近%d日", "Last %d days"},
		"dashboard_range_note": {"日本時間の日付で、開始日・終了日を含みます（最長 366 日）。集計は決済の作成日ごと、現在の状態と金額によります。",
			"Japan-time days, both ends included (at most 366 days). Payments count on the day they were created, in their current state and amount."},
		"dashboard_bad_range": {"期間の指定が正しくありません（日付は YYYY-MM-DD、開始日は終了日以前、最長 366 日）。直近 30 日間を表示しています。",
			"The period is not valid (dates as YYYY-MM-DD, the start not after the end, at most 366 days). Showing the last 30 days."},
		"dashboard_count":  {"%s件", "%s"},
		"dashboard_amount": {"金額", "amount"},

		"dashboard_total_sales": {"売上合計", "Total sales"},
		"dashboard_total_sales_help": {"カードの与信・売上計上と、入金済みのオンライン収納（期間内）",
			"Card payments authorised or captured, and paid collections (in the period)"},
		"dashboard_sales_count":      {"売上件数", "Payments"},
		"dashboard_sales_count_help": {"売上合計に含まれる決済の件数", "Payments included in the total sales"},
		"dashboard_unknown":          {"要確認の決済", "Payments needing attention"},
		"dashboard_unknown_help": {"ゲートウェイの応答が得られず結果が不明な決済（現在）。e-SCOTT 管理画面で確認して解決してください。",
			"Payments whose gateway answer was lost (now). Check them in the e-SCOTT console and resolve them."},
		"dashboard_unknown_link": {"注文一覧で確認", "Review in the order list"},
		"dashboard_unpaid":       {"未入金の収納", "Unpaid collections"},
		"dashboard_unpaid_help":  {"支払いを待っているオンライン収納（現在、期間に関係なく）", "Collections waiting for the shopper's payment (now, whatever the period)"},
		"dashboard_unpaid_link":  {"注文一覧で確認", "Review in the order list"},

		"dashboard_chart_sales":       {"売上（日別・支払方法別）", "Sales by day and payment method"},
		"dashboard_note_sales":        {"カードは与信・売上計上、オンライン収納は入金済みの金額です。", "Card: authorised or captured amounts; collections: paid amounts."},
		"dashboard_series_card":       {"クレジットカード", "Card"},
		"dashboard_series_collection": {"オンライン収納", "Online collection"},
		"dashboard_chart_auth":        {"与信額と売上計上額", "Authorised and captured amounts"},
		"dashboard_note_auth":         {"カード決済の現在の状態：与信のまま（未計上）と売上計上済み。", "Card payments by current state: still authorised (not captured) and captured."},
		"dashboard_series_authorized": {"与信（未計上）", "Authorised (not captured)"},
		"dashboard_series_captured":   {"売上計上", "Captured"},
		"dashboard_chart_codes":       {"拒否コード（上位 10 件）", "Decline codes (top 10)"},
		"dashboard_note_codes":        {"期間内に失敗した決済のレスポンスコード。1 件の決済に複数のコードがあれば、それぞれ数えます。", "Response codes of payments that failed in the period; a payment with several codes counts for each."},
		"dashboard_no_code":           {"（コードなし：ゲートウェイに届かなかった等）", "(no code: e.g. the request never reached the gateway)"},
		"dashboard_chart_collections": {"収納（日別の件数）", "Collections by day (count)"},
		"dashboard_note_collections":  {"登録日ごとの件数を、現在の状態（入金済・未入金・期限切れ）で分けています。", "Collections by the day they were registered, split by current state (paid, unpaid, expired)."},
		"dashboard_series_paid":       {"入金済", "Paid"},
		"dashboard_series_pending":    {"未入金", "Unpaid"},
		"dashboard_series_expired":    {"期限切れ", "Expired"},
		"dashboard_no_data":           {"データがありません", "No data"},
		"dashboard_table":             {"数値を表で表示", "Show the numbers as a table"},
		"dashboard_table_note":        {"値のない日は省略しています。", "Days without values are left out."},
		"dashboard_date":              {"日付", "Date"},
		"dashboard_total":             {"合計", "Total"},
		"dashboard_code":              {"コード：内容", "Code: meaning"},
		"dashboard_count_col":         {"件数", "Count"},
	})
}
