//! Loading, layering and validating the configuration.

use super::validate::is_origin;
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
