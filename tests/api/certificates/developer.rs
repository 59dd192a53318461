//! Developer certificates, permissions and the tenant routes of trusted certificates.

use super::{ids, pem_der, sha256_hex, upload, DEVELOPER, TRUSTED};
use crate::common::{non_admin, spawn_app, spawn_app_with, start_in_process, test_config};
use iamd::pki::testcerts;
use serde_json::{json, Value};

#[test]
fn only_admins_change_trusted_certificates() {
    let app = spawn_app();
    let (dev, dev_user) = non_admin(&app, false);
    let cert = app
        .post(
            TRUSTED,
            &upload("admin", &testcerts::self_signed("admin cert"), "lwm2m"),
        )
        .expect(201)
        .clone();
    let path = format!("{TRUSTED}/{}", cert["id"].as_str().unwrap());
    dev.post(
        TRUSTED,
        &upload("mine", &testcerts::self_signed("dev cert"), "lwm2m"),
    )
    .expect_error(403);
    dev.put(&path, &json!({"description": "x"}))
        .expect_error(403);
    dev.delete(&path).expect_error(403);
    assert_eq!(dev.get(&path).expect(200).clone(), cert);
    assert_eq!(app.get(TRUSTED).expect(200)["total_count"], 1);

    // Developer certificates: anyone creates and reads them; the owner or an admin deletes.
    let own = dev
        .post(DEVELOPER, &json!({"name": "dev-own"}))
        .expect(201)
        .clone();
    let admins = app
        .post(DEVELOPER, &json!({"name": "admin-own"}))
        .expect(201)
        .clone();
    let own_trusted = dev
        .get(&format!("{TRUSTED}/{}", own["id"].as_str().unwrap()))
        .expect(200)
        .clone();
    assert_eq!(own_trusted["owner_id"], dev_user.as_str());
    assert_eq!(own_trusted["device_execution_mode"], 1);
    dev.get(&format!("{DEVELOPER}/{}", admins["id"].as_str().unwrap()))
        .expect(200);
    // Even its owner may not replace parts of it: updates stay admin-only.
    dev.put(
        &format!("{TRUSTED}/{}", own["id"].as_str().unwrap()),
        &json!({"name": "x"}),
    )
    .expect_error(403);
    dev.delete(&format!("{TRUSTED}/{}", admins["id"].as_str().unwrap()))
        .expect_error(403);
    dev.delete(&format!("{TRUSTED}/{}", own["id"].as_str().unwrap()))
        .expect(204);
    dev.get(&format!("{DEVELOPER}/{}", own["id"].as_str().unwrap()))
        .expect_error(404);
    app.delete(&format!("{TRUSTED}/{}", admins["id"].as_str().unwrap()))
        .expect(204);

    // Tenant routes need an aggregator admin.
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    dev.get(&format!("/v3/accounts/{account}/trusted-certificates"))
        .expect_error(403);
}

#[test]
fn tenant_routes_reach_the_same_handlers() {
    let app = spawn_app();
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/v3/accounts/{account}/trusted-certificates");
    let created = app
        .post(
            &base,
            &upload(
                "tenant",
                &testcerts::self_signed("tenant cert"),
                "bootstrap",
            ),
        )
        .expect(201)
        .clone();
    assert_eq!(created["account_id"], account.as_str());
    // Made on a tenant route, the parent admin is not recorded as the owner.
    assert_eq!(created["owner_id"], Value::Null);
    let path = format!("{base}/{}", created["id"].as_str().unwrap());
    assert_eq!(app.get(&path).expect(200).clone(), created);
    assert_eq!(
        ids(app.get(&format!("{base}?name__eq=tenant")).expect(200)),
        [created["id"].as_str().unwrap()]
    );
    let updated = app
        .put(&path, &json!({"description": "tenant side"}))
        .expect(200)
        .clone();
    assert_eq!(updated["etag"], "2");
    app.post(
        &base,
        &upload("tenant", &testcerts::self_signed("other"), "bootstrap"),
    )
    .expect_error(409);
    app.post(&base, &upload("tenant2", "garbage", "bootstrap"))
        .expect_field_error(400, "certificate");
    app.delete(&path).expect(204);
    app.get(&path).expect_error(404);
    // Unknown accounts are 404, as are malformed account ids.
    let stranger = "0123456789abcdef0123456789abcdef";
    app.get(&format!("/v3/accounts/{stranger}/trusted-certificates"))
        .expect_error(404);
    app.post(
        &format!("/v3/accounts/{stranger}/trusted-certificates"),
        &upload("x", &testcerts::self_signed("x"), "lwm2m"),
    )
    .expect_error(404);
    app.get("/v3/accounts/nope/trusted-certificates")
        .expect_error(404);
    // Developer certificates have no tenant route.
    app.post(
        &format!("/v3/accounts/{account}/developer-certificates"),
        &json!({"name": "x"}),
    )
    .expect_error(404);
}

