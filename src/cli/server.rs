//! `iamd` (the server) and `iamd check-config`.

use super::{fail, load_config, load_config_quietly, USAGE_ERROR};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub fn serve(file: Option<&Path>) -> ExitCode {
    let config = match load_config_quietly(file) {
        Ok(c) => c,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    iamd::logging::set_format(config.log.format);
    iamd::logging::init("info");
    // Logged, so that a JSON log stays JSON.
    for warning in super::unknown_variables() {
        log::warn!("{warning}");
    }
    // Checked before anything is opened, so that each is said in one plain sentence.
    if iamd::datadir::in_use(&config.data_dir) {
        return fail(
            USAGE_ERROR,
            &iamd::datadir::in_use_message(&config.data_dir),
        );
    }
    if let Err(e) = iamd::datadir::check_writable(&config.data_dir) {
        return fail(USAGE_ERROR, &e);
    }
    let data_dir = config.data_dir.clone();
    let db_dir = data_dir.clone();
    let key_given = !config.bootstrap.admin_api_key.is_empty();
    let shown = config.clone();
    let store_url = config.store.url.clone();
    let run = async move {
        let started = iamd::server::start(config)
            .await
            .map_err(|e| super::guide::start_error(&e, &shown))?;
        if started.admin_key.is_some() && key_given {
            println!(
                "Created the root account. Its admin API key is the one given in \
                 bootstrap.admin_api_key (IAMD_ADMIN_API_KEY): it is not shown, nor written to \
                 a file."
            );
        } else if let Some(key) = &started.admin_key {
            println!(
                "Created the root account. Its admin API key (shown once, also in {}):",
                data_dir.join(iamd::bootstrap::KEY_FILE).display()
            );
            println!("{key}");
        }
        log::info!(
            "iamd {} listening on {}://{}",
            env!("CARGO_PKG_VERSION"),
            started.scheme,
            started.addr
        );
        // A line of its own: tests and scripts read the address as the rest of the line above.
        log::info!(
            "web console at {}://{}{}",
            started.scheme,
            started.addr,
            iamd::console::PATH
        );
        let printed_key = started.admin_key.as_deref().filter(|_| !key_given);
        print!(
            "{}",
            super::guide::next_steps(&super::guide::Start {
                config: &shown,
                bound: started.addr,
                printed_key,
            })
        );
        iamd::server::run_until_signalled(started).await
    };
    let result = actix_web::rt::System::new().block_on(run);
    if result.is_ok() {
        // Every handle to the store is gone with the actix system.
        use iamd::store::Location;
        let location = Location::parse(&store_url).ok();
        match iamd::store::checkpoint(&db_dir, &store_url, Duration::from_secs(5)) {
            Ok(()) if location == Some(Location::Memory) => {
                log::info!("the in-memory database is gone with the server")
            }
            // Only sled keeps a snapshot in the data directory.
            Ok(()) if location == Some(Location::DataDir) => {
                log::info!("database snapshot written")
            }
            Ok(()) => {}
            Err(e) => log::warn!("no database snapshot at stop (the next start replays): {e}"),
        }
    }
    iamd::logging::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(USAGE_ERROR, &e),
    }
}

/// Loads and validates the configuration (TLS files included) and prints it as TOML.
pub fn check_config(file: Option<&Path>) -> ExitCode {
    let config = match load_config(file) {
        Ok(c) => c,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    let tls = &config.tls;
    if !tls.cert_file.is_empty() {
        if let Err(e) = iamd::tls::load(tls, &config.data_dir) {
            return fail(USAGE_ERROR, &format!("TLS: {e}"));
        }
    }
    match toml::to_string_pretty(&config) {
        Ok(text) => {
            println!("# effective configuration (defaults < file < environment)");
            print!("{text}");
            print!("{}", resolved_urls(&config));
            ExitCode::SUCCESS
        }
        Err(e) => fail(USAGE_ERROR, &e.to_string()),
    }
}

/// The URLs the configuration gives clients and devices, as TOML comments (the output stays
/// a configuration file); a wildcard `bind` without `public_url` is warned about on stderr.
fn resolved_urls(config: &iamd::config::Config) -> String {
    // `bind` was validated as host:port.
    let Ok(bound) = config.bind.parse::<std::net::SocketAddr>() else {
        return String::new();
    };
    if let Some(warning) = config.wildcard_warning(bound) {
        eprintln!("iamd: warning: {warning}");
    }
    let mut resolved = config.clone();
    resolved.public_url = config.resolved_public_url(bound);
    let port_note = if bound.port() == 0 {
        " (port 0: the port chosen at start)"
    } else {
        ""
    };
    format!(
        "\n# resolved: what clients and devices are given{port_note}\n\
         # public URL:                  {url}\n\
         # branding static_uri:         {url}/static/<file>\n\
         # security.c bootstrap server: {bootstrap}\n\
         # security.c LwM2M server:     {lwm2m}\n",
        url = resolved.public_url(),
        bootstrap = resolved.bootstrap_server_uri(),
        lwm2m = resolved.lwm2m_server_uri(),
    )
}
