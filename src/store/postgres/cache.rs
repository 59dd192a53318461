//! A node-local read cache: point reads outside a transaction (`get`, `get_many`) answered
//! from memory while nothing changed, with revocations still immediate on every node.
//!
//! **Invalidation.** Every committed transaction that wrote something drops the keys it
//! wrote from this node's cache at once, then takes a number `g` from the
//! `write_generation` sequence ([`announce`]). Each node polls the sequence's `last_value`
//! ([`keep_lease`]); when it moved by a number the node did not take itself, the node clears
//! its cache, and it reports the number in its row of `node_leases` (`seen_generation`). The
//! write is answered only when every other node whose lease is live has seen `g` or its
//! lease has expired: so when a client has the answer of a revocation, no node still holds
//! what was revoked.
//!
//! **Reads never go back in time.** A transaction may read what another node committed and
//! this node has not seen announced yet; a later read on this node must not then answer the
//! older value from the cache. So every transaction clears this node's cache when it ends
//! ([`Cache::after_transaction`]), except one that committed a write on a node that is
//! alone (no other live lease at its last renewal): so a node alone under a steady stream
//! of writes keeps answering its authentications from memory, its writes dropping only what
//! they wrote. The gap this leaves: a node that joins is seen by the next renewal
//! ([`RENEW_EVERY`]); until then, a write here may read a write of the newcomer and a later
//! read here still answer the value before it. That write of the newcomer is not answered
//! yet (it waits for this node's lease, "Leases"), and this node clears its cache when its
//! poller sees the newcomer's number, within [`RENEW_EVERY`].
//!
//! **Leases.** A node renews its lease (`expires_at`, [`LEASE`] ahead by the database's
//! clock) every [`RENEW_EVERY`], and serves from its cache only until the time it sent its
//! last successful renewal plus the lease less a [`MARGIN`], by its own monotonic clock:
//! before the database deems the lease expired. A node that cannot reach the database (or
//! whose poller stalls) stops serving from its cache before a writer stops waiting for it;
//! its reads then go to the database. When a renewal finds the previous lease lapsed (or it
//! is the first), the node clears its cache before serving from it again: a writer may have
//! passed it over while its lease was expired, or before it had one.
//!
//! **Fills.** A read notes the cache's generation (bumped by every clear) before it asks
//! the database, and keeps what it read only if no clear came in between, so a value read
//! before a write committed never lands in the cache after the write cleared it.
//!
//! Reads inside a transaction always go to the database: SERIALIZABLE needs them there.
//!
//! **A known gap.** A node that dies (kill -9, lost connection) between a write's COMMIT and
//! its `nextval` leaves the write unannounced: the other nodes keep what they cached until
//! the next write anywhere, and at most [`MAX_AGE`]: every node clears its cache that
//! often whatever happens. The client got no answer for that write. (Closing it: the write
//! would also take a number before its COMMIT, under a shared advisory lock held until the
//! COMMIT, and a node that saw the number move would take that lock exclusively, and so
//! wait for the commit, before clearing; that stalls concurrent commits, and was not done.)
//! A write whose connection failed after COMMIT announces itself on another one.

use super::error::db_error;
use super::link::Link;
use super::Table;
use crate::store::{StoreError, StoreResult};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_postgres::Row;

/// How long a lease lasts, by the database's clock.
pub const LEASE: Duration = Duration::from_millis(250);

/// How much earlier than the database a node deems its own lease over (clock rates differ,
/// and the lease counts from when the renewal was sent, not from when it arrived).
const MARGIN: Duration = Duration::from_millis(50);

/// How often a node renews its lease.
const RENEW_EVERY: Duration = Duration::from_millis(50);

/// How often a node polls `write_generation` while other nodes are live (a write on one of
/// them waits for that). Alone, it polls at each renewal: a node that joins and writes
/// waits at most that long for it.
const POLL_EVERY: Duration = Duration::from_millis(2);

/// The longest an entry is kept whatever happens: the bound on what the known gap (module
/// comment) can cost. (Tests that look for a cached value would otherwise race it.)
#[cfg(not(test))]
const MAX_AGE: Duration = Duration::from_secs(1);
#[cfg(test)]
const MAX_AGE: Duration = Duration::from_secs(60);

/// Entries kept at most; the cache is cleared when full.
const MAX_ENTRIES: usize = 100_000;

/// How long a write waits for the other nodes before giving up (an expired lease ends a
/// wait after at most [`LEASE`]; this only bounds a node that keeps renewing and never
/// reports, which a sound node does not do).
const WAIT_AT_MOST: Duration = Duration::from_secs(2);

type Key = (Table, Vec<u8>);

pub struct Cache {
    /// This node's row in `node_leases`, random per engine.
    node: i64,
    state: Mutex<State>,
}

