//! Backup of a running and of a stopped server, restore, and the refusals of corrupt files.

use super::{restore, run};
use crate::common::{unique, Binary, Client};
use serde_json::{json, Value};

/// Removes what legitimately differs between two servers answering the same request.
fn normalise(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("last_login_time");
            map.remove("request_id");
            // Image links carry the serving address, which differs between the two servers;
            // the content-hash file name must not.
            if let Some(Value::String(uri)) = map.get_mut("static_uri") {
                *uri = uri.rsplit('/').next().unwrap_or_default().to_string();
            }
            // So do the SAML endpoints derived from it: compare their paths.
            if let Some(Value::String(uri)) = map.get_mut("assertion_endpoint") {
                *uri = uri.splitn(4, '/').nth(3).unwrap_or_default().to_string();
            }
            for value in map.values_mut() {
                *value = normalise(value.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = normalise(item.take());
            }
        }
        _ => {}
    }
    v
}

/// The GET paths both servers must answer alike, with the caller to use for each.
/// Add paths here as more resources land.
fn comparison(users: &[(String, String)]) -> Vec<(Option<String>, String)> {
    let mut paths: Vec<(Option<String>, String)> = [
        "/v3/accounts/me",
        "/v3/users/me",
        "/v3/api-keys/me",
        "/v3/users?limit=1000",
        "/v3/users?limit=2&order=DESC",
        "/v3/users?email__like=backup",
        "/v3/users/00000000000000000000000000000000",
        "/health",
        "/v3/policy-groups?limit=1000",
        "/v3/trusted-certificates?limit=1000",
        "/v3/identity-providers?limit=1000",
        "/v3/user-invitations?limit=1000",
        "/v3/accounts?limit=1000",
        "/v3/server-credentials",
        "/v3/branding-colors/light",
        "/v3/branding-images/dark",
        "/v3/accounts/me/notifications?limit=1000",
    ]
    .iter()
    .map(|p| (None, p.to_string()))
    .collect();
    for (id, key) in users {
        paths.push((None, format!("/v3/users/{id}")));
        paths.push((Some(key.clone()), "/v3/users/me".into()));
        paths.push((Some(key.clone()), "/v3/api-keys/me".into()));
        paths.push((Some(key.clone()), "/v3/accounts/me".into()));
    }
    paths
}

pub(super) fn assert_same_answers(a: &Client, b: &Client, users: &[(String, String)]) {
    for (key, path) in comparison(users) {
        let (ca, cb) = match &key {
            Some(k) => (a.with_key(k), b.with_key(k)),
            None => (a.clone(), b.clone()),
        };
        let (ra, rb) = (ca.get(&path), cb.get(&path));
        assert_eq!(ra.status, rb.status, "{path}: {} vs {}", ra.text, rb.text);
        assert_eq!(
            normalise(ra.body.clone()),
            normalise(rb.body.clone()),
            "{path}"
        );
    }
}

/// Users with keys of their own, an admin profile change, and one of every other kind of
/// record (group, certificates, identity provider, invitation, tenant, branding): state
/// worth comparing.
pub(super) fn populate(admin: &Client, n: usize) -> Vec<(String, String)> {
    admin
        .put("/v3/accounts/me", &json!({"display_name": "Backed up"}))
        .expect(200);
    admin
        .post("/v3/policy-groups", &json!({"name": unique("group")}))
        .expect(201);
    let chain = iamd::pki::testcerts::valid_chain();
    admin
        .post(
            "/v3/trusted-certificates",
            &json!({"name": unique("ca"), "service": "lwm2m", "certificate": chain.chain_pem}),
        )
        .expect(201);
    admin
        .post(
            "/v3/developer-certificates",
            &json!({"name": unique("dev")}),
        )
        .expect(201);
    crate::common::new_identity_provider(admin);
    admin
        .post(
            "/v3/user-invitations",
            &json!({"email": format!("{}@example.com", unique("inv"))}),
        )
        .expect(201);
    admin
        .post(
            "/v3/accounts",
            &json!({"display_name": "tenant", "end_market": "IT", "admin_email": format!("{}@example.com", unique("t"))}),
        )
        .expect(201);
    admin
        .put(
            "/v3/branding-colors/light/primary",
            &json!({"color": "#123456"}),
        )
        .expect(200);
    let (png, _) = iamd::branding::default_image(iamd::branding::Theme::Light);
    admin
        .raw(
            "POST",
            "/v3/branding-images/dark/brand_logo_portrait/upload",
            Some(("image/png", png)),
            &[],
        )
        .expect(201);
    (0..n)
        .map(|i| {
            let user = admin
                .post(
                    "/v3/users",
                    &json!({"email": format!("backup{i}-{}@example.com", unique("u")),
                            "full_name": format!("User {i}")}),
                )
                .expect(201)
                .clone();
            let id = user["id"].as_str().unwrap().to_string();
            let key = admin
                .post(
                    "/v3/api-keys",
                    &json!({"name": format!("key {i}"), "owner": id}),
                )
                .expect(201)["key"]
                .as_str()
                .unwrap()
                .to_string();
            (id, key)
        })
        .collect()
}

