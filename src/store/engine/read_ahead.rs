//! Reading ahead: the keys a piece of work will `get` one by one, fetched at once.
//!
//! On PostgreSQL every [`Engine::get`] is a round trip, and a request's reads are spread over
//! the auth extractor, the stores and the views (an API key, its account and owner; each
//! listed user's last login and login history). [`with_read_ahead`] lets a caller that
//! knows those keys in advance fetch them in one go ([`Engine::get_many`]): the `get`s that
//! `work` then makes on this thread are answered from what was fetched, each at most once,
//! so a key read again (or written, then read) goes to the database as before. A value read
//! ahead is what was committed when it was fetched, as a `get` of its own answers what was
//! committed when it ran: reads outside a transaction promise no more.
//!
//! `work` is synchronous, so no other request runs on the thread while the read-ahead is in
//! place (an actix worker switches requests only at an `.await`), and the fetched values are
//! dropped when it returns. Engines that answer from memory (sled, memory) fetch nothing.

use super::{Engine, Table};
use std::cell::RefCell;
use std::collections::HashMap;

/// What was read ahead on this thread: the engine it came from (its address), and the
/// value of each key (`None`: the key is absent).
struct Fetched {
    engine: usize,
    values: HashMap<(Table, Vec<u8>), Option<Vec<u8>>>,
}

thread_local! {
    static AHEAD: RefCell<Option<Fetched>> = const { RefCell::new(None) };
}

/// The address that tells engines apart in [`Fetched`].
pub fn engine_id<E: ?Sized>(engine: &E) -> usize {
    engine as *const E as *const () as usize
}

/// Runs `work` with `keys` read ahead from `engine` (see the module comment). A failed
/// fetch is no error here: `work`'s own reads then go to the database and report it.
///
/// `keys` is called only for an engine that reads ahead, so the others pay nothing.
pub fn with_read_ahead<R>(
    engine: &dyn Engine,
    keys: impl FnOnce() -> Vec<(Table, Vec<u8>)>,
    work: impl FnOnce() -> R,
) -> R {
    if !engine.reads_ahead() {
        return work();
    }
    let keys = keys();
    let values = match engine.get_many(&keys) {
        Ok(Some(values)) => values,
        _ => return work(),
    };
    let fetched = Fetched {
        engine: engine_id(engine),
        values: keys.into_iter().zip(values).collect(),
    };
    let previous = AHEAD.with(|a| a.replace(Some(fetched)));
    // Put back whatever an enclosing read-ahead had, also if `work` panics.
    struct Restore(Option<Option<Fetched>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                AHEAD.with(|a| *a.borrow_mut() = previous);
            }
        }
    }
    let _restore = Restore(Some(previous));
    work()
}

/// The value read ahead for `key` of `table` from the engine `engine` (see [`engine_id`]),
/// taken, so that a second read of the key asks the database again.
pub fn take(engine: usize, table: Table, key: &[u8]) -> Option<Option<Vec<u8>>> {
    AHEAD.with(|a| {
        let mut ahead = a.borrow_mut();
        let fetched = ahead.as_mut().filter(|f| f.engine == engine)?;
        fetched.values.remove(&(table, key.to_vec()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::engine::{transact, MemoryEngine};

    #[test]
    fn a_value_read_ahead_is_served_once_and_only_to_its_engine() {
        AHEAD.with(|a| {
            *a.borrow_mut() = Some(Fetched {
                engine: 1,
                values: [((Table::Meta, b"k".to_vec()), Some(b"v".to_vec()))].into(),
            })
        });
        assert_eq!(take(2, Table::Meta, b"k"), None);
        assert_eq!(take(1, Table::UseridUser, b"k"), None);
        assert_eq!(take(1, Table::Meta, b"k"), Some(Some(b"v".to_vec())));
        assert_eq!(take(1, Table::Meta, b"k"), None);
        AHEAD.with(|a| *a.borrow_mut() = None);
    }

    #[test]
    fn an_engine_that_reads_from_memory_reads_nothing_ahead() {
        let engine = MemoryEngine::new();
        transact(&engine, |tx| tx.put(Table::Meta, b"k", b"v")).unwrap();
        let keys = || vec![(Table::Meta, b"k".to_vec())];
        with_read_ahead(&engine, keys, || {
            assert_eq!(
                take(engine_id(&engine as &dyn Engine), Table::Meta, b"k"),
                None
            );
        });
    }
}
