//! Storage: one module per entity, over an engine (`engine`): sled in the data directory
//! (`sled`, the default), memory (`[store] url = "memory:"`) or PostgreSQL
//! (`[store] url = "postgres://..."`, see `postgres`).
//!
//! Every entity key starts with the owning account id (`account_id ++ entity_id`), and every
//! store call takes the account, so a handler cannot reach another tenant's record by id.
//! A record and its indexes change in one transaction; a write is acknowledged only after
//! [`Written::durable`] (the engine's promise: sled flushes, concurrent writers share one
//! flush).

pub mod accounts;
pub mod apikeys;
pub mod audit;
pub mod branding;
pub mod certificates;
mod codec;
#[cfg(test)]
mod conformance;
mod durability;
pub mod engine;
pub mod filter;
pub mod groups;
pub mod identity_providers;
pub mod invitations;
pub mod keys;
pub mod lastlogin;
pub mod memberships;
pub mod notifications;
pub mod page;
pub mod postgres;
pub mod signin;
mod sled;
pub mod users;

/// The name of the marker file that says a data directory is initialised.
pub use self::sled::MARKER;
pub use codec::{decode, encode};
pub use durability::Written;
pub use page::{Order, Page, PageRequest};

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule would break; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// The record to change does not exist (inside a transaction).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A rule about the input that only the store can check (field, message).
    #[error("{1}")]
    Invalid(&'static str, String),
    /// A rule that forbids the change whatever the caller's rights.
    #[error("{0}")]
    Forbidden(String),
    /// The database failed or holds something unreadable.
    #[error("storage failure: {0}")]
    Backend(String),
    /// The disk cannot take writes now (full, or failing): retry later. The message says
    /// why, for the client.
    #[error("{0}")]
    Unavailable(String),
    /// The data directory is damaged: found at start, it stops the server.
    #[error(
        "{path}: {detail}. The data directory is damaged: move it aside and restore the last \
         backup into a new one with `iamd restore --in BACKUP --data-dir DIR` \
         (`iamd verify --data-dir DIR` lists what is wrong)"
    )]
    Damaged { path: PathBuf, detail: String },
    /// A concurrent transaction conflicted with this one: the engine runs it again. Only
    /// ever seen inside `engine::transact`; it never reaches a caller.
    #[error("transaction conflict")]
    Retry,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which engine keeps the database: the configuration's `[store] url`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// `""`: sled, in the data directory (the default).
    DataDir,
    /// `"memory:"`: nothing on disk; a stop loses everything.
    Memory,
    /// `"postgres://..."` (or `postgresql://`): a PostgreSQL database that several nodes
    /// may share.
    Postgres,
}

impl Location {
    /// Which engine `url` names; a URL that cannot name one is refused here, before anything
    /// opens. No error repeats the URL: it may hold a password.
    pub fn parse(url: &str) -> StoreResult<Location> {
        match url.trim() {
            "" => Ok(Location::DataDir),
            "memory:" => Ok(Location::Memory),
            other if other.starts_with("postgres://") || other.starts_with("postgresql://") => {
                postgres::parse_url(other)?;
                Ok(Location::Postgres)
            }
            other => Err(StoreError::Backend(format!(
                "unsupported store url `{}`: leave it empty (the data directory), or use \
                 `memory:` or `postgres://user:password@host:port/database`",
                redact_url(other)
            ))),
        }
    }
}

/// `url` with its password (the userinfo's, or a `password=` parameter) shown as `(set)`,
/// for messages and `check-config`.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest + i);
        // The last `@` of the authority ends the userinfo (a password may hold `@`).
        if let Some(at) = out[rest..authority_end].rfind('@').map(|i| rest + i) {
            if let Some(colon) = out[rest..at].find(':').map(|i| rest + i) {
                out.replace_range(colon + 1..at, "(set)");
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    if let Some(start) = lower.find("password=").map(|i| i + "password=".len()) {
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |i| start + i);
        out.replace_range(start..end, "(set)");
    }
    out
}