#[test]
fn backup_of_a_running_server_restores_to_a_server_that_answers_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = Binary::start(&data, &[]);
    let admin = original.client.clone();
    let users = populate(&admin, 5);
    let key_file = data.join("admin-api-key");
    let url = admin.base.clone();
    let file = dir.path().join("one.iamdbackup");

    // Backup while writers run: the snapshot must be internally consistent.
    let writer = {
        let admin = admin.clone();
        std::thread::spawn(move || {
            for i in 0..40 {
                admin
                    .post(
                        "/v3/users",
                        &json!({"email": format!("during{i}@example.com")}),
                    )
                    .expect(201);
            }
        })
    };
    let (code, out, err) = run(
        &[
            "backup",
            "--url",
            &url,
            "--key-file",
            key_file.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ],
        &[],
    );
    writer.join().unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("tables"), "{out}");
    // The summary per entity: the 5 users populated and the admin, at least (more were
    // being created meanwhile), 2 accounts (the root and a tenant).
    let records = out
        .lines()
        .find(|l| l.starts_with("records: "))
        .unwrap_or_default();
    assert!(records.contains("accounts 2, users "), "{out}");
    assert!(
        records.contains("api keys ") && records.contains("branding images 1"),
        "{out}"
    );
    let during = dir.path().join("during");
    let (code, _, err) = restore(&file, &during);
    assert_eq!(code, 0, "{err}");
    std::fs::copy(&key_file, during.join("admin-api-key")).unwrap();
    let mid = Binary::start(&during, &[]);
    let list = mid.client.get("/v3/users?limit=1000").expect(200).clone();
    let data_len = list["data"].as_array().unwrap().len() as u64;
    assert_eq!(list["total_count"], data_len, "counters agree with records");
    for user in list["data"].as_array().unwrap() {
        let email = user["email"].as_str().unwrap();
        let found = mid
            .client
            .get(&format!("/v3/users?email__eq={email}"))
            .expect(200)
            .clone();
        assert_eq!(
            found["data"][0]["id"], user["id"],
            "indexes agree with records"
        );
    }
    drop(mid);

    // Quiet now: a second backup, restored, answers exactly as the original.
    let file = dir.path().join("two.iamdbackup");
    let (code, _, err) = run(
        &["backup", "--url", &url, "--out", file.to_str().unwrap()],
        &[("IAMD_API_KEY", admin.key.as_deref().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    let restored_dir = dir.path().join("restored");
    let (code, out, err) = restore(&file, &restored_dir);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("restored"), "{out}");
    assert!(
        !restored_dir.join("admin-api-key").exists(),
        "the key file is not part of a backup"
    );
    std::fs::copy(&key_file, restored_dir.join("admin-api-key")).unwrap();
    let restored = Binary::start(&restored_dir, &[]);
    // The restored log holds the original's entries and one more: the restore, by iamd.
    let restores = "/v3/audit-logs?action__eq=restore&include=total_count";
    assert_eq!(admin.get(restores).expect(200)["total_count"], 0);
    let entry = restored.client.get(restores).expect(200).clone();
    assert_eq!(entry["total_count"], 1, "{entry}");
    assert_eq!(entry["data"][0]["actor"]["type"], "system");
    assert_eq!(entry["data"][0]["fields"][0]["new_value"], "two.iamdbackup");
    assert_same_answers(&admin, &restored.client, &users);
    // Both go on independently.
    restored
        .client
        .post("/v3/users", &json!({"email": "after-restore@example.com"}))
        .expect(201);
    admin
        .get("/v3/users?email__eq=after-restore@example.com")
        .expect(200);
    let (_, stdout) = restored.terminate_with_stdout();
    assert!(
        !stdout.contains("Created the root account"),
        "a restored directory is not bootstrapped again: {stdout}"
    );
}

#[test]
fn offline_backup_and_the_refusals_of_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Binary::start(&data, &[]);
    let users = populate(&server.client, 2);
    let file = dir.path().join("offline.iamdbackup");
    let file_s = file.to_str().unwrap();
    // The database is locked while the server runs: the CLI says what to do instead.
    let (code, _, err) = run(
        &[
            "backup",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            file_s,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("running server") && err.contains("--url"),
        "{err}"
    );
    assert!(!file.exists());
    // Only root administrators may download a backup.
    // A user's own key: not an administrator.
    let developer = server.client.with_key(&users[0].1);
    developer.get("/admin/backup").expect_error(403);
    server
        .client
        .anonymous()
        .get("/admin/backup")
        .expect_error(401);
    let (code, _, err) = run(
        &["backup", "--url", &server.client.base, "--out", file_s],
        &[("IAMD_API_KEY", developer.key.as_deref().unwrap())],
    );
    assert_eq!(code, 1);
    assert!(err.contains("403"), "{err}");
    assert!(!file.exists() && !dir.path().join("offline.iamdbackup.partial").exists());

    let admin_key = server.client.key.clone().unwrap();
    let base = server.client.base.clone();
    assert!(server.terminate().success());
    let (code, out, err) = run(
        &[
            "backup",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            file_s,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote"), "{out}");
    assert!(
        out.contains("records: accounts 2, users 5, api keys 4"),
        "{out}"
    );
    // A second backup to the same file is refused unless --force says to replace it.
    let first = std::fs::read(&file).unwrap();
    let again = [
        "backup",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        file_s,
    ];
    let (code, out, err) = run(&again, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        first,
        "the file is untouched"
    );
    let (code, out, err) = run(&[&again[..], &["--force"]].concat(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a backup is readable by its owner only");
    }
    let (code, out, _) = run(&["verify-backup", "--in", file_s], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("verified"), "{out}");

    // Refusals: a non-empty target, a flipped byte, a truncated file.
    let (code, _, err) = restore(&file, &data);
    assert_eq!(code, 1);
    assert!(err.contains("not empty"), "{err}");
    let bytes = std::fs::read(&file).unwrap();
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let bad = dir.path().join("flipped.iamdbackup");
    std::fs::write(&bad, &flipped).unwrap();
    let target = dir.path().join("target");
    let (code, _, err) = restore(&bad, &target);
    assert_eq!(code, 1);
    assert!(
        err.contains("corrupt") || err.contains("truncated"),
        "{err}"
    );
    assert!(!target.exists(), "nothing is written for a refused backup");
    let cut = dir.path().join("cut.iamdbackup");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, _, err) = restore(&cut, &target);
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");
    assert!(!target.exists());
    let (code, _, err) = run(&["verify-backup", "--in", cut.to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");

    // The good file restores into an empty directory that already exists.
    std::fs::create_dir_all(&target).unwrap();
    let (code, _, err) = restore(&file, &target);
    assert_eq!(code, 0, "{err}");
    std::fs::write(target.join("admin-api-key"), &admin_key).unwrap();
    let original = Binary::start(&data, &[]);
    let restored = Binary::start(&target, &[]);
    assert_ne!(original.client.base, base, "a new port; same data");
    assert_same_answers(&original.client, &restored.client, &users);
}

/// A write whose body is still arriving holds nothing up: a backup started meanwhile and
/// the writes after it complete at once (the backup waits only for writes already running).
#[test]
fn a_slow_request_body_does_not_stall_a_backup_or_other_writes() {
    use std::io::Write;
    let app = crate::common::spawn_app_with(|c| c.timeouts.request_secs = 60);
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    let body = json!({"full_name": "slow"}).to_string();
    write!(
        slow,
        "PUT /v3/users/me HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        app.admin_key,
        body.len(),
        &body[..body.len() / 2]
    )
    .unwrap();
    slow.flush().unwrap();
    // Two answered requests: the server has taken the slow request's head by now (one
    // connection per worker, in the order they were accepted).
    for _ in 0..2 {
        app.anonymous().get("/health").expect(200);
    }
    let started = std::time::Instant::now();
    let backup = app.raw("GET", "/admin/backup", None, &[]);
    assert_eq!(backup.status, 200, "{}", backup.text);
    app.put("/v3/users/me", &json!({"full_name": "quick"}))
        .expect(200);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(10),
        "the backup and a write waited {waited:?} for a body still arriving"
    );
    // The slow request is still served once its body is complete.
    slow.write_all(&body.as_bytes()[body.len() / 2..]).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    slow.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    while !String::from_utf8_lossy(&answer).contains("\"full_name\"") {
        let n = std::io::Read::read(&mut slow, &mut buf).unwrap();
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}
