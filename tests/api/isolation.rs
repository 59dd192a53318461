//! Tenant isolation, for every route of the table (`iamd::api::routes()`), so that a route
//! added later is covered without touching this file.
//!
//! The world: the root aggregator R with its tenant A, and a second aggregator P (written
//! into the store, as only the first start makes aggregators) with its tenants B and C.
//! Each account holds a user, an API key, and whatever else the table lets us create.
//! Every caller (each account's admin, a non-admin of R, and the `rt_` sessions of a
//! non-admin of R and of an admin of A) calls every route that takes an id with the ids of
//! accounts it may not reach; each such call must be a 403/404
//! `ErrorResponse` and change nothing, which is checked by comparing every parameterless
//! `GET` of every account before and after.

use crate::common::{start_in_process, test_config, unique, Client, TestApp};
use iamd::api::{routes, RouteDef};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One account of the world, with its admin's client and ids of its entities by path
/// parameter name.
pub struct Party {
    pub name: &'static str,
    pub id: String,
    pub admin: Client,
    pub ids: BTreeMap<String, String>,
}

pub struct World {
    pub app: TestApp,
    pub root: Party,
    pub a: Party,
    pub other: Party,
    pub b: Party,
    pub c: Party,
    _dir: tempfile::TempDir,
}

impl World {
    pub fn build() -> World {
        let dir = tempfile::tempdir().unwrap();
        let first = start_in_process(test_config(dir.path()));
        let root_key = first.admin_key.clone();
        first.stop();
        let other_key = provision_second_aggregator(dir.path());
        let app = start_in_process(test_config(dir.path()));
        let root = Party::of("R", app.with_key(&root_key));
        let other = Party::of("P", app.with_key(&other_key));
        let a = Party::create("A", &root.admin);
        let b = Party::create("B", &other.admin);
        let c = Party::create("C", &other.admin);
        World {
            app,
            root,
            a,
            other,
            b,
            c,
            _dir: dir,
        }
    }

    pub fn parties(&self) -> [&Party; 5] {
        [&self.root, &self.a, &self.other, &self.b, &self.c]
    }

    pub fn client(&self, p: &Party) -> Client {
        p.admin.clone()
    }

    /// The aggregator that manages `p` (itself for an aggregator).
    fn manager(&self, p: &Party) -> &Party {
        match p.name {
            "R" | "A" => &self.root,
            _ => &self.other,
        }
    }
}

/// Writes a second aggregator account into a stopped server's store; returns its admin key.
fn provision_second_aggregator(dir: &std::path::Path) -> String {
    use iamd::provision::{plan, AdminPlan};
    use iamd::store::accounts::AccountRecord;
    let account = AccountRecord {
        is_aggregator: true,
        display_name: Some("Second aggregator".into()),
        end_market: "IT".into(),
        ..AccountRecord::new(None)
    };
    let p = plan(
        account,
        AdminPlan {
            email: "other-root@example.com".into(),
            username: Some("other_root".into()),
            full_name: None,
            chosen_hash: None,
            status: iamd::status::UserStatus::Active,
        },
    );
    crate::common::with_store(dir, |store| {
        let written = store.accounts.provision(p.new, false).unwrap();
        drop(written);
    });
    p.admin_key
}

impl Party {
    fn of(name: &'static str, admin: Client) -> Party {
        let id = admin.get("/v3/accounts/me").expect(200)["id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut p = Party {
            name,
            id,
            admin,
            ids: BTreeMap::new(),
        };
        p.populate();
        p
    }

    /// A tenant made by `parent` through `POST /v3/accounts`.
    fn create(name: &'static str, parent: &Client) -> Party {
        let u = unique(name);
        let t = parent
            .post(
                "/v3/accounts",
                &json!({"display_name": format!("tenant {u}"), "end_market": "IT",
                        "admin_email": format!("admin-{u}@example.com"),
                        "admin_password": "a long enough password"}),
            )
            .expect(201)
            .clone();
        Party::of(name, parent.with_key(t["admin_key"].as_str().unwrap()))
    }

