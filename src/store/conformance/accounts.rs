//! Accounts: provisioning, the root, the alias index and sub-tenant pages.

use super::*;
use crate::store::accounts::{AccountRecord, NewAccount};
use crate::store::filter::Filter;
use crate::store::groups::MemberKind;
use crate::store::StoreError;

/// A new account (of `parent`) with its two groups, admin user and admin key.
fn new_account(parent: Option<AccountId>, aliases: &[&str]) -> NewAccount {
    let mut account = AccountRecord::new(parent);
    account.aliases = aliases.iter().map(|a| a.to_string()).collect();
    let id = account.id;
    let groups = vec![
        GroupRecord::new(account.admin_group, id, "Administrators"),
        GroupRecord::new(account.developers_group, id, "Developers"),
    ];
    let admin = user(id, "admin@example.com");
    let admin_key = apikey(id, Some(admin.id), &[]);
    NewAccount {
        account,
        groups,
        admin,
        admin_key,
    }
}

#[test]
fn the_root_is_made_once_with_its_groups_admin_and_key() {
    on_every_engine(|s| {
        assert!(s.root_account().unwrap().is_none());
        let new = new_account(None, &[]);
        let (id, admin, key) = (new.account.id, new.admin.id, new.admin_key.id);
        let admin_group = new.account.admin_group;
        done(s.accounts.provision(new, true)).unwrap();
        assert_eq!(s.root_account().unwrap(), Some(*id));
        let again = s.accounts.provision(new_account(None, &[]), true);
        assert!(matches!(again, Err(StoreError::Conflict(_))));

        let group = s.groups.get(&id, &admin_group).unwrap().unwrap();
        assert_eq!((group.user_count, group.apikey_count), (1, 1));
        assert_eq!(
            s.users.get(&id, &admin).unwrap().unwrap().groups,
            vec![*admin_group]
        );
        let keys = s
            .groups
            .members(&id, &admin_group, MemberKind::ApiKey, &all())
            .unwrap();
        assert_eq!(keys.items, vec![*key]);
        assert_eq!(s.groups.list(&id, &all(), &[]).unwrap().total, Some(2));
        assert_eq!(s.users.list(&id, &all(), &[]).unwrap().total, Some(1));
        assert!(s.accounts.get_shared(&id).unwrap().is_some());
    });
}

#[test]
fn aliases_are_unique_across_accounts_and_a_refusal_changes_nothing() {
    on_every_engine(|s| {
        let first = new_account(None, &["acme"]);
        let first_id = first.account.id;
        done(s.accounts.provision(first, false)).unwrap();
        let clash = new_account(None, &["acme"]);
        let clash_id = clash.account.id;
        assert!(matches!(
            s.accounts.provision(clash, false),
            Err(StoreError::Conflict(_))
        ));
        assert!(
            s.accounts.get(&clash_id).unwrap().is_none(),
            "nothing of it is kept"
        );
        assert!(s
            .users
            .list(&clash_id, &all(), &[])
            .unwrap()
            .items
            .is_empty());

        let second = new_account(None, &["globex"]);
        let second_id = second.account.id;
        done(s.accounts.provision(second, false)).unwrap();
        let refused = s.accounts.update(&second_id, &|a| {
            a.aliases = vec!["globex".into(), "acme".into()];
            a.company = Some("half".into());
            Ok(())
        });
        assert!(matches!(refused, Err(StoreError::Conflict(_))));
        let kept = s.accounts.get(&second_id).unwrap().unwrap();
        assert_eq!((kept.company, kept.etag), (None, 1));

        // Giving an alias up frees it.
        done(s.accounts.update(&first_id, &|a| {
            a.aliases.clear();
            Ok(())
        }))
        .unwrap();
        let took = s.accounts.update(&second_id, &|a| {
            a.aliases.push("acme".into());
            Ok(())
        });
        assert_eq!(done(took).unwrap().aliases, vec!["globex", "acme"]);
    });
}

#[test]
fn sub_tenants_page_in_creation_order_with_filters_and_counts() {
    on_every_engine(|s| {
        let root = new_account(None, &[]);
        let parent = root.account.id;
        done(s.accounts.provision(root, true)).unwrap();
        let children: Vec<Id> = (0..4)
            .map(|i| {
                let mut new = new_account(Some(parent), &[]);
                new.account.country = Some(if i % 2 == 0 { "Finland" } else { "France" }.into());
                let id = *new.account.id;
                done(s.accounts.provision(new, false)).unwrap();
                id
            })
            .collect();
        let first = s
            .accounts
            .children(&parent, &page(3, None, Order::Asc), &[])
            .unwrap();
        assert_eq!(ids(&first, |a| *a.id), children[..3]);
        assert!(first.has_more);
        assert_eq!(first.total, Some(4));
        let back = page(5, Some(children[2]), Order::Desc);
        let back = s.accounts.children(&parent, &back, &[]).unwrap();
        assert_eq!(ids(&back, |a| *a.id), vec![children[1], children[0]]);
        let like = Filter {
            field: "country",
            op: crate::store::filter::Op::Like,
            values: vec!["fin".into()],
        };
        let finns = s.accounts.children(&parent, &all(), &[like]).unwrap();
        assert_eq!(ids(&finns, |a| *a.id), vec![children[0], children[2]]);
        assert_eq!(finns.total, Some(2));
        let leaf = s.accounts.children(&children[0], &all(), &[]).unwrap();
        assert_eq!(leaf.total, Some(0));
    });
}
