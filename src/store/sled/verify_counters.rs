//! The counters of `account_counts` against the records they count (part of `verify`).

use super::{hex, Pass, Writes};
use crate::ids::Id;
use crate::store::keys::owned_text;
use crate::store::sled::TreeSet;
use std::collections::BTreeMap;

/// Every counter equals the records it counts.
pub(super) fn counters(p: &mut Pass) {
    let mut stored: BTreeMap<(Id, String), u64> = BTreeMap::new();
    for item in p.t.account_counts.iter() {
        let Ok((k, v)) = item else { return };
        let account = Id::from_slice(&k[..k.len().min(16)]);
        let value = <[u8; 8]>::try_from(v.as_ref()).map(u64::from_be_bytes);
        match (account, value) {
            (Some(account), Ok(n)) if k.len() > 16 => {
                let entity = String::from_utf8_lossy(&k[16..]).into_owned();
                stored.insert((account, entity), n);
            }
            _ => p
                .report
                .problem(format!("account_counts: bad entry {}", hex(&k))),
        }
    }
    let counted = std::mem::take(&mut p.counted);
    for ((account, entity), n) in &counted {
        let s = stored.remove(&(*account, entity.to_string())).unwrap_or(0);
        if s != *n
            && p.live
                .is_none_or(|w| counter_disagrees(p.t, w, account, entity))
        {
            p.report.problem(format!(
                "account_counts: account {account} counts {s} {entity}, it has {n}"
            ));
        }
    }
    for ((account, entity), s) in stored {
        if s != 0
            && p.live
                .is_none_or(|w| counter_disagrees(p.t, w, &account, &entity))
        {
            p.report.problem(format!(
                "account_counts: account {account} counts {s} {entity}, it has none"
            ));
        }
    }
}

/// The tree of the records an `account_counts` entity counts.
fn counted_tree<'t>(t: &'t TreeSet, entity: &str) -> Option<&'t ::sled::Tree> {
    Some(match entity {
        "users" => &t.userid_user,
        "apikeys" => &t.apikeyid_apikey,
        "groups" => &t.groupid_group,
        "identity_providers" => &t.idpid_idp,
        "notifications" => &t.notificationid_notification,
        "trusted_certificates" => &t.certid_cert,
        "developer_certificates" => &t.certid_devkey,
        "audit" => &t.audit_entry,
        _ => return None,
    })
}

/// Whether `account`'s `entity` counter disagrees with its records, both read while no
/// transaction ran (`writes` the same before and after, nothing in flight). When writes
/// never pause long enough, nothing is claimed: false (`iamd verify` checks a stopped
/// server's directory).
fn counter_disagrees(t: &TreeSet, writes: Writes<'_>, account: &Id, entity: &str) -> bool {
    let Some(tree) = counted_tree(t, entity) else {
        return true;
    };
    let counter = owned_text(account, entity);
    for _ in 0..100 {
        let Some(before) = writes() else {
            return false;
        };
        let stored = t.account_counts.get(&counter).map(|raw| {
            raw.map_or(0, |v| {
                <[u8; 8]>::try_from(v.as_ref()).map_or(u64::MAX, u64::from_be_bytes)
            })
        });
        let records = tree.scan_prefix(account.as_bytes()).keys().count() as u64;
        if before.0 == before.1 && writes() == Some(before) {
            return stored.is_ok_and(|stored| stored != records);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}
