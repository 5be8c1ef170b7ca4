//! Files the tool writes (token cache, profiles): atomically, readable by the owner alone, and
//! (for the cache) under a lock that other entra-doctor processes respect.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same directory, fsynced, then
/// renamed over `path` (and the directory fsynced on Unix, so the rename itself survives a
/// crash): a reader sees the old file or the new one, never half of one. The file is mode 0600,
/// and a directory created on the way 0700.
///
/// A symbolic link at `path` is refused ([`refuse_link`]): nothing is written through it, and
/// the rename would not follow one anyway (it replaces the link itself).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    refuse_link(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        create_private_dir(dir)?;
    }
    let mut temp = path.as_os_str().to_owned();
    // Unique per write, so two writers (two threads, or two processes) never share one.
    temp.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let temp = PathBuf::from(temp);
    let written = (|| {
        // `create_new`: a file (or a link) planted at the temporary name is never opened.
        let mut out = open_private(&temp, Open::New)?;
        out.write_all(bytes)?;
        out.sync_all()?;
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(dir.unwrap_or(Path::new(".")))
}

/// A file written as it goes (a report of a long run) yet replaced atomically: the bytes go to a
/// private temporary file beside `path` (mode 0600, never through a link), and
/// [`StreamedFile::finish`] renames it over `path`. Dropped without `finish`, the temporary file
/// is removed and `path` is untouched.
#[derive(Debug)]
pub struct StreamedFile {
    path: PathBuf,
    temp: PathBuf,
    out: Option<std::io::BufWriter<fs::File>>,
}

impl StreamedFile {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        refuse_link(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let temp = PathBuf::from(temp);
        let file = open_private(&temp, Open::New)?;
        Ok(Self {
            path: path.to_path_buf(),
            temp,
            out: Some(std::io::BufWriter::new(file)),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.out {
            Some(out) => out.write_all(bytes),
            None => Err(std::io::Error::other("the file was already finished")),
        }
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(mut self) -> std::io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let file = out
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        refuse_link(&self.path)?;
        fs::rename(&self.temp, &self.path)?;
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
        sync_dir(dir.unwrap_or(Path::new(".")))
    }
}

impl Drop for StreamedFile {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// An exclusive lock on `<path>.lock`, held until it is dropped.
///
/// The lock is on a file of its own because the data file is replaced by a rename: a lock on it
/// would stay with the old file, and the next writer would lock the new one. It is an advisory
/// lock (`flock` on Unix, `LockFileEx` on Windows) that the OS releases when the process ends,
/// so a crashed writer never leaves the file locked.
#[derive(Debug)]
pub struct FileLock {
    _file: fs::File,
}

/// Waits for the exclusive lock beside `path`, creating its directory (0700) and the lock file
/// (0600) when needed. The lock is held only to read, merge and write, a few milliseconds.
pub fn lock_beside(path: &Path) -> std::io::Result<FileLock> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = open_private(Path::new(&name), Open::Keep)?;
    // fs4 rather than std's `File::lock`, which needs Rust 1.89 (rust-version is 1.85).
    fs4::fs_std::FileExt::lock_exclusive(&file)?;
    Ok(FileLock { _file: file })
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; its rename is already durable once it returns.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// How [`open_private`] treats an existing file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// It must not exist (`O_EXCL`): for temporary files.
    New,
    /// Keep its bytes: a lock file.
    Keep,
    /// Append to it: a log.
    Append,
}

/// Opens a file for writing that only its owner may read (mode 0600 on Unix), creating it, and
/// never through a symbolic link (`O_NOFOLLOW`: a link there is an error, not followed). An
/// existing file of the owner's that others could read is made private.
pub fn open_private(path: &Path, how: Open) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    match how {
        Open::New => options.write(true).create_new(true),
        Open::Keep => options.write(true).create(true),
        Open::Append => options.append(true).create(true),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let file = options.open(path).map_err(|e| link_error(path, e))?;
        let permissions = file.metadata()?.permissions();
        if permissions.mode() & 0o077 != 0 {
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        refuse_link(path)?;
        options.open(path)
    }
}

/// `O_NOFOLLOW` on a link fails with `ELOOP` ("too many levels of symbolic links"), which
/// misleads: say what it is.
#[cfg(unix)]
fn link_error(path: &Path, error: std::io::Error) -> std::io::Error {
    if error.raw_os_error() == Some(libc::ELOOP) {
        refuse_link(path).err().unwrap_or(error)
    } else {
        error
    }
}

/// An error when `path` is a symbolic link: files the tool writes are never written through a
/// link, which could point at any file the user can write.
pub fn refuse_link(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link, and entra-doctor never writes through one (it could \
                 point at any file): remove the link or give the real path",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// Creates `dir` (and its missing parents) readable by the owner alone (0700), whoever comes
/// first: the cache, the log, a report or an export. An existing directory is left as it is.
#[cfg(unix)]
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// Moves an unreadable file aside as `<name>.corrupt-<UTC time>` (with `-2`, `-3`… when that
/// name is taken, so one backup never replaces another) and returns the new path.
pub fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut base = path.as_os_str().to_owned();
    base.push(format!(".corrupt-{stamp}"));
    let mut backup = PathBuf::from(&base);
    let mut n = 1;
    while backup.try_exists()? {
        n += 1;
        let mut numbered = base.clone();
        numbered.push(format!("-{n}"));
        backup = PathBuf::from(numbered);
    }
    fs::rename(path, &backup)?;
    Ok(backup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backup_never_replaces_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let mut backups = Vec::new();
        for text in ["one", "two", "three"] {
            fs::write(&path, text).unwrap();
            backups.push(set_aside(&path).unwrap());
        }
        let texts: Vec<String> = backups
            .iter()
            .map(|b| fs::read_to_string(b).unwrap())
            .collect();
        assert_eq!(texts, ["one", "two", "three"]);
    }

    #[cfg(unix)]
    #[test]
    fn written_files_are_private_even_over_a_public_one() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file");
        write_private(&path, b"first").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"second").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&dir.path().join("a/b")), 0o700);
        assert_eq!(fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = fs::read_dir(dir.path().join("a/b")).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left behind");
    }
}