/// The storage handed to handlers: one trait object per entity, all over one engine.
#[derive(Clone)]
pub struct Store {
    pub accounts: Arc<dyn accounts::AccountStore>,
    pub users: Arc<dyn users::UserStore>,
    pub apikeys: Arc<dyn apikeys::ApiKeyStore>,
    pub groups: Arc<dyn groups::GroupStore>,
    pub invitations: Arc<dyn invitations::InvitationStore>,
    pub identity_providers: Arc<dyn identity_providers::IdentityProviderStore>,
    pub notifications: Arc<dyn notifications::NotificationStore>,
    pub certificates: Arc<dyn certificates::CertificateStore>,
    pub branding: Arc<dyn branding::BrandingStore>,
    pub last_login: Arc<lastlogin::LastLogin>,
    /// Sessions, login history, TOTP and one-time tokens of people signing in.
    pub signin: Arc<signin::SignIn>,
    /// The engine every store above runs on: for writes that span entities
    /// ([`Store::transact`] with the stores' `*_in` functions).
    pub engine: Arc<dyn engine::Engine>,
    /// The same engine when it is sled, for the whole-database snapshot of `db()`.
    sled: Option<Arc<sled::SledEngine>>,
}

impl Store {
    /// The engine behind the stores, for whole-database operations (backup, restore).
    pub fn engine(&self) -> Arc<dyn engine::Engine> {
        self.engine.clone()
    }

