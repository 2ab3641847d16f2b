package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/kessai/kessai"
)

const adminUserCols = `shop_id, id, email, name, role, password_hash, failed_logins, locked_until, password_changed_at, created_at, updated_at`

// CreateAdminUser inserts a console user. ErrDuplicate when the shop
// already has a user with its ID or its Email.
func (s *Store) CreateAdminUser(ctx context.Context, u *kessai.AdminUser) error {
	const op = "create admin user"
	if err := need(op, "shop id", u.ShopID, "id", u.ID, "email", u.Email, "password hash", u.PasswordHash); err != nil {
		return err
	}
	u.LockedUntil = normOpt(u.LockedUntil)
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = norm(u.PasswordChangedAt), norm(u.CreatedAt), norm(u.UpdatedAt)
	n, err := s.execN(ctx, `INSERT INTO admin_users (`+adminUserCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ShopID, u.ID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.FailedLogins, optMicros(u.LockedUntil),
		micros(u.PasswordChangedAt), micros(u.CreatedAt), micros(u.UpdatedAt))
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return duplicate(op + " " + u.ID + " (email " + u.Email + ")")
	}
	return nil
}

func scanAdminUser(sc scanner) (*kessai.AdminUser, error) {
	var u kessai.AdminUser
	var locked sql.NullInt64
	var changed, created, updated int64
	if err := sc.Scan(&u.ShopID, &u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.FailedLogins, &locked,
		&changed, &created, &updated); err != nil {
		return nil, err
	}
	u.LockedUntil = fromOptMicros(locked)
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromMicros(changed), fromMicros(created), fromMicros(updated)
	return &u, nil
}

// GetAdminUser returns a console user of the shop.
func (s *Store) GetAdminUser(ctx context.Context, shopID, id string) (*kessai.AdminUser, error) {
	return get(ctx, s, "get admin user "+id, scanAdminUser,
		`SELECT `+adminUserCols+` FROM admin_users WHERE shop_id = ? AND id = ?`, shopID, id)
}

// FindAdminUserByEmail returns the shop's console user with the login
// name, compared exactly (the (shop_id, email) unique key serves it).
func (s *Store) FindAdminUserByEmail(ctx context.Context, shopID, email string) (*kessai.AdminUser, error) {
	return get(ctx, s, "find admin user by email", scanAdminUser,
		`SELECT `+adminUserCols+` FROM admin_users WHERE shop_id = ? AND email = ?`, shopID, email)
}

// ListAdminUsers returns the shop's console users, oldest first.
func (s *Store) ListAdminUsers(ctx context.Context, shopID string) ([]kessai.AdminUser, error) {
	return list(ctx, s, "list admin users", scanAdminUser,
		`SELECT `+adminUserCols+` FROM admin_users WHERE shop_id = ? ORDER BY created_at, id`, shopID)
}

// UpdateAdminUser writes a user's name, role, password hash, failed
// logins, lock and times; the email and CreatedAt stay.
func (s *Store) UpdateAdminUser(ctx context.Context, u *kessai.AdminUser) error {
	const op = "update admin user"
	if err := need(op, "password hash", u.PasswordHash); err != nil {
		return err
	}
	u.LockedUntil = normOpt(u.LockedUntil)
	u.PasswordChangedAt, u.UpdatedAt = norm(u.PasswordChangedAt), norm(u.UpdatedAt)
	n, err := s.execN(ctx, `UPDATE admin_users SET name = ?, role = ?, password_hash = ?, failed_logins = ?, locked_until = ?,
		password_changed_at = ?, updated_at = ? WHERE shop_id = ? AND id = ?`,
		u.Name, string(u.Role), u.PasswordHash, u.FailedLogins, optMicros(u.LockedUntil),
		micros(u.PasswordChangedAt), micros(u.UpdatedAt), u.ShopID, u.ID)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + u.ID)
	}
	return nil
}

