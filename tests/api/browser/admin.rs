//! Admin pages beyond the journeys: branding images, invitations, tenant enrollment and
//! identity providers, API keys and users in policy groups.

use super::{setup, sign_in_admin};
use crate::auth::PASSWORD;
use crate::common::unique;
use serde_json::{json, Value};

const PNG: &[u8] = include_bytes!("../../../src/branding/testdata/gray-2x9.png");

/// The path of `static_uri` (an absolute URL on the test server).
fn path_of(uri: &Value) -> String {
    let uri = uri.as_str().unwrap();
    let rest = uri.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_string()
}

/// An admin uploads a logo for the light theme: the page previews the chosen file, the API
/// serves the bytes, the console's header shows it; a file that is no image is refused
/// beside the field; reset brings the default back.
#[test]
fn an_admin_uploads_a_logo_previews_it_and_resets_it() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/branding']");
    b.on("branding");
    let api = "/v3/branding-images/light/brand_logo_landscape";
    let default = path_of(&app.get(api).expect(200)["static_uri"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("logo.png");
    std::fs::write(&file, PNG).unwrap();
    // The logo the header shows is the one the editor opens on.
    b.wait_text("#image-editor", "brand_logo_landscape");
    b.choose_file("#image-file", &file);
    b.wait("the live preview", |b| {
        let src = b.script(
            "const i = document.getElementById('image-preview'); return i && !i.hidden ? i.src : '';",
            json!([]),
        );
        src.as_str()?.starts_with("blob:").then_some(())
    });
    b.click("#image-upload");
    let uploaded = b.wait("the uploaded image in the API", |_| {
        let img = app.get(api).expect(200).clone();
        img.get("updated_at").map(|_| path_of(&img["static_uri"]))
    });
    assert_ne!(uploaded, default);
    let served = ureq::get(&format!("{}{uploaded}", app.base))
        .call()
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut served.into_reader(), &mut bytes).unwrap();
    assert_eq!(bytes, PNG);
    let logo = |b: &super::Browser| {
        b.script(
            "return new URL(document.getElementById('logo').src).pathname;",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    };
    b.wait("the header's logo", |b| (logo(b) == uploaded).then_some(()));
    b.screenshot("branding-image-uploaded");

    let bad = dir.path().join("notes.png");
    std::fs::write(&bad, "not an image at all").unwrap();
    b.choose_file("#image-file", &bad);
    b.click("#image-upload");
    let shown = b.wait("the error beside the file field", |b| {
        Some(b.text("#image-file-error")).filter(|t| !t.is_empty())
    });
    assert!(shown.to_lowercase().contains("png"), "{shown}");
    assert_eq!(path_of(&app.get(api).expect(200)["static_uri"]), uploaded);

    b.click("#image-reset");
    b.click_button("Yes, reset to default");
    b.wait("the default image in the API", |_| {
        app.get(api)
            .expect(200)
            .get("updated_at")
            .is_none()
            .then_some(())
    });
    b.wait("the default logo in the header", |b| {
        (logo(b) == default).then_some(())
    });
    b.assert_no_console_errors_but(&["upload-multipart - Failed to load resource"]);
}

/// The invitations of the account on their own page: invite, send again (a new invitation
/// in place of the old), revoke.
#[test]
fn an_admin_invites_sends_again_and_revokes_on_the_invitations_page() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/invitations']");
    b.on("invitations");
    let email = format!("{}@example.com", unique("invitee"));
    b.fill("#invite-form", "email", &email);
    b.submit("#invite-form");
    b.wait_text("#main table", &email);
    let pending = || -> Vec<String> {
        let list = app
            .get("/v3/user-invitations?limit=1000")
            .expect(200)
            .clone();
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["email"] == email.as_str())
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = pending();
    assert_eq!(first.len(), 1);
    let sent = || {
        crate::users::outbox(&app)
            .into_iter()
            .filter(|(_, text)| text.contains(&format!("To: <{email}>\r\n")))
            .count()
    };
    assert_eq!(sent(), 1);
    b.click(&format!("button[aria-label='Send again to {email}']"));
    b.wait("a second invitation in place of the first", |_| {
        let now = pending();
        (now.len() == 1 && now != first && sent() == 2).then_some(())
    });
    b.screenshot("invitations-page");
    b.click(&format!("button[aria-label='Revoke {email}']"));
    b.click_button("Yes, revoke");
    b.wait("no invitation left", |_| pending().is_empty().then_some(()));
    b.wait("the table without it", |b| {
        (!b.text("#main table").contains(&email)).then_some(())
    });
    b.assert_no_console_errors();
}

