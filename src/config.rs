//! Configuration: embedded defaults, then a TOML file, then `IAMD_*` environment variables
//! (layered by figment; the variables' names are in [`env`]).
//!
//! One struct holds every setting; `config.example.toml` documents each key with its default
//! and its variable. Unknown keys and bad values are startup errors that name the key (or the
//! variable, and the line and column in the file), so a typo never silently falls back to a
//! default.

pub mod env;

use env::EnvLayer;
use figment::providers::{Format, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `config.example.toml`, as `iamd config-example` prints it.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP listener binds to.
    pub bind: String,
    /// Directory holding the sled database, the admin key file and the outbox.
    pub data_dir: PathBuf,
    /// Base URL clients use to reach this server (links such as branding `static_uri`).
    /// Empty means "derived from `bind`".
    pub public_url: String,
    /// Largest accepted JSON request body, in bytes.
    pub max_json_body_bytes: usize,
    /// Largest accepted branding image, in bytes.
    pub max_image_bytes: usize,
    /// Worker threads serving HTTP; 0 means one per CPU core (on PostgreSQL, one per pooled
    /// connection: a worker waits for each database round trip).
    pub workers: usize,
    pub store: StoreConfig,
    pub bootstrap: BootstrapConfig,
    pub limits: LimitsConfig,
    pub pki: PkiConfig,
    pub tls: TlsConfig,
    pub timeouts: TimeoutsConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub dev: crate::dev::DevConfig,
    pub audit: AuditConfig,
}

/// People signing in (`/auth`): sessions, lockouts, client-credential tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Longest a session lives, in hours, however often it is used (its idle limit is the
    /// account's `idle_timeout`).
    pub session_max_hours: u32,
    /// Failed logins for one username before it is locked for `lockout_secs`.
    pub login_failures_per_user: u32,
    /// Failed logins from one client address before it is locked for `lockout_secs`.
    pub login_failures_per_address: u32,
    /// How long a lockout lasts, in seconds; failures older than this are forgotten.
    pub lockout_secs: u64,
    /// Lifetime of a client-credentials token (`POST /auth/token`), in seconds.
    pub client_token_secs: u64,
    /// Not configurable: the clock of sign-in expiries, which tests move forward.
    #[serde(skip)]
    pub clock: crate::clock::Clock,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_max_hours: 12,
            login_failures_per_user: 5,
            login_failures_per_address: 20,
            lockout_secs: 300,
            client_token_secs: 900,
            clock: crate::clock::Clock::default(),
        }
    }
}

/// The audit trail.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Entries older than this many days are purged in the background; 0 keeps them all.
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: 365,
        }
    }
}

/// HTTP behaviour towards browsers.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Origins (`https://app.example.com`) whose pages may call the API from a browser with a
    /// bearer token (CORS, without credentials mode). Empty: CORS off.
    pub cors_origins: Vec<String>,
}

/// The log on stderr.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (one line per event, env_logger's layout) or `json` (one JSON object per line).
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Where the database is kept.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Empty: sled in the data directory. `memory:`: in memory only, lost at every stop
    /// (tests and local development). `postgres://user:password@host:port/database`: a
    /// PostgreSQL database, which several nodes may share (shown without its password).
    #[serde(serialize_with = "url_redacted")]
    pub url: String,
}

/// What the first start creates in an empty data directory.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BootstrapConfig {
    /// Display name of the root (aggregator) account.
    pub account_name: String,
    /// Email of the root account's admin user.
    pub admin_email: String,
    /// Username of the root account's admin user.
    pub admin_username: String,
    /// Password of the admin user; when empty a random one is generated and never shown,
    /// and the admin works with the API key only.
    #[serde(serialize_with = "redacted")]
    pub admin_password: String,
    /// The root admin API key to create at the first start, instead of a random one (for
    /// test harnesses that must know it). Stored as a digest only; never printed.
    #[serde(serialize_with = "redacted")]
    pub admin_api_key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Developer certificates one account may hold.
    pub developer_certificates_per_account: u32,
    /// Most ids accepted in one membership request (users or API keys added to groups).
    pub max_ids_per_request: usize,
    /// Failed authentications one client address may make per minute before further
    /// failures are answered 429; 0 turns the limit off.
    pub auth_failures_per_minute: u32,
    /// Client addresses the failure counter remembers at most (bounds its memory).
    pub auth_failure_clients: usize,
    /// Longest accepted query string, in bytes (longer: 414).
    pub max_query_bytes: usize,
    /// Largest accepted total size of the request headers, in bytes (larger: 431).
    pub max_header_bytes: usize,
    /// Simultaneous connections each worker accepts; more wait in the listen backlog.
    pub max_connections_per_worker: usize,
    /// Simultaneous connections one client address may hold; more are closed at once.
    /// 0 turns the limit off.
    pub max_connections_per_address: usize,
    /// Free space the data directory's file system must keep: below it, writes are answered
    /// 503 before they start (and `/health` is 503). 0 turns the check off.
    pub min_free_disk_bytes: u64,
}

