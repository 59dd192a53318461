//! Storage: sled trees in one data directory, one module per entity.
//!
//! Every entity key starts with the owning account id (`account_id ++ entity_id`), and every
//! store call takes the account, so a handler cannot reach another tenant's record by id.
//! A record and its indexes change in one sled transaction; a write is acknowledged only
//! after [`Commit::durable`] has flushed it (concurrent writers share one flush).

pub mod accounts;
pub mod apikeys;
pub mod branding;
pub mod certificates;
mod codec;
mod durability;
pub mod engine;
pub mod groups;
pub mod identity_providers;
mod integrity;
pub mod invitations;
pub mod keys;
pub mod lastlogin;
mod live;
mod migrations;
pub mod notifications;
pub mod page;
pub mod postgres;
pub mod users;
pub mod verify;

pub use codec::{decode, encode};
use durability::Flusher;
pub use durability::{Commit, Written};
pub use integrity::MARKER;
pub use live::{Open, Trees};
pub use page::{Order, Page, PageRequest};

use sled::transaction::{ConflictableTransactionError, TransactionError};
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

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(inner) => inner,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

/// Aborts a sled transaction with a store error.
/// What a step inside a sled transaction returns.
pub type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub fn abort<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(e))
}

/// Every tree of the database. Names are `<key>_<value>`; the key layout is beside each.
/// Stores reach it through [`Trees`], which follows the database when it is reopened.
#[derive(Clone)]
pub struct TreeSet {
    /// "schema_version" -> u32 BE; "root_account" -> account id.
    pub meta: sled::Tree,
    /// account -> AccountRecord
    pub accountid_account: sled::Tree,
    /// parent ++ child -> ()
    pub parentid_accountid: sled::Tree,
    /// alias bytes -> account id (aliases are unique across the server)
    pub alias_accountid: sled::Tree,
    /// account ++ user -> UserRecord
    pub userid_user: sled::Tree,
    /// account ++ lowercase email -> user id
    pub email_userid: sled::Tree,
    /// account ++ lowercase username -> user id
    pub username_userid: sled::Tree,
    /// account ++ key -> ApiKeyRecord
    pub apikeyid_apikey: sled::Tree,
    /// SHA-256 of the full key -> account ++ key
    pub keyhash_apikeyid: sled::Tree,
    /// account ++ owner user ++ key -> ()
    pub ownerid_apikeyid: sled::Tree,
    /// account ++ group -> GroupRecord
    pub groupid_group: sled::Tree,
    /// account ++ group name -> group id
    pub groupname_groupid: sled::Tree,
    /// account ++ group ++ kind byte ++ member -> ()
    pub groupid_memberid: sled::Tree,
    /// account ++ member ++ group -> ()
    pub memberid_groupid: sled::Tree,
    /// account ++ subject -> i64 BE milliseconds (batched, see lastlogin)
    pub subjectid_lastlogin: sled::Tree,
    /// account ++ entity name -> u64 BE record count (so an unfiltered total_count is O(1))
    pub account_counts: sled::Tree,
    // -- invitations trees --
    /// account ++ invitation -> InvitationRecord
    pub invitationid_invitation: sled::Tree,
    /// SHA-256 of the acceptance token -> account ++ invitation
    pub tokenhash_invitationid: sled::Tree,

    // -- identity provider trees --
    /// account ++ identity provider -> IdentityProviderRecord
    pub idpid_idp: sled::Tree,
    // -- notification trees --
    /// account ++ notification -> NotificationRecord
    pub notificationid_notification: sled::Tree,
    // -- certificate trees --
    /// "bootstrap" | "lwm2m" -> ServerCaRecord (see certificates; holds CA private keys)
    pub caname_serverca: sled::Tree,
    /// account ++ cert -> TrustedCertRecord
    pub certid_cert: sled::Tree,
    /// account ++ certificate name -> cert id
    pub certname_certid: sled::Tree,
    /// account ++ leaf subject (RFC 4514) -> cert id
    pub certsubject_certid: sled::Tree,
    /// account ++ cert -> DeveloperKeyRecord (developer certificates only)
    pub certid_devkey: sled::Tree,
    // -- branding trees --
    /// account ++ theme byte (l|d) ++ color reference -> ColorRecord (own values only)
    pub brandingcolor_color: sled::Tree,
    /// account ++ theme byte (l|d) ++ image reference -> ImageRecord (own values only)
    pub brandingimage_image: sled::Tree,
    /// content name (sha256 hex + extension) -> raw image bytes, served verbatim
    pub imagename_blob: sled::Tree,
    /// content name -> u64 BE number of ImageRecords pointing at it
    pub imagename_refcount: sled::Tree,
}