    /// Makes one entity of each kind the route table can create, recording its id under
    /// the path parameter names that refer to it.
    fn populate(&mut self) {
        let c = self.admin.clone();
        let me = c.get("/v3/users/me").expect(200).clone();
        let user = c
            .post(
                "/v3/users",
                &json!({"email": format!("{}@example.com", unique("iso"))}),
            )
            .expect(201)
            .clone();
        let user_id = user["id"].as_str().unwrap().to_string();
        self.ids.insert("user_id".into(), user_id.clone());
        let key = c.post(
            "/v3/api-keys",
            &json!({"name": unique("iso-key"), "owner": user_id}),
        );
        if key.status == 201 {
            self.ids.insert("apikey_id".into(), text(&key.body["id"]));
        }
        let developers = c.get("/v3/policy-groups?name__eq=Developers");
        let group = match developers.status {
            200 => text(&developers.body["data"][0]["id"]),
            _ => text(&me["groups"][0]),
        };
        self.ids.insert("group_id".into(), group);
        let invitation = c.post(
            "/v3/user-invitations",
            &json!({"email": format!("{}@example.com", unique("inv"))}),
        );
        if invitation.status == 201 {
            self.ids
                .insert("invitation_id".into(), text(&invitation.body["id"]));
        }
        let idp = c.post(
            "/v3/identity-providers",
            &json!({"name": unique("idp"), "type": "OIDC", "status": "SUSPENDED",
                    "oidc_attributes": {"issuer": "https://issuer.example.com",
                        "client_id": "client", "client_secret": "secret",
                        "authorization_endpoint": "https://issuer.example.com/auth",
                        "token_endpoint": "https://issuer.example.com/token",
                        "jwks_uri": "https://issuer.example.com/jwks"}}),
        );
        if idp.status == 201 {
            self.ids
                .insert("identity_provider_id".into(), text(&idp.body["id"]));
        }
        let cert = c.post(
            "/v3/developer-certificates",
            &json!({"name": unique("devcert")}),
        );
        if cert.status == 201 {
            let id = text(&cert.body["id"]);
            self.ids.insert("cert_id".into(), id.clone());
            self.ids.insert("developerCertificateId".into(), id);
        }
    }

    /// The id to put for `param`: a real entity of this account when one was made, else a
    /// well-formed id that exists nowhere.
    fn id_for(&self, param: &str) -> String {
        match param {
            "account_id" => self.id.clone(),
            _ => self
                .ids
                .get(param)
                .cloned()
                .unwrap_or_else(|| "f".repeat(32)),
        }
    }
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// `{name}` parameters of a path, in order.
fn params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_string)
        .collect()
}

fn is_id(param: &str) -> bool {
    param == "id" || param.ends_with("_id") || param.ends_with("Id")
}

/// A plausible value for a parameter that is not an id (`{reference}`, ...).
fn plain_value(path: &str, param: &str) -> String {
    match param {
        "reference" if path.contains("branding-images") => "brand_logo_portrait".into(),
        "reference" => "primary".into(),
        "theme" => "light".into(),
        _ => "primary".into(),
    }
}

/// `path` with `account_id` from `account` and every other id from `inner`.
fn fill(path: &str, account: &Party, inner: &Party) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some("account_id") => account.id.clone(),
                Some(p) if is_id(p) => inner.id_for(p),
                Some(p) => plain_value(path, p),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// A plausible request body for the route, naming `target`'s entities where it names any.
fn body_for(method: &str, path: &str, target: &Party) -> Option<(String, Vec<u8>)> {
    if method == "GET" {
        return None;
    }
    let json = |v: Value| Some(("application/json".to_string(), v.to_string().into_bytes()));
    let last = path.rsplit('/').next().unwrap_or_default();
    if last == "groups" {
        return json(json!([target.id_for("group_id")]));
    }
    if path.contains("branding-colors") && (last == "light" || last == "dark") {
        return json(json!([{"reference": "primary", "color": "#123456"}]));
    }
    let png = || iamd::branding::default_image(iamd::branding::Theme::Light).0;
    if last == "upload" {
        return Some(("image/png".into(), png().to_vec()));
    }
    if last == "upload-multipart" {
        let boundary = "isolationboundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; \
             filename=\"i.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(png());
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        return Some((format!("multipart/form-data; boundary={boundary}"), body));
    }
    json(json!({
        "name": unique("matrix"),
        "email": format!("{}@example.com", unique("matrix")),
        "full_name": "Matrix", "display_name": "Matrix", "company": "Matrix",
        "end_market": "IT", "description": "matrix", "color": "#123456",
        "users": [target.id_for("user_id")], "apikeys": [target.id_for("apikey_id")],
    }))
}

