//! `iamd admin-key`: a new root admin API key for a stopped server, or a fresh key to give
//! the first start (`IAMD_ADMIN_API_KEY`).

use super::{fail, FAILED};
use clap::Args;
use iamd::auth::apikey;
use iamd::ids::{AccountId, ApiKeyId};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct AdminKeyArgs {
    /// Mint a new key for the root account of this stopped server's data directory, and
    /// write it to DIR/admin-api-key (the keys made before stay valid)
    #[arg(
        long,
        value_name = "DIR",
        required_unless_present = "new",
        conflicts_with = "new"
    )]
    data_dir: Option<PathBuf>,
    /// Print a fresh random key, for IAMD_ADMIN_API_KEY (touches no data directory)
    #[arg(long)]
    new: bool,
    /// With --new: a key of this account (32 hex digits), for the `api_keys` of a seed file
    #[arg(long, value_name = "ID", requires = "new")]
    account: Option<String>,
}

pub fn admin_key(args: &AdminKeyArgs) -> ExitCode {
    match &args.data_dir {
        Some(dir) => mint(dir),
        None => {
            let account = match args.account.as_deref().map(AccountId::parse) {
                None => AccountId::new(),
                Some(Some(id)) => id,
                Some(None) => {
                    return fail(
                        super::USAGE_ERROR,
                        "--account: not an account id (32 hex digits)",
                    )
                }
            };
            println!(
                "{}",
                apikey::issue(&account.id(), &ApiKeyId::new().id()).full
            );
            ExitCode::SUCCESS
        }
    }
}

fn mint(dir: &Path) -> ExitCode {
    if !dir.join("db").join("conf").exists() {
        return fail(
            FAILED,
            &format!(
                "{} holds no iamd database (the server makes one, with a key, at its first start)",
                dir.display()
            ),
        );
    }
    if iamd::datadir::in_use(dir) {
        return fail(FAILED, &iamd::datadir::in_use_message(dir));
    }
    let result = actix_web::rt::System::new().block_on(async {
        let store = iamd::store::Store::open(dir).map_err(|e| e.to_string())?;
        iamd::bootstrap::mint_root_key(&store, dir)
            .await
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(key) => {
            println!(
                "A new admin API key for the root account (shown once, also in {}):",
                dir.join(iamd::bootstrap::KEY_FILE).display()
            );
            println!("{key}");
            println!(
                "Keys made before stay valid: list them with GET /v3/api-keys and delete a \
                 lost one."
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(FAILED, &format!("no key minted: {e}")),
    }
}
