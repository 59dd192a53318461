//! `cargo bench --bench load`: iamd under load over loopback, against a bare actix-web
//! handler as the framework ceiling. Prints a markdown report (also written to
//! `target/bench-load.md`); BENCHMARKS.md holds the latest figures.
//!
//! One run: seeds two temp data dirs through the store (1,000 and 100,000 users; one flush
//! at the end: seeding is not what is measured), starts the real release binary on each
//! (production logging, stderr to /dev/null) and drives them with a closed-loop generator:
//! N threads, each with its own HTTP/1.1 keep-alive connection, for a fixed time, recording
//! every latency. Comparisons (iamd against the bare handler, the small data set against
//! the large one) are measured in alternating rounds.
//!
//! `IAMD_BENCH_PG_URL=postgres://...` (or `IAMD_TEST_PG_URL`, as `.ci/postgres` sets) adds
//! the PostgreSQL rows (postgres.rs) beside sled's.
//! `IAMD_BENCH_BASELINE=path/to/another/iamd` adds that build's authenticated GET, measured
//! in the same rounds, and its durable creates at c=16 (`POST /v3/users`, `/v3/api-keys`),
//! in rounds alternating with this build's: before/after p99 from one run.
//! `cargo bench --bench load -- bare` only serves the bare handler (for profilers).
//! `cargo bench --bench load -- wrk` runs only the authenticated GET against the bare
//! handler with wrk and with this generator (`wrk.rs`).
//!
//! `IAMD_BENCH_QUICK=1` runs small counts for a few seconds; the full run seeds 100,000
//! users and takes a few minutes. CI runs the quick mode on the debug build
//! (`IAMD_BENCH_QUICK=1 cargo test --bench load -- --bench`) as a smoke test: any
//! unexpected answer fails the run; its figures mean nothing.

mod http;
mod machine;
mod postgres;
mod servers;
mod signin;
mod wrk;

use http::{get, load, once, page_ids, post, total_count, Stats};
use machine::{cpu_ticks, Probe};
use servers::{bare_server, dir_bytes, measured, seed, Iamd};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Alternating rounds (of half the run time each) for the ceiling and the authenticated GET.
const ROUNDS: u32 = 4;

struct Plan {
    quick: bool,
    duration: Duration,
    levels: &'static [usize],
    small: usize,
    large: usize,
}

fn plan() -> Plan {
    if std::env::var("IAMD_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0") {
        Plan {
            quick: true,
            duration: Duration::from_millis(700),
            levels: &[1, 16],
            small: 1_000,
            large: 10_000,
        }
    } else {
        Plan {
            quick: false,
            duration: Duration::from_secs(5),
            levels: &[1, 16, 64],
            small: 1_000,
            large: 100_000,
        }
    }
}

// ---- the report ---------------------------------------------------------------------------

struct Report {
    rows: Vec<String>,
    notes: Vec<String>,
    /// Some request got an unexpected answer: the run fails (it doubles as a smoke test).
    errors: bool,
}

impl Report {
    fn row(&mut self, what: &str, c: usize, s: &Stats, ceiling: Option<f64>) {
        let ratio = ceiling.map_or("".into(), |b| format!("{:.0}%", 100.0 * s.rps() / b));
        self.errors |= s.errors > 0;
        let errors = if s.errors > 0 {
            format!(
                " ({} errors: {})",
                s.errors,
                s.first_error.as_deref().unwrap_or("")
            )
        } else {
            String::new()
        };
        let cpu = s.cpu_us.map_or(String::new(), |us| format!("{us:.0}"));
        let line = format!(
            "| {what} | {c} | {:.0} | {:.2} | {:.2} | {ratio} | {cpu} |{errors}",
            s.rps(),
            s.pct(0.5),
            s.pct(0.99)
        );
        eprintln!("{line}");
        self.rows.push(line);
    }

    fn na(&mut self, what: &str, why: &str) {
        let line = format!("| {what} | | n/a | | | | | {why}");
        eprintln!("{line}");
        self.rows.push(line);
    }

    fn fail(&mut self, what: &str, why: &str) {
        self.errors = true;
        self.na(what, why);
    }

    fn note(&mut self, line: String) {
        eprintln!("{line}");
        self.notes.push(line);
    }
}

