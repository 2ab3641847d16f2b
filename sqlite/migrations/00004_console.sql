-- Read paths of the admin console: the dashboard aggregates payments by
-- creation time. The same index in both databases (sqlite and postgres
-- migrations 00004 are identical); conventions as in 00001_init.sql.

-- +goose Up
CREATE INDEX payments_created ON payments (shop_id, created_at);

-- +goose Down
DROP INDEX payments_created;
