//! Crash safety: concurrent writers drive the real binary (on sled, and on PostgreSQL when
//! the tests have a database), which is SIGKILLed at a random moment; after each restart every acknowledged write must be there, no write that failed
//! may be half-applied, and every index must agree with its records.
//!
//! `IAMD_CRASH_CYCLES` sets the number of kill/restart cycles (default 5, ~10 s;
//! `IAMD_CRASH_CYCLES=50` is the long mode, ~5 min). `IAMD_CRASH_SEED` replays a run: the
//! seed is printed first, so a failing run shows it.
//!
//! `driver` sends the operations and records what each answer promises in a [`Model`];
//! `verify` compares a restarted server with it, and `audit` the server's audit log with
//! its records.
//!
//! The driver picks from [`Op`]s whose routes are in iamd's route table, so operations
//! whose routes have not landed yet switch themselves on when they do.

mod audit;
mod driver;
mod verify;

use crate::common::{Binary, Client};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WORKERS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    CreateUser,
    /// A create whose email is taken (other case): must be 409 and change nothing.
    CreateDuplicateUser,
    UpdateMe,
    CreateKey,
    UpdateUser,
    /// An update to a taken email: must be 409, and the rest of the update must not apply.
    UpdateUserConflict,
    DeleteUser,
    DeleteKey,
    JoinGroup,
    LeaveGroup,
}

impl Op {
    const ALL: [Op; 10] = [
        Op::CreateUser,
        Op::CreateDuplicateUser,
        Op::UpdateMe,
        Op::CreateKey,
        Op::UpdateUser,
        Op::UpdateUserConflict,
        Op::DeleteUser,
        Op::DeleteKey,
        Op::JoinGroup,
        Op::LeaveGroup,
    ];

    /// The routes (method, path below /v3) the op and its checks need.
    fn routes(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Op::CreateUser | Op::CreateDuplicateUser => &[("POST", "/users")],
            Op::UpdateMe => &[("PUT", "/users/me")],
            Op::CreateKey => &[("POST", "/api-keys")],
            Op::UpdateUser | Op::UpdateUserConflict => &[("PUT", "/users/{user_id}")],
            Op::DeleteUser => &[("DELETE", "/users/{user_id}")],
            Op::DeleteKey => &[("DELETE", "/api-keys/{apikey_id}")],
            Op::JoinGroup | Op::LeaveGroup => &[
                ("POST", "/policy-groups"),
                ("POST", "/users/{user_id}/groups"),
                ("DELETE", "/users/{user_id}/groups"),
                ("GET", "/policy-groups/{group_id}/users"),
            ],
        }
    }
}

fn has_route(method: &str, path: &str) -> bool {
    iamd::api::routes()
        .iter()
        .any(|r| r.method.as_str() == method && r.path == path)
}

fn enabled_ops() -> Vec<Op> {
    Op::ALL
        .into_iter()
        .filter(|op| op.routes().iter().all(|(m, p)| has_route(m, p)))
        .collect()
}

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a user should look like. Each user belongs to the worker that created it, so
/// at most one request about it is in flight at a time.
#[derive(Debug, Clone)]
struct User {
    worker: usize,
    email: String,
    full_name: Option<String>,
    deleted: bool,
    groups: BTreeSet<String>,
    /// A request that got no answer: it applied wholly or not at all.
    pending: Option<Pending>,
    /// Changed in this cycle (checked in full; older users are sampled).
    touched: bool,
}

#[derive(Debug, Clone)]
enum Pending {
    Update {
        email: String,
        full_name: Option<String>,
    },
    Delete,
    Join(String),
    Leave(String),
}

#[derive(Debug, Clone)]
struct Key {
    worker: usize,
    text: String,
    deleted: bool,
    pending_delete: bool,
    touched: bool,
}

#[derive(Default)]
struct Model {
    users: BTreeMap<String, User>,
    /// Creates without an answer: (worker, email).
    lost_user_creates: Vec<(usize, String)>,
    keys: BTreeMap<String, Key>,
    /// Key creates without an answer, by name.
    lost_key_creates: BTreeSet<String>,
    /// (acknowledged full name of the admin user, full name of an unanswered update)
    me: (Option<String>, Option<String>),
    /// Emails given up by acknowledged updates and deletes: they must find nobody.
    retired_emails: Vec<String>,
    group: Option<String>,
    /// Answers that broke a rule while driving (checked after each cycle).
    violations: Vec<String>,
}

