//! Branding images: uploads (raw and multipart), clearing, defaults, and `GET /static/...`.

use super::*;
use crate::common::{spawn_app, spawn_app_with, start_in_process, test_config};
use iamd::branding::IMAGE_REFERENCES;

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
        let body = r.expect_field_error(400, "image").clone();
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
    upload(&app, path, "text/plain", GRAY_PNG)
        .expect_bad_request("The Content-Type must be image/png or image/jpeg.");
    upload(&app, path, "application/json", b"{}")
        .expect_bad_request("The Content-Type must be image/png or image/jpeg.");
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
        let body = r.expect_field_error(400, "image").clone();
        assert!(body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4096"));
    }
    // Far over the limit, and over the JSON limit too: still a proper answer.
    let huge = vec![0x89u8; 3 * 1024 * 1024];
    upload(&app, path, "image/png", &huge).expect_field_error(400, "image");
    upload_form(&app, path, &multipart("image", "image/png", &huge))
        .expect_field_error(400, "image");
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
    upload(&app, path, "image/png", &over).expect_field_error(400, "image");
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

    upload_form(&app, path, &multipart("file", "image/png", GRAY_PNG))
        .expect_field_error(400, "image");
    upload_form(&app, path, &multipart("image", "image/png", b"GIF89a...."))
        .expect_field_error(400, "image");
    // Truncated: cut inside the image part, and cut before the closing boundary.
    let full = multipart("image", "image/png", GRAY_PNG);
    for cut in [full.len() / 2, full.len() - 10, 20] {
        upload_form(&app, path, &full[..cut])
            .expect_bad_request("Malformed multipart/form-data body");
    }
    upload_form(&app, path, b"").expect_bad_request(
        "Malformed multipart/form-data body: the body holds no multipart boundary.",
    );
    // Not multipart at all, or without a boundary.
    app.raw(
        "POST",
        &format!("{path}/upload-multipart"),
        Some(("image/png", GRAY_PNG)),
        &[],
    )
    .expect_bad_request(
        "Malformed multipart/form-data body: the Content-Type must be multipart/form-data.",
    );
    app.raw(
        "POST",
        &format!("{path}/upload-multipart"),
        Some(("multipart/form-data", &full)),
        &[],
    )
    .expect_bad_request(
        "Malformed multipart/form-data body: the Content-Type has no multipart boundary.",
    );
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

/// `png` with its IHDR saying `width` x `height` (CRC fixed up); the pixel data is not
/// touched: the dimensions alone must be refused.
fn png_sized(png: &[u8], width: u32, height: u32) -> Vec<u8> {
    let mut out = png.to_vec();
    out[16..20].copy_from_slice(&width.to_be_bytes());
    out[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

/// `jpeg` with its frame header saying `width` x `height`.
fn jpeg_sized(jpeg: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let sof = out
        .windows(2)
        .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0 | 0xC2))
        .expect("a frame header");
    // FF Cn, length (2), precision (1), height (2), width (2).
    out[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    out[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    out
}

#[test]
fn oversized_images_and_bytes_after_the_end_are_400_naming_image() {
    let app = spawn_app();
    let path = "/v3/branding-images/light/brand_logo_square";
    let with_tail = |bytes: &[u8]| [bytes, b"<script>alert(1)</script>".as_slice()].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("image/png", with_tail(GRAY_PNG), "after"),
        ("image/jpeg", with_tail(BASELINE_JPEG), "after"),
        ("image/jpeg", with_tail(PROGRESSIVE_JPEG), "after"),
        ("image/png", png_sized(GRAY_PNG, 20_000, 20_000), "pixels"),
        ("image/png", png_sized(GRAY_PNG, 9000, 1), "pixels"),
        ("image/png", png_sized(GRAY_PNG, 4097, 4097), "pixels"),
        (
            "image/jpeg",
            jpeg_sized(BASELINE_JPEG, 60_000, 60_000),
            "pixels",
        ),
        (
            "image/jpeg",
            jpeg_sized(PROGRESSIVE_JPEG, 1, 9000),
            "pixels",
        ),
    ];
    for (content_type, bytes, says) in &cases {
        for multipart_upload in [false, true] {
            let r = if multipart_upload {
                app.raw(
                    "POST",
                    &format!("{path}/upload-multipart"),
                    Some((&multipart_type(), &multipart("image", content_type, bytes))),
                    &[],
                )
            } else {
                upload(&app, path, content_type, bytes)
            };
            let body = r.expect_field_error(400, "image").clone();
            let message = body["fields"][0]["message"].as_str().unwrap();
            assert!(message.contains(says), "{content_type}: {message}");
        }
    }
    // Nothing was stored; the limits leave ordinary images alone.
    assert!(app.get(path).expect(200).get("updated_at").is_none());
    upload(&app, path, "image/png", &png_sized(GRAY_PNG, 4096, 4096)).expect(201);
    upload(
        &app,
        path,
        "image/jpeg",
        &jpeg_sized(BASELINE_JPEG, 8192, 2048),
    )
    .expect(201);
}
