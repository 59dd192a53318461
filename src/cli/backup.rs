//! `iamd backup`, `iamd verify-backup`, `iamd restore`, `iamd migrate-store`.

use super::{fail, load_config, FAILED, USAGE_ERROR};
use clap::Args;
use iamd::backup;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the data comes from: a data directory (named, or the one of the configuration), or
/// a running server.
#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace FILE if it exists (without it, an existing file is refused)
    #[arg(long)]
    force: bool,
    /// Data directory of a stopped server [default: data_dir of the configuration]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Configuration naming the data directory [default: $IAMD_CONFIG]
    // No clap `env` here: IAMD_CONFIG set for the server must not conflict with --url.
    #[arg(long, short = 'c', value_name = "FILE", conflicts_with = "data_dir")]
    config: Option<PathBuf>,
    /// Back up a running server at this URL instead (root admin API key from --key-file or
    /// $IAMD_API_KEY)
    #[arg(long, value_name = "URL", conflicts_with_all = ["data_dir", "config"])]
    url: Option<String>,
    /// File holding the root admin API key, for --url
    #[arg(long, value_name = "FILE", requires = "url")]
    key_file: Option<PathBuf>,
    /// PEM certificate to trust for --url (e.g. a self-signed server's)
    #[arg(long, value_name = "FILE", requires = "url")]
    ca_file: Option<PathBuf>,
}

pub fn backup(args: &BackupArgs) -> ExitCode {
    let out = &args.out;
    let result = match &args.url {
        Some(url) => {
            let key = match api_key(args.key_file.as_deref()) {
                Ok(k) => k,
                Err(e) => return fail(USAGE_ERROR, &e),
            };
            backup::write_file_atomically(out, args.force, |file| {
                backup::fetch::download(url, &key, args.ca_file.as_deref(), file)?;
                Ok(backup::Summary::default())
            })
        }
        None => {
            let data_dir = match &args.data_dir {
                Some(d) => d.clone(),
                None => {
                    let file = args
                        .config
                        .clone()
                        .or_else(|| std::env::var_os("IAMD_CONFIG").map(PathBuf::from));
                    match load_config(file.as_deref()) {
                        Ok(c) => c.data_dir,
                        Err(e) => return fail(USAGE_ERROR, &e),
                    }
                }
            };
            backup::backup_offline(&data_dir, out, args.force)
        }
    };
    match result {
        Ok(summary) => {
            report("wrote", out, &summary);
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("backup failed: {e}")),
    }
}

/// The API key for `backup --url`: never on the command line, where `ps` would show it.
fn api_key(key_file: Option<&Path>) -> Result<String, String> {
    let key = match key_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => std::env::var("IAMD_API_KEY")
            .map_err(|_| "backup --url needs --key-file FILE or $IAMD_API_KEY".to_string())?,
    };
    Ok(key.trim().to_string())
}

pub fn verify(input: &Path) -> ExitCode {
    match backup::verify_file(input) {
        Ok(summary) => {
            report("verified", input, &summary);
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("{}: {e}", input.display())),
    }
}

pub fn restore(input: &Path, data_dir: &Path) -> ExitCode {
    match backup::restore(input, data_dir) {
        Ok(summary) => {
            report("restored", input, &summary);
            println!("into {}", data_dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("restore refused: {e}")),
    }
}

pub fn migrate_store(from: &str, to: &str) -> ExitCode {
    let (shown_from, shown_to) = (iamd::store::redact_url(from), iamd::store::redact_url(to));
    match backup::migrate(from, to) {
        Ok(summary) => {
            report("copied", Path::new(&shown_from), &summary);
            println!("into {shown_to}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("migration refused: {e}")),
    }
}

fn report(what: &str, path: &Path, s: &backup::Summary) {
    let engine = s
        .engine
        .as_deref()
        .map(|e| format!(", from the {e} engine"))
        .unwrap_or_default();
    println!(
        "{what} {}: {} tables, {} entries (format {}, made by iamd {} at {}, schema version {}{engine})",
        path.display(),
        s.tables,
        s.entries,
        s.format_version,
        s.iamd_version,
        s.created_at,
        s.schema_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    let records: Vec<String> = s
        .records()
        .iter()
        .map(|(entity, n)| format!("{entity} {n}"))
        .collect();
    println!("records: {}", records.join(", "));
}
