-- Admin console users and their sessions, PostgreSQL flavour.
-- sqlite/migrations/00002_admin_users.sql is the same schema in SQLite
-- types; keep the two in step. Conventions as in 00001_init.sql.

-- +goose Up
CREATE TABLE admin_users (
    shop_id             TEXT COLLATE "C" NOT NULL,
    id                  TEXT COLLATE "C" NOT NULL,
    email               TEXT COLLATE "C" NOT NULL, -- the login name, normalised by the service
    name                TEXT COLLATE "C" NOT NULL,
    role                TEXT COLLATE "C" NOT NULL, -- admin / readonly
    password_hash       TEXT COLLATE "C" NOT NULL, -- encoded argon2id, never shown
    failed_logins       BIGINT           NOT NULL,
    locked_until        BIGINT, -- NULL when not locked
    password_changed_at BIGINT           NOT NULL,
    created_at          BIGINT           NOT NULL,
    updated_at          BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, email)
);

-- A session's id is the SHA-256 of the token its browser holds, looked up
-- alone (before the shop is known), like api_keys.key_hash: it is the
-- primary key by itself. Deleting a user deletes its sessions.
CREATE TABLE admin_sessions (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY, -- hex SHA-256 of the session token
    shop_id      TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    csrf_token   TEXT COLLATE "C" NOT NULL,
    created_at   BIGINT           NOT NULL,
    expires_at   BIGINT           NOT NULL,
    last_seen_at BIGINT           NOT NULL,
    FOREIGN KEY (shop_id, user_id) REFERENCES admin_users (shop_id, id) ON DELETE CASCADE
);
CREATE INDEX admin_sessions_user ON admin_sessions (shop_id, user_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
DROP TABLE admin_users;
