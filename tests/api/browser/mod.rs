//! The web console in a real browser: headless Chromium from Debian over WebDriver
//! (chromedriver), driving the console served by an in-process server. Each journey saves
//! a screenshot under target/browser/ and fails on any error in the browser's console.
//! Without /usr/bin/chromium the journeys are skipped, except in CI (`.ci/run` installs it).

mod access;
mod admin;
mod cookie;
mod driver;
mod journeys;
mod profile;
mod serving;

use crate::auth::{app_with_clock, PASSWORD};
use crate::common::TestApp;
use driver::Browser;
use iamd::clock::Clock;
use serde_json::json;

/// A server and a browser on its console, or None where no browser is installed.
fn setup() -> Option<(TestApp, Clock, Browser)> {
    if !driver::available() {
        return None;
    }
    let (app, clock) = app_with_clock();
    let browser = Browser::start();
    Some((app, clock, browser))
}

/// The TOTP code of a base32 `secret` at the app's clock.
fn totp(secret: &str, clock: &Clock) -> String {
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.trim().as_bytes())
        .expect("a base32 secret");
    iamd::auth::totp::code_at(&raw, clock.now_millis())
}

/// Opens the sign-in page and signs in as `username` (with `otp` if given).
fn sign_in(app: &TestApp, b: &Browser, username: &str, password: &str, otp: Option<&str>) {
    b.goto(&format!("{}/console/#/signin", app.base));
    b.on("signin");
    b.fill("#signin-form", "username", username);
    b.fill("#signin-form", "password", password);
    if let Some(otp) = otp {
        b.fill("#signin-form", "otp", otp);
    }
    b.submit("#signin-form");
    b.on("dashboard");
}

/// Signs in as the root admin (username `admin`? no: by the admin's email).
fn sign_in_admin(app: &TestApp, b: &Browser) {
    let me = app.get("/v3/users/me").expect(200).clone();
    sign_in(app, b, me["email"].as_str().unwrap(), PASSWORD, None);
}

/// A user in the Developers group (no admin rights) with `PASSWORD`; returns its email.
fn developer(app: &TestApp) -> String {
    let u = crate::auth::person(app, json!({}));
    let groups = app.get("/v3/policy-groups?limit=100").expect(200).clone();
    let dev = groups["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Developers")
        .expect("a Developers group")["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/v3/policy-groups/{dev}"),
        &json!({"users": [u["id"]]}),
    )
    .expect(200);
    u["email"].as_str().unwrap().to_string()
}
