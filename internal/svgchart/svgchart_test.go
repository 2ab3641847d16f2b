package svgchart

import (
	"encoding/xml"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestTicks(t *testing.T) {
	cases := []struct {
		max    int64
		target int
		want   []int64
	}{
		{0, 5, []int64{0}},
		{-5, 5, []int64{0}},
		{1, 5, []int64{0, 1}},
		{3, 5, []int64{0, 1, 2, 3}},
		{7, 5, []int64{0, 2, 4, 6, 8}},
		{10, 5, []int64{0, 2, 4, 6, 8, 10}},
		{11, 5, []int64{0, 5, 10, 15}},
		{1000, 5, []int64{0, 200, 400, 600, 800, 1000}},
		{1234, 5, []int64{0, 500, 1000, 1500}},
		{99999, 5, []int64{0, 20000, 40000, 60000, 80000, 100000}},
		{4500000, 4, []int64{0, 2000000, 4000000, 6000000}},
		{25, 0, []int64{0, 5, 10, 15, 20, 25}}, // target < 1 means 5
	}
	for _, c := range cases {
		got := Ticks(c.max, c.target)
		if !slices.Equal(got, c.want) {
			t.Errorf("Ticks(%d, %d) = %v, want %v", c.max, c.target, got, c.want)
		}
	}
	// Every step is 1, 2 or 5 × 10^n and the last tick covers max.
	for _, max := range []int64{1, 9, 17, 333, 4096, 123456789, math.MaxInt64 / 3, math.MaxInt64} {
		ts := Ticks(max, 5)
		if ts[len(ts)-1] < max || len(ts) > 7 || ts[0] != 0 {
			t.Errorf("Ticks(%d) = %v", max, ts)
		}
		if max < math.MaxInt64/10 {
			step := ts[1]
			for step%10 == 0 {
				step /= 10
			}
			if step != 1 && step != 2 && step != 5 {
				t.Errorf("Ticks(%d): step %d is not nice", max, ts[1])
			}
		}
	}
}

func TestComma(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Comma(n); got != want {
			t.Errorf("Comma(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Yen(12345); got != "12,345円" {
		t.Errorf("Yen = %q", got)
	}
	if got := YenEn(-12345); got != "-¥12,345" {
		t.Errorf("YenEn = %q", got)
	}
}

// elem is a parsed SVG element: its name, attributes and the text of
// its <title> child, if any.
type elem struct {
	Name  string
	Attr  map[string]string
	Title string
	Text  string
}

// parse checks that the chart is well-formed XML and returns its elements
// in document order.
func parse(t *testing.T, h template.HTML) []*elem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(h)))
	var out, stack []*elem
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed: %v\n%s", err, h)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &elem{Name: tk.Name.Local, Attr: map[string]string{}}
			for _, a := range tk.Attr {
				e.Attr[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			top.Text += string(tk)
			if top.Name == "title" && len(stack) > 1 {
				stack[len(stack)-2].Title += string(tk)
			}
		}
	}
	if len(out) == 0 || out[0].Name != "svg" {
		t.Fatalf("not an svg:\n%s", h)
	}
	return out
}

func byClass(es []*elem, name, class string) []*elem {
	var out []*elem
	for _, e := range es {
		if e.Name == name && slices.Contains(strings.Fields(e.Attr["class"]), class) {
			out = append(out, e)
		}
	}
	return out
}

func attrF(t *testing.T, e *elem, a string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(e.Attr[a], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", e.Name, a, e.Attr[a], err)
	}
	return f
}

