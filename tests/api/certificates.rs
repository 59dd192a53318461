//! Device security over HTTP: server credentials, trusted certificates (own and tenant
//! routes), developer certificates and the credentials file they hand to devices.

pub use crate::common::ids;
use crate::common::{non_admin, spawn_app, spawn_app_with, start_in_process, test_config, unique};
use iamd::pki::testcerts;
use serde_json::{json, Value};

mod developer;
mod device_file;

pub const TRUSTED: &str = "/v3/trusted-certificates";
pub const DEVELOPER: &str = "/v3/developer-certificates";

/// DER of the first PEM block of `pem`, checking its label.
pub fn pem_der(pem: &str, label: &str) -> Vec<u8> {
    let block = x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes())
        .next()
        .expect("a PEM block")
        .expect("readable PEM");
    assert_eq!(block.label, label);
    block.contents
}

pub fn sha256_hex(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn upload(name: &str, pem: &str, service: &str) -> Value {
    json!({"name": name, "certificate": pem, "service": service})
}

#[test]
fn server_credentials_carry_the_cas_and_the_account_uris() {
    let app = spawn_app();
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let all = app.get("/v3/server-credentials").expect(200).clone();
    let boot = app
        .get("/v3/server-credentials/bootstrap")
        .expect(200)
        .clone();
    let lwm2m = app.get("/v3/server-credentials/lwm2m").expect(200).clone();
    for (one, kind, port) in [(&boot, "bootstrap", 5684), (&lwm2m, "lwm2m", 5685)] {
        assert_eq!(one["object"], "server-credentials");
        assert_eq!(one["etag"], "1");
        assert_eq!(one["id"].as_str().unwrap().len(), 32);
        assert!(one["created_at"].as_str().unwrap().ends_with('Z'));
        let uri = format!("coaps://127.0.0.1:{port}?aid={account}");
        assert_eq!(one["server_uri"], uri.as_str());
        assert_eq!(all[kind]["url"], uri.as_str());
        assert_eq!(all[kind]["certificate"], one["server_certificate"]);
        let der = pem_der(one["server_certificate"].as_str().unwrap(), "CERTIFICATE");
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(cert.is_ca());
        cert.verify_signature(None).unwrap();
    }
    assert_ne!(boot["server_certificate"], lwm2m["server_certificate"]);
    for text in [&all, &boot, &lwm2m] {
        assert!(!text.to_string().contains("PRIVATE"), "{text}");
    }
    app.anonymous()
        .get("/v3/server-credentials")
        .expect_error(401);
    // Own routes only: the spec has no tenant twin.
    app.get(&format!("/v3/accounts/{account}/server-credentials"))
        .expect_error(404);
    // Any caller of the account may read them.
    let (dev, _) = non_admin(&app, false);
    assert_eq!(
        dev.get("/v3/server-credentials/bootstrap").expect(200)["server_certificate"],
        boot["server_certificate"]
    );

    // The CAs are generated once and kept across restarts.
    let data_dir = app.data_dir.clone();
    let dir = app.stop().unwrap();
    let again = start_in_process(test_config(&data_dir));
    assert_eq!(again.get("/v3/server-credentials").expect(200).clone(), all);
    drop(again);
    drop(dir);
}

#[test]
fn server_uris_come_from_the_configuration() {
    let app = spawn_app_with(|c| {
        c.pki.bootstrap_server_uri = "coaps://bootstrap.example.com:5684".into();
        c.pki.lwm2m_server_uri = "coaps://lwm2m.example.com:5684".into();
    });
    let account = app.get("/v3/accounts/me").expect(200)["id"].clone();
    let all = app.get("/v3/server-credentials").expect(200).clone();
    assert_eq!(
        all["bootstrap"]["url"],
        format!(
            "coaps://bootstrap.example.com:5684?aid={}",
            account.as_str().unwrap()
        )
    );
    assert_eq!(
        all["lwm2m"]["url"],
        format!(
            "coaps://lwm2m.example.com:5684?aid={}",
            account.as_str().unwrap()
        )
    );
}

#[test]
fn trusted_certificate_lifecycle() {
    let app = spawn_app();
    let me = app.get("/v3/users/me").expect(200)["id"].clone();
    let account = app.get("/v3/accounts/me").expect(200)["id"].clone();
    let chain = testcerts::valid_chain();
    let name = unique("cert");
    let mut req = upload(&name, &chain.chain_pem, "lwm2m");
    req["description"] = json!("first");
    req["enrollment_mode"] = json!(true);
    req["signature"] = json!("ignored, deprecated");
    let created = app.post(TRUSTED, &req).expect(201).clone();
    assert_eq!(created["object"], "trusted-cert");
    assert_eq!(created["account_id"], account);
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["description"], "first");
    assert_eq!(created["service"], "lwm2m");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["enrollment_mode"], true);
    assert_eq!(created["device_execution_mode"], 0);
    assert_eq!(created["owner_id"], me);
    assert_eq!(created["subject"], "CN=iamd test leaf,O=iamd tests");
    assert_eq!(created["issuer"], "CN=iamd test CA,O=iamd tests");
    assert_eq!(
        created["certificate_fingerprint"],
        sha256_hex(&chain.leaf_der).as_str()
    );
    assert_eq!(created["valid"], true);
    assert_eq!(created["etag"], "1");
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain.leaf_der).unwrap();
    let validity = created["validity"].as_str().unwrap();
    assert_eq!(
        iamd::clock::parse_rfc3339(validity).unwrap() / 1000,
        leaf.validity().not_after.timestamp()
    );
    // The whole chain, re-encoded: leaf first, then its CA.
    let blocks: Vec<_> = x509_parser::pem::Pem::iter_from_buffer(
        created["certificate"].as_str().unwrap().as_bytes(),
    )
    .map(|b| b.unwrap().contents)
    .collect();
    assert_eq!(blocks, vec![chain.leaf_der.clone(), chain.ca_der.clone()]);

    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("{TRUSTED}/{id}");
    assert_eq!(app.get(&path).expect(200).clone(), created);

    // Read-modify-update as the SDK does it: the whole read model, certificate included.
    let mut echo = created.clone();
    echo["description"] = json!("second");
    let updated = app.put(&path, &echo).expect(200).clone();
    assert_eq!(updated["description"], "second");
    assert_eq!(updated["etag"], "2");
    assert_eq!(updated["certificate"], created["certificate"]);
    // Nulls leave fields alone, except the nullable description, which they clear.
    let nulls = json!({"name": null, "service": null, "status": null, "certificate": null,
                       "enrollment_mode": null, "description": null});
    let cleared = app.put(&path, &nulls).expect(200).clone();
    assert_eq!(cleared["name"], name.as_str());
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["etag"], "3");

    // A new certificate is parsed again and replaces every derived field.
    let other = testcerts::self_signed("replacement");
    let replaced = app
        .put(
            &path,
            &json!({"certificate": other, "service": "bootstrap", "status": "INACTIVE",
                    "enrollment_mode": false, "name": "renamed"}),
        )
        .expect(200)
        .clone();
    assert_eq!(replaced["subject"], "CN=replacement,O=iamd tests");
    assert_eq!(replaced["issuer"], "CN=replacement,O=iamd tests");
    assert_eq!(
        replaced["certificate_fingerprint"],
        sha256_hex(&pem_der(&other, "CERTIFICATE")).as_str()
    );
    assert_eq!(
        (
            &replaced["service"],
            &replaced["status"],
            &replaced["enrollment_mode"],
            &replaced["name"]
        ),
        (
            &json!("bootstrap"),
            &json!("INACTIVE"),
            &json!(false),
            &json!("renamed")
        )
    );
    assert_eq!(replaced["created_at"], created["created_at"]);
    // A bad replacement is refused and changes nothing.
    app.put(&path, &json!({"certificate": testcerts::expired_cert()}))
        .expect_field_error(400, "certificate");
    assert_eq!(app.get(&path).expect(200).clone(), replaced);

    app.delete(&path).expect(204);
    app.get(&path).expect_error(404);
    app.delete(&path).expect_error(404);
    app.put(&path, &json!({"description": "x"}))
        .expect_error(404);
    // Malformed ids are unknown ids.
    app.get(&format!("{TRUSTED}/not-an-id")).expect_error(404);
    app.delete(&format!("{TRUSTED}/not-an-id"))
        .expect_error(404);
    app.anonymous().get(TRUSTED).expect_error(401);
    app.anonymous()
        .post(TRUSTED, &upload("x", &other, "lwm2m"))
        .expect_error(401);
}

