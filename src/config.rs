//! Configuration: embedded defaults, then a TOML file, then `IAMD_*` environment variables.
//!
//! One struct holds every setting; `config.example.toml` documents each key with its default.
//! Unknown keys and bad values are startup errors that name the key, so a typo never silently
//! falls back to a default.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
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
    /// Worker threads serving HTTP; 0 means one per CPU core.
    pub workers: usize,
    pub bootstrap: BootstrapConfig,
    pub limits: LimitsConfig,
    pub pki: PkiConfig,
}

/// What the first start creates in an empty data directory.
#[derive(Debug, Clone, Deserialize)]
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
    pub admin_password: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Developer certificates one account may hold.
    pub developer_certificates_per_account: u32,
    /// Most ids accepted in one membership request (users or API keys added to groups).
    pub max_ids_per_request: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
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
            bootstrap: BootstrapConfig::default(),
            limits: LimitsConfig::default(),
            pki: PkiConfig::default(),
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
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            developer_certificates_per_account: 10,
            max_ids_per_request: 1000,
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

/// Environment variables that override keys, as (variable, TOML key).
const ENV_KEYS: &[(&str, &str)] = &[
    ("IAMD_BIND", "bind"),
    ("IAMD_DATA_DIR", "data_dir"),
    ("IAMD_PUBLIC_URL", "public_url"),
    ("IAMD_MAX_JSON_BODY_BYTES", "max_json_body_bytes"),
    ("IAMD_MAX_IMAGE_BYTES", "max_image_bytes"),
    ("IAMD_WORKERS", "workers"),
    ("IAMD_ADMIN_EMAIL", "bootstrap.admin_email"),
    ("IAMD_ADMIN_USERNAME", "bootstrap.admin_username"),
    ("IAMD_ADMIN_PASSWORD", "bootstrap.admin_password"),
    (
        "IAMD_DEVELOPER_CERTIFICATES_PER_ACCOUNT",
        "limits.developer_certificates_per_account",
    ),
    ("IAMD_BOOTSTRAP_SERVER_URI", "pki.bootstrap_server_uri"),
    ("IAMD_LWM2M_SERVER_URI", "pki.lwm2m_server_uri"),
];

impl Config {
    /// Loads defaults, then `file` (if any), then the `IAMD_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse {
                        path: path.display().to_string(),
                        message: e.message().to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (var, key) in ENV_KEYS {
            if let Some(raw) = env(var) {
                let value = env_value(key, &raw).map_err(|message| ConfigError::Env {
                    name: var.to_string(),
                    message,
                })?;
                set_key(&mut table, key, value).map_err(|message| ConfigError::Env {
                    name: var.to_string(),
                    message,
                })?;
            }
        }
        let config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: file
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "(environment)".into()),
                    message: e.to_string().trim().to_string(),
                })?;
        config.validate()?;
        Ok(config)
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
        let email = &self.bootstrap.admin_email;
        if !crate::api::validate::is_email(email) {
            return Err(invalid(
                "bootstrap.admin_email",
                format!("`{email}` is not an email address"),
            ));
        }
        if !crate::api::validate::is_username(&self.bootstrap.admin_username) {
            return Err(invalid(
                "bootstrap.admin_username",
                "must be 4-30 of letters, digits and -,._@+=".into(),
            ));
        }
        if self.limits.max_ids_per_request == 0 {
            return Err(invalid(
                "limits.max_ids_per_request",
                "must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The base URL clients use, without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.bind)
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

/// Environment values are strings; numeric keys are parsed so TOML typing applies to them too.
fn env_value(key: &str, raw: &str) -> Result<toml::Value, String> {
    const NUMERIC: &[&str] = &[
        "max_json_body_bytes",
        "max_image_bytes",
        "workers",
        "limits.developer_certificates_per_account",
    ];
    if NUMERIC.contains(&key) {
        return raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("`{raw}` is not a whole number"));
    }
    Ok(toml::Value::String(raw.to_string()))
}

fn set_key(table: &mut toml::Table, dotted: &str, value: toml::Value) -> Result<(), String> {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let last = parts.pop().expect("keys are non-empty");
    let mut current = table;
    for part in parts {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{part}` is not a table in the config file"))?;
    }
    current.insert(last.to_string(), value);
    Ok(())
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
