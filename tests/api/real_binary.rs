//! The real `iamd` executable: persistence across restarts and durability under SIGKILL.

use crate::common::Binary;
use serde_json::json;

#[test]
fn data_survives_a_restart_and_the_secret_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = Binary::start(dir.path(), &[]);
    let key = first.client.key.clone().unwrap();
    first
        .client
        .put("/v3/users/me", &json!({"full_name": "Persisted"}))
        .expect(200);
    let status = first.terminate();
    assert!(status.success(), "graceful stop exits 0: {status:?}");

    let second = Binary::start(dir.path(), &[]);
    assert_eq!(second.client.key.as_deref(), Some(key.as_str()));
    let me = second.client.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["full_name"], "Persisted");
    let (status, stdout) = second.terminate_with_stdout();
    assert!(status.success(), "{status:?}");
    assert!(!stdout.contains(&key), "a restart must not print the key");
}

/// The record scan after a start runs while the server serves; its end is logged, so an
/// operator knows the check ran (and the benchmark knows when memory is at rest).
#[test]
fn a_start_logs_that_the_database_was_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    assert!(
        server.wait_log("database checked: ", std::time::Duration::from_secs(20)),
        "{}",
        server.log()
    );
    assert!(server.log().contains("no damage"), "{}", server.log());
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    assert!(
        server.wait_stdout("ak_", std::time::Duration::from_secs(10)),
        "the first start prints the key"
    );
    let client = server.client.clone();
    let mut last = String::new();
    for i in 0..60 {
        last = format!("burst {i}");
        client
            .put("/v3/users/me", &json!({"full_name": last}))
            .expect(200);
    }
    // Concurrent acknowledged creates, then SIGKILL with no grace.
    let created: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let c = client.clone();
                s.spawn(move || {
                    (0..10)
                        .map(|i| {
                            let email = format!("kill{t}-{i}@example.com");
                            c.post("/v3/users", &json!({"email": email})).expect(201)["id"]
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    server.kill9();

    let again = Binary::start(dir.path(), &[]);
    let me = again.client.get("/v3/users/me").expect(200).clone();
    assert_eq!(me["full_name"], last.as_str());
    for id in &created {
        again.client.get(&format!("/v3/users/{id}")).expect(200);
    }
    let list = again.client.get("/v3/users?limit=1000").expect(200).clone();
    assert_eq!(
        list["total_count"],
        created.len() as u64 + 1,
        "counter agrees with records"
    );
    assert_eq!(list["data"].as_array().unwrap().len(), created.len() + 1);
}

/// Emails whose `.eml` was not yet made final when the server was killed, their log entries
/// committed (and durable) with their users. At the next start, one whose temporary file is
/// whole is finished (its request may have been answered: an answer waits for the file's
/// data, not its rename); one whose file the crash cut short is logged as not sent and its
/// file goes. `IAMD_TEST_STALL_OUTBOX` holds every email before its file is made final.
#[test]
fn an_email_unfinished_at_a_crash_is_finished_if_whole_else_logged_as_not_sent() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[("IAMD_TEST_STALL_OUTBOX", "1")]);
    let client = server.client.clone();
    // The creates wait for their emails, which never finish: send them and do not wait.
    let addr = client.base.trim_start_matches("http://").to_string();
    let mut creating = Vec::new();
    for to in ["whole@example.com", "cut@example.com"] {
        let body = json!({ "email": to }).to_string();
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            stream,
            "POST /v3/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            client.key.as_deref().unwrap(),
            body.len()
        )
        .unwrap();
        creating.push(stream);
    }
    let entry_of = |c: &crate::common::Client, to: &str| {
        c.get("/v3/accounts/me/notifications?limit=1000")
            .expect(200)["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["receiver"] == to)
            .cloned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (whole, cut) = loop {
        if let (Some(w), Some(c)) = (
            entry_of(&client, "whole@example.com"),
            entry_of(&client, "cut@example.com"),
        ) {
            break (w, c);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the entries never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    for entry in [&whole, &cut] {
        assert_eq!(
            entry["success"], true,
            "optimistic while the email is written"
        );
    }
    // Any later acknowledged write means a flush after the entries' commit: they are durable.
    client
        .put("/v3/users/me", &json!({"full_name": "flushed"}))
        .expect(200);
    server.kill9();
    drop(creating);
    let outbox = dir.path().join("outbox");
    let names = || -> Vec<String> {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let (whole_id, cut_id) = (whole["id"].as_str().unwrap(), cut["id"].as_str().unwrap());
    // The crash cut one file short: its end never reached the disk.
    let cut_tmp = names()
        .into_iter()
        .find(|n| n.contains(cut_id) && n.ends_with(".eml.tmp"))
        .expect("the cut email's temporary file");
    let cut_path = outbox.join(cut_tmp);
    let bytes = std::fs::read(&cut_path).unwrap();
    std::fs::write(&cut_path, &bytes[..bytes.len() / 2]).unwrap();

    let again = Binary::start(dir.path(), &[]);
    let whole = entry_of(&again.client, "whole@example.com").expect("the entry survived");
    assert_eq!(whole["success"], true, "{whole}");
    let eml = std::fs::read_to_string(outbox.join(format!("{whole_id}.eml"))).unwrap();
    assert!(eml.contains("To: <whole@example.com>"), "{eml}");
    assert!(eml.contains("Your temporary password: "), "{eml}");
    let cut = entry_of(&again.client, "cut@example.com").expect("the entry survived");
    assert_eq!(cut["success"], false, "{cut}");
    assert!(
        cut["error_msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{cut}"
    );
    let left = names();
    assert!(
        !left.iter().any(|name| name.contains(cut_id)),
        "no file, finished or not, is left of the cut email: {left:?}"
    );
    assert!(
        !left.iter().any(|name| name.ends_with(".tmp")),
        "no temporary file is left: {left:?}"
    );
}

/// The temporary file of an email is written off the HTTP workers: while one is held (the
/// `IAMD_TEST_HOLD_OUTBOX_WRITE` hook), the server's only worker still answers other
/// requests, and the create that caused the email completes once the write goes on.
#[test]
fn an_email_file_being_written_does_not_hold_up_the_worker() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let hold = tempfile::tempdir().unwrap();
    let release = hold.path().join("release");
    let release_env = release.to_string_lossy().to_string();
    let server = Binary::start(
        dir.path(),
        &[
            ("IAMD_WORKERS", "1"),
            ("IAMD_TEST_HOLD_OUTBOX_WRITE", &release_env),
        ],
    );
    let client = server.client.clone();
    let addr = client.base.trim_start_matches("http://").to_string();
    let body = json!({"email": "held@example.com"}).to_string();
    let mut creating = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        creating,
        "POST /v3/users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        client.key.as_deref().unwrap(),
        body.len()
    )
    .unwrap();
    let held = hold.path().join("release.held");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !held.exists() {
        assert!(Instant::now() < deadline, "the email write never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Another request, while the write is held.
    let mut other = std::net::TcpStream::connect(&addr).unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        other,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let answered = other.read_to_string(&mut answer);
    std::fs::write(&release, b"").unwrap();
    let mut created = String::new();
    creating.read_to_string(&mut created).unwrap();
    assert!(
        answered.is_ok() && answer.starts_with("HTTP/1.1 200"),
        "the worker was held by the email write: {answered:?} {answer:?}"
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let log = client
        .get("/v3/accounts/me/notifications")
        .expect(200)
        .clone();
    let entry = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["receiver"] == "held@example.com")
        .cloned()
        .expect("the email is logged");
    assert_eq!(entry["success"], true, "{entry}");
}
