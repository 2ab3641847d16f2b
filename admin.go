package kessai

import (
	"context"
	"time"
)

// AdminRole tells what an admin console user may do.
type AdminRole string

// Admin roles: an admin may change settings and operate payments; a
// read-only user (staff who answer customers) may only look.
const (
	RoleAdmin    AdminRole = "admin"
	RoleReadOnly AdminRole = "readonly"
)

// Valid reports whether r is one of the roles.
func (r AdminRole) Valid() bool { return r == RoleAdmin || r == RoleReadOnly }

// CanWrite reports whether the role may change anything.
func (r AdminRole) CanWrite() bool { return r == RoleAdmin }

// AdminUser is a user of a shop's admin console.
type AdminUser struct {
	ID     string `json:"id"`
	ShopID string `json:"-"`
	// Email is the login name, unique in the shop. Services store it
	// trimmed and in lower case, and look it up the same way.
	Email string    `json:"email"`
	Name  string    `json:"name"`
	Role  AdminRole `json:"role"`
	// PasswordHash is the encoded argon2id hash (package password); it is
	// never shown, not even to admins.
	PasswordHash string `json:"-"`
	// FailedLogins counts consecutive failed logins: a successful login
	// or a new password resets it, and the first failure after a
	// lock-out ended starts a new count.
	FailedLogins int `json:"failed_logins"`
	// LockedUntil, when in the future, refuses every login of the user.
	LockedUntil       time.Time `json:"locked_until,omitzero"`
	PasswordChangedAt time.Time `json:"password_changed_at"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Locked reports whether logins are refused at now.
func (u *AdminUser) Locked(now time.Time) bool {
	return !u.LockedUntil.IsZero() && now.Before(u.LockedUntil)
}

// AdminSession is a logged-in console session. The browser holds a random
// 32-byte token; only its hash (HashKey) is stored, as the ID, so a copy of
// the database lets nobody in.
type AdminSession struct {
	// ID is the hex SHA-256 of the session token (HashKey(token)).
	ID     string
	ShopID string
	UserID string
	// CSRFToken is the token every form of the session must carry.
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// Active reports whether the session can be used at now.
func (s *AdminSession) Active(now time.Time) bool { return now.Before(s.ExpiresAt) }

// AdminUserStore keeps admin console users and their sessions.
type AdminUserStore interface {
	// CreateAdminUser inserts a user; ErrDuplicate when the shop already
	// has a user with the same ID or Email.
	CreateAdminUser(ctx context.Context, u *AdminUser) error
	GetAdminUser(ctx context.Context, shopID, id string) (*AdminUser, error)
	// FindAdminUserByEmail finds the shop's user by login name (compared
	// exactly: normalising it is the caller's job).
	FindAdminUserByEmail(ctx context.Context, shopID, email string) (*AdminUser, error)
	// ListAdminUsers returns the shop's users, oldest first.
	ListAdminUsers(ctx context.Context, shopID string) ([]AdminUser, error)
	// UpdateAdminUser writes the mutable fields of an existing user: name,
	// role, password hash, failed logins, lock, PasswordChangedAt and
	// UpdatedAt (not the email).
	UpdateAdminUser(ctx context.Context, u *AdminUser) error
	// DeleteAdminUser deletes a user and its sessions.
	DeleteAdminUser(ctx context.Context, shopID, id string) error

	// CreateAdminSession inserts a session of an existing user
	// (ErrNotFound when the user does not exist, ErrDuplicate when the ID
	// does).
	CreateAdminSession(ctx context.Context, s *AdminSession) error
	// GetAdminSession finds a session by ID (the token's hash) in any
	// shop. Expired sessions are returned too: whether one is still
	// usable is the caller's decision (AdminSession.Active with its
	// clock).
	GetAdminSession(ctx context.Context, id string) (*AdminSession, error)
	// TouchAdminSession records activity: LastSeenAt and a new ExpiresAt
	// (sliding expiry).
	TouchAdminSession(ctx context.Context, shopID, id string, lastSeen, expires time.Time) error
	// DeleteAdminSession deletes one session (logout).
	DeleteAdminSession(ctx context.Context, shopID, id string) error
	// DeleteAdminSessionsOfUser deletes every session of a user (password
	// change, role change) and returns how many there were.
	DeleteAdminSessionsOfUser(ctx context.Context, shopID, userID string) (int64, error)
	// PurgeAdminSessions deletes sessions (any shop) that expired before
	// t.
	PurgeAdminSessions(ctx context.Context, before time.Time) (int64, error)
}