// With the default geometry the plot is 200 units high, its baseline at
// y = 28 + 200: heights are value / top tick × 200 exactly.
func TestStackedBarsExactHeights(t *testing.T) {
	h := StackedBars("売上", []string{"4/1", "4/2"}, []Series{
		{Name: "カード", Class: "card", Values: []int64{300, 500}},
		{Name: "収納", Class: "cvs", Values: []int64{200}}, // missing value = 0
	}, Options{})
	es := parse(t, h)
	// The tallest stack is 500: ticks 0, 100, …, 500.
	var ticks []string
	for _, e := range byClass(es, "text", "tick") {
		ticks = append(ticks, e.Text)
	}
	if want := []string{"0", "100", "200", "300", "400", "500"}; !slices.Equal(ticks, want) {
		t.Errorf("ticks %v, want %v", ticks, want)
	}
	card, cvs := byClass(es, "rect", "card"), byClass(es, "rect", "cvs")
	// One legend key and one bar per non-zero value.
	if len(card) != 3 || len(cvs) != 2 {
		t.Fatalf("card rects %d, cvs rects %d\n%s", len(card), len(cvs), h)
	}
	const base = 228.0
	type want struct{ y, h float64 }
	for i, c := range []struct {
		e    *elem
		want want
	}{
		{card[1], want{base - 120, 120}}, // 300 of 500 on 200 units
		{card[2], want{base - 200, 200}}, // 500: full height
		{cvs[1], want{base - 200, 80}},   // 200 stacked on 300
	} {
		if y, ht := attrF(t, c.e, "y"), attrF(t, c.e, "height"); y != c.want.y || ht != c.want.h {
			t.Errorf("bar %d: y %v height %v, want %v %v", i, y, ht, c.want.y, c.want.h)
		}
	}
	if card[1].Title != "4/1 カード: 300" || cvs[1].Title != "4/1 収納: 200" {
		t.Errorf("bar titles %q, %q", card[1].Title, cvs[1].Title)
	}
	// Stacked bars of one category share x and width.
	if card[1].Attr["x"] != cvs[1].Attr["x"] || card[1].Attr["width"] != cvs[1].Attr["width"] {
		t.Errorf("stack not aligned: %v / %v", card[1].Attr, cvs[1].Attr)
	}
	if es[0].Attr["role"] != "img" || es[0].Attr["aria-label"] != "売上" || es[1].Name != "title" || es[1].Text != "売上" {
		t.Errorf("accessible name missing: %v %v", es[0].Attr, es[1])
	}
}

func TestGroupedBars(t *testing.T) {
	h := GroupedBars("与信と売上", []string{"a"}, []Series{
		{Name: "与信", Class: "auth", Values: []int64{1000}},
		{Name: "売上", Class: "captured", Values: []int64{400}},
	}, Options{Format: Yen})
	es := parse(t, h)
	a, c := byClass(es, "rect", "auth"), byClass(es, "rect", "captured")
	if len(a) != 2 || len(c) != 2 {
		t.Fatalf("rects %d %d\n%s", len(a), len(c), h)
	}
	// Side by side, each measured from the baseline on its own.
	if attrF(t, a[1], "height") != 200 || attrF(t, c[1], "height") != 80 || attrF(t, c[1], "y") != 228-80 {
		t.Errorf("heights %v %v", a[1].Attr, c[1].Attr)
	}
	if attrF(t, c[1], "x") != attrF(t, a[1], "x")+attrF(t, a[1], "width") {
		t.Errorf("bars not adjacent: %v %v", a[1].Attr, c[1].Attr)
	}
	if ticks := byClass(es, "text", "tick"); ticks[len(ticks)-1].Text != "1,000円" {
		t.Errorf("top tick %q", ticks[len(ticks)-1].Text)
	}
}

func TestSingleCategory(t *testing.T) {
	h := StackedBars("one day", []string{"2026-04-01"}, []Series{{Name: "x", Class: "x", Values: []int64{5}}}, Options{})
	es := parse(t, h)
	bars := byClass(es, "rect", "x")
	if len(bars) != 1 { // a single series has no legend
		t.Fatalf("%d rects\n%s", len(bars), h)
	}
	if w := attrF(t, bars[0], "width"); w != maxBarWidth {
		t.Errorf("single bar width %v, want %v", w, float64(maxBarWidth))
	}
	// Centred in the plot.
	left, right := 40.0, float64(defaultWidth-marginRight)
	if x := attrF(t, bars[0], "x"); math.Abs(x+maxBarWidth/2-(left+right)/2) > 0.01 {
		t.Errorf("bar at x=%v not centred", x)
	}
	if cats := byClass(es, "text", "category"); len(cats) != 1 || cats[0].Text != "2026-04-01" {
		t.Errorf("category labels %v", cats)
	}
}

func TestManyCategoriesThinLabels(t *testing.T) {
	cats := make([]string, 366)
	vals := make([]int64, 366)
	for i := range cats {
		cats[i] = strconv.Itoa(i)
		vals[i] = int64(i)
	}
	es := parse(t, StackedBars("year", cats, []Series{{Name: "v", Values: vals}}, Options{}))
	if n := len(byClass(es, "rect", "bar")); n != 365 { // day 0 is zero: no bar
		t.Errorf("%d bars", n)
	}
	if n := len(byClass(es, "text", "category")); n == 0 || n > 40 {
		t.Errorf("%d category labels: they overlap", n)
	}
}

