//! Users: records, the email and username indexes, pages, filters, counts, deletes.

use super::*;
use crate::store::filter::{Filter, Op};
use crate::store::groups::{MemberKind, Subjects};
use crate::store::StoreError;

#[test]
fn a_user_is_found_by_id_and_by_email_in_its_own_account_only() {
    on_every_engine(|s| {
        let (a, b) = (AccountId::new(), AccountId::new());
        let u = done(s.users.create(user(a, "Mixed@Example.com"), None)).unwrap();
        assert_eq!(s.users.get(&a, &u.id).unwrap().unwrap().email, u.email);
        assert_eq!(s.users.get_shared(&a, &u.id).unwrap().unwrap().id, u.id);
        let found = s.users.by_email(&a, "mixed@EXAMPLE.com").unwrap();
        assert_eq!(
            found.map(|f| f.id),
            Some(u.id),
            "emails match whatever their case"
        );
        assert!(
            s.users.get(&b, &u.id).unwrap().is_none(),
            "tenant key space"
        );
        assert!(s.users.by_email(&b, &u.email).unwrap().is_none());
        assert!(matches!(
            done(s.users.delete(&b, &u.id, None)),
            Err(StoreError::NotFound(_))
        ));
    });
}

#[test]
fn emails_and_usernames_are_unique_per_account_whatever_their_case() {
    on_every_engine(|s| {
        let (a, b) = (AccountId::new(), AccountId::new());
        let mut first = user(a, "one@example.com");
        first.username = Some("Ann".into());
        let first = done(s.users.create(first, None)).unwrap();
        let taken = s.users.create(user(a, "ONE@example.com"), None);
        assert!(matches!(taken, Err(StoreError::Conflict(m)) if m.contains("email")));
        let mut same_name = user(a, "two@example.com");
        same_name.username = Some("ann".into());
        let taken = s.users.create(same_name, None);
        assert!(matches!(taken, Err(StoreError::Conflict(m)) if m.contains("username")));
        let listed = s.users.list(&a, &all(), &[]).unwrap();
        assert_eq!(listed.total, Some(1), "refused creates count nothing");
        // Another account has its own key space.
        let _ = done(s.users.create(user(b, "one@example.com"), None)).unwrap();

        // An update to a taken email is refused and changes nothing.
        let second = done(s.users.create(user(a, "two@example.com"), None)).unwrap();
        let refused = s.users.update(&a, &second.id, &|u| {
            u.full_name = Some("half".into());
            u.email = "One@Example.com".into();
            Ok(())
        });
        assert!(matches!(refused, Err(StoreError::Conflict(_))));
        let kept = s.users.get(&a, &second.id).unwrap().unwrap();
        assert_eq!((kept.full_name, kept.etag), (None, 1));

        // A changed email and username free the old ones.
        let moved = s.users.update(&a, &first.id, &|u| {
            u.email = "moved@example.com".into();
            u.username = Some("Bob".into());
            Ok(())
        });
        assert_eq!(done(moved).unwrap().etag, 2);
        assert_eq!(
            s.users
                .by_email(&a, "moved@example.com")
                .unwrap()
                .map(|u| u.id),
            Some(first.id)
        );
        assert!(s.users.by_email(&a, "one@example.com").unwrap().is_none());
        let mut reuse = user(a, "one@example.com");
        reuse.username = Some("ANN".into());
        done(s.users.create(reuse, None)).unwrap();
    });
}

