-- kessai schema, SQLite flavour. postgres/migrations/00001_init.sql is the
-- same schema in PostgreSQL types; keep the two in step.
--
-- Conventions (see package sqlstore):
--   * ids are TEXT (kessai.NewID: time-ordered, so "ORDER BY id" is
--     creation order and serves cursor pagination);
--   * money is INTEGER yen; times are INTEGER microseconds since the Unix
--     epoch, UTC (NULL = not set);
--   * JSON documents are TEXT; secrets are BLOBs sealed by kessai.Sealer;
--   * every table carries shop_id and every key starts with it, so each
--     query is scoped to one shop and uses an index;
--   * tables are STRICT: SQLite refuses a value of the wrong type instead
--     of silently storing it, as PostgreSQL would.
--
-- Shops are not referenced by foreign keys on purpose: a row of an unknown
-- shop can never be reached (every lookup names its shop), and services'
-- tests can use any shop id without creating the shop first.

-- +goose Up
CREATE TABLE shops (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE settings (
    shop_id TEXT    NOT NULL PRIMARY KEY,
    doc     BLOB    NOT NULL, -- sealed JSON document
    version INTEGER NOT NULL -- optimistic lock, 1 after the first save
) STRICT;

CREATE TABLE api_keys (
    shop_id    TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    hint       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE, -- hex SHA-256, looked up across shops
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (shop_id, id)
) STRICT;

CREATE TABLE orders (
    shop_id       TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    shop_order_id TEXT, -- NULL when the shop gave none (NULLs never collide)
    amount        INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    items         TEXT    NOT NULL, -- JSON
    customer_id   TEXT    NOT NULL,
    billing       TEXT    NOT NULL, -- JSON
    status        TEXT    NOT NULL,
    return_url    TEXT    NOT NULL,
    metadata      TEXT    NOT NULL, -- JSON
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, shop_order_id)
) STRICT;
CREATE INDEX orders_status ON orders (shop_id, status, id);
CREATE INDEX orders_customer ON orders (shop_id, customer_id, id);
CREATE INDEX orders_created ON orders (shop_id, created_at);

CREATE TABLE payments (
    shop_id          TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    order_id         TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    amount           INTEGER NOT NULL,
    fee              INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    transaction_code TEXT    NOT NULL, -- MerchantFree1
    operation        TEXT    NOT NULL,
    pay_type         TEXT    NOT NULL,
    process_id       TEXT    NOT NULL,
    process_pass     BLOB, -- sealed
    with_member      INTEGER NOT NULL, -- 0/1
    customer_id      TEXT    NOT NULL,
    free_area        TEXT    NOT NULL,
    pay_limit        TEXT    NOT NULL,
    paid_at          INTEGER,
    cvs_cd           TEXT    NOT NULL,
    failure_codes    TEXT    NOT NULL, -- JSON
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id)
) STRICT;
CREATE INDEX payments_order ON payments (shop_id, order_id, id);
CREATE INDEX payments_code ON payments (shop_id, transaction_code, id);
CREATE INDEX payments_state ON payments (shop_id, state, id);

CREATE TABLE attempts (
    shop_id        TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    payment_id     TEXT    NOT NULL,
    operation      TEXT    NOT NULL,
    merchant_free1 TEXT    NOT NULL,
    amount         INTEGER NOT NULL,
    status         TEXT    NOT NULL,
    codes          TEXT    NOT NULL, -- JSON
    resolution     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    finished_at    INTEGER,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, payment_id) REFERENCES payments (shop_id, id)
) STRICT;
CREATE INDEX attempts_payment ON attempts (shop_id, payment_id, id);
CREATE INDEX attempts_status ON attempts (shop_id, status, id);

CREATE TABLE payment_history (
    shop_id        TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    payment_id     TEXT    NOT NULL,
    happened_at    INTEGER NOT NULL,
    transaction_id TEXT    NOT NULL,
    operation      TEXT    NOT NULL,
    response_cd    TEXT    NOT NULL,
    amount         INTEGER NOT NULL,
    fields         TEXT    NOT NULL, -- JSON, masked by the caller
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, payment_id) REFERENCES payments (shop_id, id)
) STRICT;
CREATE INDEX payment_history_payment ON payment_history (shop_id, payment_id, happened_at, id);

CREATE TABLE members (
    shop_id     TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    kaiin_id    TEXT    NOT NULL,
    kaiin_pass  BLOB, -- sealed
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, customer_id)
) STRICT;

CREATE TABLE events (
    shop_id       TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    data          TEXT    NOT NULL, -- JSON
    created_at    INTEGER NOT NULL,
    dispatched_at INTEGER, -- NULL until its deliveries are queued
    PRIMARY KEY (shop_id, id)
) STRICT;
-- The outbox: only undispatched events are indexed, so the index stays as
-- small as the backlog however many events the shop has had.
CREATE INDEX events_undispatched ON events (created_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_endpoints (
    shop_id     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    secret      BLOB, -- sealed
    event_types TEXT    NOT NULL, -- JSON array, [] or null = every event
    enabled     INTEGER NOT NULL, -- 0/1
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id)
) STRICT;

-- Deliveries keep no foreign key to their endpoint: the log outlives a
-- deleted endpoint.
CREATE TABLE webhook_deliveries (
    shop_id       TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    event_id      TEXT    NOT NULL,
    endpoint_id   TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    status        TEXT    NOT NULL,
    http_status   INTEGER NOT NULL,
    error_message TEXT    NOT NULL,
    duration_ms   INTEGER NOT NULL,
    delivered_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, event_id) REFERENCES events (shop_id, id)
) STRICT;
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (shop_id, event_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (shop_id, endpoint_id, id);

CREATE TABLE idempotency_keys (
    shop_id     TEXT    NOT NULL,
    idem_key    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    status_code INTEGER NOT NULL,
    body        BLOB, -- sealed: a replayed response may carry a secret shown once
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (shop_id, idem_key)
) STRICT;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE events;
DROP TABLE members;
DROP TABLE payment_history;
DROP TABLE attempts;
DROP TABLE payments;
DROP TABLE orders;
DROP TABLE api_keys;
DROP TABLE settings;
DROP TABLE shops;
