//! The journeys of issue 18, each as a person does it in the console.

use super::{developer, setup, sign_in, sign_in_admin, totp};
use crate::auth::PASSWORD;
use crate::common::unique;
use serde_json::{json, Value};

/// (1) An invited person opens the link from the `.eml`, sets a password, signs in, sets up
/// TOTP with a code computed here, signs out and in again with TOTP.
#[test]
fn an_invited_person_accepts_signs_in_and_sets_up_totp() {
    let Some((app, clock, b)) = setup() else {
        return;
    };
    let email = format!("{}@example.com", unique("inv"));
    app.post("/v3/user-invitations", &json!({"email": email}))
        .expect(201);
    let eml = crate::users::email_to(&app, &email);
    let link = eml
        .split_whitespace()
        .find(|w| w.contains("token="))
        .expect("a link in the email");
    assert!(link.starts_with(&format!("{}/console/#/invitation?token=", app.base)));
    b.goto(link);
    b.on("invitation");
    b.fill("#invitation-form", "password", PASSWORD);
    b.submit("#invitation-form");
    b.wait_text("#main", "is ready");
    b.click("#to-signin");
    super::sign_in(&app, &b, &email, PASSWORD, None);
    b.wait_text("#account-facts", &email);

    b.click("nav a[href='#/profile']");
    b.on("profile");
    b.click("#totp-start");
    let secret = b.wait("the TOTP key", |b| {
        Some(b.text("#totp-secret")).filter(|s| !s.is_empty())
    });
    assert!(!b.el("#totp-setup svg.qr").is_empty());
    b.fill("#totp-confirm-form", "otp", &totp(&secret, &clock));
    b.submit("#totp-confirm-form");
    let codes = b.wait_text("#scratch-codes", "Scratch codes");
    assert!(codes.lines().count() >= 10, "{codes}");
    b.screenshot("journey1-totp");
    b.click("#totp-done");
    b.wait_text("#main", "Two-factor sign-in is on");

    b.click("#sign-out");
    b.on("signin");
    // The next step's code: the one that confirmed TOTP is spent.
    clock.advance(30_000);
    super::sign_in(&app, &b, &email, PASSWORD, Some(&totp(&secret, &clock)));
    b.on("dashboard");
    b.wait_text("#account-facts", &email);
    b.screenshot("journey1-signed-in-with-totp");
    b.assert_no_console_errors();
}

/// (2) An admin creates an API key, reads the secret once, and the key works over HTTP.
#[test]
fn an_admin_creates_an_api_key_that_works() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/api-keys']");
    b.on("api-keys");
    b.fill("#create-key-form", "name", "from the console");
    b.submit("#create-key-form");
    let key = b.wait("the new key's secret", |b| {
        Some(b.text("#new-key code.secret")).filter(|s| s.starts_with("ak_"))
    });
    b.screenshot("journey2-api-key");
    let me = app.with_key(&key).get("/v3/api-keys/me");
    assert_eq!(me.expect(200)["name"], "from the console");
    // Shown once: a reload of the page shows no secret.
    b.click("nav a[href='#/dashboard']");
    b.on("dashboard");
    b.click("nav a[href='#/api-keys']");
    b.on("api-keys");
    b.wait_text("#main table", "from the console");
    assert!(!b.text("#main").contains(&key));
    b.assert_no_console_errors();
}

/// (3) An admin changes `primary` for the dark theme; the sign-in page in dark mode shows it.
#[test]
fn a_dark_primary_set_by_an_admin_brands_the_dark_sign_in_page() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    b.dark(true);
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/branding']");
    b.on("branding");
    // The editor opens on the browser's theme: dark.
    b.fill("#main", "primary", "#AA3311");
    b.click("#save-dark-primary");
    b.wait("the saved color", |_| {
        let c: Value = app
            .get("/v3/branding-colors/dark/primary")
            .expect(200)
            .clone();
        (c["color"].as_str().map(str::to_lowercase) == Some("#aa3311".into())).then_some(())
    });
    b.screenshot("journey3-branding-editor");
    b.click("#sign-out");
    b.on("signin");
    let primary = |b: &super::Browser| {
        b.script(
            "return document.documentElement.dataset.branded + ' ' + \
             getComputedStyle(document.documentElement).getPropertyValue('--primary').trim();",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_lowercase()
    };
    b.wait("the dark primary", |b| {
        (primary(b) == "dark #aa3311").then_some(())
    });
    b.screenshot("journey3-signin-dark");
    // The light theme keeps its own primary.
    b.dark(false);
    b.wait("the light primary", |b| {
        (primary(b) == "light #1565c0").then_some(())
    });
    b.screenshot("journey3-signin-light");
    b.assert_no_console_errors();
}

