//! Policy groups and their memberships (the membership rules shared with users and API keys
//! are in `memberships`).

use super::apikeys::ApiKeyRecord;
use super::durability::Written;
use super::engine::{read, transact, Engine, Table, Tx};
use super::filter::Filter;
use super::keys::{owned, owned_text, tail_id};
use super::memberships::{change_member_in, group_in, members_prefix, refuse_if_empty};
pub use super::memberships::{
    GroupRecord, MemberKind, KIND_APIKEY, KIND_USER, LAST_ADMIN_DELETED, LAST_MEMBER, LAST_USER,
};
use super::page::{counts, owned_records_in, scan, Page, PageRequest};
use super::users::UserRecord;
use super::{encode, StoreError, StoreResult};
use crate::ids::Id;
use std::sync::Arc;

pub const ENTITY: &str = "groups";

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
        filters: &[Filter],
    ) -> StoreResult<Page<GroupRecord>>;
    /// Creates the group with `members` (409 on a taken name, 400 on unknown members).
    fn create(&self, group: GroupRecord, members: &Subjects) -> StoreResult<Written<GroupRecord>>;
    fn rename(&self, account: &Id, id: &Id, name: &str) -> StoreResult<Written<GroupRecord>>;
    /// Deletes the group and every membership in it.
    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>>;
    /// Adds members; one already in the group is a conflict and nothing changes.
    fn add_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
    ) -> StoreResult<Written<GroupRecord>>;
    /// Removes members, refusing (400) to leave the group with less than `keep`.
    fn remove_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
        keep: Keep,
    ) -> StoreResult<Written<GroupRecord>>;
    /// Every member of group `id`, read outside a transaction.
    fn all_members(&self, account: &Id, id: &Id) -> StoreResult<Subjects> {
        let all = PageRequest::all();
        Ok(Subjects {
            users: self.members(account, id, KIND_USER, &all)?.items,
            apikeys: self.members(account, id, KIND_APIKEY, &all)?.items,
        })
    }
    /// Member ids of one kind, in the order they were created.
    fn members(
        &self,
        account: &Id,
        id: &Id,
        kind: MemberKind,
        page: &PageRequest,
    ) -> StoreResult<Page<Id>>;
}

/// The groups of every account, kept by any engine.
pub struct Groups {
    engine: Arc<dyn Engine>,
}

impl Groups {
    pub fn new(engine: Arc<dyn Engine>) -> Groups {
        Groups { engine }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }
}

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

fn name_taken(name: &str) -> StoreError {
    StoreError::Conflict(format!("A group named '{name}' already exists."))
}

/// Inserts a new group and its name index, without members.
pub fn insert_in(tx: &dyn Tx, group: &GroupRecord) -> StoreResult<()> {
    let account = &group.account_id;
    let name_key = owned_text(account, &group.name);
    if tx.get(Table::GroupnameGroupid, &name_key)?.is_some() {
        return Err(name_taken(&group.name));
    }
    tx.put(Table::GroupnameGroupid, &name_key, group.id.as_bytes())?;
    tx.put(
        Table::GroupidGroup,
        &owned(account, &group.id),
        &encode(group),
    )?;
    counts::add_in(tx, account, ENTITY, 1)
}

/// Creates the group with `members` (409 on a taken name, 400 on unknown members).
pub fn create_in(tx: &dyn Tx, group: &GroupRecord, members: &Subjects) -> StoreResult<GroupRecord> {
    insert_in(tx, group)?;
    if members.users.is_empty() && members.apikeys.is_empty() {
        return Ok(group.clone());
    }
    change_members_in(
        tx,
        &group.account_id,
        &group.id,
        members,
        true,
        Keep::Anything,
    )
}

/// Renames the group (409 on a name taken by another group).
pub fn rename_in(tx: &dyn Tx, account: &Id, id: &Id, name: &str) -> StoreResult<GroupRecord> {
    let mut rec = group_in(tx, account, id)?.ok_or(StoreError::NotFound("Group"))?;
    if rec.name != name {
        let new_key = owned_text(account, name);
        if tx.get(Table::GroupnameGroupid, &new_key)?.is_some() {
            return Err(name_taken(name));
        }
        tx.delete(Table::GroupnameGroupid, &owned_text(account, &rec.name))?;
        tx.put(Table::GroupnameGroupid, &new_key, id.as_bytes())?;
        rec.name = name.to_string();
        rec.etag += 1;
        rec.updated_at = crate::clock::now_millis();
        tx.put(Table::GroupidGroup, &owned(account, id), &encode(&rec))?;
    }
    Ok(rec)
}

