package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kessai/kessai"
	"github.com/kessai/kessai/password"
)

// Admin console account rules.
const (
	// MinAdminPasswordLen is the shortest password accepted, in
	// characters.
	MinAdminPasswordLen = 12
	// GeneratedAdminPasswordLen is the length of the passwords kessai
	// makes up (the first admin's, `kessai admin create-user` without
	// one): 16 characters of a 56-letter alphabet, about 92 bits.
	GeneratedAdminPasswordLen = 16
	// MaxAdminNameLen bounds a user's display name, in characters.
	MaxAdminNameLen = 100
	// MaxAdminLoginFailures consecutive failed logins lock the user out
	// for AdminLockout. Together they allow at most 480 guesses a day per
	// user, whatever the attacker's bandwidth.
	MaxAdminLoginFailures = 5
	// AdminLockout is how long a locked-out user waits.
	AdminLockout = 15 * time.Minute
	// AdminUserIDPrefix starts every admin user's ID ("adm_…").
	AdminUserIDPrefix = "adm"
	// BootstrapAdminEmail is the login name of the admin user created at
	// first start. It is not an e-mail address: the operator has not told
	// kessai one yet.
	BootstrapAdminEmail = "admin"
	// BootstrapAdminName is that user's display name.
	BootstrapAdminName = "管理者"
)

var (
	errAdminUserNotFound = notFound("admin_user", "管理ユーザーが見つかりません。", "No such admin user.")

	// errAdminLogin is the one answer to an unknown login name and to a
	// wrong password: nobody learns which users exist.
	errAdminLogin = kessai.Errorf(kessai.KindUnauthorized, "admin_login_failed",
		"ログイン名またはパスワードが正しくありません。", "The login name or password is incorrect.")

	errAdminLocked = kessai.Errorf(kessai.KindForbidden, "account_locked",
		fmt.Sprintf("ログインに %d 回続けて失敗したため、アカウントを一時的にロックしました。%d 分後に再度お試しください。",
			MaxAdminLoginFailures, int(AdminLockout/time.Minute)),
		fmt.Sprintf("The account is locked for %d minutes after %d failed logins in a row. Please try again later.",
			int(AdminLockout/time.Minute), MaxAdminLoginFailures))
)

// normalizeEmail is how login names are stored and looked up: trimmed and
// in lower case, so "Ops@Shop.example " logs in as ops@shop.example.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// validatePassword adds the errors of a new password to v.
func validatePassword(v *kessai.ValidationErrors, field, pw string) {
	switch {
	case !utf8.ValidString(pw):
		v.Add(field, "invalid_password", "パスワードに使用できない文字が含まれています。",
			"The password contains invalid characters.")
	case len(pw) > password.MaxLen:
		v.Add(field, "password_too_long",
			fmt.Sprintf("パスワードは %d バイト以内にしてください。", password.MaxLen),
			fmt.Sprintf("The password must be at most %d bytes.", password.MaxLen))
	case utf8.RuneCountInString(pw) < MinAdminPasswordLen:
		v.Add(field, "password_too_short",
			fmt.Sprintf("パスワードは %d 文字以上にしてください。", MinAdminPasswordLen),
			fmt.Sprintf("The password must be at least %d characters.", MinAdminPasswordLen))
	}
}

// hashPassword hashes a validated password; never call it inside a
// transaction (it takes a tenth of a second and 64 MiB on purpose).
func (s *Service) hashPassword(pw string) (string, error) {
	h, err := s.pw.Hash(pw)
	if err != nil {
		return "", kessai.Internal(err)
	}
	return h, nil
}

// CreateAdminUser adds a console user to the shop. email is the login
// name (stored in lower case), role admin or readonly, and the password at
// least MinAdminPasswordLen characters; all are checked at once. A user
// with the same email is KindConflict.
func (s *Service) CreateAdminUser(ctx context.Context, shopID, email, name string, role kessai.AdminRole, pw string) (*kessai.AdminUser, error) {
	email = normalizeEmail(email)
	var v kessai.ValidationErrors
	if !validEmail(email) {
		v.Add("email", "invalid_email", "メールアドレスの形式が正しくありません。", "The e-mail address is not valid.")
	}
	if utf8.RuneCountInString(name) > MaxAdminNameLen || !cleanText(name) {
		v.Add("name", "invalid_name",
			fmt.Sprintf("名前は %d 文字以内で指定してください（制御文字は不可）。", MaxAdminNameLen),
			fmt.Sprintf("The name must be at most %d characters without control characters.", MaxAdminNameLen))
	}
	if !role.Valid() {
		v.Add("role", "invalid_role", "権限は admin または readonly です。", "role must be admin or readonly.")
	}
	validatePassword(&v, "password", pw)
	if err := v.Err(); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(pw)
	if err != nil {
		return nil, err
	}
	return s.createAdminUser(ctx, s.store, shopID, email, strings.TrimSpace(name), role, hash)
}

