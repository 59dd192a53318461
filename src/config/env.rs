//! The `IAMD_*` environment layer of the configuration.
//!
//! The naming rule: every key has a variable, `IAMD_` and the key's path in capitals with
//! `_` for `.` (`bind` is `IAMD_BIND`, `limits.max_query_bytes` is
//! `IAMD_LIMITS_MAX_QUERY_BYTES`). The names used before the rule keep working ([`ALIASES`]).
//! A secret can also come from a file: `<variable>_FILE` names it, and its content less the
//! trailing newline is the value (for Docker and systemd credentials, where a secret in the
//! environment would show in `docker inspect` or `/proc`).
//!
//! A value takes the type of the key's default: a whole number, `true`/`false` (also
//! `1`/`0`, `yes`/`no`), a comma-separated list, or else the text as it is.

use super::{Config, ConfigError};
use figment::value::{Dict, Map};
use figment::{providers::Serialized, Metadata, Profile, Provider};

/// Variable names from before the naming rule, still read, as (variable, key).
pub const ALIASES: &[(&str, &str)] = &[
    ("IAMD_ADMIN_EMAIL", "bootstrap.admin_email"),
    ("IAMD_ADMIN_USERNAME", "bootstrap.admin_username"),
    ("IAMD_ADMIN_PASSWORD", "bootstrap.admin_password"),
    ("IAMD_ADMIN_API_KEY", "bootstrap.admin_api_key"),
    (
        "IAMD_DEVELOPER_CERTIFICATES_PER_ACCOUNT",
        "limits.developer_certificates_per_account",
    ),
    (
        "IAMD_AUTH_FAILURES_PER_MINUTE",
        "limits.auth_failures_per_minute",
    ),
    (
        "IAMD_MAX_CONNECTIONS_PER_ADDRESS",
        "limits.max_connections_per_address",
    ),
    ("IAMD_BOOTSTRAP_SERVER_URI", "pki.bootstrap_server_uri"),
    ("IAMD_LWM2M_SERVER_URI", "pki.lwm2m_server_uri"),
    (
        "IAMD_CLIENT_REQUEST_TIMEOUT_SECS",
        "timeouts.client_request_secs",
    ),
    ("IAMD_REQUEST_TIMEOUT_SECS", "timeouts.request_secs"),
    ("IAMD_SHUTDOWN_TIMEOUT_SECS", "timeouts.shutdown_secs"),
];

/// Keys holding a secret: settable from `<variable>_FILE`, shown by `check-config` only as
/// `(set)` (the field's `serialize_with = "redacted"`; a test keeps the two lists equal).
pub const SECRETS: &[&str] = &["bootstrap.admin_password", "bootstrap.admin_api_key"];

/// Suffix of the variable naming a file that holds a secret.
pub const FILE_SUFFIX: &str = "_FILE";

/// Name of the provider, to tell its errors from the file's.
const NAME: &str = "environment";

/// The variable of `key` by the naming rule.
pub fn var_name(key: &str) -> String {
    format!("IAMD_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Every key of the configuration (dotted) with its default value, from the struct itself,
/// so a new key has its variable without a list to update.
pub fn keys() -> Vec<(String, toml::Value)> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (name, value) in table {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            match value {
                toml::Value::Table(inner) => walk(&key, inner, out),
                other => out.push((key, other.clone())),
            }
        }
    }
    let defaults = toml::Table::try_from(Config::default()).expect("the defaults serialize");
    let mut out = Vec::new();
    walk("", &defaults, &mut out);
    out
}

/// The variables that may set `key`, as (name, names a file).
pub fn names(key: &str) -> Vec<(String, bool)> {
    let plain = std::iter::once(var_name(key)).chain(
        ALIASES
            .iter()
            .filter(|a| a.1 == key)
            .map(|a| a.0.to_string()),
    );
    let mut out = Vec::new();
    for name in plain {
        if SECRETS.contains(&key) {
            out.push((format!("{name}{FILE_SUFFIX}"), true));
        }
        out.push((name, false));
    }
    out
}

/// Variables iamd reads that set no configuration key: the command line's, and the test
/// suite's.
pub const OTHER_VARIABLES: &[&str] = &[
    "IAMD_CONFIG",
    "IAMD_API_KEY",
    "IAMD_SPEC",
    "IAMD_TEST_STALL_OUTBOX",
];

