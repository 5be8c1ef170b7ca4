//! The cache file: JSON, written to a temporary file and renamed, readable by the owner alone.
//! A file that cannot be read as a cache is moved aside, never deleted and never a crash.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CacheEntry;
use crate::error::{Error, Result};

const VERSION: u32 = 1;
/// A real cache is a few KiB per entry; anything this large is not ours.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    entries: Vec<CacheEntry>,
}

pub(super) fn load(path: &Path) -> Result<(Vec<CacheEntry>, Vec<String>)> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(Error::file(path, e)),
    };
    if metadata.is_dir() {
        return Err(Error::Cache {
            path: path.to_owned(),
            reason: "is a directory; give a file path with --cache-file".into(),
        });
    }
    let problem = if metadata.len() > MAX_FILE_BYTES {
        Some(format!(
            "it is {} bytes, far larger than any token cache",
            metadata.len()
        ))
    } else {
        let bytes = fs::read(path).map_err(|e| Error::file(path, e))?;
        match parse(&bytes) {
            Ok(entries) => return Ok((entries, Vec::new())),
            Err(problem) => Some(problem),
        }
    };
    let backup = set_aside(path)?;
    let warning = format!(
        "the token cache {} could not be read: {}; it was moved to {} and an empty cache started",
        path.display(),
        problem.unwrap_or_default(),
        backup.display()
    );
    tracing::warn!("{warning}");
    Ok((Vec::new(), vec![warning]))
}

/// The entries of a cache file's bytes; the error says why they are not a cache.
pub(super) fn parse(bytes: &[u8]) -> std::result::Result<Vec<CacheEntry>, String> {
    match serde_json::from_slice::<CacheFile>(bytes) {
        Ok(file) if file.version == VERSION => Ok(file.entries),
        Ok(file) => Err(format!(
            "it has version {}, this entra-doctor reads {VERSION}",
            file.version
        )),
        Err(e) => Err(format!("it is not a token cache ({e})")),
    }
}

fn set_aside(path: &Path) -> Result<PathBuf> {
    crate::files::set_aside(path).map_err(|e| Error::Cache {
        path: path.to_owned(),
        reason: format!("is unreadable and could not be moved aside ({e})"),
    })
}

pub(super) fn save<'a>(path: &Path, entries: impl Iterator<Item = &'a CacheEntry>) -> Result<()> {
    let file = CacheFile {
        version: VERSION,
        entries: entries.cloned().collect(),
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
