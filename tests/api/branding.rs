//! Branding colors and images (own account and tenant routes) and `GET /static/...`. The
//! image tests are in `images`; the helpers here serve both.

mod images;

use crate::common::{non_admin, spawn_app, unique, Client, Resp, TestApp};
use iamd::branding::{self, Theme, COLOR_REFERENCES};
use serde_json::{json, Value};

const GRAY_PNG: &[u8] = include_bytes!("../../src/branding/testdata/gray-2x9.png");
const BASELINE_JPEG: &[u8] = include_bytes!("../../src/branding/testdata/baseline-5x3.jpg");
const PROGRESSIVE_JPEG: &[u8] = include_bytes!("../../src/branding/testdata/progressive-7x4.jpg");
const BOUNDARY: &str = "----iamd-test-boundary-7d9f";

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG no other test uploads: the gray 2x9 image with a unique tEXt chunk.
fn unique_png() -> Vec<u8> {
    let text = format!("Comment\0{}", unique("png"));
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(text.as_bytes());
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    // Signature (8) + IHDR (4 + 4 + 13 + 4) come first.
    let mut out = GRAY_PNG[..33].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&GRAY_PNG[33..]);
    out
}

/// A `multipart/form-data` body with one file part, as the official SDK sends it.
fn multipart(field: &str, part_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"image.png\"\r\n\
         Content-Type: {part_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

fn upload(c: &Client, path: &str, content_type: &str, bytes: &[u8]) -> Resp {
    c.raw(
        "POST",
        &format!("{path}/upload"),
        Some((content_type, bytes)),
        &[],
    )
}

fn upload_form(c: &Client, path: &str, body: &[u8]) -> Resp {
    c.raw(
        "POST",
        &format!("{path}/upload-multipart"),
        Some((&multipart_type(), body)),
        &[],
    )
}

/// GETs an absolute URL (a `static_uri`).
fn fetch(uri: &str, headers: &[(&str, &str)]) -> Resp {
    let after_scheme = uri.find("://").expect("absolute URL") + 3;
    let path_at = after_scheme + uri[after_scheme..].find('/').expect("a path");
    Client::new(&uri[..path_at], None).raw("GET", &uri[path_at..], None, headers)
}

fn raw_bytes(uri: &str) -> Vec<u8> {
    // `Resp` keeps text; fetch the bytes directly for byte-exact comparisons.
    let response = ureq::get(uri).call().expect("static file");
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut out).unwrap();
    out
}

fn own_account(app: &TestApp) -> String {
    app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn assert_color_list(body: &Value, theme: Theme, custom: &[(&str, &str)]) {
    assert_eq!(body["object"], "list");
    assert_eq!(body["has_more"], false);
    assert_eq!(body["total_count"], 16);
    assert_eq!(body["limit"], 16);
    let data = body["data"].as_array().unwrap();
    let refs: Vec<&str> = data
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs, COLOR_REFERENCES);
    for item in data {
        let reference = item["reference"].as_str().unwrap();
        assert_eq!(item["object"], "branding_color");
        match custom.iter().find(|(r, _)| *r == reference) {
            Some((_, color)) => {
                assert_eq!(item["color"], *color, "{reference}");
                assert!(item["updated_at"].is_string(), "{item}");
            }
            None => {
                assert_eq!(item["color"], branding::default_color(theme, reference));
                assert!(item.get("updated_at").is_none(), "{item}");
            }
        }
    }
}

#[test]
fn color_lists_start_with_the_default_palette_on_both_route_families() {
    let app = spawn_app();
    let me = own_account(&app);
    for theme in Theme::ALL {
        let own = app
            .get(&format!("/v3/branding-colors/{theme}"))
            .expect(200)
            .clone();
        assert_color_list(&own, theme, &[]);
        let tenant = app
            .get(&format!("/v3/accounts/{me}/branding-colors/{theme}"))
            .expect(200)
            .clone();
        assert_eq!(own, tenant);
    }
    app.get("/v3/branding-colors/blue").expect_error(404);
    app.anonymous()
        .get("/v3/branding-colors/light")
        .expect_error(401);
    app.get(&format!(
        "/v3/accounts/{}/branding-colors/light",
        "0".repeat(32)
    ))
    .expect_error(404);
}