/// HTTPS. Off unless `self_signed` or both files are set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain (leaf first).
    pub cert_file: String,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching the leaf certificate.
    pub key_file: String,
    /// Make (at first start) and reuse a self-signed certificate kept in the data directory.
    pub self_signed: bool,
    /// Names and addresses the self-signed certificate is made for.
    pub hosts: Vec<String>,
}

/// How long the server waits for clients, and for itself when stopping. Seconds.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsConfig {
    /// A client must send its complete request head within this time after connecting, or
    /// the connection is closed (a bare 408). Short: an idle half-sent request holds a
    /// connection slot for this long.
    pub client_request_secs: u64,
    /// A request's body must have arrived this long after its head, or the request is
    /// answered 408.
    pub request_secs: u64,
    /// How long an idle keep-alive connection stays open; 0 turns keep-alive off.
    pub keep_alive_secs: u64,
    /// How long a closing connection may take to shut down.
    pub client_disconnect_secs: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish.
    pub shutdown_secs: u64,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PkiConfig {
    /// URI devices use for the bootstrap server; empty means `coaps://<public host>:5684`.
    pub bootstrap_server_uri: String,
    /// URI devices use for the LwM2M server; empty means `coaps://<public host>:5685`.
    pub lwm2m_server_uri: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            public_url: String::new(),
            max_json_body_bytes: 1024 * 1024,
            max_image_bytes: 2 * 1024 * 1024,
            workers: 0,
            store: StoreConfig::default(),
            bootstrap: BootstrapConfig::default(),
            limits: LimitsConfig::default(),
            pki: PkiConfig::default(),
            tls: TlsConfig::default(),
            timeouts: TimeoutsConfig::default(),
            auth: AuthConfig::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            dev: crate::dev::DevConfig::default(),
            audit: AuditConfig::default(),
        }
    }
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        BootstrapConfig {
            account_name: "iamd root account".into(),
            admin_email: "admin@iamd.local".into(),
            admin_username: "admin".into(),
            admin_password: String::new(),
            admin_api_key: String::new(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            developer_certificates_per_account: 10,
            max_ids_per_request: 1000,
            auth_failures_per_minute: 60,
            auth_failure_clients: 10_000,
            max_query_bytes: 8192,
            max_header_bytes: 16384,
            max_connections_per_worker: 1024,
            max_connections_per_address: 128,
            min_free_disk_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cert_file: String::new(),
            key_file: String::new(),
            self_signed: false,
            hosts: vec!["localhost".into(), "127.0.0.1".into()],
        }
    }
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.self_signed || !self.cert_file.is_empty()
    }
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        TimeoutsConfig {
            client_request_secs: 2,
            request_secs: 30,
            keep_alive_secs: 5,
            client_disconnect_secs: 2,
            shutdown_secs: 10,
        }
    }
}

/// A URL is shown without its password.
fn url_redacted<S: serde::Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::store::redact_url(value))
}

/// Secrets are shown as whether they are set, never as their value.
fn redacted<S: serde::Serializer>(value: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if value.is_empty() { "" } else { "(set)" })
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
}