func (s *Service) createAdminUser(ctx context.Context, st kessai.Store, shopID, email, name string, role kessai.AdminRole, hash string) (*kessai.AdminUser, error) {
	now := s.Now()
	u := &kessai.AdminUser{ID: kessai.NewID(AdminUserIDPrefix, now), ShopID: shopID, Email: email, Name: name, Role: role,
		PasswordHash: hash, PasswordChangedAt: now, CreatedAt: now, UpdatedAt: now}
	err := st.CreateAdminUser(ctx, u)
	if errors.Is(err, kessai.ErrDuplicate) {
		return nil, &kessai.Error{Kind: kessai.KindConflict, Code: "admin_user_exists", Field: "email",
			Ja: "このメールアドレスのユーザーは既に登録されています。", En: "A user with this e-mail address already exists.", Err: err}
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return u, nil
}

// ListAdminUsers lists the shop's console users, oldest first.
func (s *Service) ListAdminUsers(ctx context.Context, shopID string) ([]kessai.AdminUser, error) {
	us, err := s.store.ListAdminUsers(ctx, shopID)
	if err != nil {
		return nil, storeErr(err, nil)
	}
	return nonNil(us), nil
}

// AdminUserByEmail returns the shop's user with a login name.
func (s *Service) AdminUserByEmail(ctx context.Context, shopID, email string) (*kessai.AdminUser, error) {
	email = normalizeEmail(email)
	if email == "" || len(email) > MaxEmailLen {
		return nil, errAdminUserNotFound
	}
	u, err := s.store.FindAdminUserByEmail(ctx, shopID, email)
	if err != nil {
		return nil, storeErr(err, errAdminUserNotFound)
	}
	return u, nil
}

// AuthenticateAdmin checks a console login and returns the user.
//
//   - An unknown login name and a wrong password get the same
//     KindUnauthorized error, after the same work (a password hash is
//     checked either way), so neither the answer nor its timing tells
//     which users exist.
//   - MaxAdminLoginFailures wrong passwords in a row lock the user out
//     for AdminLockout: every login then gets KindForbidden
//     "account_locked", even with the right password, which is not even
//     checked. The count restarts when the lock ends; a successful login
//     or a password change (SetAdminPassword) resets it.
//   - A hash made with older parameters is replaced after a successful
//     login (password.NeedsRehash), so raising the cost reaches every
//     active user.
func (s *Service) AuthenticateAdmin(ctx context.Context, shopID, email, pw string) (*kessai.AdminUser, error) {
	email = normalizeEmail(email)
	if email == "" || len(email) > MaxEmailLen || pw == "" || len(pw) > password.MaxLen {
		return nil, errAdminLogin
	}
	u, err := s.store.FindAdminUserByEmail(ctx, shopID, email)
	if errors.Is(err, kessai.ErrNotFound) {
		_, _ = password.Verify(pw, s.dummyHash())
		return nil, errAdminLogin
	}
	if err != nil {
		return nil, storeErr(err, nil)
	}
	if u.Locked(s.Now()) {
		return nil, errAdminLocked
	}
	ok, err := s.checkPassword(u, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		locked, err := s.recordLoginFailure(ctx, u)
		if err != nil {
			return nil, err
		}
		if locked {
			s.log.WarnContext(ctx, "service: admin user locked out after failed logins", "shop", shopID, "user", u.ID)
			return nil, errAdminLocked
		}
		return nil, errAdminLogin
	}
	return s.recordLogin(ctx, u, pw)
}

// checkPassword verifies pw against the user's stored hash. A hash that
// cannot be read is a corrupted row: internal, not a wrong password.
func (s *Service) checkPassword(u *kessai.AdminUser, pw string) (bool, error) {
	ok, err := password.Verify(pw, u.PasswordHash)
	if errors.Is(err, password.ErrMalformed) {
		return false, kessai.Internal(fmt.Errorf("service: admin user %s: %w", u.ID, err))
	}
	return ok && err == nil, nil
}

// recordLoginFailure counts a wrong password and reports whether it locked
// the user. Read and write are one transaction, so concurrent failures
// each count (on PostgreSQL the loser of a race is retried on fresh data).
func (s *Service) recordLoginFailure(ctx context.Context, u *kessai.AdminUser) (locked bool, err error) {
	err = s.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetAdminUser(ctx, u.ShopID, u.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		locked = cur.Locked(now)
		if locked {
			return nil // a concurrent failure locked it meanwhile
		}
		if !cur.LockedUntil.IsZero() {
			// The last lock is over: a new series of attempts.
			cur.FailedLogins, cur.LockedUntil = 0, time.Time{}
		}
		cur.FailedLogins++
		if cur.FailedLogins >= MaxAdminLoginFailures {
			cur.LockedUntil = now.Add(AdminLockout)
			locked = true
		}
		cur.UpdatedAt = now
		return tx.UpdateAdminUser(ctx, cur)
	})
	if err != nil {
		return false, storeErr(err, errAdminLogin) // a user deleted meanwhile is just a failed login
	}
	return locked, nil
}

