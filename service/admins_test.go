package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/internal/testdb"
	"github.com/kessai/kessai/password"
)

// testPasswordParams make hashing cheap: the tests hash dozens of times,
// and a default hash takes over a second under the race detector.
var testPasswordParams = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// advance moves the clock forward.
func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newAdminTestService(t *testing.T) (*Service, kessai.Store, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
	s, st := newTestService(t, Config{Now: clock.Now})
	return s, st, clock
}

// wantKind fails unless err is a *kessai.Error of kind and code with both
// messages.
func wantKind(t *testing.T, err error, kind kessai.Kind, code string) *kessai.Error {
	t.Helper()
	var e *kessai.Error
	if !errors.As(err, &e) || e.Kind != kind || e.Code != code || e.Ja == "" || e.En == "" {
		t.Fatalf("got %v, want %s %s with ja and en messages", err, kind, code)
	}
	return e
}

// wantFields fails unless err is ValidationErrors on exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var v kessai.ValidationErrors
	if !errors.As(err, &v) {
		t.Fatalf("got %v, want validation errors on %v", err, fields)
	}
	var got []string
	for _, e := range v {
		if e.Ja == "" || e.En == "" {
			t.Errorf("%s: message missing: %q / %q", e.Field, e.Ja, e.En)
		}
		got = append(got, e.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Fatalf("errors on %v, want %v (%v)", got, fields, err)
	}
}

func TestCreateAdminUser(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	shop := kessai.DefaultShopID

	u, err := s.CreateAdminUser(ctx, shop, "  Ops@Shop.Example.jp ", " 運用 太郎 ", kessai.RoleReadOnly, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ops@shop.example.jp" || u.Name != "運用 太郎" || u.Role != kessai.RoleReadOnly ||
		!strings.HasPrefix(u.PasswordHash, "$argon2id$") || !kessai.ValidID(AdminUserIDPrefix, u.ID) {
		t.Fatalf("created %+v", u)
	}
	stored, err := st.GetAdminUser(ctx, shop, u.ID)
	if err != nil || *stored != *u {
		t.Fatalf("stored %+v %v, want %+v", stored, err, u)
	}
	if got, err := s.AdminUserByEmail(ctx, shop, "OPS@shop.example.jp"); err != nil || got.ID != u.ID {
		t.Fatalf("by email: %+v %v", got, err)
	}
	_, err = s.AdminUserByEmail(ctx, shop, "nobody@shop.example.jp")
	wantKind(t, err, kessai.KindNotFound, "admin_user_not_found")

	// The same address in other letters is the same user.
	_, err = s.CreateAdminUser(ctx, shop, "OPS@shop.example.jp", "", kessai.RoleAdmin, "another good password")
	if e := wantKind(t, err, kessai.KindConflict, "admin_user_exists"); e.Field != "email" {
		t.Fatalf("conflict on field %q", e.Field)
	}
	// In another shop it is another user.
	if _, err := s.CreateAdminUser(ctx, "shop_other", "ops@shop.example.jp", "", kessai.RoleAdmin, "another good password"); err != nil {
		t.Fatal(err)
	}

	// Every problem at once, in field order.
	_, err = s.CreateAdminUser(ctx, shop, "not-an-address", "a\x00b", "owner", "short")
	wantFields(t, err, "email", "name", "role", "password")

	for _, c := range []struct {
		email, name string
		role        kessai.AdminRole
		pw          string
		field       string
	}{
		{"", "", kessai.RoleAdmin, "twelve chars", "email"},
		{"admin", "", kessai.RoleAdmin, "twelve chars", "email"}, // only the first user has a bare login name
		{"a@b", "", kessai.RoleAdmin, "twelve chars", "email"},
		{"Name <a@b.example>", "", kessai.RoleAdmin, "twelve chars", "email"},
		{"a@b.example", strings.Repeat("名", MaxAdminNameLen+1), kessai.RoleAdmin, "twelve chars", "name"},
		{"a@b.example", "", "", "twelve chars", "role"},
		{"a@b.example", "", "Admin", "twelve chars", "role"},
		{"a@b.example", "", kessai.RoleAdmin, "eleven char", "password"},
		{"a@b.example", "", kessai.RoleAdmin, "パスワード１２３４５６", "password"}, // 11 characters, 33 bytes
		{"a@b.example", "", kessai.RoleAdmin, strings.Repeat("x", password.MaxLen+1), "password"},
		{"a@b.example", "", kessai.RoleAdmin, "twelve chars\xff", "password"},
	} {
		_, err := s.CreateAdminUser(ctx, shop, c.email, c.name, c.role, c.pw)
		wantFields(t, err, c.field)
	}
	// Limits that pass: 12 characters of any script, 1024 bytes.
	for i, pw := range []string{"パスワード１２３４５６７", strings.Repeat("x", password.MaxLen)} {
		email := []string{"kana@shop.example.jp", "long@shop.example.jp"}[i]
		if _, err := s.CreateAdminUser(ctx, shop, email, "", kessai.RoleAdmin, pw); err != nil {
			t.Fatalf("%.20q: %v", pw, err)
		}
		if _, err := s.AuthenticateAdmin(ctx, shop, email, pw); err != nil {
			t.Fatalf("login with %.20q: %v", pw, err)
		}
	}

	list, err := s.ListAdminUsers(ctx, shop)
	if err != nil || len(list) != 3 || list[0].ID != u.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	empty, err := s.ListAdminUsers(ctx, "shop_none")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("empty list %#v %v", empty, err)
	}
}