#[test]
fn bad_uploads_are_400_with_a_certificate_field_message() {
    let app = spawn_app();
    let garbage_der = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
    let key_block = "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(&str, String, &str)> = vec![
        ("garbage", "this is not a certificate".into(), "PEM"),
        ("empty", String::new(), "PEM"),
        ("not X.509", garbage_der.into(), "X.509"),
        ("a key, not a certificate", key_block.into(), "CERTIFICATE"),
        ("broken chain", testcerts::broken_chain(), "signature"),
        ("unlinked chain", testcerts::unrelated_ca_chain(), "issuer"),
        ("expired", testcerts::expired_cert(), "expired"),
        (
            "not yet valid",
            testcerts::not_yet_valid_cert(),
            "not valid before",
        ),
        ("RSA-1024", testcerts::rsa1024_cert().into(), "1024-bit RSA"),
        ("SHA-1", testcerts::sha1_signed_cert().into(), "SHA-1"),
        ("MD5", testcerts::MD5_SIGNED_PEM.into(), "MD5"),
        ("SHA-1 root", testcerts::SHA1_ROOT_CHAIN_PEM.into(), "SHA-1"),
    ];
    for (what, pem, needle) in cases {
        let body = app
            .post(TRUSTED, &upload(&unique("bad"), &pem, "lwm2m"))
            .expect_field_error(400, "certificate")
            .clone();
        let field = &body["fields"][0];
        assert_eq!(field["name"], "certificate", "{what}: {body}");
        assert!(
            field["message"].as_str().unwrap().contains(needle),
            "{what}: {body}"
        );
    }
    // Weak but well-formed RSA-2048 with SHA-256 is accepted.
    app.post(
        TRUSTED,
        &upload(&unique("rsa"), testcerts::RSA2048_PEM, "bootstrap"),
    )
    .expect(201);

    let good = testcerts::self_signed("fields");
    app.post(TRUSTED, &json!({}))
        .expect_fields_error(400, &["name", "service", "certificate"]);
    for (patch, field) in [
        (json!({"service": "coap"}), "service"),
        (json!({"status": "ENABLED"}), "status"),
        (json!({"name": "  "}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"description": "d".repeat(501)}), "description"),
        (json!({"enrollment_mode": "yes"}), "enrollment_mode"),
    ] {
        let mut req = upload(&unique("f"), &good, "lwm2m");
        for (k, v) in patch.as_object().unwrap() {
            req[k] = v.clone();
        }
        app.post(TRUSTED, &req).expect_field_error(400, field);
    }
    // Limits are inclusive.
    let mut req = upload(&"n".repeat(100), &good, "lwm2m");
    req["description"] = json!("d".repeat(500));
    app.post(TRUSTED, &req).expect(201);
    // Nothing that failed was stored.
    assert_eq!(app.get(TRUSTED).expect(200)["total_count"], 2);
}

