//! The read cache (`cache`): served from memory while nothing changed, never after a write
//! on any node was answered, and never by a node whose lease lapsed.

use super::testing::{self, Schema};
use super::*;
use crate::store::engine::transact;
use std::time::{Duration, Instant};

/// Waits (bounded) until `engine` serves from its cache.
fn until_serving(engine: &PostgresEngine) {
    until(|| engine.cache.serving(), "the lease was never taken");
}

/// Waits (bounded) until `engine` has seen another node's lease.
fn until_others(engine: &PostgresEngine) {
    until(
        || engine.cache.others_live(),
        "the other node was never seen",
    );
}

/// Polls `done` for up to 5 s; `never` is the failure.
fn until(done: impl Fn() -> bool, never: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{never}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sets `key` of the `meta` table to `value` behind the engines' backs (no write
/// announced), so a read tells whether it came from a cache.
fn overwrite(schema: &Schema, key: &str, value: &str) {
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    schema.admin(&format!(
        "UPDATE {}.meta SET value = '\\x{}' WHERE key = '\\x{}'",
        schema.name(),
        hex(value),
        hex(key)
    ));
}

fn get(engine: &PostgresEngine, key: &str) -> Option<Vec<u8>> {
    engine.get(Table::Meta, key.as_bytes()).unwrap()
}

#[test]
fn reads_are_served_from_the_cache_until_the_lease_lapses_then_read_through() {
    let Some((engine, schema)) = testing::engine() else {
        return;
    };
    transact(&engine, |tx| tx.put(Table::Meta, b"k", b"v1")).unwrap();
    until_serving(&engine);
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v1"[..]));
    overwrite(&schema, "k", "v2");
    // Cached: nothing announced a change. (The proof that the cache serves at all.)
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v1"[..]));
    assert_eq!(
        engine.get_many(&[(Table::Meta, b"k".to_vec())]).unwrap(),
        Some(vec![Some(b"v1".to_vec())])
    );
    // A read inside a transaction goes to the database, and later reads on this node do
    // not go back to before what it saw.
    let inside = transact(&engine, |tx| tx.get(Table::Meta, b"k")).unwrap();
    assert_eq!(inside.as_deref(), Some(&b"v2"[..]));
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v2"[..]));

    // Alone, a write of this node drops only what it wrote. (Tried a few times: the poller
    // may see the write's number before the write notes it as its own, and clear once.)
    let kept = (0..5).any(|round| {
        let mine = format!("mine{round}");
        transact(&engine, |tx| tx.put(Table::Meta, b"k", mine.as_bytes())).unwrap();
        assert_eq!(get(&engine, "k").as_deref(), Some(mine.as_bytes()));
        overwrite(&schema, "k", "v3");
        transact(&engine, |tx| tx.put(Table::Meta, b"other", b"w1")).unwrap();
        assert_eq!(get(&engine, "other").as_deref(), Some(&b"w1"[..]));
        get(&engine, "k").as_deref() == Some(mine.as_bytes())
    });
    assert!(
        kept,
        "a write of this node cleared the whole cache every time"
    );

    // With another node live, a write of this node clears the cache too: the transaction
    // may have read that node's writes before this node saw them announced.
    let other = PostgresEngine::with_config(schema.config(), 2).unwrap();
    until_others(&engine);
    transact(&engine, |tx| tx.put(Table::Meta, b"k", b"v3")).unwrap();
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v3"[..]));
    overwrite(&schema, "k", "v4");
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v3"[..]), "cached");
    transact(&engine, |tx| tx.put(Table::Meta, b"other", b"w3")).unwrap();
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v4"[..]));
    drop(other);
    overwrite(&schema, "k", "v3");

    // Cut off: no renewal. Within the lease, the node stops serving from its cache.
    engine.cache.suspend(true);
    let lapsed = Instant::now();
    while engine.cache.serving() {
        assert!(lapsed.elapsed() < cache::LEASE, "served past its lease");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v3"[..]));
    // Nor does it keep what it reads meanwhile.
    overwrite(&schema, "k", "v4");
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v4"[..]));

    // Back: what was cached before the lapse is gone.
    engine.cache.suspend(false);
    until_serving(&engine);
    assert_eq!(get(&engine, "k").as_deref(), Some(&b"v4"[..]));
}

#[test]
fn a_write_answered_on_one_node_is_read_on_the_other_at_its_next_read() {
    let Some((a, schema)) = testing::engine() else {
        return;
    };
    let b = PostgresEngine::with_config(schema.config(), 4).unwrap();
    until_serving(&a);
    until_serving(&b);
    for round in 0..50u32 {
        let before = round.to_be_bytes();
        transact(&a, |tx| tx.put(Table::Meta, b"k", &before)).unwrap();
        // B caches the value (read twice: the second from its cache).
        for _ in 0..2 {
            assert_eq!(
                b.get(Table::Meta, b"k").unwrap().as_deref(),
                Some(&before[..])
            );
        }
        let after = (round + 1000).to_be_bytes();
        transact(&a, |tx| tx.put(Table::Meta, b"k", &after)).unwrap();
        assert_eq!(
            b.get(Table::Meta, b"k").unwrap().as_deref(),
            Some(&after[..]),
            "round {round}"
        );
        // And the other way round, a delete on B read on A.
        assert!(a.get(Table::Meta, b"k").unwrap().is_some());
        transact(&b, |tx| tx.delete(Table::Meta, b"k")).unwrap();
        assert_eq!(a.get(Table::Meta, b"k").unwrap(), None, "round {round}");
    }
}