func TestAuthenticateAdmin(t *testing.T) {
	s, st, clock := newAdminTestService(t)
	ctx := context.Background()
	shop := kessai.DefaultShopID
	const pw = "correct horse battery"
	u, err := s.CreateAdminUser(ctx, shop, "ops@shop.example.jp", "", kessai.RoleAdmin, pw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.AuthenticateAdmin(ctx, shop, " OPS@shop.example.jp", pw)
	if err != nil || got.ID != u.ID {
		t.Fatalf("login: %+v %v", got, err)
	}

	// Unknown user and wrong password: the very same answer.
	unknown := wantKind(t, func() error { _, err := s.AuthenticateAdmin(ctx, shop, "nobody@shop.example.jp", pw); return err }(),
		kessai.KindUnauthorized, "admin_login_failed")
	wrong := wantKind(t, func() error {
		_, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "wrong password")
		return err
	}(),
		kessai.KindUnauthorized, "admin_login_failed")
	if unknown.Ja != wrong.Ja || unknown.En != wrong.En || unknown.Field != wrong.Field {
		t.Fatalf("unknown user %+v and wrong password %+v answered differently", unknown, wrong)
	}
	for _, c := range [][2]string{{"", pw}, {"ops@shop.example.jp", ""}, {"ops@shop.example.jp", strings.Repeat("x", password.MaxLen+1)}} {
		_, err := s.AuthenticateAdmin(ctx, shop, c[0], c[1])
		wantKind(t, err, kessai.KindUnauthorized, "admin_login_failed")
	}
	// Another shop does not know the user.
	_, err = s.AuthenticateAdmin(ctx, "shop_other", "ops@shop.example.jp", pw)
	wantKind(t, err, kessai.KindUnauthorized, "admin_login_failed")

	// A success resets the count: 4 failures, a login, 4 more failures
	// and the user is still not locked.
	fail := func(n int) {
		t.Helper()
		for range n {
			_, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "wrong password")
			wantKind(t, err, kessai.KindUnauthorized, "admin_login_failed")
		}
	}
	fail(3) // plus the one above
	if cur, _ := st.GetAdminUser(ctx, shop, u.ID); cur.FailedLogins != 4 || !cur.LockedUntil.IsZero() {
		t.Fatalf("after 4 failures: %d, locked until %v", cur.FailedLogins, cur.LockedUntil)
	}
	if _, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", pw); err != nil {
		t.Fatal(err)
	}
	if cur, _ := st.GetAdminUser(ctx, shop, u.ID); cur.FailedLogins != 0 {
		t.Fatalf("after a login: %d failures", cur.FailedLogins)
	}
	fail(4)

	// The 5th failure in a row locks the user, for 15 minutes, even
	// with the right password.
	_, err = s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "wrong password")
	wantKind(t, err, kessai.KindForbidden, "account_locked")
	lockedAt := clock.Now()
	cur, _ := st.GetAdminUser(ctx, shop, u.ID)
	if cur.FailedLogins != MaxAdminLoginFailures || cur.LockedUntil.Sub(lockedAt) > AdminLockout || cur.LockedUntil.Sub(lockedAt) < AdminLockout-time.Second {
		t.Fatalf("locked user: %d failures, locked until %v (now %v)", cur.FailedLogins, cur.LockedUntil, lockedAt)
	}
	for _, p := range []string{pw, "wrong password"} {
		_, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", p)
		wantKind(t, err, kessai.KindForbidden, "account_locked")
	}
	if again, _ := st.GetAdminUser(ctx, shop, u.ID); again.FailedLogins != cur.FailedLogins || !again.LockedUntil.Equal(cur.LockedUntil) {
		t.Fatalf("attempts while locked changed the user: %+v", again)
	}
	clock.advance(AdminLockout - time.Minute)
	_, err = s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", pw)
	wantKind(t, err, kessai.KindForbidden, "account_locked")

	// After the lock, a new series of attempts: 4 failures do not lock
	// again, the 5th does.
	clock.advance(time.Minute)
	fail(4)
	if cur, _ := st.GetAdminUser(ctx, shop, u.ID); cur.FailedLogins != 4 || cur.Locked(clock.Now()) {
		t.Fatalf("after the lock and 4 failures: %+v", cur)
	}
	_, err = s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "wrong password")
	wantKind(t, err, kessai.KindForbidden, "account_locked")

	// After that lock, the right password logs in and clears everything.
	clock.advance(AdminLockout)
	got, err = s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", pw)
	if err != nil || got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("login after the lock: %+v %v", got, err)
	}
	if cur, _ := st.GetAdminUser(ctx, shop, u.ID); cur.FailedLogins != 0 || !cur.LockedUntil.IsZero() {
		t.Fatalf("stored after the login: %+v", cur)
	}
}