#[test]
fn a_color_is_set_read_listed_and_reset_per_theme() {
    let app = spawn_app();
    let set = app
        .put(
            "/v3/branding-colors/light/primary",
            &json!({"color": " Purple "}),
        )
        .expect(200)
        .clone();
    assert_eq!(set["object"], "branding_color");
    assert_eq!(set["reference"], "primary");
    assert_eq!(set["color"], "purple");
    let updated_at = set["updated_at"].as_str().unwrap().to_string();
    assert!(iamd::clock::parse_rfc3339(&updated_at).is_some());
    assert_eq!(
        app.get("/v3/branding-colors/light/primary").expect(200),
        &set
    );
    // The other theme is independent.
    let dark = app
        .get("/v3/branding-colors/dark/primary")
        .expect(200)
        .clone();
    assert_eq!(
        dark["color"],
        branding::default_color(Theme::Dark, "primary")
    );
    assert!(dark.get("updated_at").is_none());
    assert_color_list(
        app.get("/v3/branding-colors/light").expect(200),
        Theme::Light,
        &[("primary", "purple")],
    );
    assert_color_list(
        app.get("/v3/branding-colors/dark").expect(200),
        Theme::Dark,
        &[],
    );

    // Clients echo the whole read model back (object, reference, updated_at).
    let mut echoed = set.clone();
    echoed["color"] = json!("#ABCDEF80");
    let again = app
        .put("/v3/branding-colors/light/primary", &echoed)
        .expect(200)
        .clone();
    assert_eq!(again["color"], "#abcdef80");
    // The path names the reference, not the body.
    echoed["reference"] = json!("secondary");
    echoed["color"] = json!("#123");
    assert_eq!(
        app.put("/v3/branding-colors/light/primary", &echoed)
            .expect(200)["reference"],
        "primary"
    );

    let reset = app
        .delete("/v3/branding-colors/light/primary")
        .expect(200)
        .clone();
    assert_eq!(reset["object"], "branding_color");
    assert_eq!(reset["reference"], "primary");
    assert_eq!(
        reset["color"],
        branding::default_color(Theme::Light, "primary")
    );
    assert!(reset.get("updated_at").is_none());
    assert_eq!(
        app.get("/v3/branding-colors/light/primary").expect(200),
        &reset
    );
    // Resetting a default again is fine.
    app.delete("/v3/branding-colors/light/primary").expect(200);
    assert_color_list(
        app.get("/v3/branding-colors/light").expect(200),
        Theme::Light,
        &[],
    );

    // Same handlers through the tenant family with the caller's own account.
    let me = own_account(&app);
    let path = format!("/v3/accounts/{me}/branding-colors/dark/warning_color");
    assert_eq!(
        app.put(&path, &json!({"color": "gold"})).expect(200)["color"],
        "gold"
    );
    assert_eq!(
        app.get("/v3/branding-colors/dark/warning_color")
            .expect(200)["color"],
        "gold"
    );
    assert_eq!(
        app.delete(&path).expect(200)["color"],
        branding::default_color(Theme::Dark, "warning_color")
    );
}

#[test]
fn bad_colors_are_400_with_a_field_and_change_nothing() {
    let app = spawn_app();
    app.put(
        "/v3/branding-colors/light/info_color",
        &json!({"color": "teal"}),
    )
    .expect(200);
    for bad in [
        json!({"color": "#12"}),
        json!({"color": "#gggggg"}),
        json!({"color": "123456"}),
        json!({"color": "rgb(1,2,3)"}),
        json!({"color": "notacolor"}),
        json!({"color": ""}),
        json!({"color": "x".repeat(100)}),
        json!({"color": null}),
        json!({}),
    ] {
        let err = app
            .put("/v3/branding-colors/light/info_color", &bad)
            .expect_field_error(400, "color")
            .clone();
        assert!(err["fields"][0]["message"].as_str().unwrap().len() > 5);
    }
    app.put("/v3/branding-colors/light/info_color", &json!({"color": 7}))
        .expect_field_error(400, "color");
    app.raw(
        "PUT",
        "/v3/branding-colors/light/info_color",
        Some(("application/json", b"{not json")),
        &[],
    )
    .expect_bad_request("Malformed JSON body");
    assert_eq!(
        app.get("/v3/branding-colors/light/info_color").expect(200)["color"],
        "teal"
    );
}

