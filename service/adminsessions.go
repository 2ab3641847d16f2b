package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/kessai/kessai"
)

// Console session rules.
const (
	// AdminSessionIdle ends a session nobody used for this long.
	AdminSessionIdle = time.Hour
	// AdminSessionMax ends every session this long after login, however
	// active: a stolen cookie is not good for ever.
	AdminSessionMax = 12 * time.Hour
	// adminSessionTouch: activity moves the idle expiry forward at most
	// this often, so browsing the console does not write on every page.
	adminSessionTouch = time.Minute
)

// errNoSession is the one answer to a missing, unknown, expired or
// orphaned session: the browser goes back to the login page.
var errNoSession = kessai.Errorf(kessai.KindUnauthorized, "session_expired",
	"ログインの有効期限が切れました。再度ログインしてください。", "Your session has ended. Please log in again.")

// newSessionToken is 32 random bytes, URL-safe: what the browser's cookie
// holds. Only its hash is stored.
func newSessionToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// StartAdminSession opens a console session for a user who just logged in
// and returns the token for the browser's cookie. The session carries its
// own CSRF token, which every form of the session must send back.
func (s *Service) StartAdminSession(ctx context.Context, u *kessai.AdminUser) (string, *kessai.AdminSession, error) {
	token := newSessionToken()
	now := s.Now()
	sess := &kessai.AdminSession{ID: kessai.HashKey(token), ShopID: u.ShopID, UserID: u.ID, CSRFToken: newSessionToken(),
		CreatedAt: now, ExpiresAt: now.Add(AdminSessionIdle), LastSeenAt: now}
	if err := s.store.CreateAdminSession(ctx, sess); err != nil {
		return "", nil, storeErr(err, errNoSession)
	}
	return token, sess, nil
}

// AdminSession returns the live session of a browser token and its user,
// and records the activity (sliding idle expiry, never past
// AdminSessionMax). Anything else — no such session, expired, user
// deleted — is KindUnauthorized "session_expired"; an expired session is
// deleted on the way.
func (s *Service) AdminSession(ctx context.Context, token string) (*kessai.AdminSession, *kessai.AdminUser, error) {
	if token == "" || len(token) > 100 {
		return nil, nil, errNoSession
	}
	sess, err := s.store.GetAdminSession(ctx, kessai.HashKey(token))
	if err != nil {
		return nil, nil, storeErr(err, errNoSession)
	}
	now := s.Now()
	hardEnd := sess.CreatedAt.Add(AdminSessionMax)
	if !sess.Active(now) || !now.Before(hardEnd) {
		if err := s.store.DeleteAdminSession(ctx, sess.ShopID, sess.ID); err != nil && !errors.Is(err, kessai.ErrNotFound) {
			s.log.WarnContext(ctx, "service: delete expired admin session", "err", err)
		}
		return nil, nil, errNoSession
	}
	u, err := s.store.GetAdminUser(ctx, sess.ShopID, sess.UserID)
	if err != nil {
		return nil, nil, storeErr(err, errNoSession)
	}
	if now.Sub(sess.LastSeenAt) >= adminSessionTouch {
		expires := now.Add(AdminSessionIdle)
		if expires.After(hardEnd) {
			expires = hardEnd
		}
		if err := s.store.TouchAdminSession(ctx, sess.ShopID, sess.ID, now, expires); err != nil {
			return nil, nil, storeErr(err, errNoSession)
		}
		sess.LastSeenAt, sess.ExpiresAt = now, expires
	}
	return sess, u, nil
}

// EndAdminSession logs a browser out; an unknown token is not an error
// (logging out twice is harmless).
func (s *Service) EndAdminSession(ctx context.Context, shopID, token string) error {
	if token == "" || len(token) > 100 {
		return nil
	}
	err := s.store.DeleteAdminSession(ctx, shopID, kessai.HashKey(token))
	if err != nil && !errors.Is(err, kessai.ErrNotFound) {
		return storeErr(err, nil)
	}
	return nil
}