/// Drops the fields that change by merely being used or asked (`last_login_time`, an
/// error's `request_id`).
fn stable(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "last_login_time" | "request_id"))
                .map(|(k, v)| (k.clone(), stable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(stable).collect()),
        other => other.clone(),
    }
}

/// Everything every account shows: each parameterless `GET` of the table with its admin's
/// key (lists asked at their largest page), and the account as its manager sees it.
fn snapshot(world: &World, table: &[RouteDef]) -> BTreeMap<String, (u16, Value)> {
    let mut out = BTreeMap::new();
    for p in world.parties() {
        for def in table.iter().filter(|d| d.method.as_str() == "GET") {
            for path in def.full_paths() {
                if !params(&path).is_empty() {
                    continue;
                }
                let r = p.admin.get(&format!("{path}?limit=1000"));
                out.insert(
                    format!("{} GET {path}", p.name),
                    (r.status, stable(&r.body)),
                );
            }
        }
        let r = world
            .manager(p)
            .admin
            .get(&format!("/v3/accounts/{}", p.id));
        out.insert(
            format!("{} as managed", p.name),
            (r.status, stable(&r.body)),
        );
    }
    out
}

struct Caller<'a> {
    name: String,
    client: Client,
    own: &'a Party,
    /// Accounts it may act on through `/v3/accounts/{account_id}/...`.
    manages: Vec<&'a Party>,
}

/// A session (`POST /auth/login`) of the user `user_id` of `party`, whose password is the
/// one `common::non_admin` and `admin_session` give.
fn session_of(w: &World, party: &Party, user_id: &str) -> Client {
    let user = party
        .admin
        .get(&format!("/v3/users/{user_id}"))
        .expect(200)
        .clone();
    let r = w.app.anonymous().post(
        "/auth/login",
        &json!({
            "username": user["email"],
            "password": "a long enough password",
            "account": party.id,
        }),
    );
    w.app.with_key(r.expect(200)["token"].as_str().unwrap())
}

/// A session of a new member of `party`'s Administrators.
fn admin_session(w: &World, party: &Party) -> Client {
    let admins = party
        .admin
        .get("/v3/policy-groups?name__eq=Administrators")
        .expect(200)["data"][0]["id"]
        .clone();
    let body = json!({
        "email": format!("{}@example.com", unique("sess")),
        "password": "a long enough password",
        "groups": [admins],
    });
    let user = party.admin.post("/v3/users", &body).expect(201).clone();
    session_of(w, party, user["id"].as_str().unwrap())
}

