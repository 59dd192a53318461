//! The embedded default engine: sled, one tree per table in `<data_dir>/db`, and everything
//! that only sled needs. Nothing outside this module names sled.
//!
//! - `engine`: [`SledEngine`], the `engine::Engine` over the trees.
//! - `live`: the open database, taken out of service and reopened when the disk fails.
//! - `flusher`: group commit (a write is acknowledged after a flush that began after it).
//! - `integrity`: the data directory's marker and the checks of every start.
//! - `verify`: reading the whole database back (each start; `iamd verify`).
//! - `migrations`: the `schema_version` key and numbered migrations.

mod engine;
mod flusher;
mod integrity;
mod live;
mod migrations;
pub mod verify;

pub use self::engine::SledEngine;
pub use self::flusher::{Commit, Flusher};
pub use self::integrity::MARKER;
pub use self::live::{Open, Trees};

use super::{StoreError, StoreResult};
use ::sled::transaction::TransactionError;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

impl From<::sled::Error> for StoreError {
    fn from(e: ::sled::Error) -> Self {
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

/// Every tree of the database. Names are `<key>_<value>`; the key layout is beside each.
/// Stores reach it through [`Trees`], which follows the database when it is reopened.
#[derive(Clone)]
pub struct TreeSet {
    /// "schema_version" -> u32 BE; "root_account" -> account id.
    pub meta: ::sled::Tree,
    /// account -> AccountRecord
    pub accountid_account: ::sled::Tree,
    /// parent ++ child -> ()
    pub parentid_accountid: ::sled::Tree,
    /// alias bytes -> account id (aliases are unique across the server)
    pub alias_accountid: ::sled::Tree,
    /// account ++ user -> UserRecord
    pub userid_user: ::sled::Tree,
    /// account ++ lowercase email -> user id
    pub email_userid: ::sled::Tree,
    /// account ++ lowercase username -> user id
    pub username_userid: ::sled::Tree,
    /// account ++ key -> ApiKeyRecord
    pub apikeyid_apikey: ::sled::Tree,
    /// SHA-256 of the full key -> account ++ key
    pub keyhash_apikeyid: ::sled::Tree,
    /// account ++ owner user ++ key -> ()
    pub ownerid_apikeyid: ::sled::Tree,
    /// account ++ group -> GroupRecord
    pub groupid_group: ::sled::Tree,
    /// account ++ group name -> group id
    pub groupname_groupid: ::sled::Tree,
    /// account ++ group ++ kind byte ++ member -> ()
    pub groupid_memberid: ::sled::Tree,
    /// account ++ member ++ group -> ()
    pub memberid_groupid: ::sled::Tree,
    /// account ++ subject -> i64 BE milliseconds (batched, see lastlogin)
    pub subjectid_lastlogin: ::sled::Tree,
    /// account ++ entity name -> u64 BE record count (so an unfiltered total_count is O(1))
    pub account_counts: ::sled::Tree,
    // -- invitations trees --
    /// account ++ invitation -> InvitationRecord
    pub invitationid_invitation: ::sled::Tree,
    /// SHA-256 of the acceptance token -> account ++ invitation
    pub tokenhash_invitationid: ::sled::Tree,

    // -- identity provider trees --
    /// account ++ identity provider -> IdentityProviderRecord
    pub idpid_idp: ::sled::Tree,
    // -- notification trees --
    /// account ++ notification -> NotificationRecord
    pub notificationid_notification: ::sled::Tree,
    // -- certificate trees --
    /// "bootstrap" | "lwm2m" -> ServerCaRecord (see certificates; holds CA private keys)
    pub caname_serverca: ::sled::Tree,
    /// account ++ cert -> TrustedCertRecord
    pub certid_cert: ::sled::Tree,
    /// account ++ certificate name -> cert id
    pub certname_certid: ::sled::Tree,
    /// account ++ leaf subject (RFC 4514) -> cert id
    pub certsubject_certid: ::sled::Tree,
    /// account ++ cert -> DeveloperKeyRecord (developer certificates only)
    pub certid_devkey: ::sled::Tree,
    // -- branding trees --
    /// account ++ theme byte (l|d) ++ color reference -> ColorRecord (own values only)
    pub brandingcolor_color: ::sled::Tree,
    /// account ++ theme byte (l|d) ++ image reference -> ImageRecord (own values only)
    pub brandingimage_image: ::sled::Tree,
    /// content name (sha256 hex + extension) -> raw image bytes, served verbatim
    pub imagename_blob: ::sled::Tree,
    /// content name -> u64 BE number of ImageRecords pointing at it
    pub imagename_refcount: ::sled::Tree,
    // -- sign-in trees (see store::signin) --
    pub sessionid_session: ::sled::Tree,
    pub tokenhash_sessionid: ::sled::Tree,
    pub userid_loginhistory: ::sled::Tree,
    pub userid_totp: ::sled::Tree,
    pub tokenhash_authtoken: ::sled::Tree,
    /// account ++ identity provider -> u64 BE, bumped by every write that gives a user the provider as a login profile (so a delete can tell that one happened since its scan)
    pub idpid_stamp: ::sled::Tree,
    /// account ++ audit entry (time-ordered id) -> AuditRecord
    pub audit_entry: ::sled::Tree,
}

impl TreeSet {
    pub(crate) fn open(db: &::sled::Db) -> ::sled::Result<TreeSet> {
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
            // -- sign-in trees --
            sessionid_session: db.open_tree("sessionid_session")?,
            tokenhash_sessionid: db.open_tree("tokenhash_sessionid")?,
            userid_loginhistory: db.open_tree("userid_loginhistory")?,
            userid_totp: db.open_tree("userid_totp")?,
            tokenhash_authtoken: db.open_tree("tokenhash_authtoken")?,
            idpid_stamp: db.open_tree("idpid_stamp")?,
            audit_entry: db.open_tree("audit_entry")?,
        })
    }

