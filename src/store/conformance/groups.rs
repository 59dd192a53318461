//! Groups: the name index, members and their counts, and membership under concurrency.

use super::*;
use crate::store::filter::Filter;
use crate::store::groups::{Keep, MemberKind, Subjects};
use crate::store::StoreError;
use std::sync::Arc;

fn subjects(users: &[&UserRecord], keys: &[&ApiKeyRecord]) -> Subjects {
    Subjects {
        users: users.iter().map(|u| *u.id).collect(),
        apikeys: keys.iter().map(|k| *k.id).collect(),
    }
}

#[test]
fn group_names_are_unique_per_account_and_a_rename_frees_the_old_one() {
    on_every_engine(|s| {
        let (a, b) = (AccountId::new(), AccountId::new());
        let none = Subjects::default();
        let g = done(s.groups.create(group(a, "ops"), &none)).unwrap();
        let taken = s.groups.create(group(a, "ops"), &none);
        assert!(matches!(taken, Err(StoreError::Conflict(_))));
        done(s.groups.create(group(b, "ops"), &none)).expect("another account");
        let other = done(s.groups.create(group(a, "dev"), &none)).unwrap();
        let refused = s.groups.rename(&a, &other.id, "ops");
        assert!(matches!(refused, Err(StoreError::Conflict(_))));
        assert_eq!(s.groups.get(&a, &other.id).unwrap().unwrap().name, "dev");

        let renamed = done(s.groups.rename(&a, &g.id, "operations")).unwrap();
        assert_eq!(renamed.etag, 2);
        assert_eq!(
            s.groups.by_name(&a, "operations").unwrap().map(|g| g.id),
            Some(g.id)
        );
        assert!(s.groups.by_name(&a, "ops").unwrap().is_none());
        done(s.groups.create(group(a, "ops"), &none)).expect("the old name is free");
        let listed = s
            .groups
            .list(&a, &all(), &[Filter::eq("name", "OPS")])
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(s.groups.list(&a, &all(), &[]).unwrap().total, Some(3));
    });
}

#[test]
fn a_group_created_with_an_unknown_member_leaves_nothing() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = done(s.users.create(user(a, "u@example.com"), None)).unwrap();
        let mut members = subjects(&[&u], &[]);
        members.apikeys.push(Id::new());
        let g = group(a, "half");
        let refused = s.groups.create(g.clone(), &members);
        assert!(matches!(refused, Err(StoreError::Invalid("apikeys", _))));
        assert!(s.groups.get(&a, &g.id).unwrap().is_none());
        assert!(s.groups.by_name(&a, "half").unwrap().is_none());
        assert_eq!(s.groups.list(&a, &all(), &[]).unwrap().total, Some(0));
        let kept = s.users.get(&a, &u.id).unwrap().unwrap();
        assert!(kept.groups.is_empty(), "the known member did not join");
        let ok = done(s.groups.create(g, &subjects(&[&u], &[]))).unwrap();
        assert_eq!(ok.user_count, 1);
    });
}

#[test]
fn members_page_in_creation_order_with_cursors_and_counts() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let users: Vec<UserRecord> = (0..5)
            .map(|i| done(s.users.create(user(a, &format!("m{i}@example.com")), None)).unwrap())
            .collect();
        let key = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let refs: Vec<&UserRecord> = users.iter().collect();
        let g = done(s.groups.create(group(a, "g"), &subjects(&refs, &[&key]))).unwrap();
        assert_eq!((g.user_count, g.apikey_count), (5, 1));
        let again = s
            .groups
            .add_members(&a, &g.id, &subjects(&[&users[0]], &[]));
        assert!(
            matches!(again, Err(StoreError::Conflict(_))),
            "already a member"
        );

        let want: Vec<Id> = users.iter().map(|u| *u.id).collect();
        let first = s
            .groups
            .members(&a, &g.id, MemberKind::User, &page(2, None, Order::Asc));
        let first = first.unwrap();
        assert_eq!(first.items, want[..2]);
        assert!(first.has_more);
        assert_eq!(first.total, Some(5));
        let cursor = page(10, Some(want[1]), Order::Asc);
        let next = s
            .groups
            .members(&a, &g.id, MemberKind::User, &cursor)
            .unwrap();
        assert_eq!(next.items, want[2..]);
        let back = page(10, Some(want[2]), Order::Desc);
        let back = s
            .groups
            .members(&a, &g.id, MemberKind::User, &back)
            .unwrap();
        assert_eq!(back.items, vec![want[1], want[0]]);
        let keys = s
            .groups
            .members(&a, &g.id, MemberKind::ApiKey, &all())
            .unwrap();
        assert_eq!((keys.items, keys.total), (vec![*key.id], Some(1)));
    });
}

