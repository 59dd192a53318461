//! Every record decodes, sits under the key its ids make, and implies its index entries and
//! counts (part of `verify`: `Pass` collects what these find).

use super::{hex, Pass};
use crate::ids::Id;
use crate::store::accounts::AccountRecord;
use crate::store::apikeys::ApiKeyRecord;
use crate::store::branding::{ColorRecord, ImageRecord};
use crate::store::certificates::{DeveloperKeyRecord, ServerCaRecord, TrustedCertRecord};
use crate::store::identity_providers::IdentityProviderRecord;
use crate::store::invitations::InvitationRecord;
use crate::store::keys::{key, owned, owned_text};
use crate::store::memberships::{member_key, GroupRecord, MemberKind, KIND_APIKEY, KIND_USER};
use crate::store::notifications::NotificationRecord;
use crate::store::users::{email_key, UserRecord};
use std::collections::BTreeMap;

pub(super) fn accounts(p: &mut Pass) {
    let t = p.t;
    p.records(
        &t.accountid_account,
        "accounts",
        |p, k, a: AccountRecord| {
            if k != a.id.as_bytes() {
                p.report
                    .problem(format!("accounts: record {} is under another key", hex(k)));
            }
            *p.report.records.entry("accounts").or_default() += 1;
            if let Some(parent) = &a.parent_id {
                p.expect(
                    "parentid_accountid",
                    key(&[parent.as_bytes(), a.id.as_bytes()]),
                    &[],
                );
            }
            for alias in &a.aliases {
                p.expect(
                    "alias_accountid",
                    alias.as_bytes().to_vec(),
                    a.id.as_bytes(),
                );
            }
        },
    );
    match t.meta.get(b"root_account") {
        Ok(Some(root)) if t.accountid_account.get(&root).ok().flatten().is_none() => p
            .report
            .problem("meta: the root account has no record".into()),
        Err(e) => p.report.problem(format!("meta: {e}")),
        _ => {}
    }
}

pub(super) fn users_and_keys(p: &mut Pass) {
    let t = p.t;
    p.records(&t.userid_user, "users", |p, k, u: UserRecord| {
        if !p.owned_key("users", k, &u.account_id, &u.id) {
            return;
        }
        p.count(*u.account_id, "users");
        p.expect(
            "email_userid",
            email_key(&u.account_id, &u.email),
            u.id.as_bytes(),
        );
        if let Some(name) = &u.username {
            let k = owned_text(&u.account_id, &name.to_lowercase());
            p.expect("username_userid", k, u.id.as_bytes());
        }
        for g in &u.groups {
            member(p, &u.account_id, g, KIND_USER, &u.id);
        }
    });
    p.records(&t.apikeyid_apikey, "apikeys", |p, k, a: ApiKeyRecord| {
        if !p.owned_key("apikeys", k, &a.account_id, &a.id) {
            return;
        }
        p.count(*a.account_id, "apikeys");
        let location = owned(&a.account_id, &a.id);
        p.expect("keyhash_apikeyid", a.key_digest.clone(), &location);
        if let Some(owner) = &a.owner {
            let k = key(&[a.account_id.as_bytes(), owner.as_bytes(), a.id.as_bytes()]);
            p.expect("ownerid_apikeyid", k, &[]);
        }
        for g in &a.groups {
            member(p, &a.account_id, g, KIND_APIKEY, &a.id);
        }
    });
}

fn member(p: &mut Pass, account: &Id, group: &Id, kind: MemberKind, id: &Id) {
    *p.members
        .entry((*account, *group, kind.byte()))
        .or_default() += 1;
    let k = member_key(account, group, kind, id);
    p.expect("groupid_memberid", k, &[]);
}

