//! The commands of the `iamd` binary; `src/main.rs` defines their arguments.

pub mod admin_key;
pub mod backup;
mod guide;
mod local;
pub mod seed;
pub mod server;
pub mod transfer;
pub mod verify;

use iamd::config::Config;
use std::path::Path;
use std::process::ExitCode;

/// Exit status for bad usage or configuration (clap's own, for a bad command line).
pub const USAGE_ERROR: u8 = 2;
/// Exit status for an operation that failed (backup, restore).
pub const FAILED: u8 = 1;

/// Loads the configuration; the `IAMD_*` variables iamd does not read are warned about on
/// stderr (see [`unknown_variables`]).
pub fn load_config(file: Option<&Path>) -> Result<Config, String> {
    for warning in unknown_variables() {
        eprintln!("iamd: warning: {warning}");
    }
    load_config_quietly(file)
}

/// [`load_config`] without the warnings, for the server, which logs them.
pub fn load_config_quietly(file: Option<&Path>) -> Result<Config, String> {
    Config::load(file, |k| std::env::var(k).ok()).map_err(|e| e.to_string())
}

/// A warning for each `IAMD_*` variable iamd does not read: a typo would otherwise be
/// silently ignored.
pub fn unknown_variables() -> Vec<String> {
    let present = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    iamd::config::env::unknown(present)
        .into_iter()
        .map(|(name, nearest)| {
            let hint = nearest
                .map(|n| format!(" (did you mean {n}?)"))
                .unwrap_or_default();
            format!("{name} is not a variable of iamd{hint}: it is ignored")
        })
        .collect()
}

pub fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("iamd: {message}");
    ExitCode::from(code)
}
