//! The backup file: writing a snapshot of an engine, and reading one back, checked end to
//! end. The layout is in the module comment of `backup`.

use super::{BackupError, Summary, FORMAT_VERSION, MAGIC};
use crate::store::engine::{Engine, Table};
use crate::store::Order;
use std::collections::BTreeSet;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::ops::Bound;

const TABLE: u8 = 0x01;
const ENTRY: u8 = 0x02;
const END: u8 = 0xFF;
/// Upper bound on one key or value (records are far smaller; images are a few MB).
const MAX_ITEM: usize = 1024 * 1024 * 1024;
/// The one tree a format 1 backup may hold that is not a table: sled's default tree, which
/// iamd never wrote to.
const V1_DEFAULT_TREE: &[u8] = b"__sled__default";

/// A writer that hashes everything written through it.
struct Hashing<W> {
    inner: W,
    hash: ring::digest::Context,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes a snapshot of every table of `engine` to `out`. The snapshot is consistent when
/// nothing writes meanwhile (the caller's duty: the write gate, or the database lock).
pub fn write_snapshot(engine: &dyn Engine, out: impl Write) -> Result<Summary, BackupError> {
    let mut w = Hashing {
        inner: BufWriter::new(out),
        hash: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let schema_version = engine
        .get(Table::Meta, b"schema_version")?
        .and_then(|v| v.as_slice().try_into().ok().map(u32::from_be_bytes));
    let mut summary = Summary {
        iamd_version: env!("CARGO_PKG_VERSION").into(),
        created_at: crate::clock::rfc3339(crate::clock::now_millis()),
        schema_version,
        engine: Some(engine.name().to_string()),
        format_version: FORMAT_VERSION,
        ..Summary::default()
    };
    let header = serde_json::to_vec(&summary).map_err(|e| BackupError::Corrupt(e.to_string()))?;
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT_VERSION.to_be_bytes())?;
    w.write_all(&(header.len() as u32).to_be_bytes())?;
    w.write_all(&header)?;
    for table in Table::ALL {
        let name = table.name().as_bytes();
        w.write_all(&[TABLE])?;
        w.write_all(&(name.len() as u16).to_be_bytes())?;
        w.write_all(name)?;
        summary.tables += 1;
        let mut count = 0u64;
        for entry in engine.range(table, (Bound::Unbounded, Bound::Unbounded), Order::Asc) {
            let (key, value) = entry?;
            w.write_all(&[ENTRY])?;
            w.write_all(&(key.len() as u32).to_be_bytes())?;
            w.write_all(&key)?;
            w.write_all(&(value.len() as u32).to_be_bytes())?;
            w.write_all(&value)?;
            count += 1;
        }
        summary.entries += count;
        summary.counts.insert(table, count);
    }
    w.write_all(&[END])?;
    w.write_all(&summary.tables.to_be_bytes())?;
    w.write_all(&summary.entries.to_be_bytes())?;
    let digest = w.hash.finish();
    let mut inner = w.inner;
    inner.write_all(digest.as_ref())?;
    inner.flush()?;
    Ok(summary)
}

/// One thing read from a backup.
pub enum Item<'a> {
    /// The entries that follow belong to this table.
    Table(Table),
    Entry(&'a [u8], &'a [u8]),
}

/// A reader that hashes everything read through it and names what a short read cut.
struct Reading<R> {
    inner: R,
    hash: ring::digest::Context,
}

