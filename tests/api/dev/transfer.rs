//! `iamd export`, `iamd import` and `iamd mirror`, iamd -> iamd.

use super::*;
use crate::common::{new_identity_provider, spawn_app_in_memory};
use serde_json::{json, Value};
use std::process::Command;

fn iamd(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamd"))
        .args(args)
        .env_clear()
        .output()
        .expect("iamd runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A source: the example seed, an identity provider, a tenant color.
fn source() -> TestApp {
    let app = seeded_app(false);
    new_identity_provider(&app);
    app
}

/// What must be equal between the source and the copy (ids aside), for one account base.
fn picture(client: &Client, base: &str) -> Value {
    let list =
        |path: &str| client.get(&format!("{base}{path}?limit=1000")).expect(200)["data"].clone();
    let email_of: std::collections::BTreeMap<String, String> = list("/users")
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap().into(),
                u["email"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut users: Vec<Value> = list("/users")
        .as_array()
        .unwrap()
        .iter()
        .map(|u| json!([u["email"], u["full_name"], u["username"], u["status"]]))
        .collect();
    users.sort_by_key(|v| v.to_string());
    let mut groups: Vec<Value> = list("/policy-groups")
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let id = g["id"].as_str().unwrap();
            let members = client
                .get(&format!("{base}/policy-groups/{id}/users"))
                .expect(200)["data"]
                .clone();
            let mut emails: Vec<String> = members
                .as_array()
                .unwrap()
                .iter()
                .map(|m| email_of[m["id"].as_str().unwrap()].clone())
                .collect();
            emails.sort();
            json!([g["name"], emails])
        })
        .collect();
    groups.sort_by_key(|v| v.to_string());
    let certs: Vec<Value> = list("/trusted-certificates")
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!([
                c["name"],
                c["service"],
                c["subject"],
                c["status"],
                c["description"]
            ])
        })
        .collect();
    let idps: Vec<Value> = list("/identity-providers")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!([i["name"], i["type"], i["status"], i["description"]]))
        .collect();
    let colors: Vec<Value> = ["light", "dark"]
        .iter()
        .map(|t| {
            client
                .get(&format!("{base}/branding-colors/{t}"))
                .expect(200)["data"]
                .clone()
        })
        .map(|d| {
            Value::Array(
                d.as_array()
                    .unwrap()
                    .iter()
                    .map(|c| json!([c["reference"], c["color"]]))
                    .collect(),
            )
        })
        .collect();
    // Uploaded images (own or inherited), by their bytes: ids and URLs differ between servers.
    let images: Vec<Value> = ["light", "dark"]
        .iter()
        .flat_map(|t| {
            let list = client
                .get(&format!("{base}/branding-images/{t}"))
                .expect(200)["data"]
                .clone();
            list.as_array()
                .unwrap()
                .iter()
                .filter(|i| i.get("updated_at").is_some())
                .map(|i| {
                    let r = i["reference"].as_str().unwrap();
                    json!([t, r, image_bytes(client, base, t, r)])
                })
                .collect::<Vec<_>>()
        })
        .collect();
    json!({"users": users, "groups": groups, "certs": certs, "idps": idps, "colors": colors,
           "images": images})
}

fn tenant_base(client: &Client, name: &str) -> String {
    let tenants = client.get("/v3/accounts").expect(200)["data"].clone();
    let t = tenants
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["display_name"] == name)
        .unwrap_or_else(|| panic!("no tenant {name}: {tenants}"));
    format!("/v3/accounts/{}", t["id"].as_str().unwrap())
}

fn assert_same(src: &Client, dst: &Client) {
    // The root accounts differ in their own admin user only.
    let mut a = picture(src, "/v3");
    let mut b = picture(dst, "/v3");
    for p in [&mut a, &mut b] {
        let users = p["users"].as_array_mut().unwrap();
        users.retain(|u| u[0] != "admin@iamd.local");
        let groups = p["groups"].as_array_mut().unwrap();
        for g in groups {
            g[1].as_array_mut()
                .unwrap()
                .retain(|e| e != "admin@iamd.local");
        }
    }
    assert_eq!(a, b);
    assert!(
        a["users"].as_array().unwrap().len() == 3
            && a["idps"].as_array().unwrap().len() == 1
            && a["images"].as_array().unwrap().len() == 2,
        "{a}"
    );
    let t = picture(src, &tenant_base(src, "Acme Devices"));
    let copy = picture(dst, &tenant_base(dst, "Acme Devices"));
    for key in ["users", "groups", "certs", "idps", "colors", "images"] {
        assert_eq!(t[key], copy[key], "tenant {key}");
    }
    assert_eq!(t["users"].as_array().unwrap().len(), 2, "{t}");
}