impl Config {
    /// Loads defaults, then `file` (if any), then the `IAMD_*` variables from `env` (see
    /// [`env`] for their names), and validates the result.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let config = Self::layered(file, &env)?;
        config.validate()?;
        Ok(config)
    }

    /// The layers merged, not yet validated. The struct's `#[serde(default)]` is the bottom
    /// layer.
    fn layered(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut layers = Figment::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.display().to_string(),
                source,
            })?;
            // The file alone through toml's own deserializer first: its errors (syntax,
            // unknown keys, wrong types) carry the line and column, figment's do not.
            toml::from_str::<Config>(&text).map_err(|e| ConfigError::Parse {
                path: path.display().to_string(),
                message: e.to_string().trim().to_string(),
            })?;
            layers = layers.merge(Toml::string(&text));
        }
        let env = EnvLayer::read(env)?;
        layers.merge(&env).extract().map_err(|e| env.error(e))
    }

    fn validate(&self) -> Result<(), ConfigError> {
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

    /// Sets an unset `public_url` from the address the server actually bound (so a
    /// configured port 0 becomes the real port). Links are never built from a request's
    /// `Host` or `X-Forwarded-Host`, which any client can forge. A wildcard address
    /// (0.0.0.0, [::]) names no host a client can reach: set `public_url` there.
    pub fn resolve_public_url(&mut self, bound: SocketAddr) {
        if let Some(warning) = self.wildcard_warning(bound) {
            log::warn!("{warning}");
        }
        self.public_url = self.resolved_public_url(bound);
    }

    /// `public_url`, or the one derived from the address bound when it is unset.
    pub fn resolved_public_url(&self, bound: SocketAddr) -> String {
        if self.public_url.is_empty() {
            let scheme = if self.tls.enabled() { "https" } else { "http" };
            format!("{scheme}://{bound}")
        } else {
            self.public_url.clone()
        }
    }

    /// Without `public_url`, a wildcard address (0.0.0.0, [::]) ends up in every link and
    /// device file: what they will contain, and what to do.
    pub fn wildcard_warning(&self, bound: SocketAddr) -> Option<String> {
        if !self.public_url.is_empty() || !bound.ip().is_unspecified() {
            return None;
        }
        let mut resolved = self.clone();
        resolved.public_url = self.resolved_public_url(bound);
        Some(format!(
            "public_url is not set and iamd listens on the wildcard address {bound}, which \
             clients elsewhere cannot reach: branding static_uri links will read {}/static/..., \
             and security.c files will name the bootstrap server {} and the LwM2M server {}; \
             set public_url (IAMD_PUBLIC_URL) to the URL clients use",
            resolved.public_url(),
            resolved.bootstrap_server_uri(),
            resolved.lwm2m_server_uri()
        ))
    }

    /// The base URL clients use, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            let scheme = if self.tls.enabled() { "https" } else { "http" };
            format!("{scheme}://{}", self.bind)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }

    /// Host part of the public URL, for the default server URIs.
    pub fn public_host(&self) -> String {
        let url = self.public_url();
        let rest = url.split("://").nth(1).unwrap_or(&url);
        let authority = rest.split('/').next().unwrap_or(rest);
        match authority.rsplit_once(':') {
            Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host.to_string(),
            _ => authority.to_string(),
        }
    }

    pub fn bootstrap_server_uri(&self) -> String {
        if self.pki.bootstrap_server_uri.is_empty() {
            format!("coaps://{}:5684", self.public_host())
        } else {
            self.pki.bootstrap_server_uri.clone()
        }
    }

    pub fn lwm2m_server_uri(&self) -> String {
        if self.pki.lwm2m_server_uri.is_empty() {
            format!("coaps://{}:5685", self.public_host())
        } else {
            self.pki.lwm2m_server_uri.clone()
        }
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port, no path.
fn is_origin(origin: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(None, no_env).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.public_url(), "http://127.0.0.1:8080");
        assert_eq!(c.bootstrap_server_uri(), "coaps://127.0.0.1:5684");
    }

    #[test]
    fn an_unset_public_url_is_the_bound_address() {
        let mut c = Config::load(None, no_env).unwrap();
        c.bind = "127.0.0.1:0".into();
        c.resolve_public_url("127.0.0.1:41234".parse().unwrap());
        assert_eq!(c.public_url(), "http://127.0.0.1:41234");
        let mut v6 = Config::load(None, no_env).unwrap();
        v6.tls.self_signed = true;
        v6.resolve_public_url("[::1]:8443".parse().unwrap());
        assert_eq!(v6.public_url(), "https://[::1]:8443");
        assert_eq!(v6.public_host(), "[::1]");
        let mut set = Config::load(None, |k| {
            (k == "IAMD_PUBLIC_URL").then(|| "https://iam.example.com".into())
        })
        .unwrap();
        set.resolve_public_url("127.0.0.1:41234".parse().unwrap());
        assert_eq!(set.public_url(), "https://iam.example.com");
    }

    /// The example documents every key with its default: loading it changes nothing.
    #[test]
    fn the_example_file_is_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
        let example = Config::load(Some(&path), no_env).unwrap();
        let defaults = Config::load(None, no_env).unwrap();
        assert_eq!(
            toml::to_string(&example).unwrap(),
            toml::to_string(&defaults).unwrap()
        );
        // What the binary prints (`iamd config-example`) is the file.
        assert_eq!(EXAMPLE, std::fs::read_to_string(&path).unwrap());
        let table: toml::Table = EXAMPLE.parse().unwrap();
        let all: toml::Table = toml::to_string(&defaults).unwrap().parse().unwrap();
        for (key, value) in &all {
            match value.as_table() {
                Some(section) => {
                    for inner in section.keys() {
                        assert!(
                            table[key].as_table().unwrap().contains_key(inner),
                            "config.example.toml lacks {key}.{inner}"
                        );
                    }
                }
                None => assert!(table.contains_key(key), "config.example.toml lacks {key}"),
            }
        }
    }

    #[test]
    fn cors_origins_are_origins() {
        for good in [
            "https://app.example.com",
            "http://localhost:3000",
            "http://[::1]:8080",
            "http://10.0.0.1",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://x.com/path",
            "ftp://x.com",
            "https://*.x.com",
            "http://x.com:port",
            "*",
            "http://[::1",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn tls_and_operations_keys() {
        let c = Config::load(None, |k| match k {
            "IAMD_TLS_SELF_SIGNED" => Some("true".into()),
            "IAMD_TLS_HOSTS" => Some("iam.example.com, 10.0.0.1".into()),
            "IAMD_BIND" => Some("0.0.0.0:8443".into()),
            "IAMD_AUTH_FAILURES_PER_MINUTE" => Some("5".into()),
            "IAMD_MAX_CONNECTIONS_PER_ADDRESS" => Some("0".into()),
            "IAMD_CLIENT_REQUEST_TIMEOUT_SECS" => Some("7".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.limits.max_connections_per_address, 0);
        assert_eq!(c.timeouts.client_request_secs, 7);
        assert_eq!(c.tls.hosts, vec!["iam.example.com", "10.0.0.1"]);
        assert_eq!(c.public_url(), "https://0.0.0.0:8443");
        assert_eq!(c.limits.auth_failures_per_minute, 5);
        let fails = |k: &'static str, v: &'static str| {
            Config::load(None, move |name| (name == k).then(|| v.to_string()))
                .unwrap_err()
                .to_string()
        };
        assert!(fails("IAMD_TLS_SELF_SIGNED", "maybe").contains("IAMD_TLS_SELF_SIGNED"));
        assert!(fails("IAMD_TLS_CERT_FILE", "/c.pem").contains("tls.key_file"));
        assert!(fails("IAMD_TLS_HOSTS", "bad host!").contains("tls.hosts"));
        assert!(fails("IAMD_REQUEST_TIMEOUT_SECS", "0").contains("timeouts.request_secs"));
        assert!(fails("IAMD_STORE_URL", "mysql://u:pw@db").contains("store.url"));
        assert!(!fails("IAMD_STORE_URL", "mysql://u:pw@db").contains("pw"));
        assert!(fails("IAMD_STORE_URL", "postgres://db?port=x").contains("store.url"));
        let pg = Config::load(None, |k| {
            (k == "IAMD_STORE_URL").then(|| "postgres://iamd:pw@db:5432/iamd".into())
        });
        let shown = toml::to_string(&pg.unwrap()).unwrap();
        assert!(
            shown.contains("postgres://iamd:(set)@db:5432/iamd"),
            "{shown}"
        );
        let memory = Config::load(None, |k| (k == "IAMD_STORE_URL").then(|| "memory:".into()));
        assert_eq!(memory.unwrap().store.url, "memory:");
        let shown = toml::to_string(
            &Config::load(None, |k| {
                (k == "IAMD_ADMIN_PASSWORD").then(|| "s3cret pass".into())
            })
            .unwrap(),
        )
        .unwrap();
        assert!(
            !shown.contains("s3cret") && shown.contains("(set)"),
            "{shown}"
        );
    }

    #[test]
    fn env_overrides_file_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\n[limits]\nmax_ids_per_request = 5\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), |k| {
            (k == "IAMD_PUBLIC_URL").then(|| "https://iam.example.com/".to_string())
        })
        .unwrap();
        assert_eq!(c.bind, "127.0.0.1:9000");
        assert_eq!(c.limits.max_ids_per_request, 5);
        assert_eq!(c.public_url(), "https://iam.example.com");
        assert_eq!(c.public_host(), "iam.example.com");

        std::fs::write(&path, "bnd = \"x\"\n").unwrap();
        let err = Config::load(Some(&path), no_env).unwrap_err().to_string();
        assert!(err.contains("bnd"), "{err}");
        let err = Config::load(None, |k| (k == "IAMD_BIND").then(|| "nope".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bind"), "{err}");
        let err = Config::load(None, |k| (k == "IAMD_WORKERS").then(|| "many".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("IAMD_WORKERS"), "{err}");
    }
}
