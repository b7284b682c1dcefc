//! The host side of a session's `/mnt/files`, for the files-mount API (CONTRACT §3.15): list,
//! read, write and delete files by their mount-relative path.
//!
//! The server runs as root and the directory is written by sandboxed code, which can plant
//! symlinks (`/mnt/files/x -> /etc/shadow` points at the *host's* file once seen from outside)
//! and swap directories for links while the server walks them. So nothing here resolves a path
//! by name from the host root: the files directory is opened once (`O_NOFOLLOW`), and every
//! path below it is resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
//! RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)` against that descriptor, so the kernel refuses
//! any link and any escape atomically. Paths are also checked lexically first ([`MountPath`]),
//! to answer `..` with a clear message. Blocking code; callers run it off the runtime.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::SystemTime;

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag, openat2};
use nix::sys::stat::{Mode, SFlag, fstat};
use nix::unistd::{UnlinkatFlags, fchown, unlinkat};

/// Where the files appear inside the sandbox (`sandbox_mount_prefix` on the wire).
pub const SANDBOX_MOUNT_PREFIX: &str = "/mnt/files";

/// Longest mount-relative path accepted, in bytes.
const MAX_PATH_BYTES: usize = 1024;
/// Longest single path component (the usual filesystem limit).
const MAX_NAME_BYTES: usize = 255;
/// Most files one listing walks, so a session cannot make a listing unbounded.
pub const MAX_LISTED_FILES: usize = 100_000;

/// A checked mount-relative path: `a/b/c.txt`, no empty, `.` or `..` components, no NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPath(String);

/// Why a mount operation failed. Messages name the path as the caller gave it (relative to
/// the mount) and never a host path.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("{0}")]
    InvalidPath(String),
    #[error("no file `{0}` in the mount")]
    NotFound(String),
    #[error("`{0}` is a directory, not a file")]
    IsDirectory(String),
    #[error(
        "`{0}` goes through a symbolic link or is not a regular file; it cannot be transferred"
    )]
    NotRegular(String),
    #[error("filesystem error on `{path}` ({step})")]
    Io {
        path: String,
        step: &'static str,
        #[source]
        source: io::Error,
    },
}

impl MountPath {
    /// Checks a path as the SDKs send it: a leading `/` is dropped (`/reports/a.csv` and
    /// `reports/a.csv` are the same file); `\` is an ordinary character, as on Linux.
    pub fn parse(raw: &str) -> Result<MountPath, MountError> {
        let trimmed = raw.trim_start_matches('/');
        if trimmed.is_empty() {
            return Err(MountError::InvalidPath(
                "`mount_relative_path` is empty; name a file, e.g. `reports/summary.csv`".into(),
            ));
        }
        if trimmed.len() > MAX_PATH_BYTES {
            return Err(MountError::InvalidPath(format!(
                "`mount_relative_path` is {} bytes long; the limit is {MAX_PATH_BYTES}",
                trimmed.len()
            )));
        }
        if trimmed.contains('\0') {
            return Err(MountError::InvalidPath(
                "`mount_relative_path` contains a NUL character".into(),
            ));
        }
        for part in trimmed.split('/') {
            match part {
                "" => {
                    return Err(MountError::InvalidPath(format!(
                        "`mount_relative_path` `{raw}` has an empty component (`//` or a \
                         trailing `/`); name a file"
                    )));
                }
                "." | ".." => {
                    return Err(MountError::InvalidPath(format!(
                        "`mount_relative_path` `{raw}` contains `{part}`; paths must stay inside \
                         the mount and may not use `.` or `..`"
                    )));
                }
                p if p.len() > MAX_NAME_BYTES => {
                    return Err(MountError::InvalidPath(format!(
                        "`mount_relative_path` has a component longer than {MAX_NAME_BYTES} bytes"
                    )));
                }
                _ => {}
            }
        }
        Ok(MountPath(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The directory part (`a/b` of `a/b/c.txt`), if any, and the file name.
    fn split(&self) -> (Option<&str>, &str) {
        match self.0.rsplit_once('/') {
            Some((dir, name)) => (Some(dir), name),
            None => (None, &self.0),
        }
    }
}

/// A listing prefix as the SDKs send it: leading `/` stripped, `/` or empty meaning none.
/// Matched as a string prefix of the mount-relative path (like object-store prefixes).
pub fn list_prefix(raw: Option<&str>) -> Result<Option<String>, MountError> {
    let Some(p) = raw.map(|p| p.trim_start_matches('/')) else {
        return Ok(None);
    };
    if p.is_empty() {
        return Ok(None);
    }
    if p.contains('\0') || p.len() > MAX_PATH_BYTES {
        return Err(MountError::InvalidPath(
            "`mount_relative_prefix` is longer than 1024 bytes or contains a NUL character".into(),
        ));
    }
    if p.split('/').any(|c| c == "..") {
        return Err(MountError::InvalidPath(format!(
            "`mount_relative_prefix` `{p}` contains `..`; prefixes must stay inside the mount"
        )));
    }
    Ok(Some(p.to_owned()))
}

/// One file of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub path: String,
    pub size: u64,
    pub modified: SystemTime,
}

fn io_err<'a>(path: &'a str, step: &'static str) -> impl FnOnce(Errno) -> MountError + 'a {
    move |e| MountError::Io {
        path: path.to_owned(),
        step,
        source: io::Error::from(e),
    }
}

fn beneath() -> ResolveFlag {
    ResolveFlag::RESOLVE_BENEATH
        | ResolveFlag::RESOLVE_NO_SYMLINKS
        | ResolveFlag::RESOLVE_NO_MAGICLINKS
        | ResolveFlag::RESOLVE_NO_XDEV
}

/// `path` below `dir`, never through a link or outside `dir`.
fn open_beneath<P: AsRef<OsStr> + ?Sized>(
    dir: &impl AsFd,
    path: &P,
    flags: OFlag,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW)
        .mode(mode)
        .resolve(beneath());
    openat2(dir, Path::new(path.as_ref()), how)
}

/// The files directory itself, or `None` when it does not exist yet.
fn open_root(root: &Path) -> Result<Option<OwnedFd>, MountError> {
    match nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(io_err("/", "open the files directory")(e)),
    }
}

