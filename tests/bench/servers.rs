//! The processes under test: iamd's release binary on a seeded data dir, and a bare
//! actix-web handler as the framework ceiling.

use crate::http::{once, Stats};
use iamd::ids::Id;
use iamd::store::users::UserRecord;
use iamd::store::Store;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A bare actix-web handler returning `size` bytes of JSON, with iamd's worker count.
pub fn bare_server(size: usize) -> (SocketAddr, actix_web::dev::ServerHandle) {
    bare_server_on(size, "127.0.0.1:0")
}

pub fn bare_server_on(size: usize, bind: &str) -> (SocketAddr, actix_web::dev::ServerHandle) {
    let bind = bind.to_string();
    use actix_web::{web, App, HttpResponse, HttpServer};
    let body = format!("{{\"x\":\"{}\"}}", "a".repeat(size.saturating_sub(8)));
    let (tx, rx) = std::sync::mpsc::channel();
    // Named, like actix's worker threads, so that the wrk mode can tell its CPU time apart.
    let spawned = std::thread::Builder::new()
        .name("bare".into())
        .spawn(move || {
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
                .bind(bind)
                .unwrap();
                let addr = server.addrs()[0];
                let server = server.run();
                tx.send((addr, server.handle())).unwrap();
                server.await.unwrap();
            });
        });
    spawned.expect("the bare server's thread starts");
    rx.recv().unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The release binary on `dir`, as in production (logging at info, to /dev/null).
pub struct Iamd {
    pub child: Child,
    pub addr: SocketAddr,
    pub started: Instant,
    /// Where iamd's stderr goes: /dev/null as in the measured runs, or with
    /// `IAMD_BENCH_STDERR=1` a file whose tail a failed start shows.
    stderr: Option<std::path::PathBuf>,
}

impl Iamd {
    pub fn start(dir: &Path) -> Iamd {
        Iamd::start_with(dir, &[])
    }

    /// As [`Iamd::start`], with more environment variables (`RUST_LOG`, ...).
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Iamd {
        Iamd::start_binary(Path::new(env!("CARGO_BIN_EXE_iamd")), dir, env)
    }

    /// As [`Iamd::start_with`], running `binary` (another build, to compare with).
    pub fn start_binary(binary: &Path, dir: &Path, env: &[(&str, &str)]) -> Iamd {
        let port = free_port();
        let stderr = std::env::var_os("IAMD_BENCH_STDERR")
            .is_some_and(|v| !v.is_empty() && v != "0")
            .then(|| std::env::temp_dir().join(format!("iamd-bench-{port}.stderr")));
        let log = match &stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).expect("iamd's stderr file")),
            None => Stdio::null(),
        };
        let started = Instant::now();
        let child = Command::new(binary)
            .env_clear()
            .env("IAMD_DATA_DIR", dir)
            .env("IAMD_BIND", format!("127.0.0.1:{port}"))
            // The developer-certificate rows create thousands in one account; the default
            // per-account limit (10) is a policy, not what is measured.
            .env("IAMD_DEVELOPER_CERTIFICATES_PER_ACCOUNT", "100000000")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("iamd starts");
        Iamd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            started,
            stderr,
        }
    }

    /// Time from spawn to the first `expect` answer to `request`.
    pub fn wait_for(&mut self, request: &[u8], expect: u16) -> Duration {
        loop {
            if let Ok((status, _)) = once(self.addr, request) {
                if status == expect {
                    return self.started.elapsed();
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                let Some(path) = &self.stderr else {
                    panic!("iamd exited: {status} (IAMD_BENCH_STDERR=1 keeps its stderr)");
                };
                let said = std::fs::read_to_string(path).unwrap_or_default();
                let tail: Vec<&str> = said.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                panic!(
                    "iamd exited: {status}; its stderr ends:\n{}",
                    tail.join("\n")
                );
            }
            assert!(
                self.started.elapsed() < Duration::from_secs(60),
                "iamd never answered"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
    }

    /// CPU time (user + system) the process has used so far, in clock ticks.
    pub fn cpu_ticks(&self) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are 14 and 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<u64>().ok());
        field(14).unwrap_or(0) + field(15).unwrap_or(0)
    }

    /// Resident memory once it has stopped growing for two seconds (at most a minute): the
    /// record scan after a start reads every page of the database while the server serves.
    pub fn settled_rss_kib(&self) -> u64 {
        let began = Instant::now();
        let (mut high, mut since) = (self.rss_kib(), Instant::now());
        while since.elapsed() < Duration::from_secs(2) && began.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(250));
            let now = self.rss_kib();
            if now > high + 256 {
                (high, since) = (now, Instant::now());
            }
        }
        self.rss_kib()
    }

    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    pub fn stop(mut self) {
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
        if let Some(path) = &self.stderr {
            let _ = std::fs::remove_file(path);
        }
    }
}

// ---- seeding ------------------------------------------------------------------------------

/// Bootstraps `dir` if needed and adds `n` users through the store (one flush at the end).
/// Returns the admin key.
pub fn seed(dir: &Path, n: usize) -> String {
    seed_store(&Store::open(dir).expect("store opens"), dir, n);
    std::fs::read_to_string(dir.join(iamd::bootstrap::KEY_FILE))
        .unwrap()
        .trim()
        .to_string()
}

/// Bootstraps `store` if needed (the key file in `dir`) and adds `n` users through it.
pub fn seed_store(store: &Store, dir: &Path, n: usize) {
    actix_web::rt::System::new().block_on(async {
        let mut config = iamd::config::Config::load(None, |_| None).unwrap();
        config.data_dir = dir.to_path_buf();
        iamd::bootstrap::run(store, &config)
            .await
            .expect("bootstrap");
        let account =
            iamd::ids::AccountId::from_id(store.root_account().unwrap().expect("root account"));
        let now = iamd::clock::now_millis();
        for _ in 0..n {
            let email = format!("{}@seed.example", Id::new().hex());
            let user = UserRecord {
                full_name: Some("Seeded User".into()),
                created_at: now,
                updated_at: now,
                ..UserRecord::new(account, email, iamd::status::UserStatus::Active)
            };
            // Made durable below, once for the whole batch.
            drop(store.users.create(user, None).expect("seed user"));
        }
        store.durable().await.unwrap();
        store.flush().unwrap();
    });
}

pub fn dir_bytes(dir: &Path) -> u64 {
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

/// Runs a load against `server`, recording the server's CPU time per answered request.
pub fn measured(server: &Iamd, run: impl FnOnce() -> Stats) -> Stats {
    let before = server.cpu_ticks();
    let mut s = run();
    let ticks = server.cpu_ticks().saturating_sub(before);
    // Linux reports CPU time in USER_HZ (100) ticks.
    s.cpu_us = (s.ok > 0).then(|| ticks as f64 * 10_000.0 / s.ok as f64);
    s
}
