//! Identity providers: `/v3/identity-providers/...` and the tenant twins.

use crate::common::{field_names, id_of, non_admin, spawn_app, unique, Client, TestApp};
use base64::Engine as _;
use serde_json::{json, Value};

const BASE: &str = "/v3/identity-providers";

fn cert(cn: &str) -> String {
    iamd::pki::testcerts::self_signed(cn)
}

fn saml_body(name: &str) -> Value {
    json!({
        "name": name,
        "type": "SAML2",
        "description": "Corporate login",
        "saml2_attributes": {
            "idp_entity_id": "https://idp.example.com/entity",
            "sso_endpoint": "https://idp.example.com/sso",
            "slo_endpoint": "https://idp.example.com/slo",
            "idp_x509_certs": [cert("idp signing")],
        }
    })
}

fn create(app: &Client, name: &str) -> Value {
    app.post(BASE, &saml_body(name)).expect(201).clone()
}

fn total(app: &TestApp) -> u64 {
    app.get(BASE).expect(200)["total_count"].as_u64().unwrap()
}

#[test]
fn create_read_update_delete() {
    let app = spawn_app();
    let account = app.get("/v3/accounts/me").expect(200)["id"].clone();
    let name = unique("idp");
    let resp = app.post(BASE, &saml_body(&name));
    let created = resp.expect(201).clone();
    let id = id_of(&created);
    assert_eq!(id.len(), 32);
    assert_eq!(
        resp.header("location"),
        Some(format!("{BASE}/{id}").as_str())
    );
    assert_eq!(created["object"], "identity-provider");
    assert_eq!(created["account_id"], account);
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["description"], "Corporate login");
    assert_eq!(created["type"], "SAML2");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["etag"], "1");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let saml = &created["saml2_attributes"];
    assert_eq!(saml["idp_entity_id"], "https://idp.example.com/entity");
    assert_eq!(saml["sso_endpoint"], "https://idp.example.com/sso");
    assert_eq!(saml["slo_endpoint"], "https://idp.example.com/slo");
    assert_eq!(saml["idp_x509_certs"].as_array().unwrap().len(), 1);
    assert!(saml["idp_x509_certs"][0]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----\n"));
    let sp_entity = saml["sp_entity_id"].as_str().unwrap();
    assert!(
        sp_entity.starts_with("http") && sp_entity.contains(&id),
        "{sp_entity}"
    );
    let acs = saml["assertion_endpoint"].as_str().unwrap();
    assert!(acs.starts_with("http") && acs.contains(&id), "{acs}");
    assert!(saml["sp_x509_cert"].is_null());

    assert_eq!(app.get(&format!("{BASE}/{id}")).expect(200), &created);

    let updated = app
        .put(
            &format!("{BASE}/{id}"),
            &json!({"name": "renamed", "type": "SAML2", "status": "SUSPENDED",
                    "saml2_attributes": {"slo_endpoint": "", "sp_entity_id": "urn:my-sp"}}),
        )
        .expect(200)
        .clone();
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["status"], "SUSPENDED");
    assert_eq!(updated["etag"], "2");
    assert_eq!(
        updated["description"], "Corporate login",
        "absent = unchanged"
    );
    assert!(
        updated["saml2_attributes"]["slo_endpoint"].is_null(),
        "empty = cleared"
    );
    assert_eq!(updated["saml2_attributes"]["sp_entity_id"], "urn:my-sp");
    assert_eq!(
        updated["saml2_attributes"]["sso_endpoint"],
        "https://idp.example.com/sso"
    );
    assert_eq!(updated["created_at"], created["created_at"]);

    // A client echoing the whole read model back changes nothing but the etag.
    let echoed = app
        .put(&format!("{BASE}/{id}"), &updated)
        .expect(200)
        .clone();
    assert_eq!(echoed["etag"], "3");
    for field in ["name", "status", "description", "saml2_attributes", "type"] {
        assert_eq!(echoed[field], updated[field], "{field}");
    }
    // An empty sp_entity_id goes back to the generated one.
    let regenerated = app
        .put(
            &format!("{BASE}/{id}"),
            &json!({"name": "renamed", "type": "SAML2", "saml2_attributes": {"sp_entity_id": ""}}),
        )
        .expect(200)
        .clone();
    assert_eq!(
        regenerated["saml2_attributes"]["sp_entity_id"],
        created["saml2_attributes"]["sp_entity_id"]
    );

    app.delete(&format!("{BASE}/{id}")).expect(204);
    app.get(&format!("{BASE}/{id}")).expect_error(404);
    app.delete(&format!("{BASE}/{id}")).expect_error(404);
    app.put(&format!("{BASE}/{id}"), &saml_body("x"))
        .expect_error(404);
    app.post(&format!("{BASE}/{id}/generate-sp-certificate"), &json!({}))
        .expect_error(404);
    app.post(&format!("{BASE}/{id}/delete-sp-certificate"), &json!({}))
        .expect_error(404);
    for bad in ["nothex", "0123", &"g".repeat(32)] {
        app.get(&format!("{BASE}/{bad}")).expect_error(404);
        app.delete(&format!("{BASE}/{bad}")).expect_error(404);
    }
    assert_eq!(total(&app), 0);
}

