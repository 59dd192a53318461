//! After a restart: the audit log against the store. Replaying the log (each entry's new
//! values, in order) must give exactly the users and keys the server holds: an
//! acknowledged write without its entry, or an entry without its write, shows as a
//! difference.

use super::*;

#[derive(Default, Debug, PartialEq)]
struct Replayed {
    email: Option<String>,
    full_name: Option<String>,
    groups: BTreeSet<String>,
    deleted: bool,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// Every entry of the log, in order (the JSON Lines export: the whole log at once).
fn whole_log(client: &Client) -> Vec<Value> {
    let r = client.get("/v3/audit-logs?format=jsonl&limit=1000");
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(super) fn verify(client: &Client, admin: (&str, &str)) {
    let (admin_id, admin_key_id) = admin;
    let mut users: BTreeMap<String, Replayed> = BTreeMap::new();
    let mut keys: BTreeMap<String, bool> = BTreeMap::new();
    for e in whole_log(client) {
        let target = e["target_id"].as_str().unwrap().to_string();
        let action = e["action"].as_str().unwrap();
        match e["target_type"].as_str().unwrap() {
            "user" => {
                let u = users.entry(target.clone()).or_default();
                assert!(!u.deleted, "an entry after user {target}'s delete: {e}");
                if action == "delete" {
                    u.deleted = true;
                    continue;
                }
                for f in e["fields"].as_array().unwrap() {
                    let new = &f["new_value"];
                    match f["field"].as_str().unwrap() {
                        "email" => u.email = text(new),
                        "full_name" => u.full_name = text(new),
                        "groups" => {
                            u.groups = new
                                .as_array()
                                .map(|g| g.iter().filter_map(text).collect())
                                .unwrap_or_default()
                        }
                        _ => {}
                    }
                }
            }
            "api-key" => match action {
                "create" => assert!(keys.insert(target, true).is_none(), "key created twice"),
                "delete" => {
                    let alive = keys.get_mut(&target);
                    assert!(
                        alive.as_deref() == Some(&true),
                        "key {target}: delete without create"
                    );
                    *alive.unwrap() = false;
                }
                _ => {}
            },
            _ => {}
        }
    }

    // Users: the server's, exactly the live ones of the log, field for field.
    let mut listed = BTreeMap::new();
    let mut after = String::new();
    loop {
        let page = client
            .get(&format!("/v3/users?limit=1000{after}"))
            .expect(200)
            .clone();
        let data = page["data"].as_array().unwrap();
        for u in data {
            listed.insert(u["id"].as_str().unwrap().to_string(), u.clone());
        }
        if page["has_more"] != true {
            break;
        }
        after = format!("&after={}", data.last().unwrap()["id"].as_str().unwrap());
    }
    for (id, row) in &listed {
        let groups: BTreeSet<String> = row["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(text)
            .collect();
        let Some(r) = users.get(id) else {
            assert_eq!(
                id, admin_id,
                "user {id} has no entry: a write without its entry"
            );
            continue;
        };
        if id == admin_id {
            // Made by the first start (no entry of its own): only its updates are logged.
            if r.full_name.is_some() {
                assert_eq!(r.full_name, text(&row["full_name"]), "admin full name");
            }
            continue;
        }
        let server = Replayed {
            email: text(&row["email"]),
            full_name: text(&row["full_name"]),
            groups,
            deleted: false,
        };
        assert_eq!(r, &server, "user {id}: the log and the store disagree");
    }
    for (id, r) in &users {
        assert!(
            r.deleted || listed.contains_key(id),
            "user {id} lives in the log but not in the store: an entry without its write"
        );
    }

    // Keys: the live ones of the log (and the admin's, made by the first start).
    let mut live: BTreeSet<String> = keys
        .into_iter()
        .filter(|(_, alive)| *alive)
        .map(|(id, _)| id)
        .collect();
    live.insert(admin_key_id.to_string());
    let mut stored = BTreeSet::new();
    let mut after = String::new();
    loop {
        let page = client
            .get(&format!("/v3/api-keys?limit=1000{after}"))
            .expect(200)
            .clone();
        let data = page["data"].as_array().unwrap();
        stored.extend(data.iter().filter_map(|k| text(&k["id"])));
        if page["has_more"] != true {
            break;
        }
        after = format!("&after={}", data.last().unwrap()["id"].as_str().unwrap());
    }
    assert_eq!(live, stored, "the log's live keys and the store's");
}