#[test]
fn unknown_color_references_are_404() {
    let app = spawn_app();
    for path in [
        "/v3/branding-colors/light/nope",
        "/v3/branding-colors/dark/Primary",
        "/v3/branding-colors/dark/brand_logo_square",
    ] {
        app.get(path).expect_error(404);
        app.put(path, &json!({"color": "red"})).expect_error(404);
        app.delete(path).expect_error(404);
    }
    app.raw("POST", "/v3/branding-colors/light/primary", None, &[])
        .expect_error(405);
}

#[test]
fn bulk_set_is_all_or_nothing() {
    let app = spawn_app();
    let r = app.put(
        "/v3/branding-colors/dark",
        &json!([
            {"reference": "primary", "color": "#010203"},
            {"reference": "secondary", "color": "Navy", "object": "branding_color", "updated_at": null},
        ]),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_color_list(
        app.get("/v3/branding-colors/dark").expect(200),
        Theme::Dark,
        &[("primary", "#010203"), ("secondary", "navy")],
    );
    assert_color_list(
        app.get("/v3/branding-colors/light").expect(200),
        Theme::Light,
        &[],
    );

    // One bad entry: 400 naming it, and the good ones are not applied either.
    let err = app
        .put(
            "/v3/branding-colors/dark",
            &json!([
                {"reference": "primary", "color": "white"},
                {"reference": "secondary", "color": "#zzz"},
                {"reference": "no_such_color", "color": "red"},
                {"color": "red"},
            ]),
        )
        .expect_fields_error(400, &["[1].color", "[2].reference", "[3].reference"])
        .clone();
    let names: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["[1].color", "[2].reference", "[3].reference"]);
    assert_color_list(
        app.get("/v3/branding-colors/dark").expect(200),
        Theme::Dark,
        &[("primary", "#010203"), ("secondary", "navy")],
    );
    app.put("/v3/branding-colors/dark", &json!({"reference": "primary"}))
        .expect_bad_request("Malformed JSON body");
    assert_eq!(app.put("/v3/branding-colors/dark", &json!([])).status, 204);
    let me = own_account(&app);
    assert_eq!(
        app.put(
            &format!("/v3/accounts/{me}/branding-colors/light"),
            &json!([{"reference": "error_color", "color": "crimson"}])
        )
        .status,
        204
    );
    assert_eq!(
        app.get("/v3/branding-colors/light/error_color").expect(200)["color"],
        "crimson"
    );
}

#[test]
fn only_admins_change_branding_but_everyone_reads_it() {
    let app = spawn_app();
    let (user, _) = non_admin(&app, false);
    user.get("/v3/branding-colors/light").expect(200);
    user.get("/v3/branding-colors/dark/primary").expect(200);
    user.get("/v3/branding-images/light").expect(200);
    user.get("/v3/branding-images/dark/brand_logo_square")
        .expect(200);
    user.put(
        "/v3/branding-colors/light/primary",
        &json!({"color": "red"}),
    )
    .expect_error(403);
    user.put(
        "/v3/branding-colors/light",
        &json!([{"reference": "primary", "color": "red"}]),
    )
    .expect_error(403);
    user.delete("/v3/branding-colors/light/primary")
        .expect_error(403);
    let img = "/v3/branding-images/light/brand_logo_square";
    upload(&user, img, "image/png", GRAY_PNG).expect_error(403);
    upload_form(&user, img, &multipart("image", "image/png", GRAY_PNG)).expect_error(403);
    user.raw("POST", &format!("{img}/clear"), None, &[])
        .expect_error(403);
    // A non-admin has no tenant rights at all, even on its own account id.
    let me = own_account(&app);
    user.get(&format!("/v3/accounts/{me}/branding-colors/light"))
        .expect_error(403);
    // Nothing changed.
    assert_color_list(
        app.get("/v3/branding-colors/light").expect(200),
        Theme::Light,
        &[],
    );
    assert!(app.get(img).expect(200).get("updated_at").is_none());
}

