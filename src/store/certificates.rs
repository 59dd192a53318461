//! Device security: the server CAs, trusted certificates, and the key material of developer
//! certificates (which are trusted certificates with `device_execution_mode: 1`).
//!
//! Tables (see `engine::Table`):
//! - `caname_serverca`: `b"bootstrap"` | `b"lwm2m"` -> `ServerCaRecord` (holds a CA PRIVATE KEY)
//! - `certid_cert`: account ++ cert -> `TrustedCertRecord`
//! - `certname_certid`: account ++ name -> cert id (names are unique per account)
//! - `certsubject_certid`: account ++ subject (RFC 4514) -> cert id (subjects too)
//! - `certid_devkey`: account ++ cert -> `DeveloperKeyRecord` (the DEVICE's private key)

use super::durability::Written;
use super::engine::{read, transact, Engine, Table, Tx};
use super::filter::{Filter, Filterable};
use super::keys::{owned, owned_text};
use super::page::{counts, owned_records_in, Page, PageRequest};
use super::{decode, encode, StoreError, StoreResult};
use crate::ids::{AccountId, CertificateId, Id, UserId};
use crate::pki::ServerCa;
use crate::status::CertificateStatus;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const ENTITY: &str = "trusted_certificates";
const DEV_ENTITY: &str = "developer_certificates";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustedCertRecord {
    pub id: CertificateId,
    pub account_id: AccountId,
    pub name: String,
    pub description: Option<String>,
    /// `lwm2m` or `bootstrap`.
    pub service: String,
    /// Stored as its name, as when it was a `String`.
    pub status: CertificateStatus,
    pub enrollment_mode: bool,
    /// 1 for developer certificates, 0 otherwise.
    pub device_execution_mode: i32,
    /// The user who uploaded or generated it.
    pub owner_id: Option<UserId>,
    /// The chain as iamd re-encoded it, leaf first.
    pub certificate: String,
    /// Leaf subject and issuer, RFC 4514.
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the leaf DER, lowercase hex.
    pub fingerprint: String,
    /// Leaf validity, milliseconds since the epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub etag: u64,
}

impl TrustedCertRecord {
    /// Whether the leaf is valid at `now` (milliseconds since the epoch).
    pub fn is_valid(&self, now: i64) -> bool {
        self.not_before <= now && now < self.not_after
    }
}

const DAY_MS: i64 = 86_400_000;

impl Filterable for TrustedCertRecord {
    /// `valid` is decided at the time of the read.
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "name" => vec![self.name.clone()],
            "service" => vec![self.service.clone()],
            "device_execution_mode" => vec![self.device_execution_mode.to_string()],
            "owner" => self.owner_id.iter().map(|o| o.hex()).collect(),
            "enrollment_mode" => vec![self.enrollment_mode.to_string()],
            "status" => vec![self.status.to_string()],
            "issuer" => vec![self.issuer.clone()],
            "subject" => vec![self.subject.clone()],
            "valid" => vec![self.is_valid(crate::clock::now_millis()).to_string()],
            _ => Vec::new(),
        }
    }

    /// `expire` = N keeps the certificates still valid that expire within N days.
    fn accepts(&self, filter: &Filter) -> bool {
        if filter.field != "expire" {
            return filter.accepts(&self.field_values(filter.field));
        }
        let now = crate::clock::now_millis();
        let days = filter.values.first().and_then(|v| v.parse::<i64>().ok());
        days.is_some_and(|days| self.not_after > now && self.not_after <= now + days * DAY_MS)
    }
}

/// What a developer certificate adds to its trusted certificate: the device's identity.
/// It is handed back to the account on `GET /v3/developer-certificates/{id}`, so it is kept;
/// `Debug` leaves the key out so it cannot reach a log.
#[derive(Clone, Serialize, Deserialize, Default)]
pub struct DeveloperKeyRecord {
    pub endpoint_name: String,
    pub cert_der: Vec<u8>,
    /// PKCS#8 DER (what the credentials file embeds) and PEM (what the API returns).
    pub private_key_der: Vec<u8>,
    pub private_key_pem: String,
}