func TestEmpty(t *testing.T) {
	for name, h := range map[string]template.HTML{
		"no categories": StackedBars("売上", nil, nil, Options{}),
		"all zero":      GroupedBars("売上", []string{"a", "b"}, []Series{{Name: "s", Values: []int64{0, -3}}}, Options{}),
		"no rows":       HorizontalBars("売上", nil, Options{}),
		"zero rows":     HorizontalBars("売上", []Bar{{Label: "K01", Value: 0}}, Options{}),
	} {
		es := parse(t, h)
		msgs := byClass(es, "text", "empty")
		if len(msgs) != 1 || msgs[0].Text != "データがありません" {
			t.Errorf("%s: no empty message\n%s", name, h)
		}
		if es[0].Attr["aria-label"] != "売上" || len(byClass(es, "rect", "bar")) != 0 {
			t.Errorf("%s: %v", name, h)
		}
	}
	es := parse(t, StackedBars("Sales", nil, nil, Options{Empty: "No data"}))
	if byClass(es, "text", "empty")[0].Text != "No data" {
		t.Error("custom empty text not used")
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	evil := `</title><script>alert(1)</script>"'&`
	charts := map[string]template.HTML{
		"stacked": StackedBars(evil, []string{evil, "b"}, []Series{
			{Name: evil, Class: `x" onload="alert(1)`, Values: []int64{1, 2}},
			{Name: "ok", Class: "ok", Values: []int64{3, 4}},
		}, Options{Format: func(n int64) string { return "<b>" + Comma(n) }}),
		"grouped":    GroupedBars(evil, []string{evil}, []Series{{Name: evil, Values: []int64{9}}}, Options{}),
		"horizontal": HorizontalBars(evil, []Bar{{Label: evil, Value: 3}, {Label: "G12 \x00\x1b", Value: 1}}, Options{}),
		"empty":      StackedBars(evil, nil, nil, Options{Empty: evil}),
	}
	for name, h := range charts {
		s := string(h)
		for _, bad := range []string{"<script", "</title><script", "onload=", "<b>", "\x00", "\x1b"} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: output contains %q:\n%s", name, bad, s)
			}
		}
		if !strings.Contains(s, "&lt;script&gt;") {
			t.Errorf("%s: hostile text missing (escaped):\n%s", name, s)
		}
		es := parse(t, h) // well-formed: nothing broke out of its element
		if es[0].Attr["aria-label"] != evil {
			t.Errorf("%s: aria-label %q", name, es[0].Attr["aria-label"])
		}
	}
	// A class outside the safe alphabet is dropped, the bar stays.
	es := parse(t, charts["stacked"])
	if n := len(byClass(es, "rect", "bar")); n != 4 {
		t.Errorf("%d bars", n)
	}
}

func TestHorizontalBars(t *testing.T) {
	long := strings.Repeat("カードの有効期限が正しくありません", 4)
	h := HorizontalBars("拒否コード", []Bar{{Label: "G12 : " + long, Value: 8}, {Label: "K01", Value: 2}}, Options{Format: func(n int64) string { return Comma(n) + "件" }})
	es := parse(t, h)
	bars := byClass(es, "rect", "bar")
	if len(bars) != 2 {
		t.Fatalf("%d bars\n%s", len(bars), h)
	}
	// Ticks for 8 in 4 steps: 0, 2, …, 8, so 8 fills the plot and 2 a quarter.
	if w0, w1 := attrF(t, bars[0], "width"), attrF(t, bars[1], "width"); math.Abs(w0-4*w1) > 0.02 {
		t.Errorf("widths %v, %v", w0, w1)
	}
	labels := byClass(es, "text", "label")
	if !strings.HasPrefix(labels[0].Text, "G12 : カード") || !strings.HasSuffix(labels[0].Text, "…") || labels[1].Text != "K01" {
		t.Errorf("labels %q %q", labels[0].Text, labels[1].Text)
	}
	if bars[0].Title != "G12 : "+long+": 8件" {
		t.Errorf("title %q", bars[0].Title)
	}
	if vals := byClass(es, "text", "value"); vals[0].Text != "8件" || vals[1].Text != "2件" {
		t.Errorf("values %v %v", vals[0].Text, vals[1].Text)
	}
}

func TestNoInlineStyle(t *testing.T) {
	h := StackedBars("t", []string{"a"}, []Series{{Name: "s", Values: []int64{1}}, {Name: "u", Values: []int64{1}}}, Options{})
	if strings.Contains(string(h), "style") {
		t.Errorf("inline style in chart: %s", h)
	}
}
