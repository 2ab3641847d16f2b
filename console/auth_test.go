package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Access: login, sessions, CSRF, logout, password change, lock-out and the
// read-only role (issue 7 item 1; design §4).

func TestLoginRedirectsAndLogout(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// Without a session every page leads to the login form, remembering
	// where the operator wanted to go.
	r := b.get("/admin/orders?status=pending")
	wantRedirect(t, r, "/admin/login?next=")
	if next, _ := url.Parse(r.Loc); next.Query().Get("next") != "/admin/orders?status=pending" {
		t.Errorf("next = %q", next.Query().Get("next"))
	}
	login := b.page("/admin/login?next=%2Fadmin%2Fpassword")
	wantContains(t, login, "ログイン名", "パスワード")
	r = b.do(http.MethodPost, "/admin/login", url.Values{"csrf": {csrfOf(t, login)}, "email": {adminEmail},
		"password": {adminPassword}, "next": {"/admin/password"}})
	wantRedirect(t, r, "/admin/password")
	page := b.page("/admin/password")
	wantContains(t, page, "パスワード変更", "ログアウト", "シミュレーターで稼働中")

	r = b.post("/admin/password", "/admin/logout", nil)
	wantRedirect(t, r, "/admin/login?done=logout")
	wantRedirect(t, b.get("/admin/password"), "/admin/login")
}

func TestLoginRefusals(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	login := b.page("/admin/login")
	nonce := csrfOf(t, login)
	cases := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"wrong password", url.Values{"csrf": {nonce}, "email": {adminEmail}, "password": {"wrong password!"}},
			http.StatusUnauthorized, "ログイン名またはパスワードが正しくありません。"},
		{"unknown user", url.Values{"csrf": {nonce}, "email": {"nobody@shop.example"}, "password": {adminPassword}},
			http.StatusUnauthorized, "ログイン名またはパスワードが正しくありません。"},
		{"no CSRF nonce", url.Values{"email": {adminEmail}, "password": {adminPassword}},
			http.StatusForbidden, "ログインフォームの有効期限が切れました。"},
		{"foreign nonce", url.Values{"csrf": {strings.Repeat("A", 43)}, "email": {adminEmail}, "password": {adminPassword}},
			http.StatusForbidden, "ログインフォームの有効期限が切れました。"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.do(http.MethodPost, "/admin/login", c.form)
			if r.Status != c.status {
				t.Fatalf("HTTP %d, want %d\n%s", r.Status, c.status, r.Body)
			}
			wantContains(t, r.Body, c.text)
		})
	}
}

func TestLockoutAfterFailures(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for range 5 {
		b.post("/admin/login", "/admin/login", url.Values{"email": {readerEmail}, "password": {"not the password"}})
	}
	r := b.post("/admin/login", "/admin/login", url.Values{"email": {readerEmail}, "password": {adminPassword}})
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "ロック") {
		t.Fatalf("locked user logged in: HTTP %d\n%s", r.Status, r.Body)
	}
	e.Advance(16 * time.Minute)
	b.login(readerEmail)
}

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	for _, token := range []string{"", "forged", strings.Repeat("x", 43)} {
		r := b.do(http.MethodPost, "/admin/logout", url.Values{"csrf": {token}})
		if r.Status != http.StatusForbidden {
			t.Fatalf("csrf %q: HTTP %d", token, r.Status)
		}
		wantContains(t, r.Body, "不正なリクエスト")
	}
	// Still logged in: the forged logout did nothing.
	b.page("/admin/password")
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	e := newEnv(t)
	b1, b2 := e.asAdmin(), e.asAdmin()
	const next = "another long passphrase"
	r := b1.post("/admin/password", "/admin/password", url.Values{"current_password": {adminPassword},
		"new_password": {next}, "confirm_password": {"different"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("mismatch: HTTP %d", r.Status)
	}
	wantContains(t, r.Body, "確認用のパスワードが一致しません。")
	r = b1.post("/admin/password", "/admin/password", url.Values{"current_password": {adminPassword},
		"new_password": {next}, "confirm_password": {next}})
	wantRedirect(t, r, "/admin/password?done=password")
	wantContains(t, b1.page("/admin/password?done=password"), "パスワードを変更しました。")
	wantRedirect(t, b2.get("/admin/password"), "/admin/login")
}

func TestSessionExpiresWhenIdle(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	e.Advance(59 * time.Minute)
	b.page("/admin/password") // activity moves the expiry
	e.Advance(59 * time.Minute)
	b.page("/admin/password")
	e.Advance(61 * time.Minute)
	wantRedirect(t, b.get("/admin/password"), "/admin/login")
}

func TestEnglishSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.asAdmin()
	wantContains(t, b.page("/admin/password?lang=en"), "Change password", "Log out")
	wantContains(t, b.page("/admin/password"), "Change password") // remembered
	wantContains(t, b.page("/admin/password?lang=ja"), "パスワード変更")
}

func TestLoginNextStaysInConsole(t *testing.T) {
	e := newEnv(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/admin/", "/admin/login", "/api"} {
		b := e.browser()
		r := b.post("/admin/login", "/admin/login", url.Values{"email": {adminEmail}, "password": {adminPassword}, "next": {next}})
		wantRedirect(t, r, "/admin/")
		if r.Loc != "/admin/" {
			t.Errorf("next %q: redirected to %q", next, r.Loc)
		}
	}
}