impl std::fmt::Debug for DeveloperKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeveloperKeyRecord")
            .field("endpoint_name", &self.endpoint_name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCaKind {
    Bootstrap,
    Lwm2m,
}

impl ServerCaKind {
    fn key(self) -> &'static [u8] {
        match self {
            ServerCaKind::Bootstrap => b"bootstrap",
            ServerCaKind::Lwm2m => b"lwm2m",
        }
    }

    fn common_name(self) -> &'static str {
        match self {
            ServerCaKind::Bootstrap => "iamd Bootstrap CA",
            ServerCaKind::Lwm2m => "iamd LwM2M CA",
        }
    }
}

/// A server CA as stored: `material` is `ServerCa::to_storage_bytes` (private key included).
#[derive(Serialize, Deserialize)]
pub(super) struct ServerCaRecord {
    id: Id,
    created_at: i64,
    material: Vec<u8>,
}

/// A loaded server CA. `ServerCa`'s `Debug` omits its key.
#[derive(Debug, Clone)]
pub struct ServerCaEntry {
    pub id: Id,
    pub created_at: i64,
    pub ca: ServerCa,
}

pub trait CertificateStore: Send + Sync {
    /// The CA generated at first start (kept for the life of the data directory).
    fn server_ca(&self, kind: ServerCaKind) -> ServerCaEntry;
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<TrustedCertRecord>>;
    /// The device identity of a developer certificate; `None` for other certificates.
    fn developer_key(&self, account: &Id, id: &Id) -> StoreResult<Option<DeveloperKeyRecord>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<TrustedCertRecord>>;
    /// Creates a certificate; a taken name or subject is a conflict. With `developer`, the
    /// certificate is a developer certificate and the account may hold at most `limit` of them
    /// (`Forbidden` past it).
    fn create(
        &self,
        cert: TrustedCertRecord,
        developer: Option<(DeveloperKeyRecord, u64)>,
    ) -> StoreResult<Written<TrustedCertRecord>>;
    /// Applies `change` (retried on contention, so it must be pure), bumps `etag` and keeps
    /// the name and subject indexes in step.
    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut TrustedCertRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<TrustedCertRecord>>;
    /// Deletes the certificate and, for a developer certificate, its key material.
    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>>;
}

/// Trusted and developer certificates of every account, and the server CAs, kept by any
/// engine.
pub struct Certificates {
    engine: Arc<dyn Engine>,
    bootstrap: ServerCaEntry,
    lwm2m: ServerCaEntry,
}

