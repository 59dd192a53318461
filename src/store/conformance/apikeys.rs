//! API keys: the digest and owner indexes, owners, secrets, filters.

use super::*;
use crate::store::filter::Filter;
use crate::store::StoreError;

#[test]
fn a_key_is_found_by_its_digest_in_any_account_and_digests_are_unique() {
    on_every_engine(|s| {
        let (a, b) = (AccountId::new(), AccountId::new());
        let k = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let found = s.apikeys.by_digest(&k.key_digest).unwrap().unwrap();
        assert_eq!((found.id, found.account_id), (k.id, a));
        assert!(
            s.apikeys.get(&b, &k.id).unwrap().is_none(),
            "tenant key space"
        );
        let mut twin = apikey(b, None, &[]);
        twin.key_digest = k.key_digest.clone();
        assert!(matches!(
            s.apikeys.create(twin),
            Err(StoreError::Conflict(_))
        ));
        let other = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let clash = s.apikeys.reset_secret(&a, &other.id, &k.key_digest);
        assert!(matches!(clash, Err(StoreError::Conflict(_))));
        let kept = s.apikeys.by_digest(&other.key_digest).unwrap().unwrap();
        assert_eq!(kept.id, other.id, "a refused reset changes nothing");
        assert_eq!(s.apikeys.list(&a, &all(), &[]).unwrap().total, Some(2));
    });
}

#[test]
fn a_reset_secret_retires_the_old_digest_at_once() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let k = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let fresh = vec![9u8; 32];
        let reset = done(s.apikeys.reset_secret(&a, &k.id, &fresh)).unwrap();
        assert_eq!((reset.etag, reset.key_digest.clone()), (2, fresh.clone()));
        assert!(s.apikeys.by_digest(&k.key_digest).unwrap().is_none());
        assert_eq!(s.apikeys.by_digest(&fresh).unwrap().unwrap().id, k.id);
        // `update` keeps the digest and groups whatever `change` does.
        let updated = s.apikeys.update(&a, &k.id, &|r| {
            r.name = "renamed".into();
            r.key_digest = vec![1; 32];
            r.groups.push(Id::new());
            Ok(())
        });
        let updated = done(updated).unwrap();
        assert_eq!((updated.name.as_str(), updated.etag), ("renamed", 3));
        assert_eq!(updated.key_digest, fresh);
        assert!(updated.groups.is_empty());
    });
}

#[test]
fn a_key_owner_must_be_a_user_of_the_account_and_owners_filter_the_list() {
    on_every_engine(|s| {
        let (a, b) = (AccountId::new(), AccountId::new());
        let u = done(s.users.create(user(a, "owner@example.com"), None)).unwrap();
        let stranger = done(s.users.create(user(b, "owner@example.com"), None)).unwrap();
        let refused = s.apikeys.create(apikey(a, Some(stranger.id), &[]));
        assert!(matches!(refused, Err(StoreError::Invalid("owner", _))));
        assert_eq!(s.apikeys.list(&a, &all(), &[]).unwrap().total, Some(0));

        let owned = done(s.apikeys.create(apikey(a, Some(u.id), &[]))).unwrap();
        let _ = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let by_owner = [Filter::eq("owner", &u.id.hex())];
        let listed = s.apikeys.list(&a, &all(), &by_owner).unwrap();
        assert_eq!(ids(&listed, |k| *k.id), vec![*owned.id]);
        assert_eq!(listed.total, Some(1));

        let moved = s.apikeys.update(&a, &owned.id, &|k| {
            k.owner = Some(stranger.id);
            Ok(())
        });
        assert!(matches!(moved, Err(StoreError::Invalid("owner", _))));
        assert_eq!(
            s.apikeys.get(&a, &owned.id).unwrap().unwrap().owner,
            Some(u.id)
        );
        // The owner index follows: deleting the user deletes the key it owns.
        done(s.users.delete(&a, &u.id, None)).unwrap();
        assert!(s.apikeys.get(&a, &owned.id).unwrap().is_none());
        assert_eq!(s.apikeys.list(&a, &all(), &[]).unwrap().total, Some(1));
    });
}

#[test]
fn a_key_created_in_an_unknown_group_is_not_created() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let k = apikey(a, None, &[Id::new()]);
        assert!(matches!(
            s.apikeys.create(k.clone()),
            Err(StoreError::Invalid("groups", _))
        ));
        assert!(s.apikeys.get(&a, &k.id).unwrap().is_none());
        assert!(s.apikeys.by_digest(&k.key_digest).unwrap().is_none());
        assert_eq!(s.apikeys.list(&a, &all(), &[]).unwrap().total, Some(0));
    });
}

/// Keys are created for an owner from several threads while the owner is deleted: whichever
/// commits first, no key is left without its owner, and the counts agree with the keys.
/// (A delete watches the keys its user owns, `Tx::watch_prefix`; without that, a create that
/// read the owner before the delete could commit after it and after the delete's sweep of
/// late keys.)
#[test]
fn keys_created_while_their_owner_is_deleted_never_outlive_it() {
    for subject in each_engine() {
        eprintln!("-- on the {} engine", subject.name);
        let s = std::sync::Arc::new(subject.store.clone());
        let a = AccountId::new();
        for round in 0..20 {
            let owner = done(
                s.users
                    .create(user(a, &format!("o{round}@example.com")), None),
            )
            .unwrap()
            .id;
            let creators: Vec<_> = (0..4)
                .map(|_| {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        for _ in 0..4 {
                            match s.apikeys.create(apikey(a, Some(owner), &[])) {
                                Ok(_) | Err(StoreError::Invalid("owner", _)) => {}
                                Err(e) => panic!("{e:?}"),
                            }
                        }
                    })
                })
                .collect();
            done(s.users.delete(&a, &owner, None)).unwrap();
            for t in creators {
                t.join().unwrap();
            }
            let by_owner = [Filter::eq("owner", &owner.hex())];
            let left = s.apikeys.list(&a, &all(), &by_owner).unwrap();
            assert_eq!(left.items.len(), 0, "{} round {round}", subject.name);
            let every = s.apikeys.list(&a, &all(), &[]).unwrap();
            assert_eq!(every.total, Some(every.items.len() as u64));
            assert_eq!(every.items.len(), 0, "{} round {round}", subject.name);
        }
    }
}
