//! One-time tokens sent by email: password reset and email verification. Kept only as the
//! SHA-256 digest of the token; spending one deletes it in the same transaction that reads
//! it, so a token works once.

use super::super::durability::Written;
use super::super::engine::{transact, Engine, Table, Tx};
use super::super::{decode, encode, StoreResult};
use crate::ids::{AccountId, UserId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthTokenKind {
    PasswordReset,
    VerifyEmail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthTokenRecord {
    pub kind: AuthTokenKind,
    pub account_id: AccountId,
    pub user_id: UserId,
    /// The address the token was sent to (a verification is for that address only).
    pub email: String,
    pub expires_at: i64,
}

pub struct AuthTokens {
    engine: Arc<dyn Engine>,
}

impl AuthTokens {
    pub fn new(engine: Arc<dyn Engine>) -> AuthTokens {
        AuthTokens { engine }
    }

    /// Stores one token, with `also` written in the same transaction (its audit entry).
    pub fn create_with(
        &self,
        digest: &[u8],
        record: &AuthTokenRecord,
        also: &dyn Fn(&dyn Tx) -> StoreResult<()>,
    ) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| {
            tx.put(Table::TokenhashAuthtoken, digest, &encode(record))?;
            also(tx)
        })?;
        Ok(Written::new((), self.engine.clone()))
    }

    /// The token with `digest`, left in place.
    pub fn get(&self, digest: &[u8]) -> StoreResult<Option<AuthTokenRecord>> {
        super::super::engine::read(&*self.engine, Table::TokenhashAuthtoken, digest)
    }

    /// Takes the token with `digest` out of the store and returns it, if it was there and is
    /// of `kind` (a token of another kind stays).
    pub fn spend(
        &self,
        digest: &[u8],
        kind: AuthTokenKind,
    ) -> StoreResult<Written<Option<AuthTokenRecord>>> {
        let spent = transact(&*self.engine, |tx| {
            let Some(raw) = tx.get(Table::TokenhashAuthtoken, digest)? else {
                return Ok(None);
            };
            let record: AuthTokenRecord = decode(&raw)?;
            if record.kind != kind {
                return Ok(None);
            }
            tx.delete(Table::TokenhashAuthtoken, digest)?;
            Ok(Some(record))
        })?;
        Ok(Written::new(spent, self.engine.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_spent_once_and_only_as_its_kind() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        super::super::on_every_engine(AuthTokens::new, |store| {
            let record = AuthTokenRecord {
                kind: AuthTokenKind::PasswordReset,
                account_id: AccountId::new(),
                user_id: UserId::new(),
                email: "a@example.com".into(),
                expires_at: 5,
            };
            drop(store.create_with(b"digest", &record, &|_| Ok(())).unwrap());
            assert_eq!(store.get(b"digest").unwrap().unwrap().email, record.email);
            let spend = |kind| runtime.block_on(store.spend(b"digest", kind).unwrap().durable());
            assert!(spend(AuthTokenKind::VerifyEmail).unwrap().is_none());
            let spent = spend(AuthTokenKind::PasswordReset).unwrap().unwrap();
            assert_eq!(spent.user_id, record.user_id);
            assert!(spend(AuthTokenKind::PasswordReset).unwrap().is_none());
        });
    }
}
