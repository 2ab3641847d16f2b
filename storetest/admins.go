package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kessai/kessai"
)

// ---- admin users and sessions ----

func newAdminUser(shop, email string, created time.Time) *kessai.AdminUser {
	return &kessai.AdminUser{ID: kessai.NewID("adm", created), ShopID: shop, Email: email, Name: "管理者 " + email,
		Role: kessai.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdHNhbHRzYWx0c2FsdA$" + email,
		PasswordChangedAt: created, CreatedAt: created, UpdatedAt: created}
}

func createAdminUser(t *testing.T, s kessai.Store, shop, email string, created time.Time) *kessai.AdminUser {
	t.Helper()
	u := newAdminUser(shop, email, created)
	must(t, s.CreateAdminUser(ctx(t), u))
	return u
}

func adminUserID(u kessai.AdminUser) string { return u.ID }

func testAdminUserCreateGetList(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	_, err := s.GetAdminUser(ctx(t), shop, "adm_missing")
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindAdminUserByEmail(ctx(t), shop, "admin")
	wantErr(t, err, kessai.ErrNotFound)
	list, err := s.ListAdminUsers(ctx(t), shop)
	must(t, err)
	if len(list) != 0 {
		t.Fatalf("new shop lists %d admin users", len(list))
	}

	a := newAdminUser(shop, "admin", at(0))
	b := newAdminUser(shop, "staff@example.jp", at(time.Minute))
	b.Role = kessai.RoleReadOnly
	c := newAdminUser(other, "admin", at(2*time.Minute))
	for _, u := range []*kessai.AdminUser{b, c, a} {
		must(t, s.CreateAdminUser(ctx(t), u))
	}
	// Create normalised the times of the values it was given.
	if a.CreatedAt != us(at(0)) || a.PasswordChangedAt != us(at(0)) || !a.LockedUntil.IsZero() {
		t.Fatalf("created value not normalised: %+v", a)
	}

	got, err := s.GetAdminUser(ctx(t), shop, a.ID)
	must(t, err)
	same(t, "admin user", *got, *a)
	got, err = s.FindAdminUserByEmail(ctx(t), shop, "staff@example.jp")
	must(t, err)
	same(t, "admin user by email", *got, *b)
	got, err = s.FindAdminUserByEmail(ctx(t), other, "admin")
	must(t, err)
	same(t, "other shop's admin", *got, *c)

	// Shop scoping: another shop's user is not found by id, and the
	// email lookup is exact.
	_, err = s.GetAdminUser(ctx(t), other, a.ID)
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindAdminUserByEmail(ctx(t), other, "staff@example.jp")
	wantErr(t, err, kessai.ErrNotFound)
	_, err = s.FindAdminUserByEmail(ctx(t), shop, "Staff@example.jp")
	wantErr(t, err, kessai.ErrNotFound)

	list, err = s.ListAdminUsers(ctx(t), shop)
	must(t, err)
	same(t, "admin users, oldest first", list, []kessai.AdminUser{*a, *b})
	list, err = s.ListAdminUsers(ctx(t), other)
	must(t, err)
	same(t, "other shop's admin users", ids(list, adminUserID), []string{c.ID})
}

func testAdminUserDuplicate(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	u := createAdminUser(t, s, shop, "owner@example.jp", at(0))

	sameEmail := newAdminUser(shop, "owner@example.jp", at(time.Minute))
	wantErr(t, s.CreateAdminUser(ctx(t), sameEmail), kessai.ErrDuplicate)
	sameID := newAdminUser(shop, "second@example.jp", at(time.Minute))
	sameID.ID = u.ID
	wantErr(t, s.CreateAdminUser(ctx(t), sameID), kessai.ErrDuplicate)

	// The same email (and even the same id) in another shop is another
	// user.
	must(t, s.CreateAdminUser(ctx(t), newAdminUser(other, "owner@example.jp", at(time.Minute))))
	twin := newAdminUser(other, "twin@example.jp", at(time.Minute))
	twin.ID = u.ID
	must(t, s.CreateAdminUser(ctx(t), twin))

	list, err := s.ListAdminUsers(ctx(t), shop)
	must(t, err)
	same(t, "shop's users after duplicates", list, []kessai.AdminUser{*u})

	// Missing required values are refused before the database.
	for _, bad := range []func(*kessai.AdminUser){
		func(u *kessai.AdminUser) { u.ShopID = "" },
		func(u *kessai.AdminUser) { u.ID = "" },
		func(u *kessai.AdminUser) { u.Email = "" },
		func(u *kessai.AdminUser) { u.PasswordHash = "" },
	} {
		v := newAdminUser(shop, "incomplete@example.jp", at(time.Hour))
		bad(v)
		if err := s.CreateAdminUser(ctx(t), v); err == nil {
			t.Fatalf("incomplete user %+v created", v)
		}
	}
}

