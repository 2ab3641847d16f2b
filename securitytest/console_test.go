package securitytest

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The console's documented refusals (console/messages.go), Japanese by
// default.
const (
	msgCSRF      = "フォームの有効期限が切れたか、不正なリクエストです。ページを再読み込みしてやり直してください。"
	msgLoginCSRF = "ログインフォームの有効期限が切れました。もう一度ログインしてください。"
	msgReadOnly  = "閲覧のみの権限では変更できません。"
)

// authorizedPayment makes an order with an authorised, not yet captured,
// card payment (the shop captures later): the console's 売上計上 target.
func (in *instance) authorizedPayment(t *testing.T, shopOrderID string) (order, payment) {
	t.Helper()
	in.patchSettings(t, map[string]any{"card": map[string]any{"operation": "1Auth"}})
	o := in.createOrder(t, shopOrderID, 3300, nil)
	var res struct {
		Status  string  `json:"status"`
		Payment payment `json:"payment"`
	}
	in.secret(t, "POST", "/v1/orders/"+o.ID+"/pay", map[string]any{"token": in.simToken(t, "4123000000000300", "8888"),
		"card_prefix": "412300", "pay_type": "01"}, http.StatusOK, &res)
	if res.Status != "succeeded" || res.Payment.State != "authorized" {
		t.Fatalf("card payment: %+v", res)
	}
	return o, res.Payment
}

// wantConsoleRefusal checks a refused console POST: the status and the
// documented message on the error page.
func wantConsoleRefusal(t *testing.T, a *answer, status int, msg string) {
	t.Helper()
	if a.Status != status || !bytes.Contains(a.Body, []byte(msg)) {
		t.Errorf("HTTP %d (want %d) without %q:\n%.400s", a.Status, status, msg, a.Body)
	}
}

