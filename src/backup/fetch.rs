//! The client side of `iamd backup --url`: one GET of `/admin/backup` with ureq, written to
//! a file. ureq bounds the response head (100 KiB a header line, 100 headers), decodes
//! chunked and sized bodies and reports a body cut short; TLS is rustls on the ring provider,
//! trusting only the certificates of `--ca-file`.

use super::BackupError;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a single read or write may wait: a stalled server fails the download, while a
/// large backup may take as long as it needs.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of a refusal's body is read for its message.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// Downloads the backup into `out`; returns the number of bytes written.
pub fn download(
    url: &str,
    key: &str,
    ca_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<u64, BackupError> {
    let refused = BackupError::Refused;
    let https = if url.starts_with("https://") {
        true
    } else if url.starts_with("http://") {
        false
    } else {
        return Err(refused(format!(
            "`{url}` does not start with http:// or https://"
        )));
    };
    let mut agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .timeout_write(WRITE_TIMEOUT)
        // The key must never follow a redirect to another host; nor does the server send one.
        .redirects(0)
        .user_agent(concat!("iamd/", env!("CARGO_PKG_VERSION")));
    if https {
        agent = agent.tls_config(tls_config(ca_file)?);
    }
    let endpoint = format!("{}{}", url.trim_end_matches('/'), super::endpoint::PATH);
    let answer = agent
        .build()
        .get(&endpoint)
        .set("Authorization", &format!("Bearer {key}"))
        .set("Accept", "application/octet-stream")
        .call();
    let response = match answer {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(ureq::Error::Transport(e)) => return Err(refused(format!("{url}: {e}"))),
    };
    let status = response.status();
    if status != 200 {
        let mut body = Vec::new();
        let _ = response
            .into_reader()
            .take(MAX_ERROR_BODY)
            .read_to_end(&mut body);
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(refused(format!("the server answered {status}: {message}")));
    }
    let length = response
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if length.is_none() && response.header("transfer-encoding").is_none() {
        // Read-to-close would take a dropped connection for the end of the backup.
        return Err(refused("the server's answer has no Content-Length".into()));
    }
    let copied = std::io::copy(&mut response.into_reader(), out).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => BackupError::Truncated("the download"),
        _ => BackupError::Io(e),
    })?;
    if length.is_some_and(|l| l != copied) {
        return Err(BackupError::Truncated("the download"));
    }
    Ok(copied)
}

/// rustls trusting only `ca_file`'s certificates (no system or bundled roots).
fn tls_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, BackupError> {
    let refused = BackupError::Refused;
    let ca_file = ca_file.ok_or_else(|| {
        refused(
            "an https URL needs --ca-file: the server's certificate (for tls.self_signed: \
             DATA_DIR/tls/cert.pem) or a CA bundle such as /etc/ssl/certs/ca-certificates.crt"
                .into(),
        )
    })?;
    let pem = std::fs::read(ca_file)
        .map_err(|e| refused(format!("cannot read {}: {e}", ca_file.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| refused(format!("{}: {e}", ca_file.display())))?;
        roots
            .add(cert)
            .map_err(|e| refused(format!("{}: {e}", ca_file.display())))?;
    }
    if roots.is_empty() {
        return Err(refused(format!(
            "{} holds no certificate",
            ca_file.display()
        )));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| refused(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_https_without_a_ca_file_are_refused_before_connecting() {
        let fails = |url: &str| {
            download(url, "k", None, &mut Vec::new())
                .unwrap_err()
                .to_string()
        };
        assert!(fails("ftp://x").contains("http://"));
        assert!(fails("https://127.0.0.1:1").contains("--ca-file"));
        assert!(fails("http://:80").contains("http://:80"));
    }
}
