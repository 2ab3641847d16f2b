-- Subscriptions and their renewals, SQLite flavour.
-- postgres/migrations/00005_subscriptions.sql is the same schema in
-- PostgreSQL types; keep the two in step. Conventions as in 00001_init.sql.

-- +goose Up
CREATE TABLE subscriptions (
    shop_id              TEXT    NOT NULL,
    id                   TEXT    NOT NULL,
    customer_id          TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    amount               INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    virtual              INTEGER NOT NULL, -- 0/1
    status               TEXT    NOT NULL,
    interval_unit        TEXT    NOT NULL,
    interval_count       INTEGER NOT NULL,
    anchor_day           INTEGER NOT NULL,
    start_at             INTEGER NOT NULL,
    trial_end            INTEGER,
    end_at               INTEGER,
    max_payments         INTEGER NOT NULL,
    first_billing_at     INTEGER NOT NULL,
    period               INTEGER NOT NULL,
    paid                 INTEGER NOT NULL,
    failures             INTEGER NOT NULL,
    hold                 TEXT    NOT NULL,
    next_attempt_at      INTEGER,
    cancel_at            INTEGER,
    cancel_at_period_end INTEGER NOT NULL, -- 0/1
    unconfirmed          INTEGER NOT NULL, -- 0/1
    wake_at              INTEGER, -- NULL: nothing happens by itself
    initial_order_id     TEXT    NOT NULL,
    metadata             TEXT    NOT NULL, -- JSON
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id)
) STRICT;
CREATE INDEX subscriptions_customer ON subscriptions (shop_id, customer_id, id);
CREATE INDEX subscriptions_status ON subscriptions (shop_id, status, id);
-- The renewal engine's queue: only subscriptions that will wake are indexed.
CREATE INDEX subscriptions_wake ON subscriptions (wake_at, shop_id, id) WHERE wake_at IS NOT NULL;

CREATE TABLE subscription_renewals (
    shop_id         TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    period          INTEGER NOT NULL,
    order_id        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    codes           TEXT    NOT NULL, -- JSON
    due_at          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (shop_id, subscription_id, period),
    UNIQUE (shop_id, order_id),
    FOREIGN KEY (shop_id, subscription_id) REFERENCES subscriptions (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id)
) STRICT;

-- +goose Down
DROP TABLE subscription_renewals;
DROP TABLE subscriptions;
