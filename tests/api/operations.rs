//! Operations: HTTPS with a self-signed certificate, graceful shutdown, backup and restore,
//! abuse limits, and the appliance commands (`check-config`, `systemd-unit`).

use crate::common::{assert_error_body, spawn_app_with, unique, Binary, Client};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn iamd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iamd"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

/// Runs `iamd args...`; returns (exit code, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = iamd()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ---------------------------------------------------------------- TLS

/// The real binary with TLS on: its address and the fingerprint it logged.
struct TlsServer {
    child: std::process::Child,
    addr: String,
    fingerprint: String,
}

impl TlsServer {
    fn start(dir: &Path) -> TlsServer {
        let mut child = iamd()
            .env("IAMD_DATA_DIR", dir)
            .env("IAMD_BIND", "127.0.0.1:0")
            .env("IAMD_WORKERS", "2")
            .env("IAMD_TLS_SELF_SIGNED", "true")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut fingerprint = String::new();
        let addr = loop {
            let line = lines.next().expect("iamd exited before listening").unwrap();
            if let Some(f) = line.split("SHA-256 fingerprint ").nth(1) {
                fingerprint = f.trim().to_string();
            }
            if let Some(rest) = line.split("listening on https://").nth(1) {
                break rest.trim().to_string();
            }
            assert!(!line.contains("listening on http://"), "TLS is off: {line}");
        };
        std::thread::spawn(move || for _ in lines {});
        TlsServer {
            child,
            addr,
            fingerprint,
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client_config(trusted_pem: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &*trusted_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// One HTTPS GET; returns the status and the JSON body, or the TLS/IO error.
fn https_get(
    addr: &str,
    host: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
    key: &str,
) -> Result<(u16, Value), String> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    // A peer closing without close_notify ends the read with an error; the bytes are kept.
    let _ = tls.read_to_end(&mut raw);
    let (status, body) = parse_response(&raw).ok_or("no HTTP response")?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// Status and body of a raw HTTP/1.1 response with a Content-Length.
fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

#[test]
fn https_with_a_self_signed_certificate_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let server = TlsServer::start(dir.path());
    let key = std::fs::read_to_string(dir.path().join("admin-api-key")).unwrap();
    let cert_path = dir.path().join("tls/cert.pem");
    let pem = std::fs::read(&cert_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("tls/key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the private key is private");
    }
    // The logged fingerprint is the stored certificate's.
    let der = rustls_pemfile::certs(&mut pem.as_slice())
        .next()
        .unwrap()
        .unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(server.fingerprint, hex.join(":"));

    let trusting = client_config(&pem);
    for host in ["localhost", "127.0.0.1"] {
        let (status, body) = https_get(
            &server.addr,
            host,
            trusting.clone(),
            "/v3/accounts/me",
            key.trim(),
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["object"], "account");
    }
    // A client that does not trust it, and a name it is not for, fail the handshake.
    let stranger = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let untrusting = client_config(stranger.cert.pem().as_bytes());
    assert!(https_get(&server.addr, "localhost", untrusting, "/health", "").is_err());
    assert!(https_get(&server.addr, "example.com", trusting.clone(), "/health", "").is_err());
    // Plain HTTP gets no answer from the TLS port.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));

    assert!(server.terminate().success());
    let again = TlsServer::start(dir.path());
    assert_eq!(again.fingerprint, hex.join(":"), "the same certificate");
    assert_eq!(std::fs::read(&cert_path).unwrap(), pem);
    let (status, _) = https_get(
        &again.addr,
        "localhost",
        trusting,
        "/v3/users/me",
        key.trim(),
    )
    .unwrap();
    assert_eq!(status, 200);
}

#[test]
fn bad_tls_files_stop_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let one = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&cert, one.cert.pem()).unwrap();
    std::fs::write(&key, other.key_pair.serialize_pem()).unwrap();
    let data = dir.path().join("data");
    let env = |cert: &Path, key: &Path| {
        vec![
            ("IAMD_DATA_DIR", data.display().to_string()),
            ("IAMD_BIND", "127.0.0.1:0".to_string()),
            ("IAMD_TLS_CERT_FILE", cert.display().to_string()),
            ("IAMD_TLS_KEY_FILE", key.display().to_string()),
        ]
    };
    let start = |env: Vec<(&str, String)>| {
        let out = iamd()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = start(env(&cert, &key));
    assert_eq!(code, Some(2));
    assert!(err.contains("do not belong together"), "{err}");
    assert!(
        !data.join("admin-api-key").exists(),
        "nothing is bootstrapped before TLS is known good"
    );
    let (code, err) = start(env(&key, &key));
    assert_eq!(code, Some(2));
    assert!(err.contains("no CERTIFICATE"), "{err}");
    let (code, err) = start(env(&dir.path().join("nope.pem"), &key));
    assert_eq!(code, Some(2));
    assert!(err.contains("nope.pem"), "{err}");
    // check-config finds the same problem without starting anything.
    let (code, _, err) = run(
        &["check-config"],
        &[
            ("IAMD_TLS_CERT_FILE", cert.to_str().unwrap()),
            ("IAMD_TLS_KEY_FILE", key.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("do not belong together"), "{err}");
    std::fs::write(&key, one.key_pair.serialize_pem()).unwrap();
    let (code, out, err) = run(
        &["check-config"],
        &[
            ("IAMD_TLS_CERT_FILE", cert.to_str().unwrap()),
            ("IAMD_TLS_KEY_FILE", key.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[tls]"), "{out}");
}

// ---------------------------------------------------------------- graceful shutdown

#[test]
fn sigterm_during_a_burst_of_writes_exits_0_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &[]);
    let base = server.client.base.clone();
    let key = server.client.key.clone().unwrap();
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let (base, key) = (base.clone(), key.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(20))
                    .build();
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let email = format!("burst{t}-{i}@example.com");
                    let sent = agent
                        .post(&format!("{base}/v3/users"))
                        .set("Authorization", &format!("Bearer {key}"))
                        .send_json(json!({ "email": email }));
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            let body: Value = r.into_json().unwrap();
                            acknowledged.push(body["id"].as_str().unwrap().to_string());
                        }
                        // Refused or cut connections once the server stops: not acknowledged.
                        Ok(_) | Err(_) => break,
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let started = Instant::now();
    let status = server.terminate();
    let took = started.elapsed();
    let acknowledged: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(status.success(), "SIGTERM exits 0: {status:?}");
    assert!(took < Duration::from_secs(12), "bounded wait: {took:?}");
    assert!(
        acknowledged.len() > 4,
        "the burst ran: {}",
        acknowledged.len()
    );

    let again = Binary::start(dir.path(), &[]);
    for id in &acknowledged {
        again.client.get(&format!("/v3/users/{id}")).expect(200);
    }
    let list = again.client.get("/v3/users?limit=2").expect(200).clone();
    assert!(list["total_count"].as_u64().unwrap() > acknowledged.len() as u64);
}

#[test]
fn a_second_signal_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(
        dir.path(),
        &[
            ("IAMD_SHUTDOWN_TIMEOUT_SECS", "60"),
            ("IAMD_REQUEST_TIMEOUT_SECS", "60"),
        ],
    );
    // A request in flight that will not finish: its body never arrives.
    let addr = server.client.base.trim_start_matches("http://").to_string();
    let mut slow = TcpStream::connect(&addr).unwrap();
    write!(
        slow,
        "POST /v3/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"email\"",
        server.client.key.as_deref().unwrap()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    let kill = |sig: &str| {
        Command::new("kill").args([sig, &pid]).status().unwrap();
    };
    kill("-TERM");
    std::thread::sleep(Duration::from_millis(500));
    let mut child = server;
    assert!(
        child.child.try_wait().unwrap().is_none(),
        "the first signal waits for the request in flight"
    );
    let started = Instant::now();
    kill("-INT");
    let status = child.child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(1), "{status:?}");
    drop(slow);
}

// ---------------------------------------------------------------- backup and restore

/// Removes what legitimately differs between two servers answering the same request.
fn normalise(mut v: Value) -> Value {
    match &mut v {
        Value::Object(map) => {
            map.remove("last_login_time");
            map.remove("request_id");
            for value in map.values_mut() {
                *value = normalise(value.take());
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = normalise(item.take());
            }
        }
        _ => {}
    }
    v
}

/// The GET paths both servers must answer alike, with the caller to use for each.
/// Add paths here as more resources land.
fn comparison(users: &[(String, String)]) -> Vec<(Option<String>, String)> {
    let mut paths: Vec<(Option<String>, String)> = [
        "/v3/accounts/me",
        "/v3/users/me",
        "/v3/api-keys/me",
        "/v3/users?limit=1000",
        "/v3/users?limit=2&order=DESC",
        "/v3/users?email__like=backup",
        "/v3/users/00000000000000000000000000000000",
        "/health",
    ]
    .iter()
    .map(|p| (None, p.to_string()))
    .collect();
    for (id, key) in users {
        paths.push((None, format!("/v3/users/{id}")));
        paths.push((Some(key.clone()), "/v3/users/me".into()));
        paths.push((Some(key.clone()), "/v3/api-keys/me".into()));
        paths.push((Some(key.clone()), "/v3/accounts/me".into()));
    }
    paths
}

fn assert_same_answers(a: &Client, b: &Client, users: &[(String, String)]) {
    for (key, path) in comparison(users) {
        let (ca, cb) = match &key {
            Some(k) => (a.with_key(k), b.with_key(k)),
            None => (a.clone(), b.clone()),
        };
        let (ra, rb) = (ca.get(&path), cb.get(&path));
        assert_eq!(ra.status, rb.status, "{path}: {} vs {}", ra.text, rb.text);
        assert_eq!(
            normalise(ra.body.clone()),
            normalise(rb.body.clone()),
            "{path}"
        );
    }
}

/// Users with keys of their own, and an admin profile change: state worth comparing.
fn populate(admin: &Client, n: usize) -> Vec<(String, String)> {
    admin
        .put("/v3/accounts/me", &json!({"display_name": "Backed up"}))
        .expect(200);
    (0..n)
        .map(|i| {
            let user = admin
                .post(
                    "/v3/users",
                    &json!({"email": format!("backup{i}-{}@example.com", unique("u")),
                            "full_name": format!("User {i}")}),
                )
                .expect(201)
                .clone();
            let id = user["id"].as_str().unwrap().to_string();
            let key = admin
                .post(
                    "/v3/api-keys",
                    &json!({"name": format!("key {i}"), "owner": id}),
                )
                .expect(201)["key"]
                .as_str()
                .unwrap()
                .to_string();
            (id, key)
        })
        .collect()
}

#[test]
fn backup_of_a_running_server_restores_to_a_server_that_answers_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let original = Binary::start(&data, &[]);
    let admin = original.client.clone();
    let users = populate(&admin, 5);
    let key_file = data.join("admin-api-key");
    let url = admin.base.clone();
    let file = dir.path().join("one.iamdbackup");

    // Backup while writers run: the snapshot must be internally consistent.
    let writer = {
        let admin = admin.clone();
        std::thread::spawn(move || {
            for i in 0..40 {
                admin
                    .post(
                        "/v3/users",
                        &json!({"email": format!("during{i}@example.com")}),
                    )
                    .expect(201);
            }
        })
    };
    let (code, out, err) = run(
        &[
            "backup",
            "--url",
            &url,
            "--key-file",
            key_file.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ],
        &[],
    );
    writer.join().unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("trees"), "{out}");
    let during = dir.path().join("during");
    let (code, _, err) = run(
        &[
            "restore",
            "--in",
            file.to_str().unwrap(),
            "--data-dir",
            during.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::copy(&key_file, during.join("admin-api-key")).unwrap();
    let mid = Binary::start(&during, &[]);
    let list = mid.client.get("/v3/users?limit=1000").expect(200).clone();
    let data_len = list["data"].as_array().unwrap().len() as u64;
    assert_eq!(list["total_count"], data_len, "counters agree with records");
    for user in list["data"].as_array().unwrap() {
        let email = user["email"].as_str().unwrap();
        let found = mid
            .client
            .get(&format!("/v3/users?email__eq={email}"))
            .expect(200)
            .clone();
        assert_eq!(
            found["data"][0]["id"], user["id"],
            "indexes agree with records"
        );
    }
    drop(mid);

    // Quiet now: a second backup, restored, answers exactly as the original.
    let file = dir.path().join("two.iamdbackup");
    let (code, _, err) = run(
        &["backup", "--url", &url, "--out", file.to_str().unwrap()],
        &[("IAMD_API_KEY", admin.key.as_deref().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    let restored_dir = dir.path().join("restored");
    let (code, out, err) = run(
        &[
            "restore",
            "--in",
            file.to_str().unwrap(),
            "--data-dir",
            restored_dir.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("restored"), "{out}");
    assert!(
        !restored_dir.join("admin-api-key").exists(),
        "the key file is not part of a backup"
    );
    std::fs::copy(&key_file, restored_dir.join("admin-api-key")).unwrap();
    let restored = Binary::start(&restored_dir, &[]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !restored.stdout().contains("Created the root account"),
        "a restored directory is not bootstrapped again"
    );
    assert_same_answers(&admin, &restored.client, &users);
    // Both go on independently.
    restored
        .client
        .post("/v3/users", &json!({"email": "after-restore@example.com"}))
        .expect(201);
    admin
        .get("/v3/users?email__eq=after-restore@example.com")
        .expect(200);
}

#[test]
fn offline_backup_and_the_refusals_of_restore() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Binary::start(&data, &[]);
    let users = populate(&server.client, 2);
    let file = dir.path().join("offline.iamdbackup");
    let file_s = file.to_str().unwrap();
    // The database is locked while the server runs: the CLI says what to do instead.
    let (code, _, err) = run(
        &[
            "backup",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            file_s,
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("running server") && err.contains("--url"),
        "{err}"
    );
    assert!(!file.exists());
    // Only root administrators may download a backup.
    // A user's own key: not an administrator.
    let developer = server.client.with_key(&users[0].1);
    developer.get("/admin/backup").expect_error(403);
    server
        .client
        .anonymous()
        .get("/admin/backup")
        .expect_error(401);
    let (code, _, err) = run(
        &["backup", "--url", &server.client.base, "--out", file_s],
        &[("IAMD_API_KEY", developer.key.as_deref().unwrap())],
    );
    assert_eq!(code, 1);
    assert!(err.contains("403"), "{err}");
    assert!(!file.exists() && !dir.path().join("offline.iamdbackup.partial").exists());

    let admin_key = server.client.key.clone().unwrap();
    let base = server.client.base.clone();
    assert!(server.terminate().success());
    let (code, out, err) = run(
        &[
            "backup",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            file_s,
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "a backup is readable by its owner only");
    }
    let (code, out, _) = run(&["verify-backup", "--in", file_s], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("verified"), "{out}");

    // Refusals: a non-empty target, a flipped byte, a truncated file.
    let (code, _, err) = run(
        &[
            "restore",
            "--in",
            file_s,
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("not empty"), "{err}");
    let bytes = std::fs::read(&file).unwrap();
    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    let bad = dir.path().join("flipped.iamdbackup");
    std::fs::write(&bad, &flipped).unwrap();
    let target = dir.path().join("target");
    let (code, _, err) = run(
        &[
            "restore",
            "--in",
            bad.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("corrupt") || err.contains("truncated"),
        "{err}"
    );
    assert!(!target.exists(), "nothing is written for a refused backup");
    let cut = dir.path().join("cut.iamdbackup");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let (code, _, err) = run(
        &[
            "restore",
            "--in",
            cut.to_str().unwrap(),
            "--data-dir",
            target.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");
    assert!(!target.exists());
    let (code, _, err) = run(&["verify-backup", "--in", cut.to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("truncated"), "{err}");

    // The good file restores into an empty directory that already exists.
    std::fs::create_dir_all(&target).unwrap();
    let (code, _, err) = run(
        &[
            "restore",
            "--in",
            file_s,
            "--data-dir",
            target.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(target.join("admin-api-key"), &admin_key).unwrap();
    let original = Binary::start(&data, &[]);
    let restored = Binary::start(&target, &[]);
    assert_ne!(original.client.base, base, "a new port; same data");
    assert_same_answers(&original.client, &restored.client, &users);
}

// ---------------------------------------------------------------- abuse limits

#[test]
fn failed_authentication_is_limited_per_address_and_valid_keys_are_not() {
    let app = spawn_app_with(|c| c.limits.auth_failures_per_minute = 3);
    let forged = format!("ak_{}", "A".repeat(app.admin_key.len() - 3));
    let bad = app.with_key(&forged);
    for _ in 0..3 {
        bad.get("/v3/users/me").expect_error(401);
        // Interleaved successes are neither counted nor slowed.
        let started = Instant::now();
        app.get("/v3/users/me").expect(200);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    let limited = bad.get("/v3/users/me");
    let body = limited.expect_error(429);
    assert_eq!(body["type"], "too_many_requests");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    app.with_key("not-even-a-key")
        .get("/v3/accounts/me")
        .expect_error(429);
    // A valid key from the same address still works; a missing one is plain 401.
    app.get("/v3/accounts/me").expect(200);
    app.anonymous().get("/v3/accounts/me").expect_error(401);
}

#[test]
fn each_request_limit_is_a_4xx_error_response() {
    let app = spawn_app_with(|c| {
        c.limits.max_query_bytes = 256;
        c.limits.max_header_bytes = 2048;
        c.max_json_body_bytes = 1024;
        c.timeouts.request_secs = 1;
        c.timeouts.client_request_secs = 1;
    });
    // Query string.
    let long = "a".repeat(300);
    let body = app
        .get(&format!("/v3/users?email__eq={long}"))
        .expect_error(414)
        .clone();
    assert!(body["message"].as_str().unwrap().contains("256"), "{body}");
    app.get(&format!("/v3/users?email__eq={}", &long[..200]))
        .expect(200);
    // Header size.
    let big = "b".repeat(2100);
    let r = app.raw("GET", "/v3/users/me", None, &[("X-Padding", &big)]);
    r.expect_error(431);
    app.raw("GET", "/v3/users/me", None, &[("X-Padding", &big[..1000])])
        .expect(200);
    // JSON body size.
    let name = "c".repeat(1100);
    app.post(
        "/v3/users",
        &json!({"email": "big@example.com", "full_name": name}),
    )
    .expect_error(413);
    let none = app
        .get("/v3/users?email__eq=big@example.com")
        .expect(200)
        .clone();
    assert_eq!(none["total_count"], 0, "a refused body changes nothing");

    let addr = app.base.trim_start_matches("http://").to_string();
    // A body that never finishes: 408 ErrorResponse after request_secs.
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        slow,
        "POST /v3/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"email\":",
        app.admin_key
    )
    .unwrap();
    let started = Instant::now();
    let mut raw = Vec::new();
    let _ = slow.read_to_end(&mut raw);
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, body) = parse_response(&raw).expect("an answer");
    assert_eq!(status, 408);
    assert_error_body(&serde_json::from_str(&body).unwrap(), 408);
    // A request head that never finishes: the connection is closed.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    idle.write_all(b"GET /v3/users/me HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    assert!(started.elapsed() < Duration::from_secs(5), "closed in time");
    // The server is fine afterwards.
    app.get("/v3/users/me").expect(200);
}

// ---------------------------------------------------------------- appliance commands

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
