package demoshop

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxForm bounds a form body: the largest form, checkout, is a few
// hundred bytes.
const maxForm = 64 << 10

// visit reads the session and the cart, and saves a new session at once
// so that the CSRF token on the page being rendered stays valid.
func (s *shop) visit(w http.ResponseWriter, r *http.Request) (*session, *cart) {
	sess, fresh := s.cookies.session(r)
	if fresh {
		s.cookies.saveSession(w, sess)
	}
	return sess, s.cookies.cart(r)
}

// view starts the data of a page.
func (s *shop) view(sess *session, ct *cart, title, nav string) *view {
	v := &view{Base: s.base, Title: title, Nav: nav, CSRF: s.cookies.csrfToken(sess), CartCount: ct.count()}
	if sess.Customer != "" {
		v.Customer, _ = customerByID(sess.Customer)
	}
	return v
}

// post reads a form POST and checks its CSRF token. On failure it has
// answered and returns false.
func (s *shop) post(w http.ResponseWriter, r *http.Request) (*session, *cart, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.message(w, r, http.StatusBadRequest, "送信内容を読み取れませんでした", "もう一度お試しください。", "/", "トップページへ")
		return nil, nil, false
	}
	sess, fresh := s.cookies.session(r)
	if fresh || !s.cookies.checkCSRF(r, sess) {
		// No session, or a token of another session: a form of another
		// site, or a page left open across a login, logout or expiry.
		// (The message page saves a new session for the next try.)
		s.message(w, r, http.StatusForbidden, "ページの有効期限が切れました",
			"お手数ですが、もう一度ページを開いてからお試しください。", "/", "トップページへ")
		return nil, nil, false
	}
	return sess, s.cookies.cart(r), true
}

// message renders the message page.
func (s *shop) message(w http.ResponseWriter, r *http.Request, status int, heading, text, link, linkText string) {
	sess, fresh := s.cookies.session(r)
	if fresh {
		s.cookies.saveSession(w, sess)
	}
	v := s.view(sess, s.cookies.cart(r), heading, "")
	v.Body = &messageBody{Heading: heading, Text: text, Link: s.path(link), LinkText: linkText}
	s.render(w, r, status, "message", v)
}

// redirect answers 303 to a path of the shop.
func (s *shop) redirect(w http.ResponseWriter, r *http.Request, p string) {
	http.Redirect(w, r, s.path(p), http.StatusSeeOther)
}

func (s *shop) notFound(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusNotFound, "ページが見つかりません", "お探しのページは移動または削除された可能性があります。", "/", "商品一覧へ")
}

// homeBody lists the catalog, physical goods and virtual ones apart.
type homeBody struct {
	Physical []product
	Virtual  []product
}

func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	v := s.view(sess, ct, "商品一覧", "home")
	var b homeBody
	for _, p := range catalog {
		if p.Virtual {
			b.Virtual = append(b.Virtual, p)
		} else {
			b.Physical = append(b.Physical, p)
		}
	}
	v.Body = &b
	s.render(w, r, http.StatusOK, "home", v)
}

// productBody is the product page.
type productBody struct {
	Product *product
	// Quantities are the choices of the quantity select.
	Quantities []int
	// Tax is the consumption tax contained in the price.
	Tax int64
}

func (s *shop) productPage(w http.ResponseWriter, r *http.Request) {
	p, ok := productByID(r.PathValue("id"))
	if !ok {
		s.notFound(w, r)
		return
	}
	sess, ct := s.visit(w, r)
	v := s.view(sess, ct, p.Name, "home")
	qs := make([]int, 10)
	for i := range qs {
		qs[i] = i + 1
	}
	v.Body = &productBody{Product: p, Quantities: qs, Tax: includedTax(p.Price, p.TaxRate)}
	s.render(w, r, http.StatusOK, "product", v)
}

func (s *shop) cartPage(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	v := s.view(sess, ct, "カート", "cart")
	v.Body = priceCart(ct)
	s.render(w, r, http.StatusOK, "cart", v)
}

