use super::*;

/// (tree, key, value)
type Entries = Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>;

/// A small database with a few trees, as (tree, key, value) triples.
fn sample_db(dir: &Path) -> (sled::Db, Entries) {
    let db = sled::Config::new().path(dir.join("db")).open().unwrap();
    let mut expected = Vec::new();
    for (tree, n) in [("meta", 2usize), ("some_tree", 40), ("empty", 0)] {
        let t = db.open_tree(tree).unwrap();
        for i in 0..n {
            let key = format!("{tree}-key-{i:03}").into_bytes();
            let value = vec![i as u8; i * 7];
            t.insert(&key, value.clone()).unwrap();
            expected.push((tree.as_bytes().to_vec(), key, value));
        }
    }
    db.open_tree("meta")
        .unwrap()
        .insert(b"schema_version", &1u32.to_be_bytes())
        .unwrap();
    (db, expected)
}

fn snapshot(db: &sled::Db) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_snapshot(db, &mut bytes).unwrap();
    bytes
}

fn collect(bytes: &[u8]) -> Result<(Summary, Entries), BackupError> {
    let mut current = Vec::new();
    let mut seen = Vec::new();
    let summary = read_snapshot(bytes, |item| {
        match item {
            Item::Tree(name) => current = name.to_vec(),
            Item::Entry(k, v) => seen.push((current.clone(), k.to_vec(), v.to_vec())),
        }
        Ok(())
    })?;
    Ok((summary, seen))
}

#[test]
fn a_snapshot_reads_back_entry_for_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (db, expected) = sample_db(dir.path());
    let bytes = snapshot(&db);
    let (summary, seen) = collect(&bytes).unwrap();
    for triple in &expected {
        assert!(seen.contains(triple), "missing {:?}", triple.1);
    }
    // The default tree is included too, so every tree of the database comes back.
    assert_eq!(summary.trees as usize, db.tree_names().len());
    assert_eq!(summary.entries as usize, seen.len());
    assert_eq!(summary.schema_version, Some(1));
    assert_eq!(summary.iamd_version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn any_flipped_byte_or_truncation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sample_db(dir.path());
    let bytes = snapshot(&db);
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
    let mut flipped = bytes.clone();
    let middle = bytes.len() / 2;
    flipped[middle] ^= 1;
    assert!(collect(&flipped).is_err());
    let err = collect(b"PK\x03\x04 not a backup").unwrap_err().to_string();
    assert!(err.contains("not an iamd backup"), "{err}");
    let mut newer = bytes.clone();
    newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_be_bytes());
    let err = collect(&newer).unwrap_err().to_string();
    assert!(err.contains("newer"), "{err}");
}

#[test]
fn restore_refuses_a_non_empty_target_and_corrupt_files() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sample_db(&dir.path().join("src"));
    let file = dir.path().join("b.iamdbackup");
    std::fs::write(&file, snapshot(&db)).unwrap();

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

    // A well-formed backup without a root account is not an iamd database.
    let err = restore(&file, &target).unwrap_err().to_string();
    assert!(err.contains("no root account"), "{err}");
    assert!(!target.exists());
}
