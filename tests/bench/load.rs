//! `cargo bench --bench load`: iamd under load over loopback, against a bare actix-web
//! handler as the framework ceiling. Prints a markdown report (also written to
//! `target/bench-load.md`); README.md § Benchmarks holds the latest figures.
//!
//! One run: seeds a temp data dir through the store (one flush at the end: seeding is not
//! what is measured), starts the real release binary on it (production logging, stderr to
//! /dev/null) and drives it with a closed-loop generator: N threads, each with its own
//! HTTP/1.1 keep-alive connection, for a fixed time, recording every latency.
//!
//! `IAMD_BENCH_QUICK=1` runs small counts for a few seconds; the full run seeds 100,000
//! users and takes a few minutes. CI runs the quick mode on the debug build
//! (`IAMD_BENCH_QUICK=1 cargo test --bench load -- --bench`) as a smoke test: any
//! unexpected answer fails the run; its figures mean nothing.

use iamd::ids::Id;
use iamd::store::users::UserRecord;
use iamd::store::Store;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

// ---- a minimal HTTP/1.1 client ------------------------------------------------------------

struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        Ok(Conn {
            reader: BufReader::new(s.try_clone()?),
            writer: s,
        })
    }

    /// Sends one request and reads the whole response: (status, body).
    fn roundtrip(&mut self, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        self.writer.write_all(request)?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut chunked) = (0usize, false);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap_or((l, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body)?;
        }
        Ok((status, body))
    }
}

fn get(path: &str, key: Option<&str>) -> Vec<u8> {
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
}

fn post(path: &str, key: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn once(addr: SocketAddr, request: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    Conn::open(addr)?.roundtrip(request)
}

// ---- the load generator ---------------------------------------------------------------------

struct Stats {
    /// Server CPU time per answered request, when measured.
    cpu_us: Option<f64>,
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    secs: f64,
    /// Sorted latencies in microseconds.
    lat: Vec<u32>,
}

impl Stats {
    fn rps(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    fn pct(&self, q: f64) -> f64 {
        if self.lat.is_empty() {
            return f64::NAN;
        }
        let i = ((self.lat.len() as f64 - 1.0) * q).round() as usize;
        self.lat[i] as f64 / 1000.0
    }
}

/// Closed loop: `concurrency` connections each send `make(seq)` and wait for the answer,
/// for `duration`. Answers other than `expect` count as errors.
fn load(
    addr: SocketAddr,
    concurrency: usize,
    duration: Duration,
    expect: u16,
    make: &(dyn Fn(u64) -> Vec<u8> + Sync),
) -> Stats {
    let seq = AtomicU64::new(0);
    let start = Instant::now();
    let deadline = start + duration;
    let results: Vec<(u64, u64, Option<String>, Vec<u32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| {
                let seq = &seq;
                s.spawn(move || {
                    let (mut ok, mut errors, mut first_error) = (0, 0, None);
                    let mut lat = Vec::with_capacity(1 << 16);
                    let mut conn = Conn::open(addr).expect("connect");
                    while Instant::now() < deadline {
                        let request = make(seq.fetch_add(1, Ordering::Relaxed));
                        let t = Instant::now();
                        match conn.roundtrip(&request) {
                            Ok((status, _)) if status == expect => {
                                ok += 1;
                                lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                            }
                            Ok((status, body)) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| {
                                    format!("{status} {}", String::from_utf8_lossy(&body))
                                });
                            }
                            Err(e) => {
                                errors += 1;
                                first_error.get_or_insert_with(|| e.to_string());
                                conn = Conn::open(addr).expect("reconnect");
                            }
                        }
                    }
                    (ok, errors, first_error, lat)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut stats = Stats {
        cpu_us: None,
        ok: 0,
        errors: 0,
        first_error: None,
        secs,
        lat: Vec::new(),
    };
    for (ok, errors, first, lat) in results {
        stats.ok += ok;
        stats.errors += errors;
        stats.first_error = stats.first_error.or(first);
        stats.lat.extend(lat);
    }
    stats.lat.sort_unstable();
    stats
}

// ---- servers ----------------------------------------------------------------------------------

/// A bare actix-web handler returning `size` bytes of JSON, with iamd's worker count.
fn bare_server(size: usize) -> (SocketAddr, actix_web::dev::ServerHandle) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let body = format!("{{\"x\":\"{}\"}}", "a".repeat(size.saturating_sub(8)));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let body = body.clone();
                App::new().route(
                    "/bare",
                    web::get().to(move || {
                        let body = body.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body)
                        }
                    }),
                )
            })
            .workers(2)
            .bind("127.0.0.1:0")
            .unwrap();
            let addr = server.addrs()[0];
            let server = server.run();
            tx.send((addr, server.handle())).unwrap();
            server.await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The release binary on `dir`, as in production (logging at info, to /dev/null).