#[test]
fn bad_input_is_400_naming_the_field_and_changes_nothing() {
    let app = spawn_app();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"type": "SAML2"}), "name"),
        (json!({"name": "  ", "type": "SAML2"}), "name"),
        (json!({"name": "x".repeat(101), "type": "SAML2"}), "name"),
        (json!({"name": "n"}), "type"),
        (json!({"name": "n", "type": "OIDC"}), "type"),
        (
            json!({"name": "n", "type": "SAML2", "description": "d".repeat(501)}),
            "description",
        ),
        (
            json!({"name": "n", "type": "SAML2", "status": "DELETED"}),
            "status",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"idp_x509_certs": ["garbage"]}}),
            "saml2_attributes.idp_x509_certs",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"idp_x509_certs": [iamd::pki::testcerts::expired_cert()]}}),
            "saml2_attributes.idp_x509_certs",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"sso_endpoint": "not a url"}}),
            "saml2_attributes.sso_endpoint",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"slo_endpoint": "ftp://x"}}),
            "saml2_attributes.slo_endpoint",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"idp_entity_id": "e".repeat(1025)}}),
            "saml2_attributes.idp_entity_id",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"entity_descriptor": "%%%"}}),
            "saml2_attributes.entity_descriptor",
        ),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"idp_x509_certs": "one"}}),
            "saml2_attributes.idp_x509_certs",
        ),
    ];
    for (body, field) in &cases {
        app.post(BASE, body).expect_field_error(400, field);
    }
    // Every bad field is named at once.
    app.post(
        BASE,
        &json!({"description": "d".repeat(501), "status": "X"}),
    )
    .expect_fields_error(400, &["name", "description", "type", "status"]);
    app.raw("POST", BASE, Some(("application/json", b"{")), &[])
        .expect_bad_request("Malformed JSON body");
    assert_eq!(total(&app), 0, "failed creates store nothing");

    let before = create(&app, "keep");
    let path = format!("{BASE}/{}", id_of(&before));
    for (body, field) in [
        (json!({"type": "SAML2"}), "name"),
        (json!({"name": "n"}), "type"),
        (
            json!({"name": "n", "type": "SAML2", "saml2_attributes": {"idp_x509_certs": ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"]}}),
            "saml2_attributes.idp_x509_certs",
        ),
    ] {
        app.put(&path, &body).expect_field_error(400, field);
    }
    assert_eq!(
        app.get(&path).expect(200),
        &before,
        "failed updates change nothing"
    );
}

/// Base64 IdP metadata with the certificate `pem`.
fn metadata(pem: &str) -> String {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("\n");
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/metadata">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
        <ds:X509Certificate>{body}</ds:X509Certificate>
      </ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/slo"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[test]
fn entity_descriptor_supplies_the_attributes_explicit_fields_win() {
    let app = spawn_app();
    let pem = cert("from metadata");
    let created = app
        .post(
            BASE,
            &json!({"name": "md", "type": "SAML2",
                    "saml2_attributes": {"entity_descriptor": metadata(&pem)}}),
        )
        .expect(201)
        .clone();
    let saml = &created["saml2_attributes"];
    assert_eq!(saml["idp_entity_id"], "https://idp.example.org/metadata");
    assert_eq!(saml["sso_endpoint"], "https://idp.example.org/sso");
    assert_eq!(saml["slo_endpoint"], "https://idp.example.org/slo");
    assert_eq!(saml["idp_x509_certs"], json!([pem]));
    assert!(saml.get("entity_descriptor").is_none(), "not in SAML2Info");

    let both = app
        .post(
            BASE,
            &json!({"name": "md2", "type": "SAML2",
                    "saml2_attributes": {"entity_descriptor": metadata(&pem),
                                         "sso_endpoint": "https://other.example.org/sso"}}),
        )
        .expect(201)
        .clone();
    assert_eq!(
        both["saml2_attributes"]["sso_endpoint"],
        "https://other.example.org/sso"
    );
    assert_eq!(
        both["saml2_attributes"]["idp_entity_id"],
        "https://idp.example.org/metadata"
    );

    let not_xml = base64::engine::general_purpose::STANDARD.encode("<html>hello</html>");
    let err = app
        .post(
            BASE,
            &json!({"name": "bad", "type": "SAML2", "saml2_attributes": {"entity_descriptor": not_xml}}),
        )
        .expect_field_error(400, "saml2_attributes.entity_descriptor")
        .clone();
    assert_eq!(
        field_names(&err),
        vec!["saml2_attributes.entity_descriptor"]
    );
}

/// The generated SP certificate, parsed: (subject == issuer, validity in seconds).
fn sp_cert(v: &Value) -> (bool, i64) {
    let pem = v["saml2_attributes"]["sp_x509_cert"]
        .as_str()
        .expect("sp_x509_cert");
    let (rest, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    assert!(rest.iter().all(u8::is_ascii_whitespace));
    assert_eq!(block.label, "CERTIFICATE");
    let cert = block.parse_x509().expect("X.509");
    cert.verify_signature(None).expect("self-signed");
    let validity = cert.validity();
    (
        cert.subject() == cert.issuer(),
        validity.not_after.timestamp() - validity.not_before.timestamp(),
    )
}

#[test]
fn sp_certificates_are_generated_and_deleted() {
    let app = spawn_app();
    let idp = create(&app, "sp");
    let base = format!("{BASE}/{}", id_of(&idp));
    let generate = format!("{base}/generate-sp-certificate");

    let resp = app.post(&generate, &json!({"validity": 30}));
    let got = resp.expect(200).clone();
    assert_eq!(resp.header("content-location"), Some(base.as_str()));
    assert_eq!(sp_cert(&got), (true, 30 * 86_400));
    assert_eq!(got["etag"], "2");
    assert_eq!(app.get(&base).expect(200), &got);

    // The body is optional on this route: none at all means the defaults.
    let default = app.raw("POST", &generate, None, &[]).expect(200).clone();
    assert_eq!(sp_cert(&default).1, 365 * 86_400);
    assert_ne!(
        default["saml2_attributes"]["sp_x509_cert"],
        got["saml2_attributes"]["sp_x509_cert"]
    );
    let empty = app
        .raw("POST", &generate, Some(("application/json", b"")), &[])
        .expect(200)
        .clone();
    assert_eq!(sp_cert(&empty).1, 365 * 86_400);
    for alg in ["EC256", "ECDSA256"] {
        let v = app
            .post(&generate, &json!({"algorithm": alg, "validity": 3650}))
            .expect(200)
            .clone();
        assert_eq!(sp_cert(&v).1, 3650 * 86_400);
    }

    let current = app.get(&base).expect(200).clone();
    for (body, field) in [
        (json!({"validity": 0}), "validity"),
        (json!({"validity": -5}), "validity"),
        (json!({"validity": 3651}), "validity"),
        (json!({"validity": "ten"}), "validity"),
        (json!({"algorithm": "EC521"}), "algorithm"),
        (json!({"algorithm": "DSA"}), "algorithm"),
    ] {
        app.post(&generate, &body).expect_field_error(400, field);
    }
    assert_eq!(
        app.get(&base).expect(200),
        &current,
        "failed generation changes nothing"
    );

    let deleted = app
        .raw("POST", &format!("{base}/delete-sp-certificate"), None, &[])
        .expect(200)
        .clone();
    assert!(deleted["saml2_attributes"]["sp_x509_cert"].is_null());
    assert!(app.get(&base).expect(200)["saml2_attributes"]["sp_x509_cert"].is_null());
    // Deleting again is harmless.
    app.post(&format!("{base}/delete-sp-certificate"), &json!({}))
        .expect(200);
}

#[test]
fn non_admins_read_but_never_change() {
    let app = spawn_app();
    let idp = create(&app, "guarded");
    let base = format!("{BASE}/{}", id_of(&idp));
    let generated = app
        .post(&format!("{base}/generate-sp-certificate"), &json!({}))
        .expect(200)
        .clone();
    let (dev, _) = non_admin(&app, false);

    assert_eq!(dev.get(BASE).expect(200)["total_count"], 1);
    assert_eq!(dev.get(&base).expect(200), &generated);
    dev.post(BASE, &saml_body("mine")).expect_error(403);
    dev.put(&base, &saml_body("mine")).expect_error(403);
    dev.delete(&base).expect_error(403);
    dev.post(&format!("{base}/generate-sp-certificate"), &json!({}))
        .expect_error(403);
    dev.post(&format!("{base}/delete-sp-certificate"), &json!({}))
        .expect_error(403);
    assert_eq!(app.get(&base).expect(200), &generated, "nothing changed");
    assert_eq!(total(&app), 1);

    app.anonymous().get(BASE).expect_error(401);
    app.anonymous()
        .post(BASE, &saml_body("anon"))
        .expect_error(401);
}

#[test]
fn providers_in_use_cannot_be_deleted() {
    let app = spawn_app();
    let idp = create(&app, "in use");
    let idp_id = id_of(&idp);
    let other = create(&app, "other");
    let other_id = id_of(&other);

    let email = format!("{}@example.com", unique("sso"));
    let user = app
        .post(
            "/v3/users",
            &json!({"email": email, "login_profiles": [{"id": idp_id}]}),
        )
        .expect(201)
        .clone();
    assert_eq!(
        user["login_profiles"],
        json!([{"id": idp_id, "name": "in use", "type": "SAML2"}])
    );
    let user_path = format!("/v3/users/{}", id_of(&user));
    assert_eq!(
        app.get(&user_path).expect(200)["login_profiles"],
        user["login_profiles"]
    );
    let filtered = app
        .get(&format!("/v3/users?login_profiles__eq={idp_id}"))
        .expect(200)
        .clone();
    assert_eq!(filtered["total_count"], 1);

    let err = app
        .delete(&format!("{BASE}/{idp_id}"))
        .expect_error(403)
        .clone();
    assert!(err["message"].as_str().unwrap().contains("in use"), "{err}");
    app.get(&format!("{BASE}/{idp_id}")).expect(200);

    // A renamed provider shows its new name in the users that reference it.
    app.put(
        &format!("{BASE}/{idp_id}"),
        &json!({"name": "renamed", "type": "SAML2"}),
    )
    .expect(200);
    assert_eq!(
        app.get(&user_path).expect(200)["login_profiles"][0]["name"],
        "renamed"
    );

    // Unknown or malformed providers are refused on create and update.
    for bad in [crate_unknown_id(), "zz".to_string()] {
        let err = app
            .post(
                "/v3/users",
                &json!({"email": format!("{}@example.com", unique("x")), "login_profiles": [{"id": bad}]}),
            )
            .expect_field_error(400, "login_profiles")
            .clone();
        assert_eq!(field_names(&err), vec!["login_profiles"], "{err}");
        let err = app
            .put("/v3/users/me", &json!({"login_profiles": [{"id": bad}]}))
            .expect_field_error(400, "login_profiles")
            .clone();
        assert_eq!(field_names(&err), vec!["login_profiles"], "{err}");
    }

    // Through the admin's own profile: referenced, then released again.
    let me = app
        .put(
            "/v3/users/me",
            &json!({"login_profiles": [{"id": other_id}]}),
        )
        .expect(200)
        .clone();
    assert_eq!(me["login_profiles"][0]["name"], "other");
    app.delete(&format!("{BASE}/{other_id}")).expect_error(403);
    // A user's login profiles cannot be emptied; moving it to another provider releases this one.
    let third_id = id_of(&create(&app, "third"));
    app.put(
        "/v3/users/me",
        &json!({"login_profiles": [{"id": third_id}]}),
    )
    .expect(200);
    app.delete(&format!("{BASE}/{other_id}")).expect(204);
    // `null` (as the SDK re-sends it) leaves the user's profiles alone.
    app.put("/v3/users/me", &json!({"login_profiles": null}))
        .expect(200);
}

fn crate_unknown_id() -> String {
    iamd::ids::Id::new().hex()
}

#[test]
fn lists_page_and_tenant_routes_share_the_handlers() {
    let app = spawn_app();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(&create(&app, &format!("p{i}"))));
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("{BASE}?limit=2&after={a}&include=total_count"),
            None => format!("{BASE}?limit=2"),
        };
        let page = app.get(&path).expect(200).clone();
        assert_eq!(page["object"], "list");
        assert_eq!(page["limit"], 2);
        assert_eq!(page["order"], "ASC");
        assert_eq!(page["total_count"], 5);
        let batch: Vec<String> = page["data"].as_array().unwrap().iter().map(id_of).collect();
        assert!(page["data"][0]["object"] == "identity-provider");
        seen.extend(batch.clone());
        if !page["has_more"].as_bool().unwrap() {
            break;
        }
        after = batch.last().cloned();
    }
    assert_eq!(seen, ids);
    let desc = app
        .get(&format!("{BASE}?order=DESC&limit=3"))
        .expect(200)
        .clone();
    let got: Vec<String> = desc["data"].as_array().unwrap().iter().map(id_of).collect();
    let mut reversed = ids.clone();
    reversed.reverse();
    assert_eq!(got, reversed[..3].to_vec());
    assert_eq!(desc["has_more"], true);
    for bad in [
        "limit=1",
        "limit=1001",
        "order=UP",
        "after=xyz",
        "name__eq=p1",
    ] {
        let parameter = bad.split('=').next().unwrap();
        app.get(&format!("{BASE}?{bad}"))
            .expect_field_error(400, parameter);
    }

    // The tenant twins reach the same handlers (here on the aggregator's own account).
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tenant = format!("/v3/accounts/{account}/identity-providers");
    assert_eq!(app.get(&tenant).expect(200)["total_count"], 5);
    let resp = app.post(&tenant, &saml_body("via tenant route"));
    let created = resp.expect(201).clone();
    let path = format!("{tenant}/{}", id_of(&created));
    assert_eq!(resp.header("location"), Some(path.as_str()));
    app.get(&path).expect(200);
    app.put(&path, &json!({"name": "t2", "type": "SAML2"}))
        .expect(200);
    app.post(
        &format!("{path}/generate-sp-certificate"),
        &json!({"validity": 7}),
    )
    .expect(200);
    app.post(&format!("{path}/delete-sp-certificate"), &json!({}))
        .expect(200);
    app.delete(&path).expect(204);
    let stranger = crate_unknown_id();
    app.get(&format!("/v3/accounts/{stranger}/identity-providers"))
        .expect_error(404);
    let (dev, _) = non_admin(&app, false);
    dev.get(&tenant).expect_error(403);
}
