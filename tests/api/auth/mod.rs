//! `/auth`: people sign in. Helpers shared by the sign-in tests.

mod history;
mod invitations;
mod openapi;
mod passwords;
mod recovery;
mod security;
mod sessions;
mod throttle;
mod token;
pub mod totp;

use crate::common::{spawn_app_with, unique, Client, Resp, TestApp};
use iamd::clock::Clock;
use serde_json::{json, Value};

pub const PASSWORD: &str = "a long enough password";

/// An app whose sign-in clock the test moves, and whose root admin has `PASSWORD`.
pub fn app_with_clock() -> (TestApp, Clock) {
    app_with(|_| {})
}

pub fn app_with(tweak: impl FnOnce(&mut iamd::config::Config)) -> (TestApp, Clock) {
    let clock = Clock::controlled();
    let app = spawn_app_with(|c| {
        c.auth.clock = clock.clone();
        c.bootstrap.admin_password = PASSWORD.into();
        tweak(c);
    });
    (app, clock)
}

/// `app_with_clock` on sled in every run (for tests that scan the data directory's files).
pub fn app_on_sled_with_clock() -> (TestApp, Clock) {
    let clock = Clock::controlled();
    let app = crate::common::spawn_app_on_sled_with(|c| {
        c.auth.clock = clock.clone();
        c.bootstrap.admin_password = PASSWORD.into();
    });
    (app, clock)
}

/// A new ACTIVE user with `PASSWORD` and a username; returns its read model.
pub fn person(app: &TestApp, extra: Value) -> Value {
    let u = unique("p");
    let mut body = json!({
        "email": format!("{u}@example.com"),
        "username": u,
        "password": PASSWORD,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v3/users", &body).expect(201).clone()
}

pub fn login(app: &Client, body: Value) -> Resp {
    app.anonymous().post("/auth/login", &body)
}

/// Logs `username` in with `PASSWORD`; returns a client with the session token.
pub fn session(app: &Client, username: &str) -> Client {
    let r = login(app, json!({"username": username, "password": PASSWORD}));
    let token = r.expect(200)["token"].as_str().unwrap().to_string();
    app.with_key(&token)
}

pub fn email(user: &Value) -> &str {
    user["email"].as_str().unwrap()
}

/// Minutes, in milliseconds.
pub fn minutes(n: i64) -> i64 {
    n * 60_000
}
