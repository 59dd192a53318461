//! Crash safety: concurrent writers drive the real binary, which is SIGKILLed at a random
//! moment; after each restart every acknowledged write must be there, no write that failed
//! may be half-applied, and every index must agree with its records.
//!
//! `IAMD_CRASH_CYCLES` sets the number of kill/restart cycles (default 5, which keeps the
//! test around 30 s; `IAMD_CRASH_CYCLES=50` is the long mode). `IAMD_CRASH_SEED` replays a
//! run: the seed is printed on failure.
//!
//! The driver picks from [`Op`]s whose routes are in iamd's route table, so operations
//! whose routes have not landed yet switch themselves on when they do.

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

/// A worker's connection: one keep-alive agent.
struct Conn {
    agent: ureq::Agent,
    base: String,
    key: String,
}

/// An answer: status and parsed body.
struct Answer {
    status: u16,
    body: Value,
    text: String,
}

/// `Ok` when the server answered, `Err` when the request got no answer (server killed).
fn send(conn: &Conn, method: &str, path: &str, body: Option<&Value>) -> Result<Answer, ()> {
    let req = conn
        .agent
        .request(method, &format!("{}{path}", conn.base))
        .set("Authorization", &format!("Bearer {}", conn.key));
    let result = match body {
        Some(b) => req
            .set("Content-Type", "application/json")
            .send_string(&b.to_string()),
        None => req.call(),
    };
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(_) => return Err(()),
    };
    let status = response.status();
    let text = response.into_string().map_err(|_| ())?;
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    })
}

fn worker(
    client: &Client,
    model: &Mutex<Model>,
    ops: &[Op],
    me: usize,
    seed: u64,
    stop: &AtomicBool,
) {
    let mut rng = Rng(seed | 1);
    let client = &Conn {
        agent: ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(30))
            .build(),
        base: client.base.clone(),
        key: client.key.clone().unwrap_or_default(),
    };
    while !stop.load(Ordering::Relaxed) {
        let op = ops[rng.below(ops.len())];
        if !step(client, model, op, me, &mut rng) {
            return;
        }
    }
}

