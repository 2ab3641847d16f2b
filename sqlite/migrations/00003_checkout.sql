-- Card checkout round trips and the single-flight rules, SQLite flavour.
-- postgres/migrations/00003_checkout.sql is the same schema in PostgreSQL
-- types; keep the two in step. Conventions as in 00001_init.sql.

-- +goose Up
-- A checkout waiting for the shopper's browser to come back from the
-- gateway (3-D Secure or the link-type card page), found by the
-- MerchantFree1 the gateway echoes and consumed once.
CREATE TABLE checkout_sessions (
    shop_id        TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    order_id       TEXT    NOT NULL, -- '' for a saved-card registration
    payment_id     TEXT    NOT NULL,
    customer_id    TEXT    NOT NULL,
    merchant_free1 TEXT    NOT NULL,
    data           BLOB, -- sealed JSON: may hold the one-time card token
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    consumed_at    INTEGER, -- NULL until a return used it
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, merchant_free1)
) STRICT;
CREATE INDEX checkout_sessions_open ON checkout_sessions (shop_id, order_id, id) WHERE consumed_at IS NULL;
CREATE INDEX checkout_sessions_expires ON checkout_sessions (expires_at);

ALTER TABLE payments ADD COLUMN secure_result_code TEXT NOT NULL DEFAULT '';
ALTER TABLE payments ADD COLUMN consent INTEGER NOT NULL DEFAULT 0; -- 0/1

-- At most one active payment per order: two simultaneous checkouts of one
-- order cannot both charge (kessai.PaymentState.Active lists the states).
CREATE UNIQUE INDEX payments_one_active ON payments (shop_id, order_id)
    WHERE state IN ('new', 'unknown', 'authorized', 'captured', 'pending', 'paid');
CREATE INDEX payments_customer ON payments (shop_id, customer_id, created_at);

-- At most one gateway call in flight per payment: of two operators
-- clicking "capture" at once, one reaches the gateway.
CREATE UNIQUE INDEX attempts_one_pending ON attempts (shop_id, payment_id) WHERE status = 'pending';

-- +goose Down
DROP INDEX attempts_one_pending;
DROP INDEX payments_customer;
DROP INDEX payments_one_active;
ALTER TABLE payments DROP COLUMN consent;
ALTER TABLE payments DROP COLUMN secure_result_code;
DROP TABLE checkout_sessions;
