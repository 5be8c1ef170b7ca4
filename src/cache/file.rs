//! The cache file: JSON, written to a temporary file and renamed, readable by the owner alone.
//!
//! Several entra-doctor processes may share one file (a script running `token` in parallel, the
//! TUI beside a CLI). Each save therefore takes the lock beside the file
//! ([`crate::files::lock_beside`]), reads what is on disk, applies this process's changes, writes
//! and lets go: no process overwrites an entry another one stored in the meantime.
//!
//! A damaged cache file is moved aside, never deleted and never a crash. A file written by a
//! newer entra-doctor (a higher `version`) is refused and left exactly as it is: moving it aside
//! would lose what the newer version keeps there. A file that is not recognisably a cache at all
//! (a link, someone's `/etc/passwd` given by mistake) is refused before anything is created
//! beside it: it is never locked, renamed or rewritten.

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
    if !inspect(path)? {
        return Ok((Entries::new(), Vec::new()));
    }
    let _lock = lock(path)?;
    read(path)
}

/// Under the lock: reads the file, lets `change` apply this process's changes to its entries,
/// writes the result and returns it (with warnings when an unreadable file was set aside).
pub(super) fn update(
    path: &Path,
    change: impl FnOnce(&mut Entries),
) -> Result<(Entries, Vec<String>)> {
    // Before the lock: no lock file is created beside a file that is not ours.
    inspect(path)?;
    let _lock = lock(path)?;
    let (mut entries, warnings) = read(path)?;
    change(&mut entries);
    write(path, &entries)?;
    Ok((entries, warnings))
}

/// Whether the file exists, refusing (and leaving exactly as it is) anything that is not
/// recognisably an entra-doctor cache: a link, a directory, someone's `/etc/passwd` given by
/// mistake. Only a file of ours may be locked, rewritten or set aside.
fn inspect(path: &Path) -> Result<bool> {
    let refuse = |reason: String| Error::Cache {
        path: path.to_owned(),
        reason,
    };
    let metadata = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::file(path, e)),
        Ok(metadata) => metadata,
    };
    if metadata.file_type().is_symlink() {
        return Err(refuse(
            "is a symbolic link; entra-doctor never writes through a link (it could point at \
             any file): give the real path with --cache-file"
                .into(),
        ));
    }
    if metadata.is_dir() {
        return Err(refuse(
            "is a directory; give a file path with --cache-file".into(),
        ));
    }
    if !metadata.is_file() {
        return Err(refuse(
            "is not a regular file; give a file path with --cache-file".into(),
        ));
    }
    let foreign = |why: &str| {
        refuse(format!(
            "is not an entra-doctor token cache ({why}), so it was left exactly as it is: give \
             --cache-file the path of a cache or of a file that does not exist yet"
        ))
    };
    if metadata.len() > MAX_FILE_BYTES {
        return Err(foreign(&format!(
            "it is {} bytes, far larger than any token cache",
            metadata.len()
        )));
    }
    let bytes = fs::read(path).map_err(|e| Error::file(path, e))?;
    if !is_recognisable(&bytes) {
        return Err(foreign("it does not start the way a cache file does"));
    }
    if let Err(Unreadable::Newer(version)) = parse(&bytes) {
        return Err(newer(path, version));
    }
    Ok(true)
}

/// A newer entra-doctor's file: refused, and left as it is (it may hold what this one drops).
fn newer(path: &Path, version: u32) -> Error {
    Error::Cache {
        path: path.to_owned(),
        reason: format!(
            "was written by a newer entra-doctor (format version {version}; this one reads \
             version {VERSION}) and was left as it is; upgrade entra-doctor, or give another \
             --cache-file"
        ),
    }
}

/// Whether bytes are recognisably a cache file, whole or damaged: a JSON object with `version`
/// and `entries`, or (cut short) the start of one as entra-doctor writes it, `{ "version":`.
fn is_recognisable(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    let starts_like_ours = head
        .trim_start()
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"version\""));
    starts_like_ours
        || serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|value| {
                let object = value.as_object()?;
                Some(object.contains_key("version") && object.contains_key("entries"))
            })
            .unwrap_or(false)
}

fn lock(path: &Path) -> Result<crate::files::FileLock> {
    crate::files::lock_beside(path).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!(
            "cannot take the lock {}.lock ({e}); check the directory is writable and the lock \
             is not a symbolic link, or give another --cache-file",
            path.display()
        ),
    })
}

/// Reads the file; the caller holds the lock. A file that changed into something that is not a
/// cache since [`inspect`] is refused the same way.
fn read(path: &Path) -> Result<(Entries, Vec<String>)> {
    if !inspect(path)? {
        return Ok((Entries::new(), Vec::new()));
    }
    let bytes = fs::read(path).map_err(|e| Error::file(path, e))?;
    let problem = match parse(&bytes) {
        Ok(entries) => {
            let entries = entries.into_iter().map(|e| (e.key.id(), e)).collect();
            return Ok((entries, Vec::new()));
        }
        Err(Unreadable::Newer(version)) => return Err(newer(path, version)),
        Err(Unreadable::NotACache(problem)) => problem,
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