/// The root, created (mode 0700) if missing. Its owner is the uid new entries are given.
fn open_or_create_root(root: &Path) -> Result<(OwnedFd, u32), MountError> {
    if let Some(parent) = root.parent() {
        std::fs::create_dir_all(parent).map_err(|source| MountError::Io {
            path: "/".into(),
            step: "create the files root",
            source,
        })?;
    }
    match std::fs::create_dir(root) {
        Ok(()) => {
            std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .map_err(|source| MountError::Io {
                    path: "/".into(),
                    step: "set the files directory mode",
                    source,
                })?;
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(source) => {
            return Err(MountError::Io {
                path: "/".into(),
                step: "create the files directory",
                source,
            });
        }
    }
    let fd = open_root(root)?.ok_or_else(|| MountError::NotFound("/".into()))?;
    let owner = fstat(&fd)
        .map_err(io_err("/", "stat the files directory"))?
        .st_uid;
    Ok((fd, owner))
}

fn is_dir(fd: &OwnedFd, path: &str) -> Result<bool, MountError> {
    let st = fstat(fd).map_err(io_err(path, "stat"))?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
}

fn is_regular(fd: &OwnedFd, path: &str) -> Result<bool, MountError> {
    let st = fstat(fd).map_err(io_err(path, "stat"))?;
    Ok(SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG)
}

/// Maps the errors `openat2` gives for links, escapes and missing entries.
fn resolve_err<'a>(
    path: &'a MountPath,
    step: &'static str,
) -> impl FnOnce(Errno) -> MountError + 'a {
    move |e| match e {
        Errno::ENOENT | Errno::ENOTDIR => MountError::NotFound(path.0.clone()),
        Errno::ELOOP | Errno::EXDEV => MountError::NotRegular(path.0.clone()),
        e => io_err(&path.0, step)(e),
    }
}