/// (4) A developer creates a developer certificate and downloads a `.c` file that compiles.
#[test]
fn a_developer_downloads_a_credentials_file_that_compiles() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let email = developer(&app);
    sign_in(&app, &b, &email, PASSWORD, None);
    b.click("nav a[href='#/developer-certificates']");
    b.on("developer-certificates");
    b.fill("#create-devcert-form", "name", "my board");
    b.submit("#create-devcert-form");
    b.click("#download-devcert");
    let c = b.downloaded("mbed_cloud_dev_credentials.c");
    b.screenshot("journey4-developer-certificate");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mbed_cloud_dev_credentials.c");
    std::fs::write(&file, &c).unwrap();
    let out = std::process::Command::new("gcc")
        .args(["-c", "-Wall", "-Werror", "-o"])
        .arg(dir.path().join("out.o"))
        .arg(&file)
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    b.assert_no_console_errors();
}

/// (6) A Developers user sees no admin actions.
#[test]
fn a_developer_sees_no_admin_actions() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let email = developer(&app);
    sign_in(&app, &b, &email, PASSWORD, None);
    b.wait_text("#account-facts", "User");
    let nav = b.text("#nav");
    assert!(
        !nav.contains("Branding") && !nav.contains("Tenants") && !nav.contains("Invitations"),
        "{nav}"
    );
    b.click("nav a[href='#/users']");
    b.on("users");
    b.wait_text("#main table", &email);
    for form in ["#create-user-form", "#invite-form"] {
        assert!(b.text(form).is_empty(), "{form} is offered");
    }
    assert!(b.text("#main .danger").is_empty());
    b.screenshot("journey6-developer-users");
    b.click("nav a[href='#/groups']");
    b.on("groups");
    b.wait_text("#main table", "Developers");
    assert!(b.text("#create-group-form").is_empty());
    // A group's members: listed, with nothing to add or remove.
    b.click_button("Members of Developers");
    b.wait_text("#group-members", &email);
    b.el("#group-keys table");
    for form in ["#add-member-form", "#add-key-form"] {
        assert!(b.text(form).is_empty(), "{form} is offered");
    }
    assert!(b.text("#main .danger").is_empty());
    // Pages for admins only are not opened, even by their address.
    b.goto(&format!("{}/console/#/invitations", app.base));
    b.on("invitations");
    b.wait_text("#main h1", "Dashboard");
    assert!(b.text("#invite-form").is_empty());
    b.click("nav a[href='#/identity-providers']");
    b.on("identity-providers");
    b.el("#main table");
    assert!(b.text("#idp-form").is_empty());
    b.click("nav a[href='#/groups']");
    b.on("groups");
    // At 360 px the page fits: nothing is wider than the window.
    b.width(360, 800);
    b.wait("the page at 360 px", |b| {
        let over = b.script(
            "const d = document.documentElement; return d.scrollWidth - d.clientWidth;",
            json!([]),
        );
        (over.as_i64() == Some(0)).then_some(())
    });
    b.screenshot("journey6-360px");
    b.assert_no_console_errors();
}

/// (5) An aggregator admin creates a tenant and manages its users.
#[test]
fn an_aggregator_admin_creates_a_tenant_and_manages_its_users() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    b.click("nav a[href='#/tenants']");
    b.on("tenants");
    let name = unique("Tenant");
    b.fill("#create-tenant-form", "display_name", &name);
    b.fill(
        "#create-tenant-form",
        "admin_email",
        &format!("{}@example.com", unique("tadmin")),
    );
    b.submit("#create-tenant-form");
    b.click_button(&format!("Users of {name}"));
    let tenant = b.wait("the tenant in the API", |_| {
        let list = app.get("/v3/accounts?limit=1000").expect(200).clone();
        list["data"]
            .as_array()?
            .iter()
            .find(|a| a["display_name"] == name.as_str())
            .map(|a| a["id"].as_str().unwrap().to_string())
    });
    let email = format!("{}@example.com", unique("tuser"));
    b.fill("#tenant-user-form", "email", &email);
    b.fill("#tenant-user-form", "password", PASSWORD);
    b.submit("#tenant-user-form");
    b.wait_text("#tenant-detail table", &email);
    let users = format!("/v3/accounts/{tenant}/users?email__eq={email}");
    let user = app.get(&users).expect(200)["data"][0].clone();
    assert_eq!(user["account_id"], tenant.as_str());
    b.screenshot("journey5-tenant-users");
    b.click(&format!(
        "#tenant-detail button[aria-label='Delete {email}']"
    ));
    b.click_button("Yes, delete");
    b.wait("the tenant user deleted", |_| {
        let list = app.get(&users).expect(200).clone();
        list["data"].as_array()?.is_empty().then_some(())
    });
    b.assert_no_console_errors();
}

