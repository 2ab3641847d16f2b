-- Card checkout round trips and the single-flight rules, PostgreSQL
-- flavour of sqlite/migrations/00003_checkout.sql; keep the two in step.

-- +goose Up
CREATE TABLE checkout_sessions (
    shop_id        TEXT COLLATE "C" NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    order_id       TEXT COLLATE "C" NOT NULL,
    payment_id     TEXT COLLATE "C" NOT NULL,
    customer_id    TEXT COLLATE "C" NOT NULL,
    merchant_free1 TEXT COLLATE "C" NOT NULL,
    data           BYTEA,
    created_at     BIGINT           NOT NULL,
    expires_at     BIGINT           NOT NULL,
    consumed_at    BIGINT,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, merchant_free1)
);
CREATE INDEX checkout_sessions_open ON checkout_sessions (shop_id, order_id, id) WHERE consumed_at IS NULL;
CREATE INDEX checkout_sessions_expires ON checkout_sessions (expires_at);

ALTER TABLE payments ADD COLUMN secure_result_code TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN consent BOOLEAN NOT NULL DEFAULT FALSE;

CREATE UNIQUE INDEX payments_one_active ON payments (shop_id, order_id)
    WHERE state IN ('new', 'unknown', 'authorized', 'captured', 'pending', 'paid');
CREATE INDEX payments_customer ON payments (shop_id, customer_id, created_at);

CREATE UNIQUE INDEX attempts_one_pending ON attempts (shop_id, payment_id) WHERE status = 'pending';

-- +goose Down
DROP INDEX attempts_one_pending;
DROP INDEX payments_customer;
DROP INDEX payments_one_active;
ALTER TABLE payments DROP COLUMN consent;
ALTER TABLE payments DROP COLUMN secure_result_code;
DROP TABLE checkout_sessions;