func testAdminUserUpdateDelete(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	u := createAdminUser(t, s, shop, "ops@example.jp", at(0))
	keep := createAdminUser(t, s, shop, "keep@example.jp", at(time.Second))

	// Lock fields round trip: set, then cleared back to zero.
	u.Name = "運用担当"
	u.Role = kessai.RoleReadOnly
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=2$bmV3c2FsdG5ld3NhbHQ$changed"
	u.FailedLogins = 5
	u.LockedUntil = at(15 * time.Minute)
	u.PasswordChangedAt = at(time.Minute)
	u.UpdatedAt = at(time.Minute)
	u.Email = "ignored@example.jp" // not written by UpdateAdminUser
	must(t, s.UpdateAdminUser(ctx(t), u))
	if u.LockedUntil != us(at(15*time.Minute)) || u.UpdatedAt != us(at(time.Minute)) {
		t.Fatalf("updated value not normalised: %+v", u)
	}
	got, err := s.GetAdminUser(ctx(t), shop, u.ID)
	must(t, err)
	want := *u
	want.Email = "ops@example.jp"
	same(t, "locked user", *got, want)
	if !got.Locked(at(14*time.Minute)) || got.Locked(at(15*time.Minute)) {
		t.Fatalf("Locked wrong around %v", got.LockedUntil)
	}

	got.FailedLogins = 0
	got.LockedUntil = time.Time{}
	got.UpdatedAt = at(time.Hour)
	must(t, s.UpdateAdminUser(ctx(t), got))
	again, err := s.FindAdminUserByEmail(ctx(t), shop, "ops@example.jp")
	must(t, err)
	same(t, "unlocked user", *again, *got)
	if again.Locked(at(0)) {
		t.Fatal("unlocked user is locked")
	}

	foreign := *got
	foreign.ShopID = other
	wantErr(t, s.UpdateAdminUser(ctx(t), &foreign), kessai.ErrNotFound)
	wantErr(t, s.DeleteAdminUser(ctx(t), other, u.ID), kessai.ErrNotFound)

	must(t, s.DeleteAdminUser(ctx(t), shop, u.ID))
	_, err = s.GetAdminUser(ctx(t), shop, u.ID)
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.DeleteAdminUser(ctx(t), shop, u.ID), kessai.ErrNotFound)
	wantErr(t, s.UpdateAdminUser(ctx(t), got), kessai.ErrNotFound)
	list, err := s.ListAdminUsers(ctx(t), shop)
	must(t, err)
	same(t, "users after delete", list, []kessai.AdminUser{*keep})

	// The email of a deleted user is free again.
	createAdminUser(t, s, shop, "ops@example.jp", at(2*time.Hour))
}

func newSession(u *kessai.AdminUser, token string, created time.Time, ttl time.Duration) *kessai.AdminSession {
	return &kessai.AdminSession{ID: kessai.HashKey(token), ShopID: u.ShopID, UserID: u.ID, CSRFToken: "csrf-" + token,
		CreatedAt: created, ExpiresAt: created.Add(ttl), LastSeenAt: created}
}

func testAdminSessionLifecycle(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	u := createAdminUser(t, s, shop, "admin", at(0))
	_, err := s.GetAdminSession(ctx(t), kessai.HashKey("tok-missing"))
	wantErr(t, err, kessai.ErrNotFound)

	sess := newSession(u, "tok-1", at(time.Minute), 8*time.Hour)
	must(t, s.CreateAdminSession(ctx(t), sess))
	if sess.CreatedAt != us(at(time.Minute)) || sess.ExpiresAt != us(at(time.Minute+8*time.Hour)) {
		t.Fatalf("created session not normalised: %+v", sess)
	}
	wantErr(t, s.CreateAdminSession(ctx(t), newSession(u, "tok-1", at(2*time.Minute), time.Hour)), kessai.ErrDuplicate)

	// A session needs its user, in its shop.
	ghost := newSession(u, "tok-ghost", at(time.Minute), time.Hour)
	ghost.UserID = "adm_missing"
	wantErr(t, s.CreateAdminSession(ctx(t), ghost), kessai.ErrNotFound)
	foreign := newSession(u, "tok-foreign", at(time.Minute), time.Hour)
	foreign.ShopID = other
	wantErr(t, s.CreateAdminSession(ctx(t), foreign), kessai.ErrNotFound)

	got, err := s.GetAdminSession(ctx(t), kessai.HashKey("tok-1"))
	must(t, err)
	same(t, "session", *got, *sess)
	if !got.Active(at(time.Hour)) || got.Active(at(time.Minute+8*time.Hour)) {
		t.Fatalf("Active wrong around %v", got.ExpiresAt)
	}

	// Sliding expiry.
	must(t, s.TouchAdminSession(ctx(t), shop, sess.ID, at(time.Hour), at(9*time.Hour)))
	got, err = s.GetAdminSession(ctx(t), sess.ID)
	must(t, err)
	want := *sess
	want.LastSeenAt, want.ExpiresAt = us(at(time.Hour)), us(at(9*time.Hour))
	same(t, "touched session", *got, want)
	wantErr(t, s.TouchAdminSession(ctx(t), other, sess.ID, at(2*time.Hour), at(10*time.Hour)), kessai.ErrNotFound)
	wantErr(t, s.TouchAdminSession(ctx(t), shop, kessai.HashKey("tok-missing"), at(0), at(time.Hour)), kessai.ErrNotFound)

	// An expired session is still returned: the caller's clock decides.
	old := newSession(u, "tok-old", at(0), time.Minute)
	must(t, s.CreateAdminSession(ctx(t), old))
	got, err = s.GetAdminSession(ctx(t), old.ID)
	must(t, err)
	if got.Active(at(time.Hour)) {
		t.Fatal("expired session is active")
	}

	// Logout.
	wantErr(t, s.DeleteAdminSession(ctx(t), other, sess.ID), kessai.ErrNotFound)
	must(t, s.DeleteAdminSession(ctx(t), shop, sess.ID))
	_, err = s.GetAdminSession(ctx(t), sess.ID)
	wantErr(t, err, kessai.ErrNotFound)
	wantErr(t, s.DeleteAdminSession(ctx(t), shop, sess.ID), kessai.ErrNotFound)

	// Deleting the user deletes its remaining sessions.
	must(t, s.DeleteAdminUser(ctx(t), shop, u.ID))
	_, err = s.GetAdminSession(ctx(t), old.ID)
	wantErr(t, err, kessai.ErrNotFound)
}

