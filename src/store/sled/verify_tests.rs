//! Tests of `verify`: each broken rule is named; an unreadable record stops the open.

use super::*;
use crate::ids::{AccountId, ApiKeyId, GroupId};
use crate::status::{ApiKeyStatus, UserStatus};
use crate::store::apikeys::ApiKeyRecord;
use crate::store::groups::Subjects;
use crate::store::keys::{key, owned_text};
use crate::store::memberships::{GroupRecord, KIND_USER};
use crate::store::users::{email_key, UserRecord};
use crate::store::{Store, StoreError};

/// A store with one user, one key it owns and one group holding both.
fn sample(dir: &std::path::Path) -> (Store, UserRecord, Id) {
    let store = Store::open(dir).unwrap();
    let account = AccountId::new();
    let mut user = UserRecord::new(account, "Someone@Example.com".into(), UserStatus::Active);
    user.username = Some("someone".into());
    let _ = store.users.create(user.clone(), None).unwrap();
    let now = crate::clock::now_millis();
    let key = ApiKeyRecord {
        id: ApiKeyId::new(),
        account_id: account,
        name: "key".into(),
        owner: Some(user.id),
        status: ApiKeyStatus::Active,
        key_digest: vec![7; 32],
        groups: Vec::new(),
        created_at: now,
        updated_at: now,
        etag: 1,
    };
    let _ = store.apikeys.create(key.clone()).unwrap();
    let members = Subjects {
        users: vec![*user.id],
        apikeys: vec![*key.id],
    };
    let group = GroupRecord::new(GroupId::new(), account, "group");
    let _ = store.groups.create(group.clone(), &members).unwrap();
    (store, user, *group.id)
}

fn problems(store: &Store, depth: Depth) -> Vec<String> {
    check(&store.db().unwrap(), depth).problems
}

#[test]
fn every_broken_rule_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, group) = sample(dir.path());
    let t = store.db().unwrap();
    let report = check(&t, Depth::Indexes);
    assert_eq!(report.problems, Vec::<String>::new());
    assert_eq!(report.records["users"], 1);
    assert_eq!(report.records["apikeys"], 1);

    let email = email_key(&user.account_id, &user.email);
    t.email_userid.remove(&email).unwrap();
    let found = problems(&store, Depth::Indexes);
    assert!(found[0].starts_with("email_userid: entry"), "{found:?}");
    assert!(found[0].ends_with("is missing"), "{found:?}");
    assert!(
        problems(&store, Depth::Records).is_empty(),
        "indexes: verify only"
    );
    t.email_userid.insert(&email, Id::new().as_bytes()).unwrap();
    let found = problems(&store, Depth::Indexes);
    assert!(found[0].ends_with("points elsewhere"), "{found:?}");
    t.email_userid.insert(&email, user.id.as_bytes()).unwrap();

    let membership = key(&[
        user.account_id.as_bytes(),
        group.as_bytes(),
        &[KIND_USER.byte()],
        user.id.as_bytes(),
    ]);
    assert!(t.groupid_memberid.remove(&membership).unwrap().is_some());
    assert_eq!(problems(&store, Depth::Indexes).len(), 1);
    t.groupid_memberid.insert(&membership, &[]).unwrap();

    let counter = owned_text(&user.account_id, "users");
    t.account_counts
        .insert(&counter, &5u64.to_be_bytes())
        .unwrap();
    let found = problems(&store, Depth::Records);
    assert!(found[0].contains("counts 5 users, it has 1"), "{found:?}");
    t.account_counts
        .insert(&counter, &1u64.to_be_bytes())
        .unwrap();

    let k = owned(&user.account_id, &user.id);
    let good = t
        .userid_user
        .insert(&k, &b"\x01garbage"[..])
        .unwrap()
        .unwrap();
    let found = problems(&store, Depth::Records);
    assert!(found[0].starts_with("users: record"), "{found:?}");
    t.userid_user.insert(&k, good).unwrap();
    assert!(problems(&store, Depth::Indexes).is_empty());
}

/// Opens `dir` again once the store that had it open let it go.
fn reopen(dir: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(e) if e.to_string().contains("lock") && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => panic!("the store opens: {e}"),
        }
    }
}

/// The start does not wait for the full scan: the store opens without reading every record,
/// and the scan a server starts once it serves takes it out of service when a record does
/// not decode.
#[test]
fn a_record_that_does_not_decode_takes_the_store_out_of_service_after_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, _) = sample(dir.path());
    let t = store.db().unwrap();
    let k = owned(&user.account_id, &user.id);
    t.userid_user.insert(&k, &b"\x01\xff\xff"[..]).unwrap();
    drop(t);
    // What a restore runs before it reports success.
    let found = store.check_records();
    let Err(StoreError::Damaged { detail, .. }) = &found else {
        panic!("{found:?}");
    };
    assert!(detail.starts_with("users: record"), "{detail}");
    store.flush().unwrap();
    drop(store);
    let store = reopen(dir.path());
    assert!(store.writable(0).is_ok(), "the open itself reads no record");
    store.scan_in_background();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let why = loop {
        match store.writable(0) {
            Err(why) => break why,
            Ok(()) if std::time::Instant::now() < deadline => std::thread::yield_now(),
            Ok(()) => panic!("the damaged store stayed in service"),
        }
    };
    assert!(why.contains("users: record"), "{why}");
    assert!(why.contains("iamd restore"), "{why}");
    let refused = store.users.get(&user.account_id, &user.id);
    let Err(StoreError::Unavailable(message)) = refused else {
        panic!("{refused:?}");
    };
    assert!(message.contains("damaged"), "{message}");
}

/// The background scan runs while the server writes: records and counters read a moment
/// apart must not pass for damage.
#[test]
fn writes_during_the_scan_are_not_taken_for_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (store, user, _) = sample(dir.path());
    let account = user.account_id;
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..300 {
                let u = UserRecord::new(account, format!("w{i}@example.com"), UserStatus::Active);
                let id = u.id;
                drop(store.users.create(u, None).unwrap());
                if i % 2 == 0 {
                    drop(store.users.delete(&account, &id, None).unwrap());
                }
            }
        })
    };
    let open = store.db().unwrap();
    let trees = store.sled.as_ref().unwrap().trees().clone();
    let writes = || Some(trees.writes());
    while !writer.is_finished() {
        let report = check_live(&open, &writes);
        assert_eq!(report.problems, Vec::<String>::new());
    }
    writer.join().unwrap();
    assert!(check_live(&open, &writes).problems.is_empty());
    assert!(store.writable(0).is_ok());
}