impl Certificates {
    /// Loads the server CAs, generating each on the first open of a data directory.
    pub fn open(engine: Arc<dyn Engine>) -> StoreResult<Certificates> {
        let bootstrap = ensure_ca(&*engine, ServerCaKind::Bootstrap)?;
        let lwm2m = ensure_ca(&*engine, ServerCaKind::Lwm2m)?;
        Ok(Certificates {
            engine,
            bootstrap,
            lwm2m,
        })
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

/// Reads the CA of `kind`, or generates and stores it. The insert happens only if the CA is
/// still absent inside the transaction, so two openers could never end up with different
/// CAs, and it is flushed before use: a device must never see a CA that a crash then forgets.
fn ensure_ca(engine: &dyn Engine, kind: ServerCaKind) -> StoreResult<ServerCaEntry> {
    let raw = match engine.get(Table::CanameServerca, kind.key())? {
        Some(raw) => raw,
        None => {
            let ca = ServerCa::generate(kind.common_name())
                .map_err(|e| StoreError::Backend(format!("cannot generate a server CA: {e}")))?;
            let fresh = encode(&ServerCaRecord {
                id: Id::new(),
                created_at: crate::clock::now_millis(),
                material: ca.to_storage_bytes(),
            });
            let raw = transact(engine, |tx| {
                match tx.get(Table::CanameServerca, kind.key())? {
                    Some(won) => Ok(won),
                    None => {
                        tx.put(Table::CanameServerca, kind.key(), &fresh)?;
                        Ok(fresh.clone())
                    }
                }
            })?;
            engine.flush()?;
            raw
        }
    };
    let record: ServerCaRecord = decode(&raw)?;
    let ca = ServerCa::from_storage_bytes(&record.material)
        .map_err(|e| StoreError::Backend(format!("stored server CA: {e}")))?;
    Ok(ServerCaEntry {
        id: record.id,
        created_at: record.created_at,
        ca,
    })
}

fn tx_cert(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<TrustedCertRecord> {
    match tx.get(Table::CertidCert, &owned(account, id))? {
        Some(raw) => decode(&raw),
        None => Err(StoreError::NotFound("Trusted certificate")),
    }
}

/// Claims `key` of a unique index for `id`; held by another certificate is a conflict.
fn claim(tx: &dyn Tx, index: Table, key: Vec<u8>, id: &Id, what: &str) -> StoreResult<()> {
    if let Some(holder) = tx.get(index, &key)? {
        if holder.as_slice() != id.as_bytes() {
            return Err(StoreError::Conflict(format!(
                "A trusted certificate with this {what} already exists in the account."
            )));
        }
    }
    tx.put(index, &key, id.as_bytes())
}

/// Inserts a trusted (not developer) certificate with its name and subject indexes, in a
/// transaction that may write other entities too (seeding).
pub fn insert_in(tx: &dyn Tx, cert: &TrustedCertRecord) -> StoreResult<()> {
    let account = cert.account_id;
    claim(
        tx,
        Table::CertnameCertid,
        owned_text(&account, &cert.name),
        &cert.id,
        "name",
    )?;
    let subject = owned_text(&account, &cert.subject);
    claim(tx, Table::CertsubjectCertid, subject, &cert.id, "subject")?;
    tx.put(Table::CertidCert, &owned(&account, &cert.id), &encode(cert))?;
    counts::add_in(tx, &account, ENTITY, 1)
}

/// The id of the account's certificate named `name`, read in a transaction.
pub fn id_by_name_in(tx: &dyn Tx, account: &Id, name: &str) -> StoreResult<Option<Id>> {
    Ok(tx
        .get(Table::CertnameCertid, &owned_text(account, name))?
        .and_then(|raw| Id::from_slice(&raw)))
}

impl CertificateStore for Certificates {
    fn server_ca(&self, kind: ServerCaKind) -> ServerCaEntry {
        match kind {
            ServerCaKind::Bootstrap => self.bootstrap.clone(),
            ServerCaKind::Lwm2m => self.lwm2m.clone(),
        }
    }

    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<TrustedCertRecord>> {
        read(&*self.engine, Table::CertidCert, &owned(account, id))
    }

    fn developer_key(&self, account: &Id, id: &Id) -> StoreResult<Option<DeveloperKeyRecord>> {
        read(&*self.engine, Table::CertidDevkey, &owned(account, id))
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        filters: &[Filter],
    ) -> StoreResult<Page<TrustedCertRecord>> {
        owned_records_in(
            &*self.engine,
            Table::CertidCert,
            account,
            ENTITY,
            page,
            filters,
        )
    }

    fn create(
        &self,
        cert: TrustedCertRecord,
        developer: Option<(DeveloperKeyRecord, u64)>,
    ) -> StoreResult<Written<TrustedCertRecord>> {
        transact(&*self.engine, |tx| create_in(tx, &cert, developer.as_ref()))?;
        Ok(self.written(cert))
    }

    fn update(
        &self,
        account: &Id,
        id: &Id,
        change: &dyn Fn(&mut TrustedCertRecord) -> StoreResult<()>,
    ) -> StoreResult<Written<TrustedCertRecord>> {
        let stored = transact(&*self.engine, |tx| update_in(tx, account, id, change))?;
        Ok(self.written(stored.1))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| delete_in(tx, account, id).map(drop))?;
        Ok(self.written(()))
    }
}

/// `CertificateStore::create` inside a transaction that may write other entities too (its
/// audit entry).
pub fn create_in(
    tx: &dyn Tx,
    cert: &TrustedCertRecord,
    developer: Option<&(DeveloperKeyRecord, u64)>,
) -> StoreResult<()> {
    let account = cert.account_id;
    let id = cert.id;
    claim(
        tx,
        Table::CertnameCertid,
        owned_text(&account, &cert.name),
        &id,
        "name",
    )?;
    let subject = owned_text(&account, &cert.subject);
    claim(tx, Table::CertsubjectCertid, subject, &id, "subject")?;
    if let Some((key, limit)) = developer {
        let held = tx
            .get(Table::AccountCounts, &owned_text(&account, DEV_ENTITY))?
            .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        if held >= *limit {
            return Err(StoreError::Forbidden(format!(
                "The account already has the maximum of {limit} developer certificates."
            )));
        }
        tx.put(Table::CertidDevkey, &owned(&account, &id), &encode(key))?;
        counts::add_in(tx, &account, DEV_ENTITY, 1)?;
    }
    tx.put(Table::CertidCert, &owned(&account, &id), &encode(cert))?;
    counts::add_in(tx, &account, ENTITY, 1)
}

/// `CertificateStore::update` inside a transaction: the record before and after.
pub fn update_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    change: &dyn Fn(&mut TrustedCertRecord) -> StoreResult<()>,
) -> StoreResult<(TrustedCertRecord, TrustedCertRecord)> {
    let before = tx_cert(tx, account, id)?;
    let mut after = before.clone();
    change(&mut after)?;
    after.id = before.id;
    after.account_id = before.account_id;
    after.created_at = before.created_at;
    after.device_execution_mode = before.device_execution_mode;
    if after.name != before.name {
        let name = owned_text(account, &after.name);
        claim(tx, Table::CertnameCertid, name, id, "name")?;
        tx.delete(Table::CertnameCertid, &owned_text(account, &before.name))?;
    }
    if after.subject != before.subject {
        let subject = owned_text(account, &after.subject);
        claim(tx, Table::CertsubjectCertid, subject, id, "subject")?;
        tx.delete(
            Table::CertsubjectCertid,
            &owned_text(account, &before.subject),
        )?;
    }
    after.etag = before.etag + 1;
    after.updated_at = crate::clock::now_millis();
    tx.put(Table::CertidCert, &owned(account, id), &encode(&after))?;
    Ok((before, after))
}

/// `CertificateStore::delete` inside a transaction: the deleted record.
pub fn delete_in(tx: &dyn Tx, account: &Id, id: &Id) -> StoreResult<TrustedCertRecord> {
    let cert = tx_cert(tx, account, id)?;
    let k = owned(account, id);
    tx.delete(Table::CertidCert, &k)?;
    tx.delete(Table::CertnameCertid, &owned_text(account, &cert.name))?;
    tx.delete(
        Table::CertsubjectCertid,
        &owned_text(account, &cert.subject),
    )?;
    if tx.get(Table::CertidDevkey, &k)?.is_some() {
        tx.delete(Table::CertidDevkey, &k)?;
        counts::add_in(tx, account, DEV_ENTITY, -1)?;
    }
    counts::add_in(tx, account, ENTITY, -1)?;
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(account: Id, name: &str, subject: &str) -> TrustedCertRecord {
        TrustedCertRecord {
            id: CertificateId::new(),
            account_id: AccountId::from_id(account),
            name: name.into(),
            description: None,
            service: "lwm2m".into(),
            status: CertificateStatus::Active,
            enrollment_mode: false,
            device_execution_mode: 0,
            owner_id: None,
            certificate: String::new(),
            subject: subject.into(),
            issuer: String::new(),
            fingerprint: String::new(),
            not_before: 0,
            not_after: 0,
            created_at: 0,
            updated_at: 0,
            etag: 1,
        }
    }

    fn key() -> DeveloperKeyRecord {
        DeveloperKeyRecord {
            endpoint_name: "ep".into(),
            cert_der: vec![1],
            private_key_der: vec![2],
            private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
        }
    }

    /// Waits for a write to be durable, as a handler would.
    fn done<T>(w: StoreResult<Written<T>>) -> StoreResult<T> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(w?.durable())
    }