/// A user an admin set to RESET is led to set a password before the console opens.
#[test]
fn a_reset_user_sets_a_password_before_the_console_opens() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let u = crate::auth::person(&app, json!({}));
    let id = u["id"].as_str().unwrap();
    app.put(&format!("/v3/users/{id}"), &json!({"status": "RESET"}))
        .expect(200);
    let email = u["email"].as_str().unwrap();
    b.goto(&format!("{}/console/#/signin", app.base));
    b.on("signin");
    b.fill("#signin-form", "username", email);
    b.fill("#signin-form", "password", PASSWORD);
    b.submit("#signin-form");
    b.on("finish");
    b.wait_text("#main h1", "Set a new password");
    b.fill("#change-password-form", "current_password", PASSWORD);
    b.fill(
        "#change-password-form",
        "new_password",
        "another long password 2",
    );
    b.submit("#change-password-form");
    b.on("dashboard");
    b.wait_text("#account-facts", email);
    let user = app.get(&format!("/v3/users/{id}")).expect(200).clone();
    assert_eq!(user["status"], "ACTIVE");
    b.screenshot("journey-reset-password");
    b.assert_no_console_errors();
}

/// Every page of the menu opens for an admin, keyboard-focusable at its heading, with no
/// error shown and none in the browser's console.
#[test]
fn every_page_of_the_menu_opens_for_an_admin() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    sign_in_admin(&app, &b);
    let routes = b.script(
        "return [...document.querySelectorAll('#nav a')].map(a => a.getAttribute('href').slice(2));",
        json!([]),
    );
    let routes: Vec<String> = serde_json::from_value(routes).unwrap();
    assert!(routes.len() >= 12, "{routes:?}");
    assert_eq!(routes[0], "dashboard");
    // From the second on (the first is open), then back to the first.
    for route in routes.iter().skip(1).chain(&routes[..1]) {
        b.click(&format!("nav a[href='#/{route}']"));
        b.on(route);
        // Lists load after the page shows: wait for them to settle.
        b.wait(&format!("the lists of {route}"), |b| {
            let loading = b.script(
                "return [...document.querySelectorAll('#main .list')].some(l => !l.children.length);",
                json!([]),
            );
            (loading == json!(false)).then_some(())
        });
        let shown = b.text("#main .error");
        assert!(shown.is_empty(), "{route} shows an error: {shown}");
        let focused = b.script("return document.activeElement.tagName;", json!([]));
        assert_eq!(focused, "H1", "{route}: the heading takes the focus");
        b.screenshot(&format!("page-{route}"));
    }
    b.assert_no_console_errors();
}

/// A reload keeps the person signed in (the HttpOnly cookie), a sign-out ends that too, and
/// no script of the page can read the token.
#[test]
fn a_reload_keeps_the_session_and_a_sign_out_ends_it() {
    let Some((app, _clock, b)) = setup() else {
        return;
    };
    let email = developer(&app);
    sign_in(&app, &b, &email, PASSWORD, None);
    b.reload();
    b.on("dashboard");
    b.wait_text("#account-facts", &email);
    let cookies = b.script("return document.cookie;", json!([]));
    assert_eq!(cookies, "", "the session cookie is HttpOnly");
    b.click("#sign-out");
    b.on("signin");
    b.reload();
    b.on("signin");
    assert!(b.text("#nav").is_empty());
    b.assert_no_console_errors();
}

/// In an account with `mfa_status: enforced`, a user without TOTP sets it up before the
/// console opens.
#[test]
fn an_enforced_account_leads_a_user_through_totp_setup() {
    let Some((app, clock, b)) = setup() else {
        return;
    };
    let email = developer(&app);
    app.put("/v3/accounts/me", &json!({"mfa_status": "enforced"}))
        .expect(200);
    b.goto(&format!("{}/console/#/signin", app.base));
    b.on("signin");
    b.fill("#signin-form", "username", &email);
    b.fill("#signin-form", "password", PASSWORD);
    b.submit("#signin-form");
    b.on("finish");
    b.click("#totp-start");
    let secret = b.wait("the TOTP key", |b| {
        Some(b.text("#totp-secret")).filter(|s| !s.is_empty())
    });
    b.fill("#totp-confirm-form", "otp", &totp(&secret, &clock));
    b.submit("#totp-confirm-form");
    b.wait_text("#scratch-codes", "Scratch codes");
    b.click("#totp-done");
    b.on("dashboard");
    b.wait_text("#account-facts", &email);
    b.assert_no_console_errors();
}