// TestConsoleCSRF logs in twice (two browsers, two sessions) and sends the
// console's state-changing forms — settings, a payment capture, logout —
// the ways a cross-site attacker could: without the token, with a made-up
// one, with the token of the other session, with the token in the URL
// instead of the form, and from a browser with no session at all. Each is
// refused (403 with the documented message, or the login page for a
// browser without a session) and changes nothing: the settings version, the
// payment's state, the gateway (no call) and the session (still alive).
// The same forms with the right token work, so the refusals are about the
// token. The login form's own nonce is checked the same way.
func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, pay := in.authorizedPayment(t, "CSRF-1")

	alice, bob := newBrowser(t), newBrowser(t)
	aliceToken := in.loginConsole(t, alice, in.AdminLogin, in.AdminPassword)
	bobToken := in.loginConsole(t, bob, in.AdminLogin, in.AdminPassword)
	if aliceToken == bobToken {
		t.Fatal("two sessions share one CSRF token")
	}
	before := in.snapshot(t)
	served := in.simServed(t)
	// The database keeps only a hash of a session token (docs/console.md
	// "Sessions"), so a copy of it logs nobody in.
	in.atRest(t).check(t, map[string]string{"alice's session token": alice.cookie(t, in.API+"/admin/", "kessai_admin"),
		"bob's session token": bob.cookie(t, in.API+"/admin/", "kessai_admin")}, 0)

	settings := url.Values{"environment": {"production"}, "confirm_production": {"1"}, "plan": {"pro"}, "version": {"0"},
		"card.enabled": {"1"}, "card.merchant_id": {"099999999"}, "card.merchant_pass_test": {"attackerPass1"}}
	targets := []struct {
		name, path string
		form       url.Values
	}{
		{"card settings", "/admin/settings/card", settings},
		{"collection settings", "/admin/settings/collection", url.Values{"environment": {"test"}, "plan": {"light"}, "collection.enabled": {""}}},
		{"capture", "/admin/payments/" + pay.ID + "/capture", url.Values{}},
		{"cancel", "/admin/payments/" + pay.ID + "/cancel", url.Values{}},
		{"new webhook endpoint", "/admin/webhooks", url.Values{"url": {"https://attacker.example/hook"}}},
		{"password change", "/admin/password", url.Values{"current_password": {in.AdminPassword}, "new_password": {"attacker-chosen-1"}, "confirm_password": {"attacker-chosen-1"}}},
		{"logout", "/admin/logout", url.Values{}},
	}
	with := func(f url.Values, token string) url.Values {
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		if token != "" {
			g.Set("csrf", token)
		}
		return g
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			u := in.API + tg.path
			wantConsoleRefusal(t, alice.post(t, u, with(tg.form, "")), http.StatusForbidden, msgCSRF)
			wantConsoleRefusal(t, alice.post(t, u, with(tg.form, randomAlnum(len(aliceToken)))), http.StatusForbidden, msgCSRF)
			wantConsoleRefusal(t, alice.post(t, u, with(tg.form, aliceToken[:len(aliceToken)-1])), http.StatusForbidden, msgCSRF)
			wantConsoleRefusal(t, alice.post(t, u, with(tg.form, bobToken)), http.StatusForbidden, msgCSRF)
			wantConsoleRefusal(t, bob.post(t, u, with(tg.form, aliceToken)), http.StatusForbidden, msgCSRF)
			// In the URL the token would leak through logs and
			// Referer; it only counts in the form body.
			wantConsoleRefusal(t, alice.post(t, u+"?csrf="+url.QueryEscape(aliceToken), with(tg.form, "")), http.StatusForbidden, msgCSRF)
			// A browser without a session is sent to the login page,
			// even with a stolen token, and its form is dropped.
			stranger := newBrowser(t)
			if a := stranger.post(t, u, with(tg.form, aliceToken)); a.Status != http.StatusSeeOther || a.Header.Get("Location") != "/admin/login?expired=1" {
				t.Errorf("POST without a session: %s, Location %q", a, a.Header.Get("Location"))
			}
		})
	}

	if after := in.snapshot(t); after != before {
		t.Errorf("refused console forms changed the shop: before %+v, after %+v", before, after)
	}
	if p := in.payment(t, pay.ID); p.State != "authorized" {
		t.Errorf("payment %s after refused captures, want authorized", p.State)
	}
	if calls := in.simServed(t) - served; calls != 0 {
		t.Errorf("refused console forms cost %d gateway calls", calls)
	}
	for name, b := range map[string]*browser{"alice": alice, "bob": bob} {
		if a := b.get(t, in.API+"/admin/"); a.Status != http.StatusOK {
			t.Errorf("%s's session ended after refused logouts: %s", name, a)
		}
	}
	// The password was not changed: it still logs in.
	in.loginConsole(t, newBrowser(t), in.AdminLogin, in.AdminPassword)

	// With the right token the same forms work.
	if a := alice.post(t, in.API+"/admin/payments/"+pay.ID+"/capture", url.Values{"csrf": {aliceToken}}); a.Status != http.StatusSeeOther {
		t.Errorf("capture with the session's token: %s", a)
	}
	if p := in.payment(t, pay.ID); p.State != "captured" {
		t.Errorf("payment %s after a capture with the right token, want captured", p.State)
	}
	if a := bob.post(t, in.API+"/admin/logout", url.Values{"csrf": {bobToken}}); a.Status != http.StatusSeeOther {
		t.Errorf("logout with the session's token: %s", a)
	}
	if a := bob.get(t, in.API+"/admin/"); a.Status != http.StatusSeeOther || !strings.HasPrefix(a.Header.Get("Location"), "/admin/login") {
		t.Errorf("after logout the dashboard answers %s", a)
	}
	if a := alice.get(t, in.API+"/admin/"); a.Status != http.StatusOK {
		t.Errorf("bob's logout ended alice's session: %s", a)
	}
}

