//! Branding colors and images (own account and tenant routes) and `GET /static/...`.

use crate::common::{
    non_admin, spawn_app, spawn_app_with, start_in_process, test_config, unique, Client, Resp,
    TestApp,
};
use iamd::branding::{self, Theme, COLOR_REFERENCES, IMAGE_REFERENCES};
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
            .expect_error(400)
            .clone();
        assert_eq!(err["fields"][0]["name"], "color", "{bad}: {err}");
        assert!(err["fields"][0]["message"].as_str().unwrap().len() > 5);
    }
    let err = app
        .put("/v3/branding-colors/light/info_color", &json!({"color": 7}))
        .expect_error(400)
        .clone();
    assert_eq!(err["fields"][0]["name"], "color");
    app.raw(
        "PUT",
        "/v3/branding-colors/light/info_color",
        Some(("application/json", b"{not json")),
        &[],
    )
    .expect_error(400);
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
        .expect_error(400)
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
        .expect_error(400);
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
fn image_lists_point_at_the_built_in_defaults() {
    let app = spawn_app();
    let me = own_account(&app);
    for theme in Theme::ALL {
        let list = app
            .get(&format!("/v3/branding-images/{theme}"))
            .expect(200)
            .clone();
        assert_eq!(list["object"], "list");
        assert_eq!(list["has_more"], false);
        assert_eq!(list["total_count"], 37);
        let data = list["data"].as_array().unwrap();
        let refs: Vec<&str> = data
            .iter()
            .map(|i| i["reference"].as_str().unwrap())
            .collect();
        assert_eq!(refs, IMAGE_REFERENCES);
        let (bytes, kind) = branding::default_image(theme);
        let expected = format!(
            "{}/static/{}",
            app.base,
            branding::content_name(bytes, kind)
        );
        for item in data {
            assert_eq!(item["object"], "branding_image");
            assert_eq!(item["static_uri"], expected.as_str());
            assert!(item.get("updated_at").is_none());
        }
        assert_eq!(raw_bytes(&expected), bytes);
        let one = app
            .get(&format!(
                "/v3/accounts/{me}/branding-images/{theme}/carousel_image_square_9"
            ))
            .expect(200)
            .clone();
        assert_eq!(one["static_uri"], expected.as_str());
    }
    assert_ne!(
        app.get("/v3/branding-images/light/brand_logo_square").body["static_uri"],
        app.get("/v3/branding-images/dark/brand_logo_square").body["static_uri"]
    );
    app.get("/v3/branding-images/light/primary")
        .expect_error(404);
    app.get("/v3/branding-images/sepia").expect_error(404);
}