func testAdminSessionDeleteOfUser(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	u := createAdminUser(t, s, shop, "admin", at(0))
	v := createAdminUser(t, s, shop, "staff@example.jp", at(0))
	w := newAdminUser(other, "admin", at(0))
	w.ID = u.ID // the same user id in another shop is another user
	must(t, s.CreateAdminUser(ctx(t), w))

	var uTokens []string
	for i := range 3 {
		tok := fmt.Sprintf("u-%d", i)
		uTokens = append(uTokens, tok)
		must(t, s.CreateAdminSession(ctx(t), newSession(u, tok, at(time.Duration(i)*time.Minute), time.Hour)))
	}
	must(t, s.CreateAdminSession(ctx(t), newSession(v, "v-0", at(0), time.Hour)))
	must(t, s.CreateAdminSession(ctx(t), newSession(w, "w-0", at(0), time.Hour)))

	n, err := s.DeleteAdminSessionsOfUser(ctx(t), shop, u.ID)
	must(t, err)
	if n != 3 {
		t.Fatalf("deleted %d sessions, want 3", n)
	}
	for _, tok := range uTokens {
		_, err := s.GetAdminSession(ctx(t), kessai.HashKey(tok))
		wantErr(t, err, kessai.ErrNotFound)
	}
	// The other user's and the other shop's sessions stay.
	for _, tok := range []string{"v-0", "w-0"} {
		_, err := s.GetAdminSession(ctx(t), kessai.HashKey(tok))
		must(t, err)
	}
	n, err = s.DeleteAdminSessionsOfUser(ctx(t), shop, u.ID)
	must(t, err)
	if n != 0 {
		t.Fatalf("deleted %d sessions the second time, want 0", n)
	}
	// The user itself stays.
	_, err = s.GetAdminUser(ctx(t), shop, u.ID)
	must(t, err)
}

func testAdminSessionPurge(t *testing.T, s kessai.Store) {
	shop, other := newShop(), newShop()
	u := createAdminUser(t, s, shop, "admin", at(0))
	w := createAdminUser(t, s, other, "admin", at(0))
	// Sessions of both shops expiring after 1, 2, 3 and 4 hours.
	var sessions []*kessai.AdminSession
	for i, owner := range []*kessai.AdminUser{u, w, u, w} {
		sess := newSession(owner, fmt.Sprintf("purge-%d", i), at(0), time.Duration(i+1)*time.Hour)
		must(t, s.CreateAdminSession(ctx(t), sess))
		sessions = append(sessions, sess)
	}
	n, err := s.PurgeAdminSessions(ctx(t), at(2*time.Hour+time.Minute))
	must(t, err)
	if n != 2 {
		t.Fatalf("purged %d sessions, want 2 (every shop's)", n)
	}
	for i, sess := range sessions {
		_, err := s.GetAdminSession(ctx(t), sess.ID)
		switch {
		case i < 2 && !errors.Is(err, kessai.ErrNotFound):
			t.Fatalf("expired session %d: %v, want ErrNotFound", i, err)
		case i >= 2 && err != nil:
			t.Fatalf("live session %d: %v", i, err)
		}
	}
	// "Before" is strict: a session expiring exactly at t stays.
	n, err = s.PurgeAdminSessions(ctx(t), sessions[2].ExpiresAt)
	must(t, err)
	if n != 0 {
		t.Fatalf("purged %d sessions expiring at or after t, want 0", n)
	}
	// A touched session escapes the purge.
	must(t, s.TouchAdminSession(ctx(t), shop, sessions[2].ID, at(2*time.Hour), at(24*time.Hour)))
	n, err = s.PurgeAdminSessions(ctx(t), at(5*time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("purged %d sessions, want 1 (the untouched one)", n)
	}
	_, err = s.GetAdminSession(ctx(t), sessions[2].ID)
	must(t, err)
}