fn target(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would run this too: skip then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let plan = plan();
    // `cargo bench --bench load -- wrk`: only the comparison with wrk (see wrk.rs).
    if std::env::args().any(|a| a == "wrk") {
        return wrk::run(plan.quick);
    }
    // `cargo bench --bench load -- bare [ADDRESS]`: serves the bare handler until killed,
    // for profiling it as iamd is (see BENCHMARKS.md).
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "bare") {
        let bind = args.get(at + 1).map_or("127.0.0.1:0", |a| a.as_str());
        let (addr, _handle) = servers::bare_server_on(627, bind);
        println!("bare handler on http://{addr}/bare");
        loop {
            std::thread::park();
        }
    }
    let d = plan.duration;
    let ticks_at_start = cpu_ticks();
    let mut r = Report {
        rows: Vec::new(),
        notes: Vec::new(),
        errors: false,
    };
    let tmp = tempfile::tempdir().unwrap();
    // Two data sets, served side by side, so that the list pages of the small and the large
    // one are measured in alternating rounds like the ceiling and the authenticated GET.
    let small_dir = tmp.path().join("small");
    let large_dir = tmp.path().join("large");
    let key = seed(&small_dir, 0);
    let empty_bytes = dir_bytes(&small_dir);
    seed(&small_dir, plan.small - 1);
    let key = key.as_str();
    let seeding = Instant::now();
    let large_key = seed(&large_dir, plan.large - 1);
    let large_key = large_key.as_str();
    r.note(format!(
        "Seeded {} users through the store in {:.1} s (one flush at the end).",
        plan.large - 1,
        seeding.elapsed().as_secs_f64()
    ));
    let large_bytes = dir_bytes(&large_dir);

    // -- the ceiling and the authenticated GET (small data set) ------------------------------
    let mut server = Iamd::start(&small_dir);
    server.wait_for(&get("/health", None), 200);
    let addr = server.addr;
    let me = get("/v3/users/me", Some(key));
    let (_, me_body) = once(addr, &me).unwrap();
    let (bare_addr, bare_handle) = bare_server(me_body.len());
    let bare_req = get("/bare", None);
    let (_, bare_body) = once(bare_addr, &bare_req).unwrap();
    assert_eq!(bare_body.len(), me_body.len());

    // IAMD_BENCH_BASELINE=path/to/another/iamd: that build too (on a data set of its own),
    // in the same rounds: before/after figures from one run.
    let baseline = std::env::var_os("IAMD_BENCH_BASELINE").map(|binary| {
        // Bootstrapped by that build itself: a data dir seeded by this build's store holds
        // tables (the audit log, sign-in) an older build's start check calls damage.
        let dir = tmp.path().join("baseline");
        let mut server = Iamd::start_binary(Path::new(&binary), &dir, &[]);
        server.wait_for(&get("/health", None), 200);
        let key = std::fs::read_to_string(dir.join("admin-api-key"))
            .expect("the baseline build writes its bootstrap key to admin-api-key")
            .trim()
            .to_string();
        let me = get("/v3/users/me", Some(&key));
        server.wait_for(&me, 200);
        (server, me, key)
    });
    load(bare_addr, 16, d / 2, 200, &|_| bare_req.clone());
    load(addr, 16, d / 2, 200, &|_| me.clone());
    // The ceiling and iamd are measured in alternating rounds at each concurrency: the
    // machine is shared, and a drift in what it gives then lands on both sides alike.
    let mut ceiling = std::collections::BTreeMap::new();
    let (mut me_rows, mut baseline_rows) = (Vec::new(), Vec::new());
    for &c in plan.levels {
        let (mut bare, mut iamd, mut before) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            bare.push(load(bare_addr, c, d / 2, 200, &|_| bare_req.clone()));
            iamd.push(measured(&server, || {
                load(addr, c, d / 2, 200, &|_| me.clone())
            }));
            if let Some((b, me, _)) = &baseline {
                before.push(measured(b, || load(b.addr, c, d / 2, 200, &|_| me.clone())));
            }
        }
        if baseline.is_some() {
            baseline_rows.push((c, Stats::merge(before)));
        }
        let bare = Stats::merge(bare);
        r.row(
            &format!("bare actix-web handler ({} B body)", me_body.len()),
            c,
            &bare,
            None,
        );
        ceiling.insert(c, bare.rps());
        me_rows.push((c, Stats::merge(iamd)));
    }
    let mut me_ratio_16 = 0.0;
    for (c, s) in me_rows {
        if c == 16 {
            me_ratio_16 = s.rps() / ceiling[&c];
        }
        r.row("GET /v3/users/me (authenticated)", c, &s, Some(ceiling[&c]));
    }
    for (c, s) in baseline_rows {
        let what = "GET /v3/users/me (authenticated), IAMD_BENCH_BASELINE build";
        r.row(what, c, &s, Some(ceiling[&c]));
    }
    signin::run(&mut r, &server, key, plan.levels, d, &ceiling);
    // PostgreSQL beside sled, while sled's small data set is served (its GET is compared
    // in the same rounds).
    let pg_work = tmp.path().join("postgres");
    std::fs::create_dir(&pg_work).unwrap();
    let pg_targets = postgres::run(&mut r, &plan, &pg_work, &server, key, &ceiling);

    // -- the large data set: cold start, memory, list pages against the small one ----------
    let mut large = Iamd::start(&large_dir);
    let health = large.wait_for(&get("/health", None), 200);
    let large_me = get("/v3/users/me", Some(large_key));
    let first_auth = large.wait_for(&large_me, 200);
    // "Idle": no request running, and the record scan after the start done.
    let idle_kib = large.settled_rss_kib();
    let users = total_count(large.addr, large_key);
    let list_requests = |addr, key| {
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
    let small_lists = list_requests(addr, key);
    let large_lists = list_requests(large.addr, large_key);

    let peak = AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut list_ratio: f64 = 0.0;
    std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(large.rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        for ((name, small_req), (_, large_req)) in small_lists.iter().zip(&large_lists) {
            load(addr, 16, d / 2, 200, &|_| small_req.clone());
            load(large.addr, 16, d / 2, 200, &|_| large_req.clone());
            let (mut small_runs, mut large_runs) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                small_runs.push(measured(&server, || {
                    load(addr, 16, d / 2, 200, &|_| small_req.clone())
                }));
                large_runs.push(measured(&large, || {
                    load(large.addr, 16, d / 2, 200, &|_| large_req.clone())
                }));
            }
            let (small_s, large_s) = (Stats::merge(small_runs), Stats::merge(large_runs));
            list_ratio = list_ratio.max(small_s.rps() / large_s.rps());
            for (count, s) in [(plan.small as u64, &small_s), (users, &large_s)] {
                r.row(
                    &format!("GET /v3/users?limit=50, {name} page, {count} users"),
                    16,
                    s,
                    Some(ceiling[&16]),
                );
            }
        }
        let s = measured(&large, || {
            load(large.addr, 16, d, 200, &|_| large_me.clone())
        });
        r.row(
            &format!("GET /v3/users/me, {users} users"),
            16,
            &s,
            Some(ceiling[&16]),
        );
        done.store(true, Ordering::Relaxed);
    });
    let load_kib = peak.load(Ordering::Relaxed);
    large.stop();
    // Seeding wrote no snapshot (as after a kill -9), so the first start replayed all of its
    // inserts; the graceful stop above wrote one.
    let mut again = Iamd::start(&large_dir);
    let restart = again.wait_for(&large_me, 200);
    again.stop();

    // -- durable creates (small data set) ----------------------------------------------------
    // With a baseline build, c=16 is measured in rounds alternating with it (each build on
    // its own data set): the p99 before and after, under the same drift of the machine.
    let serial = AtomicU64::new(0);
    let (mut create_p99_16, mut create_before_16) = (Vec::new(), Vec::new());
    type Body = fn(u64) -> String;
    let creates: [(&str, &str, Body); 2] = [
        ("users", "/v3/users", |n| {
            format!("{{\"email\":\"b{n}@bench.example\"}}")
        }),
        ("api-keys", "/v3/api-keys", |n| {
            format!("{{\"name\":\"bench-{n}\"}}")
        }),
    ];
    let probe = Probe::start(tmp.path());
    for (what, path, body) in creates {
        let make = |key: &str| post(path, key, &body(serial.fetch_add(1, Ordering::Relaxed)));
        for &c in &plan.levels[..2] {
            let (s, before) = match &baseline {
                Some((b, _, b_key)) if c == 16 => {
                    let (mut now, mut then) = (Vec::new(), Vec::new());
                    for _ in 0..ROUNDS {
                        now.push(measured(&server, || {
                            load(addr, c, d / 2, 201, &|_| make(key))
                        }));
                        then.push(measured(b, || {
                            load(b.addr, c, d / 2, 201, &|_| make(b_key))
                        }));
                    }
                    (Stats::merge(now), Some(Stats::merge(then)))
                }
                _ => (
                    measured(&server, || load(addr, c, d, 201, &|_| make(key))),
                    None,
                ),
            };
            if c == 16 {
                create_p99_16.push((what, s.pct(0.99)));
            }
            r.row(&format!("POST {path} (durable)"), c, &s, None);
            if let Some(b) = before {
                create_before_16.push((what, b.pct(0.99)));
                let row = format!("POST {path} (durable), IAMD_BENCH_BASELINE build");
                r.row(&row, c, &b, None);
            }
        }
    }
    let sled_creates_machine = probe.finish("sled's durable creates of users and API keys");
    if let Some((b, _, _)) = baseline {
        b.stop();
    }
    let probe = post(
        "/v3/developer-certificates",
        key,
        "{\"name\":\"bench-probe\"}",
    );
    match once(addr, &probe).unwrap() {
        (404, _) | (405, _) => r.na(
            "POST /v3/developer-certificates",
            "route not available in this build",
        ),
        (201, _) => {
            for &c in &plan.levels[..2] {
                let s = measured(&server, || {
                    load(addr, c, d, 201, &|_| {
                        let n = serial.fetch_add(1, Ordering::Relaxed);
                        post(
                            "/v3/developer-certificates",
                            key,
                            &format!("{{\"name\":\"bench-{n}\"}}"),
                        )
                    })
                });
                r.row("POST /v3/developer-certificates (durable)", c, &s, None);
            }
        }
        (status, body) => r.fail(
            "POST /v3/developer-certificates",
            &format!(
                "probe answered {status}: {}",
                String::from_utf8_lossy(&body)
            ),
        ),
    }
    // A graceful stop after all the writes above: the next start replays none of them.
    let writes = serial.load(Ordering::Relaxed);
    server.stop();
    drop(bare_handle.stop(true));
    let mut small_again = Iamd::start(&small_dir);
    let after_writes = small_again.wait_for(&me, 200);
    small_again.stop();

    // -- summary ---------------------------------------------------------------------------
    let mib = |kib: u64| kib as f64 / 1024.0;
    let per_100k =
        (large_bytes.saturating_sub(empty_bytes)) as f64 * 100_000.0 / (users as f64 - 1.0);
    r.note(format!(
        "Cold start with {users} users after a graceful stop: first 200 of an authenticated GET after {:.0} ms. First start after seeding them, replaying all their inserts (no snapshot, as after a kill -9): /health after {:.0} ms, an authenticated GET after {:.0} ms. Small data set after a graceful stop that followed {writes} creates over HTTP: {:.0} ms.",
        ms(restart),
        ms(health),
        ms(first_auth),
        ms(after_writes)
    ));
    r.note(format!(
        "Resident memory with {users} users: {:.1} MiB idle, {:.1} MiB peak under load.",
        mib(idle_kib),
        mib(load_kib)
    ));
    r.note(format!(
        "Data directory: {:.1} MiB with {users} users ({:.1} MiB per 100,000 users; {} KiB freshly bootstrapped).",
        large_bytes as f64 / 1048576.0,
        per_100k / 1048576.0,
        empty_bytes / 1024
    ));
    let mut targets = vec![
        format!(
            "- authenticated GET >= 60% of the bare handler (c=16): {:.0}% — {}",
            100.0 * me_ratio_16,
            target(me_ratio_16 >= 0.6)
        ),
        format!(
            "- list page with {users} users within 1.5x of {} users: worst {list_ratio:.2}x — {}",
            plan.small,
            target(list_ratio <= 1.5)
        ),
        format!(
            "- durable create p99 < 10 ms at c=16: {} — {}",
            create_p99_16
                .iter()
                .map(|(what, p)| format!("{what} {p:.2} ms"))
                .collect::<Vec<_>>()
                .join(", "),
            target(create_p99_16.iter().all(|(_, p)| *p < 10.0))
        ),
        sled_creates_machine,
        format!(
            "- cold start < 200 ms with {users} users: {:.0} ms after a graceful stop ({:.0} ms for the small set after {writes} creates) — {}; after a kill -9 that left {users} inserts to replay: {:.0} ms",
            ms(restart),
            ms(after_writes),
            target(ms(restart).max(ms(after_writes)) < 200.0),
            ms(first_auth)
        ),
        format!(
            "- idle memory < 64 MiB with {users} users: {:.1} MiB — {}",
            mib(idle_kib),
            target(mib(idle_kib) < 64.0)
        ),
    ];
    targets.extend(pg_targets);
    if !create_before_16.is_empty() {
        targets.push(format!(
            "- durable create p99 at c=16, IAMD_BENCH_BASELINE build -> this build (alternating rounds): {}",
            create_before_16
                .iter()
                .zip(&create_p99_16)
                .map(|((what, before), (_, after))| format!("{what} {before:.2} -> {after:.2} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if plan.quick {
        targets.push(
            "- (quick mode: small counts and short runs; figures are indicative only)".into(),
        );
    }
    targets.push(format!(
        "- machine: {} (other work on the machine, or a VM's host taking its cores back, skews p99)",
        machine::summary(ticks_at_start)
    ));
    let report = format!(
        "| scenario | concurrency | req/s | p50 ms | p99 ms | req/s of bare | server CPU µs/req |\n|---|---|---|---|---|---|---|\n{}\n\n{}\n\nTargets:\n{}\n",
        r.rows.join("\n"),
        r.notes.join("\n"),
        targets.join("\n")
    );
    println!("\n{report}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-load.md");
    let _ = std::fs::write(out, &report);
    let failed = r
        .rows
        .iter()
        .filter(|row| row.contains(" errors: ") || row.contains("probe answered"))
        .count();
    println!("bench: {} passed, {failed} failed", r.rows.len() - failed);
    if r.errors {
        eprintln!("some requests got unexpected answers (see the rows marked with errors)");
        std::process::exit(1);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
