//! Policy groups and their memberships.
//!
//! A member's record (user or API key) holds the list of its groups: that list is the truth,
//! read and written inside the same transaction as the group's counters and the
//! `groupid_memberid` index, so counts always equal members.

use super::apikeys::ApiKeyRecord;
use super::keys::{key, owned, owned_text, tail_id};
use super::page::{counts, owned_records, scan, Page, PageRequest};
use super::users::UserRecord;
use super::{abort, decode, encode, Commit, StoreError, StoreResult, TreeSet, Trees, TxResult};
use crate::ids::{AccountId, GroupId, Id};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

pub const KIND_USER: u8 = b'u';
pub const KIND_APIKEY: u8 = b'k';
const ENTITY: &str = "groups";

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

/// Users and API keys named in one membership request.
#[derive(Debug, Clone, Default)]
pub struct Subjects {
    pub users: Vec<Id>,
    pub apikeys: Vec<Id>,
}

pub trait GroupStore: Send + Sync {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<GroupRecord>>;
    fn by_name(&self, account: &Id, name: &str) -> StoreResult<Option<GroupRecord>>;
    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&GroupRecord) -> bool>,
    ) -> StoreResult<Page<GroupRecord>>;
    /// Creates the group with `members` (409 on a taken name, 400 on unknown members).
    fn create(
        &self,
        group: GroupRecord,
        members: &Subjects,
    ) -> StoreResult<super::durability::Written<GroupRecord>>;
    fn rename(
        &self,
        account: &Id,
        id: &Id,
        name: &str,
    ) -> StoreResult<super::durability::Written<GroupRecord>>;
    /// Deletes the group and every membership in it.
    fn delete(&self, account: &Id, id: &Id) -> StoreResult<super::durability::Written<()>>;
    /// Adds members; one already in the group is a conflict and nothing changes.
    fn add_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
    ) -> StoreResult<super::durability::Written<GroupRecord>>;
    /// Removes members, refusing (400) to leave the group with less than `keep`.
    fn remove_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
        keep: Keep,
    ) -> StoreResult<super::durability::Written<GroupRecord>>;
    /// Member ids of one kind, in the order they were created.
    fn members(&self, account: &Id, id: &Id, kind: u8, page: &PageRequest)
        -> StoreResult<Page<Id>>;
}

pub struct SledGroups {
    t: Trees,
    commit: Commit,
}

impl SledGroups {
    pub fn new(t: Trees, commit: Commit) -> SledGroups {
        SledGroups { t, commit }
    }
}

/// The refusal of a change that would take the last member out of a protected group.
pub const LAST_MEMBER: &str = "The last member of this group cannot be removed.";
/// What a removal of members must leave in the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: the group may end up empty.
    Anything,
    /// At least one member, a user or an API key.
    AMember,
    /// A member, and a user if it had one (the document, for a tenant's Administrators:
    /// "the last user to remove from Administrators group" is a 400).
    AUser,
}

/// The refusal of a removal that would leave a protected group without users.
pub const LAST_USER: &str = "The last user of this group cannot be removed.";
/// The refusal of deleting the Administrators group's last member (a user or an API key).
pub const LAST_ADMIN_DELETED: &str =
    "The last member of the Administrators group cannot be deleted.";

/// A record that holds its own group list: users and API keys.
pub trait Member: Serialize + serde::de::DeserializeOwned {
    /// `KIND_USER` or `KIND_APIKEY`.
    const KIND: u8;
    /// The name in "not found" and "does not exist" errors (`User`, `API key`).
    const NAME: &'static str;
    /// The request field naming members of this kind (`users`, `apikeys`).
    const FIELD: &'static str;
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
fn refuse_if_empty(rec: &GroupRecord, field: &'static str, message: &str) -> TxResult<()> {
    if rec.user_count + rec.apikey_count == 0 {
        return abort(StoreError::Invalid(field, message.to_string()));
    }
    Ok(())
}

/// The transactional trees a membership change touches.
pub struct MemberTx<'a> {
    pub groups: &'a TransactionalTree,
    pub g2m: &'a TransactionalTree,
}

