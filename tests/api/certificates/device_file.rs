//! The credentials file a developer certificate hands to firmware, checked the way a device
//! build uses it: compiled with gcc, linked into a program that dumps its arrays, and the
//! dumped bytes verified with real X.509 and signature code.

use super::{pem_der, DEVELOPER, TRUSTED};
use crate::common::spawn_app;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

const ARRAYS: [&str; 4] = [
    "MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_CERTIFICATE",
    "MBED_CLOUD_DEV_BOOTSTRAP_SERVER_ROOT_CA_CERTIFICATE",
    "MBED_CLOUD_DEV_LWM2M_SERVER_ROOT_CA_CERTIFICATE",
    "MBED_CLOUD_DEV_BOOTSTRAP_DEVICE_PRIVATE_KEY",
];
const STRINGS: [&str; 3] = [
    "MBED_CLOUD_DEV_BOOTSTRAP_ENDPOINT_NAME",
    "MBED_CLOUD_DEV_ACCOUNT_ID",
    "MBED_CLOUD_DEV_BOOTSTRAP_SERVER_URI",
];

/// A C program that prints every string as `NAME text` and every array as `NAME hex`,
/// using the `_SIZE` constants (so they are checked too).
fn dumper() -> String {
    let mut c = String::from("#include <stdio.h>\n#include <inttypes.h>\n\n");
    for s in STRINGS {
        c += &format!("extern const char {s}[];\n");
    }
    for a in ARRAYS {
        c += &format!("extern const uint8_t {a}[];\nextern const uint32_t {a}_SIZE;\n");
    }
    c += "\nstatic void dump(const char *name, const uint8_t *p, uint32_t n)\n{\n";
    c += "    uint32_t i;\n    printf(\"%s \", name);\n";
    c +=
        "    for (i = 0; i < n; i++)\n        printf(\"%02x\", p[i]);\n    printf(\"\\n\");\n}\n\n";
    c += "int main(void)\n{\n";
    for s in STRINGS {
        c += &format!("    printf(\"{s} %s\\n\", {s});\n");
    }
    for a in ARRAYS {
        c += &format!("    dump(\"{a}\", {a}, {a}_SIZE);\n");
    }
    c += "    return 0;\n}\n";
    c
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Compiles `source` as the firmware would and returns what the dumper printed.
fn compile_and_dump(dir: &Path, source: &str) -> HashMap<String, String> {
    let creds = dir.join("mbed_cloud_dev_credentials.c");
    std::fs::write(&creds, source).unwrap();
    std::fs::write(dir.join("dump.c"), dumper()).unwrap();
    for file in ["mbed_cloud_dev_credentials.c", "dump.c"] {
        run(Command::new("gcc")
            .current_dir(dir)
            .args(["-c", "-Wall", "-Wextra", "-Werror", file]));
    }
    run(Command::new("gcc").current_dir(dir).args([
        "-Wall",
        "-Werror",
        "-o",
        "dump",
        "mbed_cloud_dev_credentials.o",
        "dump.o",
    ]));
    run(&mut Command::new(dir.join("dump")))
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn security_file_compiles_and_holds_matching_credentials() {
    let app = spawn_app();
    let account = app.get("/v3/accounts/me").expect(200)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let created = app
        .post(DEVELOPER, &json!({"name": "flash me"}))
        .expect(201)
        .clone();
    let id = created["id"].as_str().unwrap();
    // What a device tool does: fetch it again by id.
    let fetched = app.get(&format!("{DEVELOPER}/{id}")).expect(200).clone();
    let source = fetched["security_file_content"].as_str().unwrap();
    assert!(!source.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let dumped = compile_and_dump(dir.path(), source);
    let bytes = |name: &str| unhex(&dumped[name]);

    // The device certificate is the developer certificate and is self-signed.
    let device_cert = bytes(ARRAYS[0]);
    let dev_pem = fetched["developer_certificate"].as_str().unwrap();
    assert_eq!(device_cert, pem_der(dev_pem, "CERTIFICATE"));
    let (rest, cert) = x509_parser::parse_x509_certificate(&device_cert).unwrap();
    assert!(rest.is_empty());
    cert.verify_signature(None)
        .expect("device certificate verifies under its own key");
    let endpoint = cert
        .subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap();
    assert_eq!(dumped[STRINGS[0]], endpoint);
    assert_eq!(dumped[STRINGS[1]], account);

    // The private key in the file is the certificate's: sign with it, verify with the
    // certificate's public key.
    let key_der = bytes(ARRAYS[3]);
    assert_eq!(
        key_der,
        pem_der(
            fetched["developer_private_key"].as_str().unwrap(),
            "PRIVATE KEY"
        )
    );
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key_der, &rng)
        .expect("PKCS#8 P-256 key");
    let spki = cert.public_key().subject_public_key.data.as_ref();
    assert_eq!(pair.public_key().as_ref(), spki);
    let message = b"bootstrap handshake transcript";
    let signature = pair.sign(&rng, message).unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki)
        .verify(message, signature.as_ref())
        .expect("signature by the file's key verifies with the certificate");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, spki)
        .verify(b"another message", signature.as_ref())
        .expect_err("and only for what was signed");

    // The trusted certificate with the same id holds the same certificate.
    let trusted = app.get(&format!("{TRUSTED}/{id}")).expect(200).clone();
    assert_eq!(
        pem_der(trusted["certificate"].as_str().unwrap(), "CERTIFICATE"),
        device_cert
    );
    assert_eq!(trusted["device_execution_mode"], 1);

    // The server roots and URI are the ones /v3/server-credentials gives out.
    let boot = app
        .get("/v3/server-credentials/bootstrap")
        .expect(200)
        .clone();
    let lwm2m = app.get("/v3/server-credentials/lwm2m").expect(200).clone();
    assert_eq!(
        bytes(ARRAYS[1]),
        pem_der(boot["server_certificate"].as_str().unwrap(), "CERTIFICATE")
    );
    assert_eq!(
        bytes(ARRAYS[2]),
        pem_der(lwm2m["server_certificate"].as_str().unwrap(), "CERTIFICATE")
    );
    assert_eq!(dumped[STRINGS[2]], boot["server_uri"].as_str().unwrap());
    assert!(dumped[STRINGS[2]].ends_with(&format!("?aid={account}")));
    let root_der = bytes(ARRAYS[1]);
    let (_, root) = x509_parser::parse_x509_certificate(&root_der).unwrap();
    assert!(root.is_ca());
}