// TestAdminLockoutConcurrent fires many wrong passwords at once, on both
// databases: every one is counted (on PostgreSQL, through retried
// serialization failures), so they cannot slip past the limit together.
func TestAdminLockoutConcurrent(t *testing.T) {
	testdb.Run(t, func(t *testing.T, db testdb.Backend) {
		st := db.Open(t)
		clock := &testClock{t: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
		s := New(Config{Store: st, Now: clock.Now, PasswordParams: testPasswordParams})
		ctx := context.Background()
		u, err := s.CreateAdminUser(ctx, kessai.DefaultShopID, "ops@shop.example.jp", "", kessai.RoleAdmin, "correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		const n = 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		kinds := map[kessai.Kind]int{}
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				_, err := s.AuthenticateAdmin(ctx, kessai.DefaultShopID, "ops@shop.example.jp", "wrong password")
				mu.Lock()
				kinds[kessai.ErrorKind(err)]++
				mu.Unlock()
			})
		}
		close(start) // all at once, so the transactions overlap
		wg.Wait()
		if kinds[kessai.KindUnauthorized] > MaxAdminLoginFailures-1 || kinds[kessai.KindUnauthorized]+kinds[kessai.KindForbidden] != n {
			t.Fatalf("answers %v: at most %d wrong-password answers before the lock", kinds, MaxAdminLoginFailures-1)
		}
		cur, err := st.GetAdminUser(ctx, kessai.DefaultShopID, u.ID)
		if err != nil || !cur.Locked(s.Now()) || cur.FailedLogins != MaxAdminLoginFailures {
			t.Fatalf("after %d concurrent failures: %+v %v", n, cur, err)
		}
	})
}

func TestAdminRehash(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	const pw = "correct horse battery"
	u, err := s.CreateAdminUser(ctx, kessai.DefaultShopID, "ops@shop.example.jp", "", kessai.RoleAdmin, pw)
	if err != nil {
		t.Fatal(err)
	}
	// The same store, with a costlier configuration.
	stronger := testPasswordParams
	stronger.Time = 2
	s2 := New(Config{Store: st, Now: s.now, PasswordParams: stronger})
	if _, err := s2.AuthenticateAdmin(ctx, kessai.DefaultShopID, "ops@shop.example.jp", "wrong password"); err == nil {
		t.Fatal("wrong password accepted")
	}
	if cur, _ := st.GetAdminUser(ctx, kessai.DefaultShopID, u.ID); cur.PasswordHash != u.PasswordHash {
		t.Fatal("a failed login replaced the hash")
	}
	if _, err := s2.AuthenticateAdmin(ctx, kessai.DefaultShopID, "ops@shop.example.jp", pw); err != nil {
		t.Fatal(err)
	}
	cur, _ := st.GetAdminUser(ctx, kessai.DefaultShopID, u.ID)
	if cur.PasswordHash == u.PasswordHash || stronger.NeedsRehash(cur.PasswordHash) || !cur.PasswordChangedAt.Equal(u.PasswordChangedAt) {
		t.Fatalf("hash after login with new parameters: %s (changed at %v)", cur.PasswordHash, cur.PasswordChangedAt)
	}
	for _, svc := range []*Service{s, s2} {
		if _, err := svc.AuthenticateAdmin(ctx, kessai.DefaultShopID, "ops@shop.example.jp", pw); err != nil {
			t.Fatalf("login with the new hash: %v", err)
		}
	}
}