struct Iamd {
    child: Child,
    addr: SocketAddr,
    started: Instant,
}

impl Iamd {
    fn start(dir: &Path) -> Iamd {
        let port = free_port();
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_iamd"))
            .env_clear()
            .env("IAMD_DATA_DIR", dir)
            .env("IAMD_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("iamd starts");
        Iamd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            started,
        }
    }

    /// Time from spawn to the first `expect` answer to `request`.
    fn wait_for(&mut self, request: &[u8], expect: u16) -> Duration {
        loop {
            if let Ok((status, _)) = once(self.addr, request) {
                if status == expect {
                    return self.started.elapsed();
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("iamd exited: {status}");
            }
            assert!(
                self.started.elapsed() < Duration::from_secs(60),
                "iamd never answered"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// CPU time (user + system) the process has used so far, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok());
        field(14).unwrap_or(0) + field(15).unwrap_or(0)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Iamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---- seeding ------------------------------------------------------------------------------

/// Bootstraps `dir` if needed and adds `n` users through the store (one flush at the end).
/// Returns the admin key.
fn seed(dir: &Path, n: usize) -> String {
    actix_web::rt::System::new().block_on(async {
        let store = Store::open(dir).expect("store opens");
        let mut config = iamd::config::Config::load(None, |_| None).unwrap();
        config.data_dir = dir.to_path_buf();
        iamd::bootstrap::run(&store, &config)
            .await
            .expect("bootstrap");
        let account = store.root_account().unwrap().expect("root account");
        let now = iamd::clock::now_millis();
        for _ in 0..n {
            let id = Id::new();
            let user = UserRecord {
                id,
                account_id: account,
                email: format!("{}@seed.example", id.hex()),
                full_name: Some("Seeded User".into()),
                status: "ACTIVE".into(),
                created_at: now,
                updated_at: now,
                etag: 1,
                ..UserRecord::default()
            };
            // Made durable below, once for the whole batch.
            drop(store.users.create(user).expect("seed user"));
        }
        store.durable().await.unwrap();
        store.flush().unwrap();
    });
    std::fs::read_to_string(dir.join(iamd::bootstrap::KEY_FILE))
        .unwrap()
        .trim()
        .to_string()
}

fn dir_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let meta = entry.metadata().unwrap();
        total += if meta.is_dir() {
            dir_bytes(&entry.path())
        } else {
            meta.blocks() * 512
        };
    }
    total
}

// ---- the report -----------------------------------------------------------------------------

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
    let d = plan.duration;
    let mut r = Report {
        rows: Vec::new(),
        notes: Vec::new(),
        errors: false,
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    let empty_key = seed(&dir, 0);
    let empty_bytes = dir_bytes(&dir);
    let key = seed(&dir, plan.small - 1);
    let key = key.as_str();
    assert_eq!(key, empty_key);

    // -- small data set ----------------------------------------------------------------
    let mut server = Iamd::start(&dir);
    server.wait_for(&get("/health", None), 200);
    let addr = server.addr;
    let me = get("/v3/users/me", Some(key));
    let (_, me_body) = once(addr, &me).unwrap();
    let (bare_addr, bare_handle) = bare_server(me_body.len());
    let bare_req = get("/bare", None);
    let (_, bare_body) = once(bare_addr, &bare_req).unwrap();
    assert_eq!(bare_body.len(), me_body.len());

    load(bare_addr, 16, d / 2, 200, &|_| bare_req.clone());
    load(addr, 16, d / 2, 200, &|_| me.clone());
    let mut ceiling = std::collections::BTreeMap::new();
    for &c in plan.levels {
        let s = load(bare_addr, c, d, 200, &|_| bare_req.clone());
        r.row(
            &format!("bare actix-web handler ({} B body)", me_body.len()),
            c,
            &s,
            None,
        );
        ceiling.insert(c, s.rps());
    }
    let mut me_ratio_16 = 0.0;
    for &c in plan.levels {
        let s = measured(&server, || load(addr, c, d, 200, &|_| me.clone()));
        if c == 16 {
            me_ratio_16 = s.rps() / ceiling[&c];
        }
        r.row("GET /v3/users/me (authenticated)", c, &s, Some(ceiling[&c]));
    }

    let ids = page_ids(addr, key);
    let deep = ids[ids.len() / 2].clone();
    let first_page = get("/v3/users?limit=50", Some(key));
    let deep_page = get(&format!("/v3/users?limit=50&after={deep}"), Some(key));
    let mut small_pages = Vec::new();
    for (name, req) in [("first", &first_page), ("deep", &deep_page)] {
        let s = measured(&server, || load(addr, 16, d, 200, &|_| req.clone()));
        r.row(
            &format!("GET /v3/users?limit=50, {name} page, {} users", plan.small),
            16,
            &s,
            Some(ceiling[&16]),
        );
        small_pages.push(s.rps());
    }

    let serial = AtomicU64::new(0);
    let mut create_p99_16 = Vec::new();
    for &c in &plan.levels[..2] {
        let s = measured(&server, || {
            load(addr, c, d, 201, &|_| {
                let n = serial.fetch_add(1, Ordering::Relaxed);
                post(
                    "/v3/users",
                    key,
                    &format!("{{\"email\":\"b{n}@bench.example\"}}"),
                )
            })
        });
        if c == 16 {
            create_p99_16.push(("users", s.pct(0.99)));
        }
        r.row("POST /v3/users (durable)", c, &s, None);
    }
    for &c in &plan.levels[..2] {
        let s = measured(&server, || {
            load(addr, c, d, 201, &|_| {
                let n = serial.fetch_add(1, Ordering::Relaxed);
                post("/v3/api-keys", key, &format!("{{\"name\":\"bench-{n}\"}}"))
            })
        });
        if c == 16 {
            create_p99_16.push(("api-keys", s.pct(0.99)));
        }
        r.row("POST /v3/api-keys (durable)", c, &s, None);
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
    let count = total_count(addr, key);
    server.stop();

    // -- large data set ------------------------------------------------------------------
    let add = plan.large.saturating_sub(count as usize);
    let seeding = Instant::now();
    seed(&dir, add);
    r.note(format!(
        "Seeded {add} more users through the store in {:.1} s (one flush at the end).",
        seeding.elapsed().as_secs_f64()
    ));
    let large_bytes = dir_bytes(&dir);

    let mut server = Iamd::start(&dir);
    let health = server.wait_for(&get("/health", None), 200);
    let first_auth = server.wait_for(&me, 200);
    std::thread::sleep(Duration::from_secs(1));
    let idle_kib = server.rss_kib();
    let addr = server.addr;
    let users = total_count(addr, key);
    let ids = page_ids(addr, key);
    let deep = ids[ids.len() / 2].clone();
    let deep_page = get(&format!("/v3/users?limit=50&after={deep}"), Some(key));

    let peak = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut large_pages = Vec::new();
    let mut me_large = 0.0;
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(server.rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        load(addr, 16, d / 2, 200, &|_| first_page.clone());
        for (name, req) in [("first", &first_page), ("deep", &deep_page)] {
            let s = measured(&server, || load(addr, 16, d, 200, &|_| req.clone()));
            r.row(
                &format!("GET /v3/users?limit=50, {name} page, {users} users"),
                16,
                &s,
                Some(ceiling[&16]),
            );
            large_pages.push(s.rps());
        }
        let s = measured(&server, || load(addr, 16, d, 200, &|_| me.clone()));
        me_large = s.rps();
        r.row(
            &format!("GET /v3/users/me, {users} users"),
            16,
            &s,
            Some(ceiling[&16]),
        );
        done.store(true, Ordering::Relaxed);
    });
    let _ = me_large;
    let load_kib = peak.load(Ordering::Relaxed);
    server.stop();
    // sled writes its snapshot while opening, so the first start after a write-heavy run
    // replays that run's log; a second start has the snapshot.
    let mut again = Iamd::start(&dir);
    let restart = again.wait_for(&me, 200);
    again.stop();
    drop(bare_handle.stop(true));

    // -- summary ---------------------------------------------------------------------------
    let mib = |kib: u64| kib as f64 / 1024.0;
    let per_100k =
        (large_bytes.saturating_sub(empty_bytes)) as f64 * 100_000.0 / (users as f64 - 1.0);
    let list_ratio = small_pages
        .iter()
        .zip(&large_pages)
        .map(|(s, l)| s / l)
        .fold(0.0, f64::max);
    r.note(format!(
        "Cold start with {users} users, first start after seeding them: first 200 of /health after {:.0} ms, of an authenticated GET after {:.0} ms; next restart: {:.0} ms.",
        ms(health),
        ms(first_auth),
        ms(restart)
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
        format!(
            "- cold start < 200 ms with {users} users: {:.0} ms first start after seeding, {:.0} ms next restart — {}",
            ms(first_auth),
            ms(restart),
            target(ms(first_auth) < 200.0)
        ),
        format!(
            "- idle memory < 64 MiB with {users} users: {:.1} MiB — {}",
            mib(idle_kib),
            target(mib(idle_kib) < 64.0)
        ),
    ];
    if plan.quick {
        targets.push(
            "- (quick mode: small counts and short runs; figures are indicative only)".into(),
        );
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    targets.push(format!(
        "- machine: {} cores; load average at the end {} (other work on the machine skews p99)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg.split(' ').take(3).collect::<Vec<_>>().join(" ")
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

/// Runs a load against `server`, recording the server's CPU time per answered request.
fn measured(server: &Iamd, run: impl FnOnce() -> Stats) -> Stats {
    let before = server.cpu_ticks();
    let mut s = run();
    let ticks = server.cpu_ticks().saturating_sub(before);
    // Linux reports CPU time in USER_HZ (100) ticks.
    s.cpu_us = (s.ok > 0).then(|| ticks as f64 * 10_000.0 / s.ok as f64);
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn total_count(addr: SocketAddr, key: &str) -> u64 {
    let (_, body) = once(addr, &get("/v3/users?limit=2", Some(key))).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["total_count"].as_u64().expect("total_count")
}

/// Ids of every user, in list order (walks the pages as a client would).
fn page_ids(addr: SocketAddr, key: &str) -> Vec<String> {
    let mut conn = Conn::open(addr).unwrap();
    let mut ids = Vec::new();
    let mut after = String::new();
    loop {
        let (status, body) = conn
            .roundtrip(&get(&format!("/v3/users?limit=1000{after}"), Some(key)))
            .unwrap();
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for u in v["data"].as_array().unwrap() {
            ids.push(u["id"].as_str().unwrap().to_string());
        }
        if v["has_more"] != true {
            return ids;
        }
        after = format!("&after={}", ids.last().unwrap());
    }
}
