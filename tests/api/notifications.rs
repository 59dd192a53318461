//! The email outbox (`<data_dir>/outbox/*.eml`) and the notification log routes.

use crate::common::{non_admin, spawn_app, unique, TestApp};
use crate::users::{account_id, email_to, ids, notifications, outbox};
use serde_json::json;

/// Creates a user without a password, which emails it a generated one; returns its email
/// and that password.
fn user_with_generated_password(app: &TestApp) -> (String, String) {
    let email = format!("{}@example.com", unique("n"));
    let user = app
        .post("/v3/users", &json!({"email": email}))
        .expect(201)
        .clone();
    (email, user["password"].as_str().unwrap().to_string())
}

#[test]
fn every_email_is_an_eml_file_and_a_log_entry() {
    let app = spawn_app();
    let empty = app.get("/v3/accounts/me/notifications").expect(200).clone();
    assert_eq!(empty["object"], "list");
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["total_count"], 0);
    assert_eq!(empty["has_more"], false);

    let (email, password) = user_with_generated_password(&app);
    let log = notifications(&app);
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry["object"], "notification-entry");
    assert_eq!(entry["receiver"], email.as_str());
    assert_eq!(entry["type"], "email");
    assert_eq!(entry["success"], true);
    assert_eq!(entry["etag"], "1");
    assert_eq!(entry["account_id"], account_id(&app).as_str());
    assert!(entry.get("error_msg").is_none());
    assert!(entry["subject"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(entry["created_at"].is_string());
    let message = entry["message"].as_str().unwrap();
    assert!(message.contains("[hidden]"), "{message}");
    assert!(!entry.to_string().contains(&password));

    // The .eml: RFC 5322 headers, CRLF lines, named by the entry's id, the secret inside.
    let files = outbox(&app);
    assert_eq!(files.len(), 1, "{files:?}");
    let (name, eml) = &files[0];
    assert_eq!(*name, format!("{}.eml", entry["id"].as_str().unwrap()));
    let (head, body) = eml.split_once("\r\n\r\n").unwrap();
    for header in ["From: ", "Date: ", "Message-ID: <", "MIME-Version: 1.0"] {
        assert!(head.contains(header), "{header} missing: {head}");
    }
    assert!(head.contains(&format!("To: <{email}>")));
    assert!(head.contains(&format!("Subject: {}", entry["subject"].as_str().unwrap())));
    assert!(body.contains(&password));
    assert!(!eml.replace("\r\n", "").contains('\n'), "bare LF in {eml}");
    assert_eq!(email_to(&app, &email), *eml);
}

#[test]
fn both_routes_page_the_same_log_for_admins_only() {
    let app = spawn_app();
    for _ in 0..3 {
        user_with_generated_password(&app);
    }
    let own = app.get("/v3/accounts/me/notifications").expect(200).clone();
    let tenant_path = format!("/v3/accounts/{}/notifications", account_id(&app));
    let tenant = app.get(&tenant_path).expect(200).clone();
    assert_eq!(own["data"], tenant["data"]);
    let all = ids(&own);
    assert_eq!(all.len(), 3);
    let first = app
        .get("/v3/accounts/me/notifications?limit=2")
        .expect(200)
        .clone();
    assert_eq!(ids(&first), all[..2].to_vec());
    assert_eq!(first["has_more"], true);
    assert_eq!(first["total_count"], 3);
    let rest = app
        .get(&format!("{tenant_path}?limit=2&after={}", all[1]))
        .expect(200)
        .clone();
    assert_eq!(ids(&rest), all[2..].to_vec());
    assert_eq!(rest["has_more"], false);
    let desc = app
        .get("/v3/accounts/me/notifications?order=DESC")
        .expect(200)
        .clone();
    let mut reversed = all.clone();
    reversed.reverse();
    assert_eq!(ids(&desc), reversed);
    app.get("/v3/accounts/me/notifications?limit=1")
        .expect_field_error(400, "limit");
    app.get("/v3/accounts/me/notifications?receiver__eq=x")
        .expect_field_error(400, "receiver__eq");
    app.get("/v3/accounts/0123456789abcdef0123456789abcdef/notifications")
        .expect_error(404);
    app.anonymous()
        .get("/v3/accounts/me/notifications")
        .expect_error(401);
    let (dev, _) = non_admin(&app, false);
    dev.get("/v3/accounts/me/notifications").expect_error(403);
    dev.get(&tenant_path).expect_error(403);
}

#[test]
fn a_failed_delivery_is_logged_and_does_not_fail_the_request() {
    let app = spawn_app();
    // A file where the outbox directory should be: the message cannot be written.
    std::fs::write(app.data_dir.join("outbox"), b"in the way").unwrap();
    let (email, password) = user_with_generated_password(&app);
    let log = notifications(&app);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["receiver"], email.as_str());
    assert_eq!(log[0]["success"], false);
    assert!(log[0]["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(!log[0].to_string().contains(&password));
}

#[test]
fn the_outbox_keeps_no_temporary_files() {
    let app = spawn_app();
    for _ in 0..3 {
        user_with_generated_password(&app);
    }
    let names: Vec<String> = std::fs::read_dir(app.data_dir.join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 3);
    assert!(names
        .iter()
        .all(|n| n.ends_with(".eml") && !n.starts_with('.')));
}

#[test]
fn the_temporary_file_of_an_email_a_killed_server_never_finished_is_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let leftover = outbox.join(".0123456789abcdef0123456789abcdef.eml.tmp");
    std::fs::write(&leftover, b"From: half a messa").unwrap();
    // Written well before the start, whatever the file system's time granularity.
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&leftover)
        .unwrap()
        .set_modified(an_hour_ago)
        .unwrap();
    let kept = outbox.join("notes.txt");
    std::fs::write(&kept, b"an operator's file").unwrap();

    let app = crate::common::start_in_process(crate::common::test_config(dir.path()));
    crate::common::wait_until(
        std::time::Duration::from_secs(10),
        "the unfinished email is gone",
        || !leftover.exists(),
    );
    assert!(kept.exists(), "other files stay");
    // And the outbox still works.
    user_with_generated_password(&app);
    assert_eq!(outbox_files(&outbox), 1);
}

fn outbox_files(outbox: &std::path::Path) -> usize {
    std::fs::read_dir(outbox)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .count()
}