func TestAdminDummyHash(t *testing.T) {
	s, _, _ := newAdminTestService(t)
	// The hash checked for unknown users is a real one, with the
	// service's parameters, so it costs what a real check costs.
	h := s.dummyHash()
	if ok, err := password.Verify("anything at all", h); ok || err != nil || testPasswordParams.NeedsRehash(h) {
		t.Fatalf("dummy hash %q: %v %v", h, ok, err)
	}
	if s.dummyHash() != h {
		t.Fatal("dummy hash made twice")
	}
}

func newSession(t *testing.T, st kessai.Store, u *kessai.AdminUser, token string, now time.Time) string {
	t.Helper()
	sess := &kessai.AdminSession{ID: kessai.HashKey(token), ShopID: u.ShopID, UserID: u.ID, CSRFToken: "csrf",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeenAt: now}
	if err := st.CreateAdminSession(context.Background(), sess); err != nil {
		t.Fatal(err)
	}
	return sess.ID
}

func TestChangeAdminPassword(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	shop := kessai.DefaultShopID
	const old, next = "correct horse battery", "staple battery horse"
	u, err := s.CreateAdminUser(ctx, shop, "ops@shop.example.jp", "", kessai.RoleAdmin, old)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateAdminUser(ctx, shop, "staff@shop.example.jp", "", kessai.RoleReadOnly, old)
	if err != nil {
		t.Fatal(err)
	}
	mine := newSession(t, st, u, "tok-mine", s.Now())
	theirs := newSession(t, st, other, "tok-theirs", s.Now())

	wantFields(t, s.ChangeAdminPassword(ctx, shop, u.ID, "", "short"), "current_password", "new_password")
	wantFields(t, s.ChangeAdminPassword(ctx, shop, u.ID, old, old), "new_password")
	wantKind(t, s.ChangeAdminPassword(ctx, shop, "adm_missing", old, next), kessai.KindNotFound, "admin_user_not_found")
	wantKind(t, s.ChangeAdminPassword(ctx, "shop_other", u.ID, old, next), kessai.KindNotFound, "admin_user_not_found")

	// A wrong current password is a field error, and a failed login.
	wantFields(t, s.ChangeAdminPassword(ctx, shop, u.ID, "wrong password", next), "current_password")
	if cur, _ := st.GetAdminUser(ctx, shop, u.ID); cur.FailedLogins != 1 {
		t.Fatalf("%d failures after a wrong current password", cur.FailedLogins)
	}

	if err := s.ChangeAdminPassword(ctx, shop, u.ID, old, next); err != nil {
		t.Fatal(err)
	}
	cur, _ := st.GetAdminUser(ctx, shop, u.ID)
	if cur.FailedLogins != 0 || !cur.PasswordChangedAt.After(u.PasswordChangedAt) {
		t.Fatalf("after the change: %+v", cur)
	}
	if _, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", old); kessai.ErrorKind(err) != kessai.KindUnauthorized {
		t.Fatalf("old password: %v", err)
	}
	if _, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", next); err != nil {
		t.Fatalf("new password: %v", err)
	}
	// The user's sessions ended; other users' did not.
	if _, err := st.GetAdminSession(ctx, mine); !errors.Is(err, kessai.ErrNotFound) {
		t.Fatalf("own session after the change: %v", err)
	}
	if _, err := st.GetAdminSession(ctx, theirs); err != nil {
		t.Fatalf("another user's session: %v", err)
	}

	// Guessing through the form locks the user like the login does.
	for i := range MaxAdminLoginFailures {
		err := s.ChangeAdminPassword(ctx, shop, u.ID, "wrong password", "a new password!")
		if i < MaxAdminLoginFailures-1 {
			wantFields(t, err, "current_password")
		} else {
			wantKind(t, err, kessai.KindForbidden, "account_locked")
		}
	}
	wantKind(t, s.ChangeAdminPassword(ctx, shop, u.ID, next, "a new password!"), kessai.KindForbidden, "account_locked")
}

func TestSetAdminPassword(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	shop := kessai.DefaultShopID
	u, err := s.CreateAdminUser(ctx, shop, "ops@shop.example.jp", "", kessai.RoleAdmin, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for range MaxAdminLoginFailures {
		_, _ = s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "wrong password")
	}
	sess := newSession(t, st, u, "tok", s.Now())
	if _, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "correct horse battery"); kessai.ErrorKind(err) != kessai.KindForbidden {
		t.Fatalf("not locked: %v", err)
	}

	wantFields(t, s.SetAdminPassword(ctx, shop, u.ID, "too short"), "password")
	wantKind(t, s.SetAdminPassword(ctx, shop, "adm_missing", "a brand new password"), kessai.KindNotFound, "admin_user_not_found")
	wantKind(t, s.SetAdminPassword(ctx, shop, strings.Repeat("x", 100), "a brand new password"), kessai.KindNotFound, "admin_user_not_found")

	// A reset lifts the lock and ends the sessions.
	if err := s.SetAdminPassword(ctx, shop, u.ID, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetAdminSession(ctx, sess); !errors.Is(err, kessai.ErrNotFound) {
		t.Fatalf("session after the reset: %v", err)
	}
	got, err := s.AuthenticateAdmin(ctx, shop, "ops@shop.example.jp", "a brand new password")
	if err != nil || got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("login after the reset: %+v %v", got, err)
	}
}

