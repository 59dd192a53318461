//! Branding: per-account colors and images of each theme, and the image bytes.
//!
//! Only an account's own customisations are stored; defaults and inheritance from a parent
//! account are resolved by the handlers. Image bytes are content-addressed
//! (`branding::content_name`) and shared: identical uploads, in any account or theme, are
//! stored once and counted, and the bytes go when the last reference to them does, so
//! re-uploading never grows the database and a served name never changes its content.

use super::durability::Written;
use super::keys::key;
use super::{abort, decode, encode, Commit, StoreError, StoreResult, Trees, TxResult};
use crate::branding::{content_name, ImageInfo, ImageKind, Theme};
use crate::ids::Id;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

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
    fn blob(&self, name: &str) -> StoreResult<Option<sled::IVec>>;
}

pub struct SledBranding {
    t: Trees,
    commit: Commit,
}

impl SledBranding {
    pub fn new(t: Trees, commit: Commit) -> SledBranding {
        SledBranding { t, commit }
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

/// Every `(reference, record)` under `prefix`.
fn own_entries<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    prefix: &[u8],
) -> StoreResult<Vec<(String, T)>> {
    let mut out = Vec::new();
    for item in tree.scan_prefix(prefix) {
        let (k, v) = item?;
        let reference = std::str::from_utf8(&k[prefix.len()..])
            .map_err(|_| StoreError::Backend("branding key is not UTF-8".into()))?;
        out.push((reference.to_string(), decode(&v)?));
    }
    Ok(out)
}

/// The reference counts of shared image bytes, inside a transaction.
struct Blobs<'a> {
    blobs: &'a TransactionalTree,
    refs: &'a TransactionalTree,
}

impl Blobs<'_> {
    fn count(&self, name: &str) -> TxResult<u64> {
        Ok(match self.refs.get(name.as_bytes())? {
            Some(raw) => {
                let bytes: [u8; 8] = raw.as_ref().try_into().map_err(|_| {
                    ConflictableTransactionError::Abort(StoreError::Backend(
                        "bad image reference count".into(),
                    ))
                })?;
                u64::from_be_bytes(bytes)
            }
            None => 0,
        })
    }

    /// One more user of `name`; the bytes are written when it is the first.
    fn take(&self, name: &str, bytes: &[u8]) -> TxResult<()> {
        let n = self.count(name)?;
        if n == 0 {
            self.blobs.insert(name.as_bytes(), bytes)?;
        }
        self.refs.insert(name.as_bytes(), &(n + 1).to_be_bytes())?;
        Ok(())
    }

    /// One user fewer; the bytes go with the last.
    fn release(&self, name: &str) -> TxResult<()> {
        let n = self.count(name)?;
        if n <= 1 {
            self.refs.remove(name.as_bytes())?;
            self.blobs.remove(name.as_bytes())?;
        } else {
            self.refs.insert(name.as_bytes(), &(n - 1).to_be_bytes())?;
        }
        Ok(())
    }
}

impl BrandingStore for SledBranding {
    fn colors(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ColorRecord)>> {
        own_entries(
            &self.t.get()?.brandingcolor_color,
            &theme_prefix(account, theme),
        )
    }

    fn color(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ColorRecord>> {
        super::codec::read(
            &self.t.get()?.brandingcolor_color,
            entry_key(account, theme, reference),
        )
    }

    fn set_colors(
        &self,
        account: &Id,
        theme: Theme,
        colors: &[(String, String)],
    ) -> StoreResult<Written<i64>> {
        let now = crate::clock::now_millis();
        self.t.get()?.brandingcolor_color.transaction(|tree| {
            for (reference, color) in colors {
                let rec = ColorRecord {
                    color: color.clone(),
                    updated_at: now,
                };
                tree.insert(entry_key(account, theme, reference), encode(&rec))?;
            }
            Ok(())
        })?;
        Ok(self.commit.written(now))
    }

    fn reset_color(&self, account: &Id, theme: Theme, reference: &str) -> StoreResult<Written<()>> {
        self.t
            .get()?
            .brandingcolor_color
            .remove(entry_key(account, theme, reference))?;
        Ok(self.commit.written(()))
    }

    fn images(&self, account: &Id, theme: Theme) -> StoreResult<Vec<(String, ImageRecord)>> {
        own_entries(
            &self.t.get()?.brandingimage_image,
            &theme_prefix(account, theme),
        )
    }

    fn image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Option<ImageRecord>> {
        super::codec::read(
            &self.t.get()?.brandingimage_image,
            entry_key(account, theme, reference),
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
        let rec = ImageRecord {
            name: content_name(bytes, info.kind),
            kind: info.kind,
            width: info.width,
            height: info.height,
            size: bytes.len() as u64,
            updated_at: crate::clock::now_millis(),
        };
        let k = entry_key(account, theme, reference);
        let t = &self.t.get()?;
        (
            &t.brandingimage_image,
            &t.imagename_blob,
            &t.imagename_refcount,
        )
            .transaction(|(images, blobs, refs)| {
                let shared = Blobs { blobs, refs };
                let old: Option<ImageRecord> = match images.get(&k)? {
                    Some(raw) => Some(decode(&raw).map_err(ConflictableTransactionError::Abort)?),
                    None => None,
                };
                // Re-uploading the same bytes only moves `updated_at`.
                if old.as_ref().map(|o| &o.name) != Some(&rec.name) {
                    shared.take(&rec.name, bytes)?;
                    if let Some(old) = &old {
                        shared.release(&old.name)?;
                    }
                }
                images.insert(k.as_slice(), encode(&rec))?;
                Ok(())
            })?;
        Ok(self.commit.written(rec))
    }

    fn clear_image(
        &self,
        account: &Id,
        theme: Theme,
        reference: &str,
    ) -> StoreResult<Written<bool>> {
        let k = entry_key(account, theme, reference);
        let t = &self.t.get()?;
        let had = (
            &t.brandingimage_image,
            &t.imagename_blob,
            &t.imagename_refcount,
        )
            .transaction(|(images, blobs, refs)| {
                let Some(raw) = images.remove(k.as_slice())? else {
                    return Ok(false);
                };
                let old: ImageRecord = match decode(&raw) {
                    Ok(old) => old,
                    Err(e) => return abort(e),
                };
                Blobs { blobs, refs }.release(&old.name)?;
                Ok(true)
            })?;
        Ok(self.commit.written(had))
    }

    fn blob(&self, name: &str) -> StoreResult<Option<sled::IVec>> {
        Ok(self.t.get()?.imagename_blob.get(name.as_bytes())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, super::super::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::Store::open(dir.path()).unwrap();
        (dir, store)
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
        let (_dir, store) = store();
        let b = &store.branding;
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
        let (_dir, store) = store();
        let b = &store.branding;
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
