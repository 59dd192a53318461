//! What the server tells its operator: at every start, what to do next; when a start fails,
//! one plain sentence naming the path or address at fault.

use iamd::config::Config;
use iamd::server::StartError;
use std::net::SocketAddr;
use std::path::Path;

/// What a start found, for [`next_steps`].
pub struct Start<'a> {
    pub config: &'a Config,
    pub bound: SocketAddr,
    /// The root admin key, on the first start (none if it was given).
    pub printed_key: Option<&'a str>,
}

/// The lines printed after every start: where the server is, where its key is, a request to
/// copy, the SDK's variables, and `/health`.
pub fn next_steps(start: &Start<'_>) -> String {
    let config = start.config;
    let url = config.resolved_public_url(start.bound);
    // A wildcard address is no place to send a request to: this machine's loopback is.
    let local = if config.public_url.is_empty() && start.bound.ip().is_unspecified() {
        let loopback: std::net::IpAddr = if start.bound.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        config.resolved_public_url(SocketAddr::new(loopback, start.bound.port()))
    } else {
        url.clone()
    };
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or(config.data_dir.clone());
    let key_file = data_dir.join(iamd::bootstrap::KEY_FILE);
    let (where_key, key_expr) = if !config.bootstrap.admin_api_key.is_empty() {
        (
            "the one given in IAMD_ADMIN_API_KEY (bootstrap.admin_api_key)".to_string(),
            "$IAMD_ADMIN_API_KEY".to_string(),
        )
    } else if key_file.exists() {
        let shown = if start.printed_key.is_some() {
            "printed above, and "
        } else {
            ""
        };
        (
            format!("{shown}in {}", key_file.display()),
            format!("$(cat {})", quoted(&key_file)),
        )
    } else {
        (
            format!(
                "not in {} (removed?): `iamd admin-key --data-dir {}` with the server stopped \
                 mints a new one",
                key_file.display(),
                quoted(&data_dir)
            ),
            "$KEY".to_string(),
        )
    };
    let curl_tls = if local.starts_with("https://") && config.tls.self_signed {
        format!(
            " --cacert {}",
            quoted(&data_dir.join("tls").join("cert.pem"))
        )
    } else {
        String::new()
    };
    // With `memory:` the database is not in the data directory (only files such as the
    // outbox are): a stop loses it, which a reader of "data directory" would not expect.
    let in_memory = iamd::store::Location::parse(&config.store.url)
        .is_ok_and(|l| l == iamd::store::Location::Memory);
    let memory_note = if in_memory {
        " (the database is in memory: a stop loses it)"
    } else {
        ""
    };
    format!(
        "iamd {version} is serving {url}\n\
         \x20 data directory: {data_dir}{memory_note}\n\
         \x20 admin API key:  {where_key}\n\
         \x20 health check:   {local}/health\n\
         Try it:\n\
         \x20 curl{curl_tls} -H \"Authorization: Bearer {key_expr}\" {local}/v3/accounts/me\n\
         Point the SDK (mbed-cloud-sdk) at it:\n\
         \x20 export MBED_CLOUD_SDK_HOST={local}\n\
         \x20 export MBED_CLOUD_SDK_API_KEY={key_expr}\n",
        version = env!("CARGO_PKG_VERSION"),
        data_dir = data_dir.display(),
    )
}

/// `path` for a shell command line (quoted when it has anything a shell would split).
fn quoted(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A failed start as one sentence: the OS's error codes mean nothing to an operator.
pub fn start_error(e: &StartError, config: &Config) -> String {
    use std::io::ErrorKind;
    match e {
        StartError::Bind { addr, source } => {
            let why = match source.kind() {
                ErrorKind::AddrInUse => "another process is listening there",
                ErrorKind::AddrNotAvailable => {
                    "no network interface of this machine has that address"
                }
                ErrorKind::PermissionDenied => {
                    "this user may not listen on that port (below 1024?)"
                }
                _ => return format!("cannot listen on {addr}: {source}"),
            };
            format!(
                "cannot listen on {addr}: {why}; stop that process, or set bind (IAMD_BIND) to \
                 another address"
            )
        }
        StartError::Store(_) if iamd::datadir::in_use(&config.data_dir) => {
            iamd::datadir::in_use_message(&config.data_dir)
        }
        other => other.to_string(),
    }
}
