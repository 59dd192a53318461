//! A root admin key given to the first start (`IAMD_ADMIN_API_KEY`, `_FILE`), refused when it
//! is not a key or not random; `iamd admin-key` for a stopped server whose key is lost.

use super::run;
use crate::common::{files_under, Binary};

/// A fresh key from `iamd admin-key --new`.
fn fresh_key() -> String {
    let (code, out, err) = run(&["admin-key", "--new"], &[]);
    assert_eq!(code, 0, "{err}");
    let key = out.trim().to_string();
    assert!(key.starts_with("ak_1") && key.len() == 111, "{out}");
    key
}

/// The account id a key names (its text carries it: base64 of the hex id after `ak_1`).
fn account_of(key: &str) -> String {
    use base64::Engine;
    let b64 = &key[4..4 + 43];
    let hex = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(b64)
        .unwrap();
    String::from_utf8(hex).unwrap()
}

/// Whether any file under `dir` holds `text`.
fn stored_in_clear(dir: &std::path::Path, text: &str) -> bool {
    files_under(dir).iter().any(|f| {
        std::fs::read(f)
            .map(|bytes| bytes.windows(text.len()).any(|w| w == text.as_bytes()))
            .unwrap_or(false)
    })
}

#[test]
fn a_given_key_is_the_root_admin_key_and_is_kept_only_as_a_digest() {
    let dir = tempfile::tempdir().unwrap();
    let key = fresh_key();
    assert_ne!(key, fresh_key(), "each --new is new");
    let server = Binary::start(dir.path(), &[("IAMD_ADMIN_API_KEY", &key)]);
    let me = server.client.get("/v3/accounts/me").expect(200).clone();
    assert_eq!(me["id"], account_of(&key), "the key names the root account");
    let user = server.client.get("/v3/users/me").expect(200).clone();
    assert!(
        user["groups"].as_array().unwrap().len() == 1,
        "the key's owner is the admin: {user}"
    );
    server.client.get("/v3/accounts").expect(200);
    assert!(!dir.path().join("admin-api-key").exists(), "no key file");
    let (status, stdout) = server.terminate_with_stdout();
    assert!(status.success());
    assert!(!stdout.contains(&key), "the key is never printed: {stdout}");
    assert!(stdout.contains("IAMD_ADMIN_API_KEY"), "{stdout}");
    assert!(
        !stored_in_clear(dir.path(), &key),
        "the key is stored as a digest only"
    );
    assert!(!stored_in_clear(dir.path(), &key[key.len() - 32..]));

    // From a file too, for a directory of its own; a later start with another key keeps the
    // first one and says so.
    let other = tempfile::tempdir().unwrap();
    let secret = other.path().join("key");
    std::fs::write(&secret, format!("{key}\n")).unwrap();
    let data = other.path().join("data");
    let server = Binary::start(
        &data,
        &[("IAMD_ADMIN_API_KEY_FILE", secret.to_str().unwrap())],
    );
    server.client.get("/v3/accounts/me").expect(200);
    drop(server);
    let server = Binary::start(&data, &[("IAMD_ADMIN_API_KEY", &key)]);
    server.client.get("/v3/accounts/me").expect(200);
    let later = fresh_key();
    drop(server);
    let server = Binary::start(&data, &[("IAMD_ADMIN_API_KEY", &later)]);
    assert!(
        server.wait_log(
            "not a key of this data directory",
            std::time::Duration::from_secs(5)
        ),
        "a key given to a later start is not taken silently"
    );
    server.client.get("/v3/accounts/me").expect_error(401);
    server
        .client
        .with_key(&key)
        .get("/v3/accounts/me")
        .expect(200);
}

#[test]
fn a_key_that_is_not_one_or_not_random_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = fresh_key();
    let weak = format!("{}{}", &key[..key.len() - 32], "a".repeat(32));
    for (given, says) in [
        ("ak_123", "not an iamd API key"),
        ("secret-admin-key-of-mine", "not an iamd API key"),
        (weak.as_str(), "not random enough"),
    ] {
        let (code, out, err) = run(
            &[],
            &[
                ("IAMD_ADMIN_API_KEY", given),
                ("IAMD_DATA_DIR", data.to_str().unwrap()),
                ("IAMD_BIND", "127.0.0.1:0"),
            ],
        );
        assert_eq!(code, 2, "{given}: {out}{err}");
        assert!(
            err.contains("bootstrap.admin_api_key") && err.contains(says),
            "{err}"
        );
        assert!(err.contains("iamd admin-key --new"), "{err}");
        assert!(
            !err.contains(given) || given.len() < 30,
            "the refused key is not echoed: {err}"
        );
        assert!(!data.exists(), "nothing was created");
    }
}

#[test]
fn admin_key_mints_a_root_key_for_a_stopped_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let (code, _, err) = run(&["admin-key", "--data-dir", d], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(d) && err.contains("holds no iamd database"),
        "{err}"
    );

    let server = Binary::start(&data, &[]);
    let old = server.client.key.clone().unwrap();
    let (code, out, err) = run(&["admin-key", "--data-dir", d], &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains(d) && err.contains("in use by another iamd process"),
        "{err}"
    );
    assert!(err.lines().count() == 1, "one sentence: {err}");
    drop(server);

    std::fs::remove_file(data.join("admin-api-key")).unwrap();
    let (code, out, err) = run(&["admin-key", "--data-dir", d], &[]);
    assert_eq!(code, 0, "{err}");
    let minted = out
        .lines()
        .find(|l| l.starts_with("ak_"))
        .unwrap()
        .to_string();
    assert_eq!(
        std::fs::read_to_string(data.join("admin-api-key"))
            .unwrap()
            .trim(),
        minted,
        "written like the first start's"
    );
    assert_ne!(minted, old);
    let server = Binary::start(&data, &[]);
    let me = server.client.get("/v3/api-keys/me").expect(200).clone();
    assert_eq!(me["name"], "Administrator key (iamd admin-key)");
    // A root administrator: it reaches every tenant.
    server.client.get("/v3/accounts").expect(200);
    let keys = server.client.get("/v3/api-keys").expect(200).clone();
    assert_eq!(keys["total_count"], 2, "the old key stays: {keys}");
    server
        .client
        .with_key(&old)
        .get("/v3/accounts/me")
        .expect(200);
}
