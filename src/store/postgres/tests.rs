//! What PostgreSQL adds to the engine contract (the contract itself is `engine::tests`, run
//! here too): retries under contention, failures that leave nothing and no broken
//! connection, batched ranges, concurrent migrations, lost connections, and calls from
//! inside a runtime as an actix worker makes them.

use super::testing::{self, Schema};
use super::*;
use crate::store::engine::transact;
use std::ops::Bound;
use std::sync::Arc;

fn count(engine: &dyn Engine, key: &[u8]) -> u64 {
    engine
        .get(Table::AccountCounts, key)
        .unwrap()
        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()))
}

fn increment(tx: &dyn Tx, key: &[u8]) -> StoreResult<()> {
    let n = tx
        .get(Table::AccountCounts, key)?
        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
    tx.put(Table::AccountCounts, key, &(n + 1).to_be_bytes())
}

#[test]
fn conflicting_transactions_are_retried_until_all_apply() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    let engine = Arc::new(engine);
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (engine, runs) = (engine.clone(), runs.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    transact(engine.as_ref(), |tx| {
                        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        increment(tx, b"hot")
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count(engine.as_ref(), b"hot"), 400);
    let runs = runs.load(std::sync::atomic::Ordering::Relaxed);
    // Not a requirement, but the proof that the test exercised conflicts at all.
    assert!(runs > 400, "no transaction was retried ({runs} runs)");
}

#[test]
fn a_transaction_whose_work_fails_or_panics_leaves_nothing() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    transact(&engine, |tx| tx.put(Table::Meta, b"kept", b"old")).unwrap();
    let failed: StoreResult<()> = transact(&engine, |tx| {
        tx.put(Table::Meta, b"kept", b"new")?;
        tx.put(Table::UseridUser, b"fresh", b"x")?;
        Err(StoreError::Invalid("name", "no".into()))
    });
    assert!(matches!(failed, Err(StoreError::Invalid("name", _))));
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: StoreResult<()> = transact(&engine, |tx| {
            tx.put(Table::UseridUser, b"fresh", b"x")?;
            panic!("work panicked mid-transaction");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(
        engine.get(Table::Meta, b"kept").unwrap(),
        Some(b"old".to_vec())
    );
    assert_eq!(engine.get(Table::UseridUser, b"fresh").unwrap(), None);
    // No connection came back to the pool still inside the broken transaction: every
    // transaction after it commits only its own writes.
    for i in 0..DEFAULT_POOL_SIZE as u8 {
        transact(&engine, |tx| tx.put(Table::Meta, &[i], b"after")).unwrap();
    }
    assert_eq!(
        engine.get(Table::Meta, &[15]).unwrap(),
        Some(b"after".to_vec())
    );
    assert_eq!(engine.get(Table::UseridUser, b"fresh").unwrap(), None);
}

#[test]
fn a_failed_statement_fails_the_transaction_even_when_work_ignores_it() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    // A key longer than a btree index entry may be (about 2.7 kB), and incompressible.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let huge: Vec<u8> = (0..10_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let done = transact(&engine, |tx| {
        tx.put(Table::Meta, b"before", b"x")?;
        // A write is sent with the next statement whose answer is needed (see `tx`), which
        // then reports its failure.
        let refused = (tx.put(Table::Meta, &huge, b"x")).and_then(|()| tx.get(Table::Meta, b"x"));
        assert!(
            matches!(refused, Err(StoreError::Backend(_))),
            "{refused:?}"
        );
        // Later statements are refused too: the database aborted the transaction.
        assert!(tx.get(Table::Meta, b"before").is_err());
        Ok(())
    });
    // PostgreSQL answers COMMIT on an aborted transaction with a silent ROLLBACK; the
    // engine must not report that as a commit.
    assert!(matches!(done, Err(StoreError::Backend(_))), "{done:?}");
    assert_eq!(engine.get(Table::Meta, b"before").unwrap(), None);
    // A failing write sent with the COMMIT: the transaction fails and leaves nothing.
    let done = transact(&engine, |tx| {
        tx.put(Table::Meta, b"before", b"x")?;
        tx.put(Table::Meta, &huge, b"x")
    });
    assert!(matches!(done, Err(StoreError::Backend(_))), "{done:?}");
    assert_eq!(engine.get(Table::Meta, b"before").unwrap(), None);
}