/// Every regular file under the mount whose path starts with `prefix`, sorted by path.
/// Symbolic links and special files are skipped; at most [`MAX_LISTED_FILES`] are walked.
pub fn list(root: &Path, prefix: Option<&str>) -> Result<Vec<MountEntry>, MountError> {
    let Some(root_fd) = open_root(root)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut stack: Vec<(OwnedFd, String)> = vec![(root_fd, String::new())];
    while let Some((fd, rel)) = stack.pop() {
        let dir_fd = fd.try_clone().map_err(|source| MountError::Io {
            path: rel.clone(),
            step: "duplicate a directory handle",
            source,
        })?;
        let mut dir = Dir::from_fd(dir_fd).map_err(io_err(&rel, "read a directory"))?;
        for entry in dir.iter() {
            let entry = entry.map_err(io_err(&rel, "read a directory"))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let Ok(name) = std::str::from_utf8(name) else {
                continue; // Not representable on the wire.
            };
            let path = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            // Only descend where the prefix can still match.
            let relevant = |p: &str, dir: bool| match prefix {
                None => true,
                Some(pre) => p.starts_with(pre) || (dir && pre.starts_with(&format!("{p}/"))),
            };
            match entry.file_type() {
                Some(Type::Symlink) => continue,
                Some(Type::Directory) => {
                    if relevant(&path, true) {
                        let fd = open_beneath(
                            &fd,
                            name,
                            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                            Mode::empty(),
                        );
                        // Swapped for a link or removed meanwhile: skip it.
                        if let Ok(child) = fd {
                            stack.push((child, path));
                        }
                    }
                }
                _ => {
                    if !relevant(&path, false) {
                        continue;
                    }
                    let Ok(file) = open_beneath(&fd, name, OFlag::O_PATH, Mode::empty()) else {
                        continue;
                    };
                    let Ok(st) = fstat(&file) else { continue };
                    if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                        continue;
                    }
                    let modified = SystemTime::UNIX_EPOCH
                        + std::time::Duration::new(
                            u64::try_from(st.st_mtime).unwrap_or(0),
                            u32::try_from(st.st_mtime_nsec).unwrap_or(0),
                        );
                    out.push(MountEntry {
                        path,
                        size: u64::try_from(st.st_size).unwrap_or(0),
                        modified,
                    });
                    if out.len() >= MAX_LISTED_FILES {
                        stack.clear();
                        break;
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Opens a file for download; returns it with its size.
pub fn open_read(root: &Path, path: &MountPath) -> Result<(File, u64), MountError> {
    let root_fd = open_root(root)?.ok_or_else(|| MountError::NotFound(path.0.clone()))?;
    let fd = open_beneath(&root_fd, path.as_str(), OFlag::O_RDONLY, Mode::empty())
        .map_err(resolve_err(path, "open"))?;
    if is_dir(&fd, &path.0)? {
        return Err(MountError::IsDirectory(path.0.clone()));
    }
    if !is_regular(&fd, &path.0)? {
        return Err(MountError::NotRegular(path.0.clone()));
    }
    let size = fstat(&fd).map_err(io_err(&path.0, "stat"))?.st_size;
    Ok((File::from(fd), u64::try_from(size).unwrap_or(0)))
}

/// A file being uploaded: written to a hidden temporary name in its directory, moved into
/// place by [`Staged::commit`], removed if dropped uncommitted (a failed or cut-off upload
/// never leaves a partial file under the real name).
#[derive(Debug)]
pub struct Staged {
    dir: OwnedFd,
    tmp: String,
    name: String,
    path: String,
    committed: bool,
}

/// Opens a new file for `path`, creating missing directories. New entries are owned by the
/// files directory's owner (the session's sandbox uid, once it has run), so code in the
/// sandbox can change and delete what was uploaded.
pub fn stage_write(root: &Path, path: &MountPath) -> Result<(File, Staged), MountError> {
    let (root_fd, owner) = open_or_create_root(root)?;
    let (dir_part, name) = path.split();
    let mut dir = root_fd;
    if let Some(dir_part) = dir_part {
        for component in dir_part.split('/') {
            match nix::sys::stat::mkdirat(&dir, component, Mode::from_bits_truncate(0o755)) {
                Ok(()) => {
                    let created = open_beneath(
                        &dir,
                        component,
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                        Mode::empty(),
                    )
                    .map_err(resolve_err(path, "open a new directory"))?;
                    fchown(&created, Some(owner.into()), Some(owner.into()))
                        .map_err(io_err(&path.0, "set the owner of a new directory"))?;
                    dir = created;
                }
                Err(Errno::EEXIST) => {
                    dir = open_beneath(
                        &dir,
                        component,
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                        Mode::empty(),
                    )
                    .map_err(|e| match e {
                        Errno::ENOTDIR => MountError::InvalidPath(format!(
                            "`{}`: `{component}` is a file, so it cannot hold other files",
                            path.0
                        )),
                        e => resolve_err(path, "open a directory")(e),
                    })?;
                }
                Err(e) => return Err(io_err(&path.0, "create a directory")(e)),
            }
        }
    }
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| MountError::Io {
        path: path.0.clone(),
        step: "name a temporary file",
        source: io::Error::other(e.to_string()),
    })?;
    let tmp = format!(".upload-{}.part", crate::bridge::hex(&suffix));
    let fd = open_beneath(
        &dir,
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL,
        Mode::from_bits_truncate(0o644),
    )
    .map_err(resolve_err(path, "create the file"))?;
    fchown(&fd, Some(owner.into()), Some(owner.into()))
        .map_err(io_err(&path.0, "set the owner of the file"))?;
    let staged = Staged {
        dir,
        tmp,
        name: name.to_owned(),
        path: path.0.clone(),
        committed: false,
    };
    Ok((File::from(fd), staged))
}

impl Staged {
    /// Moves the written file to its name, replacing a file that was there. A directory of
    /// that name is not replaced.
    pub fn commit(mut self) -> Result<(), MountError> {
        nix::fcntl::renameat(&self.dir, self.tmp.as_str(), &self.dir, self.name.as_str()).map_err(
            |e| match e {
                Errno::EISDIR | Errno::ENOTEMPTY | Errno::EEXIST => {
                    MountError::IsDirectory(self.path.clone())
                }
                e => io_err(&self.path, "move the file into place")(e),
            },
        )?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = unlinkat(&self.dir, self.tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

/// Deletes one file (not a directory). A symbolic link at `path` is removed itself, never
/// followed.
pub fn remove(root: &Path, path: &MountPath) -> Result<(), MountError> {
    let root_fd = open_root(root)?.ok_or_else(|| MountError::NotFound(path.0.clone()))?;
    let (dir_part, name) = path.split();
    let dir = match dir_part {
        None => root_fd,
        Some(d) => open_beneath(
            &root_fd,
            d,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
        .map_err(resolve_err(path, "open the directory"))?,
    };
    unlinkat(
        &dir,
        OsStr::from_bytes(name.as_bytes()),
        UnlinkatFlags::NoRemoveDir,
    )
    .map_err(|e| match e {
        Errno::EISDIR => MountError::IsDirectory(path.0.clone()),
        Errno::ENOENT => MountError::NotFound(path.0.clone()),
        e => io_err(&path.0, "delete")(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn paths_are_checked() {
        let ok = |raw: &str, want: &str| assert_eq!(MountPath::parse(raw).unwrap().as_str(), want);
        ok("a.txt", "a.txt");
        ok("/reports/a.csv", "reports/a.csv");
        ok("a b/ü.txt", "a b/ü.txt");
        for bad in ["", "/", "../x", "a/../../x", "a/./b", "a//b", "a/", "x\0y"] {
            let err = MountPath::parse(bad).unwrap_err();
            assert!(matches!(err, MountError::InvalidPath(_)), "{bad:?}: {err}");
        }
        assert!(
            MountPath::parse("../etc/passwd")
                .unwrap_err()
                .to_string()
                .contains("may not use `.` or `..`")
        );
        assert_eq!(list_prefix(Some("/")).unwrap(), None);
        assert_eq!(
            list_prefix(Some("/reports")).unwrap().as_deref(),
            Some("reports")
        );
        assert!(list_prefix(Some("a/../b")).is_err());
    }

    #[test]
    fn write_list_read_delete_and_links_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("sess");
        assert!(list(&root, None).unwrap().is_empty());

        let p = MountPath::parse("reports/q1/sum.csv").unwrap();
        let (mut f, staged) = stage_write(&root, &p).unwrap();
        f.write_all(b"a,b\n1,2\n").unwrap();
        // Not visible under its name before commit.
        assert!(matches!(open_read(&root, &p), Err(MountError::NotFound(_))));
        staged.commit().unwrap();
        let (mut f, size) = open_read(&root, &p).unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), size), ("a,b\n1,2\n", 8));

        // An abandoned upload leaves nothing behind.
        let (_, staged) = stage_write(&root, &MountPath::parse("gone.txt").unwrap()).unwrap();
        drop(staged);
        std::fs::write(root.join("top.txt"), "x").unwrap();
        let names: Vec<String> = list(&root, None)
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(names, ["reports/q1/sum.csv", "top.txt"]);
        let names: Vec<String> = list(&root, Some("reports/q"))
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(names, ["reports/q1/sum.csv"]);
        assert!(list(&root, Some("nothing")).unwrap().is_empty());

        // Links planted inside (as sandboxed code could) are never followed.
        let secret = tmp.path().join("secret");
        std::fs::write(&secret, "host secret").unwrap();
        std::os::unix::fs::symlink(&secret, root.join("link")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), root.join("dirlink")).unwrap();
        let link = MountPath::parse("link").unwrap();
        assert!(matches!(
            open_read(&root, &link),
            Err(MountError::NotRegular(_))
        ));
        let through = MountPath::parse("dirlink/secret").unwrap();
        assert!(matches!(
            open_read(&root, &through),
            Err(MountError::NotRegular(_))
        ));
        assert!(stage_write(&root, &MountPath::parse("dirlink/new").unwrap()).is_err());
        assert!(!tmp.path().join("new").exists());
        assert_eq!(list(&root, None).unwrap().len(), 2, "links are not listed");
        // Deleting a link removes the link, not its target.
        remove(&root, &link).unwrap();
        assert!(secret.exists());

        assert!(matches!(
            open_read(&root, &MountPath::parse("reports").unwrap()),
            Err(MountError::IsDirectory(_))
        ));
        assert!(matches!(
            remove(&root, &MountPath::parse("reports").unwrap()),
            Err(MountError::IsDirectory(_))
        ));
        remove(&root, &p).unwrap();
        assert!(matches!(remove(&root, &p), Err(MountError::NotFound(_))));
    }
}
