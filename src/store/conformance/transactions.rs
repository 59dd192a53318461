//! Writes of several entities composed into one transaction (`Store::transact`).

use super::*;
use crate::store::groups::{self, Subjects};
use crate::store::users;
use crate::store::StoreError;

#[test]
fn composed_writes_all_land_or_none_do() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = done(s.users.create(user(a, "t@example.com"), None)).unwrap();
        let none = Subjects::default();
        let g = done(s.groups.create(group(a, "first"), &none)).unwrap();
        let _ = done(s.groups.create(group(a, "taken"), &none)).unwrap();

        // The second write fails: the first is undone with it.
        let failed = s.transact(|tx| {
            users::update_in(tx, &a, &u.id, &|r| {
                r.full_name = Some("changed".into());
                Ok(())
            })?;
            groups::rename_in(tx, &a, &g.id, "taken")
        });
        assert!(matches!(failed, Err(StoreError::Conflict(_))));
        let kept = s.users.get(&a, &u.id).unwrap().unwrap();
        assert_eq!((kept.full_name, kept.etag), (None, 1));
        assert_eq!(s.groups.get(&a, &g.id).unwrap().unwrap().name, "first");

        // Both succeed together.
        let both = s.transact(|tx| {
            let changed = users::update_in(tx, &a, &u.id, &|r| {
                r.full_name = Some("changed".into());
                Ok(())
            })?;
            let members = Subjects {
                users: vec![*u.id],
                apikeys: vec![],
            };
            let group =
                groups::change_members_in(tx, &a, &g.id, &members, true, groups::Keep::Anything)?;
            Ok((changed.etag, group.user_count))
        });
        assert_eq!(done(both).unwrap(), (2, 1));
        let after = s.users.get(&a, &u.id).unwrap().unwrap();
        assert_eq!(after.groups, vec![*g.id]);
        assert_eq!(after.full_name.as_deref(), Some("changed"));
    });
}

#[test]
fn a_failure_inside_a_transaction_leaves_no_record_index_or_count() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = user(a, "ghost@example.com");
        let failed: StoreResult<Written<()>> = s.transact(|tx| {
            users::create_in(tx, &u, None)?;
            Err(StoreError::Invalid("x", "refused after the insert".into()))
        });
        assert!(matches!(failed, Err(StoreError::Invalid("x", _))));
        assert!(s.users.get(&a, &u.id).unwrap().is_none());
        assert!(s.users.by_email(&a, &u.email).unwrap().is_none());
        assert_eq!(s.users.list(&a, &all(), &[]).unwrap().total, Some(0));
        done(s.users.create(u, None)).expect("the email was never taken");
    });
}
