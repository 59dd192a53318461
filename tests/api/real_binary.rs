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
