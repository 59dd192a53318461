//! `iamd` (the server) and `iamd check-config`.

use super::{fail, load_config, USAGE_ERROR};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

pub fn serve(file: Option<&Path>) -> ExitCode {
    let config = match load_config(file) {
        Ok(c) => c,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    iamd::logging::init("info");
    let data_dir = config.data_dir.clone();
    let db_dir = data_dir.clone();
    let store_url = config.store.url.clone();
    let run = async move {
        let started = iamd::server::start(config)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(key) = &started.admin_key {
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
        iamd::server::run_until_signalled(started).await
    };
    let result = actix_web::rt::System::new().block_on(run);
    if result.is_ok() {
        // Every handle to the store is gone with the actix system.
        match iamd::store::checkpoint(&db_dir, &store_url, Duration::from_secs(5)) {
            Ok(()) => log::info!("database snapshot written"),
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
            ExitCode::SUCCESS
        }
        Err(e) => fail(USAGE_ERROR, &e.to_string()),
    }
}