/// Adds (`add`) or removes `members` of group `id`; a removal must leave what `keep` says.
pub fn change_members_in(
    tx: &dyn Tx,
    account: &Id,
    id: &Id,
    members: &Subjects,
    add: bool,
    keep: Keep,
) -> StoreResult<GroupRecord> {
    let before = group_in(tx, account, id)?.ok_or(StoreError::NotFound("Group"))?;
    for user in &members.users {
        change_member_in::<UserRecord>(tx, account, id, user, add, true)?;
    }
    for apikey in &members.apikeys {
        change_member_in::<ApiKeyRecord>(tx, account, id, apikey, add, true)?;
    }
    let after = group_in(tx, account, id)?.ok_or(StoreError::NotFound("Group"))?;
    if keep == Keep::AUser && before.user_count > 0 && after.user_count == 0 {
        return Err(StoreError::Invalid("users", LAST_USER.to_string()));
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
}

/// Deletes the group and the memberships of `members`, its members as listed before the
/// transaction (see `Groups::delete`). Returns false, changing nothing, when the group's
/// counters say its members changed since.
pub fn delete_in(tx: &dyn Tx, account: &Id, id: &Id, members: &Subjects) -> StoreResult<bool> {
    let rec = group_in(tx, account, id)?.ok_or(StoreError::NotFound("Group"))?;
    if rec.user_count as usize != members.users.len()
        || rec.apikey_count as usize != members.apikeys.len()
    {
        return Ok(false);
    }
    for user in &members.users {
        change_member_in::<UserRecord>(tx, account, id, user, false, false)?;
    }
    for apikey in &members.apikeys {
        change_member_in::<ApiKeyRecord>(tx, account, id, apikey, false, false)?;
    }
    tx.delete(Table::GroupidGroup, &owned(account, id))?;
    tx.delete(Table::GroupnameGroupid, &owned_text(account, &rec.name))?;
    counts::add_in(tx, account, ENTITY, -1)?;
    Ok(true)
}

impl GroupStore for Groups {
    fn get(&self, account: &Id, id: &Id) -> StoreResult<Option<GroupRecord>> {
        read(&*self.engine, Table::GroupidGroup, &owned(account, id))
    }

    fn by_name(&self, account: &Id, name: &str) -> StoreResult<Option<GroupRecord>> {
        let index = self
            .engine
            .get(Table::GroupnameGroupid, &owned_text(account, name))?;
        match index {
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
        filters: &[Filter],
    ) -> StoreResult<Page<GroupRecord>> {
        owned_records_in(
            &*self.engine,
            Table::GroupidGroup,
            account,
            ENTITY,
            page,
            filters,
        )
    }

    fn create(&self, group: GroupRecord, members: &Subjects) -> StoreResult<Written<GroupRecord>> {
        let stored = transact(&*self.engine, |tx| create_in(tx, &group, members))?;
        Ok(self.written(stored))
    }

    fn rename(&self, account: &Id, id: &Id, name: &str) -> StoreResult<Written<GroupRecord>> {
        let stored = transact(&*self.engine, |tx| rename_in(tx, account, id, name))?;
        Ok(self.written(stored))
    }

    fn delete(&self, account: &Id, id: &Id) -> StoreResult<Written<()>> {
        // Members are listed outside the transaction (an engine may not scan inside one); the
        // transaction re-checks the group's counters and starts over if members changed.
        loop {
            let members = self.all_members(account, id)?;
            if transact(&*self.engine, |tx| delete_in(tx, account, id, &members))? {
                return Ok(self.written(()));
            }
        }
    }

    fn add_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
    ) -> StoreResult<Written<GroupRecord>> {
        let stored = transact(&*self.engine, |tx| {
            change_members_in(tx, account, id, members, true, Keep::Anything)
        })?;
        Ok(self.written(stored))
    }

    fn remove_members(
        &self,
        account: &Id,
        id: &Id,
        members: &Subjects,
        keep: Keep,
    ) -> StoreResult<Written<GroupRecord>> {
        let stored = transact(&*self.engine, |tx| {
            change_members_in(tx, account, id, members, false, keep)
        })?;
        Ok(self.written(stored))
    }

    fn members(
        &self,
        account: &Id,
        id: &Id,
        kind: MemberKind,
        page: &PageRequest,
    ) -> StoreResult<Page<Id>> {
        let count = || -> StoreResult<u64> {
            Ok(self
                .get(account, id)?
                .map(|g| match kind {
                    MemberKind::User => g.user_count as u64,
                    MemberKind::ApiKey => g.apikey_count as u64,
                })
                .unwrap_or(0))
        };
        scan(
            &*self.engine,
            Table::GroupidMemberid,
            &members_prefix(account, id, kind),
            page,
            false,
            |k, _| Ok(tail_id(k)),
            |_| true,
            count,
        )
    }
}
