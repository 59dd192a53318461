//! HTTPS: a self-signed certificate trusted by a client, kept across restarts; bad TLS
//! files and a busy port stop the start early.

use super::{iamd, parse_response, run};
use crate::common::Binary;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

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
    let raw = https_exchange(addr, host, config, path, key)?;
    let (status, body) = parse_response(&raw).ok_or("no HTTP response")?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// One HTTPS GET; returns the raw response bytes, or the TLS/IO error.
fn https_exchange(
    addr: &str,
    host: &str,
    config: Arc<rustls::ClientConfig>,
    path: &str,
    key: &str,
) -> Result<Vec<u8>, String> {
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
    Ok(raw)
}

#[test]
fn https_responses_ask_browsers_to_keep_to_https() {
    let dir = tempfile::tempdir().unwrap();
    let server = TlsServer::start(dir.path());
    let key = std::fs::read_to_string(dir.path().join("admin-api-key")).unwrap();
    let trusting = client_config(&std::fs::read(dir.path().join("tls/cert.pem")).unwrap());
    for (path, status) in [("/v3/accounts/me", 200), ("/v3/no-such-route", 404)] {
        let raw = https_exchange(
            &server.addr,
            "localhost",
            trusting.clone(),
            path,
            key.trim(),
        )
        .unwrap();
        let text = String::from_utf8_lossy(&raw).to_lowercase();
        let (head, _) = text.split_once("\r\n\r\n").expect("a response head");
        assert_eq!(parse_response(&raw).unwrap().0, status, "{head}");
        assert!(
            head.contains("\r\nstrict-transport-security: max-age=31536000\r\n"),
            "{path}: {head}"
        );
        assert!(
            head.contains("\r\nx-content-type-options: nosniff\r\n"),
            "{head}"
        );
    }
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

#[test]
fn a_busy_port_stops_the_start_before_the_first_start_bootstrap() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (code, out, err) = run(&[], &[("IAMD_DATA_DIR", data), ("IAMD_BIND", &addr)]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot listen"), "{err}");
    assert!(!out.contains("ak_"), "no key printed");
    assert!(
        !dir.path().join("admin-api-key").exists(),
        "the first start is still to come"
    );
    drop(taken);
    let server = Binary::start(dir.path(), &[]);
    assert!(server.wait_stdout("Created the root account", Duration::from_secs(10)));
}

#[test]
fn backup_over_https_trusts_only_the_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = TlsServer::start(&data);
    let url = format!(
        "https://localhost:{}",
        server.addr.rsplit(':').next().unwrap()
    );
    let key_file = data.join("admin-api-key");
    let file = dir.path().join("tls.iamdbackup");
    let backup = |ca: Option<&Path>| {
        let mut args = vec![
            "backup",
            "--url",
            &url,
            "--key-file",
            key_file.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ];
        if let Some(ca) = ca {
            args.extend(["--ca-file", ca.to_str().unwrap()]);
        }
        run(&args, &[])
    };
    let (code, _, err) = backup(None);
    assert_eq!(code, 1);
    assert!(err.contains("--ca-file"), "{err}");
    let stranger = dir.path().join("stranger.pem");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(&stranger, other.cert.pem()).unwrap();
    let (code, _, err) = backup(Some(&stranger));
    assert_eq!(
        code, 1,
        "a server the CA file does not vouch for is refused"
    );
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(!file.exists());

    let (code, out, err) = backup(Some(&data.join("tls/cert.pem")));
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&["verify-backup", "--in", file.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{out}{err}");
}