#[test]
fn no_route_reaches_another_tenant() {
    let world = World::build();
    let table = routes();
    // The audit trail is in the matrix as every route is: its tenant route takes an account
    // id, and its own route's log is one of the parameterless GETs compared before/after.
    assert!(table
        .iter()
        .any(|r| r.path == "/audit-logs" && r.family == iamd::api::Family::Scoped));
    let w = &world;
    let (dev, dev_id) = crate::common::non_admin(&w.app, false);
    let dev_session = session_of(w, &w.root, &dev_id);
    let a_admin_session = admin_session(w, &w.a);
    let me = a_admin_session.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["account_id"], w.a.id.as_str());
    let callers = vec![
        Caller {
            name: "R non-admin session".into(),
            client: dev_session,
            own: &w.root,
            manages: vec![],
        },
        Caller {
            name: "A admin session".into(),
            client: a_admin_session,
            own: &w.a,
            manages: vec![],
        },
        Caller {
            name: "R admin".into(),
            client: w.root.admin.clone(),
            own: &w.root,
            manages: vec![&w.root, &w.a],
        },
        Caller {
            name: "R non-admin".into(),
            client: dev,
            own: &w.root,
            manages: vec![],
        },
        Caller {
            name: "A admin".into(),
            client: w.a.admin.clone(),
            own: &w.a,
            manages: vec![],
        },
        Caller {
            name: "P admin".into(),
            client: w.other.admin.clone(),
            own: &w.other,
            manages: vec![&w.other, &w.b, &w.c],
        },
        Caller {
            name: "B admin".into(),
            client: w.b.admin.clone(),
            own: &w.b,
            manages: vec![],
        },
    ];
    let before = snapshot(w, &table);
    let mut failures = Vec::new();
    let mut calls = 0;
    let mut check =
        |caller: &Caller, method: &str, template: &str, account: &Party, inner: &Party| {
            let path = fill(template, account, inner);
            let body = body_for(method, template, inner);
            let r = match &body {
                Some((ct, bytes)) => caller.client.raw(method, &path, Some((ct, bytes)), &[]),
                None => caller.client.raw(method, &path, None, &[]),
            };
            calls += 1;
            let ok = matches!(r.status, 403 | 404)
                && r.body["object"] == "error"
                && r.body["code"] == r.status;
            if !ok {
                failures.push(format!(
                    "{} {method} {path} (route {template}, ids of {}, account {}): {} {}",
                    caller.name, inner.name, account.name, r.status, r.text
                ));
            }
        };
    for def in &table {
        let method = def.method.as_str();
        for template in def.full_paths() {
            let ps = params(&template);
            let tenant_route = ps.iter().any(|p| p == "account_id");
            let inner_ids = ps.iter().any(|p| is_id(p) && p != "account_id");
            for caller in &callers {
                for target in w.parties() {
                    if target.id == caller.own.id {
                        continue;
                    }
                    if tenant_route {
                        if caller.manages.iter().any(|m| m.id == target.id) {
                            // Its own tenant: only other accounts' inner ids are foreign.
                            if inner_ids {
                                for foreign in w.parties() {
                                    if foreign.id != target.id {
                                        check(caller, method, &template, target, foreign);
                                    }
                                }
                            }
                        } else {
                            check(caller, method, &template, target, target);
                        }
                    } else if inner_ids {
                        check(caller, method, &template, caller.own, target);
                    }
                }
                // An aggregator on its own id with another account's inner ids.
                if tenant_route && inner_ids && caller.manages.iter().any(|m| m.id == caller.own.id)
                {
                    for foreign in w.parties() {
                        if foreign.id != caller.own.id {
                            check(caller, method, &template, caller.own, foreign);
                        }
                    }
                }
            }
        }
    }
    let after = snapshot(w, &table);
    let mut changed = Vec::new();
    for (k, v) in &before {
        if after.get(k) != Some(v) {
            changed.push(format!("{k}\n  before: {}\n  after:  {}", v.1, after[k].1));
        }
    }
    let missing: Vec<&str> = [
        "apikey_id",
        "group_id",
        "invitation_id",
        "identity_provider_id",
        "cert_id",
    ]
    .into_iter()
    .filter(|p| !w.b.ids.contains_key(*p))
    .collect();
    eprintln!(
        "isolation matrix: {calls} calls over {} routes; params without a real entity \
         (a well-formed unknown id was used): {missing:?}",
        table.len()
    );
    assert!(
        failures.is_empty() && changed.is_empty(),
        "{} calls reached another tenant (if one is a 400 for a body this test sends \
         badly, teach `body_for` the route's body):\n{}\n\n{} things changed:\n{}",
        failures.len(),
        failures.join("\n"),
        changed.len(),
        changed.join("\n")
    );
}

/// Which operations of the spec the route table serves, by path and method.
pub(crate) fn spec_operations() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(crate::common::spec_path()).expect("the spec reads");
    let mut ops = Vec::new();
    let mut in_paths = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line.trim_end() == "paths:";
            current = None;
            continue;
        }
        if !in_paths {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim().trim_end_matches(':').trim_matches('\'');
        if indent == 2 && t.starts_with("/v3") {
            current = Some(t.to_string());
        } else if indent == 4 {
            if let (Some(p), true) = (&current, ["get", "post", "put", "delete"].contains(&t)) {
                ops.push((t.to_uppercase(), p.clone()));
            }
        }
    }
    ops
}

/// `{anything}` -> `{}`: the table and the spec may name parameters differently.
pub(crate) fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_spec_operation_is_served() {
    let ops = spec_operations();
    assert!(
        ops.len() > 100,
        "the spec parse found only {} operations",
        ops.len()
    );
    let served: Vec<(String, String)> = routes()
        .iter()
        .flat_map(|d| {
            d.full_paths()
                .into_iter()
                .map(|p| (d.method.as_str().to_string(), shape(&p)))
        })
        .collect();
    let missing: Vec<String> = ops
        .iter()
        .filter(|(m, p)| !served.contains(&(m.clone(), shape(p))))
        .map(|(m, p)| format!("{m} {p}"))
        .collect();
    eprintln!(
        "{} of {} spec operations are not in the route table:\n{}",
        missing.len(),
        ops.len(),
        missing.join("\n")
    );
    assert!(missing.is_empty(), "every spec operation must be served");
}
