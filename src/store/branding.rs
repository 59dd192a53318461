//! Branding: per-account colors and images of each theme, and the image bytes.
//!
//! Only an account's own customisations are stored; defaults and inheritance from a parent
//! account are resolved by the handlers. Image bytes are content-addressed
//! (`branding::content_name`) and shared: identical uploads, in any account or theme, are
//! stored once and counted, and the bytes go when the last reference to them does, so
//! re-uploading never grows the database and a served name never changes its content.

use super::durability::Written;
use super::engine::{borrow_range, prefix_range, read, transact, Engine, Table, Tx};
use super::keys::key;
use super::{decode, encode, Order, StoreError, StoreResult};
use crate::branding::{content_name, ImageInfo, ImageKind, Theme};
use crate::ids::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One customised color.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColorRecord {
    /// Normalised by `branding::validate_color`.
    pub color: String,
    pub updated_at: i64,
}

/// One uploaded image: which stored bytes it points at, and what was learned on intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// `branding::content_name` of the bytes: the key in `imagename_blob` and the URL name.
    pub name: String,
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub size: u64,
    pub updated_at: i64,
}

pub trait BrandingStore: Send + Sync {
    /// The account's own colors of `theme`, as `(reference, record)`, in key order.
    fn colors(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ColorRecord)>>;
    fn color(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ColorRecord>>;
    /// Sets every `(reference, normalised color)` pair in one transaction.
    fn set_colors(
        &self,
        account: &Id,
        theme: Theme,
        colors: &[(String, String)],
    ) -> StoreResult<Written<i64>>;
    /// Forgets the account's own value (the inherited one or the default applies again).
    fn reset_color(&self, account: &Id, theme: Theme, reference: &str) -> StoreResult<Written<()>>;

    /// The account's own images of `theme`, as `(reference, record)`, in key order.
    fn images(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ImageRecord)>>;
    fn image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ImageRecord>>;
    /// Stores `bytes` (already checked by `branding::sniff_image`) as the account's image.
    fn set_image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
        bytes: &[u8],
        info: ImageInfo,
    ) -> StoreResult<Written<ImageRecord>>;
    /// Forgets the account's own image; true if it had one.
    fn clear_image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Written<bool>>;
    /// Stored image bytes by content name.
    fn blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>>;
}

/// Branding of every account, kept by any engine.
pub struct Branding {
    engine: Arc<dyn Engine>,
}

impl Branding {
    pub fn new(engine: Arc<dyn Engine>) -> Branding {
        Branding { engine }
    }

    fn written<T>(&self, value: T) -> Written<T> {
        Written::new(value, self.engine.clone())
    }

    /// Every `(reference, record)` of `table` under `prefix`.
    fn own_entries<T: serde::de::DeserializeOwned>(
        &self,
        table: Table,
        prefix: &[u8],
    ) -> StoreResult<Vec<(String, T)>> {
        let range = prefix_range(prefix);
        let mut out = Vec::new();
        for item in self.engine.range(table, borrow_range(&range), Order::Asc) {
            let (k, v) = item?;
            let reference = std::str::from_utf8(&k[prefix.len()..])
                .map_err(|_| StoreError::Backend("branding key is not UTF-8".into()))?;
            out.push((reference.to_string(), decode(&v)?));
        }
        Ok(out)
    }
}

fn theme_byte(theme: Theme) -> u8 {
    match theme {
        Theme::Light => b'l',
        Theme::Dark => b'd',
    }
}

/// `account ++ theme byte`: the prefix of one account's set of one theme.
fn theme_prefix(account: &Id, theme: Theme) -> Vec<u8> {
    key(&[account.as_bytes(), &[theme_byte(theme)]])
}

/// `account ++ theme byte ++ reference`.
fn entry_key(account: &Id, theme: Theme, reference: &str) -> Vec<u8> {
    key(&[
        account.as_bytes(),
        &[theme_byte(theme)],
        reference.as_bytes(),
    ])
}

/// The reference counts of shared image bytes, inside a transaction.
struct Blobs<'a> {
    tx: &'a dyn Tx,
}

impl Blobs<'_> {
    fn count(&self, name: &str) -> StoreResult<u64> {
        match self.tx.get(Table::ImagenameRefcount, name.as_bytes())? {
            Some(raw) => raw
                .try_into()
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Backend("bad image reference count".into())),
            None => Ok(0),
        }
    }

    /// One more user of `name`; the bytes are written when it is the first.
    fn take(&self, name: &str, bytes: &[u8]) -> StoreResult<()> {
        let n = self.count(name)?;
        if n == 0 {
            self.tx.put(Table::ImagenameBlob, name.as_bytes(), bytes)?;
        }
        self.tx.put(
            Table::ImagenameRefcount,
            name.as_bytes(),
            &(n + 1).to_be_bytes(),
        )
    }

    /// One user fewer; the bytes go with the last.
    fn release(&self, name: &str) -> StoreResult<()> {
        let n = self.count(name)?;
        if n <= 1 {
            self.tx.delete(Table::ImagenameRefcount, name.as_bytes())?;
            self.tx.delete(Table::ImagenameBlob, name.as_bytes())
        } else {
            self.tx.put(
                Table::ImagenameRefcount,
                name.as_bytes(),
                &(n - 1).to_be_bytes(),
            )
        }
    }
}

