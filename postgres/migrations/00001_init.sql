-- kessai schema, PostgreSQL flavour. sqlite/migrations/00001_init.sql is the
-- same schema in SQLite types; keep the two in step.
--
-- Conventions (see package sqlstore):
--   * ids are TEXT (kessai.NewID: time-ordered, so "ORDER BY id" is
--     creation order and serves cursor pagination); every TEXT column is
--     COLLATE "C" so that ordering and comparison are bytewise, as in
--     SQLite, whatever locale the database was created with;
--   * money is BIGINT yen; times are BIGINT microseconds since the Unix
--     epoch, UTC (NULL = not set), never timestamptz, so that ordering and
--     range queries behave exactly as on SQLite whatever the session time
--     zone;
--   * JSON documents are TEXT (not jsonb: the bytes read back are the bytes
--     written); secrets are BYTEA sealed by kessai.Sealer;
--   * every table carries shop_id and every key starts with it, so each
--     query is scoped to one shop and uses an index.
--
-- Shops are not referenced by foreign keys on purpose: a row of an unknown
-- shop can never be reached (every lookup names its shop), and services'
-- tests can use any shop id without creating the shop first.

-- +goose Up
CREATE TABLE shops (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT           NOT NULL
);

CREATE TABLE settings (
    shop_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    doc     BYTEA            NOT NULL, -- sealed JSON document
    version BIGINT           NOT NULL -- optimistic lock, 1 after the first save
);

CREATE TABLE api_keys (
    shop_id    TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    hint       TEXT COLLATE "C" NOT NULL,
    key_hash   TEXT COLLATE "C" NOT NULL UNIQUE, -- hex SHA-256, looked up across shops
    created_at BIGINT           NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (shop_id, id)
);

CREATE TABLE orders (
    shop_id       TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    shop_order_id TEXT COLLATE "C", -- NULL when the shop gave none (NULLs never collide)
    amount        BIGINT           NOT NULL,
    currency      TEXT COLLATE "C" NOT NULL,
    items         TEXT COLLATE "C" NOT NULL, -- JSON
    customer_id   TEXT COLLATE "C" NOT NULL,
    billing       TEXT COLLATE "C" NOT NULL, -- JSON
    status        TEXT COLLATE "C" NOT NULL,
    return_url    TEXT COLLATE "C" NOT NULL,
    metadata      TEXT COLLATE "C" NOT NULL, -- JSON
    created_at    BIGINT           NOT NULL,
    updated_at    BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, shop_order_id)
);
CREATE INDEX orders_status ON orders (shop_id, status, id);
CREATE INDEX orders_customer ON orders (shop_id, customer_id, id);
CREATE INDEX orders_created ON orders (shop_id, created_at);

CREATE TABLE payments (
    shop_id          TEXT COLLATE "C" NOT NULL,
    id               TEXT COLLATE "C" NOT NULL,
    order_id         TEXT COLLATE "C" NOT NULL,
    method           TEXT COLLATE "C" NOT NULL,
    state            TEXT COLLATE "C" NOT NULL,
    amount           BIGINT           NOT NULL,
    fee              BIGINT           NOT NULL,
    currency         TEXT COLLATE "C" NOT NULL,
    transaction_code TEXT COLLATE "C" NOT NULL, -- MerchantFree1
    operation        TEXT COLLATE "C" NOT NULL,
    pay_type         TEXT COLLATE "C" NOT NULL,
    process_id       TEXT COLLATE "C" NOT NULL,
    process_pass     BYTEA, -- sealed
    with_member      BOOLEAN          NOT NULL,
    customer_id      TEXT COLLATE "C" NOT NULL,
    free_area        TEXT COLLATE "C" NOT NULL,
    pay_limit        TEXT COLLATE "C" NOT NULL,
    paid_at          BIGINT,
    cvs_cd           TEXT COLLATE "C" NOT NULL,
    failure_codes    TEXT COLLATE "C" NOT NULL, -- JSON
    created_at       BIGINT           NOT NULL,
    updated_at       BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id)
);
CREATE INDEX payments_order ON payments (shop_id, order_id, id);
CREATE INDEX payments_code ON payments (shop_id, transaction_code, id);
CREATE INDEX payments_state ON payments (shop_id, state, id);

