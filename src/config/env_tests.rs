//! Every key from its variable, the old names, secrets from files, errors naming the variable.

use super::*;
use crate::config::Config;
use std::collections::HashMap;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Every key as (dotted key, value) from the config as `check-config` shows it.
fn shown(config: &Config) -> HashMap<String, toml::Value> {
    let table = toml::Table::try_from(config).unwrap();
    let mut out = HashMap::new();
    for (name, value) in table {
        match value {
            toml::Value::Table(section) => {
                for (inner, v) in section {
                    out.insert(format!("{name}.{inner}"), v);
                }
            }
            v => {
                out.insert(name, v);
            }
        }
    }
    out
}

/// Keys that take one of a few words, with a word other than the default.
const CHOICES: &[(&str, &str)] = &[("log.format", "json")];

/// A value of the key's type other than its default, as (variable text, expected value).
fn probe(key: &str, default: &toml::Value) -> (String, toml::Value) {
    if let Some((_, word)) = CHOICES.iter().find(|(k, _)| *k == key) {
        return (word.to_string(), toml::Value::String(word.to_string()));
    }
    match default {
        toml::Value::Integer(n) => ((n + 1).to_string(), toml::Value::Integer(n + 1)),
        toml::Value::Boolean(b) => ((!b).to_string(), toml::Value::Boolean(!b)),
        toml::Value::Array(_) => (
            "probe-a, probe-b".into(),
            toml::Value::Array(vec!["probe-a".into(), "probe-b".into()]),
        ),
        toml::Value::String(_) if SECRETS.contains(&key) => ("probe".into(), "(set)".into()),
        toml::Value::String(_) => ("probe".into(), "probe".into()),
        other => panic!("{key}: no environment form for a value like {other}"),
    }
}

/// Sets `key` through `name` alone and checks that exactly that key changed.
fn assert_sets(name: &str, key: &str, default: &toml::Value) {
    let (text, expected) = probe(key, default);
    let config = Config::layered(None, &env_of(&[(name, &text)]))
        .unwrap_or_else(|e| panic!("{name}={text}: {e}"));
    let mut got = shown(&config);
    let mut defaults = shown(&Config::default());
    assert_eq!(got.remove(key), Some(expected), "{name} sets {key}");
    defaults.remove(key);
    assert_eq!(got, defaults, "{name} changes only {key}");
}

/// The keys come from the struct: a new key is covered here without a list to update.
#[test]
fn every_key_is_set_by_its_variable() {
    let keys = keys();
    assert_eq!(keys.len(), shown(&Config::default()).len());
    assert!(keys.len() >= 29, "{keys:?}");
    for (key, default) in &keys {
        assert_sets(&var_name(key), key, default);
    }
}

#[test]
fn the_names_from_before_the_rule_still_work() {
    let keys: HashMap<String, toml::Value> = keys().into_iter().collect();
    for (alias, key) in ALIASES {
        let default = keys
            .get(*key)
            .unwrap_or_else(|| panic!("{alias}: no key {key}"));
        assert_ne!(
            *alias,
            var_name(key),
            "{alias} is the rule's name: not an alias"
        );
        assert_sets(alias, key, default);
    }
}

#[test]
fn every_name_sets_one_key_and_none_is_taken() {
    let mut seen: HashMap<String, String> = HashMap::new();
    for (key, _) in keys() {
        for (name, _) in names(&key) {
            assert!(
                !["IAMD_CONFIG", "IAMD_API_KEY"].contains(&name.as_str()),
                "{name} is a command-line variable"
            );
            if let Some(other) = seen.insert(name.clone(), key.clone()) {
                panic!("{name} names both {other} and {key}");
            }
        }
    }
}

/// The keys `check-config` hides are exactly the ones readable from a file.
#[test]
fn the_secrets_are_the_redacted_keys() {
    for (key, default) in keys() {
        if let toml::Value::String(_) = default {
            let (text, _) = probe(&key, &default);
            let config = Config::layered(None, &env_of(&[(&var_name(&key), &text)])).unwrap();
            let hidden = shown(&config)[&key].as_str() == Some("(set)");
            assert_eq!(hidden, SECRETS.contains(&key.as_str()), "{key}");
        }
    }
    for (key, _) in keys() {
        let files = names(&key).into_iter().filter(|(_, file)| *file).count();
        assert_eq!(files > 0, SECRETS.contains(&key.as_str()), "{key}");
    }
}