pub(super) fn groups(p: &mut Pass) {
    let t = p.t;
    let mut counts = Vec::new();
    p.records(&t.groupid_group, "groups", |p, k, g: GroupRecord| {
        if !p.owned_key("groups", k, &g.account_id, &g.id) {
            return;
        }
        p.count(*g.account_id, "groups");
        p.expect(
            "groupname_groupid",
            owned_text(&g.account_id, &g.name),
            g.id.as_bytes(),
        );
        counts.push(g);
    });
    if p.expected.is_none() {
        return;
    }
    for g in counts {
        for (kind, stored) in [(KIND_USER, g.user_count), (KIND_APIKEY, g.apikey_count)] {
            let members = p
                .members
                .get(&(*g.account_id, *g.id, kind.byte()))
                .copied()
                .unwrap_or(0);
            if members != stored {
                p.report.problem(format!(
                    "groups: group {} counts {stored} members of kind '{}', its members say \
                     {members}",
                    g.id,
                    kind.byte() as char
                ));
            }
        }
    }
}

pub(super) fn the_rest(p: &mut Pass) {
    let t = p.t;
    p.records(
        &t.invitationid_invitation,
        "invitations",
        |p, k, i: InvitationRecord| {
            if p.owned_key("invitations", k, &i.account_id, &i.id) {
                *p.report.records.entry("invitations").or_default() += 1;
                let location = owned(&i.account_id, &i.id);
                p.expect("tokenhash_invitationid", i.token_digest.clone(), &location);
            }
        },
    );
    p.records(
        &t.idpid_idp,
        "identity_providers",
        |p, k, i: IdentityProviderRecord| {
            if p.owned_key("identity_providers", k, &i.account_id, &i.id) {
                p.count(*i.account_id, "identity_providers");
            }
        },
    );
    p.records(
        &t.notificationid_notification,
        "notifications",
        |p, k, n: NotificationRecord| {
            if p.owned_key("notifications", k, &n.account_id, &n.id) {
                p.count(*n.account_id, "notifications");
            }
        },
    );
    p.records(
        &t.audit_entry,
        "audit",
        |p, k, e: crate::store::audit::AuditRecord| {
            if p.owned_key("audit", k, &e.account_id, &e.id) {
                p.count(*e.account_id, "audit");
            }
        },
    );
    p.records(
        &t.caname_serverca,
        "server CAs",
        |_, _, _: ServerCaRecord| {},
    );
    p.records(
        &t.certid_cert,
        "trusted_certificates",
        |p, k, c: TrustedCertRecord| {
            if !p.owned_key("trusted_certificates", k, &c.account_id, &c.id) {
                return;
            }
            p.count(*c.account_id, "trusted_certificates");
            let id = c.id.as_bytes();
            p.expect("certname_certid", owned_text(&c.account_id, &c.name), id);
            p.expect(
                "certsubject_certid",
                owned_text(&c.account_id, &c.subject),
                id,
            );
        },
    );
    p.records(
        &t.certid_devkey,
        "developer_certificates",
        |p, k, _: DeveloperKeyRecord| match Id::from_slice(&k[..k.len().min(16)]) {
            Some(account) if k.len() == 32 => p.count(account, "developer_certificates"),
            _ => p
                .report
                .problem(format!("developer_certificates: bad key {}", hex(k))),
        },
    );
    p.records(
        &t.brandingcolor_color,
        "branding colors",
        |_, _, _: ColorRecord| {},
    );
    let mut references: BTreeMap<String, u64> = BTreeMap::new();
    p.records(
        &t.brandingimage_image,
        "branding images",
        |_, _, i: ImageRecord| {
            *references.entry(i.name).or_default() += 1;
        },
    );
    for (name, n) in references {
        p.expect(
            "imagename_refcount",
            name.as_bytes().to_vec(),
            &n.to_be_bytes(),
        );
        if p.expected.is_some() && !matches!(t.imagename_blob.get(&name), Ok(Some(_))) {
            p.report
                .problem(format!("imagename_blob: the image {name} has no bytes"));
        }
    }
}