impl<R: Read> Reading<R> {
    fn exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), BackupError> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => BackupError::Truncated(what),
            _ => BackupError::Io(e),
        })?;
        self.hash.update(buf);
        Ok(())
    }
    fn byte(&mut self, what: &'static str) -> Result<u8, BackupError> {
        let mut b = [0u8; 1];
        self.exact(&mut b, what)?;
        Ok(b[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, BackupError> {
        let mut b = [0u8; 2];
        self.exact(&mut b, what)?;
        Ok(u16::from_be_bytes(b))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, BackupError> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u32::from_be_bytes(b))
    }
    fn bytes(
        &mut self,
        len: usize,
        buf: &mut Vec<u8>,
        what: &'static str,
    ) -> Result<(), BackupError> {
        if len > MAX_ITEM {
            return Err(BackupError::Corrupt(format!("{what} of {len} bytes")));
        }
        // Grows with the data actually read: a corrupt length cannot allocate ahead of it.
        buf.clear();
        let n = (&mut self.inner).take(len as u64).read_to_end(buf)?;
        if n < len {
            return Err(BackupError::Truncated(what));
        }
        self.hash.update(buf);
        Ok(())
    }
}

/// Where the entries being read go.
enum Current {
    /// Before the first table record: an entry here is corrupt.
    Nowhere,
    Table(Table),
    /// sled's default tree of a format 1 backup: it must be empty.
    V1Default,
}

/// Reads a whole backup (format 1 or 2), handing each table and entry to `visit`, and checks
/// it end to end. `visit` sees data before the checksum is known: verify first (`visit`
/// doing nothing) when acting on the data must wait for a good file.
pub fn read_snapshot(
    input: impl Read,
    mut visit: impl FnMut(Item<'_>) -> Result<(), BackupError>,
) -> Result<Summary, BackupError> {
    let mut r = Reading {
        inner: BufReader::new(input),
        hash: ring::digest::Context::new(&ring::digest::SHA256),
    };
    let mut magic = [0u8; 8];
    r.exact(&mut magic, "the magic bytes")
        .map_err(|_| BackupError::NotABackup)?;
    if &magic != MAGIC {
        return Err(BackupError::NotABackup);
    }
    let version = r.u16("the format version")?;
    if version > FORMAT_VERSION || version == 0 {
        return Err(BackupError::NewerFormat(version));
    }
    let header_len = r.u32("the header")? as usize;
    if header_len > 64 * 1024 {
        return Err(BackupError::Corrupt("oversized header".into()));
    }
    let mut buf = Vec::new();
    r.bytes(header_len, &mut buf, "the header")?;
    let mut summary: Summary = serde_json::from_slice(&buf)
        .map_err(|e| BackupError::Corrupt(format!("unreadable header: {e}")))?;
    summary.format_version = version;
    let mut value = Vec::new();
    let mut current = Current::Nowhere;
    let mut seen = BTreeSet::new();
    // What the end record counts: every table or tree record and entry of the file.
    let (mut records, mut entries) = (0u32, 0u64);
    loop {
        match r.byte("a record")? {
            TABLE => {
                let len = r.u16("a table name")? as usize;
                r.bytes(len, &mut buf, "a table name")?;
                records += 1;
                current = match std::str::from_utf8(&buf).ok().and_then(Table::from_name) {
                    Some(table) => {
                        if !seen.insert(table) {
                            return Err(BackupError::Corrupt(format!(
                                "table {} appears twice",
                                table.name()
                            )));
                        }
                        visit(Item::Table(table))?;
                        summary.tables += 1;
                        summary.counts.insert(table, 0);
                        Current::Table(table)
                    }
                    None if version == 1 && buf == V1_DEFAULT_TREE => Current::V1Default,
                    None => {
                        return Err(BackupError::Refused(format!(
                            "the backup holds a table this release does not know ({}): \
                             restore it with the release that made it or a later one",
                            String::from_utf8_lossy(&buf)
                        )))
                    }
                };
            }
            ENTRY if !matches!(current, Current::Nowhere) => {
                let len = r.u32("an entry")? as usize;
                r.bytes(len, &mut buf, "an entry key")?;
                let len = r.u32("an entry")? as usize;
                r.bytes(len, &mut value, "an entry value")?;
                entries += 1;
                match current {
                    Current::Table(table) => {
                        visit(Item::Entry(&buf, &value))?;
                        summary.entries += 1;
                        *summary.counts.entry(table).or_default() += 1;
                    }
                    _ => {
                        return Err(BackupError::Refused(
                            "the backup holds entries outside every table".into(),
                        ))
                    }
                }
            }
            END => break,
            other => {
                return Err(BackupError::Corrupt(format!(
                    "unexpected record type {other:#04x}"
                )))
            }
        }
    }
    let end_records = r.u32("the end record")?;
    let mut end_entries = [0u8; 8];
    r.exact(&mut end_entries, "the end record")?;
    let expected = r.hash.clone().finish();
    let mut trailer = [0u8; 32];
    r.inner
        .read_exact(&mut trailer)
        .map_err(|_| BackupError::Truncated("the checksum"))?;
    if trailer != expected.as_ref() {
        return Err(BackupError::Corrupt(
            "the SHA-256 checksum does not match".into(),
        ));
    }
    if end_records != records || u64::from_be_bytes(end_entries) != entries {
        return Err(BackupError::Corrupt("record counts do not match".into()));
    }
    if r.inner.read(&mut [0u8; 1])? != 0 {
        return Err(BackupError::Corrupt(
            "extra bytes after the checksum".into(),
        ));
    }
    Ok(summary)
}
