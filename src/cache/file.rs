//! The cache file: JSON, written to a temporary file and renamed, readable by the owner alone.
//!
//! Several entra-doctor processes may share one file (a script running `token` in parallel, the
//! TUI beside a CLI). Each save therefore takes the lock beside the file
//! ([`crate::files::lock_beside`]), reads what is on disk, applies this process's changes, writes
//! and lets go: no process overwrites an entry another one stored in the meantime.
//!
//! A file that cannot be read as a cache is moved aside, never deleted and never a crash. A file
//! written by a newer entra-doctor (a higher `version`) is refused and left exactly as it is:
//! moving it aside would lose what the newer version keeps there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CacheEntry;
use crate::error::{Error, Result};

pub(super) const VERSION: u32 = 1;
/// A real cache is a few KiB per entry; anything this large is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: Vec<CacheEntry>,
}

/// Only the version, read first: a newer format may have changed everything else.
#[derive(Deserialize)]
struct Versioned {
    version: Option<u32>,
}

/// Entries by [`super::CacheKey::id`].
pub(super) type Entries = BTreeMap<String, CacheEntry>;

/// Reads the file (under the lock, so a corrupt file is not set aside while another process
/// replaces it); a missing file is an empty cache and creates nothing.
pub(super) fn load(path: &Path) -> Result<(Entries, Vec<String>)> {
    match fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((Entries::new(), Vec::new())),
        Err(e) => Err(Error::file(path, e)),
        Ok(_) => {
            let _lock = lock(path)?;
            read(path)
        }
    }
}

/// Under the lock: reads the file, lets `change` apply this process's changes to its entries,
/// writes the result and returns it (with warnings when an unreadable file was set aside).
pub(super) fn update(
    path: &Path,
    change: impl FnOnce(&mut Entries),
) -> Result<(Entries, Vec<String>)> {
    let _lock = lock(path)?;
    let (mut entries, warnings) = read(path)?;
    change(&mut entries);
    write(path, &entries)?;
    Ok((entries, warnings))
}

fn lock(path: &Path) -> Result<crate::files::FileLock> {
    crate::files::lock_beside(path).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!(
            "cannot take the lock {}.lock ({e}); check the directory is writable, or give \
             another --cache-file",
            path.display()
        ),
    })
}

/// Reads the file; the caller holds the lock.
fn read(path: &Path) -> Result<(Entries, Vec<String>)> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Entries::new(), Vec::new()));
        }
        Err(e) => return Err(Error::file(path, e)),
    };
    if metadata.is_dir() {
        return Err(Error::Cache {
            path: path.to_owned(),
            reason: "is a directory; give a file path with --cache-file".into(),
        });
    }
    let problem = if metadata.len() > MAX_FILE_BYTES {
        format!(
            "it is {} bytes, far larger than any token cache",
            metadata.len()
        )
    } else {
        let bytes = fs::read(path).map_err(|e| Error::file(path, e))?;
        match parse(&bytes) {
            Ok(entries) => {
                let entries = entries.into_iter().map(|e| (e.key.id(), e)).collect();
                return Ok((entries, Vec::new()));
            }
            Err(Unreadable::Newer(version)) => {
                return Err(Error::Cache {
                    path: path.to_owned(),
                    reason: format!(
                        "was written by a newer entra-doctor (format version {version}; this \
                         one reads version {VERSION}) and was left as it is; upgrade \
                         entra-doctor, or give another --cache-file"
                    ),
                });
            }
            Err(Unreadable::NotACache(problem)) => problem,
        }
    };
    let backup = set_aside(path)?;
    let warning = format!(
        "the token cache {} could not be read: {problem}; it was moved to {} and an empty cache \
         started",
        path.display(),
        backup.display()
    );
    tracing::warn!("{warning}");
    Ok((Entries::new(), vec![warning]))
}

/// Why a cache file's bytes are not entries this version can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unreadable {
    /// A newer entra-doctor wrote it: refused and left alone, never set aside.
    Newer(u32),
    /// Not a token cache (corrupt, cut short, an old version): set aside.
    NotACache(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::Newer(version) => write!(
                f,
                "it was written by a newer entra-doctor (format version {version}; this one reads {VERSION})"
            ),
            Unreadable::NotACache(problem) => f.write_str(problem),
        }
    }
}

/// The entries of a cache file's bytes, or why they are not a cache.
pub(super) fn parse(bytes: &[u8]) -> std::result::Result<Vec<CacheEntry>, Unreadable> {
    let version = serde_json::from_slice::<Versioned>(bytes)
        .ok()
        .and_then(|v| v.version);
    if let Some(version) = version.filter(|v| *v > VERSION) {
        return Err(Unreadable::Newer(version));
    }
    match serde_json::from_slice::<CacheFile>(bytes) {
        Ok(file) if file.version == VERSION => Ok(file.entries),
        Ok(file) => Err(Unreadable::NotACache(format!(
            "it has version {}, this entra-doctor reads {VERSION}",
            file.version
        ))),
        Err(e) if e.is_eof() => Err(Unreadable::NotACache(format!("it is cut short ({e})"))),
        Err(e) => Err(Unreadable::NotACache(format!(
            "it is not a token cache ({e})"
        ))),
    }
}

fn set_aside(path: &Path) -> Result<PathBuf> {
    crate::files::set_aside(path).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!("is unreadable and could not be moved aside ({e})"),
    })
}

fn write(path: &Path, entries: &Entries) -> Result<()> {
    let file = CacheFile {
        version: VERSION,
        entries: entries.values().cloned().collect(),
    };
    let json = serde_json::to_vec_pretty(&file).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!("could not be encoded ({e})"),
    })?;
    crate::files::write_private(path, &json).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!("cannot be written: {e}"),
    })
}
