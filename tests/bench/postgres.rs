//! PostgreSQL rows beside sled's, when `IAMD_BENCH_PG_URL` (or `IAMD_TEST_PG_URL`, which
//! `.ci/postgres` sets) names a database: the authenticated GET (in rounds alternating with
//! sled's), a list page with the small and the large data set, durable creates, and two
//! nodes against one on the same database. Each data set gets a schema of its own (its URL
//! sets `search_path`), dropped at the end.
//!
//! Seeding: the records are made through the store, over an engine in memory (exactly the
//! bytes the PostgreSQL engine would write), then copied into the database's tables in bulk
//! (`INSERT ... SELECT FROM unnest`, thousands of rows a statement); one transaction per
//! user over loopback would take minutes for 100,000 users.
//!
//! The nodes' data directories (their outboxes fill with the emails of the creates) go in
//! `work`, which the caller deletes only after its last measurement: see `run`.

use crate::http::{get, load, page_ids, post, total_count, Stats};
use crate::machine::Probe;
use crate::servers::{measured, seed_store, Iamd};
use crate::{target, Plan, Report, ROUNDS};
use iamd::store::engine::{PostgresEngine, Table};
use iamd::store::{Order, Store};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a connection of the load sends, by sequence number.
type Make<'a> = &'a (dyn Fn(u64) -> Vec<u8> + Sync);

/// Rows a bulk insert statement carries.
const CHUNK: usize = 5000;

/// The database to measure on, if one is named.
fn base_url() -> Option<String> {
    ["IAMD_BENCH_PG_URL", "IAMD_TEST_PG_URL"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

/// Runs `sql` on a connection of its own.
fn admin(base: &str, sql: &str) {
    block_on(async {
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
            .await
            .expect("connect to the benchmark database");
        let task = tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        drop(client);
        let _ = task.await;
    })
}

fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// The store URL of a fresh schema `name` in the database `base`.
fn schema(base: &str, name: &str) -> String {
    admin(
        base,
        &format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"),
    );
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{name}")
}

/// Bootstraps the database at `url` and adds `n` users (see the module comment); returns
/// the admin key.
fn seed(url: &str, n: usize, work: &Path) -> String {
    let dir = tempfile::tempdir_in(work).unwrap();
    let memory = Store::memory().unwrap();
    seed_store(&memory, dir.path(), n);
    let key = std::fs::read_to_string(dir.path().join(iamd::bootstrap::KEY_FILE)).unwrap();
    // Opening the engine applies the migrations: the tables exist, empty.
    drop(PostgresEngine::open(url).expect("the benchmark database opens"));
    let mut tables = Vec::new();
    for table in Table::ALL {
        let all = (Bound::Unbounded, Bound::Unbounded);
        let rows: Vec<(Vec<u8>, Vec<u8>)> = memory
            .engine
            .range(table, all, Order::Asc)
            .collect::<Result<_, _>>()
            .unwrap();
        tables.push((table.name(), rows));
    }
    block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect to the benchmark database");
        let task = tokio::spawn(connection);
        for (name, rows) in &tables {
            let sql = format!(
                "INSERT INTO {name} (key, value) SELECT * FROM unnest($1::bytea[], $2::bytea[])"
            );
            for chunk in rows.chunks(CHUNK) {
                let keys: Vec<&[u8]> = chunk.iter().map(|(k, _)| k.as_slice()).collect();
                let values: Vec<&[u8]> = chunk.iter().map(|(_, v)| v.as_slice()).collect();
                client.execute(&sql, &[&keys, &values]).await.unwrap();
            }
        }
        // The planner's statistics, as autovacuum would gather them on a live database, and
        // the vacuum that autovacuum would otherwise start on the freshly loaded tables
        // (100,000 users' rows: seconds of CPU) in the middle of a measurement.
        client.batch_execute("VACUUM ANALYZE").await.unwrap();
        // The bulk load's dirty pages written now rather than by a checkpoint during the
        // creates, whose commits wait on the same disk. Needs the right to (superuser or
        // pg_checkpoint); without it, nothing is lost but that.
        if let Err(e) = client.batch_execute("CHECKPOINT").await {
            eprintln!("PostgreSQL: no CHECKPOINT after seeding ({e})");
        }
        drop(client);
        let _ = task.await;
    });
    key.trim().to_string()
}

