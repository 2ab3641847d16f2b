package bench

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kessai/kessai/internal/svgchart"
)

// Figure is one SVG file of the report.
type Figure struct {
	File  string
	Title string
	SVG   string
}

// Figure files. latency-<db>.svg exists per database.
const (
	figThroughput = "throughput.svg"
	figRenewals   = "renewals.svg"
	figTLS        = "tls.svg"
	figMemory     = "memory.svg"
	figStartup    = "startup.svg"
)

func latencyFigure(db string) string { return "latency-" + db + ".svg" }

// allFigureFiles are all the figure names a report can have.
func allFigureFiles() []string {
	return []string{latencyFigure(SQLite), latencyFigure(Postgres), figThroughput, figRenewals, figTLS, figMemory, figStartup}
}

// noData is what a chart says when its scenarios produced nothing.
const noData = "no data: see the errors in the report"

// svgchart takes int64 values. The charts plot microseconds (latencies),
// tenths of a unit per second (rates) and tenths of a MiB (memory), and
// format the axis and the tooltips back into the unit people read, so no
// figure is rounded to a misleading integer.
var (
	fmtMicrosAsMS = func(v int64) string {
		// Three significant digits at most: 0.25 ms, 12.3 ms, 340 ms.
		x := float64(v) / 1000
		switch {
		case x >= 100:
			x = math.Round(x)
		case x >= 10:
			x = math.Round(x*10) / 10
		default:
			x = math.Round(x*100) / 100
		}
		return strconv.FormatFloat(x, 'f', -1, 64) + " ms"
	}
	fmtMicros     = func(v int64) string { return svgchart.Comma(v) + " µs" }
	fmtTenthsRate = func(v int64) string { return strconv.FormatFloat(float64(v)/10, 'f', -1, 64) + "/s" }
	fmtTenthsMiB  = func(v int64) string { return strconv.FormatFloat(float64(v)/10, 'f', -1, 64) + " MiB" }
)

func micros(d time.Duration) int64 { return d.Microseconds() }
func tenths(f float64) int64 {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0
	}
	return int64(math.Round(f * 10))
}
func tenthsMiB(b uint64) int64 { return int64(math.Round(float64(b) / (1 << 20) * 10)) }

