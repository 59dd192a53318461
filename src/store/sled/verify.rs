//! Reading the whole database back: what every start checks (`Depth::Records`) and what
//! `iamd verify` checks (`Depth::Indexes`).
//!
//! Records: every entry of every tree is read (sled checks each page it reads from disk),
//! every record decodes as its type and sits under the key its ids make, and every counter
//! of `account_counts` equals the records it counts. Indexes: every index holds exactly the
//! entries its records imply, and every group's member counts equal the members whose records
//! name it (member records are the source of truth, see `groups`).

use super::TreeSet;
use crate::ids::Id;
use crate::store::keys::owned;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Records,
    Indexes,
}

/// Problems listed at most; the rest are only counted.
const SHOWN: usize = 20;

#[derive(Debug, Default)]
pub struct Report {
    pub trees: usize,
    pub entries: u64,
    /// Records per entity (counter name), over all accounts.
    pub records: BTreeMap<&'static str, u64>,
    pub problems: Vec<String>,
    pub problem_count: u64,
}

impl Report {
    fn problem(&mut self, text: String) {
        self.problem_count += 1;
        if self.problems.len() < SHOWN {
            self.problems.push(text);
        }
    }
}

/// Index entries (tree -> key -> value) that the records imply.
type Expected = BTreeMap<&'static str, BTreeMap<Vec<u8>, Vec<u8>>>;

struct Pass<'a> {
    t: &'a TreeSet,
    /// While requests may write: the transactions begun and ended (see `check_live`).
    live: Option<Writes<'a>>,
    report: Report,
    /// (account, counter name) -> records counted.
    counted: BTreeMap<(Id, &'static str), u64>,
    /// Only with `Depth::Indexes`.
    expected: Option<Expected>,
    /// (account, group, kind) -> members whose records name the group.
    members: BTreeMap<(Id, Id, u8), u32>,
}

impl Pass<'_> {
    /// Whether the store this live pass reads is gone (see `check_live`).
    fn gone(&self) -> bool {
        gone(self.live)
    }

    fn expect(&mut self, tree: &'static str, k: Vec<u8>, v: &[u8]) {
        if let Some(expected) = self.expected.as_mut() {
            let previous = expected.entry(tree).or_default().insert(k, v.to_vec());
            if previous.is_some_and(|p| p != v) {
                self.report
                    .problem(format!("{tree}: two records claim the same entry"));
            }
        }
    }

    fn count(&mut self, account: Id, entity: &'static str) {
        *self.counted.entry((account, entity)).or_default() += 1;
        *self.report.records.entry(entity).or_default() += 1;
    }

    /// Decodes every record of `tree` as `T`, handing each (key, record) to `each`.
    fn records<T: DeserializeOwned>(
        &mut self,
        tree: &::sled::Tree,
        name: &'static str,
        mut each: impl FnMut(&mut Self, &[u8], T),
    ) {
        for item in tree.iter() {
            if self.gone() {
                return;
            }
            let (k, v) = match item {
                Ok(entry) => entry,
                Err(e) => {
                    self.report.problem(format!("{name}: unreadable: {e}"));
                    return;
                }
            };
            self.report.entries += 1;
            match crate::store::decode::<T>(&v) {
                Ok(record) => each(self, &k, record),
                Err(e) => self
                    .report
                    .problem(format!("{name}: record {}: {e}", hex(&k))),
            }
        }
    }

    /// Checks that an owned record's key is `account ++ id` of the record.
    fn owned_key(&mut self, name: &str, k: &[u8], account: &Id, id: &Id) -> bool {
        if k != owned(account, id).as_slice() {
            self.report
                .problem(format!("{name}: record {} is under another key", hex(k)));
            return false;
        }
        true
    }
}

