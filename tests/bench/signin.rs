//! The sign-in cases of `load` (issue 16), on the small data set's server: what a login
//! costs (it runs the password hash, on the blocking pool) and an authenticated GET with a
//! reference token (`rt_...`, looked up by digest and its idle time renewed) measured in
//! alternating rounds with the same GET under the API key.

use crate::http::{get, load, once, post, Stats};
use crate::servers::{measured, Iamd};
use crate::{Report, ROUNDS};
use std::collections::BTreeMap;
use std::time::Duration;

const PASSWORD: &str = "a long enough bench password";

/// `POST /auth/login` of `username`: anonymous, as a person's browser sends it.
fn login_request(username: &str) -> Vec<u8> {
    let body = format!("{{\"username\":\"{username}\",\"password\":\"{PASSWORD}\"}}");
    format!(
        "POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Adds the sign-in rows to `r`; `key` is the admin key of `server`, `ceiling` the bare
/// handler's req/s per concurrency.
pub fn run(
    r: &mut Report,
    server: &Iamd,
    key: &str,
    levels: &[usize],
    d: Duration,
    ceiling: &BTreeMap<usize, f64>,
) {
    let addr = server.addr;
    let username = "bench_login";
    let user = post(
        "/v3/users",
        key,
        &format!(
            "{{\"email\":\"bench-login@bench.example\",\"username\":\"{username}\",\"password\":\"{PASSWORD}\"}}"
        ),
    );
    match once(addr, &user).unwrap() {
        (201, _) => {}
        (status, body) => {
            let why = format!("user answered {status}: {}", String::from_utf8_lossy(&body));
            return r.fail("POST /auth/login", &why);
        }
    }
    let login = login_request(username);
    let token = match once(addr, &login).unwrap() {
        (200, body) => serde_json::from_slice::<serde_json::Value>(&body).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string(),
        (status, body) => {
            let why = format!(
                "login answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
            return r.fail("POST /auth/login", &why);
        }
    };
    let by_key = get("/v3/users/me", Some(key));
    let by_session = get("/v3/users/me", Some(&token));
    for &c in &levels[..2] {
        let (mut keyed, mut session) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            keyed.push(measured(server, || {
                load(addr, c, d / 2, 200, &|_| by_key.clone())
            }));
            session.push(measured(server, || {
                load(addr, c, d / 2, 200, &|_| by_session.clone())
            }));
        }
        let bare = ceiling.get(&c).copied();
        let what = "GET /v3/users/me (API key, same rounds as the rt_ token)";
        r.row(what, c, &Stats::merge(keyed), bare);
        let what = "GET /v3/users/me (rt_ session token)";
        r.row(what, c, &Stats::merge(session), bare);
    }
    // Every answer is a new session: a durable write besides the hash.
    for &c in &levels[..2] {
        let s = measured(server, || load(addr, c, d, 200, &|_| login.clone()));
        r.row("POST /auth/login (password hash + session)", c, &s, None);
    }
}