/// The `IAMD_*` variables among `present` that iamd does not read (a typo is otherwise
/// silently ignored), each with the known name nearest to it when one is near.
pub fn unknown(present: impl IntoIterator<Item = String>) -> Vec<(String, Option<String>)> {
    let known: Vec<String> = keys()
        .into_iter()
        .flat_map(|(key, _)| names(&key).into_iter().map(|(name, _)| name))
        .chain(OTHER_VARIABLES.iter().map(|n| n.to_string()))
        .collect();
    let mut out: Vec<(String, Option<String>)> = present
        .into_iter()
        .filter(|name| name.starts_with("IAMD_") && !known.contains(name))
        .map(|name| {
            let suffix = &name["IAMD_".len()..];
            // Jaro-Winkler weighs a shared start: `ADMIN_KEY` is nearer `ADMIN_API_KEY` than
            // `API_KEY`, which fewer edits reach.
            let nearest = known
                .iter()
                .map(|k| (strsim::jaro_winkler(suffix, &k["IAMD_".len()..]), k))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .filter(|(similarity, _)| *similarity >= 0.85)
                .map(|(_, k)| k.clone());
            (name, nearest)
        })
        .collect();
    out.sort();
    out
}

/// The values set by `IAMD_*` variables, as a figment provider layered over the file.
pub(super) struct EnvLayer {
    table: toml::Table,
    /// (key, the variable that set it), to name the variable in an error.
    set_by: Vec<(String, String)>,
}

impl EnvLayer {
    pub(super) fn read(env: &dyn Fn(&str) -> Option<String>) -> Result<EnvLayer, ConfigError> {
        let mut layer = EnvLayer {
            table: toml::Table::new(),
            set_by: Vec::new(),
        };
        for (key, default) in keys() {
            let set: Vec<(String, bool, String)> = names(&key)
                .into_iter()
                .filter_map(|(name, file)| env(&name).map(|v| (name, file, v)))
                .collect();
            let (name, file, raw) = match set.as_slice() {
                [] => continue,
                [one] => one.clone(),
                [first, second, ..] => {
                    return Err(ConfigError::Env {
                        name: first.0.clone(),
                        message: format!("{} also sets `{key}`: set only one", second.0),
                    })
                }
            };
            let err = |message: String| ConfigError::Env {
                name: name.clone(),
                message,
            };
            let raw = if file {
                let text = std::fs::read_to_string(&raw)
                    .map_err(|e| err(format!("cannot read {raw}: {e}")))?;
                text.trim_end_matches(['\n', '\r']).to_string()
            } else {
                raw
            };
            let value = typed(&default, &raw).map_err(err)?;
            set_key(&mut layer.table, &key, value);
            layer.set_by.push((key, name));
        }
        Ok(layer)
    }

    /// A figment error names the key's path; one from this layer names the variable.
    pub(super) fn error(&self, e: figment::Error) -> ConfigError {
        let key = e.path.join(".");
        let message = e.kind.to_string();
        match self.set_by.iter().find(|(k, _)| *k == key) {
            Some((_, name)) if e.metadata.as_ref().is_some_and(|m| m.name == NAME) => {
                ConfigError::Env {
                    name: name.clone(),
                    message,
                }
            }
            _ => ConfigError::Invalid { key, message },
        }
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named(NAME)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.table).data()
    }
}

/// Parses `raw` as the type of the key's default.
fn typed(default: &toml::Value, raw: &str) -> Result<toml::Value, String> {
    Ok(match default {
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .map_err(|_| format!("`{raw}` is not a whole number"))?,
        ),
        toml::Value::Boolean(_) => {
            toml::Value::Boolean(match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" | "" => false,
                _ => return Err(format!("`{raw}` is not true or false")),
            })
        }
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.into()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_string()),
    })
}

fn set_key(table: &mut toml::Table, dotted: &str, value: toml::Value) {
    let mut parts: Vec<&str> = dotted.split('.').collect();
    let last = parts.pop().expect("keys are non-empty");
    let mut current = table;
    for part in parts {
        current = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .expect("only this function writes the table, sections as tables");
    }
    current.insert(last.to_string(), value);
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
