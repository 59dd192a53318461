//! Latency of the engine operations a request makes, on each engine of `test_engines`:
//! `cargo test --lib store::engine::bench -- --ignored --nocapture` (with IAMD_TEST_PG_URL
//! set, e.g. under `.ci/postgres`, for the PostgreSQL row). One thread, one operation at a
//! time, so the figures are latencies, not throughput. Ignored by default: a measurement,
//! not a check.

use super::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: u32 = 10_000;
const THREADS: u32 = 16;

fn key(i: u32) -> [u8; 4] {
    i.to_be_bytes()
}

/// Median and 99th percentile of `n` timed runs of `op`.
fn measure(n: u32, mut op: impl FnMut(u32)) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..n)
        .map(|i| {
            let start = Instant::now();
            op(i);
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}

fn show((median, p99): (Duration, Duration)) -> String {
    format!("{:>8.1} / {:>8.1}", micros(median), micros(p99))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn engine_operation_latencies() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "\n{} rows of 200 bytes; median / p99 in microseconds; one thread, then {} threads\n\
         {:<9}{:>20}{:>20}{:>20}{:>20}{:>20}",
        ROWS,
        THREADS,
        "engine",
        "get",
        "range page of 50",
        "1-row transact",
        "+ durable",
        "+ durable, c=16"
    );
    for (engine, _keep) in test_engines() {
        let e = engine.as_ref();
        let value = vec![7u8; 200];
        for chunk in (0..ROWS).collect::<Vec<_>>().chunks(500) {
            transact(e, |tx| {
                for i in chunk {
                    tx.put(Table::UseridUser, &key(*i), &value)?;
                }
                Ok(())
            })
            .unwrap();
        }
        // A spread of keys, the same for every engine.
        let pick = |i: u32| i.wrapping_mul(2_654_435_761) % ROWS;
        let get = measure(2000, |i| {
            assert!(e.get(Table::UseridUser, &key(pick(i))).unwrap().is_some());
        });
        let page = measure(500, |i| {
            let after = key(pick(i) % (ROWS - 100));
            let range = (Bound::Excluded(&after[..]), Bound::Unbounded);
            let n = e
                .range(Table::UseridUser, range, Order::Asc)
                .take(50)
                .map(|r| r.unwrap().1.len())
                .sum::<usize>();
            assert_eq!(n, 50 * 200);
        });
        let write = measure(500, |i| {
            transact(e, |tx| tx.put(Table::UseridUser, &key(pick(i)), &value)).unwrap();
        });
        let durable = measure(200, |i| {
            transact(e, |tx| tx.put(Table::UseridUser, &key(pick(i)), &value)).unwrap();
            runtime.block_on(e.durable()).unwrap();
        });
        let concurrent = concurrent_durable_writes(&engine, &value);
        println!(
            "{:<9}{:>20}{:>20}{:>20}{:>20}{:>20}",
            e.name(),
            show(get),
            show(page),
            show(write),
            show(durable),
            show(concurrent)
        );
    }
}

/// `THREADS` threads each making 50 durable one-row writes of their own keys: the latency a
/// create sees under load (sled and PostgreSQL both share one flush among concurrent
/// commits).
fn concurrent_durable_writes(engine: &Arc<dyn Engine>, value: &[u8]) -> (Duration, Duration) {
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (engine, value) = (engine.clone(), value.to_vec());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                (0..50)
                    .map(|i| {
                        let start = Instant::now();
                        let k = key(ROWS + t * 1000 + i);
                        transact(engine.as_ref(), |tx| tx.put(Table::UseridUser, &k, &value))
                            .unwrap();
                        runtime.block_on(engine.durable()).unwrap();
                        start.elapsed()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut times: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    times.sort();
    (times[times.len() / 2], times[times.len() * 99 / 100])
}
