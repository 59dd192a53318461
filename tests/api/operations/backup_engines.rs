//! Backups are logical: taken and restored through the storage engine boundary, so one taken
//! from the sled engine restores into the memory engine and back; files of format 1 (made
//! before the boundary) still restore.

use super::backup::{assert_same_answers, populate};
use super::{restore, run};
use crate::common::{with_store, Binary};
use iamd::backup::{restore_into, write_snapshot};
use iamd::store::engine::{Engine, MemoryEngine, Table};
use iamd::store::Order;
use std::ops::Bound;
use std::path::Path;

/// Every entry of every table, but the flush number the sled engine keeps for itself in
/// `meta` (it moves at every flush, and says nothing about the data).
fn tables(engine: &dyn Engine) -> Vec<(Table, Vec<u8>, Vec<u8>)> {
    let mut all = Vec::new();
    for table in Table::ALL {
        for entry in engine.range(table, (Bound::Unbounded, Bound::Unbounded), Order::Asc) {
            let (key, value) = entry.unwrap();
            if table == Table::Meta && key == b"flush_seq" {
                continue;
            }
            all.push((table, key, value));
        }
    }
    all
}

fn assert_same_tables(a: &[(Table, Vec<u8>, Vec<u8>)], b: &[(Table, Vec<u8>, Vec<u8>)]) {
    assert_eq!(a.len(), b.len(), "entry counts differ");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y, "first difference in table {}", x.0.name());
    }
}

fn count(all: &[(Table, Vec<u8>, Vec<u8>)], table: Table) -> usize {
    all.iter().filter(|(t, _, _)| *t == table).count()
}

#[test]
fn a_sled_backup_restores_into_the_memory_engine_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Binary::start(&data, &[]);
    let users = populate(&server.client, 3);
    let key = server.client.key.clone().unwrap();
    assert!(server.terminate().success());

    // sled -> memory, compared table by table.
    let (sled_tables, sled_bytes) = with_store(&data, |store| {
        let mut bytes = Vec::new();
        write_snapshot(&*store.engine(), &mut bytes).unwrap();
        (tables(&*store.engine()), bytes)
    });
    assert!(
        count(&sled_tables, Table::UseridUser) >= 4,
        "users were backed up"
    );
    for table in [
        Table::GroupidGroup,
        Table::CertidCert,
        Table::IdpidIdp,
        Table::ImagenameBlob,
    ] {
        assert!(count(&sled_tables, table) > 0, "{} is empty", table.name());
    }
    let memory = MemoryEngine::new();
    let summary = restore_into(&memory, &sled_bytes[..]).unwrap();
    assert_eq!(summary.engine.as_deref(), Some("sled"));
    assert_same_tables(&tables(&memory), &sled_tables);

    // memory -> a new sled data directory, by the real `iamd restore`.
    let file = dir.path().join("from-memory.iamdbackup");
    let mut bytes = Vec::new();
    let written = write_snapshot(&memory, &mut bytes).unwrap();
    assert_eq!(written.engine.as_deref(), Some("memory"));
    std::fs::write(&file, &bytes).unwrap();
    let restored = dir.path().join("restored");
    let (code, out, err) = restore(&file, &restored);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("from the memory engine"), "{out}");
    let back = with_store(&restored, |store| tables(&*store.engine()));
    // Everything as it was, and the restore's own audit entry (with its counter) besides.
    let audit = |t: &Table| matches!(t, Table::AuditEntry | Table::AccountCounts);
    let without = |all: &[(Table, Vec<u8>, Vec<u8>)]| -> Vec<_> {
        all.iter().filter(|(t, _, _)| !audit(t)).cloned().collect()
    };
    assert_same_tables(&without(&back), &without(&sled_tables));
    assert_eq!(
        count(&back, Table::AuditEntry),
        count(&sled_tables, Table::AuditEntry) + 1
    );

    // And the server on it answers as the original.
    std::fs::write(restored.join("admin-api-key"), &key).unwrap();
    let original = Binary::start(&data, &[]);
    let copy = Binary::start(&restored, &[]);
    assert_same_answers(&original.client, &copy.client, &users);
}

/// A backup made by the release before the engine boundary (format 1, sled trees), kept in
/// the repository: it verifies, restores, and the server on it answers with its data.
#[test]
fn a_format_1_backup_still_restores() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/operations/fixtures");
    let file = fixtures.join("format-1.iamdbackup");
    let (code, out, err) = run(&["verify-backup", "--in", file.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("format 1"), "{out}");
    assert!(out.contains("users 2, api keys 1, groups 3"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (code, out, err) = restore(&file, &data);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::copy(
        fixtures.join("format-1.admin-api-key"),
        data.join("admin-api-key"),
    )
    .unwrap();
    let server = Binary::start(&data, &[]);
    let found = server
        .client
        .get("/v3/users?email__eq=v1-user@example.com")
        .expect(200)
        .clone();
    assert_eq!(found["data"][0]["full_name"], "Made by format 1", "{found}");
    let groups = server
        .client
        .get("/v3/policy-groups?name__eq=v1-group")
        .expect(200)
        .clone();
    assert_eq!(groups["total_count"], 1, "{groups}");
    server
        .client
        .post(
            "/v3/users",
            &serde_json::json!({"email": "after-v1@example.com"}),
        )
        .expect(201);

    // Backed up again, it is a format 2 file.
    let again = dir.path().join("again.iamdbackup");
    let (code, out, err) = run(
        &[
            "backup",
            "--url",
            &server.client.base,
            "--out",
            again.to_str().unwrap(),
        ],
        &[("IAMD_API_KEY", server.client.key.as_deref().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("format 2") && out.contains("users 3"), "{out}");
}