impl TreeSet {
    fn open(db: &sled::Db) -> sled::Result<TreeSet> {
        Ok(TreeSet {
            meta: db.open_tree("meta")?,
            accountid_account: db.open_tree("accountid_account")?,
            parentid_accountid: db.open_tree("parentid_accountid")?,
            alias_accountid: db.open_tree("alias_accountid")?,
            userid_user: db.open_tree("userid_user")?,
            email_userid: db.open_tree("email_userid")?,
            username_userid: db.open_tree("username_userid")?,
            apikeyid_apikey: db.open_tree("apikeyid_apikey")?,
            keyhash_apikeyid: db.open_tree("keyhash_apikeyid")?,
            ownerid_apikeyid: db.open_tree("ownerid_apikeyid")?,
            groupid_group: db.open_tree("groupid_group")?,
            groupname_groupid: db.open_tree("groupname_groupid")?,
            groupid_memberid: db.open_tree("groupid_memberid")?,
            memberid_groupid: db.open_tree("memberid_groupid")?,
            subjectid_lastlogin: db.open_tree("subjectid_lastlogin")?,
            account_counts: db.open_tree("account_counts")?,
            // -- invitations trees --
            invitationid_invitation: db.open_tree("invitationid_invitation")?,
            tokenhash_invitationid: db.open_tree("tokenhash_invitationid")?,

            // -- identity provider trees --
            idpid_idp: db.open_tree("idpid_idp")?,
            // -- notification trees --
            notificationid_notification: db.open_tree("notificationid_notification")?,
            // -- certificate trees --
            caname_serverca: db.open_tree("caname_serverca")?,
            certid_cert: db.open_tree("certid_cert")?,
            certname_certid: db.open_tree("certname_certid")?,
            certsubject_certid: db.open_tree("certsubject_certid")?,
            certid_devkey: db.open_tree("certid_devkey")?,
            // -- branding trees --
            brandingcolor_color: db.open_tree("brandingcolor_color")?,
            brandingimage_image: db.open_tree("brandingimage_image")?,
            imagename_blob: db.open_tree("imagename_blob")?,
            imagename_refcount: db.open_tree("imagename_refcount")?,
        })
    }

    /// Every tree, by name.
    pub fn all(&self) -> Vec<(&'static str, &sled::Tree)> {
        vec![
            ("meta", &self.meta),
            ("accountid_account", &self.accountid_account),
            ("parentid_accountid", &self.parentid_accountid),
            ("alias_accountid", &self.alias_accountid),
            ("userid_user", &self.userid_user),
            ("email_userid", &self.email_userid),
            ("username_userid", &self.username_userid),
            ("apikeyid_apikey", &self.apikeyid_apikey),
            ("keyhash_apikeyid", &self.keyhash_apikeyid),
            ("ownerid_apikeyid", &self.ownerid_apikeyid),
            ("groupid_group", &self.groupid_group),
            ("groupname_groupid", &self.groupname_groupid),
            ("groupid_memberid", &self.groupid_memberid),
            ("memberid_groupid", &self.memberid_groupid),
            ("subjectid_lastlogin", &self.subjectid_lastlogin),
            ("account_counts", &self.account_counts),
            ("invitationid_invitation", &self.invitationid_invitation),
            ("tokenhash_invitationid", &self.tokenhash_invitationid),
            ("idpid_idp", &self.idpid_idp),
            (
                "notificationid_notification",
                &self.notificationid_notification,
            ),
            ("caname_serverca", &self.caname_serverca),
            ("certid_cert", &self.certid_cert),
            ("certname_certid", &self.certname_certid),
            ("certsubject_certid", &self.certsubject_certid),
            ("certid_devkey", &self.certid_devkey),
            ("brandingcolor_color", &self.brandingcolor_color),
            ("brandingimage_image", &self.brandingimage_image),
            ("imagename_blob", &self.imagename_blob),
            ("imagename_refcount", &self.imagename_refcount),
        ]
    }
}

fn sled_config(dir: &Path) -> sled::Config {
    sled::Config::new()
        .path(dir.join("db"))
        .cache_capacity(64 * 1024 * 1024)
}