CREATE TABLE attempts (
    shop_id        TEXT COLLATE "C" NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    payment_id     TEXT COLLATE "C" NOT NULL,
    operation      TEXT COLLATE "C" NOT NULL,
    merchant_free1 TEXT COLLATE "C" NOT NULL,
    amount         BIGINT           NOT NULL,
    status         TEXT COLLATE "C" NOT NULL,
    codes          TEXT COLLATE "C" NOT NULL, -- JSON
    resolution     TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT           NOT NULL,
    finished_at    BIGINT,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, payment_id) REFERENCES payments (shop_id, id)
);
CREATE INDEX attempts_payment ON attempts (shop_id, payment_id, id);
CREATE INDEX attempts_status ON attempts (shop_id, status, id);

CREATE TABLE payment_history (
    shop_id        TEXT COLLATE "C" NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    payment_id     TEXT COLLATE "C" NOT NULL,
    happened_at    BIGINT           NOT NULL,
    transaction_id TEXT COLLATE "C" NOT NULL,
    operation      TEXT COLLATE "C" NOT NULL,
    response_cd    TEXT COLLATE "C" NOT NULL,
    amount         BIGINT           NOT NULL,
    fields         TEXT COLLATE "C" NOT NULL, -- JSON, masked by the caller
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, payment_id) REFERENCES payments (shop_id, id)
);
CREATE INDEX payment_history_payment ON payment_history (shop_id, payment_id, happened_at, id);

CREATE TABLE members (
    shop_id     TEXT COLLATE "C" NOT NULL,
    customer_id TEXT COLLATE "C" NOT NULL,
    kaiin_id    TEXT COLLATE "C" NOT NULL,
    kaiin_pass  BYTEA, -- sealed
    created_at  BIGINT           NOT NULL,
    updated_at  BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, customer_id)
);

CREATE TABLE events (
    shop_id       TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    event_type    TEXT COLLATE "C" NOT NULL,
    data          TEXT COLLATE "C" NOT NULL, -- JSON
    created_at    BIGINT           NOT NULL,
    dispatched_at BIGINT, -- NULL until its deliveries are queued
    PRIMARY KEY (shop_id, id)
);
-- The outbox: only undispatched events are indexed, so the index stays as
-- small as the backlog however many events the shop has had.
CREATE INDEX events_undispatched ON events (created_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_endpoints (
    shop_id     TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    url         TEXT COLLATE "C" NOT NULL,
    secret      BYTEA, -- sealed
    event_types TEXT COLLATE "C" NOT NULL, -- JSON array, [] or null = every event
    enabled     BOOLEAN          NOT NULL,
    created_at  BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, id)
);

-- Deliveries keep no foreign key to their endpoint: the log outlives a
-- deleted endpoint.
CREATE TABLE webhook_deliveries (
    shop_id       TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    event_id      TEXT COLLATE "C" NOT NULL,
    endpoint_id   TEXT COLLATE "C" NOT NULL,
    attempt       BIGINT           NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    http_status   BIGINT           NOT NULL,
    error_message TEXT COLLATE "C" NOT NULL,
    duration_ms   BIGINT           NOT NULL,
    delivered_at  BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, event_id) REFERENCES events (shop_id, id)
);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (shop_id, event_id, id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (shop_id, endpoint_id, id);

CREATE TABLE idempotency_keys (
    shop_id     TEXT COLLATE "C" NOT NULL,
    idem_key    TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    state       TEXT COLLATE "C" NOT NULL,
    status_code BIGINT           NOT NULL,
    body        BYTEA, -- sealed: a replayed response may carry a secret shown once
    created_at  BIGINT           NOT NULL,
    expires_at  BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, idem_key)
);
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