/// One operation; false once the server stopped answering.
fn step(client: &Conn, model: &Mutex<Model>, op: Op, me: usize, rng: &mut Rng) -> bool {
    let pick = |m: &Model, rng: &mut Rng, want: &dyn Fn(&User) -> bool| -> Option<String> {
        let mine: Vec<&String> = m
            .users
            .iter()
            .filter(|(_, u)| u.worker == me && !u.deleted && u.pending.is_none() && want(u))
            .map(|(id, _)| id)
            .collect();
        (!mine.is_empty()).then(|| mine[rng.below(mine.len())].clone())
    };
    let violation = |what: String| model.lock().unwrap().violations.push(what);
    match op {
        Op::CreateUser => {
            let email = format!("{}@crash.example", fresh("u"));
            match send(client, "POST", "/v3/users", Some(&json!({"email": email}))) {
                Ok(r) if r.status == 201 => {
                    let id = r.body["id"].as_str().unwrap_or_default().to_string();
                    model.lock().unwrap().users.insert(
                        id,
                        User {
                            worker: me,
                            email,
                            full_name: None,
                            deleted: false,
                            groups: BTreeSet::new(),
                            pending: None,
                            touched: true,
                        },
                    );
                }
                Ok(r) => violation(format!("create user: {} {}", r.status, r.text)),
                Err(()) => {
                    model.lock().unwrap().lost_user_creates.push((me, email));
                    return false;
                }
            }
        }
        Op::CreateDuplicateUser => {
            let Some(id) = pick(&model.lock().unwrap(), rng, &|_| true) else {
                return true;
            };
            let email = model.lock().unwrap().users[&id].email.to_uppercase();
            match send(client, "POST", "/v3/users", Some(&json!({"email": email}))) {
                Ok(r) if r.status == 409 => {}
                Ok(r) => violation(format!("duplicate create: {} {}", r.status, r.text)),
                Err(()) => return false,
            }
        }
        Op::UpdateMe => {
            if me != 0 {
                return true;
            }
            let name = fresh("me");
            model.lock().unwrap().me.1 = Some(name.clone());
            match send(
                client,
                "PUT",
                "/v3/users/me",
                Some(&json!({"full_name": name})),
            ) {
                Ok(r) if r.status == 200 => model.lock().unwrap().me = (Some(name), None),
                Ok(r) => {
                    model.lock().unwrap().me.1 = None;
                    violation(format!("update me: {} {}", r.status, r.text));
                }
                Err(()) => return false,
            }
        }
        Op::CreateKey => {
            let name = fresh("key");
            match send(client, "POST", "/v3/api-keys", Some(&json!({"name": name}))) {
                Ok(r) if r.status == 201 => {
                    let id = r.body["id"].as_str().unwrap_or_default().to_string();
                    let text = r.body["key"].as_str().unwrap_or_default().to_string();
                    model.lock().unwrap().keys.insert(
                        id,
                        Key {
                            worker: me,
                            text,
                            deleted: false,
                            pending_delete: false,
                            touched: true,
                        },
                    );
                }
                Ok(r) => violation(format!("create key: {} {}", r.status, r.text)),
                Err(()) => {
                    model.lock().unwrap().lost_key_creates.insert(name);
                    return false;
                }
            }
        }
        Op::UpdateUser => {
            let Some(id) = pick(&model.lock().unwrap(), rng, &|_| true) else {
                return step(client, model, Op::CreateUser, me, rng);
            };
            let (email, full_name) = (format!("{}@crash.example", fresh("e")), fresh("n"));
            set_pending(
                model,
                &id,
                Pending::Update {
                    email: email.clone(),
                    full_name: Some(full_name.clone()),
                },
            );
            let body = json!({"email": email, "full_name": full_name});
            match send(client, "PUT", &format!("/v3/users/{id}"), Some(&body)) {
                Ok(r) if r.status == 200 => {
                    let mut m = model.lock().unwrap();
                    let u = m.users.get_mut(&id).unwrap();
                    let old = std::mem::replace(&mut u.email, email);
                    u.full_name = Some(full_name);
                    u.pending = None;
                    u.touched = true;
                    m.retired_emails.push(old);
                }
                Ok(r) => {
                    set_pending(model, &id, None);
                    violation(format!("update user: {} {}", r.status, r.text));
                }
                Err(()) => return false,
            }
        }
        Op::UpdateUserConflict => {
            let m = model.lock().unwrap();
            let (Some(id), Some(other)) = (pick(&m, rng, &|_| true), pick(&m, rng, &|_| true))
            else {
                return true;
            };
            if id == other {
                return true;
            }
            let taken = m.users[&other].email.clone();
            drop(m);
            let body = json!({"email": taken, "full_name": "must not apply"});
            match send(client, "PUT", &format!("/v3/users/{id}"), Some(&body)) {
                Ok(r) if r.status == 409 => {}
                Ok(r) => violation(format!("conflicting update: {} {}", r.status, r.text)),
                Err(()) => return false,
            }
        }
        Op::DeleteUser => {
            let Some(id) = pick(&model.lock().unwrap(), rng, &|_| true) else {
                return true;
            };
            set_pending(model, &id, Pending::Delete);
            match send(client, "DELETE", &format!("/v3/users/{id}"), None) {
                Ok(r) if r.status == 204 => {
                    let mut m = model.lock().unwrap();
                    let u = m.users.get_mut(&id).unwrap();
                    u.deleted = true;
                    u.pending = None;
                    u.touched = true;
                    let email = u.email.clone();
                    m.retired_emails.push(email);
                }
                Ok(r) => {
                    set_pending(model, &id, None);
                    violation(format!("delete user: {} {}", r.status, r.text));
                }
                Err(()) => return false,
            }
        }
        Op::DeleteKey => {
            let id = {
                let m = model.lock().unwrap();
                let mine: Vec<&String> = m
                    .keys
                    .iter()
                    .filter(|(_, k)| k.worker == me && !k.deleted && !k.pending_delete)
                    .map(|(id, _)| id)
                    .collect();
                if mine.is_empty() {
                    return true;
                }
                mine[rng.below(mine.len())].clone()
            };
            model
                .lock()
                .unwrap()
                .keys
                .get_mut(&id)
                .unwrap()
                .pending_delete = true;
            match send(client, "DELETE", &format!("/v3/api-keys/{id}"), None) {
                Ok(r) if r.status == 204 => {
                    let mut m = model.lock().unwrap();
                    let k = m.keys.get_mut(&id).unwrap();
                    k.deleted = true;
                    k.pending_delete = false;
                    k.touched = true;
                }
                Ok(r) => {
                    model
                        .lock()
                        .unwrap()
                        .keys
                        .get_mut(&id)
                        .unwrap()
                        .pending_delete = false;
                    violation(format!("delete key: {} {}", r.status, r.text));
                }
                Err(()) => return false,
            }
        }
        Op::JoinGroup | Op::LeaveGroup => {
            let Some(group) = model.lock().unwrap().group.clone() else {
                return true;
            };
            let join = op == Op::JoinGroup;
            let g = group.clone();
            let Some(id) = pick(&model.lock().unwrap(), rng, &move |u| {
                u.groups.contains(&g) != join
            }) else {
                return true;
            };
            let pending = if join {
                Pending::Join(group.clone())
            } else {
                Pending::Leave(group.clone())
            };
            set_pending(model, &id, pending);
            let method = if join { "POST" } else { "DELETE" };
            let path = format!("/v3/users/{id}/groups");
            match send(client, method, &path, Some(&json!([group]))) {
                Ok(r) if r.status == 200 => {
                    let mut m = model.lock().unwrap();
                    let u = m.users.get_mut(&id).unwrap();
                    if join {
                        u.groups.insert(group);
                    } else {
                        u.groups.remove(&group);
                    }
                    u.pending = None;
                    u.touched = true;
                }
                Ok(r) => {
                    set_pending(model, &id, None);
                    violation(format!("{method} groups: {} {}", r.status, r.text));
                }
                Err(()) => return false,
            }
        }
    }
    true
}

