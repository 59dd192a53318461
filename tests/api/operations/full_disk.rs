//! A full disk is survivable: a write the disk cannot take is a 503 `ErrorResponse` and
//! leaves no trace (not visible, no 409 on a retry, nothing after a restart), `/health`
//! says 503 while writes are refused, and writes work again once space returns, without a
//! restart. The data directory lives on a small tmpfs the test mounts (skipped, with a
//! message, where mounting is not allowed).

use crate::common::{assert_error_body, Binary, Client};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmpfs mounted for one test, unmounted when dropped.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount(size: &str) -> Option<SmallFs> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(SmallFs { dir }),
            Ok(o) => {
                let why = String::from_utf8_lossy(&o.stderr);
                eprintln!("SKIPPED: cannot mount a tmpfs for the full-disk test: {why}");
                None
            }
            Err(e) => {
                eprintln!("SKIPPED: cannot run mount for the full-disk test: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system with one file; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        loop {
            match file.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // The last partial pages too.
        while file.write_all(&[0u8; 512]).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn user_count(client: &Client, email: &str) -> usize {
    client
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)["data"]
        .as_array()
        .unwrap()
        .len()
}

/// Polls `check` until it holds (at most 20 s).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_full_disk_refuses_writes_with_503_and_they_work_again_when_space_returns() {
    let Some(fs) = SmallFs::mount("24m") else {
        return;
    };
    let data = fs.path().join("data");
    let env = [("IAMD_LIMITS_MIN_FREE_DISK_BYTES", "1048576")];
    let server = Binary::start(&data, &env);
    let client = server.client.clone();
    client
        .post("/v3/users", &json!({"email": "before@example.com"}))
        .expect(201);
    let health = client.anonymous().get("/health");
    assert_eq!(health.expect(200)["store"], "ok");

    let filler = fs.fill();
    let health = client.anonymous().get("/health");
    let body = health.expect_error(503);
    assert!(body["message"].as_str().unwrap().contains("disk"), "{body}");
    for _ in 0..2 {
        let refused = client.post("/v3/users", &json!({"email": "during@example.com"}));
        let body = refused.expect_error(503);
        assert_eq!(body["type"], "service_unavailable", "{body}");
    }
    // Reads go on; the refused write is nowhere.
    assert_eq!(user_count(&client, "during@example.com"), 0);
    assert_eq!(user_count(&client, "before@example.com"), 1);

    std::fs::remove_file(filler).unwrap();
    eventually("/health is 200 again", || {
        client.anonymous().get("/health").status == 200
    });
    client
        .post("/v3/users", &json!({"email": "during@example.com"}))
        .expect(201);
    assert!(server.terminate().success());

    let again = Binary::start(&data, &env);
    assert_eq!(user_count(&again.client, "during@example.com"), 1);
    assert_eq!(user_count(&again.client, "before@example.com"), 1);
}

/// With no free-space margin the writes reach sled, which fails on the full disk and then
/// refuses everything (it poisons itself): the server reopens the database from the disk.
#[test]
fn a_write_that_fails_on_the_disk_itself_leaves_no_trace_and_the_store_recovers() {
    let Some(fs) = SmallFs::mount("24m") else {
        return;
    };
    let data = fs.path().join("data");
    let env = [("IAMD_LIMITS_MIN_FREE_DISK_BYTES", "0")];
    let server = Binary::start(&data, &env);
    let client = server.client.clone();
    let filler = fs.fill();
    // Writes that still fit in pages the database file already has may succeed.
    let mut acknowledged = Vec::new();
    let failed = (0..500)
        .map(|i| format!("full{i}@example.com"))
        .find(|email| {
            let r = client.post(
                "/v3/users",
                &json!({"email": email, "full_name": "x".repeat(100)}),
            );
            if r.status == 201 {
                acknowledged.push(email.clone());
                return false;
            }
            assert!(r.status >= 500, "{}: {}", r.status, r.text);
            assert_error_body(&r.body, r.status);
            true
        })
        .expect("a write fails on the full disk");
    // sled's recovery needs some space: until there is, the database stays closed and every
    // request is a 503; the failed write shows nowhere.
    let read = client.get(&format!("/v3/users?email__eq={failed}"));
    if read.status == 200 {
        assert_eq!(
            read.body["data"],
            json!([]),
            "the failed write is not visible"
        );
    } else {
        read.expect_error(503);
    }
    client.anonymous().get("/health").expect_error(503);

    std::fs::remove_file(filler).unwrap();
    eventually("/health is 200 again", || {
        client.anonymous().get("/health").status == 200
    });
    assert_eq!(
        user_count(&client, &failed),
        0,
        "the failed write is not visible"
    );
    eventually("the failed create can be retried", || {
        let r = client.post("/v3/users", &json!({"email": failed}));
        assert_ne!(r.status, 409, "{}", r.text);
        r.status == 201
    });
    client
        .post("/v3/users", &json!({"email": "after@example.com"}))
        .expect(201);
    assert!(server.terminate().success());

    let again = Binary::start(&data, &env);
    for email in acknowledged
        .iter()
        .chain([&failed, &"after@example.com".to_string()])
    {
        assert_eq!(user_count(&again.client, email), 1, "{email}");
    }
}