#[test]
fn names_and_subjects_are_unique_per_account() {
    let app = spawn_app();
    let a_pem = testcerts::self_signed("subject-a");
    let b_pem = testcerts::self_signed("subject-b");
    let a = app
        .post(TRUSTED, &upload("cert-a", &a_pem, "lwm2m"))
        .expect(201)
        .clone();
    let b = app
        .post(TRUSTED, &upload("cert-b", &b_pem, "lwm2m"))
        .expect(201)
        .clone();
    // Same name, other certificate.
    app.post(
        TRUSTED,
        &upload("cert-a", &testcerts::self_signed("subject-c"), "lwm2m"),
    )
    .expect_error(409);
    // Same subject (another key), other name.
    app.post(
        TRUSTED,
        &upload("cert-c", &testcerts::self_signed("subject-a"), "lwm2m"),
    )
    .expect_error(409);
    // The very same PEM again.
    app.post(TRUSTED, &upload("cert-d", &a_pem, "bootstrap"))
        .expect_error(409);
    let b_path = format!("{TRUSTED}/{}", b["id"].as_str().unwrap());
    app.put(&b_path, &json!({"name": "cert-a"}))
        .expect_error(409);
    app.put(&b_path, &json!({"certificate": a_pem}))
        .expect_error(409);
    assert_eq!(app.get(&b_path).expect(200).clone(), b);
    // Renaming frees the old name; deleting frees the subject.
    let a_path = format!("{TRUSTED}/{}", a["id"].as_str().unwrap());
    app.put(&a_path, &json!({"name": "cert-a2"})).expect(200);
    app.put(&b_path, &json!({"name": "cert-a"})).expect(200);
    app.delete(&a_path).expect(204);
    app.post(TRUSTED, &upload("cert-new", &a_pem, "lwm2m"))
        .expect(201);
    assert_eq!(
        app.get(&format!("{TRUSTED}?include=total_count"))
            .expect(200)["total_count"],
        2
    );
}