fn set_pending(model: &Mutex<Model>, id: &str, pending: impl Into<Option<Pending>>) {
    model.lock().unwrap().users.get_mut(id).unwrap().pending = pending.into();
}

/// Every page of a list, checking `total_count` against what was listed.
fn list_all(client: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let page = client
            .get(&format!("{path}{sep}limit=1000{after}"))
            .expect(200)
            .clone();
        let data = page["data"].as_array().unwrap();
        out.extend(data.iter().cloned());
        if page["has_more"] != true {
            assert_eq!(
                page["total_count"],
                out.len() as u64,
                "{path}: total_count disagrees with the records listed"
            );
            return out;
        }
        after = format!("&after={}", data.last().unwrap()["id"].as_str().unwrap());
    }
}

/// Ids of the users an email lookup finds.
fn by_email(client: &Client, email: &str) -> Vec<String> {
    let query: String = url_encode(email);
    client
        .get(&format!("/v3/users?email__eq={query}"))
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// After a restart: compares the server with the model, settling unanswered requests to
/// whichever whole outcome the server shows.
fn verify(client: &Client, model: &mut Model, admin: (&str, &str), rng: &mut Rng) {
    let (admin_id, admin_key_id) = admin;
    assert!(
        model.violations.is_empty(),
        "rules broken while driving: {:#?}",
        model.violations
    );
    let list_users = || -> BTreeMap<String, Value> {
        list_all(client, "/v3/users")
            .into_iter()
            .map(|u| (u["id"].as_str().unwrap().to_string(), u))
            .collect()
    };
    let mut listed = list_users();

    // Creates that got no answer: wholly there (record and email index) or wholly absent.
    let mut recreated = false;
    for (worker, email) in std::mem::take(&mut model.lost_user_creates) {
        let found = by_email(client, &email);
        let in_list: Vec<&String> = listed
            .iter()
            .filter(|(_, u)| u["email"] == email.as_str())
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            found.iter().collect::<Vec<_>>(),
            in_list,
            "email index and records disagree about {email}"
        );
        let id = match found.first() {
            Some(id) => id.clone(),
            None => {
                // No dangling index entry may block the email.
                recreated = true;
                let again = client.post("/v3/users", &json!({"email": email}));
                again.expect(201)["id"].as_str().unwrap().to_string()
            }
        };
        model.users.insert(
            id,
            User {
                worker,
                email,
                full_name: None,
                deleted: false,
                groups: BTreeSet::new(),
                pending: None,
                touched: true,
            },
        );
    }

    if recreated {
        listed = list_users();
    }

    for (id, u) in model.users.iter_mut() {
        let row = listed.get(id);
        match u.pending.take() {
            None => {}
            Some(Pending::Delete) => u.deleted = row.is_none(),
            Some(Pending::Update { email, full_name }) => {
                let row = row.unwrap_or_else(|| panic!("user {id} vanished"));
                let now = (row["email"].as_str().unwrap(), row["full_name"].as_str());
                if now == (email.as_str(), full_name.as_deref()) {
                    let old = std::mem::replace(&mut u.email, email);
                    u.full_name = full_name;
                    model.retired_emails.push(old);
                } else {
                    assert_eq!(
                        now,
                        (u.email.as_str(), u.full_name.as_deref()),
                        "user {id}: an unanswered update is half-applied"
                    );
                    model.retired_emails.push(email);
                }
            }
            Some(Pending::Join(g)) | Some(Pending::Leave(g)) => {
                let row = row.unwrap_or_else(|| panic!("user {id} vanished"));
                let has = row["groups"].as_array().unwrap().iter().any(|x| *x == g);
                if has {
                    u.groups.insert(g);
                } else {
                    u.groups.remove(&g);
                }
            }
        }
        if u.deleted {
            assert!(row.is_none(), "deleted user {id} is listed");
            client.get(&format!("/v3/users/{id}")).expect_error(404);
            continue;
        }
        let row = row.unwrap_or_else(|| panic!("acknowledged user {id} ({}) is lost", u.email));
        assert_eq!(row["email"], u.email.as_str(), "user {id}");
        assert_eq!(
            row["full_name"].as_str(),
            u.full_name.as_deref(),
            "user {id}"
        );
        if model.group.is_some() {
            let groups: BTreeSet<String> = row["groups"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .filter(|g| Some(g) == model.group.as_ref())
                .collect();
            assert_eq!(groups, u.groups, "user {id}: group memberships");
        }
    }

    // Nothing that failed or was never sent was applied: every listed user is known.
    for id in listed.keys() {
        assert!(
            id == admin_id || model.users.contains_key(id),
            "user {id} exists but no request created it"
        );
    }

    // Indexes agree with records. The email index: a listed email, in another case, is
    // refused to a new user; an email given up is free again. The `email__eq` filter finds
    // exactly its record (a scan, so sampled). Everything touched in this cycle is checked,
    // and a sample of the rest.
    let old: Vec<&String> = listed
        .keys()
        .filter(|id| *id != admin_id && !model.users.get(*id).is_some_and(|u| u.touched))
        .collect();
    let mut sample: Vec<&String> = (0..old.len().min(20))
        .map(|_| old[rng.below(old.len())])
        .collect();
    sample.extend(
        model
            .users
            .iter()
            .filter(|(_, u)| u.touched && !u.deleted)
            .map(|(id, _)| id),
    );
    for (i, id) in sample.into_iter().enumerate() {
        let email = listed[id]["email"].as_str().unwrap();
        client
            .post("/v3/users", &json!({"email": email.to_uppercase()}))
            .expect_error(409);
        if i < 40 {
            assert_eq!(
                by_email(client, email),
                vec![id.clone()],
                "email lookup of {email}"
            );
        }
    }
    for email in std::mem::take(&mut model.retired_emails) {
        assert!(
            by_email(client, &email).is_empty(),
            "retired email {email} still finds a user"
        );
        let again = client.post("/v3/users", &json!({"email": email}));
        let id = again.expect(201)["id"].as_str().unwrap().to_string();
        model.users.insert(
            id,
            User {
                worker: rng.below(WORKERS),
                email,
                full_name: None,
                deleted: false,
                groups: BTreeSet::new(),
                pending: None,
                touched: false,
            },
        );
    }

    // The admin's own profile.
    let me = client.get("/v3/users/me").expect(200).clone();
    let name = me["full_name"].as_str().map(str::to_string);
    match model.me.1.take() {
        Some(pending) if name.as_deref() == Some(pending.as_str()) => model.me.0 = name,
        _ => assert_eq!(name, model.me.0, "admin full name"),
    }

    // Every acknowledged key authenticates as itself; deleted ones do not.
    let old: Vec<String> = model
        .keys
        .iter()
        .filter(|(_, k)| !k.touched)
        .map(|(id, _)| id.clone())
        .collect();
    let mut check: Vec<String> = model
        .keys
        .iter()
        .filter(|(_, k)| k.touched || k.pending_delete)
        .map(|(id, _)| id.clone())
        .collect();
    check.extend((0..old.len().min(30)).map(|_| old[rng.below(old.len())].clone()));
    for id in check {
        let k = model.keys.get_mut(&id).unwrap();
        let r = client.with_key(&k.text).get("/v3/api-keys/me");
        if k.pending_delete {
            k.deleted = r.status == 401;
            k.pending_delete = false;
        }
        if k.deleted {
            assert_eq!(r.status, 401, "deleted key {id} still authenticates");
        } else {
            assert_eq!(r.status, 200, "acknowledged key {id} is lost: {}", r.text);
            assert_eq!(
                r.body["id"],
                id.as_str(),
                "key {id} authenticates as another"
            );
        }
    }
    if has_route("GET", "/api-keys") {
        let keys = list_all(client, "/v3/api-keys");
        for key in &keys {
            let id = key["id"].as_str().unwrap();
            let known = model.keys.get(id).is_some_and(|k| !k.deleted)
                || model
                    .lost_key_creates
                    .contains(key["name"].as_str().unwrap_or(""))
                || id == admin_key_id;
            assert!(known, "key {id} exists but no request created it");
        }
        for (id, k) in &model.keys {
            if !k.deleted {
                assert!(
                    keys.iter().any(|x| x["id"] == id.as_str()),
                    "key {id} not listed"
                );
            }
        }
    }

    // The group side of memberships agrees with the user side.
    if let Some(group) = &model.group {
        let members: BTreeSet<String> =
            list_all(client, &format!("/v3/policy-groups/{group}/users"))
                .into_iter()
                .map(|u| u["id"].as_str().unwrap().to_string())
                .collect();
        let expected: BTreeSet<String> = model
            .users
            .iter()
            .filter(|(_, u)| !u.deleted && u.groups.contains(group))
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(members, expected, "group {group}: members vs users' groups");
    }

    for u in model.users.values_mut() {
        u.touched = false;
    }
    for k in model.keys.values_mut() {
        k.touched = false;
    }
}

#[test]
fn acknowledged_writes_survive_random_sigkills() {
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
    eprintln!("crash test: IAMD_CRASH_SEED={seed}, {cycles} cycles, operations {ops:?}");

    let mut rng = Rng(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Some(Binary::start(dir.path(), &[]));
    let admin = server.as_ref().unwrap().client.clone();
    let admin_id = admin.get("/v3/users/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_key_id = admin.get("/v3/api-keys/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let model = Mutex::new(Model::default());
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
                s.spawn(move || worker(client, model, ops, w, wseed, stop));
            }
            std::thread::sleep(kill_after);
            // Kill first, so requests are in flight when it happens.
            server.take().unwrap().kill9();
            stop.store(true, Ordering::Relaxed);
        });
        let restarted = Binary::start(dir.path(), &[]);
        verify(
            &restarted.client,
            &mut model.lock().unwrap(),
            (&admin_id, &admin_key_id),
            &mut rng,
        );
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