func TestBootstrapAdmin(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	keys, err := s.Bootstrap(ctx)
	if err != nil || keys == nil {
		t.Fatal(keys, err)
	}
	users, err := s.ListAdminUsers(ctx, kessai.DefaultShopID)
	if err != nil || len(users) != 1 {
		t.Fatalf("users %+v %v", users, err)
	}
	u := users[0]
	if u.Email != BootstrapAdminEmail || u.Name != BootstrapAdminName || u.Role != kessai.RoleAdmin {
		t.Fatalf("first user %+v", u)
	}
	for _, c := range keys.AdminPassword {
		if !strings.ContainsRune("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", c) {
			t.Fatalf("generated password %q", keys.AdminPassword)
		}
	}
	if _, err := s.AuthenticateAdmin(ctx, kessai.DefaultShopID, "ADMIN", keys.AdminPassword); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Bootstrap(ctx); err != nil || again != nil {
		t.Fatalf("second start: %+v %v", again, err)
	}

	// An installation without admin users (made before they existed)
	// gets the first one at the next start, and only that.
	if err := st.DeleteAdminUser(ctx, kessai.DefaultShopID, u.ID); err != nil {
		t.Fatal(err)
	}
	upgraded, err := s.Bootstrap(ctx)
	if err != nil || upgraded == nil || upgraded.SecretKey != "" || upgraded.PublishableKey != "" ||
		upgraded.AdminEmail != BootstrapAdminEmail || len(upgraded.AdminPassword) != GeneratedAdminPasswordLen ||
		upgraded.AdminPassword == keys.AdminPassword {
		t.Fatalf("start without admin users: %+v %v", upgraded, err)
	}
	if _, err := s.AuthenticateAdmin(ctx, kessai.DefaultShopID, "admin", upgraded.AdminPassword); err != nil {
		t.Fatal(err)
	}
	if again, err := s.Bootstrap(ctx); err != nil || again != nil {
		t.Fatalf("start after that: %+v %v", again, err)
	}
	if ks, _ := s.ListAPIKeys(ctx, kessai.DefaultShopID); len(ks) != 2 {
		t.Fatalf("%d API keys", len(ks))
	}
}

func TestBootstrapKeepsEarlierAdmins(t *testing.T) {
	s, _, _ := newAdminTestService(t)
	ctx := context.Background()
	if _, err := s.CreateAdminUser(ctx, kessai.DefaultShopID, "owner@shop.example.jp", "", kessai.RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	keys, err := s.Bootstrap(ctx)
	if err != nil || keys == nil || keys.SecretKey == "" || keys.AdminPassword != "" || keys.AdminEmail != "" {
		t.Fatalf("bootstrap with an existing admin: %+v %v", keys, err)
	}
	users, _ := s.ListAdminUsers(ctx, kessai.DefaultShopID)
	if len(users) != 1 || users[0].Email != "owner@shop.example.jp" {
		t.Fatalf("users %+v", users)
	}
}

// TestBootstrapConcurrent starts several instances at once on one store:
// exactly one creates the shop, its keys and its admin.
func TestBootstrapConcurrent(t *testing.T) {
	s, st, _ := newAdminTestService(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]*BootstrapKeys, 6)
	errs := make([]error, len(results))
	for i := range results {
		wg.Go(func() {
			svc := New(Config{Store: st, Now: s.now, PasswordParams: testPasswordParams})
			results[i], errs[i] = svc.Bootstrap(ctx)
		})
	}
	wg.Wait()
	created := 0
	for i, k := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if k != nil {
			created++
			if _, err := s.AuthenticateAdmin(ctx, kessai.DefaultShopID, k.AdminEmail, k.AdminPassword); err != nil {
				t.Fatal(err)
			}
		}
	}
	users, _ := s.ListAdminUsers(ctx, kessai.DefaultShopID)
	if created != 1 || len(users) != 1 {
		t.Fatalf("%d instances created credentials, %d admin users", created, len(users))
	}
}
