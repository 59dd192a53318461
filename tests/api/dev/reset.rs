//! `POST /admin/reset`: back to the seeded state in one step.

use super::*;
use serde_json::json;

/// Every seeded entity's GET answers, root and tenant.
fn seeded_answers(app: &TestApp) -> Vec<serde_json::Value> {
    let acme = app.with_key(ACME_KEY);
    let mut out = Vec::new();
    for path in [
        "/v3/accounts/me",
        "/v3/accounts",
        "/v3/users",
        "/v3/api-keys",
        "/v3/policy-groups",
        "/v3/trusted-certificates",
        "/v3/branding-colors/light",
        "/v3/branding-colors/dark",
        "/v3/branding-images/light",
        "/v3/branding-images/dark",
    ] {
        out.push(stable(app, path));
        if path != "/v3/accounts" {
            out.push(stable(&acme, path));
        }
    }
    for user in app.get("/v3/users").expect(200)["data"].as_array().unwrap() {
        out.push(stable(
            app,
            &format!("/v3/users/{}", user["id"].as_str().unwrap()),
        ));
    }
    out
}

#[test]
fn reset_after_changes_gives_the_seeded_answers_again() {
    let app = seeded_app(true);
    let before = seeded_answers(&app);

    // Changes of every kind: a new user and group, a deleted and an edited user, a new key,
    // a color, a deleted certificate, a new tenant.
    app.post("/v3/users", &json!({"email": "new@example.com"}))
        .expect(201);
    app.post("/v3/policy-groups", &json!({"name": "later"}))
        .expect(201);
    let users = app
        .get("/v3/users?email__eq=carol@example.com")
        .expect(200)
        .clone();
    let carol = users["data"][0]["id"].as_str().unwrap().to_string();
    app.delete(&format!("/v3/users/{carol}")).expect(204);
    let alice = app.get("/v3/users?email__eq=alice@example.com").expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.put(
        &format!("/v3/users/{alice}"),
        &json!({"full_name": "Someone Else"}),
    )
    .expect(200);
    app.post("/v3/api-keys", &json!({"name": "extra"}))
        .expect(201);
    app.put(
        "/v3/branding-colors/light/primary",
        &json!({"color": "#000000"}),
    )
    .expect(200);
    let cert = app.get("/v3/trusted-certificates").expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(&format!("/v3/trusted-certificates/{cert}"))
        .expect(204);
    app.post(
        "/v3/accounts",
        &json!({"display_name": "Later", "admin_email": "l@example.com", "end_market": "IT"}),
    )
    .expect(201);
    app.with_key(ACME_KEY)
        .post("/v3/users", &json!({"email": "x@acme.example"}))
        .expect(201);
    // Images: the seeded light logo replaced (by the dark one's bytes), the dark one cleared.
    app.raw(
        "POST",
        "/v3/branding-images/light/brand_logo_square/upload",
        Some(("image/png", &example_dark_logo())),
        &[],
    )
    .expect(201);
    app.post(
        "/v3/branding-images/dark/brand_logo_square/clear",
        &json!({}),
    )
    .expect(204);
    assert_eq!(
        image_bytes(&app, "/v3", "light", "brand_logo_square"),
        Some(example_dark_logo())
    );
    assert_ne!(seeded_answers(&app), before);

    let started = std::time::Instant::now();
    let body = app.post("/admin/reset", &json!({})).expect(200).clone();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(body["object"], "reset");
    assert_eq!(seeded_answers(&app), before);
    assert_eq!(
        image_bytes(&app, "/v3", "light", "brand_logo_square"),
        Some(example_logo())
    );
    assert_eq!(
        image_bytes(&app, "/v3", "dark", "brand_logo_square"),
        Some(example_dark_logo())
    );
    // The seeded keys work as before, and a key made after the seed no longer does.
    assert_eq!(
        app.with_key(CI_KEY).get("/v3/api-keys/me").expect(200)["name"],
        "ci"
    );
}

#[test]
fn a_key_made_after_the_baseline_stops_working_at_reset() {
    let app = seeded_app(true);
    let extra = app
        .post("/v3/api-keys", &json!({"name": "extra"}))
        .expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    app.with_key(&extra).get("/v3/api-keys/me").expect(200);
    app.post("/admin/reset", &json!({})).expect(200);
    app.with_key(&extra)
        .get("/v3/api-keys/me")
        .expect_error(401);
}

#[test]
fn reset_without_a_seed_returns_to_the_first_start_with_the_same_key() {
    let app = crate::common::spawn_app_with(|c| c.dev.enabled = true);
    let before = stable(&app, "/v3/users");
    app.post("/v3/users", &json!({"email": "new@example.com"}))
        .expect(201);
    app.post("/admin/reset", &json!({})).expect(200);
    assert_eq!(stable(&app, "/v3/users"), before);
}

#[test]
fn reset_is_for_root_admins_and_absent_without_dev_mode() {
    let app = seeded_app(false);
    let body = app
        .post("/admin/reset", &json!({}))
        .expect_error(404)
        .clone();
    assert_eq!(body["type"], "not_found");

    let app = seeded_app(true);
    let body = app
        .with_key(OPERATOR_KEY)
        .post("/admin/reset", &json!({}))
        .expect_error(403)
        .clone();
    assert!(
        body["message"].as_str().unwrap().contains("root account"),
        "{body}"
    );
    // A tenant's administrator is no root admin.
    app.with_key(ACME_KEY)
        .post("/admin/reset", &json!({}))
        .expect_error(403);
}

#[test]
fn the_baseline_survives_a_restart_of_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = crate::common::test_config(dir.path());
        c.bootstrap.admin_api_key = ROOT_KEY.into();
        c.dev.seed_file = example_seed().display().to_string();
        c.dev.enabled = true;
        c
    };
    let app = crate::common::start_in_process(config());
    let before = stable(&app, "/v3/users");
    app.post("/v3/users", &json!({"email": "first-run@example.com"}))
        .expect(201);
    app.stop();
    assert!(dir.path().join("dev-baseline").exists());

    // The second start is no first start: it neither seeds again nor moves the baseline.
    // (The test harness reads the key of a later start from the key file.)
    std::fs::write(dir.path().join("admin-api-key"), ROOT_KEY).unwrap();
    let app = crate::common::start_in_process(config());
    assert_eq!(app.get("/v3/users").expect(200)["total_count"], 5);
    app.post("/v3/users", &json!({"email": "second-run@example.com"}))
        .expect(201);
    app.post("/admin/reset", &json!({})).expect(200);
    assert_eq!(stable(&app, "/v3/users"), before);
    app.stop();
}
