-- Migration 6: what the node-local read cache (postgres::cache) needs to stay exact.
-- Every committed write takes a number from write_generation; each node polls its
-- last_value, drops its cache when it moves, and says so in its row of node_leases
-- (seen_generation). A write is answered only when every node with a live lease has seen
-- its number, or its lease has expired (expires_at, by the database's clock).

CREATE SEQUENCE write_generation;
CREATE TABLE node_leases (
    node_id bigint PRIMARY KEY,
    seen_generation bigint NOT NULL,
    expires_at timestamptz NOT NULL
);
