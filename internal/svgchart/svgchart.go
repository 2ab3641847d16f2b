// Package svgchart draws small bar charts as inline SVG, for pages that are
// rendered on the server and may run no third-party script (the admin
// console's dashboard).
//
// Every chart is a self-contained <svg> element with a viewBox (so it
// scales to its container), role="img", an aria-label and a <title>
// naming it, and a <title> on every bar for pointer users. Colours are
// SVG presentation attributes, so a chart looks right without a style
// sheet, and every bar also carries its series' CSS class, so a page's
// style sheet can restyle it (CSS wins over presentation attributes).
// Nothing uses style="": the console's Content-Security-Policy forbids
// inline styles.
//
// All text that reaches the output — titles, category labels, series
// names, formatted numbers — is escaped, so labels taken from data cannot
// inject markup; CSS classes are reduced to a safe alphabet.
//
// Values are int64 (yen amounts, counts). Negative values are drawn as 0:
// the charts show sizes, not balances.
package svgchart

import (
	"github.com/kessai/kessai/internal/yen"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Series is one coloured set of bars: one value per category.
type Series struct {
	Name string
	// Class is added to the series' bars and legend key (letters, digits,
	// '-' and '_'; anything else is dropped).
	Class string
	// Values has one value per category; missing ones count as 0.
	Values []int64
}

// Bar is one row of a horizontal bar chart.
type Bar struct {
	Label string
	Value int64
}

// Options adjust a chart; the zero value is fine.
type Options struct {
	// Width is the viewBox width (default 720); the chart scales to its
	// container anyway, this sets the proportions and the text size.
	Width int
	// Height is the viewBox height of a vertical chart (default 260).
	Height int
	// Format renders values on the axis and in bar titles (default:
	// digits grouped by thousands, Comma).
	Format func(int64) string
	// Empty is the text shown when there is nothing to draw (default
	// "データがありません").
	Empty string
}

// Default geometry. A vertical chart's plot area is the viewBox less the
// margins: with the defaults, 200 units high.
const (
	defaultWidth  = 720
	defaultHeight = 260
	marginTop     = 28 // the legend row
	marginBottom  = 32 // the category labels
	marginRight   = 12
	fontSize      = 11
	maxBarWidth   = 48 // a single day is a bar, not a wall
	rowHeight     = 26 // horizontal bars
	labelFont     = 12
	// DefaultEmpty is shown for a chart without data.
	DefaultEmpty = "データがありません"
)

// palette colours series in order when the page's style sheet does not.
var palette = []string{"#1554b0", "#e08a00", "#1b7a3d", "#b3261e", "#6b7280", "#7b3fb0"}

func (o Options) withDefaults() Options {
	if o.Width <= 0 {
		o.Width = defaultWidth
	}
	if o.Height <= 0 {
		o.Height = defaultHeight
	}
	if o.Format == nil {
		o.Format = Comma
	}
	if o.Empty == "" {
		o.Empty = DefaultEmpty
	}
	return o
}

// StackedBars draws one bar per category with the series stacked on top of
// each other, first series at the bottom.
func StackedBars(title string, categories []string, series []Series, o Options) template.HTML {
	return vertical(title, categories, series, o, true)
}

// GroupedBars draws, per category, the series' bars side by side.
func GroupedBars(title string, categories []string, series []Series, o Options) template.HTML {
	return vertical(title, categories, series, o, false)
}

// value is series s's value at category i, never negative.
func value(s Series, i int) int64 {
	if i >= len(s.Values) || s.Values[i] < 0 {
		return 0
	}
	return s.Values[i]
}

func vertical(title string, categories []string, series []Series, o Options, stacked bool) template.HTML {
	o = o.withDefaults()
	// The scale's maximum: the tallest stack, or the tallest single bar.
	var max int64
	for i := range categories {
		var sum int64
		for _, s := range series {
			v := value(s, i)
			if stacked {
				sum = addSat(sum, v)
			} else if v > sum {
				sum = v
			}
		}
		if sum > max {
			max = sum
		}
	}
	if max == 0 {
		return empty(title, o)
	}
	ticks := Ticks(max, 5)
	top := ticks[len(ticks)-1]

	// The left margin fits the widest axis label.
	left := 40.0
	for _, t := range ticks {
		if w := textWidth(o.Format(t), fontSize) + 10; w > left {
			left = w
		}
	}
	plotW := float64(o.Width) - left - marginRight
	plotH := float64(o.Height - marginTop - marginBottom)
	if plotW < 10 || plotH < 10 {
		return empty(title, o)
	}
	y := func(v int64) float64 { return marginTop + plotH - scale(v, top, plotH) }

	var b strings.Builder
	open(&b, title, o.Width, o.Height)
	legend(&b, series, left)

	// Grid lines and the value axis.
	for _, t := range ticks {
		ty := y(t)
		b.WriteString(`<line class="grid" x1="` + num(left) + `" x2="` + num(left+plotW) + `" y1="` + num(ty) + `" y2="` + num(ty) +
			`" stroke="#e3e6eb" stroke-width="1"/>`)
		b.WriteString(`<text class="tick" x="` + num(left-6) + `" y="` + num(ty+4) + `" text-anchor="end" font-size="` +
			strconv.Itoa(fontSize) + `" fill="#5b6475">` + esc(o.Format(t)) + `</text>`)
	}

	n := len(categories)
	band := plotW / float64(n)
	// Category labels: as many as fit without overlapping, evenly spaced;
	// the data table under the chart has every one.
	widest := 0.0
	for _, c := range categories {
		widest = math.Max(widest, textWidth(c, fontSize))
	}
	every := 1
	if slot := widest + 8; band < slot {
		every = int(math.Ceil(slot / band))
	}
	for i, c := range categories {
		if i%every != 0 {
			continue
		}
		cx := left + band*(float64(i)+0.5)
		b.WriteString(`<text class="category" x="` + num(cx) + `" y="` + num(marginTop+plotH+16) + `" text-anchor="middle" font-size="` +
			strconv.Itoa(fontSize) + `" fill="#5b6475">` + esc(c) + `</text>`)
	}

	b.WriteString(`<g class="bars">`)
	for i, c := range categories {
		x0 := left + band*float64(i)
		if stacked {
			w := math.Min(band*0.7, maxBarWidth)
			x := x0 + (band-w)/2
			var base int64
			for si, s := range series {
				v := value(s, i)
				if v == 0 {
					continue
				}
				next := addSat(base, v)
				bar(&b, s, si, x, y(next), w, y(base)-y(next), c, v, o)
				base = next
			}
			continue
		}
		k := len(series)
		if k == 0 {
			continue
		}
		gw := math.Min(band*0.8, maxBarWidth*float64(k)*0.6)
		w := gw / float64(k)
		x := x0 + (band-gw)/2
		for si, s := range series {
			if v := value(s, i); v > 0 {
				bar(&b, s, si, x+w*float64(si), y(v), w, scale(v, top, plotH), c, v, o)
			}
		}
	}
	b.WriteString(`</g>`)
	// The baseline over the bars' feet.
	b.WriteString(`<line class="axis" x1="` + num(left) + `" x2="` + num(left+plotW) + `" y1="` + num(marginTop+plotH) + `" y2="` +
		num(marginTop+plotH) + `" stroke="#5b6475" stroke-width="1"/>`)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above went through esc
}

// HorizontalBars draws one labelled bar per row, in the given order (the
// longest labels are shortened with "…"; the bar's title has them whole).
func HorizontalBars(title string, bars []Bar, o Options) template.HTML {
	o = o.withDefaults()
	var max int64
	for _, r := range bars {
		if r.Value > max {
			max = r.Value
		}
	}
	if max == 0 {
		return empty(title, o)
	}
	ticks := Ticks(max, 4)
	top := ticks[len(ticks)-1]
	labelW := math.Round(float64(o.Width) * 0.45)
	valueW := 0.0
	for _, r := range bars {
		valueW = math.Max(valueW, textWidth(o.Format(r.Value), fontSize))
	}
	valueW += 12
	plotW := float64(o.Width) - labelW - valueW - marginRight
	if plotW < 10 {
		return empty(title, o)
	}
	const mt = 8.0
	height := int(mt) + len(bars)*rowHeight + 24
	var b strings.Builder
	open(&b, title, o.Width, height)
	bottom := mt + float64(len(bars)*rowHeight)
	for _, t := range ticks {
		tx := labelW + scale(t, top, plotW)
		b.WriteString(`<line class="grid" x1="` + num(tx) + `" x2="` + num(tx) + `" y1="` + num(mt) + `" y2="` + num(bottom) +
			`" stroke="#e3e6eb" stroke-width="1"/>`)
		b.WriteString(`<text class="tick" x="` + num(tx) + `" y="` + num(bottom+16) + `" text-anchor="middle" font-size="` +
			strconv.Itoa(fontSize) + `" fill="#5b6475">` + esc(o.Format(t)) + `</text>`)
	}
	b.WriteString(`<g class="bars">`)
	for i, r := range bars {
		ry := mt + float64(i*rowHeight)
		b.WriteString(`<text class="label" x="` + num(labelW-8) + `" y="` + num(ry+rowHeight/2+4) + `" text-anchor="end" font-size="` +
			strconv.Itoa(labelFont) + `" fill="#1d2330">` + esc(fit(r.Label, labelW-12, labelFont)) + `</text>`)
		v := max0(r.Value)
		w := scale(v, top, plotW)
		if v > 0 {
			b.WriteString(`<rect class="bar" x="` + num(labelW) + `" y="` + num(ry+4) + `" width="` + num(w) + `" height="` +
				num(rowHeight-8) + `" fill="` + palette[0] + `"><title>` + esc(r.Label+": "+o.Format(v)) + `</title></rect>`)
		}
		b.WriteString(`<text class="value" x="` + num(labelW+w+6) + `" y="` + num(ry+rowHeight/2+4) + `" font-size="` +
			strconv.Itoa(fontSize) + `" fill="#1d2330">` + esc(o.Format(v)) + `</text>`)
	}
	b.WriteString(`</g>`)
	b.WriteString(`<line class="axis" x1="` + num(labelW) + `" x2="` + num(labelW) + `" y1="` + num(mt) + `" y2="` + num(bottom) +
		`" stroke="#5b6475" stroke-width="1"/>`)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above went through esc
}

// open starts the svg element with its accessible name.
func open(b *strings.Builder, title string, w, h int) {
	t := esc(title)
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ` + strconv.Itoa(w) + ` ` + strconv.Itoa(h) +
		`" role="img" aria-label="` + t + `" font-family="sans-serif"><title>` + t + `</title>`)
}

// empty is the chart without data: its name and the message.
func empty(title string, o Options) template.HTML {
	const h = 80
	var b strings.Builder
	open(&b, title, o.Width, h)
	b.WriteString(`<text class="empty" x="` + strconv.Itoa(o.Width/2) + `" y="` + strconv.Itoa(h/2+5) +
		`" text-anchor="middle" font-size="14" fill="#5b6475">` + esc(o.Empty) + `</text></svg>`)
	return template.HTML(b.String()) //nolint:gosec // escaped
}

// legend draws the series' keys in a row above the plot.
func legend(b *strings.Builder, series []Series, left float64) {
	if len(series) < 2 {
		return
	}
	x := left
	for i, s := range series {
		b.WriteString(`<rect class="key` + classSuffix(s.Class) + `" x="` + num(x) + `" y="8" width="10" height="10" fill="` +
			palette[i%len(palette)] + `"/>`)
		b.WriteString(`<text class="key-label" x="` + num(x+14) + `" y="17" font-size="` + strconv.Itoa(fontSize) +
			`" fill="#1d2330">` + esc(s.Name) + `</text>`)
		x += 14 + textWidth(s.Name, fontSize) + 16
	}
}

// bar writes one rectangle with its tooltip.
func bar(b *strings.Builder, s Series, idx int, x, y, w, h float64, category string, v int64, o Options) {
	b.WriteString(`<rect class="bar` + classSuffix(s.Class) + `" x="` + num(x) + `" y="` + num(y) + `" width="` + num(w) +
		`" height="` + num(h) + `" fill="` + palette[idx%len(palette)] + `"><title>` +
		esc(category+" "+s.Name+": "+o.Format(v)) + `</title></rect>`)
}

// classSuffix is " class" for a safe class name, "" otherwise.
func classSuffix(c string) string {
	if c == "" || len(c) > 40 {
		return ""
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return " " + c
}

// scale maps v in [0, top] onto [0, length].
func scale(v, top int64, length float64) float64 {
	if top <= 0 || v <= 0 {
		return 0
	}
	return float64(v) / float64(top) * length
}

func max0(v int64) int64 {
	if v < 0 {
		return 0
	}
	return v
}

// addSat adds without overflowing (saturating at MaxInt64).
func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// num formats a coordinate with at most two decimals.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64)
}

// esc makes text safe inside an SVG element or a quoted attribute, in
// HTML and in XML alike: control characters and invalid UTF-8 (which XML
// forbids) become spaces and '?', markup characters entities.
func esc(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return template.HTMLEscapeString(s)
}

// textWidth estimates the width of s at size: a full-width (CJK) character
// is about one em, others about 0.6 em. Good enough to place labels.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		if wide(r) {
			w += size
		} else {
			w += size * 0.6
		}
	}
	return w
}

