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

    // Images: a file next to the seed file, and base64, served byte for byte.
    let logo = image_bytes(&app, "/v3", "light", "brand_logo_square");
    assert_eq!(logo, Some(example_logo()));
    let dark = image_bytes(&app, "/v3", "dark", "brand_logo_square");
    assert_eq!(dark, Some(example_dark_logo()));
    assert_eq!(image_bytes(&app, "/v3", "light", "brand_logo_email"), None);
    let tenant = image_bytes(&acme, "/v3", "light", "brand_logo_landscape");
    assert_eq!(tenant, Some(example_logo()));
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
    // Its image files inlined, as `iamd seed --url` sends it (a body cannot name files).
    let text = std::fs::read_to_string(example_seed()).unwrap();
    let dir = example_seed().parent().unwrap().to_path_buf();
    let text = iamd::dev::seed::inline_files("seed.yaml", &text, &dir).unwrap();
    let images = stable(&app, "/v3/branding-images/light");
    let again = seed_body(&app, &text);
    let created = &again.expect(200)["created"];
    for kind in [
        "tenants",
        "groups",
        "users",
        "api_keys",
        "trusted_certificates",
        "branding_colors",
        "branding_images",
    ] {
        assert_eq!(created[kind], 0, "{kind}: {created}");
    }
    assert_eq!(stable(&app, "/v3/users"), users);
    assert_eq!(stable(&app, "/v3/api-keys"), keys);
    assert_eq!(stable(&app, "/v3/branding-images/light"), images);
}

#[test]
fn bad_images_change_nothing_and_are_named() {
    use base64::Engine as _;
    let app = seeded_app(true);
    let groups = app.get("/v3/policy-groups").expect(200).clone();
    let images = stable(&app, "/v3/branding-images/light");
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let logo = b64(&example_logo());
    let gif = b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    let mut cut = example_logo();
    cut.truncate(cut.len() - 3);
    let cut = b64(&cut);
    let entry = "root.branding_images.light.brand_logo_email";
    // A good image and a new group first, then the bad entry: nothing of it is kept.
    let cases = [
        (
            format!("brand_logo_email: {{base64: {gif}}}"),
            entry,
            "not a valid PNG or JPEG",
        ),
        (
            format!("brand_logo_email: {{base64: {cut}}}"),
            entry,
            "not a valid PNG or JPEG",
        ),
        (
            "brand_logo_email: {base64: '%%%'}".into(),
            entry,
            "base64: not base64",
        ),
        (
            "brand_logo_email: {file: branding/logo-light.png}".into(),
            entry,
            "cannot name files",
        ),
        ("brand_logo_email: {}".into(), entry, "exactly one of file"),
        (
            format!("no_such_logo: {{base64: {logo}}}"),
            "root.branding_images.light.no_such_logo",
            "not an image reference",
        ),
    ];
    for (image, field, says) in cases {
        let text = format!(
            "groups:\n  - name: kept-if-good\nbranding_images:\n  light:\n    \
             brand_logo_portrait: {{base64: {logo}}}\n    {image}\n"
        );
        let body = seed_body(&app, &text)
            .expect_field_error(400, field)
            .clone();
        let message = body["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{image}: {message}");
        assert_eq!(app.get("/v3/policy-groups").expect(200), &groups);
        assert_eq!(stable(&app, "/v3/branding-images/light"), images);
    }

    // An image over the limit is refused as an upload would be.
    let big = seeded_app_with_image_limit(1024);
    let text = format!(
        "branding_images:\n  dark:\n    brand_logo_square: {{base64: {}}}\n",
        b64(&[example_logo(), vec![0; 2000]].concat())
    );
    let body = seed_body(&big, &text)
        .expect_field_error(400, "root.branding_images.dark.brand_logo_square")
        .clone();
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{body}"
    );

    // A file that is not there, at the first start: the start stops, naming it.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "branding_images:\n  light:\n    brand_logo_square: {file: gone.png}\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_iamd"))
        .env_clear()
        .env("IAMD_STORE_URL", "memory:")
        .env("IAMD_BIND", "127.0.0.1:0")
        .env("IAMD_DEV_SEED_FILE", &bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("root.branding_images.light.brand_logo_square: file: cannot read")
            && err.contains("gone.png"),
        "{err}"
    );
}

fn seeded_app_with_image_limit(limit: usize) -> TestApp {
    crate::common::spawn_app_with(|c| {
        c.store.url = "memory:".into();
        c.bootstrap.admin_api_key = ROOT_KEY.into();
        c.dev.enabled = true;
        c.max_image_bytes = limit;
    })
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
        text.contains("created 1 tenants, 2 groups, 4 users, 3 API keys, 1 trusted certificates, 4 branding colors, 3 branding images"),
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
        text.contains(&format!("Seeded {}: nothing new", app.base)),
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

    // What it made, in the words the offline command uses.
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "groups:\n  - name: from-the-cli\n").unwrap();
    let out = iamd(&[
        "seed",
        good.to_str().unwrap(),
        "--url",
        &app.base,
        "--api-key",
        ROOT_KEY,
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "Seeded {}: created 0 tenants, 1 groups, 0 users",
            app.base
        )),
        "{text}"
    );

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

#[test]
fn a_memory_server_says_its_database_goes_with_it() {
    // The README's test server: its start guide must not suggest the data is kept.
    let dir = tempfile::tempdir().unwrap();
    let seed = example_seed();
    let server = Binary::start(
        &dir.path().join("data"),
        &[
            ("IAMD_ADMIN_API_KEY", ROOT_KEY),
            ("IAMD_STORE_URL", "memory:"),
            ("IAMD_DEV_SEED_FILE", seed.to_str().unwrap()),
        ],
    );
    assert!(server.wait_stdout("MBED_CLOUD_SDK_API_KEY", std::time::Duration::from_secs(10)));
    let guide = server.stdout();
    assert!(
        guide.contains("(the database is in memory: a stop loses it)"),
        "{guide}"
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status();
    assert!(
        server.wait_log(
            "the in-memory database is gone with the server",
            std::time::Duration::from_secs(10)
        ),
        "{}",
        server.log()
    );
    assert!(!server.log().contains("database snapshot written"));
}

#[test]
fn iamd_seed_into_a_new_directory_says_to_start_first_and_makes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new");
    let seed = example_seed();
    let out = iamd(&[
        "seed",
        seed.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{} holds no iamd database", data.display()))
            && err.contains("IAMD_DEV_SEED_FILE"),
        "{err}"
    );
    assert!(!data.exists(), "a refused seed made {}", data.display());
    let help = iamd(&["help", "seed"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("colors, images") && !help.contains("bootstrapped if it is new"),
        "{help}"
    );
}
