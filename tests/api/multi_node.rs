//! Several nodes: two `iamd` processes (the real binary) on one PostgreSQL database.

use crate::common::{unique, Binary, Client};
use crate::pg::Schema;
use serde_json::json;

/// Users named `email` as node `client` lists them.
fn count_email(client: &Client, email: &str) -> u64 {
    client
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)["total_count"]
        .as_u64()
        .unwrap()
}

#[test]
fn two_nodes_on_one_database_serve_the_same_users_keys_and_rules() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let url = schema.url();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Binary::start(dir_a.path(), &[("IAMD_STORE_URL", &url)]);
    let key = a.client.key.clone().unwrap();
    // B joins: the database is bootstrapped already, so it creates nothing and takes the
    // root key it is given as one of the root account's.
    let b = Binary::start(
        dir_b.path(),
        &[("IAMD_STORE_URL", &url), ("IAMD_ADMIN_API_KEY", &key)],
    );
    assert!(
        !dir_b.path().join("admin-api-key").exists(),
        "B bootstrapped nothing"
    );

    // A user created on A is listed on B.
    let email = format!("{}@example.com", unique("node"));
    let created = a
        .client
        .post("/v3/users", &json!({"email": email}))
        .expect(201)
        .clone();
    let listed = b
        .client
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)
        .clone();
    assert_eq!(listed["total_count"], 1, "{listed}");
    assert_eq!(listed["data"][0]["id"], created["id"]);

    // A key revoked on A is refused on B at its next request.
    let made = a
        .client
        .post("/v3/api-keys", &json!({"name": unique("k")}))
        .expect(201)
        .clone();
    let on_b = b.client.with_key(made["key"].as_str().unwrap());
    on_b.get("/v3/api-keys/me").expect(200);
    a.client
        .delete(&format!("/v3/api-keys/{}", made["id"].as_str().unwrap()))
        .expect(204);
    assert_eq!(on_b.get("/v3/api-keys/me").expect_error(401)["code"], 401);

    // 100 concurrent creates of one email over both nodes make exactly one user.
    let email = format!("{}@example.com", unique("race"));
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let client = if i % 2 == 0 { &a.client } else { &b.client };
                let email = &email;
                s.spawn(move || client.post("/v3/users", &json!({"email": email})).status)
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (1, 99), "{statuses:?}");
    assert_eq!(count_email(&a.client, &email), 1);
    assert_eq!(count_email(&b.client, &email), 1);

    // kill -9 of B loses none of the writes it acknowledged; A keeps serving.
    let acknowledged: Vec<String> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let client = b.client.clone();
                s.spawn(move || {
                    (0..10)
                        .map(|i| {
                            let email = format!("{}-{t}-{i}@example.com", unique("ack"));
                            client
                                .post("/v3/users", &json!({"email": email}))
                                .expect(201);
                            email
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    b.kill9();
    for email in &acknowledged {
        assert_eq!(
            count_email(&a.client, email),
            1,
            "{email} was acknowledged by B"
        );
    }
    let after = format!("{}@example.com", unique("after"));
    a.client
        .post("/v3/users", &json!({"email": after}))
        .expect(201);
    assert!(a.terminate().success());
}

/// Two nodes started at the same moment on an empty database both come up: the first to
/// bootstrap wins, the other loads what it made (one root account, one pair of server CAs).
/// A root key given to both works on both; without one, only the winner writes a key file,
/// and its key works on both. Several rounds, each on a fresh database, since one round may
/// not meet the race.
#[test]
fn two_nodes_started_together_on_an_empty_database_both_serve_one_root() {
    for round in 0..6 {
        let Some(schema) = Schema::create() else {
            return;
        };
        let url = schema.url();
        let key = iamd::auth::apikey::issue(&iamd::ids::Id::new(), &iamd::ids::Id::new()).full;
        let given = round % 2 == 0;
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut env = vec![("IAMD_STORE_URL", url.as_str())];
        if given {
            env.push(("IAMD_ADMIN_API_KEY", &key));
        }
        let (mut a, mut b) = std::thread::scope(|s| {
            let a = s.spawn(|| Binary::start(dir_a.path(), &env));
            let b = s.spawn(|| Binary::start(dir_b.path(), &env));
            (a.join().unwrap(), b.join().unwrap())
        });
        if !given {
            let files: Vec<String> = [&dir_a, &dir_b]
                .iter()
                .filter_map(|d| std::fs::read_to_string(d.path().join("admin-api-key")).ok())
                .collect();
            assert_eq!(files.len(), 1, "one key file, round {round}: {files:?}");
            a.client = a.client.with_key(files[0].trim());
            b.client = b.client.with_key(files[0].trim());
        }
        let of = |node: &Binary, path: &str| node.client.get(path).expect(200).clone();
        let root = of(&a, "/v3/accounts/me");
        assert_eq!(of(&b, "/v3/accounts/me")["id"], root["id"], "round {round}");
        let admins = of(&a, "/v3/users");
        assert_eq!(
            admins["total_count"], 1,
            "one admin user, round {round}: {admins}"
        );
        for path in [
            "/v3/server-credentials/bootstrap",
            "/v3/server-credentials/lwm2m",
        ] {
            let (on_a, on_b) = (of(&a, path), of(&b, path));
            assert_eq!(
                on_a["server_certificate"], on_b["server_certificate"],
                "{path}"
            );
            assert!(on_a["server_certificate"]
                .as_str()
                .unwrap()
                .contains("BEGIN"));
        }
        assert!(a.terminate().success() && b.terminate().success());
    }
}

/// Each node caches what it reads (PostgreSQL engine, `cache`): a revocation on A must
/// still hold on B at B's very next request, every time. B reads the key (so it caches the
/// key, its owner and account), A revokes it, and B must refuse it at once; 50 rounds, so a
/// write answered before B dropped its cache would show.
#[test]
fn a_revocation_on_one_node_holds_on_the_other_at_once_every_time() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let url = schema.url();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Every round ends in a refused key: no limit on failed authentications here.
    let unlimited = ("IAMD_LIMITS_AUTH_FAILURES_PER_MINUTE", "0");
    let a = Binary::start(dir_a.path(), &[("IAMD_STORE_URL", &url), unlimited]);
    let key = a.client.key.clone().unwrap();
    let b = Binary::start(
        dir_b.path(),
        &[
            ("IAMD_STORE_URL", &url),
            ("IAMD_ADMIN_API_KEY", &key),
            unlimited,
        ],
    );
    for round in 0..50 {
        let made = a
            .client
            .post("/v3/api-keys", &json!({"name": unique("k")}))
            .expect(201)
            .clone();
        let on_b = b.client.with_key(made["key"].as_str().unwrap());
        // Twice: the second is answered from B's cache if the first filled it.
        on_b.get("/v3/users/me").expect(200);
        on_b.get("/v3/users/me").expect(200);
        a.client
            .delete(&format!("/v3/api-keys/{}", made["id"].as_str().unwrap()))
            .expect(204);
        let refused = on_b.get("/v3/users/me").expect_error(401).clone();
        assert_eq!(refused["code"], 401, "round {round}: {refused}");
    }

    // A user deactivated on A: B refuses the user's key at its next request, every time.
    for round in 0..20 {
        let user = a
            .client
            .post(
                "/v3/users",
                &json!({"email": format!("{}@example.com", unique("owner")),
                        "password": "a long enough password"}),
            )
            .expect(201)
            .clone();
        let user_id = user["id"].as_str().unwrap();
        let made = a
            .client
            .post(
                "/v3/api-keys",
                &json!({"name": unique("k"), "owner": user_id}),
            )
            .expect(201)
            .clone();
        let on_b = b.client.with_key(made["key"].as_str().unwrap());
        on_b.get("/v3/users/me").expect(200);
        on_b.get("/v3/users/me").expect(200);
        a.client
            .put(
                &format!("/v3/users/{user_id}"),
                &json!({"status": "INACTIVE"}),
            )
            .expect(200);
        let refused = on_b.get("/v3/users/me").expect_error(401).clone();
        assert!(
            refused["message"].as_str().unwrap().contains("owner"),
            "round {round}: {refused}"
        );
    }
    assert!(a.terminate().success() && b.terminate().success());
}