/// An aggregator admin enrolls a tenant (its admin finishes by email, on a console page)
/// and creates identity providers for its own account and for the tenant.
#[test]
fn an_aggregator_admin_enrolls_a_tenant_and_creates_identity_providers() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/tenants']");
    b.on("tenants");
    let name = unique("Enrolled");
    let admin_email = format!("{}@example.com", unique("enrollee"));
    b.fill("#create-tenant-form", "display_name", &name);
    b.fill("#create-tenant-form", "admin_email", &admin_email);
    b.click("#create-tenant-form [name='enroll']");
    b.submit("#create-tenant-form");
    b.wait_text("#tenant-created", "email");
    let tenant = b.wait("the tenant in the API", |_| {
        let list = app.get("/v3/accounts?limit=1000").expect(200).clone();
        list["data"]
            .as_array()?
            .iter()
            .find(|a| a["display_name"] == name.as_str())
            .map(|a| a["id"].as_str().unwrap().to_string())
    });
    let users = format!("/v3/accounts/{tenant}/users?email__eq={admin_email}");
    let admin = app.get(&users).expect(200)["data"][0].clone();
    assert_eq!(admin["status"], "ENROLLING");

    // The tenant's identity provider, through /v3/accounts/{id}/identity-providers.
    b.click_button(&format!("Identity providers of {name}"));
    b.fill(
        "#tenant-idp-form",
        "saml2_attributes.sso_endpoint",
        "not a url",
    );
    b.fill("#tenant-idp-form", "name", "Tenant SSO");
    b.submit("#tenant-idp-form");
    let error = b.wait("the error beside sso_endpoint", |b| {
        let t = b.script(
            "const i = document.querySelector('#tenant-idp-form [name=\"saml2_attributes.sso_endpoint\"]');\
             return i && i.getAttribute('aria-invalid') === 'true' ? \
             document.getElementById(i.getAttribute('aria-describedby')).innerText : '';",
            json!([]),
        );
        t.as_str().filter(|t| !t.is_empty()).map(String::from)
    });
    assert!(!error.is_empty());
    b.fill(
        "#tenant-idp-form",
        "saml2_attributes.sso_endpoint",
        "https://idp.example.com/sso",
    );
    b.fill(
        "#tenant-idp-form",
        "saml2_attributes.idp_entity_id",
        "https://idp.example.com",
    );
    b.submit("#tenant-idp-form");
    b.wait_text("#tenant-detail table", "Tenant SSO");
    let idps = app
        .get(&format!("/v3/accounts/{tenant}/identity-providers"))
        .expect(200)
        .clone();
    assert_eq!(idps["data"][0]["name"], "Tenant SSO");
    assert_eq!(
        idps["data"][0]["saml2_attributes"]["sso_endpoint"],
        "https://idp.example.com/sso"
    );
    b.screenshot("tenant-identity-providers");

    // The account's own identity provider, on its page.
    b.click("nav a[href='#/identity-providers']");
    b.on("identity-providers");
    b.fill("#idp-form", "name", "Own SSO");
    b.fill(
        "#idp-form",
        "saml2_attributes.sso_endpoint",
        "https://own.example.com/sso",
    );
    b.submit("#idp-form");
    b.wait_text("#main table", "Own SSO");
    let own = app.get("/v3/identity-providers").expect(200).clone();
    assert!(own["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "Own SSO" && p["type"] == "SAML2"));

    // The enrolled admin finishes with the link of the email, in the console.
    b.click("#sign-out");
    b.on("signin");
    let eml = crate::users::email_to(&app, &admin_email);
    let link = eml
        .split_whitespace()
        .find(|w| w.contains("token="))
        .expect("a link in the email");
    b.goto(link);
    b.on("invitation");
    b.fill("#invitation-form", "password", PASSWORD);
    b.submit("#invitation-form");
    b.wait_text("#main", "is ready");
    let admin = app.get(&users).expect(200)["data"][0].clone();
    assert_eq!(admin["status"], "ACTIVE");
    b.assert_no_console_errors_but(&["identity-providers - Failed to load resource"]);
}

/// The groups of `path` (a key's or a user's) as the API lists them.
fn group_ids(app: &crate::common::TestApp, path: &str) -> Vec<String> {
    app.get(path).expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect()
}

/// API keys and users move in and out of policy groups from the key's, the user's and
/// the group's pages.
#[test]
fn an_admin_adds_and_removes_keys_and_users_in_groups() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let key_name = unique("key");
    let key = app
        .post("/v3/api-keys", &json!({"name": key_name}))
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let person = crate::auth::person(&app, json!({}));
    let (user, email) = (
        person["id"].as_str().unwrap().to_string(),
        person["email"].as_str().unwrap().to_string(),
    );
    let groups = app.get("/v3/policy-groups?limit=100").expect(200).clone();
    let devs = groups["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Developers")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key_groups = format!("/v3/api-keys/{key}/groups");
    let user_groups = format!("/v3/users/{user}/groups");
    sign_in_admin(&app, &b);

    // From the key's page.
    b.click("nav a[href='#/api-keys']");
    b.on("api-keys");
    b.click(&format!("button[aria-label='Groups of {key_name}']"));
    b.click(&format!("#memberships select option[value='{devs}']"));
    b.click("#memberships-add");
    b.wait("the key in Developers", |_| {
        (group_ids(&app, &key_groups) == vec![devs.clone()]).then_some(())
    });
    b.wait_text("#memberships table", "Developers");
    b.click("#memberships button[aria-label='Remove from Developers']");
    b.click_button("Yes, remove");
    b.wait("the key out of Developers", |_| {
        group_ids(&app, &key_groups).is_empty().then_some(())
    });

    // From the user's page.
    b.click("nav a[href='#/users']");
    b.on("users");
    b.click(&format!("button[aria-label='Groups of {email}']"));
    b.click(&format!("#memberships select option[value='{devs}']"));
    b.click("#memberships-add");
    b.wait("the user in Developers", |_| {
        group_ids(&app, &user_groups).contains(&devs).then_some(())
    });
    b.click("#memberships button[aria-label='Remove from Developers']");
    b.click_button("Yes, remove");
    b.wait("the user out of Developers", |_| {
        (!group_ids(&app, &user_groups).contains(&devs)).then_some(())
    });

    // From the group's page: the key in and out.
    b.click("nav a[href='#/groups']");
    b.on("groups");
    b.click_button("Members of Developers");
    b.click(&format!("#add-key-form option[value='{key}']"));
    b.submit("#add-key-form");
    b.wait("the key in Developers", |_| {
        (group_ids(&app, &key_groups) == vec![devs.clone()]).then_some(())
    });
    b.wait_text("#group-keys table", &key_name);
    b.screenshot("group-members-keys");
    b.click(&format!(
        "#group-keys button[aria-label='Remove {key_name}']"
    ));
    b.click_button("Yes, remove");
    b.wait("the key out of Developers", |_| {
        group_ids(&app, &key_groups).is_empty().then_some(())
    });
    b.assert_no_console_errors();
}
