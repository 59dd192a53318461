//! `[store] url = "postgres://..."`: the server on PostgreSQL, chosen by configuration.

use crate::common::{start_in_process, test_config, unique, Binary};
use crate::operations::run;
use crate::pg::Schema;
use serde_json::json;

#[test]
fn a_server_on_postgres_keeps_its_records_in_the_database_and_says_so() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.store.url = schema.url();
    let app = start_in_process(config);
    let health = app.get("/health").expect(200).clone();
    assert_eq!(health["engine"], "postgres", "{health}");
    assert_eq!(health["bootstrapped"], true, "{health}");
    let email = format!("{}@example.com", unique("pg"));
    let body = json!({"email": email, "password": "a long enough password"});
    let created = app.post("/v3/users", &body).expect(201).clone();
    assert_eq!(app.post("/v3/users", &body).expect_error(409)["code"], 409);
    assert!(
        !dir.path().join("db").exists(),
        "no sled database in the data directory"
    );
    drop(app);

    // Another node with a data directory of its own, on the same database, sees it all
    // and bootstraps nothing (the admin key of the first start still works).
    let other = tempfile::tempdir().unwrap();
    let mut config = test_config(other.path());
    config.store.url = schema.url();
    config.bootstrap.admin_api_key = String::new();
    let second = start_with_key(config, &first_key(dir.path()));
    let listed = second
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)
        .clone();
    assert_eq!(listed["total_count"], 1, "{listed}");
    assert_eq!(listed["data"][0]["id"], created["id"]);
}

fn first_key(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("admin-api-key"))
        .expect("the first start wrote its key")
        .trim()
        .to_string()
}

/// A server on `config` whose client uses `key` (a node that did not bootstrap).
fn start_with_key(config: iamd::config::Config, key: &str) -> crate::common::TestApp {
    let dir = config.data_dir.clone();
    std::fs::write(dir.join("admin-api-key"), key).unwrap();
    start_in_process(config)
}

#[test]
fn a_bad_or_unreachable_postgres_url_is_one_plain_start_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    for (url, said) in [
        (
            "postgres://iamd:hunter2@127.0.0.1:1/iamd",
            "cannot connect to PostgreSQL at 127.0.0.1:1/iamd",
        ),
        ("postgres://iamd:hunter2@db?port=x", "not valid"),
        ("mysql://iamd:hunter2@db/iamd", "unsupported store url"),
    ] {
        let (code, out, err) = run(
            &[],
            &[
                ("IAMD_DATA_DIR", data_dir),
                ("IAMD_BIND", "127.0.0.1:0"),
                ("IAMD_STORE_URL", url),
            ],
        );
        assert_ne!(code, 0, "{url}: {out}{err}");
        assert!(err.contains(said), "{url}: {err}");
        assert!(
            !err.contains("hunter2") && !out.contains("hunter2"),
            "{err}{out}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, out, err) = run(
        &["check-config"],
        &[(
            "IAMD_STORE_URL",
            "postgres://iamd:hunter2@db.example.com:5432/iamd",
        )],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("url = \"postgres://iamd:(set)@db.example.com:5432/iamd\""),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn the_real_binary_serves_on_postgres() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[("IAMD_STORE_URL", &schema.url())]);
    let health = server.client.get("/health").expect(200).clone();
    assert_eq!(health["engine"], "postgres", "{health}");
    server
        .client
        .put("/v3/users/me", &json!({"full_name": "On PostgreSQL"}))
        .expect(200);
    assert!(server.terminate().success());
}

/// A database that hangs on one table holds the requests that wait on it, not the server:
/// with the default worker count, requests stuck on PostgreSQL leave workers free for
/// the others (here `/health`, which does not touch the locked table).
#[test]
fn requests_stuck_on_a_slow_database_leave_the_server_serving() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.store.url = schema.url();
    config.workers = 0;
    let app = start_in_process(config);
    app.get("/v3/users/me").expect(200);
    let stuck = 4;
    let lock = schema.lock("keyhash_apikeyid");
    std::thread::scope(|s| {
        // Keys never seen (refused, once the lock goes): a key read before is answered from
        // the node's cache and would never reach the locked table.
        let waiting: Vec<_> = (0..stuck)
            .map(|_| {
                let key = iamd::auth::apikey::issue(&iamd::ids::Id::new(), &iamd::ids::Id::new());
                let client = app.client.with_key(&key.full);
                s.spawn(move || client.get("/v3/users/me").status)
            })
            .collect();
        crate::common::wait_until(
            std::time::Duration::from_secs(20),
            "every request reached the database (not waiting behind another on its worker)",
            || {
                schema.count(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                     AND application_name = 'iamd'",
                ) >= stuck
            },
        );
        let (answered, health) = std::sync::mpsc::channel();
        let client = app.client.clone();
        s.spawn(move || {
            let _ = answered.send(client.get("/health").status);
        });
        let health = health.recv_timeout(std::time::Duration::from_secs(5));
        drop(lock);
        assert_eq!(
            health.ok(),
            Some(200),
            "/health waited behind {stuck} requests stuck on the database"
        );
        for w in waiting {
            assert_eq!(w.join().unwrap(), 401);
        }
    });
}

/// `iamd migrate-store`: a stopped sled server's database into PostgreSQL and back, each
/// time served by a server on the new store; a target that holds a database is refused.
#[test]
fn migrate_store_moves_a_database_to_postgres_and_back() {
    let Some(schema) = Schema::create() else {
        return;
    };
    let url = schema.url();
    let app = crate::common::spawn_app_on_sled();
    let key = app.admin_key.clone();
    let email = format!("{}@example.com", unique("moved"));
    let user = app
        .post(
            "/v3/users",
            &json!({"email": email, "password": "a long enough password"}),
        )
        .expect(201)
        .clone();
    let sled_dir = app.stop().unwrap();
    let from = sled_dir.path().to_str().unwrap();

    let (code, out, err) = run(&["migrate-store", "--from", from, "--to", &url], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("copied"), "{out}");
    // A second run into the same database is refused and changes nothing.
    let (code, _, err) = run(&["migrate-store", "--from", from, "--to", &url], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("already holds an iamd database"), "{err}");

    let served = |dir: &std::path::Path, store_url: &str| {
        let mut config = test_config(dir);
        config.store.url = store_url.to_string();
        let app = start_with_key(config, &key);
        let found = app
            .get(&format!("/v3/users?email__eq={email}"))
            .expect(200)
            .clone();
        assert_eq!(found["total_count"], 1, "{found}");
        assert_eq!(found["data"][0]["id"], user["id"]);
        app.get("/v3/users/me").expect(200);
        app.stop();
    };
    let node = tempfile::tempdir().unwrap();
    served(node.path(), &url);

    // And back, into a new directory.
    let back = tempfile::tempdir().unwrap();
    let to = back.path().join("data");
    let (code, out, err) = run(
        &[
            "migrate-store",
            "--from",
            &url,
            "--to",
            to.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(&["migrate-store", "--from", &url, "--to", from], &[]);
    assert_eq!(code, 1, "a directory that is not empty: {err}");
    served(&to, "");
}
