//! Login history: the last [`HISTORY_LEN`] login attempts of each user, failures included,
//! newest first (`login_history` of a user). One small row per user, rewritten per attempt:
//! logins are rare next to requests, so the write costs nothing that matters.

use super::super::durability::Written;
use super::super::engine::{read, transact, Engine, Table, Tx};
use super::super::{decode, encode, StoreResult};
use super::user_key;
use crate::ids::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const HISTORY_LEN: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginAttempt {
    pub date: i64,
    pub ip_address: String,
    pub success: bool,
    pub user_agent: String,
}

pub struct LoginHistory {
    engine: Arc<dyn Engine>,
}

impl LoginHistory {
    pub fn new(engine: Arc<dyn Engine>) -> LoginHistory {
        LoginHistory { engine }
    }

    /// The user's last attempts, newest first.
    pub fn get(&self, account: &Id, user: &Id) -> StoreResult<Vec<LoginAttempt>> {
        Ok(read(
            &*self.engine,
            Table::UseridLoginhistory,
            &user_key(account, user),
        )?
        .unwrap_or_default())
    }

    /// Records an attempt, keeping the newest [`HISTORY_LEN`].
    pub fn record(
        &self,
        account: &Id,
        user: &Id,
        attempt: LoginAttempt,
    ) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| record_in(tx, account, user, &attempt))?;
        Ok(Written::new((), self.engine.clone()))
    }

    /// Forgets a deleted user's history.
    pub fn forget(&self, account: &Id, user: &Id) -> StoreResult<Written<()>> {
        let k = user_key(account, user);
        transact(&*self.engine, |tx| tx.delete(Table::UseridLoginhistory, &k))?;
        Ok(Written::new((), self.engine.clone()))
    }
}

/// Records an attempt inside a transaction that writes other things too (its audit entry).
pub fn record_in(tx: &dyn Tx, account: &Id, user: &Id, attempt: &LoginAttempt) -> StoreResult<()> {
    let k = user_key(account, user);
    let mut all: Vec<LoginAttempt> = match tx.get(Table::UseridLoginhistory, &k)? {
        Some(raw) => decode(&raw)?,
        None => Vec::new(),
    };
    all.insert(0, attempt.clone());
    all.truncate(HISTORY_LEN);
    tx.put(Table::UseridLoginhistory, &k, &encode(&all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_five_attempts_are_kept_newest_first() {
        super::super::on_every_engine(LoginHistory::new, |store| {
            let (a, u) = (Id::new(), Id::new());
            for date in 0..7 {
                let attempt = LoginAttempt {
                    date,
                    ip_address: "127.0.0.1".into(),
                    success: date % 2 == 0,
                    user_agent: "t".into(),
                };
                drop(store.record(&a, &u, attempt).unwrap());
            }
            let dates: Vec<i64> = store.get(&a, &u).unwrap().iter().map(|x| x.date).collect();
            assert_eq!(dates, [6, 5, 4, 3, 2]);
            assert!(store.get(&Id::new(), &u).unwrap().is_empty());
            drop(store.forget(&a, &u).unwrap());
            assert!(store.get(&a, &u).unwrap().is_empty());
        });
    }
}