struct State {
    /// Values (`None`: the key is absent) as committed when they were read.
    entries: HashMap<Key, Option<Vec<u8>>>,
    /// Bumped by every clear (see the module comment, "Fills").
    generation: u64,
    /// When the cache was last cleared.
    cleared_at: Instant,
    /// Until when this node may serve from its cache (`None`: no lease yet).
    valid_until: Option<Instant>,
    /// The `write_generation` last cleared for, as reported in the lease.
    seen: i64,
    /// Numbers this node's writes took and the poller has not seen yet: their writes
    /// dropped their own keys, so seeing them needs no clear.
    own: BTreeSet<i64>,
    /// Whether other nodes were live at the last renewal (at first: assumed).
    others: bool,
    /// Tests: renewals are suspended, as for a node cut off from the database.
    #[cfg(test)]
    suspended: bool,
}

impl State {
    fn clear(&mut self) {
        self.entries.clear();
        self.generation += 1;
        self.cleared_at = Instant::now();
    }

    fn serving(&self) -> bool {
        self.valid_until.is_some_and(|until| Instant::now() < until)
    }
}

impl Default for Cache {
    fn default() -> Cache {
        use std::hash::BuildHasher;
        let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
        Cache {
            node: random as i64,
            state: Mutex::new(State {
                entries: HashMap::new(),
                generation: 0,
                cleared_at: Instant::now(),
                valid_until: None,
                seen: 0,
                own: BTreeSet::new(),
                others: true,
                #[cfg(test)]
                suspended: false,
            }),
        }
    }
}

