//! The appliance commands: `check-config`, `systemd-unit`, `--version`.

use super::run;

#[test]
fn check_config_prints_the_effective_config_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("iamd.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:9443\"\n[bootstrap]\nadmin_password = \"hunter2 is secret\"\n\
         [tls]\nself_signed = true\nhosts = [\"iam.example.com\"]\n",
    )
    .unwrap();
    let (code, out, err) = run(
        &["check-config", "--config", file.to_str().unwrap()],
        &[("IAMD_WORKERS", "3")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(out.contains("admin_password = \"(set)\""), "{out}");
    assert!(out.contains("workers = 3"), "{out}");
    assert!(out.contains("public_url = \"\""), "{out}");
    assert!(out.contains("auth_failures_per_minute = 60"), "{out}");
    let parsed: toml::Table = out.parse().expect("the output is TOML");
    assert_eq!(parsed["tls"]["hosts"][0].as_str(), Some("iam.example.com"));

    std::fs::write(&file, "bind = \"127.0.0.1:9443\"\nworkerz = 1\n").unwrap();
    let (code, _, err) = run(&["check-config", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("workerz"), "{err}");
    std::fs::write(&file, "[tls]\ncert_file = \"/x.pem\"\n").unwrap();
    let (code, _, err) = run(&["check-config", "--config", file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("tls.key_file"), "{err}");
    let (code, _, _) = run(&["check-config", "--config", "/no/such/file.toml"], &[]);
    assert_eq!(code, 2);
    let (code, out, _) = run(&["--version"], &[]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("iamd {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_systemd_unit_runs_iamd_unprivileged_and_hardened() {
    let (code, unit, _) = run(&["systemd-unit"], &[]);
    assert_eq!(code, 0);
    for line in [
        "DynamicUser=yes",
        "StateDirectory=iamd",
        "Environment=IAMD_DATA_DIR=/var/lib/iamd",
        "ExecStart=/usr/local/bin/iamd --config /etc/iamd/iamd.toml",
        "Restart=on-failure",
        "RestartPreventExitStatus=2",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "MemoryDenyWriteExecute=yes",
        "LockPersonality=yes",
        "StandardOutput=null",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing `{line}`");
    }
    let unknown_arg = run(&["frobnicate"], &[]);
    assert_eq!(unknown_arg.0, 2);
}