#[test]
fn a_raw_upload_is_stored_served_and_cleared() {
    let app = spawn_app();
    let png = unique_png();
    let path = "/v3/branding-images/dark/brand_logo_landscape";
    let r = upload(&app, path, "image/png", &png);
    let created = r.expect(201).clone();
    assert_eq!(created["object"], "branding_image");
    assert_eq!(created["reference"], "brand_logo_landscape");
    let uri = created["static_uri"].as_str().unwrap().to_string();
    assert_eq!(
        uri,
        format!(
            "{}/static/{}",
            app.base,
            branding::content_name(&png, branding::ImageKind::Png)
        )
    );
    assert!(iamd::clock::parse_rfc3339(created["updated_at"].as_str().unwrap()).is_some());
    assert_eq!(r.header("location"), Some(uri.as_str()));
    assert_eq!(
        r.header("content-location"),
        Some(format!("{}{path}", app.base).as_str())
    );
    assert_eq!(app.get(path).expect(200), &created);
    let list = app.get("/v3/branding-images/dark").expect(200).clone();
    let listed: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("updated_at").is_some())
        .collect();
    assert_eq!(listed, [&created]);
    // The light theme is untouched.
    assert!(app
        .get("/v3/branding-images/light/brand_logo_landscape")
        .expect(200)
        .get("updated_at")
        .is_none());

    // Served byte for byte, with caching headers.
    assert_eq!(raw_bytes(&uri), png);
    let served = fetch(&uri, &[]);
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/png"));
    let etag = served.header("etag").unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", &uri[uri.len() - 68..uri.len() - 4]));
    assert_eq!(
        served.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let not_modified = fetch(&uri, &[("If-None-Match", &etag)]);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.text.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    let list_match = fetch(&uri, &[("If-None-Match", &format!("\"other\", W/{etag}"))]);
    assert_eq!(list_match.status, 304);
    assert_eq!(fetch(&uri, &[("If-None-Match", "\"other\"")]).status, 200);

    // A JPEG goes through the raw route too, served as image/jpeg.
    let jpeg = upload(
        &app,
        "/v3/branding-images/light/brand_logo_email",
        "image/jpeg",
        BASELINE_JPEG,
    )
    .expect(201)
    .clone();
    let jpeg_uri = jpeg["static_uri"].as_str().unwrap();
    assert!(jpeg_uri.ends_with(".jpg"));
    assert_eq!(
        fetch(jpeg_uri, &[]).header("content-type"),
        Some("image/jpeg")
    );
    assert_eq!(raw_bytes(jpeg_uri), BASELINE_JPEG);

    // Clear: 204, back to the default, and the now unused bytes are gone.
    let cleared = app.raw(
        "POST",
        &format!("{path}/clear"),
        Some(("application/json", b"")),
        &[],
    );
    assert_eq!(cleared.status, 204, "{}", cleared.text);
    let after = app.get(path).expect(200).clone();
    let (default, kind) = branding::default_image(Theme::Dark);
    assert!(after["static_uri"]
        .as_str()
        .unwrap()
        .ends_with(&branding::content_name(default, kind)));
    assert!(after.get("updated_at").is_none());
    fetch(&uri, &[]).expect_error(404);
    // Clearing a default is fine; an unknown reference is not.
    assert_eq!(
        app.raw("POST", &format!("{path}/clear"), None, &[]).status,
        204
    );
    app.raw("POST", "/v3/branding-images/dark/nope/clear", None, &[])
        .expect_error(404);
}

#[test]
fn identical_uploads_share_bytes_until_the_last_is_cleared() {
    let app = spawn_app();
    let png = unique_png();
    let a = "/v3/branding-images/light/carousel_image_portrait_0";
    let b = "/v3/branding-images/dark/carousel_image_portrait_1";
    let uri = upload(&app, a, "image/png", &png).expect(201)["static_uri"].clone();
    assert_eq!(
        upload(&app, b, "image/png", &png).expect(201)["static_uri"],
        uri
    );
    // Re-uploading the same bytes to the same reference keeps one user, not two.
    upload(&app, a, "image/png", &png).expect(201);
    let uri = uri.as_str().unwrap();
    app.raw("POST", &format!("{a}/clear"), None, &[]);
    assert_eq!(raw_bytes(uri), png);
    // Replacing the last user's image frees the old bytes.
    upload(&app, b, "image/jpeg", PROGRESSIVE_JPEG).expect(201);
    fetch(uri, &[]).expect_error(404);
}

#[test]
fn uploads_are_checked_by_content() {
    let app = spawn_app();
    let path = "/v3/branding-images/light/brand_logo_square";
    let field_error = |r: Resp| {
        let body = r.expect_error(400).clone();
        assert_eq!(body["fields"][0]["name"], "image", "{body}");
        body["fields"][0]["message"].as_str().unwrap().to_string()
    };
    let m = field_error(upload(
        &app,
        path,
        "image/png",
        b"this is not an image at all",
    ));
    assert!(m.contains("not a valid PNG or JPEG"), "{m}");
    let m = field_error(upload(&app, path, "image/png", BASELINE_JPEG));
    assert!(m.contains("declared as image/png"), "{m}");
    let m = field_error(upload(&app, path, "image/jpeg", GRAY_PNG));
    assert!(m.contains("declared as image/jpeg"), "{m}");
    field_error(upload(
        &app,
        path,
        "image/png",
        &GRAY_PNG[..GRAY_PNG.len() - 20],
    ));
    field_error(upload(&app, path, "image/png", b""));
    upload(&app, path, "text/plain", GRAY_PNG).expect_error(400);
    upload(&app, path, "application/json", b"{}").expect_error(400);
    upload(
        &app,
        "/v3/branding-images/light/primary",
        "image/png",
        GRAY_PNG,
    )
    .expect_error(404);
    upload_form(
        &app,
        "/v3/branding-images/dark/nope",
        &multipart("image", "image/png", GRAY_PNG),
    )
    .expect_error(404);
    // Nothing was stored.
    assert!(app.get(path).expect(200).get("updated_at").is_none());
}

