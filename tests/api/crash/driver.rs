//! The writers: each sends random operations and records what every answer promises.

use super::*;

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

pub(super) fn worker(
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
            // Another user's email may not be changed (the spec: "Not allowed to update other
            // user's email address"): the admin echoes it and changes the name.
            let email = model.lock().unwrap().users[&id].email.clone();
            let full_name = fresh("n");
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
                    u.email = email;
                    u.full_name = Some(full_name);
                    u.pending = None;
                    u.touched = true;
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
            // Refused (403: an admin may not change another user's email, taken or not);
            // the name in the same request must not apply either.
            let body = json!({"email": taken, "full_name": "must not apply"});
            match send(client, "PUT", &format!("/v3/users/{id}"), Some(&body)) {
                Ok(r) if r.status == 403 => {}
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