/// Opens and closes the database under `dir` once, so that the next start is fast.
///
/// sled 0.34 writes its recovery snapshot only while opening a database: without this, the
/// next start replays everything written since this one began (a few hundred ms per
/// 100,000 inserts). Call it after a graceful stop; it waits up to `wait` for the last
/// handle of the stopping server to release the database's lock.
pub fn checkpoint(dir: &Path, wait: std::time::Duration) -> StoreResult<()> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match sled_config(dir).open() {
            Ok(db) => {
                drop(db);
                return Ok(());
            }
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The storage handed to handlers: one trait object per entity.
#[derive(Clone)]
pub struct Store {
    pub accounts: Arc<dyn accounts::AccountStore>,
    pub users: Arc<dyn users::UserStore>,
    pub apikeys: Arc<dyn apikeys::ApiKeyStore>,
    pub groups: Arc<dyn groups::GroupStore>,
    // -- invitations store --
    pub invitations: Arc<dyn invitations::InvitationStore>,

    // -- identity providers store --
    pub identity_providers: Arc<dyn identity_providers::IdentityProviderStore>,

    // -- notifications store --
    pub notifications: Arc<dyn notifications::NotificationStore>,

    // -- certificates store --
    pub certificates: Arc<dyn certificates::CertificateStore>,

    // -- branding store --
    pub branding: Arc<dyn branding::BrandingStore>,
    pub last_login: Arc<lastlogin::LastLogin>,
    trees: Trees,
    flusher: Arc<Flusher>,
}

impl Store {
    /// The engine-neutral view of this database (see `engine`).
    pub fn sled_engine(&self) -> engine::SledEngine {
        engine::SledEngine::new(self.trees.clone(), Commit::new(self.flusher.clone()))
    }

    /// Opens (creating if needed) the database under `dir`, migrating it to this release.
    /// A damaged database is `StoreError::Damaged` (see `integrity`).
    pub fn open(dir: &Path) -> StoreResult<Store> {
        crate::private::create_dir(dir)
            .map_err(|e| StoreError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let marker = integrity::Marker::read(dir)?;
        let acknowledged = marker.as_ref().map(integrity::Marker::acknowledged);
        let (db, trees) = integrity::open_checked(dir, acknowledged, true)?;
        let trees = Trees::new(dir, db, trees, marker);
        let flusher = Arc::new(Flusher::start(trees.clone()));
        let commit = Commit::new(flusher.clone());
        let last_login = Arc::new(lastlogin::LastLogin::new(&trees));
        let engine: Arc<dyn engine::Engine> =
            Arc::new(engine::SledEngine::new(trees.clone(), commit.clone()));
        Ok(Store {
            accounts: Arc::new(accounts::SledAccounts::new(trees.clone(), commit.clone())),
            users: Arc::new(users::SledUsers::new(
                trees.clone(),
                commit.clone(),
                last_login.clone(),
            )),
            apikeys: Arc::new(apikeys::SledApiKeys::new(
                trees.clone(),
                commit.clone(),
                last_login.clone(),
            )),
            groups: Arc::new(groups::SledGroups::new(trees.clone(), commit.clone())),
            // -- invitations store --
            invitations: Arc::new(invitations::SledInvitations::new(
                trees.clone(),
                commit.clone(),
            )),

            // -- identity providers store --
            identity_providers: Arc::new(identity_providers::IdentityProviders::new(
                engine.clone(),
            )),

            // -- notifications store --
            notifications: Arc::new(notifications::SledNotifications::new(
                trees.clone(),
                commit.clone(),
            )),

            // -- certificates store --
            // Generates the server CAs on the first open of a data directory.
            certificates: Arc::new(certificates::Certificates::open(engine.clone())?),

            // -- branding store --
            branding: Arc::new(branding::Branding::new(engine.clone())),
            last_login,
            trees,
            flusher,
        })
    }

    /// Writes everything buffered (batched last-login times included) to disk.
    pub fn flush(&self) -> StoreResult<()> {
        self.last_login.persist()?;
        self.trees.flush()
    }

    /// The whole database, for whole-database operations only (backup).
    pub fn db(&self) -> StoreResult<Arc<Open>> {
        self.trees.get()
    }

    /// Whether a write may start now (see `Trees::writable`); the error says why not.
    pub fn writable(&self, min_free_bytes: u64) -> Result<(), String> {
        self.trees.writable(min_free_bytes)
    }

    /// Records that this data directory is initialised (see `integrity`); once is enough.
    pub fn mark_initialised(&self) -> StoreResult<()> {
        self.trees.mark_initialised()
    }

    pub fn root_account(&self) -> StoreResult<Option<crate::ids::Id>> {
        self.accounts.root()
    }

    /// Waits until everything written so far is durable.
    pub async fn durable(&self) -> StoreResult<()> {
        Commit::new(self.flusher.clone()).durable().await
    }
}