/// Sets one own color in a transaction that may write other entities too (seeding);
/// returns whether it changed (the same color already set is left, `updated_at` included).
pub fn set_color_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    reference: &str,
    color: &str,
    now: i64,
) -> StoreResult<bool> {
    let k = entry_key(account, theme, reference);
    if let Some(raw) = tx.get(Table::BrandingcolorColor, &k)? {
        if decode::<ColorRecord>(&raw)?.color == color {
            return Ok(false);
        }
    }
    let rec = ColorRecord {
        color: color.to_string(),
        updated_at: now,
    };
    tx.put(Table::BrandingcolorColor, &k, &encode(&rec))?;
    Ok(true)
}

/// Sets every `(reference, color)` pair inside `tx`; returns each one's own color before
/// (`None`: not set), for the audit entry.
pub fn set_colors_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    colors: &[(String, String)],
    now: i64,
) -> StoreResult<Vec<Option<ColorRecord>>> {
    let mut before = Vec::with_capacity(colors.len());
    for (reference, color) in colors {
        let rec = ColorRecord {
            color: color.clone(),
            updated_at: now,
        };
        let k = entry_key(account, theme, reference);
        before.push(read_in(tx, Table::BrandingcolorColor, &k)?);
        tx.put(Table::BrandingcolorColor, &k, &encode(&rec))?;
    }
    Ok(before)
}

/// Forgets the account's own color inside `tx`; returns it (`None`: there was none).
pub fn reset_color_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    reference: &str,
) -> StoreResult<Option<ColorRecord>> {
    let k = entry_key(account, theme, reference);
    let old = read_in(tx, Table::BrandingcolorColor, &k)?;
    tx.delete(Table::BrandingcolorColor, &k)?;
    Ok(old)
}

/// The record of an upload of `bytes`, made now.
pub fn image_record(bytes: &[u8], info: ImageInfo) -> ImageRecord {
    ImageRecord {
        name: content_name(bytes, info.kind),
        kind: info.kind,
        width: info.width,
        height: info.height,
        size: bytes.len() as u64,
        updated_at: crate::clock::now_millis(),
    }
}

/// Stores `rec` (made by [`image_record`] from `bytes`) inside `tx`; returns the image it
/// replaced.
pub fn set_image_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    reference: &str,
    bytes: &[u8],
    rec: &ImageRecord,
) -> StoreResult<Option<ImageRecord>> {
    let k = entry_key(account, theme, reference);
    let shared = Blobs { tx };
    let old: Option<ImageRecord> = read_in(tx, Table::BrandingimageImage, &k)?;
    // Re-uploading the same bytes only moves `updated_at`.
    if old.as_ref().map(|o| &o.name) != Some(&rec.name) {
        shared.take(&rec.name, bytes)?;
        if let Some(old) = &old {
            shared.release(&old.name)?;
        }
    }
    tx.put(Table::BrandingimageImage, &k, &encode(rec))?;
    Ok(old)
}

/// Sets one own image for seeding; returns whether it changed (the same bytes already set
/// are left, `updated_at` included, so a second run changes nothing).
pub fn seed_image_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    reference: &str,
    bytes: &[u8],
    info: ImageInfo,
    now: i64,
) -> StoreResult<bool> {
    let k = entry_key(account, theme, reference);
    if let Some(old) = read_in::<ImageRecord>(tx, Table::BrandingimageImage, &k)? {
        if old.name == content_name(bytes, info.kind) {
            return Ok(false);
        }
    }
    let rec = ImageRecord {
        updated_at: now,
        ..image_record(bytes, info)
    };
    set_image_in(tx, account, theme, reference, bytes, &rec)?;
    Ok(true)
}

/// Forgets the account's own image inside `tx`; returns it (`None`: there was none).
pub fn clear_image_in(
    tx: &dyn Tx,
    account: &Id,
    theme: Theme,
    reference: &str,
) -> StoreResult<Option<ImageRecord>> {
    let k = entry_key(account, theme, reference);
    let Some(old) = read_in::<ImageRecord>(tx, Table::BrandingimageImage, &k)? else {
        return Ok(None);
    };
    tx.delete(Table::BrandingimageImage, &k)?;
    Blobs { tx }.release(&old.name)?;
    Ok(Some(old))
}

fn read_in<T: serde::de::DeserializeOwned>(
    tx: &dyn Tx,
    table: Table,
    k: &[u8],
) -> StoreResult<Option<T>> {
    tx.get(table, k)?.map(|raw| decode(&raw)).transpose()
}