// figures draws the report's charts.
func (r *FullReport) figures() []Figure {
	var figs []Figure
	add := func(file, title string, svg template.HTML) {
		figs = append(figs, Figure{File: file, Title: title, SVG: standalone(string(svg))})
	}
	dbs := r.databases()

	// Added latency: per database, the two operations at both latencies.
	for _, db := range dbs {
		cats := []string{"card · 0 ms", "collection · 0 ms", "card · 150 ms", "collection · 150 ms"}
		var p50, p90, p99 []int64
		for _, lat := range []time.Duration{0, ReportSlowLatency} {
			for _, name := range []string{ScenarioCard, ScenarioCollection} {
				d, _, _ := latencyOf(r.find(name, db, lat))
				p50, p90, p99 = append(p50, micros(d.P50)), append(p90, micros(d.P90)), append(p99, micros(d.P99))
			}
		}
		title := "Added latency per call, " + dbName(db) + " (ms; gateway at 0 ms and 150 ms)"
		add(latencyFigure(db), title, svgchart.GroupedBars(title, cats, []svgchart.Series{
			{Name: "p50", Class: "p50", Values: p50}, {Name: "p90", Class: "p90", Values: p90}, {Name: "p99", Class: "p99", Values: p99},
		}, svgchart.Options{Format: fmtMicrosAsMS, Empty: noData}))
	}

	// Throughput: one group per kind of work, one bar per database.
	{
		cats := []string{"card checkouts", "collections", "notifications", "renewals"}
		var series []svgchart.Series
		for _, db := range dbs {
			v := []int64{
				tenths(cardRate(r.find(ScenarioCard, db, 0))),
				tenths(collectionRate(r.find(ScenarioCollection, db, 0))),
				tenths(notificationRate(r.find(ScenarioNotifications, db, 0))),
				tenths(renewalRate(r.find(ScenarioRenewals, db, DefaultRenewalLatency))),
			}
			series = append(series, svgchart.Series{Name: dbName(db), Class: db, Values: v})
		}
		title := "Throughput per second (gateway at 0 ms; renewals against a capped gateway)"
		add(figThroughput, title, svgchart.GroupedBars(title, cats, series, svgchart.Options{Format: fmtTenthsRate, Empty: noData}))
	}

	// Renewals against the cap.
	{
		var bars []svgchart.Bar
		var capRate float64
		for _, db := range dbs {
			sc := r.find(ScenarioRenewals, db, DefaultRenewalLatency)
			if sc != nil && sc.Renewal != nil {
				capRate = max(capRate, sc.Renewal.MaxPerSecond)
			}
			label := "achieved, " + dbName(db)
			if sc != nil && sc.Renewal != nil {
				label += " (" + strconv.FormatFloat(math.Round(1000*sc.Renewal.Fraction)/10, 'f', -1, 64) + " % of the cap)"
			}
			bars = append(bars, svgchart.Bar{Label: label, Value: tenths(renewalRate(sc))})
		}
		if capRate == 0 {
			capRate = float64(DefaultRenewalCap) / (2 * DefaultRenewalLatency.Seconds())
		}
		bars = append([]svgchart.Bar{{Label: "the cap allows", Value: tenths(capRate)}}, bars...)
		title := "Renewals per second against a gateway capped at " + strconv.Itoa(DefaultRenewalCap) + " calls of " +
			fmtLatency(DefaultRenewalLatency)
		add(figRenewals, title, svgchart.HorizontalBars(title, bars, svgchart.Options{Format: fmtTenthsRate, Empty: noData}))
	}

	// Pooled TLS against a handshake per call.
	{
		var pooled, handshake []int64
		if t := tlsOf(r); t != nil {
			pooled = []int64{micros(t.Pooled.P50), micros(t.Pooled.P90), micros(t.Pooled.P99)}
			handshake = []int64{micros(t.Handshake.P50), micros(t.Handshake.P90), micros(t.Handshake.P99)}
		}
		title := "One gateway call over TLS 1.2 (µs): pooled connection vs a new handshake per call"
		add(figTLS, title, svgchart.GroupedBars(title, []string{"p50", "p90", "p99"}, []svgchart.Series{
			{Name: "pooled (keep-alive)", Class: "pooled", Values: pooled},
			{Name: "new handshake per call", Class: "handshake", Values: handshake},
		}, svgchart.Options{Format: fmtMicros, Empty: noData}))
	}

	// Memory: the bench process per scenario, and kessai serve alone.
	{
		var bars []svgchart.Bar
		for _, sc := range r.Scenarios {
			if sc.PeakRSS > 0 && sc.Name != ScenarioStartup {
				bars = append(bars, svgchart.Bar{Label: "bench: " + sc.shortLabel(), Value: tenthsMiB(sc.PeakRSS)})
			}
		}
		if st := startupOf(r); st != nil {
			bars = append(bars, svgchart.Bar{Label: "kessai serve, when ready", Value: tenthsMiB(uint64(max(st.RSSReady, 0)))},
				svgchart.Bar{Label: "kessai serve, after idling", Value: tenthsMiB(uint64(max(st.RSSIdle, 0)))})
		}
		title := "Peak RSS (MiB): the bench process per scenario, and kessai serve alone"
		add(figMemory, title, svgchart.HorizontalBars(title, bars, svgchart.Options{Width: 860, Format: fmtTenthsMiB, Empty: noData}))
	}

	// Start-up and shutdown of kessai serve.
	{
		var bars []svgchart.Bar
		if st := startupOf(r); st != nil {
			bars = []svgchart.Bar{
				{Label: "first start (new data directory)", Value: micros(st.FirstStart)},
			}
			if st.Runs > 1 {
				bars = append(bars, svgchart.Bar{Label: "restart, p50", Value: micros(st.Restart.P50)},
					svgchart.Bar{Label: "restart, max", Value: micros(st.Restart.Max)})
			}
			bars = append(bars, svgchart.Bar{Label: "shutdown, p50", Value: micros(st.Shutdown.P50)},
				svgchart.Bar{Label: "shutdown, max", Value: micros(st.Shutdown.Max)})
		}
		title := "kessai serve: from exec until /readyz answers, and from SIGTERM until exit (ms)"
		add(figStartup, title, svgchart.HorizontalBars(title, bars, svgchart.Options{Format: fmtMicrosAsMS, Empty: noData}))
	}
	return figs
}