#[test]
fn ranges_read_in_batches_keep_bounds_and_order() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    let n = (FIRST_BATCH + 2 * BATCH) as u16 + 100;
    let all: Vec<Vec<u8>> = (0..n).map(|i| i.to_be_bytes().to_vec()).collect();
    transact(&engine, |tx| {
        for k in &all {
            tx.put(Table::UseridUser, k, k)?;
        }
        Ok(())
    })
    .unwrap();
    let keys = |range, order| -> Vec<Vec<u8>> {
        engine
            .range(Table::UseridUser, range, order)
            .map(|e| {
                let (k, v) = e.unwrap();
                assert_eq!(k, v);
                k
            })
            .collect()
    };
    let unbounded = (Bound::Unbounded, Bound::Unbounded);
    assert_eq!(keys(unbounded, Order::Asc), all);
    let mut desc = all.clone();
    desc.reverse();
    assert_eq!(keys(unbounded, Order::Desc), desc);
    // Bounds on both sides, across both batch boundaries.
    let (lo, hi) = (&all[3][..], &all[all.len() - 4][..]);
    let inner = all[3..all.len() - 4].to_vec();
    assert_eq!(
        keys((Bound::Included(lo), Bound::Excluded(hi)), Order::Asc),
        inner
    );
    let mut back = all[4..=all.len() - 4].to_vec();
    back.reverse();
    assert_eq!(
        keys((Bound::Excluded(lo), Bound::Included(hi)), Order::Desc),
        back
    );
    // A page reads one batch, and the first rows of a descending range are the last keys.
    let page: Vec<_> = engine
        .range(Table::UseridUser, unbounded, Order::Desc)
        .take(50)
        .map(|e| e.unwrap().0)
        .collect();
    assert_eq!(page, desc[..50].to_vec());
}

#[test]
fn migrations_run_once_when_nodes_start_together() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let schema = Arc::new(schema);
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let schema = schema.clone();
            std::thread::spawn(move || PostgresEngine::with_config(schema.config(), 2))
        })
        .collect();
    let engines: Vec<PostgresEngine> = starts
        .into_iter()
        .map(|t| t.join().unwrap().expect("every node starts"))
        .collect();
    let versions = engines[0]
        .texts("SELECT version FROM schema_migrations ORDER BY version")
        .unwrap();
    let every: Vec<String> = (1..=migrate::latest()).map(|v| v.to_string()).collect();
    assert_eq!(versions, every, "each migration ran once");
    // Every table is there, and each is its own key space.
    transact(&engines[1], |tx| {
        for t in Table::ALL {
            tx.put(t, b"k", t.name().as_bytes())?;
        }
        Ok(())
    })
    .unwrap();
    for t in Table::ALL {
        assert_eq!(
            engines[2].get(t, b"k").unwrap(),
            Some(t.name().as_bytes().to_vec())
        );
    }
    // A restart finds everything applied.
    drop(engines);
    let again = PostgresEngine::with_config(schema.config(), 1).unwrap();
    assert_eq!(
        again
            .texts("SELECT count(*) FROM schema_migrations")
            .unwrap(),
        [migrate::latest().to_string()]
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let Some((engine, schema)) = testing::engine() else {
        return;
    };
    drop(engine);
    let newer = migrate::latest() + 1;
    schema.admin(&format!(
        "INSERT INTO {}.schema_migrations (version, name) VALUES ({newer}, 'future')",
        schema.name()
    ));
    let refused = PostgresEngine::with_config(schema.config(), 1);
    assert!(
        matches!(&refused, Err(StoreError::Backend(m)) if m.contains("newer")),
        "{:?}",
        refused.err()
    );
}

#[test]
fn commits_are_synchronous_whatever_the_connection_asks() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let mut config = schema.config();
    let asked = format!(
        "{} -c synchronous_commit=off",
        config.get_options().unwrap()
    );
    config.options(asked);
    let engine = PostgresEngine::with_config(config, 1).unwrap();
    assert_eq!(engine.texts("SHOW synchronous_commit").unwrap(), ["on"]);
}

#[test]
fn a_lost_connection_is_unavailable_then_replaced() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let mut config = schema.config();
    let app = format!("iamd-lost-{}", std::process::id());
    config.application_name(&app);
    let engine = PostgresEngine::with_config(config, 1).unwrap();
    transact(&engine, |tx| tx.put(Table::Meta, b"k", b"v")).unwrap();
    let kill = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{app}'"
    );
    // The connection dies in the middle of a transaction: the next statement fails as
    // Unavailable (a 503), and the transaction is not run again, nor half applied.
    let mut runs = 0;
    let lost = transact(&engine, |tx| {
        runs += 1;
        tx.get(Table::Meta, b"k")?;
        schema.admin(&kill);
        tx.put(Table::Meta, b"k", b"lost")
    });
    assert!(matches!(lost, Err(StoreError::Unavailable(_))), "{lost:?}");
    assert_eq!(runs, 1);
    // The pool replaces the dead connection.
    assert_eq!(engine.get(Table::Meta, b"k").unwrap(), Some(b"v".to_vec()));
    transact(&engine, |tx| tx.put(Table::Meta, b"k", b"w")).unwrap();
    assert_eq!(engine.get(Table::Meta, b"k").unwrap(), Some(b"w".to_vec()));
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced_before_any_statement_fails() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let engine = PostgresEngine::with_config(schema.config(), 1).unwrap();
    transact(&engine, |tx| tx.put(Table::Meta, b"k", b"v")).unwrap();
    let pids = engine.texts("SELECT pg_backend_pid()::text").unwrap();
    // Waits (up to 5 s) until the backend has gone: its socket then holds the server's
    // goodbye and the end of the stream, and nothing was asked of it.
    schema.admin(&format!("SELECT pg_terminate_backend({}, 5000)", pids[0]));
    // Taken from the pool, the dead connection is found out and a new one made: the read
    // does not fail (a 503) for a connection nobody was using.
    assert_eq!(engine.get(Table::Meta, b"k").unwrap(), Some(b"v".to_vec()));
    let now = engine.texts("SELECT pg_backend_pid()::text").unwrap();
    assert_ne!(now, pids);
}