    /// Every tree, by name.
    pub fn all(&self) -> Vec<(&'static str, &::sled::Tree)> {
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
            ("sessionid_session", &self.sessionid_session),
            ("tokenhash_sessionid", &self.tokenhash_sessionid),
            ("userid_loginhistory", &self.userid_loginhistory),
            ("userid_totp", &self.userid_totp),
            ("tokenhash_authtoken", &self.tokenhash_authtoken),
            ("idpid_stamp", &self.idpid_stamp),
            ("audit_entry", &self.audit_entry),
        ]
    }
}

/// sled's page cache. The scan after each start reads every page through it, so it ends
/// full whatever the load; sled's accounting counts pages as they are on disk, and the
/// decoded nodes it keeps take more. With 100,000 users the idle server measured 89 MiB
/// with 64 MiB of cache and 60 MiB with 4 (BENCHMARKS.md, "Idle memory"); the requests
/// measured there touch few pages, and a page not cached is read back from the operating
/// system's file cache.
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

pub(crate) fn sled_config(dir: &Path) -> ::sled::Config {
    ::sled::Config::new()
        .path(dir.join("db"))
        .cache_capacity(CACHE_BYTES)
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

/// Opens (creating if needed) the database under `dir`, checked and migrated to this
/// release (a damaged one is `StoreError::Damaged`, see `integrity`), with its group-commit
/// flusher. Every record is read later: `SledEngine::scan_in_background` (a server, once it
/// serves) or `SledEngine::check_records`.
pub fn open(dir: &Path) -> StoreResult<SledEngine> {
    let marker = integrity::Marker::read(dir)?;
    let acknowledged = marker.as_ref().map(integrity::Marker::acknowledged);
    let (db, trees) = integrity::open_checked(dir, acknowledged)?;
    let trees = Trees::new(dir, db, trees, marker);
    let flusher = Arc::new(Flusher::start(trees.clone()));
    Ok(SledEngine::new(trees, Commit::new(flusher)))
}

/// Reads every record once, after the start, while the server already serves (a full scan
/// at start made the start wait for it: hundreds of ms on a large database). Damage found
/// (a record that does not decode, a counter that disagrees with its records, a read that
/// fails or panics in sled) takes the database out of service and is logged, as a failed
/// disk is; `iamd verify` then lists what is wrong.
pub fn scan_in_background(trees: Trees, log: PathBuf) -> Option<Scan> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let spawned = std::thread::Builder::new()
        .name("iamd-scan".into())
        .spawn(move || {
            let Ok(open) = trees.get() else {
                return; // Out of service already.
            };
            let stopped = || stopping.load(Ordering::SeqCst);
            let writes = || (!stopped()).then(|| trees.writes());
            let began = std::time::Instant::now();
            let report = integrity::catch_panic(&log, || Ok(verify::check_live(&open, &writes)));
            drop(open);
            if stopped() {
                return;
            }
            let damage = match report {
                Ok(report) => match report.problems.first() {
                    None => {
                        log::info!(
                            "database checked: {} entries read in {} ms, no damage",
                            report.entries,
                            began.elapsed().as_millis()
                        );
                        return;
                    }
                    Some(first) => integrity::damaged(
                        &log,
                        format!("{first} ({} problems in all)", report.problem_count),
                    ),
                },
                Err(e) => e,
            };
            trees.take_out_for_damage(damage.to_string());
        });
    match spawned {
        Ok(thread) => Some(Scan { stop, thread }),
        Err(e) => {
            log::warn!("cannot start the scan of the database's records: {e}");
            None
        }
    }
}

/// The scan running after a start.
pub struct Scan {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Scan {
    /// Stops the scan at its next record and waits for it.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}