// standalone turns svgchart's inline <svg> into a file of its own: an XML
// declaration, the SVG namespace (without which a browser opening the file
// shows it as unknown XML) and an opaque background, since the charts'
// dark text would vanish on a dark page showing the image.
func standalone(svg string) string {
	end := strings.IndexByte(svg, '>')
	if end < 0 {
		return svg
	}
	open := svg[:end]
	if !strings.Contains(open, "xmlns=") {
		open = strings.Replace(open, "<svg", `<svg xmlns="http://www.w3.org/2000/svg"`, 1)
	}
	// An image with only a viewBox has no size of its own, and some
	// viewers then draw it at a default 300 × 150; the viewBox's size is
	// the one the chart's text was laid out for.
	if !strings.Contains(open, " width=") {
		if _, vb, ok := strings.Cut(open, `viewBox="`); ok {
			if f := strings.Fields(strings.SplitN(vb, `"`, 2)[0]); len(f) == 4 {
				open += ` width="` + f[2] + `" height="` + f[3] + `"`
			}
		}
	}
	rest := svg[end:] // from the opening tag's '>'
	bg := `<rect width="100%" height="100%" fill="#ffffff"/>`
	// After the <title>, which must stay the first child to name the image.
	if i := strings.Index(rest, "</title>"); i >= 0 {
		i += len("</title>")
		rest = rest[:i] + bg + rest[i:]
	} else {
		rest = ">" + bg + rest[1:]
	}
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + open + rest + "\n"
}

// The accessors below are the only places that read the raw reports'
// figures for the summary, so that a change in a report's fields touches
// one function.

// latencyOf returns a card or collection scenario's added, total and
// gateway distributions (zero when there is no report).
func latencyOf(sc *Scenario) (added, total, gateway Dist) {
	switch {
	case sc == nil:
	case sc.Card != nil:
		return sc.Card.Added, sc.Card.Total, sc.Card.Gateway
	case sc.Collection != nil:
		return sc.Collection.Added, sc.Collection.Total, sc.Collection.Gateway
	}
	return
}

func cardRate(sc *Scenario) float64 {
	if sc == nil || sc.Card == nil {
		return 0
	}
	return sc.Card.PerSecond
}

func collectionRate(sc *Scenario) float64 {
	if sc == nil || sc.Collection == nil {
		return 0
	}
	return sc.Collection.PerSecond
}

func notificationRate(sc *Scenario) float64 {
	if sc == nil || sc.Notification == nil {
		return 0
	}
	return sc.Notification.PerSecond
}

func renewalRate(sc *Scenario) float64 {
	if sc == nil || sc.Renewal == nil {
		return 0
	}
	return sc.Renewal.PerSecond
}

func tlsOf(r *FullReport) *TLSReport {
	if sc := r.find(ScenarioTLS, "", 0); sc != nil {
		return sc.TLS
	}
	return nil
}

func startupOf(r *FullReport) *StartupReport {
	if sc := r.find(ScenarioStartup, "", 0); sc != nil {
		return sc.Startup
	}
	return nil
}
