//! `[dev] seed_file`, `POST /admin/seed` and `iamd seed`.

use super::*;
use crate::common::{unique, Binary};
use serde_json::Value;
use std::process::Command;

#[test]
fn a_server_started_with_the_example_seed_answers_the_seeded_data() {
    let app = seeded_app(false);
    assert_eq!(app.admin_key, ROOT_KEY);
    let me = app.get("/v3/accounts/me").expect(200).clone();
    assert_eq!(me["id"], ROOT_ID);
    assert_eq!(
        emails(&app, "/v3/users"),
        [
            "admin@iamd.local",
            "alice@example.com",
            "bob@example.com",
            "carol@example.com"
        ]
    );
    let carol = app
        .get("/v3/users?email__eq=carol@example.com")
        .expect(200)
        .clone();
    assert_eq!(carol["data"][0]["status"], "INACTIVE");
    assert_eq!(carol["data"][0]["full_name"], "Carol Left");

    // The keys are the given ones, owned and grouped as the file says.
    let ci = app.with_key(CI_KEY);
    let key = ci.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(key["name"], "ci");
    assert_eq!(
        ci.get("/v3/users/me").expect(200)["email"],
        "alice@example.com"
    );
    let operator = app.with_key(OPERATOR_KEY);
    assert_eq!(
        operator.get("/v3/users/me").expect(200)["email"],
        "bob@example.com"
    );
    // Not an administrator: the operators group grants nothing more.
    operator
        .post("/v3/policy-groups", &serde_json::json!({"name": "mine"}))
        .expect_error(403);

    let groups = app
        .get("/v3/policy-groups?name__eq=operators")
        .expect(200)
        .clone();
    let group_id = groups["data"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(groups["data"][0]["user_count"], 1);
    assert_eq!(groups["data"][0]["apikey_count"], 1);
    assert_eq!(
        emails(&app, &format!("/v3/policy-groups/{group_id}/users")),
        ["bob@example.com"]
    );

    let certs = app.get("/v3/trusted-certificates").expect(200).clone();
    assert_eq!(certs["data"][0]["name"], "example-device-ca");
    assert_eq!(certs["data"][0]["service"], "lwm2m");
    assert_eq!(certs["data"][0]["subject"], "CN=iamd example device CA");
    assert_eq!(
        app.get("/v3/branding-colors/light/primary").expect(200)["color"],
        "#0b5fff"
    );
    assert_eq!(
        app.get("/v3/branding-colors/dark/primary").expect(200)["color"],
        "#7aa7ff"
    );

    // The tenant has the id its key names, its users and colors.
    let acme = app.with_key(ACME_KEY);
    let account = acme.get("/v3/accounts/me").expect(200).clone();
    assert_eq!(account["id"], ACME_ID);
    assert_eq!(account["display_name"], "Acme Devices");
    assert_eq!(account["parent_id"], ROOT_ID);
    assert_eq!(
        emails(&acme, "/v3/users"),
        ["admin@acme.example", "dave@acme.example"]
    );
    assert_eq!(
        acme.get("/v3/branding-colors/light/primary").expect(200)["color"],
        "#ff6600"
    );
    let tenants = app.get("/v3/accounts").expect(200).clone();
    assert_eq!(tenants["data"][0]["id"], ACME_ID);
    assert_eq!(tenants["total_count"], 1);
}

fn seed_body(app: &crate::common::TestApp, text: &str) -> crate::common::Resp {
    app.raw(
        "POST",
        "/admin/seed",
        Some(("application/yaml", text.as_bytes())),
        &[],
    )
}

#[test]
fn a_second_run_changes_nothing() {
    let app = seeded_app(true);
    let users = stable(&app, "/v3/users");
    let keys = stable(&app, "/v3/api-keys");
    let text = std::fs::read_to_string(example_seed()).unwrap();
    let again = seed_body(&app, &text);
    let created = &again.expect(200)["created"];
    for kind in [
        "tenants",
        "groups",
        "users",
        "api_keys",
        "trusted_certificates",
        "branding_colors",
    ] {
        assert_eq!(created[kind], 0, "{kind}: {created}");
    }
    assert_eq!(stable(&app, "/v3/users"), users);
    assert_eq!(stable(&app, "/v3/api-keys"), keys);
}

#[test]
fn a_bad_entry_changes_nothing_and_is_named() {
    let app = seeded_app(true);
    let users = stable(&app, "/v3/users");
    let groups = app.get("/v3/policy-groups").expect(200).clone();
    // The first entries are fine; the last one names a group nobody made.
    let text = "groups:\n  - name: new-group\nusers:\n  - email: new@example.com\n  - email: eve@example.com\n    groups: [no-such-group]\n";
    let resp = seed_body(&app, text);
    let body = resp.expect_field_error(400, "root.users[1] (eve@example.com)");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no-such-group"),
        "{body}"
    );
    assert_eq!(stable(&app, "/v3/users"), users);
    assert_eq!(app.get("/v3/policy-groups").expect(200), &groups);

    // A syntax or schema error names its line.
    let resp = seed_body(&app, "users:\n  - email: x@example.com\n    colour: red\n");
    let body = resp.expect_field_error(400, "seed");
    let message = body["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown field `colour`") && message.contains("line 3"),
        "{message}"
    );
    assert_eq!(stable(&app, "/v3/users"), users);
}

