//! The sections of the configuration (`[auth]`, `[store]`, ...) and their defaults;
//! `Config` (the parent module) holds one of each. Re-exported there: their paths stay
//! `crate::config::AuthConfig` and so on.

use serde::{Deserialize, Serialize};

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
