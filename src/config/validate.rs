//! Checks of a loaded configuration that serde cannot make: ranges, formats, and keys that
//! only make sense together. Each error names the key.

use super::{Config, ConfigError};
use std::net::SocketAddr;

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.into(),
            message,
        };
        self.bind
            .parse::<SocketAddr>()
            .map_err(|e| invalid("bind", format!("`{}` is not host:port ({e})", self.bind)))?;
        let url = &self.public_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                "public_url",
                "must start with http:// or https://".into(),
            ));
        }
        if self.max_json_body_bytes < 1024 {
            return Err(invalid(
                "max_json_body_bytes",
                "must be at least 1024".into(),
            ));
        }
        if self.max_image_bytes < 1024 {
            return Err(invalid("max_image_bytes", "must be at least 1024".into()));
        }
        self.dev
            .validate()
            .map_err(|(key, message)| invalid(&key, message))?;
        let email = &self.bootstrap.admin_email;
        if !crate::service::validate::is_email(email) {
            return Err(invalid(
                "bootstrap.admin_email",
                format!("`{email}` is not an email address"),
            ));
        }
        if !crate::service::validate::is_username(&self.bootstrap.admin_username) {
            return Err(invalid(
                "bootstrap.admin_username",
                "must be 4-30 of letters, digits and -,._@+=".into(),
            ));
        }
        let key = &self.bootstrap.admin_api_key;
        if !key.is_empty() {
            crate::auth::apikey::check_chosen(key)
                .map_err(|why| invalid("bootstrap.admin_api_key", why))?;
        }
        if self.limits.max_ids_per_request == 0 {
            return Err(invalid(
                "limits.max_ids_per_request",
                "must be positive".into(),
            ));
        }
        self.validate_operations()
    }

    fn validate_operations(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            key: key.into(),
            message: message.into(),
        };
        if let Err(e) = crate::store::Location::parse(&self.store.url) {
            return Err(invalid("store.url", &e.to_string()));
        }
        let tls = &self.tls;
        if tls.cert_file.is_empty() != tls.key_file.is_empty() {
            let missing = if tls.cert_file.is_empty() {
                "tls.cert_file"
            } else {
                "tls.key_file"
            };
            return Err(invalid(
                missing,
                "tls.cert_file and tls.key_file go together",
            ));
        }
        if tls.self_signed && !tls.cert_file.is_empty() {
            return Err(invalid(
                "tls.self_signed",
                "cannot be combined with tls.cert_file / tls.key_file",
            ));
        }
        if tls.self_signed && tls.hosts.is_empty() {
            return Err(invalid("tls.hosts", "needs at least one host name"));
        }
        if let Some(bad) = tls.hosts.iter().find(|h| !is_host(h)) {
            return Err(ConfigError::Invalid {
                key: "tls.hosts".into(),
                message: format!("`{bad}` is not a host name or IP address"),
            });
        }
        if let Some(bad) = self.http.cors_origins.iter().find(|o| !is_origin(o)) {
            return Err(ConfigError::Invalid {
                key: "http.cors_origins".into(),
                message: format!(
                    "`{bad}` is not an origin (scheme://host or scheme://host:port, nothing after)"
                ),
            });
        }
        let l = &self.limits;
        if l.auth_failure_clients == 0 {
            return Err(invalid("limits.auth_failure_clients", "must be positive"));
        }
        if l.max_query_bytes < 256 {
            return Err(invalid("limits.max_query_bytes", "must be at least 256"));
        }
        // actix refuses request heads above 128 KiB itself, with a bare 431; staying below
        // keeps every refusal an ErrorResponse.
        if !(1024..=65536).contains(&l.max_header_bytes) {
            return Err(invalid(
                "limits.max_header_bytes",
                "must be between 1024 and 65536",
            ));
        }
        if l.max_connections_per_worker == 0 {
            return Err(invalid(
                "limits.max_connections_per_worker",
                "must be positive",
            ));
        }
        let a = &self.auth;
        if !(1..=8760).contains(&a.session_max_hours) {
            return Err(invalid(
                "auth.session_max_hours",
                "must be between 1 and 8760",
            ));
        }
        if !(1..=86_400).contains(&a.lockout_secs) {
            return Err(invalid("auth.lockout_secs", "must be between 1 and 86400"));
        }
        if !(60..=86_400).contains(&a.client_token_secs) {
            return Err(invalid(
                "auth.client_token_secs",
                "must be between 60 and 86400",
            ));
        }
        let t = &self.timeouts;
        for (key, value) in [
            ("timeouts.client_request_secs", t.client_request_secs),
            ("timeouts.request_secs", t.request_secs),
            ("timeouts.client_disconnect_secs", t.client_disconnect_secs),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(invalid(key, "must be between 1 and 3600"));
            }
        }
        if t.keep_alive_secs > 3600 || t.shutdown_secs > 3600 {
            let key = if t.keep_alive_secs > 3600 {
                "timeouts.keep_alive_secs"
            } else {
                "timeouts.shutdown_secs"
            };
            return Err(invalid(key, "must be at most 3600"));
        }
        Ok(())
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port, no path.
pub(super) fn is_origin(origin: &str) -> bool {
    let Some(authority) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    // `[v6]:port`, `[v6]`, `host:port` or `host`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((ip, "")) => (ip, None),
            Some((ip, rest)) => (ip, Some(rest.strip_prefix(':').unwrap_or("x"))),
            None => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    port.is_none_or(|p| p.parse::<u16>().is_ok()) && !host.starts_with("*.") && is_host(host)
}

/// A DNS name (letters, digits, `-`, `.`, `*.` prefix) or an IP address.
fn is_host(h: &str) -> bool {
    if h.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = h.strip_prefix("*.").unwrap_or(h);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