    #[test]
    fn cas_survive_reopen_and_indexes_stay_in_step() {
        let dir = tempfile::tempdir().unwrap();
        let account = Id::new();
        let (boot_der, first) = {
            let store = super::super::Store::open(dir.path()).unwrap();
            let certs = &store.certificates;
            let boot = certs.server_ca(ServerCaKind::Bootstrap);
            assert_ne!(
                boot.ca.cert_der(),
                certs.server_ca(ServerCaKind::Lwm2m).ca.cert_der()
            );
            let a = done(certs.create(record(account, "a", "CN=a"), None)).unwrap();
            let dup_name = done(certs.create(record(account, "a", "CN=b"), None));
            assert!(matches!(dup_name, Err(StoreError::Conflict(_))));
            let dup_subject = done(certs.create(record(account, "b", "CN=a"), None));
            assert!(matches!(dup_subject, Err(StoreError::Conflict(_))));
            // Another account may reuse both.
            done(certs.create(record(Id::new(), "a", "CN=a"), None)).unwrap();
            // Renaming frees the old name; keeping the subject is not a conflict with itself.
            done(certs.update(&account, &a.id, &|c| {
                c.name = "renamed".into();
                Ok(())
            }))
            .unwrap();
            done(certs.create(record(account, "a", "CN=c"), None)).unwrap();
            (boot.ca.cert_der().to_vec(), a.id)
        };
        let store = super::super::Store::open(dir.path()).unwrap();
        let certs = &store.certificates;
        assert_eq!(
            certs.server_ca(ServerCaKind::Bootstrap).ca.cert_der(),
            boot_der
        );
        assert_eq!(certs.get(&account, &first).unwrap().unwrap().etag, 2);
        done(certs.delete(&account, &first)).unwrap();
        assert!(certs.get(&account, &first).unwrap().is_none());
        done(certs.create(record(account, "x", "CN=a"), None)).unwrap();
        let page = certs.list(
            &account,
            &PageRequest {
                want_total: true,
                ..PageRequest::all()
            },
            &[],
        );
        assert_eq!(page.unwrap().total, Some(2));
    }