// quantity parses a quantity field: 1 … maxQuantity, or 0 with ok false.
func quantity(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > maxQuantity {
		return 0, false
	}
	return n, true
}

func (s *shop) cartAdd(w http.ResponseWriter, r *http.Request) {
	_, ct, ok := s.post(w, r)
	if !ok {
		return
	}
	p, found := productByID(r.PostFormValue("product"))
	qty, valid := quantity(r.PostFormValue("quantity"))
	if !found || !valid || qty == 0 {
		s.message(w, r, http.StatusBadRequest, "カートに追加できませんでした", "商品と数量をご確認ください。", "/", "商品一覧へ")
		return
	}
	ct.add(p.ID, qty)
	s.cookies.saveCart(w, ct)
	s.redirect(w, r, pathCart)
}

// cartUpdate changes quantities (fields "qty-<product id>") and removes
// the line named by "remove"; "checkout" goes on to the checkout.
func (s *shop) cartUpdate(w http.ResponseWriter, r *http.Request) {
	_, ct, ok := s.post(w, r)
	if !ok {
		return
	}
	for _, l := range append([]cartLine(nil), ct.Lines...) {
		if q, valid := quantity(r.PostFormValue("qty-" + l.ProductID)); valid {
			ct.set(l.ProductID, q)
		}
	}
	if id := r.PostFormValue("remove"); id != "" {
		ct.set(id, 0)
	}
	s.cookies.saveCart(w, ct)
	if r.PostFormValue("checkout") != "" && len(ct.Lines) > 0 {
		s.redirect(w, r, pathCheckout)
		return
	}
	s.redirect(w, r, pathCart)
}

// loginBody is the login page.
type loginBody struct {
	Customers []customer
	Email     string
	Next      string
	Error     string
}

func (s *shop) loginPage(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	v := s.view(sess, ct, "ログイン", "login")
	v.Body = &loginBody{Customers: customers, Next: s.safeNext(r.URL.Query().Get("next"))}
	s.render(w, r, http.StatusOK, "login", v)
}

func (s *shop) login(w http.ResponseWriter, r *http.Request) {
	sess, ct, ok := s.post(w, r)
	if !ok {
		return
	}
	email := r.PostFormValue("email")
	next := s.safeNext(r.PostFormValue("next"))
	c, ok := authenticate(email, r.PostFormValue("password"))
	if !ok {
		v := s.view(sess, ct, "ログイン", "login")
		v.Body = &loginBody{Customers: customers, Email: email, Next: next,
			Error: "メールアドレスまたはパスワードが正しくありません。"}
		s.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	// A new nonce at login: tokens from before (perhaps seen by someone
	// else on a shared device) stop working.
	sess.Customer, sess.Nonce = c.ID, newNonce()
	sess.Expires = s.now().Add(sessionTTL).Unix()
	s.cookies.saveSession(w, sess)
	if next == "" {
		next = s.path(pathAccount)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *shop) logout(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.post(w, r); !ok {
		return
	}
	// A fresh session forgets the customer and the orders placed in
	// this browser; the cart stays, as shops usually do.
	s.cookies.saveSession(w, &session{Nonce: newNonce(), Expires: s.now().Add(sessionTTL).Unix()})
	s.redirect(w, r, "/")
}

// safeNext keeps a "next" parameter (an absolute path) only if it is a
// path of this shop, so the login form cannot be made to send a customer
// to another site.
func (s *shop) safeNext(next string) string {
	if !strings.HasPrefix(next, s.base+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" {
		return ""
	}
	return next
}

// eventsBody is the events page.
type eventsBody struct {
	Events     []receivedEvent
	Configured bool
	Endpoint   string
}

func (s *shop) eventsPage(w http.ResponseWriter, r *http.Request) {
	sess, ct := s.visit(w, r)
	v := s.view(sess, ct, "イベント", "events")
	v.Body = &eventsBody{Events: s.events.list(""), Configured: len(s.secrets) > 0, Endpoint: s.public + pathWebhook}
	s.render(w, r, http.StatusOK, "events", v)
}
