package demoshop

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"
)

// jst is Japan's time zone, in which the shop shows every time. A fixed
// zone: Japan has no daylight saving time, and the binary needs no
// time zone database.
var jst = time.FixedZone("JST", 9*60*60)

// pageNames are the page templates; each is parsed with layout.html.
var pageNames = []string{"home", "product", "cart", "login", "checkout", "thanks", "account", "events", "message"}

// pageTemplate is one parsed page.
type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"yen": yen,
	"jst": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(jst).Format("2006/01/02 15:04:05")
	},
	"statusLabel": statusLabel,
	"statusClass": func(s string) string { return "st-" + s },
	"mul":         func(a, b int64) int64 { return a * b },
}

func parseTemplates() (map[string]*pageTemplate, error) {
	out := make(map[string]*pageTemplate, len(pageNames))
	for _, n := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/partials.html", "templates/"+n+".html")
		if err != nil {
			return nil, err
		}
		out[n] = &pageTemplate{t: t}
	}
	return out, nil
}

// yen formats an amount as "¥1,234".
func yen(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-¥" + string(b)
	}
	return "¥" + string(b)
}

// statusLabel is the Japanese label of an order status, as kessai's
// admin console and WooCommerce name them.
func statusLabel(s string) string {
	switch s {
	case "pending":
		return "支払い待ち"
	case "on-hold":
		return "保留中（入金待ち）"
	case "processing":
		return "処理中"
	case "completed":
		return "完了"
	case "failed":
		return "失敗"
	case "cancelled":
		return "キャンセル済み"
	}
	return s
}

// view is what every page template gets.
type view struct {
	Base      string
	Title     string
	Nav       string
	CSRF      string
	CartCount int64
	Customer  *customer
	Body      any
	// Refresh, when set, is a URL the page moves on to at once.
	Refresh string
}

// render writes page name with status. The page is rendered into a
// buffer first, so a template error becomes a clean 500 rather than half
// a page.
func (s *shop) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	pt := s.pages[name]
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.log.Error("demoshop: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show carts, names and orders: never cached by a browser or
	// a proxy, so the back button after logout shows nothing private.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// messageBody is the body of the message page (errors and notices).
type messageBody struct {
	Heading string
	Text    string
	// Link and LinkText offer the way on.
	Link     string
	LinkText string
}
