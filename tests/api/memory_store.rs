//! `[store] url = "memory:"`: the whole API runs on the in-memory engine, and nothing of the
//! database reaches the data directory.

use crate::common::{spawn_app_in_memory, start_in_process, test_config, unique};
use serde_json::json;

#[test]
fn a_server_in_memory_creates_and_lists_users_and_keeps_no_database_on_disk() {
    let app = spawn_app_in_memory();
    let email = format!("{}@example.com", unique("mem"));
    let body = json!({"email": email, "password": "a long enough password"});
    let created = app.post("/v3/users", &body).expect(201).clone();

    let listed = app
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)
        .clone();
    assert_eq!(listed["total_count"], 1, "{listed}");
    assert_eq!(listed["data"][0]["id"], created["id"]);
    assert_eq!(listed["data"][0]["email"], email.as_str());
    let all = app.get("/v3/users").expect(200).clone();
    assert_eq!(all["total_count"], 2, "the admin and the new user: {all}");
    // The email index works on this engine too.
    let again = app.post("/v3/users", &body);
    assert_eq!(again.expect_error(409)["code"], 409);

    let data_dir = app.data_dir.clone();
    assert!(
        !data_dir.join("db").exists(),
        "no sled database in the data directory"
    );
    assert!(
        !data_dir.join(iamd::store::MARKER).exists(),
        "no marker: nothing to protect on disk"
    );

    // A restart on the same directory starts from nothing.
    let dir = app.stop().expect("the app owns its directory");
    let mut config = test_config(dir.path());
    config.store.url = "memory:".into();
    let restarted = start_in_process(config);
    let after = restarted
        .get(&format!("/v3/users?email__eq={email}"))
        .expect(200)
        .clone();
    assert_eq!(after["total_count"], 0, "{after}");
}