#[test]
fn pages_follow_creation_order_with_cursors_filters_and_counts() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let made: Vec<UserRecord> = (0..6)
            .map(|i| {
                let mut u = user(a, &format!("u{i}@example.com"));
                if i % 2 == 1 {
                    u.status = UserStatus::Inactive;
                }
                done(s.users.create(u, None)).unwrap()
            })
            .collect();
        let id_of = |u: &UserRecord| *u.id;
        let want = |range: &[usize]| range.iter().map(|i| *made[*i].id).collect::<Vec<_>>();

        let first = s.users.list(&a, &page(2, None, Order::Asc), &[]).unwrap();
        assert_eq!(ids(&first, id_of), want(&[0, 1]));
        assert!(first.has_more);
        assert_eq!(first.total, Some(6));
        let next = s
            .users
            .list(&a, &page(2, Some(*made[1].id), Order::Asc), &[]);
        assert_eq!(ids(&next.unwrap(), id_of), want(&[2, 3]));
        let back = s
            .users
            .list(&a, &page(10, Some(*made[3].id), Order::Desc), &[]);
        let back = back.unwrap();
        assert_eq!(ids(&back, id_of), want(&[2, 1, 0]));
        assert!(!back.has_more);

        let inactive = [Filter::eq("status", "INACTIVE")];
        let filtered = s
            .users
            .list(&a, &page(2, None, Order::Asc), &inactive)
            .unwrap();
        assert_eq!(ids(&filtered, id_of), want(&[1, 3]));
        assert_eq!(filtered.total, Some(3), "the total counts every match");
        let after = page(2, Some(*made[3].id), Order::Asc);
        let rest = s.users.list(&a, &after, &inactive).unwrap();
        assert_eq!(ids(&rest, id_of), want(&[5]));
        assert_eq!(rest.total, Some(3), "from a cursor too");
        let some = Filter {
            field: "email",
            op: Op::In,
            values: vec!["u0@example.com".into(), "u4@example.com".into()],
        };
        let picked = s.users.list(&a, &all(), &[some]).unwrap();
        assert_eq!(ids(&picked, id_of), want(&[0, 4]));

        done(s.users.delete(&a, &made[0].id, None)).unwrap();
        assert_eq!(s.users.list(&a, &all(), &[]).unwrap().total, Some(5));
    });
}

#[test]
fn a_deleted_user_takes_its_keys_memberships_and_index_entries_along() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let mut u = user(a, "gone@example.com");
        u.username = Some("gone".into());
        let u = done(s.users.create(u, None)).unwrap();
        let g = done(s.groups.create(group(a, "g"), &Subjects::default())).unwrap();
        let k = apikey(a, Some(u.id), &[*g.id]);
        let k = done(s.apikeys.create(k)).unwrap();
        done(s.users.change_groups(&a, &u.id, &[*g.id], &[], None)).unwrap();
        let before = s.groups.get(&a, &g.id).unwrap().unwrap();
        assert_eq!((before.user_count, before.apikey_count), (1, 1));

        done(s.users.delete(&a, &u.id, None)).unwrap();
        assert!(s.users.get(&a, &u.id).unwrap().is_none());
        assert!(
            s.apikeys.get(&a, &k.id).unwrap().is_none(),
            "its keys go too"
        );
        assert!(s.apikeys.by_digest(&k.key_digest).unwrap().is_none());
        let after = s.groups.get(&a, &g.id).unwrap().unwrap();
        assert_eq!((after.user_count, after.apikey_count), (0, 0));
        let members = s
            .groups
            .members(&a, &g.id, MemberKind::User, &all())
            .unwrap();
        assert!(members.items.is_empty());
        assert_eq!(s.apikeys.list(&a, &all(), &[]).unwrap().total, Some(0));
        assert_eq!(s.users.list(&a, &all(), &[]).unwrap().total, Some(0));
        let mut again = user(a, "GONE@example.com");
        again.username = Some("Gone".into());
        done(s.users.create(again, None)).expect("email and username are free again");
    });
}

#[test]
fn the_last_admin_cannot_be_deleted_and_the_refusal_changes_nothing() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let u = done(s.users.create(user(a, "admin@example.com"), None)).unwrap();
        let admins = done(s.groups.create(
            group(a, "Administrators"),
            &Subjects {
                users: vec![*u.id],
                apikeys: vec![],
            },
        ))
        .unwrap();
        let refused = s.users.delete(&a, &u.id, Some(*admins.id));
        assert!(matches!(refused, Err(StoreError::Invalid("user_id", _))));
        assert!(s.users.get(&a, &u.id).unwrap().is_some());
        assert_eq!(s.groups.get(&a, &admins.id).unwrap().unwrap().user_count, 1);
    });
}
