//! Failed logins are throttled per username and per client address, never for good.

use super::{app_with, email, login, person, PASSWORD};
use serde_json::json;

#[test]
fn a_username_is_locked_out_for_a_while_after_failed_logins_then_works_again() {
    let (app, clock) = app_with(|c| {
        c.auth.login_failures_per_user = 3;
        c.auth.lockout_secs = 120;
    });
    let user = person(&app, json!({}));
    let wrong = json!({"username": email(&user), "password": "not the password"});
    for _ in 0..3 {
        login(&app, wrong.clone()).expect_error(401);
    }
    // Even the right password waits: the lockout is decided before any password is checked.
    let right = json!({"username": email(&user), "password": PASSWORD});
    let r = login(&app, right.clone());
    assert_eq!(r.expect_error(429)["type"], "too_many_requests");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    // The sign-in clock also runs with real time: a loaded machine may take seconds between
    // the lockout and this answer.
    assert!((100..=120).contains(&wait), "the lockout's length: {wait}");
    // Another user from the same address is not affected.
    let other = person(&app, json!({}));
    login(
        &app,
        json!({"username": email(&other), "password": PASSWORD}),
    )
    .expect(200);
    // Still locked near the end. The wait left is read back just before the clock moves to
    // five seconds before the end: whatever real time the steps above took (hashes on a
    // loaded machine), only one answer without a hash lies between reading and checking.
    let retry_after =
        |r: &crate::common::Resp| -> i64 { r.header("retry-after").unwrap().parse().unwrap() };
    let r = login(&app, right.clone());
    r.expect_error(429);
    let left = retry_after(&r);
    assert!(left > 5, "{left}");
    clock.advance((left - 5) * 1000);
    let r = login(&app, right.clone());
    r.expect_error(429);
    let left = retry_after(&r);
    assert!((1..=5).contains(&left), "{left}");
    clock.advance(left * 1000);
    login(&app, right).expect(200);
}

#[test]
fn an_unknown_username_is_locked_out_exactly_like_a_known_one() {
    let (app, _) = app_with(|c| c.auth.login_failures_per_user = 2);
    let unknown = json!({"username": "nobody@example.com", "password": "guess"});
    login(&app, unknown.clone()).expect_error(401);
    login(&app, unknown.clone()).expect_error(401);
    login(&app, unknown).expect_error(429);
}

#[test]
fn an_address_that_fails_across_usernames_is_locked_out_for_a_while() {
    let (app, clock) = app_with(|c| {
        c.auth.login_failures_per_address = 4;
        c.auth.lockout_secs = 60;
    });
    let user = person(&app, json!({}));
    for n in 0..4 {
        let guess = json!({"username": format!("guess{n}@example.com"), "password": "x"});
        login(&app, guess).expect_error(401);
    }
    let right = json!({"username": email(&user), "password": PASSWORD});
    let r = login(&app, right.clone());
    r.expect_error(429);
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((45..=60).contains(&wait), "the lockout's length: {wait}");
    clock.advance(wait * 1000);
    login(&app, right).expect(200);
}
