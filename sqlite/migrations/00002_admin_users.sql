-- Admin console users and their sessions, SQLite flavour.
-- postgres/migrations/00002_admin_users.sql is the same schema in
-- PostgreSQL types; keep the two in step. Conventions as in 00001_init.sql.

-- +goose Up
CREATE TABLE admin_users (
    shop_id             TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    email               TEXT    NOT NULL, -- the login name, normalised by the service
    name                TEXT    NOT NULL,
    role                TEXT    NOT NULL, -- admin / readonly
    password_hash       TEXT    NOT NULL, -- encoded argon2id, never shown
    failed_logins       INTEGER NOT NULL,
    locked_until        INTEGER, -- NULL when not locked
    password_changed_at INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, email)
) STRICT;

-- A session's id is the SHA-256 of the token its browser holds, looked up
-- alone (before the shop is known), like api_keys.key_hash: it is the
-- primary key by itself. Deleting a user deletes its sessions.
CREATE TABLE admin_sessions (
    id           TEXT    NOT NULL PRIMARY KEY, -- hex SHA-256 of the session token
    shop_id      TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    FOREIGN KEY (shop_id, user_id) REFERENCES admin_users (shop_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX admin_sessions_user ON admin_sessions (shop_id, user_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
DROP TABLE admin_users;
