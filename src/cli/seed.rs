//! `iamd seed FILE`: applies a seed file (see README.md § Seeding) to a stopped server's data
//! directory, or to a running server in dev mode (`--url`, through `POST /admin/seed`).

use super::{fail, FAILED};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct SeedArgs {
    /// The seed file (YAML or JSON)
    file: PathBuf,
    /// The data directory of a stopped server (after its first start)
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    data_dir: Option<PathBuf>,
    /// A running server in dev mode ([dev] enabled), e.g. http://127.0.0.1:8080
    #[arg(long, value_name = "URL", requires = "api_key")]
    url: Option<String>,
    /// A root admin API key of the server at --url
    #[arg(long, value_name = "KEY", env = "IAMD_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

pub fn seed(args: &SeedArgs) -> ExitCode {
    match (&args.data_dir, &args.url) {
        (Some(dir), _) => offline(&args.file, dir),
        (None, Some(url)) => online(&args.file, url, args.api_key.as_deref().unwrap_or("")),
        (None, None) => fail(super::USAGE_ERROR, "give --data-dir DIR or --url URL"),
    }
}

fn offline(file: &Path, dir: &Path) -> ExitCode {
    // Checked before the directory is touched: a bad file changes nothing.
    // The default image limit: a stopped server's configuration is not read here.
    let max_image_bytes = iamd::config::Config::default().max_image_bytes;
    let seed = match iamd::dev::seed::read(file, max_image_bytes) {
        Ok(s) => s,
        Err(e) => return fail(FAILED, &e.to_string()),
    };
    // Opening would make a database: a refused seed must leave nothing behind.
    if !dir.join("db").join("conf").exists() {
        return fail(
            FAILED,
            &format!(
                "{} holds no iamd database: start the server on it once first, or give it the \
                 file at its first start (IAMD_DEV_SEED_FILE={})",
                dir.display(),
                file.display()
            ),
        );
    }
    if iamd::datadir::in_use(dir) {
        return fail(FAILED, &iamd::datadir::in_use_message(dir));
    }
    let result = actix_web::rt::System::new().block_on(async {
        let store = iamd::store::Store::open(dir).map_err(|e| e.to_string())?;
        if store.root_account().map_err(|e| e.to_string())?.is_none() {
            return Err(format!(
                "{} holds no root account yet: start the server once (or give it the file as \
                 [dev] seed_file at its first start)",
                dir.display()
            ));
        }
        let summary = iamd::dev::seed::apply(&store, &seed)
            .await
            .map_err(|e| e.to_string())?;
        store.flush().map_err(|e| e.to_string())?;
        Ok(summary)
    });
    match result {
        Ok(summary) if summary.is_empty() => {
            println!(
                "Seeded {}: nothing new (everything in it exists already)",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Ok(summary) => {
            println!("Seeded {}: created {summary}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &e),
    }
}

fn online(file: &Path, url: &str, key: &str) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return fail(FAILED, &format!("cannot read {}: {e}", file.display())),
    };
    // The server cannot read the files the seed names: their bytes go in the body.
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let text = match iamd::dev::seed::inline_files(&file.display().to_string(), &text, dir) {
        Ok(t) => t,
        Err(e) => return fail(FAILED, &e.to_string()),
    };
    let endpoint = format!("{}/admin/seed", url.trim_end_matches('/'));
    let answer = ureq::post(&endpoint)
        .set("Authorization", &format!("Bearer {key}"))
        .set("Content-Type", "application/yaml")
        .send_string(&text);
    match answer {
        Ok(res) => {
            let body: serde_json::Value = json(res);
            let summary: Option<iamd::dev::seed::Summary> =
                serde_json::from_value(body["created"].clone()).ok();
            match summary {
                Some(s) if s.is_empty() => {
                    println!("Seeded {url}: nothing new (everything in it exists already)")
                }
                Some(s) => println!("Seeded {url}: created {s}"),
                None => println!("Seeded {url}: created {}", body["created"]),
            }
            ExitCode::SUCCESS
        }
        Err(ureq::Error::Status(404, _)) => fail(
            FAILED,
            &format!("{url} has no /admin/seed: start it with [dev] enabled = true (IAMD_DEV_ENABLED=true)"),
        ),
        Err(ureq::Error::Status(code, res)) => {
            let body: serde_json::Value = json(res);
            let detail = body["fields"]
                .as_array()
                .and_then(|f| f.first())
                .map(|f| format!("{}: {}", f["name"].as_str().unwrap_or(""), f["message"].as_str().unwrap_or("")))
                .unwrap_or_else(|| body["message"].as_str().unwrap_or("").to_string());
            fail(FAILED, &format!("{} refused the seed ({code}): {detail}", file.display()))
        }
        Err(e) => fail(FAILED, &format!("{url}: {e}")),
    }
}

fn json(res: ureq::Response) -> serde_json::Value {
    res.into_string()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}