static SERIAL: AtomicU64 = AtomicU64::new(0);

fn fresh(prefix: &str) -> String {
    format!(
        "{prefix}{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    )
}

/// Verification presents every revoked key on purpose; the failed-authentication limit
/// (tested in `operations`) would answer those with 429 after 60 a minute.
const NO_AUTH_LIMIT: &[(&str, &str)] = &[("IAMD_AUTH_FAILURES_PER_MINUTE", "0")];

#[test]
fn acknowledged_writes_survive_random_sigkills() {
    crash_loop(&[]);
}

/// The same on PostgreSQL: iamd is killed, the database stays up (when `IAMD_TEST_PG_URL`
/// names one; skipped without it).
#[test]
fn acknowledged_writes_survive_random_sigkills_on_postgres() {
    let Some(schema) = crate::pg::Schema::create() else {
        return;
    };
    crash_loop(&[("IAMD_STORE_URL", &schema.url())]);
    assert!(
        schema.rows("userid_user") > 1,
        "the writes went to PostgreSQL"
    );
}

/// Kill and restart cycles of the binary with `store` added to its environment.
fn crash_loop(store: &[(&str, &str)]) {
    let env: Vec<(&str, &str)> = NO_AUTH_LIMIT.iter().chain(store).copied().collect();
    let env = env.as_slice();
    let cycles: usize = std::env::var("IAMD_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("IAMD_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let ops = enabled_ops();
    // Printed with the test's output when it fails.
    eprintln!(
        "crash test: IAMD_CRASH_SEED={seed}, {cycles} cycles, operations {ops:?}, on {}",
        if store.is_empty() {
            "sled"
        } else {
            "PostgreSQL"
        }
    );

    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Some(Binary::start(dir.path(), env));
    let admin = server.as_ref().unwrap().client.clone();
    let me = admin.get("/v3/users/me").expect(200).clone();
    let admin_id = me["id"].as_str().unwrap().to_string();
    let admin_key_id = admin.get("/v3/api-keys/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let model = Mutex::new(Model::default());
    // The bootstrap's name stands until an update of it is acknowledged.
    model.lock().unwrap().me.0 = me["full_name"].as_str().map(str::to_string);
    if ops.contains(&Op::JoinGroup) {
        let g = admin
            .post("/v3/policy-groups", &json!({"name": fresh("crash")}))
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_string();
        model.lock().unwrap().group = Some(g);
    }

    let started = Instant::now();
    for cycle in 0..cycles {
        let stop = AtomicBool::new(false);
        let kill_after = Duration::from_millis(100 + rng.below(900) as u64);
        let client = server.as_ref().unwrap().client.clone();
        std::thread::scope(|s| {
            for w in 0..WORKERS {
                let (client, model, ops, stop) = (&client, &model, &ops, &stop);
                let wseed = rng.next();
                s.spawn(move || driver::worker(client, model, ops, w, wseed, stop));
            }
            // Not a wait for an event: the random moment of the kill is what is tested.
            std::thread::sleep(kill_after);
            // Kill first, so requests are in flight when it happens.
            server.take().unwrap().kill9();
            stop.store(true, Ordering::Relaxed);
        });
        let restarted = Binary::start(dir.path(), env);
        verify::verify(
            &restarted.client,
            &mut model.lock().unwrap(),
            (&admin_id, &admin_key_id),
            &mut rng,
        );
        // Every acknowledged write has its entry, every entry its write.
        audit::verify(&restarted.client, (&admin_id, &admin_key_id));
        server = Some(restarted);
        let m = model.lock().unwrap();
        eprintln!(
            "cycle {cycle}: killed after {kill_after:?}; {} users, {} keys so far",
            m.users.values().filter(|u| !u.deleted).count(),
            m.keys.values().filter(|k| !k.deleted).count()
        );
    }
    let m = model.lock().unwrap();
    assert!(
        m.users.len() >= cycles,
        "the driver barely wrote anything: {} users",
        m.users.len()
    );
    eprintln!("crash test: {cycles} cycles in {:?}", started.elapsed());
}