#[test]
fn a_unix_socket_is_a_connection_as_tcp_is() {
    // `.ci/postgres` listens on a socket in its data dir too.
    let (Some(schema), Ok(dir)) = (Schema::create(), std::env::var("IAMD_PG_DIR")) else {
        return;
    };
    let tcp = schema.config();
    let mut config = tokio_postgres::Config::new();
    config.host_path(&dir).port(tcp.get_ports()[0]);
    config.user(tcp.get_user().unwrap());
    config.dbname(tcp.get_dbname().unwrap());
    config.options(tcp.get_options().unwrap());
    let engine = PostgresEngine::with_config(config, 2).unwrap();
    transact(&engine, |tx| tx.put(Table::Meta, b"by", b"socket")).unwrap();
    let shown = engine
        .texts("SELECT coalesce(inet_client_addr()::text, 'local')")
        .unwrap();
    assert_eq!(shown, ["local"]);
    assert_eq!(
        engine.get(Table::Meta, b"by").unwrap(),
        Some(b"socket".to_vec())
    );
}

#[test]
fn an_unreachable_server_is_unavailable_not_a_panic() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://iamd@127.0.0.1:{port}/none");
    let refused = PostgresEngine::open(&url);
    assert!(
        matches!(refused, Err(StoreError::Unavailable(_))),
        "{:?}",
        refused.err()
    );
    let bad = PostgresEngine::open("postgres://[not a url");
    assert!(matches!(bad, Err(StoreError::Backend(_))));
}

#[test]
fn it_is_called_from_inside_a_runtime_as_actix_workers_do() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    // An actix worker is a current-thread runtime; the sync `postgres` crate panics there.
    let worker = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    worker.block_on(async move {
        transact(&engine, |tx| increment(tx, b"n")).unwrap();
        assert_eq!(count(&engine, b"n"), 1);
        let all = (Bound::Unbounded, Bound::Unbounded);
        assert_eq!(
            engine.range(Table::AccountCounts, all, Order::Asc).count(),
            1
        );
        engine.durable().await.unwrap();
        // Dropped on the worker too: the engine's own runtime must not block here.
        drop(engine);
    });
}

#[test]
fn nodes_starting_together_share_one_server_ca() {
    use crate::store::certificates::{CertificateStore, Certificates, ServerCaKind};
    let Some(schema) = Schema::create() else {
        return;
    };
    let schema = Arc::new(schema);
    // Four nodes on one database, each generating its CAs if none is stored yet.
    let nodes: Vec<_> = (0..4)
        .map(|_| {
            let schema = schema.clone();
            std::thread::spawn(move || {
                let engine = PostgresEngine::with_config(schema.config(), 2).unwrap();
                let certs = Certificates::open(Arc::new(engine)).unwrap();
                let ca = |kind| certs.server_ca(kind).ca.cert_der().to_vec();
                (ca(ServerCaKind::Bootstrap), ca(ServerCaKind::Lwm2m))
            })
        })
        .collect();
    let cas: Vec<_> = nodes.into_iter().map(|n| n.join().unwrap()).collect();
    assert!(cas.iter().all(|c| *c == cas[0]), "the first node's CAs win");
    assert_ne!(cas[0].0, cas[0].1);
}

/// Nodes starting at once on an empty database: the first to commit makes the server CAs,
/// every other node loads those (a device must see one CA whichever node it asks).
#[test]
fn nodes_opening_one_database_at_once_share_one_pair_of_server_cas() {
    use crate::store::certificates::ServerCaKind;
    let Some(schema) = Schema::create() else {
        return;
    };
    let cas: Vec<(Vec<u8>, Vec<u8>)> = std::thread::scope(|s| {
        let nodes: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let engine = PostgresEngine::with_config(schema.config(), 2).unwrap();
                    let store = crate::store::Store::over_engine(Arc::new(engine)).unwrap();
                    let der = |kind| store.certificates.server_ca(kind).ca.cert_der().to_vec();
                    (der(ServerCaKind::Bootstrap), der(ServerCaKind::Lwm2m))
                })
            })
            .collect();
        nodes.into_iter().map(|n| n.join().unwrap()).collect()
    });
    assert!(
        cas.iter().all(|c| *c == cas[0]),
        "every node has the same CAs"
    );
    assert_ne!(cas[0].0, cas[0].1);
}