#[test]
fn a_secret_comes_from_a_file_without_its_trailing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "s3cret pass \n").unwrap();
    let path = file.to_str().unwrap();
    for name in [
        "IAMD_BOOTSTRAP_ADMIN_PASSWORD_FILE",
        "IAMD_ADMIN_PASSWORD_FILE",
    ] {
        let config = Config::load(None, env_of(&[(name, path)])).unwrap();
        assert_eq!(config.bootstrap.admin_password, "s3cret pass ", "{name}");
    }
    std::fs::write(&file, "line one\nline two\r\n\n").unwrap();
    let config = Config::load(
        None,
        env_of(&[("IAMD_BOOTSTRAP_ADMIN_PASSWORD_FILE", path)]),
    )
    .unwrap();
    assert_eq!(config.bootstrap.admin_password, "line one\nline two");

    let err = Config::load(
        None,
        env_of(&[("IAMD_ADMIN_PASSWORD_FILE", "/no/such/secret")]),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("IAMD_ADMIN_PASSWORD_FILE"), "{err}");
    assert!(err.contains("/no/such/secret"), "{err}");

    let err = Config::load(
        None,
        env_of(&[
            ("IAMD_BOOTSTRAP_ADMIN_PASSWORD_FILE", path),
            ("IAMD_ADMIN_PASSWORD", "other"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("IAMD_BOOTSTRAP_ADMIN_PASSWORD_FILE") && err.contains("IAMD_ADMIN_PASSWORD "),
        "{err}"
    );
    // Only secrets are read from files: elsewhere `_FILE` is no variable of iamd.
    let config = Config::load(None, env_of(&[("IAMD_BIND_FILE", path)])).unwrap();
    assert_eq!(config.bind, "127.0.0.1:8080");
}

#[test]
fn errors_name_the_variable_or_the_key() {
    let fails = |vars: &[(&str, &str)]| Config::load(None, env_of(vars)).unwrap_err().to_string();
    // Not of the key's type: named by the variable.
    let err = fails(&[("IAMD_LIMITS_MAX_QUERY_BYTES", "lots")]);
    assert!(
        err.contains("IAMD_LIMITS_MAX_QUERY_BYTES") && err.contains("lots"),
        "{err}"
    );
    let err = fails(&[("IAMD_TIMEOUTS_KEEP_ALIVE_SECS", "-1")]);
    assert!(err.contains("IAMD_TIMEOUTS_KEEP_ALIVE_SECS"), "{err}");
    let err = fails(&[("IAMD_TLS_SELF_SIGNED", "maybe")]);
    assert!(err.contains("IAMD_TLS_SELF_SIGNED"), "{err}");
    // Of the type but out of range: named by the key.
    let err = fails(&[("IAMD_LIMITS_MAX_QUERY_BYTES", "10")]);
    assert!(err.contains("limits.max_query_bytes"), "{err}");
    let err = fails(&[("IAMD_BOOTSTRAP_ACCOUNT_NAME", "x"), ("IAMD_BIND", "nope")]);
    assert!(err.contains("`bind`"), "{err}");
    // Two names for one key.
    let err = fails(&[
        ("IAMD_TIMEOUTS_SHUTDOWN_SECS", "5"),
        ("IAMD_SHUTDOWN_TIMEOUT_SECS", "6"),
    ]);
    assert!(
        err.contains("IAMD_TIMEOUTS_SHUTDOWN_SECS") && err.contains("IAMD_SHUTDOWN_TIMEOUT_SECS"),
        "{err}"
    );
}

#[test]
fn file_errors_name_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iamd.toml");
    for (text, names) in [
        (
            "bind = \"127.0.0.1:1\"\n[limits]\nmax_querybytes = 1\n",
            "max_querybytes",
        ),
        (
            "workers = 2\n\n[timeouts]\nrequest_secs = \"long\"\n",
            "request_secs",
        ),
        ("bind = \"127.0.0.1:1\"\nworkers = \n", "workers"),
    ] {
        std::fs::write(&path, text).unwrap();
        let err = Config::load(Some(&path), env_of(&[]))
            .unwrap_err()
            .to_string();
        let line = text.lines().position(|l| l.contains(names)).unwrap() + 1;
        assert!(err.contains(&format!("line {line}, column")), "{err}");
        assert!(err.contains(names) && err.contains("iamd.toml"), "{err}");
    }
}

/// The example shows each key's variables on the line above it; the README's table names
/// every variable.
#[test]
fn the_example_and_the_readme_name_every_variable() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join("config.example.toml")).unwrap();
    let mut above: HashMap<String, String> = HashMap::new();
    let (mut section, mut previous) = (String::new(), "");
    for line in example.lines() {
        if let Some(name) = line.strip_prefix('[') {
            section = format!("{}.", name.trim_end_matches(']'));
        } else if let Some((key, _)) = line.split_once(" = ") {
            above.insert(format!("{section}{key}"), previous.to_string());
        }
        previous = line;
    }
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(String::from)
            .collect()
    };
    let readme = words(&std::fs::read_to_string(root.join("README.md")).unwrap());
    for (key, _) in keys() {
        let comment = words(above.get(&key).map(String::as_str).unwrap_or(""));
        for (name, file) in names(&key) {
            if !file {
                assert!(
                    comment.contains(&name),
                    "config.example.toml: {name} not above {key}"
                );
                assert!(readme.contains(&name), "README.md does not name {name}");
            }
        }
    }
}

#[test]
fn unknown_variables_are_named_with_the_nearest_known_one() {
    let present = [
        "IAMD_BIDN",
        "IAMD_DATADIR",
        "IAMD_ADMIN_KEY",
        "IAMD_COMPLETELY_DIFFERENT_THING",
        "IAMD_BIND",
        "IAMD_CONFIG",
        "IAMD_ADMIN_API_KEY_FILE",
        "HOME",
    ]
    .map(String::from);
    let found = unknown(present);
    let near = |name: &str| {
        found
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| k.clone())
    };
    assert_eq!(near("IAMD_BIDN"), Some(Some("IAMD_BIND".into())));
    assert_eq!(near("IAMD_DATADIR"), Some(Some("IAMD_DATA_DIR".into())));
    assert_eq!(
        near("IAMD_ADMIN_KEY"),
        Some(Some("IAMD_ADMIN_API_KEY".into()))
    );
    assert_eq!(near("IAMD_COMPLETELY_DIFFERENT_THING"), Some(None));
    assert_eq!(
        found.len(),
        4,
        "known names and other variables are not named: {found:?}"
    );
}
