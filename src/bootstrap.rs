//! First start: an empty data directory gets the root (aggregator) account, its admin user,
//! groups and an admin API key. The key is printed once and written to
//! `<data_dir>/admin-api-key` (mode 0600). Then the directory is marked initialised (see
//! `store::MARKER`): it is never bootstrapped again, whatever happens to its database.
//! Later starts find the root account and only make sure the marker is there.

use crate::auth::password;
use crate::config::Config;
use crate::provision::{plan, AdminPlan};
use crate::store::accounts::AccountRecord;
use crate::store::{Store, StoreError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "admin-api-key";

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates the root account if the store has none. Returns the admin key on first start.
pub async fn run(store: &Store, config: &Config) -> Result<Option<String>, BootstrapError> {
    if store.root_account()?.is_some() {
        // A directory made before markers existed gets one now.
        store.mark_initialised()?;
        return Ok(None);
    }
    let account = AccountRecord {
        is_aggregator: true,
        display_name: Some(config.bootstrap.account_name.clone()),
        end_market: "IT".into(),
        ..AccountRecord::new(None)
    };
    let b = &config.bootstrap;
    let provisioned = plan(
        account,
        AdminPlan {
            email: b.admin_email.clone(),
            username: Some(b.admin_username.clone()),
            full_name: Some("Administrator".into()),
            // Hashed here, before the server serves anything: no request waits for it.
            chosen_hash: (!b.admin_password.is_empty())
                .then(|| password::hash(&b.admin_password, password::CHOSEN_ITERATIONS)),
            status: crate::status::UserStatus::Active,
        },
    );
    // The key file is written before the commit: a crash in between leaves a file that the
    // next (still first) start overwrites, never a committed key nobody can read.
    let path = config.data_dir.join(KEY_FILE);
    write_secret_file(&path, &provisioned.admin_key).map_err(|source| BootstrapError::KeyFile {
        path: path.clone(),
        source,
    })?;
    store
        .accounts
        .provision(provisioned.new, true)?
        .durable()
        .await?;
    store.mark_initialised()?;
    Ok(Some(provisioned.admin_key))
}

fn write_secret_file(path: &Path, secret: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    writeln!(file, "{secret}")?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