// TestConsoleLoginCSRF: the login form carries a nonce bound to a cookie
// (double submit), so a foreign page cannot log a browser in to an account
// of the attacker's choosing. Without the cookie, with a wrong nonce, or with
// another browser's nonce, even the right password is refused with 403 and
// no session starts; it does not count as a wrong password either (no
// lock-out can be caused this way).
func TestConsoleLoginCSRF(t *testing.T) {
	t.Parallel()
	in := start(t)
	victim, attacker := newBrowser(t), newBrowser(t)
	vPage := victim.get(t, in.API+"/admin/login")
	aPage := attacker.get(t, in.API+"/admin/login")
	vNonce, aNonce := csrfOf(t, vPage), csrfOf(t, aPage)
	if vNonce == aNonce || victim.cookie(t, in.API+"/admin/", "kessai_admin_login") != vNonce {
		t.Fatalf("login nonces: victim %q (cookie %q), attacker %q", vNonce, victim.cookie(t, in.API+"/admin/", "kessai_admin_login"), aNonce)
	}
	creds := url.Values{"email": {in.AdminLogin}, "password": {in.AdminPassword}, "next": {"/admin/"}}
	form := func(nonce string) url.Values {
		f := url.Values{}
		for k, v := range creds {
			f[k] = v
		}
		if nonce != "" {
			f.Set("csrf", nonce)
		}
		return f
	}
	cases := []struct {
		name string
		b    *browser
		form url.Values
	}{
		{"no cookie, no nonce (a cross-site form)", newBrowser(t), form("")},
		{"no cookie, the attacker's nonce", newBrowser(t), form(aNonce)},
		{"the victim's cookie, no nonce", victim, form("")},
		{"the victim's cookie, the attacker's nonce", victim, form(aNonce)},
		{"the victim's cookie, a made-up nonce", victim, form(randomAlnum(43))},
	}
	// Six refusals of the right password: more than the five wrong
	// passwords that lock a user, so a lock-out would show below.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.b.post(t, in.API+"/admin/login", c.form)
			wantConsoleRefusal(t, a, http.StatusForbidden, msgLoginCSRF)
			if s := c.b.cookie(t, in.API+"/admin/", "kessai_admin"); s != "" {
				t.Errorf("a session cookie was set: %q", s)
			}
		})
	}
	wantConsoleRefusal(t, victim.post(t, in.API+"/admin/login", form(aNonce)), http.StatusForbidden, msgLoginCSRF)

	// The real form logs in (so the account is not locked), and its
	// cookies and headers are the documented ones.
	b := newBrowser(t)
	page := b.get(t, in.API+"/admin/login")
	wantCookie(t, page, "kessai_admin_login", "Path=/admin", "HttpOnly", "SameSite=Strict")
	a := b.post(t, in.API+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {in.AdminLogin}, "password": {in.AdminPassword}})
	if a.Status != http.StatusSeeOther {
		t.Fatalf("login: %s", a)
	}
	wantCookie(t, a, "kessai_admin", "Path=/admin", "HttpOnly", "SameSite=Lax")
	dash := b.get(t, in.API+"/admin/")
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "same-origin",
	} {
		if got := dash.Header.Get(h); got != want {
			t.Errorf("console header %s: %q, want %q", h, got, want)
		}
	}

	// After login the browser goes to next only inside the console: a
	// login link cannot be turned into an open redirect. (The login page
	// of a browser already logged in redirects at once, through the same
	// check: that tries many values without a password hash each.)
	b2 := newBrowser(t)
	page = b2.get(t, in.API+"/admin/login")
	a = b2.post(t, in.API+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {in.AdminLogin}, "password": {in.AdminPassword},
		"next": {"//attacker.example/admin/"}})
	if loc := a.Header.Get("Location"); a.Status != http.StatusSeeOther || loc != "/admin/" {
		t.Errorf("login with next=//attacker.example/admin/ redirects to %q (HTTP %d), want /admin/", loc, a.Status)
	}
	for _, next := range []string{"https://attacker.example/", "//attacker.example/admin/", "/\\attacker.example",
		"/admin/\\attacker.example", "javascript:alert(1)", "/demo/", "/admin/login?next=//attacker.example", "/admin/\r\nLocation: //x"} {
		a := b2.get(t, in.API+"/admin/login?next="+url.QueryEscape(next))
		if loc := a.Header.Get("Location"); a.Status != http.StatusSeeOther || loc != "/admin/" {
			t.Errorf("login page with next=%q redirects to %q (HTTP %d), want /admin/", next, loc, a.Status)
		}
	}
	if a := b2.get(t, in.API+"/admin/login?next="+url.QueryEscape("/admin/orders?x=1")); a.Header.Get("Location") != "/admin/orders?x=1" {
		t.Errorf("a console next is not followed: %q", a.Header.Get("Location"))
	}
	if strings.Contains(in.logs(), in.AdminPassword) {
		t.Error("the admin password was written to the log")
	}
}

