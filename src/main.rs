//! The `iamd` command line: the server, and the operations commands around it.

use iamd::backup;
use iamd::config::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage:
  iamd [--config FILE]              run the server
  iamd check-config [--config FILE] validate the configuration and print it (secrets hidden)
  iamd backup --out FILE [--config FILE] [--data-dir DIR]
                                    back up a stopped server's data directory
  iamd backup --out FILE --url URL [--key-file FILE] [--ca-file FILE]
                                    back up a running server (root admin API key from
                                    --key-file or $IAMD_API_KEY)
  iamd verify-backup --in FILE      check a backup file's framing and checksum
  iamd restore --in FILE --data-dir DIR
                                    restore a backup into a new or empty directory
  iamd verify --data-dir DIR        check every record and index of a stopped server's
                                    data directory (exit 1 on any problem)
  iamd systemd-unit                 print a systemd unit for running iamd as a service
  iamd --version

Settings come from built-in defaults, then FILE (or $IAMD_CONFIG), then IAMD_* environment
variables; see config.example.toml.";

/// The systemd unit shipped with this release (documented in README.md).
const SYSTEMD_UNIT: &str = include_str!("systemd/iamd.service");

/// Exit status for bad usage or configuration.
const USAGE_ERROR: u8 = 2;
/// Exit status for an operation that failed (backup, restore).
const FAILED: u8 = 1;

#[derive(Default)]
struct Args {
    command: Option<String>,
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    out: Option<PathBuf>,
    input: Option<PathBuf>,
    url: Option<String>,
    key_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut parsed = Args {
        config: std::env::var_os("IAMD_CONFIG").map(PathBuf::from),
        ..Args::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--config" | "-c" => parsed.config = Some(value(&arg)?.into()),
            "--data-dir" => parsed.data_dir = Some(value(&arg)?.into()),
            "--out" => parsed.out = Some(value(&arg)?.into()),
            "--in" => parsed.input = Some(value(&arg)?.into()),
            "--url" => parsed.url = Some(value(&arg)?),
            "--key-file" => parsed.key_file = Some(value(&arg)?.into()),
            "--ca-file" => parsed.ca_file = Some(value(&arg)?.into()),
            "--version" | "-V" => parsed.command = Some("version".into()),
            "--help" | "-h" => parsed.command = Some("help".into()),
            "check-config" | "backup" | "verify-backup" | "restore" | "systemd-unit" | "verify"
                if parsed.command.is_none() =>
            {
                parsed.command = Some(arg)
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    // Whatever the caller's umask: the data directory holds keys and password hashes.
    iamd::private::set_umask();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => return fail(USAGE_ERROR, &format!("{e}\n{USAGE}")),
    };
    match args.command.as_deref() {
        Some("version") => {
            println!("iamd {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some("help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("systemd-unit") => {
            print!("{SYSTEMD_UNIT}");
            ExitCode::SUCCESS
        }
        Some("check-config") => check_config(&args),
        Some("backup") => run_backup(&args),
        Some("verify-backup") => verify_backup(&args),
        Some("restore") => run_restore(&args),
        Some("verify") => verify(&args),
        _ => serve(&args),
    }
}

fn load_config(args: &Args) -> Result<Config, String> {
    Config::load(args.config.as_deref(), |k| std::env::var(k).ok()).map_err(|e| e.to_string())
}

fn serve(args: &Args) -> ExitCode {
    let config = match load_config(args) {
        Ok(c) => c,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    iamd::logging::init("info");
    let data_dir = config.data_dir.clone();
    let db_dir = data_dir.clone();
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
        match iamd::store::checkpoint(&db_dir, Duration::from_secs(5)) {
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
fn check_config(args: &Args) -> ExitCode {
    let config = match load_config(args) {
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

fn run_backup(args: &Args) -> ExitCode {
    let Some(out) = &args.out else {
        return fail(USAGE_ERROR, "backup needs --out FILE");
    };
    let result = match &args.url {
        Some(url) => {
            let key = match api_key(args) {
                Ok(k) => k,
                Err(e) => return fail(USAGE_ERROR, &e),
            };
            backup::write_file_atomically(out, |file| {
                backup::fetch::download(url, &key, args.ca_file.as_deref(), file)?;
                Ok(backup::Summary::default())
            })
        }
        None => {
            let data_dir = match &args.data_dir {
                Some(d) => d.clone(),
                None => match load_config(args) {
                    Ok(c) => c.data_dir,
                    Err(e) => return fail(USAGE_ERROR, &e),
                },
            };
            backup::backup_offline(&data_dir, out)
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
fn api_key(args: &Args) -> Result<String, String> {
    let key = match &args.key_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => std::env::var("IAMD_API_KEY")
            .map_err(|_| "backup --url needs --key-file FILE or $IAMD_API_KEY".to_string())?,
    };
    Ok(key.trim().to_string())
}

fn verify_backup(args: &Args) -> ExitCode {
    let Some(input) = &args.input else {
        return fail(USAGE_ERROR, "verify-backup needs --in FILE");
    };
    match backup::verify_file(input) {
        Ok(summary) => {
            report("verified", input, &summary);
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("{}: {e}", input.display())),
    }
}

fn run_restore(args: &Args) -> ExitCode {
    let (Some(input), Some(data_dir)) = (&args.input, &args.data_dir) else {
        return fail(USAGE_ERROR, "restore needs --in FILE and --data-dir DIR");
    };
    match backup::restore(input, data_dir) {
        Ok(summary) => {
            report("restored", input, &summary);
            println!("into {}", data_dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("restore refused: {e}")),
    }
}

fn verify(args: &Args) -> ExitCode {
    let Some(dir) = &args.data_dir else {
        return fail(USAGE_ERROR, "verify needs --data-dir DIR");
    };
    let report = match iamd::store::verify::data_dir(dir) {
        Ok(r) => r,
        Err(e @ iamd::store::StoreError::Damaged { .. }) => {
            println!("{e}");
            println!("1 problem found");
            return ExitCode::from(FAILED);
        }
        Err(e) => return fail(FAILED, &e.to_string()),
    };
    println!(
        "verified {}: {} trees, {} entries",
        dir.display(),
        report.trees,
        report.entries
    );
    let records: Vec<String> = report
        .records
        .iter()
        .map(|(entity, n)| format!("{entity}: {n}"))
        .collect();
    println!("records: {}", records.join(", "));
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    if report.problem_count == 0 {
        println!("no problems found");
        ExitCode::SUCCESS
    } else {
        println!("{} problems found", report.problem_count);
        ExitCode::from(FAILED)
    }
}

fn report(what: &str, path: &Path, s: &backup::Summary) {
    println!(
        "{what} {}: {} trees, {} entries (made by iamd {} at {}, schema version {})",
        path.display(),
        s.trees,
        s.entries,
        s.iamd_version,
        s.created_at,
        s.schema_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "unknown".into())
    );
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("iamd: {message}");
    ExitCode::from(code)
}
