//! First start: an empty data directory gets the root (aggregator) account, its admin user,
//! groups and an admin API key. The key is printed once and written to
//! `<data_dir>/admin-api-key` (mode 0600). Then the directory is marked initialised (see
//! `store::MARKER`): it is never bootstrapped again, whatever happens to its database.
//! Later starts find the root account and only make sure the marker is there.

use crate::auth::{apikey, password};
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
/// With `bootstrap.admin_api_key` set, the key created is that one (its text names the
/// account's id and its own), and it is neither printed nor written to the key file.
pub async fn run(store: &Store, config: &Config) -> Result<Option<String>, BootstrapError> {
    let chosen = &config.bootstrap.admin_api_key;
    if let Some(root) = store.root_account()? {
        return bootstrapped_already(store, config, &root);
    }
    let mut account = AccountRecord {
        is_aggregator: true,
        display_name: Some(config.bootstrap.account_name.clone()),
        end_market: "IT".into(),
        ..AccountRecord::new(None)
    };
    // Validated with the configuration; an error here would be a bug.
    let ids = (!chosen.is_empty())
        .then(|| apikey::check_chosen(chosen))
        .transpose()
        .map_err(|why| StoreError::Invalid("bootstrap.admin_api_key", why))?;
    if let Some((account_id, _)) = ids {
        account.id = account_id;
    }
    let b = &config.bootstrap;
    let mut provisioned = plan(
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
    if let Some((_, key_id)) = ids {
        provisioned.new.admin_key.id = key_id;
        provisioned.new.admin_key.key_digest = apikey::digest(chosen);
        provisioned.admin_key = chosen.clone();
    } else {
        // The key file is written before the commit: a crash in between leaves a file that
        // the next (still first) start overwrites, never a committed key nobody can read.
        write_key_file(&config.data_dir, &provisioned.admin_key)?;
    }
    // The root account with its first audit entry, made by the server itself.
    let new = provisioned.new;
    let id = new.account.id;
    let entry = crate::service::audit::system_entry(id, "create", "account", &id);
    let made = store.transact(|tx| {
        crate::store::accounts::provision_in(tx, &new, true)?;
        crate::store::audit::record_in(tx, &entry)
    });
    match made {
        Ok(written) => written.durable().await?,
        // Nodes that share a database and start at once all find it empty; the first to
        // commit wins (the transaction checks for a root account), and the others load
        // what it made instead of failing their start.
        Err(e) => {
            let Some(root) = store.root_account()? else {
                return Err(e.into());
            };
            log::info!("another node bootstrapped the database first: using its root account");
            if ids.is_none() {
                // The key in the file was never committed: no one must take it for one.
                let path = config.data_dir.join(KEY_FILE);
                std::fs::remove_file(&path)
                    .map_err(|source| BootstrapError::KeyFile { path, source })?;
            }
            return bootstrapped_already(store, config, &root);
        }
    }
    store.mark_initialised()?;
    Ok(Some(provisioned.admin_key))
}

/// A start on a store that has its root account: nothing is made. A chosen key that is not
/// one of the root account's is only warned about.
fn bootstrapped_already(
    store: &Store,
    config: &Config,
    root: &crate::ids::Id,
) -> Result<Option<String>, BootstrapError> {
    let chosen = &config.bootstrap.admin_api_key;
    if !chosen.is_empty() && !is_key_of(store, root, chosen)? {
        log::warn!(
            "bootstrap.admin_api_key (IAMD_ADMIN_API_KEY) is not a key of this data \
             directory's root account: it only sets the key at the first start. To replace \
             a lost key, stop the server and run `iamd admin-key --data-dir DIR`"
        );
    }
    // A directory made before markers existed gets one now.
    store.mark_initialised()?;
    Ok(None)
}

/// Whether `key` is a key of the account `root`.
fn is_key_of(store: &Store, root: &crate::ids::Id, key: &str) -> Result<bool, StoreError> {
    let found = store.apikeys.by_digest(&apikey::digest(key))?;
    Ok(found.is_some_and(|k| k.account_id.id() == *root))
}

/// Writes `<data_dir>/admin-api-key` (mode 0600) durably.
pub fn write_key_file(data_dir: &Path, key: &str) -> Result<(), BootstrapError> {
    let path = data_dir.join(KEY_FILE);
    write_secret_file(&path, key).map_err(|source| BootstrapError::KeyFile { path, source })
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

/// Mints a new admin API key for the root account of a stopped server's store (`iamd
/// admin-key`): owned by the account's admin user, in its Administrators group, as the first
/// start's key is. Writes it to the key file, durably, before it is returned. Other keys are
/// left as they are.
pub async fn mint_root_key(store: &Store, data_dir: &Path) -> Result<String, BootstrapError> {
    use crate::ids::ApiKeyId;
    use crate::store::apikeys::ApiKeyRecord;
    let missing = |what: &str| StoreError::Backend(format!("the data directory holds no {what}"));
    let root = store
        .root_account()?
        .ok_or_else(|| missing("root account"))?;
    let account = store
        .accounts
        .get(&root)?
        .ok_or_else(|| missing("root account record"))?;
    let key_id = ApiKeyId::new();
    let issued = apikey::issue(&account.id, &key_id);
    let now = crate::clock::now_millis();
    let record = ApiKeyRecord {
        id: key_id,
        account_id: account.id,
        name: "Administrator key (iamd admin-key)".into(),
        owner: account.admin_user,
        status: crate::status::ApiKeyStatus::Active,
        key_digest: issued.digest,
        groups: vec![account.admin_group.id()],
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    write_key_file(data_dir, &issued.full)?;
    store.apikeys.create(record)?.durable().await?;
    store.flush()?;
    Ok(issued.full)
}