#[test]
fn keys_read_ahead_are_fetched_at_once_and_each_served_once() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    transact(&engine, |tx| {
        tx.put(Table::Meta, b"a", b"1")?;
        tx.put(Table::UseridUser, b"a", b"2")
    })
    .unwrap();
    let keys = [
        (Table::Meta, b"a".to_vec()),
        (Table::UseridUser, b"a".to_vec()),
        (Table::Meta, b"absent".to_vec()),
    ];
    let values = engine.get_many(&keys).unwrap().unwrap();
    assert_eq!(values, [Some(b"1".to_vec()), Some(b"2".to_vec()), None]);
    crate::store::engine::read_ahead::with_read_ahead(
        &engine,
        || keys.to_vec(),
        || {
            // Written after the fetch: the first read answers what was fetched, the next one
            // asks the database.
            transact(&engine, |tx| tx.put(Table::Meta, b"a", b"3")).unwrap();
            assert_eq!(engine.get(Table::Meta, b"a").unwrap(), Some(b"1".to_vec()));
            assert_eq!(engine.get(Table::Meta, b"a").unwrap(), Some(b"3".to_vec()));
            assert_eq!(engine.get(Table::Meta, b"absent").unwrap(), None);
        },
    );
    assert_eq!(engine.get(Table::Meta, b"a").unwrap(), Some(b"3".to_vec()));
}

#[test]
fn additions_to_one_counter_never_conflict_and_are_folded_into_its_row() {
    let Some((engine, _schema)) = testing::engine() else {
        return;
    };
    let engine = Arc::new(engine);
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (engine, runs) = (engine.clone(), runs.clone());
            std::thread::spawn(move || {
                for _ in 0..50 {
                    transact(engine.as_ref(), |tx| {
                        runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tx.add(Table::AccountCounts, b"hot", 1)
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(runs.load(std::sync::atomic::Ordering::Relaxed), 400);
    assert_eq!(count(engine.as_ref(), b"hot"), 400);
    let unfolded = engine
        .texts("SELECT count(*) FROM account_counts_delta")
        .unwrap();
    let unfolded: u64 = unfolded[0].parse().unwrap();
    assert!(
        unfolded < 400,
        "nothing was folded ({unfolded} additions left)"
    );
    // A counter that only has additions is listed too, with its value.
    transact(engine.as_ref(), |tx| {
        tx.add(Table::AccountCounts, b"new", 2)
    })
    .unwrap();
    let all = (Bound::Unbounded, Bound::Unbounded);
    let listed: Vec<_> = engine
        .range(Table::AccountCounts, all, Order::Asc)
        .collect::<StoreResult<_>>()
        .unwrap();
    assert_eq!(
        listed,
        [
            (b"hot".to_vec(), 400u64.to_be_bytes().to_vec()),
            (b"new".to_vec(), 2u64.to_be_bytes().to_vec())
        ]
    );
    // A put sets the value whatever was added; a delete removes the counter.
    transact(engine.as_ref(), |tx| {
        tx.put(Table::AccountCounts, b"hot", &7u64.to_be_bytes())?;
        assert_eq!(count_in(tx, b"hot")?, 7);
        tx.add(Table::AccountCounts, b"hot", -10)?;
        assert_eq!(count_in(tx, b"hot")?, 0);
        tx.delete(Table::AccountCounts, b"new")
    })
    .unwrap();
    assert_eq!(count(engine.as_ref(), b"hot"), 0);
    assert_eq!(engine.get(Table::AccountCounts, b"new").unwrap(), None);
}

fn count_in(tx: &dyn Tx, key: &[u8]) -> StoreResult<u64> {
    Ok(tx
        .get(Table::AccountCounts, key)?
        .map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap())))
}

/// `workers = 0` on PostgreSQL: four workers per core, never fewer than eight (a few
/// requests stuck on the database leave others to serve), never more than the pool lends.
#[test]
fn default_workers_are_four_per_core_between_eight_and_the_pool() {
    assert_eq!(workers_for(1, 16), 8);
    assert_eq!(workers_for(2, 16), 8);
    assert_eq!(workers_for(3, 16), 12);
    assert_eq!(workers_for(4, 16), 16);
    assert_eq!(workers_for(64, 16), 16);
    assert_eq!(workers_for(2, 4), 4, "a smaller pool bounds them too");
}
