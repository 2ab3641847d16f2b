-- Subscriptions and their renewals, PostgreSQL flavour.
-- sqlite/migrations/00005_subscriptions.sql is the same schema in
-- SQLite types; keep the two in step. Conventions as in 00001_init.sql.

-- +goose Up
CREATE TABLE subscriptions (
    shop_id              TEXT COLLATE "C"    NOT NULL,
    id                   TEXT COLLATE "C"    NOT NULL,
    customer_id          TEXT COLLATE "C"    NOT NULL,
    description          TEXT COLLATE "C"    NOT NULL,
    amount               BIGINT NOT NULL,
    currency             TEXT COLLATE "C"    NOT NULL,
    virtual              BOOLEAN NOT NULL,
    status               TEXT COLLATE "C"    NOT NULL,
    interval_unit        TEXT COLLATE "C"    NOT NULL,
    interval_count       BIGINT NOT NULL,
    anchor_day           BIGINT NOT NULL,
    start_at             BIGINT NOT NULL,
    trial_end            BIGINT,
    end_at               BIGINT,
    max_payments         BIGINT NOT NULL,
    first_billing_at     BIGINT NOT NULL,
    period               BIGINT NOT NULL,
    paid                 BIGINT NOT NULL,
    failures             BIGINT NOT NULL,
    hold                 TEXT COLLATE "C"    NOT NULL,
    next_attempt_at      BIGINT,
    cancel_at            BIGINT,
    cancel_at_period_end BOOLEAN NOT NULL,
    unconfirmed          BOOLEAN NOT NULL,
    wake_at              BIGINT, -- NULL: nothing happens by itself
    initial_order_id     TEXT COLLATE "C"    NOT NULL,
    metadata             TEXT COLLATE "C"    NOT NULL, -- JSON
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX subscriptions_customer ON subscriptions (shop_id, customer_id, id);
CREATE INDEX subscriptions_status ON subscriptions (shop_id, status, id);
-- The renewal engine's queue: only subscriptions that will wake are indexed.
CREATE INDEX subscriptions_wake ON subscriptions (wake_at, shop_id, id) WHERE wake_at IS NOT NULL;

CREATE TABLE subscription_renewals (
    shop_id         TEXT COLLATE "C"    NOT NULL,
    subscription_id TEXT COLLATE "C"    NOT NULL,
    period          BIGINT NOT NULL,
    order_id        TEXT COLLATE "C"    NOT NULL,
    status          TEXT COLLATE "C"    NOT NULL,
    attempts        BIGINT NOT NULL,
    codes           TEXT COLLATE "C"    NOT NULL, -- JSON
    due_at          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (shop_id, subscription_id, period),
    UNIQUE (shop_id, order_id),
    FOREIGN KEY (shop_id, subscription_id) REFERENCES subscriptions (shop_id, id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, id)
);

-- +goose Down
DROP TABLE subscription_renewals;
DROP TABLE subscriptions;
