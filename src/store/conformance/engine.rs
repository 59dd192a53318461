//! The engine contract (see the module comment of `engine`), run against every engine of
//! `test_engines` (PostgreSQL when `IAMD_TEST_PG_URL` is set).

use crate::store::engine::*;
use crate::store::{Order, StoreError, StoreResult};
use std::ops::Bound;

fn keys(entries: Entries<'_>) -> Vec<Vec<u8>> {
    entries.map(|e| e.unwrap().0).collect()
}

fn put(engine: &dyn Engine, table: Table, key: &[u8], value: &[u8]) {
    transact(engine, |tx| tx.put(table, key, value)).unwrap();
}

#[test]
fn a_transaction_reads_its_own_writes_and_commits_them_all() {
    for (engine, _dir) in test_engines() {
        let e = engine.as_ref();
        let seen = transact(e, |tx| {
            tx.put(Table::UseridUser, b"k1", b"v1")?;
            tx.put(Table::EmailUserid, b"k2", b"v2")?;
            tx.delete(Table::EmailUserid, b"k2")?;
            Ok((
                tx.get(Table::UseridUser, b"k1")?,
                tx.get(Table::EmailUserid, b"k2")?,
            ))
        })
        .unwrap();
        assert_eq!(seen, (Some(b"v1".to_vec()), None), "{}", e.name());
        assert_eq!(
            e.get(Table::UseridUser, b"k1").unwrap(),
            Some(b"v1".to_vec())
        );
        assert_eq!(e.get(Table::EmailUserid, b"k2").unwrap(), None);
        // Tables are separate key spaces.
        assert_eq!(e.get(Table::GroupidGroup, b"k1").unwrap(), None);
    }
}

#[test]
fn a_failed_transaction_writes_nothing() {
    for (engine, _dir) in test_engines() {
        let e = engine.as_ref();
        put(e, Table::Meta, b"kept", b"old");
        let failed: StoreResult<()> = transact(e, |tx| {
            tx.put(Table::Meta, b"kept", b"new")?;
            tx.put(Table::UseridUser, b"fresh", b"x")?;
            tx.delete(Table::Meta, b"kept")?;
            Err(StoreError::Conflict("no".into()))
        });
        assert!(
            matches!(failed, Err(StoreError::Conflict(_))),
            "{}",
            e.name()
        );
        assert_eq!(e.get(Table::Meta, b"kept").unwrap(), Some(b"old".to_vec()));
        assert_eq!(e.get(Table::UseridUser, b"fresh").unwrap(), None);
    }
}

#[test]
fn ranges_are_ordered_bounded_and_reversible() {
    for (engine, _dir) in test_engines() {
        let e = engine.as_ref();
        // More keys than the memory engine reads per chunk, in another order than sorted.
        let all: Vec<Vec<u8>> = (0u16..200).map(|i| i.to_be_bytes().to_vec()).collect();
        transact(e, |tx| {
            for k in all.iter().rev() {
                tx.put(Table::GroupidGroup, k, b"")?;
            }
            tx.put(Table::GroupnameGroupid, &[0, 5], b"other table")
        })
        .unwrap();
        let unbounded = (Bound::Unbounded, Bound::Unbounded);
        assert_eq!(
            keys(e.range(Table::GroupidGroup, unbounded, Order::Asc)),
            all
        );
        let mut desc = all.clone();
        desc.reverse();
        assert_eq!(
            keys(e.range(Table::GroupidGroup, unbounded, Order::Desc)),
            desc
        );

        let (lo, hi) = (&all[10][..], &all[150][..]);
        let bounded = (Bound::Excluded(lo), Bound::Included(hi));
        assert_eq!(
            keys(e.range(Table::GroupidGroup, bounded, Order::Asc)),
            all[11..=150].to_vec(),
            "{}",
            e.name()
        );
        let mut back = all[11..=150].to_vec();
        back.reverse();
        assert_eq!(
            keys(e.range(Table::GroupidGroup, bounded, Order::Desc)),
            back
        );

        let empty = (Bound::Excluded(lo), Bound::Excluded(lo));
        assert!(keys(e.range(Table::GroupidGroup, empty, Order::Asc)).is_empty());
        let inverted = (Bound::Included(hi), Bound::Included(lo));
        assert!(keys(e.range(Table::GroupidGroup, inverted, Order::Desc)).is_empty());

        let prefix = prefix_range(&[0]);
        assert_eq!(
            keys(e.range(Table::GroupidGroup, borrow_range(&prefix), Order::Asc)).len(),
            200
        );
    }
}

#[test]
fn a_range_goes_on_past_writes_made_while_it_is_read() {
    for (engine, _dir) in test_engines() {
        let e = engine.as_ref();
        for i in 0u8..100 {
            put(e, Table::IdpidIdp, &[i * 2], b"");
        }
        let mut iter = e.range(
            Table::IdpidIdp,
            (Bound::Unbounded, Bound::Unbounded),
            Order::Asc,
        );
        let first = iter.next().unwrap().unwrap().0;
        // A write behind the cursor and one ahead of it, mid-iteration: neither may break it.
        put(e, Table::IdpidIdp, &[255], b"");
        put(e, Table::IdpidIdp, &[0, 0], b"");
        let rest = keys(iter);
        assert_eq!(first, vec![0]);
        assert!(
            rest.windows(2).all(|w| w[0] < w[1]),
            "{} out of order",
            e.name()
        );
        assert!(rest.len() >= 99, "{}", e.name());
    }
}

