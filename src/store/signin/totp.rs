//! TOTP state per user: the shared secret (pending until confirmed with a code), the
//! SHA-256 digests of the unused scratch codes, and the last time step a code was accepted
//! at (a code is good once).
//!
//! The secret is kept as it is: checking a code needs it. `UserRecord::is_totp_enabled`
//! says whether TOTP is on; the record here holds what checking it needs.

use super::super::durability::Written;
use super::super::engine::{read, transact, Engine, Table, Tx};
use super::super::{decode, encode, StoreError, StoreResult};
use super::user_key;
use crate::ids::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct TotpRecord {
    /// The raw secret (20 random bytes).
    pub secret: Vec<u8>,
    /// Confirmed with a code: TOTP is on.
    pub confirmed: bool,
    /// SHA-256 of each unused scratch code.
    pub scratch_digests: Vec<Vec<u8>>,
    /// The last time step a code was accepted at; codes of it and earlier are refused.
    pub last_step: u64,
}

pub struct TotpStore {
    engine: Arc<dyn Engine>,
}

impl TotpStore {
    pub fn new(engine: Arc<dyn Engine>) -> TotpStore {
        TotpStore { engine }
    }

    pub fn get(&self, account: &Id, user: &Id) -> StoreResult<Option<TotpRecord>> {
        read(&*self.engine, Table::UseridTotp, &user_key(account, user))
    }

    pub fn put(&self, account: &Id, user: &Id, record: &TotpRecord) -> StoreResult<Written<()>> {
        let k = user_key(account, user);
        transact(&*self.engine, |tx| {
            tx.put(Table::UseridTotp, &k, &encode(record))
        })?;
        Ok(Written::new((), self.engine.clone()))
    }

    /// Applies `change` to the stored record in one transaction (a code or scratch code is
    /// spent exactly once even when two requests race). `change` returns its verdict; the
    /// record is written only when it returns `Ok(true)`.
    pub fn update(
        &self,
        account: &Id,
        user: &Id,
        change: &dyn Fn(&mut TotpRecord) -> StoreResult<bool>,
    ) -> StoreResult<Written<bool>> {
        let changed = transact(&*self.engine, |tx| update_in(tx, account, user, change))?;
        Ok(Written::new(changed, self.engine.clone()))
    }

    pub fn delete(&self, account: &Id, user: &Id) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| delete_in(tx, account, user))?;
        Ok(Written::new((), self.engine.clone()))
    }
}

/// Forgets `user`'s TOTP secret inside a transaction (the user update that turns it off).
pub fn delete_in(tx: &dyn Tx, account: &Id, user: &Id) -> StoreResult<()> {
    tx.delete(Table::UseridTotp, &user_key(account, user))
}

/// `TotpStore::update` inside a transaction that writes other things too (an audit entry).
pub fn update_in(
    tx: &dyn Tx,
    account: &Id,
    user: &Id,
    change: &dyn Fn(&mut TotpRecord) -> StoreResult<bool>,
) -> StoreResult<bool> {
    let k = user_key(account, user);
    let raw = tx
        .get(Table::UseridTotp, &k)?
        .ok_or(StoreError::NotFound("TOTP"))?;
    let mut record: TotpRecord = decode(&raw)?;
    if !change(&mut record)? {
        return Ok(false);
    }
    tx.put(Table::UseridTotp, &k, &encode(&record))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_written_only_when_it_says_so() {
        super::super::on_every_engine(TotpStore::new, |store| {
            let (a, u) = (Id::new(), Id::new());
            assert!(matches!(
                store.update(&a, &u, &|_| Ok(true)),
                Err(StoreError::NotFound(_))
            ));
            let record = TotpRecord {
                secret: vec![1; 20],
                scratch_digests: vec![vec![2; 32]],
                ..TotpRecord::default()
            };
            drop(store.put(&a, &u, &record).unwrap());
            drop(
                store
                    .update(&a, &u, &|r| {
                        r.confirmed = true;
                        Ok(false)
                    })
                    .unwrap(),
            );
            assert!(!store.get(&a, &u).unwrap().unwrap().confirmed);
            drop(
                store
                    .update(&a, &u, &|r| {
                        r.confirmed = true;
                        r.scratch_digests.clear();
                        Ok(true)
                    })
                    .unwrap(),
            );
            let stored = store.get(&a, &u).unwrap().unwrap();
            assert!(stored.confirmed && stored.scratch_digests.is_empty());
            drop(store.delete(&a, &u).unwrap());
            assert!(store.get(&a, &u).unwrap().is_none());
        });
    }
}