impl BrandingStore for Branding {
    fn colors(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ColorRecord)>> {
        self.own_entries(Table::BrandingcolorColor, &theme_prefix(account, theme))
    }

    fn color(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ColorRecord>> {
        read(
            &*self.engine,
            Table::BrandingcolorColor,
            &entry_key(account, theme, reference),
        )
    }

    fn set_colors(
        &self,
        account: &Id,
        theme: Theme,
        colors: &[(String, String)],
    ) -> StoreResult<Written<i64>> {
        let now = crate::clock::now_millis();
        transact(&*self.engine, |tx| {
            set_colors_in(tx, account, theme, colors, now)
        })?;
        Ok(self.written(now))
    }

    fn reset_color(&self, account: &Id, theme: Theme, reference: &str) -> StoreResult<Written<()>> {
        transact(&*self.engine, |tx| {
            reset_color_in(tx, account, theme, reference).map(drop)
        })?;
        Ok(self.written(()))
    }

    fn images(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ImageRecord)>> {
        self.own_entries(Table::BrandingimageImage, &theme_prefix(account, theme))
    }

    fn image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ImageRecord>> {
        read(
            &*self.engine,
            Table::BrandingimageImage,
            &entry_key(account, theme, reference),
        )
    }

    fn set_image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
        bytes: &[u8],
        info: ImageInfo,
    ) -> StoreResult<Written<ImageRecord>> {
        let rec = image_record(bytes, info);
        transact(&*self.engine, |tx| {
            set_image_in(tx, account, theme, reference, bytes, &rec).map(drop)
        })?;
        Ok(self.written(rec))
    }

    fn clear_image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Written<bool>> {
        let had = transact(&*self.engine, |tx| {
            Ok(clear_image_in(tx, account, theme, reference)?.is_some())
        })?;
        Ok(self.written(had))
    }

    fn blob(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        self.engine.get(Table::ImagenameBlob, name.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `check` on a store over each engine (PostgreSQL when `IAMD_TEST_PG_URL` is set).
    fn on_every_engine(check: impl Fn(&Branding)) {
        for subject in crate::store::conformance::each_engine() {
            check(&Branding::new(subject.store.engine.clone()));
        }
    }

    fn png_info() -> ImageInfo {
        ImageInfo {
            kind: ImageKind::Png,
            width: 1,
            height: 1,
        }
    }

    #[test]
    fn shared_bytes_are_counted_and_released_with_the_last_user() {
        on_every_engine(shared_bytes_case);
    }

    fn shared_bytes_case(b: &Branding) {
        let (a1, a2) = (Id::new(), Id::new());
        let bytes = b"pretend these are png bytes";
        let name = content_name(bytes, ImageKind::Png);
        drop(b.set_image(&a1, Theme::Light, "brand_logo_square", bytes, png_info()));
        drop(b.set_image(&a2, Theme::Dark, "brand_logo_email", bytes, png_info()));
        // Same bytes again on the same reference: still two users.
        drop(b.set_image(&a1, Theme::Light, "brand_logo_square", bytes, png_info()));
        assert!(b.blob(&name).unwrap().is_some());
        drop(b.clear_image(&a1, Theme::Light, "brand_logo_square"));
        assert_eq!(b.blob(&name).unwrap().as_deref(), Some(&bytes[..]));
        // Replacing the last user's image releases the old bytes.
        drop(b.set_image(&a2, Theme::Dark, "brand_logo_email", b"other", png_info()));
        assert!(b.blob(&name).unwrap().is_none());
        let other = content_name(b"other", ImageKind::Png);
        assert!(b.blob(&other).unwrap().is_some());
        drop(b.clear_image(&a2, Theme::Dark, "brand_logo_email"));
        assert!(b.blob(&other).unwrap().is_none());
        assert!(b.images(&a2, Theme::Dark).unwrap().is_empty());
    }

    #[test]
    fn colors_are_kept_per_account_and_theme() {
        on_every_engine(colors_case);
    }

    fn colors_case(b: &Branding) {
        let (a1, a2) = (Id::new(), Id::new());
        let set = |a: &Id, t: Theme, r: &str, c: &str| {
            drop(b.set_colors(a, t, &[(r.to_string(), c.to_string())]));
        };
        set(&a1, Theme::Light, "primary", "#111");
        set(&a1, Theme::Dark, "primary", "#222");
        set(&a2, Theme::Light, "primary", "#333");
        let own = b.colors(&a1, Theme::Light).unwrap();
        assert_eq!(own.len(), 1);
        assert_eq!(
            (own[0].0.as_str(), own[0].1.color.as_str()),
            ("primary", "#111")
        );
        assert_eq!(
            b.color(&a1, Theme::Dark, "primary").unwrap().unwrap().color,
            "#222"
        );
        drop(b.reset_color(&a1, Theme::Light, "primary"));
        assert!(b.color(&a1, Theme::Light, "primary").unwrap().is_none());
        assert!(b.color(&a2, Theme::Light, "primary").unwrap().is_some());
    }
}