func wide(r rune) bool {
	return r >= 0x1100 && (unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6)
}

// fit shortens s with "…" so that it is at most width wide.
func fit(s string, width, size float64) string {
	if textWidth(s, size) <= width {
		return s
	}
	ell := textWidth("…", size)
	var b strings.Builder
	w := 0.0
	for _, r := range s {
		rw := textWidth(string(r), size)
		if w+rw+ell > width {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	return b.String() + "…"
}

// Ticks returns the value axis for data up to max: 0 and multiples of a
// "nice" step (1, 2 or 5 × 10^n) up to the first multiple at or above
// max, with about target intervals (never more than target). A max of
// 0 or less gives just [0].
func Ticks(max int64, target int) []int64 {
	if max <= 0 {
		return []int64{0}
	}
	if target < 1 {
		target = 5
	}
	step := niceStep(max, int64(target))
	n := max / step
	if n*step < max {
		n++
	}
	out := make([]int64, 0, n+1)
	for i := int64(0); i <= n; i++ {
		out = append(out, i*step)
	}
	return out
}

// niceStep is the smallest 1/2/5 × 10^n step that covers max in at most
// target steps (integers only: counts and yen have no fractions).
func niceStep(max, target int64) int64 {
	for mag := int64(1); ; mag *= 10 {
		for _, m := range [...]int64{1, 2, 5} {
			step := m * mag
			// step*target >= max, written so it cannot overflow.
			if step >= max/target+boolInt(max%target != 0) {
				return step
			}
		}
		if mag > math.MaxInt64/100 {
			return max // no rounder step fits in int64
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Comma formats n with thousands separators: 1234567 → "1,234,567".
func Comma(n int64) string {
	return yen.Group(n)
}

// Yen formats an amount for Japanese pages: 1234 → "1,234円".
func Yen(n int64) string { return Comma(n) + "円" }

// YenEn formats an amount for English pages: 1234 → "¥1,234".
func YenEn(n int64) string {
	if n < 0 {
		return "-¥" + Comma(-n)
	}
	return "¥" + Comma(n)
}
