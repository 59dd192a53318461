//! Sign-in security: no secret on disk in clear, no user enumeration by timing, sessions
//! bound to their tenant, a burst of wrong logins does not starve the HTTP workers.

use super::{app_with, email, login, person, session, PASSWORD};
use crate::common::unique;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Every file under `dir` but the outbox (whose emails carry the links they are for).
fn files(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "outbox") {
                files(&path, out);
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
}

#[test]
fn session_tokens_client_tokens_and_scratch_codes_are_never_on_disk_in_clear() {
    // On sled in the PostgreSQL run too: the scan reads the database's files.
    let (app, clock) = super::app_on_sled_with_clock();
    let user = person(&app, json!({}));
    let r = login(
        &app,
        json!({"username": email(&user), "password": PASSWORD}),
    );
    let token = r.expect(200)["token"].as_str().unwrap().to_string();
    let me = app.with_key(&token);
    let secret = me.post("/auth/totp", &json!({})).expect(200)["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    let code = iamd::auth::totp::code_at(&raw, clock.now_millis());
    let codes = me
        .post("/auth/totp/confirm", &json!({"otp": code}))
        .expect(200)["totp_scratch_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let admin_key = app.admin_key.clone();
    let public = &admin_key[..admin_key.len() - 32];
    let body =
        format!("grant_type=client_credentials&client_id={public}&client_secret={admin_key}");
    let client = app.anonymous().raw(
        "POST",
        "/auth/token",
        Some(("application/x-www-form-urlencoded", body.as_bytes())),
        &[],
    );
    let client_token = client.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    me.get("/v3/users/me").expect(200);
    let data_dir = app.data_dir.clone();
    let _dir = app.stop();
    let mut all = Vec::new();
    files(&data_dir, &mut all);
    assert!(all.len() > 3, "the database files were read");
    let mut secrets = vec![token, client_token];
    secrets.extend(codes);
    for (path, bytes) in &all {
        for s in &secrets {
            let found = bytes.windows(s.len()).any(|w| w == s.as_bytes());
            assert!(!found, "{} holds a secret in clear", path.display());
        }
    }
}

#[test]
fn wrong_passwords_of_known_and_unknown_users_take_about_the_same_time() {
    let (app, _) = app_with(|c| {
        c.auth.login_failures_per_user = 1000;
        c.auth.login_failures_per_address = 1000;
    });
    let known = person(&app, json!({}));
    // A RESET user's generated password has a cheap hash: the dummy check pads it.
    let reset_email = format!("{}@example.com", unique("r"));
    app.post("/v3/users", &json!({"email": reset_email}))
        .expect(201);
    let once = |username: &str| {
        let start = Instant::now();
        login(
            &app,
            json!({"username": username, "password": "wrong password"}),
        )
        .expect_error(401);
        start.elapsed()
    };
    once("warm-up@example.com");
    // Interleaved rounds, each in a rotating order, and medians: a stall of the machine (it
    // is shared) lands on one sample of one case, not on a whole case.
    let cases = [
        email(&known).to_string(),
        "nobody@example.com".into(),
        reset_email,
    ];
    let mut samples: [Vec<Duration>; 3] = Default::default();
    for round in 0..9 {
        for i in 0..3 {
            let case = (round + i) % 3;
            samples[case].push(once(&cases[case]));
        }
    }
    let [known, unknown, reset] = samples.map(|mut runs| {
        runs.sort();
        runs[runs.len() / 2]
    });
    for (name, t) in [("unknown", unknown), ("reset", reset)] {
        let ratio = t.as_secs_f64() / known.as_secs_f64();
        assert!(
            (0.5..2.0).contains(&ratio),
            "{name}: {t:?} against {known:?}"
        );
    }
}

#[test]
fn a_session_of_one_tenant_is_useless_on_anothers_routes() {
    let (app, _) = app_with(|_| {});
    let tenant = app
        .post("/v3/accounts", &crate::tenants::tenant_body(json!({})))
        .expect(201)
        .clone();
    let tenant_id = tenant["id"].as_str().unwrap();
    let root_user = person(&app, json!({}));
    let root_id = root_user["account_id"].as_str().unwrap();
    let admin_email = tenant["admin_email"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let tenant_admin = if admin_email.is_empty() {
        let users = app
            .get(&format!("/v3/accounts/{tenant_id}/users"))
            .expect(200)
            .clone();
        users["data"][0]["email"].as_str().unwrap().to_string()
    } else {
        admin_email
    };
    let r = login(
        &app,
        json!({"username": tenant_admin, "password": PASSWORD, "account": tenant_id}),
    );
    let t = app.with_key(r.expect(200)["token"].as_str().unwrap());
    assert_eq!(t.get("/v3/accounts/me").expect(200)["id"], tenant_id);
    let foreign_user = format!("/v3/users/{}", root_user["id"].as_str().unwrap());
    t.get(&foreign_user).expect_error(404);
    t.put(&foreign_user, &json!({"full_name": "x"}))
        .expect_error(404);
    t.get(&format!("/v3/accounts/{root_id}/users"))
        .expect_error(403);
    // The root admin's session manages the tenant, as the root admin's key does.
    let root = session(&app, "admin");
    root.get(&format!("/v3/accounts/{tenant_id}/users"))
        .expect(200);
}

#[test]
fn a_burst_of_wrong_logins_does_not_starve_the_http_workers() {
    let (app, _) = app_with(|c| {
        c.auth.login_failures_per_user = 1000;
        c.auth.login_failures_per_address = 1000;
    });
    let user = person(&app, json!({}));
    let wrong = json!({"username": email(&user), "password": "wrong password"});
    // What one wrong login costs on this machine now (mostly the password hash).
    let mut alone: Vec<Duration> = (0..3)
        .map(|_| {
            let start = Instant::now();
            login(&app, wrong.clone()).expect_error(401);
            start.elapsed()
        })
        .collect();
    alone.sort();
    let hash = alone[1];
    const BURST: usize = 12;
    let finished = Arc::new(AtomicUsize::new(0));
    let burst: Vec<_> = (0..BURST)
        .map(|_| {
            let (client, wrong, finished) = (app.client.clone(), wrong.clone(), finished.clone());
            std::thread::spawn(move || {
                let status = login(&client, wrong).status;
                finished.fetch_add(1, Ordering::SeqCst);
                status
            })
        })
        .collect();
    // Plain requests while the burst runs: only those answered before its last login count.
    let mut during = Vec::new();
    while finished.load(Ordering::SeqCst) < BURST {
        let start = Instant::now();
        app.anonymous().get("/health").expect(200);
        let took = start.elapsed();
        if finished.load(Ordering::SeqCst) < BURST {
            during.push(took);
        }
    }
    for b in burst {
        assert_eq!(b.join().unwrap(), 401);
    }
    // Hashing on the HTTP workers would hold a plain request behind whole hashes (several:
    // BURST logins queue on two workers; seen: 14 times one login). On the blocking pool
    // the hashes only share the CPU with it (seen: at most half of one login).
    assert!(
        during.len() >= 3,
        "only {} requests during the burst",
        during.len()
    );
    let slowest = *during.iter().max().unwrap();
    assert!(
        slowest < hash * 2,
        "a GET /health took {slowest:?} during the burst ({} answered); one wrong login {hash:?}",
        during.len()
    );
}
