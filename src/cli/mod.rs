//! The commands of the `iamd` binary; `src/main.rs` defines their arguments.

pub mod admin_key;
pub mod backup;
mod guide;
pub mod server;
pub mod verify;

use iamd::config::Config;
use std::path::Path;
use std::process::ExitCode;

/// Exit status for bad usage or configuration (clap's own, for a bad command line).
pub const USAGE_ERROR: u8 = 2;
/// Exit status for an operation that failed (backup, restore).
pub const FAILED: u8 = 1;

pub fn load_config(file: Option<&Path>) -> Result<Config, String> {
    let present = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    for (name, nearest) in iamd::config::env::unknown(present) {
        let hint = nearest
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        eprintln!("iamd: warning: {name} is not a variable of iamd{hint}: it is ignored");
    }
    Config::load(file, |k| std::env::var(k).ok()).map_err(|e| e.to_string())
}

pub fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("iamd: {message}");
    ExitCode::from(code)
}