impl Cache {
    pub fn node(&self) -> i64 {
        self.node
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached value of `key`, if this node may serve from its cache and has it.
    pub fn lookup(&self, table: Table, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let state = self.state();
        let found = state.entries.get(&(table, key.to_vec())).cloned()?;
        // Checked after the lookup: a lease that lapsed meanwhile serves nothing.
        state.serving().then_some(found)
    }

    /// The generation to pass to [`Cache::fill`] for a read about to be made.
    pub fn generation(&self) -> u64 {
        self.state().generation
    }

    /// Keeps `value`, read from the database after [`Cache::generation`] answered
    /// `generation`, unless the cache was cleared since or this node may not serve from it.
    pub fn fill(&self, generation: u64, table: Table, key: Vec<u8>, value: Option<Vec<u8>>) {
        let mut state = self.state();
        if state.generation != generation || !state.serving() {
            return;
        }
        if state.entries.len() >= MAX_ENTRIES {
            state.clear();
            return;
        }
        state.entries.insert((table, key), value);
    }

    /// Drops `keys` (this node committed a write of them). Fills under way are refused too,
    /// as after a clear: they may have read the values before the write.
    pub fn forget(&self, keys: &[Key]) {
        let mut state = self.state();
        for key in keys {
            state.entries.remove(key);
        }
        state.generation += 1;
    }

    /// A transaction of this node ended, having committed a write or not: clears the cache
    /// unless it wrote and this node is alone (see the module comment, "Reads never go back
    /// in time").
    pub fn after_transaction(&self, wrote: bool) {
        let mut state = self.state();
        if state.others || !wrote {
            state.clear();
        }
    }

    /// This node's write took `generation` (see `own`). Bounded like the entries: a poller
    /// that cannot reach the database sees nothing for a while, and forgetting the numbers
    /// only costs a clear when it sees them again.
    fn announced(&self, generation: i64) {
        let mut state = self.state();
        if state.own.len() >= MAX_ENTRIES {
            state.own.clear();
        }
        if generation > state.seen {
            state.own.insert(generation);
        }
    }

    /// The sequence's `last_value` is `last`: clears if it moved by a number another node
    /// took (or one this node has not noted yet), and every [`MAX_AGE`]. Whether it moved.
    fn saw(&self, last: i64) -> bool {
        let mut state = self.state();
        let moved = state.seen != last;
        let (seen, own) = (state.seen, &state.own);
        let foreign = moved && (last < seen || !(seen + 1..=last).all(|n| own.contains(&n)));
        if foreign || state.cleared_at.elapsed() > MAX_AGE {
            state.clear();
        }
        state.own.retain(|n| *n > last);
        state.seen = last;
        moved
    }

    /// A renewal sent at `sent` succeeded: serve until the lease less the margin, after
    /// clearing if the previous lease had lapsed.
    fn renewed(&self, sent: Instant, others: bool) {
        let mut state = self.state();
        state.others = others;
        if !state.serving() {
            state.clear();
        }
        state.valid_until = Some(sent + LEASE - MARGIN);
    }

    /// Tests: whether this node serves from its cache now.
    #[cfg(test)]
    pub fn serving(&self) -> bool {
        self.state().serving()
    }

    /// Tests: whether other nodes were live at the last renewal.
    #[cfg(test)]
    pub fn others_live(&self) -> bool {
        self.state().others
    }

    /// Tests: stop (or resume) renewing the lease, as a node cut off from the database.
    #[cfg(test)]
    pub fn suspend(&self, suspended: bool) {
        self.state().suspended = suspended;
    }
}

/// The number of this write, and how many other live nodes have not seen it. Sent right
/// after the write's COMMIT, in the same round trip (see `tx::commit`).
pub const NEXT: &str = "WITH g AS (SELECT nextval('write_generation') AS g) \
    SELECT g, (SELECT count(*) FROM node_leases \
               WHERE node_id <> $1 AND expires_at > now() AND seen_generation < g) FROM g";

/// How many other live nodes have not seen write `$2`.
const WAITING: &str = "SELECT count(*) FROM node_leases \
    WHERE node_id <> $1 AND expires_at > now() AND seen_generation < $2";

/// Announces a committed write, and waits until every other live node has cleared its
/// cache (see the module comment).
pub async fn announce(conn: &Link, cache: &Cache) -> StoreResult<()> {
    let stmt = conn.prepare_cached(NEXT).await.map_err(db_error)?;
    let row = conn
        .query_one(&stmt, &[&cache.node])
        .await
        .map_err(db_error)?;
    confirmed(conn, cache, &row).await
}

/// This node's write took the number in `row` (an answer of [`NEXT`]): waits until every
/// other live node has seen it.
pub async fn confirmed(conn: &Link, cache: &Cache, row: &Row) -> StoreResult<()> {
    let (generation, mut waiting): (i64, i64) = (row.get(0), row.get(1));
    cache.announced(generation);
    let node = cache.node;
    let deadline = Instant::now() + WAIT_AT_MOST;
    let stmt = conn.prepare_cached(WAITING).await.map_err(db_error)?;
    while waiting > 0 {
        if Instant::now() > deadline {
            return Err(StoreError::Unavailable(
                "The change was saved, but other nodes did not confirm it in time.".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        let row = conn
            .query_one(&stmt, &[&node, &generation])
            .await
            .map_err(db_error)?;
        waiting = row.get(0);
    }
    Ok(())
}

const POLL: &str = "SELECT last_value FROM write_generation";

/// Renews this node's lease with what it has seen; how many other nodes are live.
const RENEW: &str = "WITH mine AS ( \
        INSERT INTO node_leases (node_id, seen_generation, expires_at) \
        VALUES ($1, $2, now() + make_interval(secs => $3)) \
        ON CONFLICT (node_id) DO UPDATE \
        SET seen_generation = EXCLUDED.seen_generation, expires_at = EXCLUDED.expires_at \
        RETURNING 1) \
    SELECT count(*) FROM node_leases WHERE node_id <> $1 AND expires_at > now()";

/// Leases long expired (nodes gone), removed when a node starts.
const FORGET: &str = "DELETE FROM node_leases WHERE expires_at < now() - interval '1 hour'";

/// A connection of the lease keeper's own, with its statements prepared.
struct LeaseConn {
    client: tokio_postgres::Client,
    poll: tokio_postgres::Statement,
    renew: tokio_postgres::Statement,
}

impl LeaseConn {
    async fn open(config: &tokio_postgres::Config) -> Result<LeaseConn, tokio_postgres::Error> {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client.batch_execute(FORGET).await?;
        let poll = client.prepare(POLL).await?;
        let renew = client.prepare(RENEW).await?;
        Ok(LeaseConn {
            client,
            poll,
            renew,
        })
    }
}

/// Polls `write_generation` and renews this node's lease, for as long as the engine's
/// runtime runs, on a connection of its own (`config`), so a busy pool never holds it up.
pub async fn keep_lease(cache: Arc<Cache>, config: tokio_postgres::Config) {
    let mut link: Option<LeaseConn> = None;
    let mut next_renewal = Instant::now();
    let mut others = 0i64;
    loop {
        let Some(l) = link.as_ref() else {
            match LeaseConn::open(&config).await {
                Ok(l) => link = Some(l),
                Err(e) => {
                    log::warn!("PostgreSQL: the read cache cannot reach the database: {e}");
                    tokio::time::sleep(RENEW_EVERY).await;
                }
            }
            continue;
        };
        match poll(l, &cache, &mut next_renewal).await {
            Ok(Some(n)) => others = n,
            Ok(None) => {}
            Err(e) => {
                log::warn!("PostgreSQL: the read cache lost its connection: {e}");
                link = None;
                continue;
            }
        }
        let pause = if others > 0 { POLL_EVERY } else { RENEW_EVERY };
        tokio::time::sleep(pause).await;
    }
}

/// One turn of [`keep_lease`]: the live other nodes, if it renewed.
async fn poll(
    link: &LeaseConn,
    cache: &Cache,
    next_renewal: &mut Instant,
) -> Result<Option<i64>, tokio_postgres::Error> {
    let last: i64 = link.client.query_one(&link.poll, &[]).await?.get(0);
    let moved = cache.saw(last);
    #[cfg(test)]
    if cache.state().suspended {
        return Ok(None);
    }
    if !moved && Instant::now() < *next_renewal {
        return Ok(None);
    }
    let sent = Instant::now();
    let seen = cache.state().seen;
    let others: i64 = link
        .client
        .query_one(&link.renew, &[&cache.node, &seen, &LEASE.as_secs_f64()])
        .await?
        .get(0);
    cache.renewed(sent, others > 0);
    *next_renewal = sent + RENEW_EVERY;
    Ok(Some(others))
}
