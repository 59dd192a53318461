//! Group memberships: what users, API keys and groups share, in one module that imports none
//! of them (so `users`, `apikeys` and `groups` depend on it, never on each other in a circle).
//!
//! A member's record (user or API key) holds the list of its groups: that list is the truth,
//! read and written inside the same transaction as the group's counters and the
//! `groupid_memberid` index, so counts always equal members. The group record lives here
//! because its counters are part of every membership change.

use super::engine::{read_in, Table, Tx};
use super::filter::Filterable;
use super::keys::{key, owned};
use super::{encode, StoreError, StoreResult};
use crate::ids::{AccountId, GroupId, Id};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRecord {
    pub id: GroupId,
    pub account_id: AccountId,
    pub name: String,
    pub user_count: u32,
    pub apikey_count: u32,
    pub created_at: i64,
    pub updated_at: i64,
    pub etag: u64,
}

impl GroupRecord {
    /// A new, empty group `id` of the account.
    pub fn new(id: GroupId, account_id: AccountId, name: &str) -> GroupRecord {
        let now = crate::clock::now_millis();
        GroupRecord {
            id,
            account_id,
            name: name.to_string(),
            user_count: 0,
            apikey_count: 0,
            created_at: now,
            updated_at: now,
            etag: 1,
        }
    }
}

impl Filterable for GroupRecord {
    fn field_values(&self, field: &str) -> Vec<String> {
        match field {
            "id" => vec![self.id.hex()],
            "name" => vec![self.name.clone()],
            _ => Vec::new(),
        }
    }
}

/// The kind of a group member. Its byte is part of the `groupid_memberid` key layout, so
/// that the members of one kind are one range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    User,
    ApiKey,
}

pub const KIND_USER: MemberKind = MemberKind::User;
pub const KIND_APIKEY: MemberKind = MemberKind::ApiKey;

impl MemberKind {
    /// The byte in the key layout (unchanged since the first release).
    pub fn byte(self) -> u8 {
        match self {
            MemberKind::User => b'u',
            MemberKind::ApiKey => b'k',
        }
    }
}

/// `groupid_memberid` key: `account ++ group ++ kind byte ++ member`.
pub fn member_key(account: &Id, group: &Id, kind: MemberKind, member: &Id) -> Vec<u8> {
    key(&[
        account.as_bytes(),
        group.as_bytes(),
        &[kind.byte()],
        member.as_bytes(),
    ])
}

/// The `groupid_memberid` prefix of a group's members of one kind.
pub fn members_prefix(account: &Id, group: &Id, kind: MemberKind) -> Vec<u8> {
    key(&[account.as_bytes(), group.as_bytes(), &[kind.byte()]])
}

/// The refusal of a change that would take the last member out of a protected group.
pub const LAST_MEMBER: &str = "The last member of this group cannot be removed.";
/// The refusal of a removal that would leave a protected group without users.
pub const LAST_USER: &str = "The last user of this group cannot be removed.";
/// The refusal of deleting the Administrators group's last member (a user or an API key).
pub const LAST_ADMIN_DELETED: &str =
    "The last member of the Administrators group cannot be deleted.";

/// A record that holds its own group list: users and API keys.
pub trait Member: Serialize + serde::de::DeserializeOwned {
    const KIND: MemberKind;
    /// The name in "not found" and "does not exist" errors (`User`, `API key`).
    const NAME: &'static str;
    /// The request field naming members of this kind (`users`, `apikeys`).
    const FIELD: &'static str;
    /// The table of the records (keys `account ++ id`).
    const TABLE: Table;
    fn groups_mut(&mut self) -> &mut Vec<Id>;
}

/// A group that must keep at least one member, and the 400 (field, message) that refuses
/// a change emptying it.
#[derive(Clone, Copy)]
pub struct Protected<'m> {
    pub group: Id,
    pub field: &'static str,
    pub message: &'m str,
}

/// Refuses (400 on `field`) a change that left `rec` without members.
pub fn refuse_if_empty(rec: &GroupRecord, field: &'static str, message: &str) -> StoreResult<()> {
    if rec.user_count + rec.apikey_count == 0 {
        return Err(StoreError::Invalid(field, message.to_string()));
    }
    Ok(())
}

/// The group record, read inside a transaction.
pub fn group_in(tx: &dyn Tx, account: &Id, group: &Id) -> StoreResult<Option<GroupRecord>> {
    read_in(tx, Table::GroupidGroup, &owned(account, group))
}