// DeleteAdminUser deletes a console user; its sessions go with it (the
// foreign key cascades).
func (s *Store) DeleteAdminUser(ctx context.Context, shopID, id string) error {
	const op = "delete admin user"
	n, err := s.execN(ctx, `DELETE FROM admin_users WHERE shop_id = ? AND id = ?`, shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op + " " + id)
	}
	return nil
}

const adminSessionCols = `id, shop_id, user_id, csrf_token, created_at, expires_at, last_seen_at`

// CreateAdminSession inserts a session of an existing user: ErrNotFound
// when the shop has no such user, ErrDuplicate when the ID exists.
func (s *Store) CreateAdminSession(ctx context.Context, as *kessai.AdminSession) error {
	const op = "create admin session"
	if err := need(op, "shop id", as.ShopID, "id", as.ID, "user id", as.UserID); err != nil {
		return err
	}
	as.CreatedAt, as.ExpiresAt, as.LastSeenAt = norm(as.CreatedAt), norm(as.ExpiresAt), norm(as.LastSeenAt)
	n, err := s.execN(ctx, `INSERT INTO admin_sessions (`+adminSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		as.ID, as.ShopID, as.UserID, as.CSRFToken, micros(as.CreatedAt), micros(as.ExpiresAt), micros(as.LastSeenAt))
	if err != nil {
		return s.fail(op+" of user "+as.UserID, err)
	}
	if n == 0 {
		// The id is a hash: never put it in a message.
		return duplicate(op + " of user " + as.UserID)
	}
	return nil
}

func scanAdminSession(sc scanner) (*kessai.AdminSession, error) {
	var as kessai.AdminSession
	var created, expires, seen int64
	if err := sc.Scan(&as.ID, &as.ShopID, &as.UserID, &as.CSRFToken, &created, &expires, &seen); err != nil {
		return nil, err
	}
	as.CreatedAt, as.ExpiresAt, as.LastSeenAt = fromMicros(created), fromMicros(expires), fromMicros(seen)
	return &as, nil
}

// GetAdminSession finds a session by its hash, in any shop. Expired
// sessions are returned too (AdminSession.Active decides).
func (s *Store) GetAdminSession(ctx context.Context, id string) (*kessai.AdminSession, error) {
	return get(ctx, s, "get admin session", scanAdminSession,
		`SELECT `+adminSessionCols+` FROM admin_sessions WHERE id = ?`, id)
}

// TouchAdminSession sets a session's LastSeenAt and ExpiresAt.
func (s *Store) TouchAdminSession(ctx context.Context, shopID, id string, lastSeen, expires time.Time) error {
	const op = "touch admin session"
	n, err := s.execN(ctx, `UPDATE admin_sessions SET last_seen_at = ?, expires_at = ? WHERE shop_id = ? AND id = ?`,
		micros(lastSeen), micros(expires), shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// DeleteAdminSession deletes one session; ErrNotFound when there is none.
func (s *Store) DeleteAdminSession(ctx context.Context, shopID, id string) error {
	const op = "delete admin session"
	n, err := s.execN(ctx, `DELETE FROM admin_sessions WHERE shop_id = ? AND id = ?`, shopID, id)
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// DeleteAdminSessionsOfUser deletes every session of a user and returns
// how many it deleted (none is no error).
func (s *Store) DeleteAdminSessionsOfUser(ctx context.Context, shopID, userID string) (int64, error) {
	n, err := s.execN(ctx, `DELETE FROM admin_sessions WHERE shop_id = ? AND user_id = ?`, shopID, userID)
	if err != nil {
		return 0, s.fail("delete admin sessions of user "+userID, err)
	}
	return n, nil
}

// PurgeAdminSessions deletes every session (any shop) that expired before
// t.
func (s *Store) PurgeAdminSessions(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.execN(ctx, `DELETE FROM admin_sessions WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, s.fail("purge admin sessions", err)
	}
	return n, nil
}
