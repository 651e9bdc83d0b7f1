//! Every write certgen makes: whole files or nothing, keys owner-only, and
//! no existing file replaced unless the caller says so.
//!
//! Each file is first written in full to a temporary file in its own folder
//! and flushed to disk; only when every file of the run is ready are they
//! moved into place. A run that fails before that point leaves the folder as
//! it was.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context, Result};

/// Who may read a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Owner read/write only (0600): private keys.
    Secret,
    /// World-readable (0644): certificates, requests, the serial file.
    Public,
}

impl Access {
    /// The Unix permission bits.
    pub fn mode(self) -> u32 {
        match self {
            Access::Secret => 0o600,
            Access::Public => 0o644,
        }
    }
}

/// One file to write.
#[derive(Clone, Debug)]
pub struct Output {
    /// Where the file goes.
    pub path: PathBuf,
    /// Its complete content.
    pub contents: Vec<u8>,
    /// Its permissions.
    pub access: Access,
    /// Whether an existing file at `path` may be replaced. When false, the
    /// final step fails rather than replace a file that appeared meanwhile.
    pub replace: bool,
}

/// Creates the output folder (and its parents) when missing.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => bail!("{} exists and is not a folder", dir.display()),
        Err(_) => fs::create_dir_all(dir)
            .with_context(|| format!("failed to create the folder {}", dir.display())),
    }
}

/// Whether anything, even a dangling symbolic link, occupies `path`.
pub fn occupied(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Writes every output, all or none as far as the file system allows.
///
/// A failure while the temporary files are written removes them and leaves
/// every target untouched. Moving them into place is one rename (or link)
/// per file, which only fails on a file system fault or a race with another
/// writer.
pub fn commit(outputs: &[Output]) -> Result<()> {
    let mut staged: Vec<PathBuf> = Vec::with_capacity(outputs.len());
    for output in outputs {
        match stage(output) {
            Ok(temp) => staged.push(temp),
            Err(err) => {
                discard(&staged);
                return Err(err);
            }
        }
    }
    for (index, (output, temp)) in outputs.iter().zip(&staged).enumerate() {
        if let Err(err) = place(temp, output) {
            discard(&staged[index..]);
            return Err(err);
        }
    }
    for dir in parent_dirs(outputs) {
        sync_dir(&dir)?;
    }
    Ok(())
}

/// An exclusive advisory lock on a folder, held until it is dropped.
///
/// Every certgen run that reads or advances a CA's serial file, or writes
/// into the CA's folder, holds this lock on that folder, so that parallel
/// runs (CI jobs sharing one CA) never hand out a serial twice. It is a lock
/// on the folder itself, not a lock file, so it leaves nothing behind.
pub struct FolderLock {
    _folder: File,
}

/// Waits for, then takes, the lock on `dir`.
pub fn lock_folder(dir: &Path) -> Result<FolderLock> {
    let folder = File::open(dir)
        .with_context(|| format!("failed to open the folder {} to lock it", dir.display()))?;
    folder
        .lock()
        .with_context(|| format!("failed to lock the folder {}", dir.display()))?;
    Ok(FolderLock { _folder: folder })
}

/// Removes temporary files that a killed certgen run left in `dir`: those
/// named like [`temp_path`]'s whose process no longer runs. Called with the
/// folder locked, so no live run is writing them. Where process ids cannot
/// be checked (no /proc), nothing is removed.
pub fn remove_stale_temps(dir: &Path) {
    let proc = Path::new("/proc");
    if !proc.is_dir() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temp_owner(&name.to_string_lossy()) else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temporary file name `.NAME.certgen-PID-N.tmp`.
fn temp_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (_, tail) = rest.rsplit_once(".certgen-")?;
    let (pid, count) = tail.split_once('-')?;
    count.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Copies `path` aside as `path.replaced-STAMP` before it is replaced, so
/// that a replaced CA key is never lost. Returns the new name.
pub fn keep_aside(path: &Path, stamp: &str) -> Result<PathBuf> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".replaced-{stamp}"));
    let aside = path.with_file_name(name);
    fs::hard_link(path, &aside)
        .or_else(|_| fs::copy(path, &aside).map(|_| ()))
        .with_context(|| {
            format!(
                "failed to keep a copy of {} as {}",
                path.display(),
                aside.display()
            )
        })?;
    Ok(aside)
}

/// Writes `output` to a fresh temporary file beside its target, flushed to
/// disk, and returns the temporary path.
fn stage(output: &Output) -> Result<PathBuf> {
    let temp = temp_path(&output.path);
    let result = write_new(&temp, &output.contents, output.access.mode());
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.with_context(|| format!("failed to write {}", output.path.display()))?;
    Ok(temp)
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created with the final mode, so a key is never readable by others,
        // not even for the moment between create and chmod.
        options.mode(mode);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // The umask may have removed bits (0644 becomes 0600 under umask
        // 077); set the exact mode on the open file.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(contents)?;
    file.sync_all()
}

