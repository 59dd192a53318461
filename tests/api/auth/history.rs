//! `login_history`, `last_login_time` and `include=active_sessions`.

use super::{app_with_clock, email, login, minutes, person, session, PASSWORD};
use crate::common::Client;
use serde_json::{json, Value};

fn login_as(app: &Client, agent: &str, body: &Value) -> u16 {
    let bytes = body.to_string();
    app.anonymous()
        .raw(
            "POST",
            "/auth/login",
            Some(("application/json", bytes.as_bytes())),
            &[("User-Agent", agent)],
        )
        .status
}

#[test]
fn the_last_five_attempts_are_kept_newest_first_failures_included() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["login_history"], json!([]));
    assert_eq!(user["last_login_time"], 0);
    let right = json!({"username": email(&user), "password": PASSWORD});
    let wrong = json!({"username": email(&user), "password": "not it"});
    let mut expected = Vec::new();
    for n in 0..6 {
        clock.advance(minutes(1));
        let success = n % 3 == 0;
        let agent = format!("agent-{n}");
        let status = login_as(&app, &agent, if success { &right } else { &wrong });
        assert_eq!(status, if success { 200 } else { 401 });
        expected.insert(0, (agent, success));
    }
    let got = app.get(&format!("/v3/users/{id}")).expect(200).clone();
    let history = got["login_history"].as_array().unwrap();
    let seen: Vec<(String, bool)> = history
        .iter()
        .map(|h| {
            (
                h["user_agent"].as_str().unwrap().to_string(),
                h["success"].as_bool().unwrap(),
            )
        })
        .collect();
    expected.truncate(5);
    assert_eq!(seen, expected, "{got}");
    for h in history {
        assert_eq!(h["ip_address"], "127.0.0.1");
        assert!(h["date"].as_str().unwrap().ends_with('Z'), "{h}");
    }
    // last_login_time: the last successful login (the fourth attempt), in milliseconds.
    let last_success = &history[2];
    assert_eq!(last_success["success"], true);
    let ms = got["last_login_time"].as_i64().unwrap();
    let date = iamd::clock::rfc3339(ms);
    assert_eq!(last_success["date"].as_str().unwrap(), date);
}

#[test]
fn active_sessions_lists_the_live_sessions_by_a_reference_that_is_not_a_bearer() {
    let (app, clock) = app_with_clock();
    let user = person(&app, json!({}));
    let id = user["id"].as_str().unwrap();
    let first = session(&app, email(&user));
    clock.advance(minutes(1));
    let second = session(&app, email(&user));
    let me = first
        .get("/v3/users/me?include=active_sessions")
        .expect(200)
        .clone();
    let sessions = me["active_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{me}");
    for s in sessions {
        assert_eq!(s["object"], "user-session");
        assert_eq!(s["account_id"], user["account_id"]);
        assert_eq!(s["ip_address"], "127.0.0.1");
        assert!(s["user_agent"].as_str().unwrap().starts_with("ureq"), "{s}");
        let reference = s["reference_token"].as_str().unwrap();
        for bearer in [&first, &second] {
            assert!(!bearer.key.as_deref().unwrap().contains(reference));
        }
        app.with_key(reference)
            .get("/v3/users/me")
            .expect_error(401);
        app.with_key(&format!("rt_{reference}"))
            .get("/v3/users/me")
            .expect_error(401);
    }
    assert!(sessions[0]["login_time"].as_str() < sessions[1]["login_time"].as_str());
    // Without the include there is no list.
    assert!(first
        .get("/v3/users/me")
        .expect(200)
        .get("active_sessions")
        .is_none());
    // An admin sees them by id; another non-admin may not.
    second.post("/auth/logout", &json!({})).expect(204);
    let by_admin = app
        .get(&format!("/v3/users/{id}?include=active_sessions"))
        .expect(200)
        .clone();
    assert_eq!(by_admin["active_sessions"].as_array().unwrap().len(), 1);
    let other = person(&app, json!({}));
    let other = session(&app, email(&other));
    other
        .get(&format!("/v3/users/{id}?include=active_sessions"))
        .expect_error(403);
    // An expired session is not listed.
    clock.advance(minutes(31));
    let listed = app
        .get(&format!("/v3/users/{id}?include=active_sessions"))
        .expect(200)
        .clone();
    assert_eq!(listed["active_sessions"], json!([]));
    let _ = login;
}