#[test]
fn list_filters_and_pages() {
    let app = spawn_app();
    let me = app.get("/v3/users/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (dev_client, dev_user) = non_admin(&app, false);
    let lw = app
        .post(
            TRUSTED,
            &upload("lw", &testcerts::self_signed("alpha lw"), "lwm2m"),
        )
        .expect(201)["id"]
        .clone();
    let mut req = upload("bs", &testcerts::valid_chain().chain_pem, "bootstrap");
    req["status"] = json!("INACTIVE");
    req["enrollment_mode"] = json!(true);
    let bs = app.post(TRUSTED, &req).expect(201)["id"].clone();
    let dev = dev_client
        .post(DEVELOPER, &json!({"name": "dev"}))
        .expect(201)["id"]
        .clone();
    let get = |q: &str| ids(app.get(&format!("{TRUSTED}?{q}")).expect(200));
    let all = get("");
    assert_eq!(
        all,
        [&lw, &bs, &dev].map(|v| v.as_str().unwrap().to_string())
    );
    let one = |v: &Value| vec![v.as_str().unwrap().to_string()];
    assert_eq!(get("name__eq=lw"), one(&lw));
    assert_eq!(get("service__eq=lwm2m"), one(&lw));
    assert_eq!(get("service__eq=bootstrap").len(), 2);
    assert_eq!(get("device_execution_mode__eq=1"), one(&dev));
    assert_eq!(get("device_execution_mode__neq=1").len(), 2);
    assert_eq!(get("device_execution_mode__eq=0").len(), 2);
    assert_eq!(get(&format!("owner__eq={dev_user}")), one(&dev));
    assert_eq!(get(&format!("owner__eq={me}")).len(), 2);
    assert_eq!(get("enrollment_mode__eq=true"), one(&bs));
    assert_eq!(get("enrollment_mode__eq=false").len(), 2);
    assert_eq!(get("status__eq=INACTIVE"), one(&bs));
    assert_eq!(get("status__eq=active").len(), 2);
    assert_eq!(get("issuer__like=iamd test ca"), one(&bs));
    assert_eq!(get("subject__like=cn=alpha"), one(&lw));
    assert_eq!(get("subject__like=cn=").len(), 3);
    assert_eq!(get("valid__eq=true").len(), 3);
    assert!(get("valid__eq=false").is_empty());
    // self_signed and the chain's leaf expire within a year, the developer one in ten.
    assert_eq!(get("expire__eq=400").len(), 2);
    assert!(get("expire__eq=30").is_empty());
    assert_eq!(get("expire__eq=3700").len(), 3);
    assert_eq!(
        get("service__eq=bootstrap&device_execution_mode__neq=1"),
        one(&bs)
    );
    // Filtered total_count counts matches, not records.
    let body = app
        .get(&format!(
            "{TRUSTED}?service__eq=bootstrap&limit=2&include=total_count"
        ))
        .expect(200)
        .clone();
    assert_eq!(body["total_count"], 2);
    // Pages follow the cursor in both orders.
    let page1 = app.get(&format!("{TRUSTED}?limit=2")).expect(200).clone();
    assert_eq!(page1["has_more"], true);
    assert_eq!(page1["total_count"], 3);
    let after = page1["data"][1]["id"].as_str().unwrap();
    let page2 = app
        .get(&format!("{TRUSTED}?limit=2&after={after}"))
        .expect(200)
        .clone();
    assert_eq!(ids(&page2), one(&dev));
    assert_eq!(page2["has_more"], false);
    let desc = get("order=DESC");
    assert_eq!(desc, all.iter().rev().cloned().collect::<Vec<_>>());
    // Bad filter values and unknown filters are 400 naming the parameter.
    for (q, param) in [
        ("device_execution_mode__eq=x", "device_execution_mode__eq"),
        ("valid__eq=maybe", "valid__eq"),
        ("enrollment_mode__eq=1", "enrollment_mode__eq"),
        ("expire__eq=-1", "expire__eq"),
        ("name__like=x", "name__like"),
        ("colour__eq=red", "colour__eq"),
        ("limit=1", "limit"),
    ] {
        app.get(&format!("{TRUSTED}?{q}"))
            .expect_field_error(400, param);
    }
    // Non-admins read the same list.
    assert_eq!(ids(dev_client.get(TRUSTED).expect(200)), all);
}
