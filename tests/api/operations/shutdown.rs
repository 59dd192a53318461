//! Graceful shutdown: SIGTERM during writes, and the second signal.

use crate::common::{id_of, wait_until, Binary};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn sigterm_during_a_burst_of_writes_exits_0_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    let base = server.client.base.clone();
    let key = server.client.key.clone().unwrap();
    let acknowledged_so_far = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (base, key) = (base.clone(), key.clone());
            let so_far = acknowledged_so_far.clone();
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(20))
                    .build();
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let email = format!("burst{t}-{i}@example.com");
                    let sent = agent
                        .post(&format!("{base}/v3/users"))
                        .set("Authorization", &format!("Bearer {key}"))
                        .send_json(json!({ "email": email }));
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            let body: Value = r.into_json().unwrap();
                            acknowledged.push(body["id"].as_str().unwrap().to_string());
                            so_far.fetch_add(1, Ordering::Relaxed);
                        }
                        // Refused or cut connections once the server stops: not acknowledged.
                        Ok(_) | Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    // The signal comes once the burst is under way.
    wait_until(Duration::from_secs(30), "the burst is under way", || {
        acknowledged_so_far.load(Ordering::Relaxed) >= 20
    });
    let started = Instant::now();
    let status = server.terminate();
    let took = started.elapsed();
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    assert!(took < Duration::from_secs(12), "bounded wait: {took:?}");
    assert!(
        acknowledged.len() > 4,
        "the burst ran: {}",
        acknowledged.len()
    );

    let again = Binary::start(dir.path(), &[]);
    for id in &acknowledged {
        again.client.get(&format!("/v3/users/{id}")).expect(200);
    }
    let list = again.client.get("/v3/users?limit=2").expect(200).clone();
    assert!(list["total_count"].as_u64().unwrap() > acknowledged.len() as u64);
}

#[test]
fn a_second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &[
            ("IAMD_SHUTDOWN_TIMEOUT_SECS", "60"),
            ("IAMD_REQUEST_TIMEOUT_SECS", "60"),
        ],
    );
    // The slow request uses a key of its own, whose first use shows when it is in flight.
    let admin = &server.client;
    let me = id_of(admin.get("/v3/users/me").expect(200));
    let slow_key = admin
        .post("/v3/api-keys", &json!({"name": "slow", "owner": me}))
        .expect(201)
        .clone();
    let slow_key_path = format!("/v3/api-keys/{}", id_of(&slow_key));
    // A request in flight that will not finish: its body never arrives.
    let addr = admin.base.trim_start_matches("http://").to_string();
    let mut slow = TcpStream::connect(&addr).unwrap();
    write!(
        slow,
        "POST /v3/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"email\"",
        slow_key["key"].as_str().unwrap()
    )
    .unwrap();
    wait_until(Duration::from_secs(10), "the slow request is read", || {
        admin.get(&slow_key_path).expect(200)["last_login_time"]
            .as_i64()
            .is_some_and(|t| t > 0)
    });
    let pid = server.child.id().to_string();
    let kill = |sig: &str| {
        Command::new("kill").args([sig, &pid]).status().unwrap();
    };
    kill("-TERM");
    assert!(server.wait_log("SIGTERM: stopping", Duration::from_secs(10)));
    // This wait is what is tested, not a guess at a delay: a server with nothing in flight
    // exits within milliseconds of that log line; this one must still run half a second on.
    std::thread::sleep(Duration::from_millis(500));
    let mut child = server;
    assert!(
        child.child.try_wait().unwrap().is_none(),
        "the first signal waits for the request in flight"
    );
    let started = Instant::now();
    kill("-INT");
    let status = child.child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{status:?}");
    drop(slow);
}

/// sled's recovery snapshots, `db/snap.<log position>`; the newest covers the most.
fn snapshots(data_dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join("db"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("snap.") && !n.ends_with(".generating"))
        .collect();
    names.sort();
    names
}

#[test]
fn a_graceful_stop_writes_the_database_snapshot_so_the_next_start_replays_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    for i in 0..50 {
        let email = format!("snap{i}@example.com");
        server
            .client
            .post("/v3/users", &json!({ "email": email }))
            .expect(201);
    }
    // The snapshot of the start covers none of the writes above.
    let at_start = snapshots(dir.path());
    assert!(server.terminate().success());
    let at_stop = snapshots(dir.path());
    assert_eq!(at_stop.len(), 1, "one snapshot kept: {at_stop:?}");
    assert!(
        at_start.last() < at_stop.last(),
        "the stop wrote a newer snapshot: {at_start:?} then {at_stop:?}"
    );

    // The next start finds nothing to replay, so it writes no newer snapshot, and it has
    // every user.
    let again = Binary::start(dir.path(), &[]);
    assert_eq!(snapshots(dir.path()), at_stop);
    let list = again
        .client
        .get("/v3/users?limit=2&include=total_count")
        .expect(200)
        .clone();
    assert_eq!(list["total_count"], 51);
}
