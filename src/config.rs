//! Configuration: embedded defaults, then a TOML file, then `IAMD_*` environment variables
//! (layered by figment; the variables' names are in [`env`]).
//!
//! One struct holds every setting; `config.example.toml` documents each key with its default
//! and its variable. Unknown keys and bad values are startup errors that name the key (or the
//! variable, and the line and column in the file), so a typo never silently falls back to a
//! default.

pub mod env;
mod sections;
mod validate;

pub use sections::*;

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
    /// Worker threads serving HTTP; 0 means one per CPU core (on PostgreSQL, four per core,
    /// at least eight, at most one per pooled connection: a worker waits for each database
    /// round trip).
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

#[cfg(test)]
mod tests;