/// Moves a staged file to its target. Without `replace`, a hard link does
/// the move, because unlike rename it fails when the target exists.
fn place(temp: &Path, output: &Output) -> Result<()> {
    let target = &output.path;
    if output.replace {
        return fs::rename(temp, target)
            .with_context(|| format!("failed to move {} into place", target.display()));
    }
    match fs::hard_link(temp, target) {
        Ok(()) => {
            let _ = fs::remove_file(temp);
            Ok(())
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            bail!(
                "{} appeared while certgen was running; it was left as it is",
                target.display()
            )
        }
        // Some file systems have no hard links; fall back to a checked rename.
        Err(_) if !occupied(target) => fs::rename(temp, target)
            .with_context(|| format!("failed to move {} into place", target.display())),
        Err(err) => Err(err).with_context(|| format!("failed to write {}", target.display())),
    }
}

fn discard(temps: &[PathBuf]) {
    for temp in temps {
        let _ = fs::remove_file(temp);
    }
}

fn parent_dirs(outputs: &[Output]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = outputs.iter().map(|o| parent_dir(&o.path)).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes a folder's entries, so that a rename survives a power cut.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("failed to flush the folder {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A temporary name in the target's folder, unique within this process and
/// across processes. The leading dot keeps it out of `ls` and globs.
fn temp_path(target: &Path) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    target.with_file_name(format!(
        ".{name}.certgen-{}-{count}.tmp",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(path: PathBuf, text: &str, access: Access, replace: bool) -> Output {
        Output {
            path,
            contents: text.as_bytes().to_vec(),
            access,
            replace,
        }
    }

    #[cfg(unix)]
    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn writes_files_with_their_modes_and_no_temporaries_left() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a.key");
        let cert = dir.path().join("a.pem");
        commit(&[
            output(key.clone(), "secret", Access::Secret, false),
            output(cert.clone(), "public", Access::Public, false),
        ])
        .unwrap();
        assert_eq!(fs::read_to_string(&key).unwrap(), "secret");
        assert_eq!(fs::read_to_string(&cert).unwrap(), "public");
        #[cfg(unix)]
        {
            assert_eq!(mode_of(&key), 0o600);
            assert_eq!(mode_of(&cert), 0o644);
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn refuses_to_replace_a_file_that_appeared_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.pem");
        fs::write(&path, "old").unwrap();
        let err = commit(&[output(path.clone(), "new", Access::Public, false)]).unwrap_err();
        assert!(err.to_string().contains("appeared"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        commit(&[output(path.clone(), "new", Access::Public, true)]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }

    #[test]
    fn keep_aside_preserves_the_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.key");
        fs::write(&path, "old key").unwrap();
        let aside = keep_aside(&path, "20260101T000000Z").unwrap();
        assert_eq!(
            aside.file_name().unwrap(),
            "ca.key.replaced-20260101T000000Z"
        );
        commit(&[output(path.clone(), "new key", Access::Secret, true)]).unwrap();
        assert_eq!(fs::read_to_string(&aside).unwrap(), "old key");
        assert_eq!(fs::read_to_string(&path).unwrap(), "new key");
    }

    #[test]
    fn recognises_only_its_own_temporary_names() {
        assert_eq!(temp_owner(".server.key.certgen-4242-0.tmp"), Some(4242));
        assert_eq!(temp_owner(".a.b.certgen-7-12.tmp"), Some(7));
        for other in [
            "server.key",
            ".server.key.tmp",
            ".x.certgen-abc-1.tmp",
            ".x.certgen-1.tmp",
        ] {
            assert_eq!(temp_owner(other), None, "{other}");
        }
        let name = temp_path(Path::new("dir/server.key"));
        let name = name.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(temp_owner(&name), Some(std::process::id()));
    }

    #[test]
    fn removes_temporaries_of_dead_processes_only() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids wrap far below this, so no process has it.
        let dead = dir.path().join(".ca.key.certgen-4000000000-0.tmp");
        let mine = dir
            .path()
            .join(format!(".ca.pem.certgen-{}-0.tmp", std::process::id()));
        let other = dir.path().join("notes.tmp");
        for path in [&dead, &mine, &other] {
            fs::write(path, "x").unwrap();
        }
        remove_stale_temps(dir.path());
        if Path::new("/proc").is_dir() {
            assert!(!dead.exists());
        }
        assert!(mine.exists() && other.exists());
    }

    #[test]
    fn ensure_dir_rejects_a_file_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        fs::write(&file, "").unwrap();
        assert!(ensure_dir(&file).is_err());
        let nested = dir.path().join("a/b");
        ensure_dir(&nested).unwrap();
        assert!(nested.is_dir());
    }
}