#[test]
fn the_seed_route_is_not_there_without_dev_mode() {
    let app = seeded_app(false);
    let body = seed_body(&app, "groups: []\n").expect_error(404).clone();
    assert_eq!(body["type"], "not_found");
}

fn iamd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_iamd"))
        .args(args)
        .env_clear()
        .output()
        .expect("iamd runs")
}

#[test]
fn iamd_seed_applies_a_file_to_a_stopped_server_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    // A first start makes the root account the example's keys belong to.
    let server = Binary::start(&data, &[("IAMD_ADMIN_API_KEY", ROOT_KEY)]);
    assert!(server.terminate().success());
    let seed = example_seed();
    let seed_arg = seed.to_str().unwrap();

    // A bad file first: it names its line and touches nothing.
    let bad = dir.path().join(format!("{}.yaml", unique("bad")));
    std::fs::write(
        &bad,
        "users:\n  - email: a@example.com\n  - email: [not, text]\n",
    )
    .unwrap();
    let out = iamd(&["seed", bad.to_str().unwrap(), "--data-dir", data_arg]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");

    let out = iamd(&["seed", seed_arg, "--data-dir", data_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("created 1 tenants, 2 groups, 4 users, 3 API keys, 1 trusted certificates, 4 branding colors"),
        "{text}"
    );
    let out = iamd(&["seed", seed_arg, "--data-dir", data_arg]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing new"));

    let server = Binary::start(&data, &[("IAMD_ADMIN_API_KEY", ROOT_KEY)]);
    let users: Value = server
        .client
        .with_key(CI_KEY)
        .get("/v3/users")
        .expect(200)
        .clone();
    assert_eq!(users["total_count"], 4);
    assert!(server.terminate().success());
}

#[test]
fn iamd_seed_url_applies_a_file_to_a_running_dev_server() {
    let app = seeded_app(true);
    let seed = example_seed();
    let out = iamd(&[
        "seed",
        seed.to_str().unwrap(),
        "--url",
        &app.base,
        "--api-key",
        ROOT_KEY,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\"users\":0") && text.contains("\"tenants\":0"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "tenants:\n  - display_name: X\n    admin_email: nope\n",
    )
    .unwrap();
    let out = iamd(&[
        "seed",
        bad.to_str().unwrap(),
        "--url",
        &app.base,
        "--api-key",
        ROOT_KEY,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tenants[0]: admin_email: not an email address"),
        "{err}"
    );
    assert_eq!(app.get("/v3/accounts").expect(200)["total_count"], 1);

    // Without dev mode the command says what to turn on.
    let plain = seeded_app(false);
    let out = iamd(&[
        "seed",
        seed.to_str().unwrap(),
        "--url",
        &plain.base,
        "--api-key",
        ROOT_KEY,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IAMD_DEV_ENABLED=true"));
}

#[test]
fn a_bad_seed_file_stops_the_first_start_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "users:\n  - email: a@example.com\n    groups: nope\n").unwrap();
    let data = dir.path().join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_iamd"))
        .env_clear()
        .env("IAMD_DATA_DIR", &data)
        .env("IAMD_BIND", "127.0.0.1:0")
        .env("IAMD_DEV_SEED_FILE", &bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("line 3"), "{err}");
    // No root account was made: the next start (with a good file) is still the first.
    assert!(!data.join("admin-api-key").exists());
}