fn gone(live: Option<Writes<'_>>) -> bool {
    live.is_some_and(|writes| writes().is_none())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `check` at `Depth::Records` of a database in service (the scan after each start, see
/// `sled::scan_in_background`). Trees are read one after another while requests write, so a
/// counter and its records may be read on either side of a commit: a counter that disagrees
/// is counted again at a moment no transaction runs (`writes` gives the transactions begun
/// and ended) before it is a problem.
///
/// `writes` answers `None` once the store is gone: the scan stops then (its report is
/// empty), so that it does not keep a closed store's database open.
pub fn check_live(t: &TreeSet, writes: Writes<'_>) -> Report {
    run(t, Depth::Records, Some(writes))
}

/// Transactions begun and ended so far; `None` once the store is gone.
pub type Writes<'a> = &'a (dyn Fn() -> Option<(u64, u64)> + Sync);

/// Reads and checks everything (see the module doc) of a database nothing writes.
pub fn check(t: &TreeSet, depth: Depth) -> Report {
    run(t, depth, None)
}

fn run(t: &TreeSet, depth: Depth, live: Option<Writes<'_>>) -> Report {
    let mut p = Pass {
        t,
        live,
        report: Report::default(),
        counted: BTreeMap::new(),
        expected: (depth == Depth::Indexes).then(BTreeMap::new),
        members: BTreeMap::new(),
    };
    // Offline (`iamd verify`, the start checks), the trees that hold no records are read on
    // a second thread meanwhile: it halves the time. The scan after a start runs beside the
    // server and takes its time on one thread: what a thread reads leaves memory in its
    // malloc arena, which the idle server then keeps (BENCHMARKS.md, "Idle memory").
    let others = if live.is_some() {
        read_records(&mut p);
        Ok(read_all(t, live))
    } else {
        std::thread::scope(|s| {
            let others = s.spawn(|| read_all(t, live));
            read_records(&mut p);
            others.join()
        })
    };
    match others {
        Ok(others) => {
            p.report.trees = t.all().len();
            p.report.entries += others.entries;
            for problem in others.problems {
                p.report.problem(problem);
            }
        }
        Err(_) => p.report.problem("reading the database failed".into()),
    }
    if p.gone() {
        return Report::default();
    }
    if p.report.problem_count > 0 {
        return p.report;
    }
    counters(&mut p);
    if let Some(expected) = p.expected.take() {
        indexes(&mut p, expected);
    }
    p.report
}

/// Reads and checks every record.
fn read_records(p: &mut Pass) {
    accounts(p);
    users_and_keys(p);
    groups(p);
    the_rest(p);
}

/// Reads every entry of the trees that hold no records (sled checks what it reads).
fn read_all(t: &TreeSet, live: Option<Writes<'_>>) -> Report {
    let mut report = Report::default();
    for (name, tree) in t.all() {
        if RECORDS.contains(&name) {
            continue;
        }
        for item in tree.iter() {
            if gone(live) {
                break;
            }
            match item {
                Ok(_) => report.entries += 1,
                Err(e) => {
                    report.problem(format!("{name}: unreadable: {e}"));
                    break;
                }
            }
        }
    }
    report
}

/// Every index holds exactly the entries its records imply.
fn indexes(p: &mut Pass, mut expected: Expected) {
    let t = p.t;
    for (name, tree) in t.all() {
        if !INDEXES.contains(&name) {
            continue;
        }
        let mut want = expected.remove(name).unwrap_or_default();
        for item in tree.iter() {
            let Ok((k, v)) = item else { return };
            match want.remove(k.as_ref()) {
                Some(w) if w == v.as_ref() => {}
                Some(_) => p
                    .report
                    .problem(format!("{name}: entry {} points elsewhere", hex(&k))),
                None => p
                    .report
                    .problem(format!("{name}: entry {} has no record", hex(&k))),
            }
        }
        for k in want.keys() {
            p.report
                .problem(format!("{name}: entry {} is missing", hex(k)));
        }
    }
}

/// The trees whose every entry `check` decodes as a record.
const RECORDS: &[&str] = &[
    "accountid_account",
    "userid_user",
    "apikeyid_apikey",
    "groupid_group",
    "invitationid_invitation",
    "idpid_idp",
    "notificationid_notification",
    "audit_entry",
    "caname_serverca",
    "certid_cert",
    "certid_devkey",
    "brandingcolor_color",
    "brandingimage_image",
];

/// The trees `indexes` compares with what the records imply.
const INDEXES: &[&str] = &[
    "parentid_accountid",
    "alias_accountid",
    "email_userid",
    "username_userid",
    "keyhash_apikeyid",
    "ownerid_apikeyid",
    "groupname_groupid",
    "groupid_memberid",
    "tokenhash_invitationid",
    "certname_certid",
    "certsubject_certid",
    "imagename_refcount",
];

/// `iamd verify`: opens the stopped server's database under `dir` as a start would (the
/// checks of `integrity` included) and checks every record and index. sled's recovery runs
/// as at a start, so a damaged log is cut as a start would cut it; the marker keeps the
/// damage visible.
pub fn data_dir(dir: &std::path::Path) -> crate::store::StoreResult<Report> {
    let marker = super::integrity::Marker::read(dir)?;
    if marker.is_none() && !dir.join("db").join("conf").exists() {
        return Err(crate::store::StoreError::Backend(format!(
            "{} holds no iamd database",
            dir.display()
        )));
    }
    let acknowledged = marker.as_ref().map(super::integrity::Marker::acknowledged);
    let (_db, trees) = super::integrity::open_checked(dir, acknowledged)?;
    Ok(check(&trees, Depth::Indexes))
}

#[path = "verify_counters.rs"]
mod counters;
use counters::counters;

#[path = "verify_records.rs"]
mod records;
use records::{accounts, groups, the_rest, users_and_keys};

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