impl MemberTx<'_> {
    fn group(&self, account: &Id, group: &Id) -> TxResult<Option<GroupRecord>> {
        match self.groups.get(owned(account, group))? {
            Some(raw) => Ok(Some(
                decode(&raw).map_err(ConflictableTransactionError::Abort)?,
            )),
            None => Ok(None),
        }
    }

    /// Puts `member` into `group`, updating its group list. Unknown group: 400 on `field`.
    pub fn add(
        &self,
        account: &Id,
        group: &Id,
        kind: u8,
        member: &Id,
        member_groups: &mut Vec<Id>,
    ) -> TxResult<()> {
        let Some(mut rec) = self.group(account, group)? else {
            return abort(StoreError::Invalid(
                "groups",
                format!("Group {group} does not exist."),
            ));
        };
        if member_groups.contains(group) {
            return abort(StoreError::Conflict(format!(
                "{member} is already a member of group {group}."
            )));
        }
        member_groups.push(*group);
        match kind {
            KIND_USER => rec.user_count += 1,
            _ => rec.apikey_count += 1,
        }
        self.groups.insert(owned(account, group), encode(&rec))?;
        self.g2m.insert(
            key(&[
                account.as_bytes(),
                group.as_bytes(),
                &[kind],
                member.as_bytes(),
            ]),
            &[],
        )?;
        Ok(())
    }

    /// Takes `member` out of `group` if it is in it; returns the group's record after.
    pub fn remove(
        &self,
        account: &Id,
        group: &Id,
        kind: u8,
        member: &Id,
        member_groups: &mut Vec<Id>,
    ) -> TxResult<Option<GroupRecord>> {
        let Some(pos) = member_groups.iter().position(|g| g == group) else {
            return Ok(None);
        };
        member_groups.remove(pos);
        let Some(mut rec) = self.group(account, group)? else {
            return Ok(None);
        };
        match kind {
            KIND_USER => rec.user_count = rec.user_count.saturating_sub(1),
            _ => rec.apikey_count = rec.apikey_count.saturating_sub(1),
        }
        self.groups.insert(owned(account, group), encode(&rec))?;
        self.g2m.remove(key(&[
            account.as_bytes(),
            group.as_bytes(),
            &[kind],
            member.as_bytes(),
        ]))?;
        Ok(Some(rec))
    }

    /// `remove`, refusing to take the last member out of the `protected` group.
    pub fn remove_guarded(
        &self,
        account: &Id,
        group: &Id,
        kind: u8,
        member: &Id,
        member_groups: &mut Vec<Id>,
        protected: Option<Protected>,
    ) -> TxResult<()> {
        let after = self.remove(account, group, kind, member, member_groups)?;
        if let (Some(rec), Some(p)) = (after, protected) {
            if *rec.id == p.group {
                refuse_if_empty(&rec, p.field, p.message)?;
            }
        }
        Ok(())
    }

    /// Takes `member` out of every group it is in (before it is deleted).
    pub fn leave_all(
        &self,
        account: &Id,
        kind: u8,
        member: &Id,
        member_groups: &mut Vec<Id>,
        protected: Option<Protected>,
    ) -> TxResult<()> {
        for group in member_groups.clone() {
            self.remove_guarded(account, &group, kind, member, member_groups, protected)?;
        }
        Ok(())
    }
}

/// Adds member `id` (a record in `records`) to the groups `add` and takes it out of
/// `remove`, in one transaction. `protected` is a group that must keep a member.
pub(super) fn change_groups<M: Member>(
    t: &TreeSet,
    records: &sled::Tree,
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
    let stored = (records, &t.groupid_group, &t.groupid_memberid).transaction(
        |(records, groups, g2m)| {
            let k = owned(account, id);
            let Some(mut m) = tx_get::<M>(records, &k)? else {
                return abort(StoreError::NotFound(M::NAME));
            };
            let mtx = MemberTx { groups, g2m };
            for group in add {
                mtx.add(account, group, M::KIND, id, m.groups_mut())?;
            }
            for group in remove {
                mtx.remove_guarded(account, group, M::KIND, id, m.groups_mut(), guard)?;
            }
            records.insert(k, encode(&m))?;
            Ok(m)
        },
    )?;
    Ok(stored)
}

