//! A damaged data directory never passes for a good one. The audit's cases (bytes overwritten
//! mid-log, truncation, a removed database next to its key file or its snapshot) each stop
//! the start with exit code 2 and one message naming the file and `iamd restore`; the
//! server never makes a new root account over them and never panics. `iamd verify` checks a
//! stopped server's directory.

use super::{iamd, run};
use crate::common::Binary;
use serde_json::json;
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Stdio;

/// A data directory holding `users` users made over HTTP, left by `kill -9` (the next start
/// replays the log written since the first start's snapshot) or, when `graceful`, by SIGTERM
/// (which writes a snapshot). Returns it with the content of its admin key file.
fn populated(users: usize, graceful: bool) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let client = server.client.clone();
            s.spawn(move || {
                for i in (t..users).step_by(4) {
                    let email = format!("damage{i}@example.com");
                    client
                        .post("/v3/users", &json!({"email": email}))
                        .expect(201);
                }
            });
        }
    });
    if graceful {
        assert!(server.terminate().success());
    } else {
        server.kill9();
    }
    let key = std::fs::read_to_string(dir.path().join("admin-api-key")).unwrap();
    (dir, key)
}

/// Starts the real binary on `dir`, which must refuse to start: (exit code, stdout, stderr).
fn refused_start(dir: &Path) -> (i32, String, String) {
    let mut child = iamd()
        .env("IAMD_DATA_DIR", dir)
        .env("IAMD_BIND", "127.0.0.1:0")
        .env("IAMD_WORKERS", "2")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("listening on") {
            let _ = child.kill();
            let _ = child.wait();
            panic!("iamd started on a damaged data directory:\n{stderr}{line}");
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// The start refuses with exit code 2 and one `iamd:` line naming `file` and the remedy;
/// no panic, no new root account, the admin key file untouched.
#[track_caller]
fn assert_refused(dir: &Path, key: &str, file: &str) {
    let (code, stdout, stderr) = refused_start(dir);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, 2, "{stderr}");
    let ours: Vec<&str> = stderr.lines().filter(|l| l.starts_with("iamd: ")).collect();
    assert_eq!(ours.len(), 1, "one message: {stderr}");
    let shown = dir.join(file).display().to_string();
    assert!(ours[0].contains(&shown), "names {shown}: {}", ours[0]);
    assert!(ours[0].contains("iamd restore"), "{}", ours[0]);
    assert!(!stdout.contains("Created the root account"), "{stdout}");
    let now = std::fs::read_to_string(dir.join("admin-api-key")).unwrap();
    assert_eq!(now, key, "the admin key file was replaced");
}

fn overwrite(path: &Path, at: u64, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(at)).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
}

fn truncate(path: &Path, len: u64) {
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    assert!(
        file.metadata().unwrap().len() > len,
        "{} is too small",
        path.display()
    );
    file.set_len(len).unwrap();
}

fn verify(dir: &Path) -> (i32, String, String) {
    run(&["verify", "--data-dir", dir.to_str().unwrap()], &[])
}

#[test]
fn bytes_overwritten_mid_log_stop_the_start_instead_of_losing_the_tail() {
    let (dir, key) = populated(200, false);
    let log = dir.path().join("db/db");
    let len = std::fs::metadata(&log).unwrap().len();
    overwrite(&log, len * 3 / 4, &[0xde, 0xad, 0xbe, 0xef]);
    assert_refused(dir.path(), &key, "db/db");
    // Still refused the second time: sled's recovery cut the log, the marker remembers.
    assert_refused(dir.path(), &key, "db/db");
    let (code, out, err) = verify(dir.path());
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("db/db"), "{out}");
}

#[test]
fn a_log_truncated_to_one_megabyte_or_to_100_bytes_is_refused() {
    let (dir, key) = populated(500, false);
    truncate(&dir.path().join("db/db"), 1_000_000);
    assert_refused(dir.path(), &key, "db/db");

    let (dir, key) = populated(20, false);
    truncate(&dir.path().join("db/db"), 100);
    assert_refused(dir.path(), &key, "db/db");

    let (dir, key) = populated(20, true);
    truncate(&dir.path().join("db/db"), 100);
    assert_refused(dir.path(), &key, "db/db");
}

#[test]
fn a_missing_database_next_to_its_key_file_or_its_snapshot_is_refused() {
    let (dir, key) = populated(20, true);
    std::fs::remove_dir_all(dir.path().join("db")).unwrap();
    assert_refused(dir.path(), &key, "db");
    assert!(
        !dir.path().join("db/db").exists(),
        "nothing was made in its place"
    );

    let (dir, key) = populated(20, true);
    let snapshots = std::fs::read_dir(dir.path().join("db"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("snap.")
        })
        .count();
    assert!(snapshots > 0, "a graceful stop leaves a snapshot");
    std::fs::remove_file(dir.path().join("db/db")).unwrap();
    assert_refused(dir.path(), &key, "db/db");
}

#[test]
fn verify_summarises_a_good_directory_and_refuses_a_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    // Every kind of record, and their indexes.
    let users = super::backup::populate(&server.client, 5);
    let (first, _) = &users[0];
    server
        .client
        .delete(&format!("/v3/users/{first}"))
        .expect(204);
    let (code, _, err) = verify(dir.path());
    assert_eq!(code, 1, "the database is in use: {err}");
    assert!(err.contains("in use"), "{err}");
    assert!(server.terminate().success());

    let (code, out, err) = verify(dir.path());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no problems"), "{out}");
    // The root's admin, the tenant's admin, 5 made and 1 deleted, 1 invited.
    assert!(out.contains("users: 7"), "{out}");
    assert!(out.contains("developer_certificates: 1"), "{out}");
    let (code, _, err) = run(&["verify"], &[]);
    assert_eq!(code, 2, "{err}");
}

/// A record that no longer decodes is found by the scan that follows the start, not before
/// it: the server comes up at once, then takes itself out of service, and `/health` and
/// every request say why (503) until the directory is restored.
#[test]
fn a_record_found_unreadable_after_the_start_takes_the_server_out_of_service() {
    // Damage written into sled's files.
    let app = crate::common::spawn_app_on_sled();
    let body =
        json!({"email": "soon-unreadable@example.com", "password": "a long enough password"});
    let user = app.post("/v3/users", &body).expect(201).clone();
    let account = app.get("/v3/accounts/me").expect(200)["id"].clone();
    let dir = app.stop().expect("the app owns its directory");
    let id = |v: &serde_json::Value| iamd::ids::Id::parse(v.as_str().unwrap()).unwrap();
    let key = iamd::store::keys::owned(&id(&account), &id(&user["id"]));
    // Written under iamd's feet, as damage is: a store opened here would find it itself.
    let db = sled::Config::new()
        .path(dir.path().join("db"))
        .open()
        .unwrap();
    let users = db.open_tree("userid_user").unwrap();
    users.insert(key, &b"\x01\xff\xff"[..]).unwrap();
    db.flush().unwrap();
    drop((users, db));
    assert!(crate::common::database_closed_within(
        dir.path(),
        std::time::Duration::from_secs(10)
    ));

    let app = crate::common::start_in_process(crate::common::test_config(dir.path()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let health = loop {
        let health = app.get("/health");
        if health.status == 503 || std::time::Instant::now() > deadline {
            break health;
        }
        std::thread::yield_now();
    };
    let message = health.expect_error(503)["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("users: record"), "{message}");
    assert!(message.contains("iamd restore"), "{message}");
    let refused = app.get("/v3/users/me");
    let message = refused.expect_error(503)["message"].as_str().unwrap();
    assert!(message.contains("damaged"), "{message}");
}