// wantCookie checks the attributes of a cookie an answer sets.
func wantCookie(t *testing.T, a *answer, name string, attrs ...string) {
	t.Helper()
	for _, c := range a.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(c, name+"=") {
			continue
		}
		for _, attr := range attrs {
			if !strings.Contains(c, attr) {
				t.Errorf("cookie %s lacks %s: %s", name, attr, c)
			}
		}
		return
	}
	t.Errorf("no cookie %s set: %v", name, a.Header.Values("Set-Cookie"))
}

// The console's login refusals (service/admins.go).
const (
	msgLoginFailed = "ログイン名またはパスワードが正しくありません。"
	msgLocked      = "ログインに 5 回続けて失敗したため、アカウントを一時的にロックしました。15 分後に再度お試しください。"
)

// TestConsoleLockout guesses passwords: an unknown login and a wrong
// password get the same answer (401, same message), five wrong passwords in
// a row lock the user (403), after which even the right password is refused
// and no session starts; other users are not affected, and no guess is
// logged.
func TestConsoleLockout(t *testing.T) {
	t.Parallel()
	in := start(t)
	const login, password = "clerk@shop.example.jp", "clerk-password-123"
	in.cli(t, []string{"KESSAI_ADMIN_PASSWORD=" + password}, "admin", "create-user", login)
	try := func(login, password string) *answer {
		b := newBrowser(t)
		page := b.get(t, in.API+"/admin/login")
		a := b.post(t, in.API+"/admin/login", url.Values{"csrf": {csrfOf(t, page)}, "email": {login}, "password": {password}})
		if b.cookie(t, in.API+"/admin/", "kessai_admin") != "" {
			t.Errorf("login %s / %s started a session (HTTP %d)", login, password, a.Status)
		}
		return a
	}
	unknown := try("nobody@shop.example.jp", "guess-000000")
	wantConsoleRefusal(t, unknown, http.StatusUnauthorized, msgLoginFailed)
	var guesses []string
	for i := range 4 {
		g := "guess-" + randomAlnum(10)
		guesses = append(guesses, g)
		a := try(login, g)
		wantConsoleRefusal(t, a, http.StatusUnauthorized, msgLoginFailed)
		if i == 0 && !bytes.Equal(stripTokens(a.Body), stripTokens(unknown.Body)) {
			t.Error("a wrong password and an unknown login get different pages: the login's existence shows")
		}
	}
	wantConsoleRefusal(t, try(login, "guess-fifth-0"), http.StatusForbidden, msgLocked)
	wantConsoleRefusal(t, try(login, password), http.StatusForbidden, msgLocked)
	// The lock is the user's, not the login page's.
	in.loginConsole(t, newBrowser(t), in.AdminLogin, in.AdminPassword)
	logs := in.logs()
	for _, g := range append(guesses, password) {
		if strings.Contains(logs, g) {
			t.Errorf("the password %q was written to the log", g)
		}
	}
}

// stripTokens removes the per-request parts of a login page (its nonce, the
// login name typed) so two refusals can be compared.
func stripTokens(b []byte) []byte {
	b = csrfRE.ReplaceAll(b, nil)
	return regexp.MustCompile(`value="[^"]*@shop\.example\.jp"`).ReplaceAll(b, nil)
}