#[test]
fn oversized_uploads_are_400_not_dropped_connections() {
    let app = spawn_app_with(|c| c.max_image_bytes = 4096);
    let path = "/v3/branding-images/light/desktop_background_square";
    // A real PNG header followed by padding: big, otherwise plausible.
    let mut big = unique_png();
    big.resize(4097, 0);
    for r in [
        upload(&app, path, "image/png", &big),
        upload_form(&app, path, &multipart("image", "image/png", &big)),
    ] {
        let body = r.expect_error(400).clone();
        assert_eq!(body["fields"][0]["name"], "image");
        assert!(body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4096"));
    }
    // Far over the limit, and over the JSON limit too: still a proper answer.
    let huge = vec![0x89u8; 3 * 1024 * 1024];
    upload(&app, path, "image/png", &huge).expect_error(400);
    upload_form(&app, path, &multipart("image", "image/png", &huge)).expect_error(400);
    assert!(app.get(path).expect(200).get("updated_at").is_none());
    // The connection is still usable and a small image still fits.
    upload(&app, path, "image/png", GRAY_PNG).expect(201);

    // The default limit (2 MiB) applies, not the JSON body limit (1 MiB).
    let app = spawn_app();
    let mut large = unique_png();
    let iend = large.split_off(large.len() - 12);
    let filler = vec![b'x'; 1536 * 1024];
    let mut chunk = (filler.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"zzZz");
    chunk.extend_from_slice(&filler);
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    large.extend_from_slice(&chunk);
    large.extend_from_slice(&iend);
    let uri = upload(&app, path, "image/png", &large).expect(201)["static_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(raw_bytes(&uri), large);
    let mut over = large.clone();
    over.resize(2 * 1024 * 1024 + 1, 0);
    upload(&app, path, "image/png", &over).expect_error(400);
}

#[test]
fn multipart_uploads_trust_the_bytes_over_the_declared_type() {
    let app = spawn_app();
    let path = "/v3/branding-images/dark/brand_logo_portrait";
    // The official SDK always labels the part image/png; a JPEG is still a JPEG.
    let r = upload_form(&app, path, &multipart("image", "image/png", BASELINE_JPEG));
    let created = r.expect(201).clone();
    let uri = created["static_uri"].as_str().unwrap();
    assert!(uri.ends_with(".jpg"), "{uri}");
    assert_eq!(r.header("location"), Some(uri));
    assert_eq!(raw_bytes(uri), BASELINE_JPEG);
    assert_eq!(app.get(path).expect(200), &created);

    // Other fields are ignored; the `image` one counts.
    let png = unique_png();
    let mut body =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n")
            .into_bytes();
    body.extend_from_slice(&multipart("image", "application/octet-stream", &png));
    let uri = upload_form(&app, path, &body).expect(201)["static_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(raw_bytes(&uri), png);

    let field = |r: Resp| r.expect_error(400)["fields"][0]["name"].clone();
    assert_eq!(
        field(upload_form(
            &app,
            path,
            &multipart("file", "image/png", GRAY_PNG)
        )),
        "image"
    );
    assert_eq!(
        field(upload_form(
            &app,
            path,
            &multipart("image", "image/png", b"GIF89a....")
        )),
        "image"
    );
    // Truncated: cut inside the image part, and cut before the closing boundary.
    let full = multipart("image", "image/png", GRAY_PNG);
    for cut in [full.len() / 2, full.len() - 10, 20] {
        upload_form(&app, path, &full[..cut]).expect_error(400);
    }
    upload_form(&app, path, b"").expect_error(400);
    // Not multipart at all, or without a boundary.
    app.raw(
        "POST",
        &format!("{path}/upload-multipart"),
        Some(("image/png", GRAY_PNG)),
        &[],
    )
    .expect_error(400);
    app.raw(
        "POST",
        &format!("{path}/upload-multipart"),
        Some(("multipart/form-data", &full)),
        &[],
    )
    .expect_error(400);
    // The failures left the last good upload in place.
    assert_eq!(app.get(path).expect(200)["static_uri"], uri.as_str());
}

#[test]
fn the_static_route_needs_no_key_and_knows_only_content_names() {
    let app = spawn_app();
    let anon = app.anonymous();
    for theme in Theme::ALL {
        let (bytes, kind) = branding::default_image(theme);
        let r = anon.get(&format!("/static/{}", branding::content_name(bytes, kind)));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("image/png"));
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert!(r.header("etag").is_some());
    }
    let unknown = format!("/static/{}.png", "0".repeat(64));
    anon.get(&unknown).expect_error(404);
    for bad in [
        "/static/default-light.png",
        "/static/..%2Fdb",
        "/static/",
        "/static/a/b",
    ] {
        anon.get(bad).expect_error(404);
    }
}

#[test]
fn uploaded_bytes_survive_a_restart_byte_for_byte() {
    let app = spawn_app();
    let png = unique_png();
    let path = "/v3/branding-images/light/carousel_image_landscape_3";
    let before = upload_form(&app, path, &multipart("image", "image/png", &png))
        .expect(201)
        .clone();
    let jpeg_path = "/v3/branding-images/dark/carousel_image_landscape_3";
    upload(&app, jpeg_path, "image/jpeg", PROGRESSIVE_JPEG).expect(201);
    app.put(
        "/v3/branding-colors/dark/primary",
        &json!({"color": "#0a0b0c"}),
    )
    .expect(200);
    assert_eq!(raw_bytes(before["static_uri"].as_str().unwrap()), png);

    let data_dir = app.data_dir.clone();
    let dir = app.stop().unwrap();
    let again = start_in_process(test_config(&data_dir));
    let after = again.get(path).expect(200).clone();
    assert_eq!(after["updated_at"], before["updated_at"]);
    let name = |v: &Value| {
        let uri = v["static_uri"].as_str().unwrap().to_string();
        uri[uri.rfind('/').unwrap()..].to_string()
    };
    assert_eq!(name(&after), name(&before));
    assert_eq!(raw_bytes(after["static_uri"].as_str().unwrap()), png);
    let jpeg = again.get(jpeg_path).expect(200).clone();
    assert_eq!(
        raw_bytes(jpeg["static_uri"].as_str().unwrap()),
        PROGRESSIVE_JPEG
    );
    assert_eq!(
        again.get("/v3/branding-colors/dark/primary").expect(200)["color"],
        "#0a0b0c"
    );
    drop(again);
    drop(dir);
}

#[test]
fn a_configured_public_url_is_used_for_static_uris() {
    let app = spawn_app_with(|c| c.public_url = "https://brand.example.com/".into());
    let uri = app
        .get("/v3/branding-images/light/brand_logo_square")
        .expect(200)["static_uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        uri.starts_with("https://brand.example.com/static/"),
        "{uri}"
    );
    let r = upload(
        &app,
        "/v3/branding-images/light/brand_logo_square",
        "image/png",
        GRAY_PNG,
    );
    assert!(r.expect(201)["static_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://brand.example.com/static/"));
    // Still served here under the same path.
    let path = &r.body["static_uri"].as_str().unwrap()["https://brand.example.com".len()..];
    assert_eq!(app.anonymous().get(path).status, 200);
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
#[ignore = "needs tenant accounts"]
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
        app.get(&format!("{images}")).expect(200)["data"][1]["static_uri"],
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
    // A tenant admin has no rights on the parent's tenant routes.
    let root = own_account(&app);
    tenant_admin
        .get(&format!("/v3/accounts/{root}/branding-colors/light"))
        .expect_error(403);
}

/// The official SDK's own-account branding scenarios. `branding.subtenant_branding` needs
/// `POST /v3/accounts`; once that exists, run the whole `branding` area here.
#[test]
fn sdk_branding_scenarios() {
    crate::sdk::run_sdk(&["branding.theme_colors", "branding.theme_images"]);
}
