//! `cargo bench --bench load -- wrk`: the authenticated GET against the bare handler, driven
//! by wrk (two threads, 32 connections) and by the bench's own closed-loop generator, in
//! alternating rounds, with the CPU time that each server and each generator spend per
//! request. Skipped, with a message, when `wrk` is not installed.
//!
//! Why both: the generator runs on the same two cores as the server. When the machine is
//! saturated, requests/s is about cores / (server CPU + generator CPU per request), so the
//! ratio of iamd to the bare handler is (S_bare + G) / (S_iamd + G): a generator that costs
//! more per request (G) hides more of the difference between the servers. The report prints
//! that prediction next to the measured ratio.
//!
//! `IAMD_BENCH_BASELINE=path/to/another/iamd` runs that build too, in the same rounds (the
//! before/after figures in BENCHMARKS.md). The report is also written to
//! `target/bench-wrk.md`.

use crate::http::{get, load, once};
use crate::servers::{bare_server, seed, Iamd};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Linux reports CPU time in USER_HZ (100) ticks.
const TICK_US: f64 = 10_000.0;

#[derive(Clone, Copy)]
enum Generator {
    Wrk,
    ClosedLoop(usize),
}

impl Generator {
    fn name(self) -> String {
        match self {
            Generator::Wrk => "wrk -t2 -c32".into(),
            Generator::ClosedLoop(c) => format!("bench closed loop, {c} connections"),
        }
    }
}

struct Server<'a> {
    name: String,
    addr: SocketAddr,
    request: Vec<u8>,
    path: &'static str,
    key: Option<&'a str>,
    /// `None`: the bare handler, in this process.
    process: Option<&'a Iamd>,
}

/// One run: answered requests, seconds, server and generator CPU ticks.
#[derive(Clone, Copy, Default)]
struct Run {
    ok: u64,
    errors: u64,
    secs: f64,
    server_ticks: u64,
    generator_ticks: u64,
}

impl Run {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    fn server_us(&self) -> f64 {
        self.server_ticks as f64 * TICK_US / self.ok.max(1) as f64
    }
    fn generator_us(&self) -> f64 {
        self.generator_ticks as f64 * TICK_US / self.ok.max(1) as f64
    }
    /// Cores busy with the server and the generator together.
    fn cores(&self) -> f64 {
        (self.server_ticks + self.generator_ticks) as f64 * TICK_US / 1e6 / self.secs
    }
}

/// This process's CPU ticks: (all its threads, living or exited; its waited-for children;
/// the bare server's threads).
fn own_ticks() -> (u64, u64, u64) {
    let fields = |stat: &str| -> (String, Vec<u64>) {
        let (head, rest) = stat.rsplit_once(')').unwrap_or(("", ""));
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_string();
        // Fields from the third (state) on; utime is the 14th.
        let nums = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        (comm, nums)
    };
    let (_, me) = fields(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default());
    let at = |v: &Vec<u64>, i: usize| v.get(i - 3).copied().unwrap_or(0);
    let mut bare = 0;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten() {
        let Ok(task) = task else { continue };
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let (comm, v) = fields(&stat);
        if ["bare", "actix-server", "actix-rt"]
            .iter()
            .any(|p| comm.starts_with(p))
        {
            bare += at(&v, 14) + at(&v, 15);
        }
    }
    (at(&me, 14) + at(&me, 15), at(&me, 16) + at(&me, 17), bare)
}