/// Puts `member` (a record in `records`) into `group`, or takes it out. An unknown member
/// is a 400 on `M::FIELD` when `strict`, and skipped otherwise.
fn change_member<M: Member>(
    mtx: &MemberTx,
    records: &TransactionalTree,
    account: &Id,
    group: &Id,
    member: &Id,
    add: bool,
    strict: bool,
) -> TxResult<()> {
    let k = owned(account, member);
    let Some(mut m) = tx_get::<M>(records, &k)? else {
        if strict {
            return abort(StoreError::Invalid(
                M::FIELD,
                format!("{} {member} does not exist.", M::NAME),
            ));
        }
        return Ok(());
    };
    if add {
        mtx.add(account, group, M::KIND, member, m.groups_mut())?;
    } else {
        mtx.remove(account, group, M::KIND, member, m.groups_mut())?;
    }
    records.insert(k, encode(&m))?;
    Ok(())
}

/// Reads a member record (user or API key) inside a transaction.
fn tx_get<T: serde::de::DeserializeOwned>(
    tree: &TransactionalTree,
    k: &[u8],
) -> TxResult<Option<T>> {
    match tree.get(k)? {
        Some(raw) => Ok(Some(
            decode(&raw).map_err(ConflictableTransactionError::Abort)?,
        )),
        None => Ok(None),
    }
}

impl SledGroups {
    /// Applies `change` to every subject: `add` or remove them from group `id`.
    fn change_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
        add: bool,
        keep: Keep,
    ) -> StoreResult<GroupRecord> {
        let t = &self.t.get()?;
        let rec = (
            &t.groupid_group,
            &t.groupid_memberid,
            &t.userid_user,
            &t.apikeyid_apikey,
        )
            .transaction(|(groups, g2m, users, keys)| {
                let mtx = MemberTx { groups, g2m };
                let Some(before) = mtx.group(account, id)? else {
                    return abort(StoreError::NotFound("Group"));
                };
                for user in &members.users {
                    change_member::<UserRecord>(&mtx, users, account, id, user, add, true)?;
                }
                for apikey in &members.apikeys {
                    change_member::<ApiKeyRecord>(&mtx, keys, account, id, apikey, add, true)?;
                }
                let after = mtx.group(account, id)?.expect("checked above");
                if keep == Keep::AUser && before.user_count > 0 && after.user_count == 0 {
                    return abort(StoreError::Invalid("users", LAST_USER.to_string()));
                }
                if keep != Keep::Anything {
                    let field = if members.users.is_empty() {
                        "apikeys"
                    } else {
                        "users"
                    };
                    refuse_if_empty(&after, field, LAST_MEMBER)?;
                }
                Ok(after)
            })?;
        Ok(rec)
    }
}

impl GroupStore for SledGroups {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<GroupRecord>> {
        super::codec::read(&self.t.get()?.groupid_group, owned(account, id))
    }

    fn by_name(&self, account: &Id, name: &str) -> StoreResult<Option<GroupRecord>> {
        match self
            .t
            .get()?
            .groupname_groupid
            .get(owned_text(account, name))?
        {
            Some(raw) => match Id::from_slice(&raw) {
                Some(id) => self.get(account, &id),
                None => Err(StoreError::Backend("bad group name index entry".into())),
            },
            None => Ok(None),
        }
    }

    fn list(
        &self,
        account: &Id,
        page: &PageRequest,
        keep: Option<&dyn Fn(&GroupRecord) -> bool>,
    ) -> StoreResult<Page<GroupRecord>> {
        owned_records(
            &self.t.get()?.groupid_group,
            &self.t.get()?.account_counts,
            account,
            ENTITY,
            page,
            keep,
        )
    }

    fn create(
        &self,
        group: GroupRecord,
        members: &Subjects,
    ) -> StoreResult<super::durability::Written<GroupRecord>> {
        let t = &self.t.get()?;
        let account = group.account_id;
        (&t.groupid_group, &t.groupname_groupid, &t.account_counts).transaction(
            |(groups, names, counts_tx)| {
                let name_key = owned_text(&account, &group.name);
                if names.get(&name_key)?.is_some() {
                    return abort(StoreError::Conflict(format!(
                        "A group named '{}' already exists.",
                        group.name
                    )));
                }
                names.insert(name_key, group.id.as_bytes())?;
                groups.insert(owned(&account, &group.id), encode(&group))?;
                counts::add(counts_tx, &account, ENTITY, 1)?;
                Ok(())
            },
        )?;
        if members.users.is_empty() && members.apikeys.is_empty() {
            return Ok(self.commit.written(group));
        }
        match self.change_members(&account, &group.id, members, true, Keep::Anything) {
            Ok(rec) => Ok(self.commit.written(rec)),
            Err(e) => {
                // Unknown members: undo the creation so a failed request changes nothing.
                let _ = self.delete(&account, &group.id);
                Err(e)
            }
        }
    }