#[test]
fn export_then_import_into_a_fresh_server_gives_the_same_lists() {
    let src = source();
    let dst = spawn_app_in_memory();
    let (ok, doc, err) = iamd(&[
        "export",
        "--url",
        &src.base,
        "--api-key",
        ROOT_KEY,
        "--tenants",
    ]);
    assert!(ok, "{err}");
    let parsed: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(parsed["format"], "iamd-export");
    assert_eq!(parsed["account"]["id"], ROOT_ID);
    assert!(!doc.contains("password_hash") && !doc.contains(CI_KEY));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, &doc).unwrap();

    let (ok, out, err) = iamd(&[
        "import",
        file.to_str().unwrap(),
        "--url",
        &dst.base,
        "--api-key",
        &dst.admin_key,
    ]);
    assert!(ok, "{err}\n{out}");
    // New passwords, printed once, and they work... as passwords of the right users.
    assert!(
        out.lines()
            .any(|l| l.starts_with("password alice@example.com ")),
        "{out}"
    );
    assert_same(&src, &dst);
    // A second import finds everything there and makes nothing more.
    let (ok, out, _) = iamd(&[
        "import",
        file.to_str().unwrap(),
        "--url",
        &dst.base,
        "--api-key",
        &dst.admin_key,
    ]);
    assert!(ok && !out.contains("password "), "{out}");
    assert_same(&src, &dst);
}

#[test]
fn mirror_copies_every_entity_kind_and_prints_the_id_mapping() {
    let src = source();
    let dst = spawn_app_in_memory();
    let (ok, out, err) = iamd(&[
        "mirror",
        "--from",
        &src.base,
        "--api-key",
        ROOT_KEY,
        "--tenants",
        "--to",
        &dst.base,
        "--to-api-key",
        &dst.admin_key,
    ]);
    assert!(ok, "{err}\n{out}");
    assert_same(&src, &dst);
    let alice_src =
        src.get("/v3/users?email__eq=alice@example.com").expect(200)["data"][0]["id"].clone();
    let alice_dst =
        dst.get("/v3/users?email__eq=alice@example.com").expect(200)["data"][0]["id"].clone();
    let line = format!(
        "user {} -> {}",
        alice_src.as_str().unwrap(),
        alice_dst.as_str().unwrap()
    );
    assert!(out.contains(&line), "{line} not in\n{out}");
    let tenant_dst = tenant_base(&dst, "Acme Devices");
    assert!(
        out.contains(&format!(
            "tenant {ACME_ID} -> {}",
            tenant_dst.trim_start_matches("/v3/accounts/")
        )),
        "{out}"
    );
}

#[test]
fn mirror_into_a_data_directory_makes_a_server_that_answers_the_copy() {
    let src = source();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("copy");
    let (ok, out, err) = iamd(&[
        "mirror",
        "--from",
        &src.base,
        "--api-key",
        ROOT_KEY,
        "--tenants",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{err}\n{out}");
    assert!(out.contains(&format!("tenant {ACME_ID} -> ")), "{out}");
    // It says how to start the copy, and where its key is.
    assert!(
        err.contains(&format!("IAMD_DATA_DIR={} iamd", data.display()))
            && err.contains(&data.join("admin-api-key").display().to_string()),
        "{err}"
    );
    let server = crate::common::Binary::start(&data, &[]);
    assert_same(&src, &server.client);
    assert!(server.terminate().success());
}

#[test]
fn refusals_and_unreachable_servers_are_one_plain_line() {
    let dst = spawn_app_in_memory();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    let (ok, doc, err) = iamd(&["export", "--url", &dst.base, "--api-key", &dst.admin_key]);
    assert!(ok, "{err}");
    std::fs::write(&file, doc).unwrap();
    // A wrong key: the ErrorResponse's type and message, not its JSON, and nothing was made.
    let (ok, _, err) = iamd(&[
        "import",
        file.to_str().unwrap(),
        "--url",
        &dst.base,
        "--api-key",
        "ak_wrong",
    ]);
    assert!(!ok);
    assert!(
        err.contains("import stopped before making anything")
            && err.contains("401 invalid_token: ")
            && err.contains("administrator's key")
            && !err.contains("{\"code\""),
        "{err}"
    );
    // Nobody listening: says so, and names the URL.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (ok, _, err) = iamd(&["export", "--url", &closed, "--api-key", ROOT_KEY]);
    assert!(!ok);
    assert!(
        err.contains(&format!("cannot reach {closed}")) && err.contains("is the server running"),
        "{err}"
    );
}

#[test]
fn a_tenants_inherited_branding_stays_inherited_in_the_copy() {
    let src = source();
    let dst = spawn_app_in_memory();
    let (ok, out, err) = iamd(&[
        "mirror",
        "--from",
        &src.base,
        "--api-key",
        ROOT_KEY,
        "--tenants",
        "--to",
        &dst.base,
        "--to-api-key",
        &dst.admin_key,
    ]);
    assert!(ok, "{err}\n{out}");
    let tenant = tenant_base(&dst, "Acme Devices");
    // The root's canvas color and square logo reach the tenant by inheritance in the source:
    // changed at the copy's root, the copy's tenant follows.
    dst.put(
        "/v3/branding-colors/light/canvas_background",
        &json!({"color": "#123456"}),
    )
    .expect(200);
    let color = dst
        .get(&format!("{tenant}/branding-colors/light/canvas_background"))
        .expect(200)["color"]
        .clone();
    assert_eq!(color, "#123456");
    dst.raw(
        "POST",
        "/v3/branding-images/light/brand_logo_square/upload",
        Some(("image/png", &example_dark_logo())),
        &[],
    )
    .expect(201);
    assert_eq!(
        image_bytes(&dst, &tenant, "light", "brand_logo_square"),
        Some(example_dark_logo())
    );
    // The tenant's own ones are its own.
    assert_eq!(
        dst.get(&format!("{tenant}/branding-colors/light/primary"))
            .expect(200)["color"],
        "#ff6600"
    );
}