#[test]
fn concurrent_transactions_are_serializable() {
    for (engine, _dir) in test_engines() {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        transact(engine.as_ref(), |tx| {
                            let n = tx
                                .get(Table::AccountCounts, b"n")?
                                .map(|v| u64::from_be_bytes(v.try_into().unwrap()))
                                .unwrap_or(0);
                            tx.put(Table::AccountCounts, b"n", &(n + 1).to_be_bytes())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = engine.get(Table::AccountCounts, b"n").unwrap().unwrap();
        assert_eq!(
            u64::from_be_bytes(n.try_into().unwrap()),
            400,
            "{}",
            engine.name()
        );
    }
}

#[test]
fn a_claim_of_a_taken_key_fails_its_transaction_with_its_own_error_and_writes_nothing() {
    for (engine, _dir) in test_engines() {
        let e = engine.as_ref();
        let taken = || StoreError::Conflict("taken".into());
        transact(e, |tx| {
            tx.claim(Table::EmailUserid, b"a@x", b"first", taken())
        })
        .unwrap();
        // The claim fails at once (sled, memory) or at the commit (PostgreSQL): either way
        // the transaction ends with the claim's error, and its other writes are gone.
        let again: StoreResult<()> = transact(e, |tx| {
            tx.put(Table::UseridUser, b"second", b"x")?;
            tx.claim(Table::EmailUserid, b"a@x", b"second", taken())?;
            tx.put(Table::Meta, b"after", b"x")
        });
        match again {
            Err(StoreError::Conflict(m)) => assert_eq!(m, "taken", "{}", e.name()),
            other => panic!("{}: {other:?}", e.name()),
        }
        let kept = e.get(Table::EmailUserid, b"a@x").unwrap();
        assert_eq!(kept, Some(b"first".to_vec()), "{}", e.name());
        assert_eq!(e.get(Table::UseridUser, b"second").unwrap(), None);
        assert_eq!(e.get(Table::Meta, b"after").unwrap(), None);
        // A free key is written, and read back inside the transaction that claimed it.
        let seen = transact(e, |tx| {
            tx.claim(Table::EmailUserid, b"b@x", b"third", taken())?;
            tx.get(Table::EmailUserid, b"b@x")
        });
        assert_eq!(seen.unwrap(), Some(b"third".to_vec()), "{}", e.name());
    }
}

#[test]
fn of_concurrent_claims_of_one_key_exactly_one_commits() {
    for (engine, _dir) in test_engines() {
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let engine = engine.clone();
                std::thread::spawn(move || {
                    transact(engine.as_ref(), |tx| {
                        tx.put(Table::UseridUser, &[i], b"user")?;
                        let taken = StoreError::Conflict("taken".into());
                        tx.claim(Table::EmailUserid, b"same@x", &[i], taken)
                    })
                })
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let won: Vec<u8> = (0..8u8).filter(|i| results[*i as usize].is_ok()).collect();
        assert_eq!(won.len(), 1, "{}: {results:?}", engine.name());
        for r in &results {
            assert!(
                matches!(r, Ok(()) | Err(StoreError::Conflict(_))),
                "{}: {r:?}",
                engine.name()
            );
        }
        let owner = engine.get(Table::EmailUserid, b"same@x").unwrap();
        assert_eq!(owner, Some(vec![won[0]]), "{}", engine.name());
        for i in 0..8u8 {
            let user = engine.get(Table::UseridUser, &[i]).unwrap();
            assert_eq!(user.is_some(), i == won[0], "{}", engine.name());
        }
    }
}

#[test]
fn committed_writes_become_durable() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (engine, _dir) in test_engines() {
        put(engine.as_ref(), Table::Meta, b"k", b"v");
        runtime.block_on(engine.durable()).unwrap();
        engine.flush().unwrap();
    }
}

#[test]
fn every_table_has_a_distinct_name_and_index() {
    for (i, t) in Table::ALL.iter().enumerate() {
        assert_eq!(t.index(), i);
        assert_eq!(Table::from_name(t.name()), Some(*t));
    }
    let mut names: Vec<_> = Table::ALL.iter().map(|t| t.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), Table::ALL.len());
}

#[test]
fn postgres_is_among_the_engines_exactly_when_its_url_is_set() {
    let names: Vec<_> = test_engines().iter().map(|(e, _)| e.name()).collect();
    let url = std::env::var("IAMD_TEST_PG_URL").is_ok_and(|u| !u.is_empty());
    let want: &[&str] = if url {
        &["sled", "memory", "postgres"]
    } else {
        &["sled", "memory"]
    };
    assert_eq!(names, want);
}
