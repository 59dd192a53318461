//! The account counters (`Table::AccountCounts`) as a row plus additions.
//!
//! Every create in an account adds to the same counters (its users, audit entries, logged
//! emails). Kept as one row each, two concurrent creates both updated it, and under
//! SERIALIZABLE the second failed (40001) and ran again: creates in one account ran one at a
//! time, and at 16 concurrent clients a create waited hundreds of milliseconds through its
//! retries. So [`Tx::add`](crate::store::engine::Tx::add) inserts a row of its own in
//! `account_counts_delta` (migration 5), which conflicts with nothing, and a counter reads
//! as its `account_counts` row (0 if absent) plus the sum of its additions. A put or delete
//! of a counter removes its additions first, so it sets the value as before.
//!
//! So that a read sums a few rows and not one per create, every [`FOLD_EVERY`]th commit that
//! added folds its counters' additions into their rows, in a statement of its own after the
//! commit (see [`FOLD`]); a fold that fails changes nothing and the next one folds the rows.

/// The counter's row and the sum of its additions (both `NULL` when absent): see [`value`].
pub const GET: &str = "SELECT (SELECT value FROM account_counts WHERE key = $1), \
     (SELECT sum(delta)::bigint FROM account_counts_delta WHERE key = $1)";

pub const ADD: &str = "INSERT INTO account_counts_delta (key, delta) VALUES ($1, $2)";

pub const PUT: &str = "WITH gone AS (DELETE FROM account_counts_delta WHERE key = $1) \
     INSERT INTO account_counts (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";

pub const DELETE: &str = "WITH gone AS (DELETE FROM account_counts_delta WHERE key = $1) \
     DELETE FROM account_counts WHERE key = $1";

/// Moves the additions of a counter into its row, in one statement run on its own (READ
/// COMMITTED): the additions it deletes are the ones it adds, and `DO UPDATE` adds them to
/// the row as it is when locked, so two folds at once lose nothing. It changes no counter's
/// value, so a SERIALIZABLE transaction sees the same value before and after it.
pub const FOLD: &str =
    "WITH gone AS (DELETE FROM account_counts_delta WHERE key = $1 RETURNING delta), \
     total AS (SELECT sum(delta)::bigint AS n FROM gone HAVING count(*) > 0) \
     INSERT INTO account_counts (key, value) SELECT $1, int8send(n) FROM total \
     ON CONFLICT (key) DO UPDATE SET value = int8send(greatest(0, \
     CASE WHEN length(account_counts.value) = 8 \
     THEN ('x' || encode(account_counts.value, 'hex'))::bit(64)::bigint ELSE 0 END \
     + ('x' || encode(EXCLUDED.value, 'hex'))::bit(64)::bigint))";

/// Commits with additions per fold (engine-wide).
pub const FOLD_EVERY: u64 = 16;

/// A counter's value from its row and the sum of its additions, as `Tx::add` counts: the
/// row as stored when nothing was added since it was written.
pub fn value(row: Option<Vec<u8>>, added: Option<i64>) -> Option<Vec<u8>> {
    let Some(added) = added else {
        return row;
    };
    let Some(row) = row else {
        return Some((added.max(0) as u64).to_be_bytes().to_vec());
    };
    let base = crate::store::engine::counter_value(&row) as i64;
    Some(
        (base.saturating_add(added).max(0) as u64)
            .to_be_bytes()
            .to_vec(),
    )
}