#[test]
fn developer_certificate_is_a_trusted_certificate_with_a_device_identity() {
    let app = spawn_app();
    let me = app.get("/v3/users/me").expect(200)["id"].clone();
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = app
        .post(
            DEVELOPER,
            &json!({"name": "board", "description": "for my board"}),
        )
        .expect(201)
        .clone();
    assert_eq!(created["object"], "trusted-cert");
    assert_eq!(created["account_id"], account.as_str());
    assert_eq!(created["name"], "board");
    assert_eq!(created["description"], "for my board");
    assert_eq!(created["etag"], "1");
    let cert_pem = created["developer_certificate"].as_str().unwrap();
    let key_pem = created["developer_private_key"].as_str().unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let security = created["security_file_content"].as_str().unwrap();
    assert!(security.contains(&format!("?aid={account}")), "{security}");
    let der = pem_der(cert_pem, "CERTIFICATE");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    let endpoint = cert
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(endpoint.len(), 32);
    assert!(endpoint.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        cert.subject()
            .iter_organizational_unit()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        account
    );

    let id = created["id"].as_str().unwrap().to_string();
    // GET returns the same credentials, byte for byte.
    assert_eq!(
        app.get(&format!("{DEVELOPER}/{id}")).expect(200).clone(),
        created
    );
    // The same id is a trusted certificate of the account, for the bootstrap server.
    let trusted = app.get(&format!("{TRUSTED}/{id}")).expect(200).clone();
    assert_eq!(trusted["device_execution_mode"], 1);
    assert_eq!(trusted["service"], "bootstrap");
    assert_eq!(trusted["status"], "ACTIVE");
    assert_eq!(trusted["owner_id"], me);
    assert_eq!(trusted["certificate"], cert_pem);
    assert_eq!(
        trusted["certificate_fingerprint"],
        sha256_hex(&der).as_str()
    );
    assert_eq!(
        trusted["subject"],
        format!("CN={endpoint},OU={account}").as_str()
    );
    assert_eq!(trusted["subject"], trusted["issuer"]);
    assert!(!trusted.to_string().contains("PRIVATE"));
    assert!(ids(app
        .get(&format!("{TRUSTED}?device_execution_mode__eq=1"))
        .expect(200))
    .contains(&id));

    // Its name is taken for trusted certificates too, and the other way round.
    app.post(DEVELOPER, &json!({"name": "board"}))
        .expect_error(409);
    app.post(
        TRUSTED,
        &upload("board", &testcerts::self_signed("b"), "lwm2m"),
    )
    .expect_error(409);
    app.post(
        TRUSTED,
        &upload("plain", &testcerts::self_signed("plain"), "lwm2m"),
    )
    .expect(201);
    app.post(DEVELOPER, &json!({"name": "plain"}))
        .expect_error(409);

    // Renaming through the trusted route shows on the developer route; the certificate
    // itself cannot be swapped under the stored device key.
    let renamed = app
        .put(
            &format!("{TRUSTED}/{id}"),
            &json!({"name": "board-2", "certificate": cert_pem}),
        )
        .expect(200)
        .clone();
    assert_eq!(renamed["etag"], "2");
    let again = app.get(&format!("{DEVELOPER}/{id}")).expect(200).clone();
    assert_eq!(
        (&again["name"], &again["etag"]),
        (&json!("board-2"), &json!("2"))
    );
    assert_eq!(
        again["security_file_content"],
        created["security_file_content"]
    );
    app.put(
        &format!("{TRUSTED}/{id}"),
        &json!({"certificate": testcerts::self_signed("swap")}),
    )
    .expect_field_error(400, "certificate");

    // Validation.
    app.post(DEVELOPER, &json!({"description": "x"}))
        .expect_field_error(400, "name");
    for (req, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (
            json!({"name": "ok", "description": "d".repeat(501)}),
            "description",
        ),
        (json!({"name": 5}), "name"),
    ] {
        app.post(DEVELOPER, &req).expect_field_error(400, field);
    }
    app.post(
        DEVELOPER,
        &json!({"name": "n".repeat(100), "description": "d".repeat(500)}),
    )
    .expect(201);

    // A trusted certificate that is not a developer certificate, unknown and malformed ids.
    let plain = app.get(&format!("{TRUSTED}?name__eq=plain")).expect(200)["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("{DEVELOPER}/{plain}")).expect_error(404);
    app.get(&format!("{DEVELOPER}/0123456789abcdef0123456789abcdef"))
        .expect_error(404);
    app.get(&format!("{DEVELOPER}/xyz")).expect_error(404);
    app.anonymous()
        .post(DEVELOPER, &json!({"name": "anon"}))
        .expect_error(401);
    app.anonymous()
        .get(&format!("{DEVELOPER}/{id}"))
        .expect_error(401);

    // Deleting the trusted certificate deletes the developer certificate.
    app.delete(&format!("{TRUSTED}/{id}")).expect(204);
    app.get(&format!("{DEVELOPER}/{id}")).expect_error(404);
}

#[test]
fn developer_certificates_per_account_are_limited() {
    let app = spawn_app_with(|c| c.limits.developer_certificates_per_account = 2);
    let a = app
        .post(DEVELOPER, &json!({"name": "one"}))
        .expect(201)
        .clone();
    app.post(DEVELOPER, &json!({"name": "two"})).expect(201);
    app.post(DEVELOPER, &json!({"name": "three"}))
        .expect_error(403);
    // Plain trusted certificates do not count against it.
    app.post(
        TRUSTED,
        &upload("plain", &testcerts::self_signed("plain"), "lwm2m"),
    )
    .expect(201);
    assert_eq!(app.get(TRUSTED).expect(200)["total_count"], 3);
    app.delete(&format!("{TRUSTED}/{}", a["id"].as_str().unwrap()))
        .expect(204);
    app.post(DEVELOPER, &json!({"name": "three"})).expect(201);
}

#[test]
fn developer_credentials_survive_a_restart() {
    let app = spawn_app();
    let created = app
        .post(DEVELOPER, &json!({"name": "persist"}))
        .expect(201)
        .clone();
    let path = format!("{DEVELOPER}/{}", created["id"].as_str().unwrap());
    let data_dir = app.data_dir.clone();
    let dir = app.stop().unwrap();
    let again = start_in_process(test_config(&data_dir));
    assert_eq!(again.get(&path).expect(200).clone(), created);
    drop(again);
    drop(dir);
}