/// `c` connections spread evenly over `addrs`, all at once, as one run.
fn spread(addrs: &[SocketAddr], c: usize, d: Duration, expect: u16, make: Make) -> Stats {
    let runs: Vec<Stats> = std::thread::scope(|s| {
        let threads: Vec<_> = addrs
            .iter()
            .map(|addr| s.spawn(move || load(*addr, c / addrs.len(), d, expect, make)))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    // Concurrent, not one after the other: the run took the longest of them.
    let secs = runs.iter().map(|s| s.secs).fold(0.0, f64::max);
    let mut merged = Stats::merge(runs);
    merged.secs = secs;
    merged
}

/// Measures the PostgreSQL rows; returns the lines of their targets. `sled` serves the
/// small data set on sled (`sled_key` its admin key), for the GET compared in the same
/// rounds.
/// `work`: a directory for the nodes' data, not deleted before sled's creates are measured.
/// On a filesystem without a journal (as on the machine of BENCHMARKS.md), ext4 allocates
/// no inode deleted in the last one to six minutes, and skipping them made every file a
/// user create writes (its email) several times dearer: deleting these outboxes right away
/// cost sled's users-create its target.
pub fn run(
    r: &mut Report,
    plan: &Plan,
    work: &Path,
    sled: &Iamd,
    sled_key: &str,
    ceiling: &BTreeMap<usize, f64>,
) -> Vec<String> {
    let Some(base) = base_url() else {
        r.note("PostgreSQL: no rows (set IAMD_BENCH_PG_URL to a database to measure)".into());
        return Vec::new();
    };
    let d = plan.duration;
    let tag = format!("iamd_bench_{}", std::process::id());
    let (small_url, large_url) = (
        schema(&base, &format!("{tag}_small")),
        schema(&base, &format!("{tag}_large")),
    );
    let seeding = Instant::now();
    let key = seed(&small_url, plan.small - 1, work);
    let large_key = seed(&large_url, plan.large - 1, work);
    r.note(format!(
        "PostgreSQL: seeded {} and {} users in {:.1} s (made through a store in memory, copied in bulk).",
        plan.small,
        plan.large,
        seeding.elapsed().as_secs_f64()
    ));
    let node =
        |name: &str, url: &str| Iamd::start_with(&work.join(name), &[("IAMD_STORE_URL", url)]);
    let (key, large_key) = (key.as_str(), large_key.as_str());
    let me = get("/v3/users/me", Some(key));
    let mut a = node("a", &small_url);
    a.wait_for(&me, 200);

    // -- the authenticated GET, in rounds alternating with sled's -----------------------------
    let sled_me = get("/v3/users/me", Some(sled_key));
    load(a.addr, 16, d / 2, 200, &|_| me.clone());
    let mut get_ratio = (0.0, 0.0);
    for &c in plan.levels {
        let (mut on_sled, mut on_pg) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            on_sled.push(measured(sled, || {
                load(sled.addr, c, d / 2, 200, &|_| sled_me.clone())
            }));
            on_pg.push(measured(&a, || {
                load(a.addr, c, d / 2, 200, &|_| me.clone())
            }));
        }
        let (on_sled, on_pg) = (Stats::merge(on_sled), Stats::merge(on_pg));
        let what = "GET /v3/users/me (authenticated), PostgreSQL";
        r.row(what, c, &on_pg, Some(ceiling[&c]));
        if c == 16 {
            get_ratio = (on_pg.rps(), on_sled.rps());
        }
    }

    // -- list pages: the small data set against the large one --------------------------------
    let mut large = node("large", &large_url);
    large.wait_for(&get("/v3/users/me", Some(large_key)), 200);
    let users = total_count(large.addr, large_key);
    let lists = |addr, key| {
        let ids = page_ids(addr, key);
        let deep = ids[ids.len() / 2].clone();
        [
            ("first", get("/v3/users?limit=50", Some(key))),
            (
                "deep",
                get(&format!("/v3/users?limit=50&after={deep}"), Some(key)),
            ),
        ]
    };
    let (small_lists, large_lists) = (lists(a.addr, key), lists(large.addr, large_key));
    let mut list_ratio: f64 = 0.0;
    for ((name, small_req), (_, large_req)) in small_lists.iter().zip(&large_lists) {
        let (mut small_runs, mut large_runs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            small_runs.push(measured(&a, || {
                load(a.addr, 16, d / 2, 200, &|_| small_req.clone())
            }));
            large_runs.push(measured(&large, || {
                load(large.addr, 16, d / 2, 200, &|_| large_req.clone())
            }));
        }
        let (small_s, large_s) = (Stats::merge(small_runs), Stats::merge(large_runs));
        list_ratio = list_ratio.max(small_s.rps() / large_s.rps());
        for (count, s) in [(plan.small as u64, &small_s), (users, &large_s)] {
            let what = format!("GET /v3/users?limit=50, {name} page, {count} users, PostgreSQL");
            r.row(&what, 16, s, Some(ceiling[&16]));
        }
    }
    large.stop();

    // -- durable creates ----------------------------------------------------------------------
    let serial = AtomicU64::new(0);
    let new_user = |_| {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        post(
            "/v3/users",
            key,
            &format!("{{\"email\":\"pg{n}@bench.example\"}}"),
        )
    };
    let new_key = |_| {
        let n = serial.fetch_add(1, Ordering::Relaxed);
        post("/v3/api-keys", key, &format!("{{\"name\":\"pg-{n}\"}}"))
    };
    let mut create_p99_16 = Vec::new();
    let probe = Probe::start(work);
    for (what, make) in [("users", &new_user as Make), ("api-keys", &new_key)] {
        for &c in &plan.levels[..2] {
            let s = measured(&a, || load(a.addr, c, d, 201, make));
            if c == 16 {
                create_p99_16.push((what, s.pct(0.99)));
            }
            r.row(
                &format!("POST /v3/{what} (durable), PostgreSQL"),
                c,
                &s,
                None,
            );
        }
    }

    let creates_machine = probe.finish("PostgreSQL's durable creates of users and API keys");

    // -- two nodes against one, on the same database and machine ------------------------------
    let mut b = node("b", &small_url);
    b.wait_for(&me, 200);
    let get_me = |_| me.clone();
    let scenarios: [(&str, u16, Make); 2] = [
        ("GET /v3/users/me", 200, &get_me),
        ("POST /v3/users (durable)", 201, &new_user),
    ];
    for (what, expect, make) in scenarios {
        let (mut one, mut two) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS / 2 {
            one.push(spread(&[a.addr], 16, d / 2, expect, make));
            two.push(spread(&[a.addr, b.addr], 16, d / 2, expect, make));
        }
        let (one, two) = (Stats::merge(one), Stats::merge(two));
        r.row(&format!("{what}, PostgreSQL, one node"), 16, &one, None);
        let spread_what = format!("{what}, PostgreSQL, two nodes (8 + 8 connections)");
        r.row(&spread_what, 16, &two, None);
    }
    b.stop();
    a.stop();
    admin(
        &base,
        &format!("DROP SCHEMA {tag}_small CASCADE; DROP SCHEMA {tag}_large CASCADE"),
    );

    let ratio = get_ratio.0 / get_ratio.1;
    vec![
        format!(
            "- PostgreSQL: authenticated GET within 0.8x of sled (c=16, same rounds): {:.0} against {:.0} req/s, {ratio:.2}x — {}",
            get_ratio.0,
            get_ratio.1,
            target(ratio >= 0.8)
        ),
        format!(
            "- PostgreSQL: list page with {users} users within 1.5x of {} users: worst {list_ratio:.2}x — {}",
            plan.small,
            target(list_ratio <= 1.5)
        ),
        format!(
            "- PostgreSQL: durable create p99 < 20 ms at c=16: {} — {}",
            create_p99_16
                .iter()
                .map(|(what, p)| format!("{what} {p:.2} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            target(create_p99_16.iter().all(|(_, p)| *p < 20.0))
        ),
        creates_machine,
    ]
}