    #[test]
    fn developer_limit_counts_live_certificates() {
        for subject in crate::store::conformance::each_engine() {
            developer_limit_case(&*subject.store.certificates);
        }
    }

    fn developer_limit_case(certs: &dyn CertificateStore) {
        let account = Id::new();
        let dup = done(certs.create(record(account, "d0", "CN=d0"), None)).unwrap();
        let taken = done(certs.create(record(account, "d0", "CN=other"), None));
        assert!(
            matches!(taken, Err(StoreError::Conflict(_))),
            "names are unique"
        );
        done(certs.delete(&account, &dup.id)).unwrap();
        let one = done(certs.create(record(account, "d1", "CN=d1"), Some((key(), 1)))).unwrap();
        let err = done(certs.create(record(account, "d2", "CN=d2"), Some((key(), 1))));
        assert!(matches!(err, Err(StoreError::Forbidden(_))));
        assert!(certs.get(&account, &Id::new()).unwrap().is_none());
        assert!(certs.developer_key(&account, &one.id).unwrap().is_some());
        done(certs.delete(&account, &one.id)).unwrap();
        assert!(certs.developer_key(&account, &one.id).unwrap().is_none());
        done(certs.create(record(account, "d2", "CN=d2"), Some((key(), 1)))).unwrap();
    }

    #[test]
    fn developer_key_debug_hides_the_key() {
        let k = DeveloperKeyRecord {
            private_key_der: vec![0xAB; 4],
            ..key()
        };
        let shown = format!("{k:?}");
        assert!(
            !shown.contains("171") && !shown.contains("private"),
            "{shown}"
        );
    }
}