    /// Opens (creating if needed) the database under `dir`, migrating it to this release.
    /// A damaged database is `StoreError::Damaged` (see `sled::integrity`).
    /// Whether every record reads is checked later: `scan_in_background` (a server, once it
    /// serves) or `check_records` (offline tools).
    pub fn open(dir: &Path) -> StoreResult<Store> {
        crate::private::create_dir(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let sled = Arc::new(sled::open(dir)?);
        Store::over(sled.clone(), Some(sled))
    }

    /// Reads every record on a thread of its own; damage found takes the store out of
    /// service and is logged (see `sled::scan_in_background`). Nothing to read in memory.
    pub fn scan_in_background(&self) {
        if let Some(sled) = &self.sled {
            sled.scan_in_background();
        }
    }

    /// Opens the store `url` names (see [`Location`]); `dir` is the data directory.
    pub fn open_url(dir: &Path, url: &str) -> StoreResult<Store> {
        match Location::parse(url)? {
            Location::DataDir => Store::open(dir),
            Location::Memory => Store::memory(),
            Location::Postgres => {
                Store::over_engine(Arc::new(engine::PostgresEngine::open(url.trim())?))
            }
        }
    }

    /// A store that keeps everything in memory (nothing on disk; a stop loses it all).
    pub fn memory() -> StoreResult<Store> {
        Store::over(Arc::new(engine::MemoryEngine::new()), None)
    }

    /// A store over `engine` (PostgreSQL, or an engine under test).
    pub fn over_engine(engine: Arc<dyn engine::Engine>) -> StoreResult<Store> {
        Store::over(engine, None)
    }

    fn over(
        engine: Arc<dyn engine::Engine>,
        sled: Option<Arc<sled::SledEngine>>,
    ) -> StoreResult<Store> {
        let last_login = Arc::new(lastlogin::LastLogin::new(engine.clone()));
        Ok(Store {
            accounts: Arc::new(accounts::Accounts::new(engine.clone())),
            users: Arc::new(users::Users::new(engine.clone(), last_login.clone())),
            apikeys: Arc::new(apikeys::ApiKeys::new(engine.clone(), last_login.clone())),
            groups: Arc::new(groups::Groups::new(engine.clone())),
            invitations: Arc::new(invitations::Invitations::new(engine.clone())),
            identity_providers: Arc::new(identity_providers::IdentityProviders::new(
                engine.clone(),
            )),
            notifications: Arc::new(notifications::Notifications::new(engine.clone())),
            // Generates the server CAs on the first open of a data directory.
            certificates: Arc::new(certificates::Certificates::open(engine.clone())?),
            branding: Arc::new(branding::Branding::new(engine.clone())),
            last_login,
            signin: Arc::new(signin::SignIn::new(engine.clone())),
            engine,
            sled,
        })
    }

    /// Runs `work` as one transaction over every entity: compose the stores' `*_in`
    /// functions (`users::update_in`, `groups::change_members_in`, ...) so that a request
    /// that writes several entities is all or nothing. `work` may run more than once.
    pub fn transact<R>(
        &self,
        work: impl FnMut(&dyn engine::Tx) -> StoreResult<R>,
    ) -> StoreResult<Written<R>> {
        let value = engine::transact(&*self.engine, work)?;
        Ok(Written::new(value, self.engine.clone()))
    }

    /// Writes everything buffered (batched last-login times included) to disk.
    pub fn flush(&self) -> StoreResult<()> {
        self.last_login.persist()?;
        self.signin.sessions.persist()?;
        self.engine.flush()
    }

    /// The whole sled database, for the snapshot backup only (none on other engines).
    pub fn db(&self) -> StoreResult<Arc<sled::Open>> {
        match &self.sled {
            Some(sled) => sled.trees().get(),
            None => Err(StoreError::Backend(format!(
                "the {} engine keeps no database file to snapshot",
                self.engine.name()
            ))),
        }
    }

    /// Reads every record and compares the counters with them, now (offline tools; a
    /// server does it in the background after its start). Damage is `StoreError::Damaged`.
    pub fn check_records(&self) -> StoreResult<()> {
        match &self.sled {
            Some(sled) => sled.check_records(),
            None => Ok(()),
        }
    }

    /// Whether a write may start now (see `Engine::writable`); the error says why not.
    pub fn writable(&self, min_free_bytes: u64) -> Result<(), String> {
        self.engine.writable(min_free_bytes)
    }

    /// Records that this data directory is initialised (see `Engine::mark_initialised`).
    pub fn mark_initialised(&self) -> StoreResult<()> {
        self.engine.mark_initialised()
    }

    pub fn root_account(&self) -> StoreResult<Option<crate::ids::Id>> {
        self.accounts.root()
    }

    /// Waits until everything written so far is durable.
    pub async fn durable(&self) -> StoreResult<()> {
        self.engine.durable().await
    }
}

/// Opens and closes the database under `dir` once, so that the next start is fast (see
/// `sled::checkpoint`); nothing to do for a store in memory.
pub fn checkpoint(dir: &Path, url: &str, wait: std::time::Duration) -> StoreResult<()> {
    match Location::parse(url)? {
        Location::DataDir => sled::checkpoint(dir, wait),
        // Nothing kept in the data directory.
        Location::Memory | Location::Postgres => Ok(()),
    }
}

/// `iamd verify`: checks every record and index of a stopped server's data directory.
pub fn verify_data_dir(dir: &Path) -> StoreResult<sled::verify::Report> {
    sled::verify::data_dir(dir)
}

#[cfg(test)]
mod url_tests {
    use super::{redact_url, Location};

    #[test]
    fn a_store_url_is_shown_without_its_password() {
        for (url, shown) in [
            (
                "postgres://iamd:pw@db:5432/iamd",
                "postgres://iamd:(set)@db:5432/iamd",
            ),
            (
                "postgres://iamd:p@w:d@db/iamd",
                "postgres://iamd:(set)@db/iamd",
            ),
            ("postgres://iamd@db/iamd", "postgres://iamd@db/iamd"),
            (
                "postgres://db/iamd?user=iamd&password=pw&sslmode=disable",
                "postgres://db/iamd?user=iamd&password=(set)&sslmode=disable",
            ),
            ("", ""),
            ("memory:", "memory:"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_a_bad_one_is_refused_before_connecting() {
        assert_eq!(
            Location::parse("postgres://h/db").unwrap(),
            Location::Postgres
        );
        assert_eq!(
            Location::parse("postgresql://h/db").unwrap(),
            Location::Postgres
        );
        let bad = Location::parse("postgres://u:secret@h/db?port=x").unwrap_err();
        assert!(!bad.to_string().contains("secret"), "{bad}");
        let other = Location::parse("mysql://u:secret@h/db").unwrap_err();
        assert!(!other.to_string().contains("secret"), "{other}");
    }
}
