//! How the console is served (no browser needed): the redirect, the security headers of
//! every asset, unknown files as ErrorResponses, the public branding, the email links.

use crate::common::spawn_app;
use serde_json::json;

#[test]
fn the_root_redirects_to_the_console() {
    let app = spawn_app();
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    for path in ["/", "/console"] {
        let r = agent.get(&format!("{}{path}", app.base)).call().unwrap();
        assert_eq!(r.status(), 302, "{path}");
        assert_eq!(r.header("location"), Some("/console/"), "{path}");
    }
}

#[test]
fn every_asset_is_served_with_a_strict_content_security_policy() {
    let app = spawn_app();
    let page = app.anonymous().get("/console/");
    assert_eq!(page.status, 200);
    assert!(page
        .text
        .contains(r#"<script type="module" src="/console/app.js">"#));
    for (path, kind) in [
        ("/console/", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/vendor/qrcodegen.js", "text/javascript"),
    ] {
        let r = app.anonymous().get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        let csp = r.header("content-security-policy").unwrap();
        for directive in [
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
    }
}

#[test]
fn an_unknown_console_file_is_a_404_error_response() {
    let app = spawn_app();
    let r = app.anonymous().get("/console/nope.js");
    assert_eq!(r.expect_error(404)["object"], "error");
}

#[test]
fn the_public_branding_is_the_root_accounts_for_the_theme() {
    let app = spawn_app();
    app.put(
        "/v3/branding-colors/dark/primary",
        &json!({"color": "#aa3311"}),
    )
    .expect(200);
    let dark = app.anonymous().get("/console/branding/dark");
    assert_eq!(dark.expect(200)["colors"]["primary"], "#aa3311");
    assert_eq!(dark.body["colors"].as_object().unwrap().len(), 16);
    let light = app.anonymous().get("/console/branding/light");
    assert_eq!(light.expect(200)["colors"]["primary"], "#1565c0");
    let logo = light.body["images"]["brand_logo_landscape"]
        .as_str()
        .unwrap();
    let path = logo.strip_prefix(&app.base).unwrap();
    assert_eq!(app.anonymous().get(path).status, 200);
    assert_eq!(
        app.anonymous()
            .get("/console/branding/sepia")
            .expect_error(404)["object"],
        "error"
    );
}

#[test]
fn the_email_links_open_console_pages_with_the_token_in_the_fragment() {
    let app = spawn_app();
    let email = format!("{}@example.com", crate::common::unique("link"));
    app.post("/v3/user-invitations", &json!({"email": email}))
        .expect(201);
    let eml = crate::users::email_to(&app, &email);
    assert!(
        eml.contains(&format!("{}/console/#/invitation?token=", app.base)),
        "{eml}"
    );
}
