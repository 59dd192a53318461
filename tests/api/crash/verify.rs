//! After a restart: the server against the model.

use super::*;

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
pub(super) fn verify(client: &Client, model: &mut Model, admin: (&str, &str), rng: &mut Rng) {
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
                // An email is retired only if the update really changed it.
                if now == (email.as_str(), full_name.as_deref()) {
                    let old = std::mem::replace(&mut u.email, email);
                    u.full_name = full_name;
                    if old != u.email {
                        model.retired_emails.push(old);
                    }
                } else {
                    assert_eq!(
                        now,
                        (u.email.as_str(), u.full_name.as_deref()),
                        "user {id}: an unanswered update is half-applied"
                    );
                    if email != u.email {
                        model.retired_emails.push(email);
                    }
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
