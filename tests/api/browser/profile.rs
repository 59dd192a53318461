//! My profile: new scratch codes (shown once, downloadable) and signing out one chosen
//! session of the active sessions list.

use super::{setup, sign_in, totp};
use crate::auth::{login, person, session, PASSWORD};
use serde_json::json;

/// A person with TOTP on asks for new scratch codes with a current code: they are shown
/// once with a download, a new one signs in, an old one no longer does.
#[test]
fn a_person_gets_new_scratch_codes_once_and_downloads_them() {
    let Some((app, clock, b)) = setup() else {
        return;
    };
    let user = person(&app, json!({}));
    let email = user["email"].as_str().unwrap().to_string();
    let me = session(&app, &email);
    let secret = me.post("/auth/totp", &json!({})).expect(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let old = me.post("/auth/totp/confirm", &json!({"otp": totp(&secret, &clock)}));
    let old: Vec<String> =
        serde_json::from_value(old.expect(200)["totp_scratch_codes"].clone()).unwrap();
    clock.advance(30_000);
    sign_in(&app, &b, &email, PASSWORD, Some(&totp(&secret, &clock)));
    b.click("nav a[href='#/profile']");
    b.on("profile");
    clock.advance(30_000);
    b.fill("#scratch-codes-form", "otp", &totp(&secret, &clock));
    b.submit("#scratch-codes-form");
    let shown = b.wait_text("#scratch-codes", "Scratch codes");
    b.click("#scratch-codes-download");
    let file = b.downloaded("iamd-scratch-codes.txt");
    let codes: Vec<&str> = file.lines().collect();
    assert_eq!(codes.len(), 10, "{file}");
    for c in &codes {
        assert!(shown.contains(c), "{c} not shown");
        assert!(!old.iter().any(|o| o == c));
    }
    b.screenshot("profile-new-scratch-codes");
    let with = |otp: &str| json!({"username": email, "password": PASSWORD, "otp": otp});
    login(&app, with(&old[0])).expect_field_error(401, "otp");
    login(&app, with(codes[0])).expect(200);
    // Shown once: the page opened again shows none.
    b.click("nav a[href='#/dashboard']");
    b.on("dashboard");
    b.click("nav a[href='#/profile']");
    b.on("profile");
    assert!(!b.text("#main").contains(codes[1]));
    b.assert_no_console_errors();
}

/// Of three sessions of one person (the browser's and two others), signing out one chosen
/// in the list ends that one only.
#[test]
fn a_person_signs_out_one_chosen_session_and_the_others_stay() {
    let Some((app, clock, b)) = setup() else {
        return;
    };
    let user = person(&app, json!({}));
    let email = user["email"].as_str().unwrap().to_string();
    sign_in(&app, &b, &email, PASSWORD, None);
    clock.advance(1_000);
    let a = session(&app, &email);
    clock.advance(1_000);
    let other = session(&app, &email);
    let sessions = a
        .get("/v3/users/me?include=active_sessions")
        .expect(200)
        .clone();
    let sessions = sessions["active_sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 3);
    // Oldest first: the browser's, a's, then the other's.
    let a_ref = sessions[1]["reference_token"].as_str().unwrap();
    b.click("nav a[href='#/profile']");
    b.on("profile");
    assert!(
        b.text("#active-sessions").contains("This session"),
        "the browser's own session is marked"
    );
    b.click(&format!(
        "#active-sessions [data-reference='{a_ref}'] button"
    ));
    b.click_button("Yes, sign out");
    b.wait("the chosen session ended", |_| {
        (a.get("/v3/users/me").status == 401).then_some(())
    });
    other.get("/v3/users/me").expect(200);
    b.wait("the list without it", |b| {
        let rows = b.script(
            "return document.querySelectorAll('#active-sessions tbody tr').length;",
            json!([]),
        );
        (rows == json!(2)).then_some(())
    });
    // The browser's own session goes on.
    b.click("nav a[href='#/dashboard']");
    b.on("dashboard");
    b.wait_text("#account-facts", &email);
    b.screenshot("profile-sessions");
    b.assert_no_console_errors();
}
