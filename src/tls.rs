//! HTTPS: the rustls server configuration, from PEM files or from a self-signed certificate
//! that the first start makes and later starts reuse.
//!
//! The self-signed pair lives in `<data_dir>/tls/` so clients can pin it once: a restart
//! serves the same certificate (same fingerprint) unless the configured host names change.

use crate::config::TlsConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the self-signed pair is kept, below the data directory.
pub const SELF_SIGNED_DIR: &str = "tls";
pub const SELF_SIGNED_CERT: &str = "cert.pem";
pub const SELF_SIGNED_KEY: &str = "key.pem";

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("{cert} and {key} do not belong together: {message}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
    #[error("cannot make the self-signed certificate: {0}")]
    Generate(String),
}

/// The loaded certificate: the rustls configuration plus what to log about it.
pub struct Loaded {
    pub config: rustls::ServerConfig,
    /// SHA-256 of the leaf certificate (DER), uppercase hex pairs joined by `:`.
    pub fingerprint: String,
    /// Where the leaf certificate came from.
    pub cert_path: PathBuf,
    /// True when the self-signed certificate was made by this start.
    pub generated: bool,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server configuration; `None` when TLS is off. For `self_signed`, makes the
/// certificate in `data_dir` if there is none yet (or it no longer covers `hosts`).
pub fn load(tls: &TlsConfig, data_dir: &Path) -> Result<Option<Loaded>, TlsError> {
    if !tls.enabled() {
        return Ok(None);
    }
    let (cert_path, key_path, generated) = if tls.self_signed {
        let dir = data_dir.join(SELF_SIGNED_DIR);
        let cert = dir.join(SELF_SIGNED_CERT);
        let key = dir.join(SELF_SIGNED_KEY);
        let generated = ensure_self_signed(&dir, &cert, &key, &tls.hosts)?;
        (cert, key, generated)
    } else {
        (
            PathBuf::from(&tls.cert_file),
            PathBuf::from(&tls.key_file),
            false,
        )
    };
    let chain = read_certs(&cert_path)?;
    let key = read_key(&key_path)?;
    let fingerprint = fingerprint(&chain[0]);
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Generate(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Mismatch {
            cert: cert_path.clone(),
            key: key_path.clone(),
            message: e.to_string(),
        })?;
    Ok(Some(Loaded {
        config,
        fingerprint,
        cert_path,
        generated,
    }))
}

/// `AB:CD:...` of the SHA-256 of `der`, as `openssl x509 -fingerprint -sha256` prints it.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let chain = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: format!("unreadable PEM: {e}"),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            message: "holds no CERTIFICATE block".into(),
        });
    }
    for cert in &chain {
        x509_parser::parse_x509_certificate(cert).map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: format!("not a valid X.509 certificate: {e}"),
        })?;
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| TlsError::Pem {
            path: path.to_path_buf(),
            message: format!("unreadable PEM: {e}"),
        })?
        .ok_or_else(|| TlsError::Pem {
            path: path.to_path_buf(),
            message: "holds no PRIVATE KEY block".into(),
        })
}

/// Makes the self-signed pair unless one exists that covers `hosts`. True when made.
fn ensure_self_signed(
    dir: &Path,
    cert: &Path,
    key: &Path,
    hosts: &[String],
) -> Result<bool, TlsError> {
    if cert.exists() && key.exists() {
        let existing = read_certs(cert)?;
        let names = subject_alt_names(&existing[0]);
        let mut wanted: Vec<String> = hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
        wanted.sort();
        wanted.dedup();
        if names == wanted {
            return Ok(false);
        }
        log::warn!(
            "the self-signed certificate in {} is for {names:?}, not {wanted:?}: making a new one",
            dir.display()
        );
    }
    let now = time::OffsetDateTime::now_utc();
    let mut subject = rcgen::DistinguishedName::new();
    subject.push(rcgen::DnType::CommonName, hosts[0].clone());
    subject.push(rcgen::DnType::OrganizationName, "iamd (self-signed)");
    let mut params = crate::pki::base_params(
        subject,
        now - time::Duration::hours(1),
        crate::pki::years_after(now, 10),
    );
    params.subject_alt_names = hosts
        .iter()
        .map(|h| match h.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(rcgen::SanType::IpAddress(ip)),
            Err(_) => h
                .clone()
                .try_into()
                .map(rcgen::SanType::DnsName)
                .map_err(|e: rcgen::Error| TlsError::Generate(e.to_string())),
        })
        .collect::<Result<_, _>>()?;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let pair = rcgen::KeyPair::generate().map_err(|e| TlsError::Generate(e.to_string()))?;
    let made = params
        .self_signed(&pair)
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    crate::private::create_dir(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // The certificate is public, but everything in the data directory is private: clients
    // that pin it copy it out (see README.md § HTTPS).
    write_file(key, pair.serialize_pem().as_bytes(), 0o600)?;
    write_file(cert, made.pem().as_bytes(), 0o600)?;
    Ok(true)
}

/// The DNS names and IP addresses a certificate is for, lowercase and sorted.
fn subject_alt_names(der: &[u8]) -> Vec<String> {
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let mut names: Vec<String> = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => <[u8; 4]>::try_from(*b)
                        .ok()
                        .map(|a| std::net::IpAddr::from(a).to_string()),
                    16 => <[u8; 16]>::try_from(*b)
                        .ok()
                        .map(|a| std::net::IpAddr::from(a).to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    names.sort();
    names.dedup();
    names
}

/// Writes atomically (temp file, fsync, rename) with `mode` on Unix.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    use std::io::Write;
    let fail = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(hosts: &[&str]) -> TlsConfig {
        TlsConfig {
            self_signed: true,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..TlsConfig::default()
        }
    }

    #[test]
    fn self_signed_is_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load(&self_signed(&["localhost", "127.0.0.1"]), dir.path())
            .unwrap()
            .unwrap();
        assert!(first.generated);
        assert_eq!(first.fingerprint.len(), 32 * 3 - 1);
        let again = load(&self_signed(&["127.0.0.1", "localhost"]), dir.path())
            .unwrap()
            .unwrap();
        assert!(!again.generated);
        assert_eq!(again.fingerprint, first.fingerprint);
        let der = read_certs(&first.cert_path).unwrap();
        assert_eq!(subject_alt_names(&der[0]), vec!["127.0.0.1", "localhost"]);
        // Other host names: a new certificate.
        let other = load(&self_signed(&["iam.example.com"]), dir.path())
            .unwrap()
            .unwrap();
        assert!(other.generated);
        assert_ne!(other.fingerprint, first.fingerprint);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let a = load(&self_signed(&["localhost"]), &dir.path().join("a"))
            .unwrap()
            .unwrap();
        load(&self_signed(&["localhost"]), &dir.path().join("b")).unwrap();
        let files = |cert: &Path, key: &Path| TlsConfig {
            cert_file: cert.display().to_string(),
            key_file: key.display().to_string(),
            ..TlsConfig::default()
        };
        let key_a = dir.path().join("a/tls/key.pem");
        let key_b = dir.path().join("b/tls/key.pem");
        assert!(load(&files(&a.cert_path, &key_a), dir.path()).is_ok());
        let err = load(&files(&a.cert_path, &key_b), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("do not belong together"), "{err}");
        let err = load(&files(&key_a, &key_a), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no CERTIFICATE"), "{err}");
        let err = load(&files(&a.cert_path, &a.cert_path), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no PRIVATE KEY"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = load(&files(&missing, &key_a), dir.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("missing.pem"), "{err}");
    }
}