#[test]
fn the_readme_lists_the_default_palette() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&branding::palette_markdown()),
        "README.md's \"Branding defaults\" table is stale: paste branding::palette_markdown()"
    );
}

/// Creates a sub-tenant of the root account; returns (id, tenant admin client).
fn create_tenant(app: &TestApp) -> (String, Client) {
    let u = unique("t");
    let created = app
        .post(
            "/v3/accounts",
            &json!({
                "display_name": format!("tenant {u}"),
                "end_market": "IT",
                "admin_email": format!("admin-{u}@example.com"),
                "admin_password": "a long enough password",
            }),
        )
        .expect(201)
        .clone();
    let id = created["id"].as_str().unwrap().to_string();
    let key = created["admin_key"].as_str().unwrap();
    (id, app.with_key(key))
}

#[test]
fn sub_tenants_inherit_their_parents_branding() {
    let app = spawn_app();
    let (tenant, tenant_admin) = create_tenant(&app);
    let colors = format!("/v3/accounts/{tenant}/branding-colors/light");
    let images = format!("/v3/accounts/{tenant}/branding-images/light");

    // Parent customises: the tenant sees it on both route families.
    app.put(
        "/v3/branding-colors/light/primary",
        &json!({"color": "olive"}),
    )
    .expect(200);
    let png = unique_png();
    let parent_img = upload(
        &app,
        "/v3/branding-images/light/brand_logo_square",
        "image/png",
        &png,
    )
    .expect(201)
    .clone();
    assert_eq!(
        app.get(&format!("{colors}/primary")).expect(200)["color"],
        "olive"
    );
    assert_eq!(
        tenant_admin
            .get("/v3/branding-colors/light/primary")
            .expect(200)["color"],
        "olive"
    );
    let listed = tenant_admin
        .get("/v3/branding-colors/light")
        .expect(200)
        .clone();
    assert_eq!(listed["data"][1]["reference"], "primary");
    assert_eq!(listed["data"][1]["color"], "olive");
    assert_eq!(
        app.get(&format!("{images}/brand_logo_square")).expect(200)["static_uri"],
        parent_img["static_uri"]
    );

    // The tenant's own values win, and reset goes back to the parent's.
    app.put(&format!("{colors}/primary"), &json!({"color": "#fff"}))
        .expect(200);
    assert_eq!(
        tenant_admin
            .get("/v3/branding-colors/light/primary")
            .expect(200)["color"],
        "#fff"
    );
    assert_eq!(
        app.get("/v3/branding-colors/light/primary").expect(200)["color"],
        "olive"
    );
    assert_eq!(
        tenant_admin
            .delete("/v3/branding-colors/light/primary")
            .expect(200)["color"],
        "olive"
    );
    let own = upload(
        &tenant_admin,
        "/v3/branding-images/light/brand_logo_square",
        "image/jpeg",
        BASELINE_JPEG,
    )
    .expect(201)
    .clone();
    assert_eq!(
        app.get(&images).expect(200)["data"][1]["static_uri"],
        own["static_uri"]
    );
    app.raw(
        "POST",
        &format!("{images}/brand_logo_square/clear"),
        None,
        &[],
    );
    assert_eq!(
        tenant_admin
            .get("/v3/branding-images/light/brand_logo_square")
            .expect(200)["static_uri"],
        parent_img["static_uri"]
    );
    // Parent resets: the tenant falls back to the default.
    app.delete("/v3/branding-colors/light/primary").expect(200);
    assert_eq!(
        tenant_admin
            .get("/v3/branding-colors/light/primary")
            .expect(200)["color"],
        branding::default_color(Theme::Light, "primary")
    );
    // A tenant admin has no rights on the parent's tenant routes (403 if the tenant is not an
    // aggregator, 404 if it is: the root is not its sub-tenant).
    let root = own_account(&app);
    let denied = tenant_admin.get(&format!("/v3/accounts/{root}/branding-colors/light"));
    denied.expect_error(403);
}
