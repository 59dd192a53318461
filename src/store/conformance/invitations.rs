//! Invitations (token index, expiry, per-user deletes) and the notification log.

use super::*;
use crate::ids::{InvitationId, NotificationId};
use crate::store::filter::Filter;
use crate::store::invitations::InvitationRecord;
use crate::store::notifications::NotificationRecord;
use crate::store::StoreError;

fn invitation(account: AccountId, user: UserId, digest: u8, expires_at: i64) -> InvitationRecord {
    InvitationRecord {
        id: InvitationId::new(),
        account_id: account,
        email: "invited@example.com".into(),
        user_id: user,
        created_user: false,
        groups: Vec::new(),
        login_profiles: Vec::new(),
        token_digest: vec![digest; 32],
        created_at: 0,
        updated_at: 0,
        expires_at,
        etag: 1,
    }
}

fn email(account: AccountId, to: &str) -> NotificationRecord {
    NotificationRecord {
        id: NotificationId::new(),
        account_id: account,
        receiver: to.into(),
        subject: "Welcome".into(),
        message: "Hello".into(),
        success: true,
        error_msg: None,
        kind: "email".into(),
        created_at: 0,
    }
}

#[test]
fn tokens_are_unique_found_by_digest_and_expired_invitations_vanish() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let (now, user) = (1_000_000, UserId::new());
        let live = done(
            s.invitations
                .create(invitation(a, user, 1, now + 1000), None),
        )
        .unwrap();
        let soon = invitation(a, user, 2, now + 10);
        done(s.invitations.create(soon.clone(), None)).unwrap();
        let twin = invitation(a, UserId::new(), 1, now + 1000);
        assert!(matches!(
            s.invitations.create(twin, None),
            Err(StoreError::Conflict(_))
        ));
        let found = s.invitations.by_token_digest(&[1; 32], now).unwrap();
        assert_eq!(found.map(|i| i.id), Some(live.id));
        let listed = s.invitations.list(&a, &all(), now, &[]).unwrap();
        assert_eq!(listed.total, Some(2));
        let later = s.invitations.list(&a, &all(), now + 10, &[]).unwrap();
        assert_eq!(
            (ids(&later, |i| *i.id), later.total),
            (vec![*live.id], Some(1))
        );
        assert!(s.invitations.get(&a, &soon.id, now + 10).unwrap().is_none());
        let by_user = [Filter::eq("user_id", &user.hex())];
        assert_eq!(
            s.invitations.list(&a, &all(), now, &by_user).unwrap().total,
            Some(2)
        );

        done(s.invitations.delete(&a, &live.id)).unwrap();
        assert!(s
            .invitations
            .by_token_digest(&[1; 32], now)
            .unwrap()
            .is_none());
        assert!(matches!(
            done(s.invitations.delete(&a, &live.id)),
            Err(StoreError::NotFound(_))
        ));
    });
}

#[test]
fn a_users_invitations_go_together_expired_ones_included() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let (now, user, other) = (1_000_000, UserId::new(), UserId::new());
        for (digest, expires) in [(1, now + 1000), (2, now - 1)] {
            done(
                s.invitations
                    .create(invitation(a, user, digest, expires), None),
            )
            .unwrap();
        }
        let theirs = done(
            s.invitations
                .create(invitation(a, other, 3, now + 1000), None),
        );
        let theirs = theirs.unwrap();
        assert_eq!(done(s.invitations.delete_for_user(&a, &user)).unwrap(), 2);
        assert!(s
            .invitations
            .by_token_digest(&[2; 32], now - 10)
            .unwrap()
            .is_none());
        let left = s.invitations.list(&a, &all(), now, &[]).unwrap();
        assert_eq!(ids(&left, |i| *i.id), vec![*theirs.id]);
        assert_eq!(done(s.invitations.delete_for_user(&a, &user)).unwrap(), 0);
    });
}

#[test]
fn an_email_is_logged_with_the_write_that_sent_it_or_not_at_all() {
    on_every_engine(|s| {
        let a = AccountId::new();
        let welcome = email(a, "new@example.com");
        done(s.users.create(user(a, "new@example.com"), Some(&welcome))).unwrap();
        let refused = s
            .users
            .create(user(a, "NEW@example.com"), Some(&email(a, "x")));
        assert!(matches!(refused, Err(StoreError::Conflict(_))));
        let log = s.notifications.list(&a, &all()).unwrap();
        assert_eq!(
            (ids(&log, |n| *n.id), log.total),
            (vec![*welcome.id], Some(1))
        );

        let invite = email(a, "invited@example.com");
        let inv = invitation(a, UserId::new(), 7, i64::MAX);
        done(s.invitations.create(inv, Some(&invite))).unwrap();
        done(s.notifications.record(email(a, "plain@example.com"))).unwrap();
        done(s.notifications.mark_failed(&a, &invite.id, "queue full")).unwrap();
        let log = s
            .notifications
            .list(&a, &page(2, None, Order::Desc))
            .unwrap();
        assert_eq!(log.total, Some(3));
        assert!(log.has_more);
        let failed = log.items.iter().find(|n| n.id == invite.id).unwrap();
        assert_eq!(
            (failed.success, failed.error_msg.as_deref()),
            (false, Some("queue full"))
        );
    });
}