// recordLogin clears the failure count of a user who just logged in and
// replaces an outdated hash of pw.
func (s *Service) recordLogin(ctx context.Context, u *kessai.AdminUser, pw string) (*kessai.AdminUser, error) {
	var rehash string
	if s.pw.NeedsRehash(u.PasswordHash) {
		var err error
		if rehash, err = s.hashPassword(pw); err != nil {
			return nil, err
		}
	}
	if u.FailedLogins == 0 && u.LockedUntil.IsZero() && rehash == "" {
		return u, nil // nothing to write: the common case costs no transaction
	}
	var out *kessai.AdminUser
	err := s.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetAdminUser(ctx, u.ShopID, u.ID)
		if err != nil {
			return err
		}
		// Only the hash that was just verified is replaced: a password
		// changed meanwhile stays changed.
		if rehash != "" && cur.PasswordHash == u.PasswordHash {
			cur.PasswordHash = rehash
		}
		cur.FailedLogins, cur.LockedUntil = 0, time.Time{}
		cur.UpdatedAt = s.Now()
		out = cur
		return tx.UpdateAdminUser(ctx, cur)
	})
	if err != nil {
		return nil, storeErr(err, errAdminLogin)
	}
	return out, nil
}

// ChangeAdminPassword is a user changing their own password: current must
// be right (a wrong one counts as a failed login, so the form cannot be
// used to guess), next must be a valid password different from it. See
// SetAdminPassword for what else changes.
func (s *Service) ChangeAdminPassword(ctx context.Context, shopID, userID, current, next string) error {
	var v kessai.ValidationErrors
	if current == "" {
		v.Add("current_password", "required", "現在のパスワードを入力してください。", "Enter the current password.")
	}
	validatePassword(&v, "new_password", next)
	if len(v) == 0 && next == current {
		v.Add("new_password", "password_unchanged", "新しいパスワードが現在のパスワードと同じです。",
			"The new password is the same as the current one.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !plausibleID(userID) {
		return errAdminUserNotFound
	}
	u, err := s.store.GetAdminUser(ctx, shopID, userID)
	if err != nil {
		return storeErr(err, errAdminUserNotFound)
	}
	if u.Locked(s.Now()) {
		return errAdminLocked
	}
	ok := false
	if len(current) <= password.MaxLen {
		if ok, err = s.checkPassword(u, current); err != nil {
			return err
		}
	}
	if !ok {
		locked, err := s.recordLoginFailure(ctx, u)
		if err != nil {
			return err
		}
		if locked {
			return errAdminLocked
		}
		return kessai.ValidationErrors{kessai.FieldError("current_password", "wrong_password",
			"現在のパスワードが正しくありません。", "The current password is incorrect.")}
	}
	return s.setPassword(ctx, u, next)
}

// SetAdminPassword gives a user a new password without asking for the old
// one: an administrator's reset (`kessai admin set-password`). Like
// ChangeAdminPassword it also lifts a lock-out, clears the failure count
// and ends every session of the user.
func (s *Service) SetAdminPassword(ctx context.Context, shopID, userID, next string) error {
	var v kessai.ValidationErrors
	validatePassword(&v, "password", next)
	if err := v.Err(); err != nil {
		return err
	}
	if !plausibleID(userID) {
		return errAdminUserNotFound
	}
	u, err := s.store.GetAdminUser(ctx, shopID, userID)
	if err != nil {
		return storeErr(err, errAdminUserNotFound)
	}
	return s.setPassword(ctx, u, next)
}

func (s *Service) setPassword(ctx context.Context, u *kessai.AdminUser, next string) error {
	hash, err := s.hashPassword(next)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx kessai.Store) error {
		cur, err := tx.GetAdminUser(ctx, u.ShopID, u.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		cur.PasswordHash, cur.PasswordChangedAt, cur.UpdatedAt = hash, now, now
		cur.FailedLogins, cur.LockedUntil = 0, time.Time{}
		if err := tx.UpdateAdminUser(ctx, cur); err != nil {
			return err
		}
		// Whoever knew the old password is logged out everywhere.
		_, err = tx.DeleteAdminSessionsOfUser(ctx, cur.ShopID, cur.ID)
		return err
	})
	if err != nil {
		return storeErr(err, errAdminUserNotFound)
	}
	s.log.InfoContext(ctx, "service: admin password changed", "shop", u.ShopID, "user", u.ID)
	return nil
}
