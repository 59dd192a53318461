//! What the server tells its operator: the next steps at every start, the wildcard-address
//! warning, the URLs `check-config` resolves, one plain sentence for each failed start, and a
//! warning for an `IAMD_*` variable iamd does not read.

use super::run;
use crate::common::Binary;
use std::time::Duration;

/// The lines of the start guide, once it is all printed.
fn guide(server: &Binary) -> String {
    assert!(
        server.wait_stdout("MBED_CLOUD_SDK_API_KEY", Duration::from_secs(10)),
        "no start guide: {}",
        server.stdout()
    );
    server.stdout()
}

/// Runs the guide's `curl` line as an operator would paste it into a shell.
fn paste(guide: &str) -> String {
    let line = guide
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("curl "))
        .expect("a curl line");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{} --silent --show-error", line))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_start_says_what_to_do_next() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Binary::start(&data, &[]);
    let text = guide(&server);
    let base = &server.client.base;
    let key_file = data.join("admin-api-key");
    assert!(text.contains(&format!("is serving {base}")), "{text}");
    assert!(
        text.contains(&format!("data directory: {}", data.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("in {}", key_file.display())),
        "{text}"
    );
    assert!(text.contains(&format!("{base}/health")), "{text}");
    assert!(
        text.contains(&format!("export MBED_CLOUD_SDK_HOST={base}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "export MBED_CLOUD_SDK_API_KEY=$(cat {})",
            key_file.display()
        )),
        "{text}"
    );
    let answer: serde_json::Value = serde_json::from_str(&paste(&text)).unwrap();
    assert_eq!(answer["object"], "account", "{answer}");
    let key = server.client.key.clone().unwrap();
    drop(server);

    // A later start: the same guide, and no key.
    let again = Binary::start(&data, &[]);
    let text = guide(&again);
    assert!(
        !text.contains(&key) && !text.contains("printed above"),
        "{text}"
    );
    assert!(
        text.contains(&format!("in {}", key_file.display())),
        "{text}"
    );
    paste(&text);
    drop(again);

    // A given key is referred to by its variable; a missing key file is said to be missing.
    std::fs::remove_file(&key_file).unwrap();
    let again = Binary::start(&data, &[("IAMD_ADMIN_API_KEY", &key)]);
    let text = guide(&again);
    assert!(text.contains("Bearer $IAMD_ADMIN_API_KEY"), "{text}");
    drop(again);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_iamd"))
        .env_clear()
        .env("IAMD_DATA_DIR", &data)
        .env("IAMD_BIND", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = out;
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let line = lines.find(|l| l.as_ref().is_ok_and(|l| l.contains("admin API key:")));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.unwrap().unwrap();
    assert!(line.contains("iamd admin-key --data-dir"), "{line}");
}

#[test]
fn a_wildcard_address_without_public_url_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[("IAMD_BIND", "0.0.0.0:0")]);
    let port = server.client.base.rsplit(':').next().unwrap().to_string();
    assert!(
        server.wait_log("wildcard address", Duration::from_secs(5)),
        "no warning"
    );
    let text = guide(&server);
    // Requests go to the loopback address; links name the wildcard.
    assert!(
        text.contains(&format!("is serving http://0.0.0.0:{port}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("http://127.0.0.1:{port}/v3/accounts/me")),
        "{text}"
    );
    paste(&text);
    drop(server);

    let (code, out, err) = run(&["check-config"], &[("IAMD_BIND", "0.0.0.0:8080")]);
    assert_eq!(code, 0, "{err}");
    for what in [
        "wildcard address 0.0.0.0:8080",
        "static_uri links will read http://0.0.0.0:8080/static/",
        "bootstrap server coaps://0.0.0.0:5684",
        "LwM2M server coaps://0.0.0.0:5685",
        "IAMD_PUBLIC_URL",
    ] {
        assert!(err.contains(what), "{what} in {err}");
    }
    assert!(
        out.contains("# public URL:                  http://0.0.0.0:8080"),
        "{out}"
    );
}

#[test]
fn check_config_prints_the_resolved_urls() {
    let (code, out, err) = run(
        &["check-config"],
        &[
            ("IAMD_PUBLIC_URL", "https://iam.example.com"),
            (
                "IAMD_PKI_LWM2M_SERVER_URI",
                "coaps://lwm2m.example.com:5684",
            ),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "no warning: {err}");
    for line in [
        "# public URL:                  https://iam.example.com",
        "# branding static_uri:         https://iam.example.com/static/<file>",
        "# security.c bootstrap server: coaps://iam.example.com:5684",
        "# security.c LwM2M server:     coaps://lwm2m.example.com:5684",
    ] {
        assert!(out.contains(line), "{line} in {out}");
    }
    out.parse::<toml::Table>()
        .expect("still a configuration file");
}

/// Exit 2 and one line on stderr holding each of `needles`, with no OS error code.
fn one_plain_sentence(env: &[(&str, &str)], needles: &[&str]) {
    let (code, out, err) = run(&[], env);
    assert_eq!(code, 2, "{out}{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("iamd: "))
        .unwrap_or_default();
    for needle in needles {
        assert!(line.contains(needle), "{needle} in {err}");
    }
    for raw in ["Os {", "code:", "os error", "kind:"] {
        assert!(!err.contains(raw), "{raw} in {err}");
    }
}

#[test]
fn a_failed_start_is_one_plain_sentence_naming_the_path_or_address() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();
    let server = Binary::start(&data, &[]);
    one_plain_sentence(
        &[("IAMD_DATA_DIR", d), ("IAMD_BIND", "127.0.0.1:0")],
        &[d, "in use by another iamd process"],
    );
    server.client.get("/v3/accounts/me").expect(200);

    let taken = server.client.base.trim_start_matches("http://").to_string();
    let other = dir.path().join("other");
    one_plain_sentence(
        &[
            ("IAMD_DATA_DIR", other.to_str().unwrap()),
            ("IAMD_BIND", &taken),
        ],
        &[&taken, "another process is listening there", "IAMD_BIND"],
    );

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let under_file = file.join("data");
    one_plain_sentence(
        &[
            ("IAMD_DATA_DIR", under_file.to_str().unwrap()),
            ("IAMD_BIND", "127.0.0.1:0"),
        ],
        &[
            under_file.to_str().unwrap(),
            "cannot write to the data directory",
            "IAMD_DATA_DIR",
        ],
    );
}

#[test]
fn an_unknown_iamd_variable_is_warned_about() {
    let (code, _, err) = run(
        &["check-config"],
        &[
            ("IAMD_BIDN", "0.0.0.0:1"),
            ("IAMD_SOMETHING_ELSE_ENTIRELY", "1"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("IAMD_BIDN is not a variable of iamd (did you mean IAMD_BIND?)"),
        "{err}"
    );
    assert!(
        err.contains("IAMD_SOMETHING_ELSE_ENTIRELY is not a variable of iamd: it is ignored"),
        "{err}"
    );
    let (_, _, err) = run(&["check-config"], &[("IAMD_BIND", "127.0.0.1:1")]);
    assert!(
        err.is_empty(),
        "a known variable is not warned about: {err}"
    );
}