// TestConsoleReadOnlyRole: a read-only user (staff answering customers)
// with a valid session and a valid CSRF token is still refused every change,
// on the server, with 403 and the documented message.
func TestConsoleReadOnlyRole(t *testing.T) {
	t.Parallel()
	in := start(t)
	_, pay := in.authorizedPayment(t, "RO-1")
	const roLogin, roPassword = "staff@shop.example.jp", "staff-password-123"
	in.cli(t, []string{"KESSAI_ADMIN_PASSWORD=" + roPassword}, "admin", "create-user", roLogin, "--role", "readonly")
	staff := newBrowser(t)
	token := in.loginConsole(t, staff, roLogin, roPassword)
	before := in.snapshot(t)
	served := in.simServed(t)
	for _, path := range []string{"/admin/settings/card", "/admin/settings/collection", "/admin/payments/" + pay.ID + "/capture",
		"/admin/payments/" + pay.ID + "/cancel", "/admin/webhooks"} {
		a := staff.post(t, in.API+path, url.Values{"csrf": {token}, "environment": {"test"}, "url": {"https://attacker.example/hook"}})
		wantConsoleRefusal(t, a, http.StatusForbidden, msgReadOnly)
	}
	if after := in.snapshot(t); after != before {
		t.Errorf("a read-only user changed the shop: before %+v, after %+v", before, after)
	}
	if p := in.payment(t, pay.ID); p.State != "authorized" {
		t.Errorf("payment %s after a read-only capture, want authorized", p.State)
	}
	if calls := in.simServed(t) - served; calls != 0 {
		t.Errorf("read-only POSTs cost %d gateway calls", calls)
	}
	// Viewing is allowed, and logging out (the own session) too.
	if a := staff.get(t, in.API+"/admin/settings/card"); a.Status != http.StatusOK {
		t.Errorf("a read-only user cannot view the settings: %s", a)
	}
	if a := staff.post(t, in.API+"/admin/logout", url.Values{"csrf": {token}}); a.Status != http.StatusSeeOther {
		t.Errorf("read-only logout: %s", a)
	}
}

// TestConsoleSessionLifetime: a console session ends after an hour without
// activity, and 12 hours after login however busy (docs/console.md
// "Sessions"), so a stolen or forgotten session does not last. Time is moved
// with the API's test clock, which the service — sessions included — reads
// while the shop runs on the simulator.
func TestConsoleSessionLifetime(t *testing.T) {
	t.Parallel()
	in := start(t)
	busy, idle := newBrowser(t), newBrowser(t)
	in.loginConsole(t, busy, in.AdminLogin, in.AdminPassword)
	in.loginConsole(t, idle, in.AdminLogin, in.AdminPassword)
	alive := func(b *browser) bool {
		a := b.get(t, in.API+"/admin/")
		switch {
		case a.Status == http.StatusOK:
			return true
		case a.Status == http.StatusSeeOther && strings.HasPrefix(a.Header.Get("Location"), "/admin/login"):
			return false
		}
		t.Fatalf("dashboard: %s", a)
		return false
	}
	const step = 50 * 60 // seconds: less than the idle limit
	elapsed := 0
	for elapsed+step < 12*3600 {
		in.secret(t, "POST", "/v1/test_clock/advance", map[string]any{"seconds": step}, http.StatusOK, nil)
		elapsed += step
		if !alive(busy) {
			t.Fatalf("a session in use ended after %d minutes", elapsed/60)
		}
		if elapsed == 2*step && alive(idle) {
			t.Errorf("a session unused for %d minutes is still alive", elapsed/60)
		}
	}
	in.secret(t, "POST", "/v1/test_clock/advance", map[string]any{"seconds": step}, http.StatusOK, nil)
	if alive(busy) {
		t.Errorf("a session is still alive %d minutes after login", (elapsed+step)/60)
	}
}