#[test]
fn a_removal_keeps_what_the_group_must_keep_or_changes_nothing() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = done(s.users.create(user(a, "last@example.com"), None)).unwrap();
        let k = done(s.apikeys.create(apikey(a, None, &[]))).unwrap();
        let g = done(s.groups.create(group(a, "admins"), &subjects(&[&u], &[&k]))).unwrap();
        let last_user = s
            .groups
            .remove_members(&a, &g.id, &subjects(&[&u], &[]), Keep::AUser);
        assert!(matches!(last_user, Err(StoreError::Invalid("users", _))));
        let everyone = s
            .groups
            .remove_members(&a, &g.id, &subjects(&[&u], &[&k]), Keep::AMember);
        assert!(matches!(everyone, Err(StoreError::Invalid("users", _))));
        let kept = s.groups.get(&a, &g.id).unwrap().unwrap();
        assert_eq!((kept.user_count, kept.apikey_count), (1, 1));
        assert_eq!(s.users.get(&a, &u.id).unwrap().unwrap().groups, vec![*g.id]);

        let protected = s
            .apikeys
            .change_groups(&a, &k.id, &[], &[*g.id], Some(*g.id));
        done(protected).expect("a user is left");
        let last = s.users.change_groups(&a, &u.id, &[], &[*g.id], Some(*g.id));
        assert!(matches!(last, Err(StoreError::Invalid("groups", _))));
        let emptied = s
            .groups
            .remove_members(&a, &g.id, &subjects(&[&u], &[]), Keep::Anything);
        assert_eq!(done(emptied).unwrap().user_count, 0);
    });
}

#[test]
fn a_deleted_group_leaves_its_members_records() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = done(s.users.create(user(a, "member@example.com"), None)).unwrap();
        let k = done(s.apikeys.create(apikey(a, Some(u.id), &[]))).unwrap();
        let g = done(s.groups.create(group(a, "doomed"), &subjects(&[&u], &[&k]))).unwrap();
        let stays = done(s.groups.create(group(a, "stays"), &subjects(&[&u], &[]))).unwrap();
        done(s.groups.delete(&a, &g.id)).unwrap();
        assert!(s.groups.get(&a, &g.id).unwrap().is_none());
        assert!(s.groups.by_name(&a, "doomed").unwrap().is_none());
        assert_eq!(
            s.users.get(&a, &u.id).unwrap().unwrap().groups,
            vec![*stays.id]
        );
        assert!(s.apikeys.get(&a, &k.id).unwrap().unwrap().groups.is_empty());
        let left = s
            .groups
            .members(&a, &g.id, MemberKind::User, &all())
            .unwrap();
        assert!(left.items.is_empty(), "no membership entry is left behind");
        assert!(matches!(
            done(s.groups.delete(&a, &g.id)),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(s.groups.list(&a, &all(), &[]).unwrap().total, Some(1));
    });
}

/// Threads add and remove members of two groups at once, through the group and through the
/// member; afterwards each group's counts equal its members, and every member's record agrees.
#[test]
fn concurrent_membership_changes_leave_counts_equal_to_members() {
    for subject in each_engine() {
        eprintln!("-- on the {} engine", subject.name);
        let s = Arc::new(subject.store.clone());
        let a = AccountId::new();
        let none = Subjects::default();
        let groups: Vec<Id> = (0..2)
            .map(|i| {
                *done(s.groups.create(group(a, &format!("g{i}")), &none))
                    .unwrap()
                    .id
            })
            .collect();
        let users: Vec<Id> = (0..8)
            .map(|i| {
                *done(s.users.create(user(a, &format!("c{i}@example.com")), None))
                    .unwrap()
                    .id
            })
            .collect();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (s, groups, users) = (s.clone(), groups.clone(), users.clone());
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let g = groups[(t + round) % 2];
                        let u = users[(t * 3 + round) % users.len()];
                        let them = Subjects {
                            users: vec![u],
                            apikeys: vec![],
                        };
                        // Refusals (already a member) are part of the race; counts must hold.
                        let _ = match (round + t) % 3 {
                            0 => s.groups.add_members(&a, &g, &them).map(drop),
                            1 => s
                                .groups
                                .remove_members(&a, &g, &them, Keep::Anything)
                                .map(drop),
                            _ => s.users.change_groups(&a, &u, &[g], &[], None).map(drop),
                        };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        for g in &groups {
            let rec = s.groups.get(&a, g).unwrap().unwrap();
            let members = s.groups.members(&a, g, MemberKind::User, &all()).unwrap();
            let holding: Vec<Id> = users
                .iter()
                .filter(|u| s.users.get(&a, u).unwrap().unwrap().groups.contains(g))
                .copied()
                .collect();
            assert_eq!(
                rec.user_count as usize,
                members.items.len(),
                "{}",
                subject.name
            );
            let mut listed = members.items.clone();
            listed.sort();
            let mut expected = holding.clone();
            expected.sort();
            assert_eq!(
                listed, expected,
                "{}: index and records agree",
                subject.name
            );
        }
    }
}