/// Puts `member` into `group`, updating its group list. Unknown group: 400 on `groups`.
pub fn add_in(
    tx: &dyn Tx,
    account: &Id,
    group: &Id,
    kind: MemberKind,
    member: &Id,
    member_groups: &mut Vec<Id>,
) -> StoreResult<()> {
    let Some(mut rec) = group_in(tx, account, group)? else {
        return Err(StoreError::Invalid(
            "groups",
            format!("Group {group} does not exist."),
        ));
    };
    if member_groups.contains(group) {
        return Err(StoreError::Conflict(format!(
            "{member} is already a member of group {group}."
        )));
    }
    member_groups.push(*group);
    match kind {
        MemberKind::User => rec.user_count += 1,
        MemberKind::ApiKey => rec.apikey_count += 1,
    }
    tx.put(Table::GroupidGroup, &owned(account, group), &encode(&rec))?;
    tx.put(
        Table::GroupidMemberid,
        &member_key(account, group, kind, member),
        &[],
    )
}

/// Takes `member` out of `group` if it is in it; returns the group's record after.
pub fn remove_in(
    tx: &dyn Tx,
    account: &Id,
    group: &Id,
    kind: MemberKind,
    member: &Id,
    member_groups: &mut Vec<Id>,
) -> StoreResult<Option<GroupRecord>> {
    let Some(pos) = member_groups.iter().position(|g| g == group) else {
        return Ok(None);
    };
    member_groups.remove(pos);
    let Some(mut rec) = group_in(tx, account, group)? else {
        return Ok(None);
    };
    match kind {
        MemberKind::User => rec.user_count = rec.user_count.saturating_sub(1),
        MemberKind::ApiKey => rec.apikey_count = rec.apikey_count.saturating_sub(1),
    }
    tx.put(Table::GroupidGroup, &owned(account, group), &encode(&rec))?;
    tx.delete(
        Table::GroupidMemberid,
        &member_key(account, group, kind, member),
    )?;
    Ok(Some(rec))
}

/// `remove_in`, refusing to take the last member out of the `protected` group.
pub fn remove_guarded_in(
    tx: &dyn Tx,
    account: &Id,
    group: &Id,
    kind: MemberKind,
    member: &Id,
    member_groups: &mut Vec<Id>,
    protected: Option<Protected>,
) -> StoreResult<()> {
    let after = remove_in(tx, account, group, kind, member, member_groups)?;
    if let (Some(rec), Some(p)) = (after, protected) {
        if *rec.id == p.group {
            refuse_if_empty(&rec, p.field, p.message)?;
        }
    }
    Ok(())
}

/// Takes `member` out of every group it is in (before it is deleted).
pub fn leave_all_in(
    tx: &dyn Tx,
    account: &Id,
    kind: MemberKind,
    member: &Id,
    member_groups: &mut Vec<Id>,
    protected: Option<Protected>,
) -> StoreResult<()> {
    for group in member_groups.clone() {
        remove_guarded_in(tx, account, &group, kind, member, member_groups, protected)?;
    }
    Ok(())
}

/// Adds member `id` to the groups `add` and takes it out of `remove`, inside `tx`.
/// `protected` is a group that must keep a member (400 on `groups`).
pub fn change_groups_in<M: Member>(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    add: &[Id],
    remove: &[Id],
    protected: Option<Id>,
) -> StoreResult<M> {
    let guard = protected.map(|group| Protected {
        group,
        field: "groups",
        message: LAST_MEMBER,
    });
    let k = owned(account, id);
    let Some(mut m) = read_in::<M>(tx, M::TABLE, &k)? else {
        return Err(StoreError::NotFound(M::NAME));
    };
    for group in add {
        add_in(tx, account, group, M::KIND, id, m.groups_mut())?;
    }
    for group in remove {
        remove_guarded_in(tx, account, group, M::KIND, id, m.groups_mut(), guard)?;
    }
    tx.put(M::TABLE, &k, &encode(&m))?;
    Ok(m)
}

/// Puts `member` into `group`, or takes it out, inside `tx`. An unknown member is a 400 on
/// `M::FIELD` when `strict`, and skipped otherwise.
pub fn change_member_in<M: Member>(
    tx: &dyn Tx,
    account: &Id,
    group: &Id,
    member: &Id,
    add: bool,
    strict: bool,
) -> StoreResult<()> {
    let k = owned(account, member);
    let Some(mut m) = read_in::<M>(tx, M::TABLE, &k)? else {
        if strict {
            return Err(StoreError::Invalid(
                M::FIELD,
                format!("{} {member} does not exist.", M::NAME),
            ));
        }
        return Ok(());
    };
    if add {
        add_in(tx, account, group, M::KIND, member, m.groups_mut())?;
    } else {
        remove_in(tx, account, group, M::KIND, member, m.groups_mut())?;
    }
    tx.put(M::TABLE, &k, &encode(&m))
}
