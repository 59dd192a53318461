//! The `iamd` command line: parse arguments, load the configuration, run the server.

use iamd::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: iamd [--config FILE] [--version]

Runs the iamd server. Settings come from built-in defaults, then FILE (or $IAMD_CONFIG),
then IAMD_* environment variables; see config.example.toml.";

fn main() -> ExitCode {
    let mut config_path: Option<PathBuf> = std::env::var_os("IAMD_CONFIG").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => config_path = Some(PathBuf::from(p)),
                None => return fail("--config needs a file"),
            },
            "--version" | "-V" => {
                println!("iamd {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::SUCCESS;
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return fail(&format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    let config = match Config::load(config_path.as_deref(), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match actix_web::rt::System::new().block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let data_dir = config.data_dir.clone();
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
        "iamd {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        started.addr
    );
    started.server.await.map_err(|e| e.to_string())?;
    started.store.flush().map_err(|e| e.to_string())?;
    log::info!("stopped; store flushed");
    Ok(())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("iamd: {message}");
    ExitCode::from(2)
}