    fn rename(
        &self,
        account: &Id,
        id: &Id,
        name: &str,
    ) -> StoreResult<super::durability::Written<GroupRecord>> {
        let t = &self.t.get()?;
        let rec = (&t.groupid_group, &t.groupname_groupid).transaction(|(groups, names)| {
            let Some(raw) = groups.get(owned(account, id))? else {
                return abort(StoreError::NotFound("Group"));
            };
            let mut rec: GroupRecord = decode(&raw).map_err(ConflictableTransactionError::Abort)?;
            if rec.name != name {
                let new_key = owned_text(account, name);
                if names.get(&new_key)?.is_some() {
                    return abort(StoreError::Conflict(format!(
                        "A group named '{name}' already exists."
                    )));
                }
                names.remove(owned_text(account, &rec.name))?;
                names.insert(new_key, id.as_bytes())?;
                rec.name = name.to_string();
                rec.etag += 1;
                rec.updated_at = crate::clock::now_millis();
                groups.insert(owned(account, id), encode(&rec))?;
            }
            Ok(rec)
        })?;
        Ok(self.commit.written(rec))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<super::durability::Written<()>> {
        // Members are listed outside the transaction (sled cannot scan inside one); the
        // transaction re-checks the group's counters and starts over if members changed.
        loop {
            let users = self
                .members(account, id, KIND_USER, &PageRequest::all())?
                .items;
            let keys = self
                .members(account, id, KIND_APIKEY, &PageRequest::all())?
                .items;
            let members = Subjects {
                users,
                apikeys: keys,
            };
            let t = &self.t.get()?;
            let outcome = (
                &t.groupid_group,
                &t.groupname_groupid,
                &t.groupid_memberid,
                &t.userid_user,
                &t.apikeyid_apikey,
                &t.account_counts,
            )
                .transaction(|(groups, names, g2m, users, keys, counts_tx)| {
                    let mtx = MemberTx { groups, g2m };
                    let Some(rec) = mtx.group(account, id)? else {
                        return abort(StoreError::NotFound("Group"));
                    };
                    if rec.user_count as usize != members.users.len()
                        || rec.apikey_count as usize != members.apikeys.len()
                    {
                        return Ok(false);
                    }
                    for user in &members.users {
                        change_member::<UserRecord>(&mtx, users, account, id, user, false, false)?;
                    }
                    for apikey in &members.apikeys {
                        change_member::<ApiKeyRecord>(
                            &mtx, keys, account, id, apikey, false, false,
                        )?;
                    }
                    groups.remove(owned(account, id))?;
                    names.remove(owned_text(account, &rec.name))?;
                    counts::add(counts_tx, account, ENTITY, -1)?;
                    Ok(true)
                })?;
            if outcome {
                return Ok(self.commit.written(()));
            }
        }
    }

    fn add_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
    ) -> StoreResult<super::durability::Written<GroupRecord>> {
        let rec = self.change_members(account, id, members, true, Keep::Anything)?;
        Ok(self.commit.written(rec))
    }

    fn remove_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
        keep: Keep,
    ) -> StoreResult<super::durability::Written<GroupRecord>> {
        let rec = self.change_members(account, id, members, false, keep)?;
        Ok(self.commit.written(rec))
    }

    fn members(
        &self,
        account: &Id,
        id: &Id,
        kind: u8,
        page: &PageRequest,
    ) -> StoreResult<Page<Id>> {
        let prefix = key(&[account.as_bytes(), id.as_bytes(), &[kind]]);
        let count = || -> StoreResult<u64> {
            Ok(self
                .get(account, id)?
                .map(|g| match kind {
                    KIND_USER => g.user_count as u64,
                    _ => g.apikey_count as u64,
                })
                .unwrap_or(0))
        };
        scan(
            &self.t.get()?.groupid_memberid,
            &prefix,
            page,
            false,
            |k, _| Ok(tail_id(k)),
            |_| true,
            count,
        )
    }
}
