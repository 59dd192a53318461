//! The client side of `iamd backup --url`: one HTTP/1.1 GET of `/admin/backup`, over plain
//! TCP or rustls, written to a file. Small on purpose: the binary needs no HTTP client
//! library for this one request.

use super::BackupError;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Where to reach the server.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path prefix of the server below the host (empty, or `/iam` behind a proxy).
    pub prefix: String,
}

pub fn parse_url(url: &str) -> Result<Target, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("`{url}` does not start with http:// or https://"));
    };
    let (authority, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let default_port = if https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed [ in the URL")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port `{p}`"))?,
            None => default_port,
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse().map_err(|_| format!("bad port `{p}`"))?,
            ),
            None => (authority.to_string(), default_port),
        }
    };
    if host.is_empty() {
        return Err(format!("`{url}` names no host"));
    }
    Ok(Target {
        https,
        host,
        port,
        prefix: prefix.to_string(),
    })
}

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

fn connect(target: &Target, ca_file: Option<&Path>) -> Result<Box<dyn Conn>, BackupError> {
    let refused = |m: String| BackupError::Refused(m);
    let addr = format!("{}:{}", target.host, target.port);
    let tcp = std::net::ToSocketAddrs::to_socket_addrs(&addr.as_str())
        .map_err(|e| refused(format!("cannot resolve {addr}: {e}")))?
        .find_map(|a| TcpStream::connect_timeout(&a, Duration::from_secs(10)).ok())
        .ok_or_else(|| refused(format!("cannot connect to {addr}")))?;
    tcp.set_read_timeout(Some(Duration::from_secs(300)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(60)))?;
    if !target.https {
        return Ok(Box::new(tcp));
    }
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
    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|e| refused(format!("`{}`: {e}", target.host)))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| refused(e.to_string()))?;
    Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

/// Downloads the backup into `out`; returns the number of bytes written.
pub fn download(
    url: &str,
    key: &str,
    ca_file: Option<&Path>,
    out: &mut impl Write,
) -> Result<u64, BackupError> {
    let target = parse_url(url).map_err(BackupError::Refused)?;
    let mut conn = connect(&target, ca_file)?;
    let host = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    write!(
        conn,
        "GET {}{} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\
         Accept: application/octet-stream\r\nConnection: close\r\n\r\n",
        target.prefix,
        super::endpoint::PATH
    )
    .map_err(|e| BackupError::Refused(format!("cannot send the request to {url}: {e}")))?;
    conn.flush()?;
    let mut reader = BufReader::new(conn);
    let (status, headers) = read_head(&mut reader)?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
    };
    let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    if status != 200 {
        let mut body = Vec::new();
        let _ = reader
            .take(length.unwrap_or(64 * 1024).min(64 * 1024))
            .read_to_end(&mut body);
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        return Err(BackupError::Refused(format!(
            "the server answered {status}: {message}"
        )));
    }
    if chunked {
        return copy_chunked(&mut reader, out);
    }
    let length = length
        .ok_or_else(|| BackupError::Refused("the server's answer has no Content-Length".into()))?;
    let copied = std::io::copy(&mut reader.take(length), out)?;
    if copied != length {
        return Err(BackupError::Truncated("the download"));
    }
    Ok(copied)
}

type Head = (u16, Vec<(String, String)>);

fn read_head(reader: &mut impl BufRead) -> Result<Head, BackupError> {
    let bad = |m: &str| BackupError::Refused(format!("not an HTTP answer: {m}"));
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(line.trim()))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(bad("the connection closed inside the headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if headers.len() > 200 {
            return Err(bad("too many headers"));
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.to_string(), v.to_string()));
        }
    }
    Ok((status, headers))
}

fn copy_chunked(reader: &mut impl BufRead, out: &mut impl Write) -> Result<u64, BackupError> {
    let mut total = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(BackupError::Truncated("the download"));
        }
        let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|_| BackupError::Refused("bad chunked encoding".into()))?;
        if size == 0 {
            return Ok(total);
        }
        let copied = std::io::copy(&mut reader.by_ref().take(size), out)?;
        if copied != size {
            return Err(BackupError::Truncated("the download"));
        }
        total += size;
        line.clear();
        reader.read_line(&mut line)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse_url("https://iam.example.com").unwrap();
        assert_eq!(
            (t.https, t.host.as_str(), t.port),
            (true, "iam.example.com", 443)
        );
        let t = parse_url("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("127.0.0.1", 8080, "")
        );
        let t = parse_url("http://[::1]:9000/iam/").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("::1", 9000, "/iam")
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://:80").is_err());
        assert!(parse_url("http://h:port").is_err());
    }

    #[test]
    fn chunked_bodies() {
        let mut input = "5\r\nhello\r\n6;x=1\r\n world\r\n0\r\n\r\n".as_bytes();
        let mut out = Vec::new();
        assert_eq!(copy_chunked(&mut input, &mut out).unwrap(), 11);
        assert_eq!(out, b"hello world");
        let mut cut = "5\r\nhel".as_bytes();
        assert!(copy_chunked(&mut cut, &mut Vec::new()).is_err());
    }
}