fn run_wrk(server: &Server, secs: u64) -> Run {
    let url = format!("http://{}{}", server.addr, server.path);
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{secs}s"), &url]);
    if let Some(key) = server.key {
        cmd.args(["-H", &format!("Authorization: Bearer {key}")]);
    }
    let before = (own_ticks(), server.process.map(Iamd::cpu_ticks));
    let start = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output().expect("wrk runs");
    let elapsed = start.elapsed().as_secs_f64();
    let after = (own_ticks(), server.process.map(Iamd::cpu_ticks));
    let text = String::from_utf8_lossy(&out.stdout);
    // "  226712 requests in 5.01s, 176.64MB read" and "Non-2xx or 3xx responses: 12".
    let number_before = |marker: &str| {
        text.lines()
            .find(|l| l.contains(marker))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    let total = number_before(" requests in ").unwrap_or_else(|| panic!("wrk said:\n{text}"));
    let errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let secs = text
        .lines()
        .find_map(|l| l.split_once(" requests in ")?.1.split_once("s,"))
        .and_then(|(s, _)| s.parse().ok())
        .unwrap_or(elapsed);
    Run {
        ok: total - errors,
        errors,
        secs,
        server_ticks: match (before.1, after.1) {
            (Some(b), Some(a)) => a - b,
            _ => after.0 .2 - before.0 .2,
        },
        generator_ticks: after.0 .1 - before.0 .1,
    }
}

fn run_closed_loop(server: &Server, c: usize, d: Duration) -> Run {
    let before = (own_ticks(), server.process.map(Iamd::cpu_ticks));
    let stats = load(server.addr, c, d, 200, &|_| server.request.clone());
    let after = (own_ticks(), server.process.map(Iamd::cpu_ticks));
    let bare = after.0 .2 - before.0 .2;
    Run {
        ok: stats.ok,
        errors: stats.errors,
        secs: stats.secs,
        server_ticks: match (before.1, after.1) {
            (Some(b), Some(a)) => a - b,
            _ => bare,
        },
        // The whole process but the bare server's threads.
        generator_ticks: (after.0 .0 - before.0 .0).saturating_sub(bare),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

pub fn run(quick: bool) {
    if Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        println!(
            "wrk is not installed (Debian: apt-get install wrk): the wrk comparison is skipped."
        );
        return;
    }
    let ticks_at_start = crate::machine::cpu_ticks();
    let (rounds, secs) = if quick { (2, 1) } else { (5, 3) };
    // IAMD_BENCH_BASELINE=path/to/an/older/iamd: that build too, in the same rounds.
    let baseline = std::env::var_os("IAMD_BENCH_BASELINE").map(std::path::PathBuf::from);
    let this = std::path::PathBuf::from(env!("CARGO_BIN_EXE_iamd"));
    let tmp = tempfile::tempdir().unwrap();
    let mut builds = vec![("iamd", this)];
    builds.extend(baseline.map(|b| ("baseline iamd", b)));
    let mut started = Vec::new();
    for (i, (name, binary)) in builds.iter().enumerate() {
        for (log, env) in [
            ("", &[][..]),
            (", request log off", &[("RUST_LOG", "warn")][..]),
        ] {
            // Each on its own data dir (sled locks it). This build's is seeded through its
            // store; the baseline bootstraps its own (a data dir seeded by this build holds
            // tables, the audit log for one, that an older build's start check calls damage).
            let dir = tmp.path().join(format!("{i}{}", log.len()));
            let seeded = (i == 0).then(|| seed(&dir, 0));
            let mut server = Iamd::start_binary(binary, &dir, env);
            server.wait_for(&get("/health", None), 200);
            let key = seeded.unwrap_or_else(|| {
                std::fs::read_to_string(dir.join(iamd::bootstrap::KEY_FILE))
                    .expect("the baseline build writes its bootstrap key to admin-api-key")
                    .trim()
                    .to_string()
            });
            server.wait_for(&get("/v3/users/me", Some(&key)), 200);
            started.push((format!("{name} GET /v3/users/me{log}"), key, server));
        }
    }
    let (_, body) = once(started[0].2.addr, &get("/v3/users/me", Some(&started[0].1))).unwrap();
    let (bare_addr, bare_handle) = bare_server(body.len());
    let mut servers = vec![Server {
        name: "bare actix-web handler".into(),
        addr: bare_addr,
        request: get("/bare", None),
        path: "/bare",
        key: None,
        process: None,
    }];
    for (name, key, server) in &started {
        servers.push(Server {
            name: name.clone(),
            addr: server.addr,
            request: get("/v3/users/me", Some(key)),
            path: "/v3/users/me",
            key: Some(key),
            process: Some(server),
        });
    }
    let generators = [
        Generator::Wrk,
        Generator::ClosedLoop(16),
        Generator::ClosedLoop(32),
    ];
    let go = |g: Generator, s: &Server, secs: u64| match g {
        Generator::Wrk => run_wrk(s, secs),
        Generator::ClosedLoop(c) => run_closed_loop(s, c, Duration::from_secs(secs)),
    };
    // Warm-up: connections, caches, the first allocations.
    for s in &servers {
        go(Generator::Wrk, s, 1);
    }
    // runs[generator][server][round]
    let mut runs = vec![vec![Vec::new(); servers.len()]; generators.len()];
    for round in 0..rounds {
        for (gi, &g) in generators.iter().enumerate() {
            for (si, s) in servers.iter().enumerate() {
                let r = go(g, s, secs);
                eprintln!(
                    "round {} {} {}: {:.0} req/s, server {:.1} µs/req, generator {:.1} µs/req",
                    round + 1,
                    g.name(),
                    s.name,
                    r.rps(),
                    r.server_us(),
                    r.generator_us()
                );
                runs[gi][si].push(r);
            }
        }
    }
    let names: Vec<String> = servers.into_iter().map(|s| s.name).collect();
    drop(bare_handle.stop(true));
    for (_, _, server) in started {
        server.stop();
    }

    let mut rows = Vec::new();
    let mut errors = 0;
    let mut target = None;
    for (gi, g) in generators.iter().enumerate() {
        let bare = &runs[gi][0];
        let bare_cost = median(
            bare.iter()
                .map(|r| r.server_us() + r.generator_us())
                .collect(),
        );
        for (si, name) in names.iter().enumerate() {
            let these = &runs[gi][si];
            errors += these.iter().map(|r| r.errors).sum::<u64>();
            let (server_us, generator_us) = (
                median(these.iter().map(Run::server_us).collect()),
                median(these.iter().map(Run::generator_us).collect()),
            );
            let (ratio, predicted) = if si == 0 {
                (String::new(), String::new())
            } else {
                let per_round = these.iter().zip(bare).map(|(r, b)| r.rps() / b.rps());
                let ratio = median(per_round.collect());
                if si == 1 && matches!(g, Generator::Wrk) {
                    target = Some(ratio);
                }
                let cost = median(
                    these
                        .iter()
                        .map(|r| r.server_us() + r.generator_us())
                        .collect(),
                );
                (format!("{ratio:.2}"), format!("{:.2}", bare_cost / cost))
            };
            rows.push(format!(
                "| {} | {} | {:.0} | {ratio} | {predicted} | {server_us:.1} | {generator_us:.1} | {:.2} |",
                g.name(),
                name,
                median(these.iter().map(Run::rps).collect()),
                median(these.iter().map(Run::cores).collect()),
            ));
        }
    }
    let ratio = target.unwrap_or(f64::NAN);
    let report = format!(
        "{rounds} alternating rounds of {secs} s per row; medians. \"of bare\": median of the \
         per-round ratios to the bare handler. \"predicted\": (S + G of the bare handler) / \
         (S + G of this row), the ratio expected when the server (S) and the generator (G) \
         share the cores and nothing else runs. CPU: µs of CPU time (user + system) per \
         answered request, from /proc. \"cores busy\": server and generator together (below \
         the machine's cores, something else was running).\n\n\
         | generator | server | req/s | of bare | predicted | server CPU µs/req | generator CPU µs/req | cores busy |\n|---|---|---|---|---|---|---|---|\n{}\n\n\
         - authenticated GET >= 0.6 of the bare handler under wrk: {ratio:.2} — {}\n\
         - machine: {}\n",
        rows.join("\n"),
        if ratio >= 0.6 { "met" } else { "MISSED" },
        crate::machine::summary(ticks_at_start)
    );
    println!("\n{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-wrk.md");
    let _ = std::fs::write(out, &report);
    if errors > 0 {
        eprintln!("{errors} requests got unexpected answers");
        std::process::exit(1);
    }
}
