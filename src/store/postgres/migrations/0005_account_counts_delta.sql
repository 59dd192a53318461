-- Migration 5: additions to the account_counts counters (store::engine::Tx::add) as rows of
-- their own. Every create in an account adds to the same counters (users, audit entries,
-- notifications); as an update of one row, two concurrent creates conflicted (40001) and
-- one ran again, so creates in one account ran one at a time. An insert conflicts with
-- nothing. A counter's value is its account_counts row (8 bytes, big-endian, 0 if absent)
-- plus the sum of its rows here; the engine folds these rows into account_counts now and
-- then, so a read sums a few rows, not one per create.

CREATE TABLE account_counts_delta (key bytea NOT NULL, delta bigint NOT NULL);
CREATE INDEX account_counts_delta_key ON account_counts_delta (key);
