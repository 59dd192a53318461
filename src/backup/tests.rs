use super::*;
use crate::store::engine::{transact, Engine, MemoryEngine};
use crate::store::Order;
use std::ops::Bound;

/// (table, key, value)
type Entries = Vec<(Table, Vec<u8>, Vec<u8>)>;

/// An engine with a few tables filled, and what it holds.
fn sample() -> (MemoryEngine, Entries) {
    let engine = MemoryEngine::new();
    let mut expected = Vec::new();
    for (table, n) in [(Table::UseridUser, 40usize), (Table::ImagenameBlob, 3)] {
        for i in 0..n {
            let key = format!("{}-key-{i:03}", table.name()).into_bytes();
            let value = vec![i as u8; i * 7];
            expected.push((table, key, value));
        }
    }
    expected.push((
        Table::Meta,
        b"schema_version".to_vec(),
        1u32.to_be_bytes().to_vec(),
    ));
    transact(&engine, |tx| {
        for (t, k, v) in &expected {
            tx.put(*t, k, v)?;
        }
        Ok(())
    })
    .unwrap();
    (engine, expected)
}

fn snapshot(engine: &dyn Engine) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_snapshot(engine, &mut bytes).unwrap();
    bytes
}

fn collect(bytes: &[u8]) -> Result<(Summary, Entries), BackupError> {
    let mut current = None;
    let mut seen = Vec::new();
    let summary = read_snapshot(bytes, |item| {
        match item {
            Item::Table(t) => current = Some(t),
            Item::Entry(k, v) => seen.push((current.unwrap(), k.to_vec(), v.to_vec())),
        }
        Ok(())
    })?;
    Ok((summary, seen))
}

fn everything(engine: &dyn Engine) -> Entries {
    let mut all = Vec::new();
    for t in Table::ALL {
        for entry in engine.range(t, (Bound::Unbounded, Bound::Unbounded), Order::Asc) {
            let (k, v) = entry.unwrap();
            all.push((t, k, v));
        }
    }
    all
}

#[test]
fn a_snapshot_reads_back_entry_for_entry_and_counts_per_table() {
    let (engine, mut expected) = sample();
    let bytes = snapshot(&engine);
    let (summary, seen) = collect(&bytes).unwrap();
    expected.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    // Every table is written, empty ones too.
    assert_eq!(summary.tables as usize, Table::ALL.len());
    assert_eq!(summary.entries as usize, seen.len());
    assert_eq!(summary.counts[&Table::UseridUser], 40);
    assert_eq!(summary.counts[&Table::GroupidGroup], 0);
    assert!(summary.records().contains(&("users", 40)));
    assert_eq!(summary.schema_version, Some(1));
    assert_eq!(summary.engine.as_deref(), Some("memory"));
    assert_eq!(summary.format_version, FORMAT_VERSION);
    assert_eq!(summary.iamd_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn restore_into_replaces_everything_an_engine_holds() {
    let (source, _) = sample();
    let target = MemoryEngine::new();
    transact(&target, |tx| tx.put(Table::GroupidGroup, b"stale", b"x")).unwrap();
    let summary = restore_into(&target, &snapshot(&source)[..]).unwrap();
    assert_eq!(everything(&target), everything(&source));
    assert_eq!(summary.entries as usize, everything(&source).len());
}

#[test]
fn any_flipped_byte_or_truncation_is_refused() {
    let (engine, _) = sample();
    let bytes = snapshot(&engine);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert!(collect(&bad).is_err(), "flipped byte {i} was accepted");
    }
    for len in 0..bytes.len() {
        let err = collect(&bytes[..len]).err();
        assert!(err.is_some(), "truncated to {len} bytes was accepted");
    }
    let err = collect(&bytes[..bytes.len() - 10]).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    let mut longer = bytes.clone();
    longer.push(0);
    let err = collect(&longer).unwrap_err().to_string();
    assert!(err.contains("extra bytes"), "{err}");
    let err = collect(b"PK\x03\x04 not a backup").unwrap_err().to_string();
    assert!(err.contains("not an iamd backup"), "{err}");
    let mut newer = bytes.clone();
    newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    let err = collect(&newer).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
}

/// A well-formed file (checksum and counts right) naming a table this release lacks, or the
/// same table twice: refused, never restored into the wrong place.
#[test]
fn unknown_and_repeated_tables_are_refused() {
    fn file(version: u16, tables: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&version.to_be_bytes());
        let header = br#"{"iamd_version":"0","created_at":"x","schema_version":1}"#;
        body.extend_from_slice(&(header.len() as u32).to_be_bytes());
        body.extend_from_slice(header);
        for name in tables {
            body.push(0x01);
            body.extend_from_slice(&(name.len() as u16).to_be_bytes());
            body.extend_from_slice(name.as_bytes());
        }
        body.push(0xFF);
        body.extend_from_slice(&(tables.len() as u32).to_be_bytes());
        body.extend_from_slice(&0u64.to_be_bytes());
        let digest = ring::digest::digest(&ring::digest::SHA256, &body);
        body.extend_from_slice(digest.as_ref());
        body
    }
    let err = collect(&file(2, &["meta", "future_table"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not know (future_table)"), "{err}");
    let err = collect(&file(2, &["meta", "meta"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("meta appears twice"), "{err}");
    // sled's default tree is skipped in a format 1 file only.
    let (summary, _) = collect(&file(1, &["__sled__default", "meta"])).unwrap();
    assert_eq!((summary.tables, summary.format_version), (1, 1));
    assert!(collect(&file(2, &["__sled__default"])).is_err());
}

#[test]
fn restore_refuses_a_non_empty_target_and_corrupt_files() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = sample();
    let file = dir.path().join("b.iamdbackup");
    std::fs::write(&file, snapshot(&engine)).unwrap();

    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("something"), b"x").unwrap();
    let err = restore(&file, &busy).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");

    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() - 1);
    let cut = dir.path().join("cut.iamdbackup");
    std::fs::write(&cut, &bytes).unwrap();
    let target = dir.path().join("new");
    let err = restore(&cut, &target).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    assert!(!target.exists(), "a refused restore leaves nothing behind");

    // Well-formed backups of what is not an iamd database: records that do not decode, and
    // no root account.
    let err = restore(&file, &target).unwrap_err().to_string();
    assert!(
        err.contains("does not open") && err.contains("users"),
        "{err}"
    );
    assert!(!target.exists());
    let empty = MemoryEngine::new();
    transact(&empty, |tx| {
        tx.put(Table::Meta, b"schema_version", &1u32.to_be_bytes())
    })
    .unwrap();
    std::fs::write(&file, snapshot(&empty)).unwrap();
    let err = restore(&file, &target).unwrap_err().to_string();
    assert!(err.contains("no root account"), "{err}");
    assert!(!target.exists());
}

#[test]
fn an_existing_file_is_replaced_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = sample();
    let out = dir.path().join("b.iamdbackup");
    std::fs::write(&out, b"precious").unwrap();
    let err = write_file_atomically(&out, false, |f| write_snapshot(&engine, f))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    write_file_atomically(&out, true, |f| write_snapshot(&engine, f)).unwrap();
    verify_file(&out).unwrap();
}
