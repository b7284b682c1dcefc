//! Host-side handling of session files directories: created mode 0700 and owned by the uid of
//! the sandbox that mounts them, so a sandbox that escaped its mount namespace still cannot
//! read another session's files. Blocking filesystem code; callers run it off the runtime.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown};
use std::path::Path;

/// Directories on the way to files and sockets: others may traverse (the sandbox uids must,
/// to reach their own entries) but not list them.
pub(crate) const TRAVERSE_ONLY: u32 = 0o711;

/// Creates `dir` (0700) if needed and makes everything in it owned by `uid`:`uid`.
///
/// Ownership changes when a session comes back in a different slot, and files the server put
/// there (uploads) start out root-owned. The walk never follows symlinks (`lchown`, no descent
/// into links), so a link planted by sandboxed code cannot redirect it; it runs only while no
/// sandbox of the session is running.
pub(crate) fn prepare(dir: &Path, uid: u32) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    chown_tree(dir, uid)
}

fn chown_tree(path: &Path, uid: u32) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.uid() != uid || meta.gid() != uid {
        lchown(path, Some(uid), Some(uid))?;
    }
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_tree(&entry?.path(), uid)?;
        }
    }
    Ok(())
}

/// Creates `dir` with `mode`, owned by root (the server), whether or not it existed.
pub(crate) fn ensure_dir(dir: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
}

/// Deletes a session's files; missing is fine. `remove_dir_all` does not follow symlinks.
pub(crate) fn delete(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// The owner of `dir`, if it exists: lets a returning session take back its old slot (and skip
/// the ownership walk).
pub(crate) fn owner(dir: &Path) -> Option<u32> {
    fs::metadata(dir).ok().map(|m| m.uid())
}
