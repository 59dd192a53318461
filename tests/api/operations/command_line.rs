//! The command line: a flag a command does not take is refused (never ignored), `help
//! <command>`, and every configuration key from the environment as `check-config` shows it.

use super::run;

/// Exit 2 and a message naming `flag`, with nothing done (nothing on stdout).
fn refused(args: &[&str], flag: &str) {
    // A bad address makes a misparsed `iamd ...` stop at once instead of serving.
    let (code, out, err) = run(args, &[("IAMD_BIND", "not-an-address")]);
    assert_eq!(code, 2, "{args:?}: {err}");
    assert!(err.contains(flag), "{args:?} names {flag}: {err}");
    assert!(out.is_empty(), "{args:?} did something: {out}");
}

#[test]
fn a_flag_that_does_not_belong_to_the_command_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("some.iamdbackup");
    std::fs::write(&file, b"not a backup").unwrap();
    let (f, d) = (file.to_str().unwrap(), dir.path().to_str().unwrap());
    refused(&["verify-backup", "--in", f, "--data-dir", d], "--data-dir");
    refused(&["--data-dir", d], "--data-dir");
    refused(&["systemd-unit", "--config", f], "--config");
    refused(&["check-config", "--out", f], "--out");
    refused(
        &["restore", "--in", f, "--data-dir", d, "--url", "x"],
        "--url",
    );
    refused(
        &["backup", "--out", f, "--url", "http://x", "--data-dir", d],
        "--data-dir",
    );
    refused(
        &["backup", "--out", f, "--data-dir", d, "--config", f],
        "--config",
    );
    refused(&["backup", "--out", f, "--key-file", f], "--url");
    // The server's flag before a command: the command would not read it.
    refused(&["--config", f, "check-config"], "--config");
    refused(&["restore", "--in", f], "--data-dir");
    refused(&["verify-backup", "--in"], "--in");
    refused(&["bakup", "--out", f], "bakup");
}

#[test]
fn help_names_each_command_and_its_flags() {
    let (code, out, _) = run(&["help", "backup"], &[]);
    assert_eq!(code, 0);
    for flag in [
        "--out",
        "--data-dir",
        "--config",
        "--url",
        "--key-file",
        "--ca-file",
    ] {
        assert!(out.contains(flag), "{flag} in {out}");
    }
    let (code, out, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    for command in [
        "check-config",
        "backup",
        "verify-backup",
        "restore",
        "systemd-unit",
    ] {
        assert!(out.contains(command), "{command} in {out}");
    }
    let (code, out, _) = run(&["restore", "-h"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("--in") && out.contains("--data-dir"), "{out}");
}

/// IAMD_CONFIG names the file for the server and check-config, and is no misplaced flag for
/// the commands that do not read it.
#[test]
fn iamd_config_names_the_file_and_disturbs_no_other_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iamd.toml");
    std::fs::write(&file, "workers = 3\n").unwrap();
    let env = [("IAMD_CONFIG", file.to_str().unwrap())];
    let (code, out, err) = run(&["check-config"], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("workers = 3"), "{out}");
    let missing = dir.path().join("missing.iamdbackup");
    let (code, _, err) = run(&["verify-backup", "--in", missing.to_str().unwrap()], &env);
    assert_eq!(code, 1, "a failed verification, not a usage error: {err}");
}

#[test]
fn check_config_shows_keys_set_by_the_new_variables_and_secret_files() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("admin-password");
    std::fs::write(&secret, "from a file\n").unwrap();
    let (code, out, err) = run(
        &["check-config"],
        &[
            ("IAMD_BOOTSTRAP_ACCOUNT_NAME", "Probe root"),
            ("IAMD_LIMITS_MAX_QUERY_BYTES", "300"),
            ("IAMD_TIMEOUTS_KEEP_ALIVE_SECS", "0"),
            ("IAMD_ADMIN_EMAIL", "old-name@example.com"),
            (
                "IAMD_BOOTSTRAP_ADMIN_PASSWORD_FILE",
                secret.to_str().unwrap(),
            ),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let shown: toml::Table = out.parse().unwrap();
    assert_eq!(
        shown["bootstrap"]["account_name"].as_str(),
        Some("Probe root")
    );
    assert_eq!(shown["limits"]["max_query_bytes"].as_integer(), Some(300));
    assert_eq!(shown["timeouts"]["keep_alive_secs"].as_integer(), Some(0));
    assert_eq!(
        shown["bootstrap"]["admin_email"].as_str(),
        Some("old-name@example.com")
    );
    assert_eq!(shown["bootstrap"]["admin_password"].as_str(), Some("(set)"));
    assert!(!out.contains("from a file"), "{out}");

    let (code, _, err) = run(
        &["check-config"],
        &[("IAMD_LIMITS_MAX_HEADER_BYTES", "big")],
    );
    assert_eq!(code, 2);
    assert!(err.contains("IAMD_LIMITS_MAX_HEADER_BYTES"), "{err}");
    let file = dir.path().join("iamd.toml");
    std::fs::write(
        &file,
        "workers = 2\n[limits]\nmax_ids_per_request = \"all\"\n",
    )
    .unwrap();
    let (code, _, err) = run(&["check-config", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("line 3, column 23"), "{err}");
    assert!(err.contains("iamd.toml"), "{err}");
}
