//! Reading a manifest for `/source`: only a regular file below the mesh root, reached without following a symlink
//! in any part of its path, never a FIFO or device (opened non-blocking, checked with fstat), capped in size, and
//! read on a blocking thread so a slow or hostile file never holds up the server.

use std::path::{Component, Path, PathBuf};

/// The largest manifest `/source` shows.
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file is not shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Not a plain relative path (`..`, absolute, empty).
    NotBelowRoot,
    /// A symlink, a FIFO, a device, a folder…, or gone.
    NotARegularFile(String),
    /// Larger than the cap: (size, cap).
    TooLarge(u64, u64),
    Io(String),
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unreadable::NotBelowRoot => f.write_str("the path leaves the mesh folder"),
            Unreadable::NotARegularFile(why) => write!(f, "it is not a regular file ({why})"),
            Unreadable::TooLarge(size, cap) => write!(f, "it is {size} bytes; /source shows files up to {cap} bytes"),
            Unreadable::Io(e) => f.write_str(e),
        }
    }
}

/// The path's parts when it is a plain relative path (no `..`, no root, no `.`), else None.
pub fn plain_parts(rel: &Path) -> Option<Vec<&std::ffi::OsStr>> {
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(p),
            _ => return None,
        }
    }
    (!parts.is_empty()).then_some(parts)
}

/// Reads `root/rel` on a blocking thread (see [`read_regular`]).
pub async fn read_manifest(root: PathBuf, rel: PathBuf) -> Result<Vec<u8>, Unreadable> {
    tokio::task::spawn_blocking(move || read_regular(&root, &rel, MAX_SOURCE_BYTES))
        .await
        .map_err(|e| Unreadable::Io(e.to_string()))?
}

/// The bytes of `root/rel` when it is a regular file of at most `cap` bytes, reached through folders that are not
/// symlinks. Never blocks on a FIFO or device: every part is opened with `O_NOFOLLOW`, the file with `O_NONBLOCK`,
/// and its type is checked on the open descriptor (no race between the check and the read).
pub fn read_regular(root: &Path, rel: &Path, cap: u64) -> Result<Vec<u8>, Unreadable> {
    let parts = plain_parts(rel).ok_or(Unreadable::NotBelowRoot)?;
    let file = open_below(root, &parts)?;
    let meta = file.metadata().map_err(|e| Unreadable::Io(e.to_string()))?;
    if !meta.file_type().is_file() {
        return Err(Unreadable::NotARegularFile(kind(&meta.file_type()).into()));
    }
    if meta.len() > cap {
        return Err(Unreadable::TooLarge(meta.len(), cap));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between fstat and the read: never take more than the cap.
    std::io::Read::read_to_end(&mut std::io::Read::take(&file, cap + 1), &mut bytes)
        .map_err(|e| Unreadable::Io(e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(Unreadable::TooLarge(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

fn kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a plain file"
    }
}

#[cfg(unix)]
fn open_below(root: &Path, parts: &[&std::ffi::OsStr]) -> Result<std::fs::File, Unreadable> {
    use std::ffi::CString;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    let cstr = |b: &[u8]| CString::new(b).map_err(|_| Unreadable::NotBelowRoot);
    let io = |what: &std::ffi::OsStr| {
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ELOOP) => {
                Unreadable::NotARegularFile(format!("`{}` is a symbolic link", what.to_string_lossy()))
            }
            Some(libc::ENOTDIR) => Unreadable::NotARegularFile(format!(
                "`{}` is not a folder (or is a symbolic link)",
                what.to_string_lossy()
            )),
            Some(libc::ENOENT) => Unreadable::NotARegularFile(format!("`{}` does not exist", what.to_string_lossy())),
            _ => Unreadable::Io(e.to_string()),
        }
    };
    // The root itself may be a symlink (the user named it); nothing below it may be.
    let root_c = cstr(root.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path; the descriptor is owned below.
    let fd = unsafe { libc::open(root_c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io(root.as_os_str()));
    }
    // SAFETY: `fd` is a fresh descriptor this function owns.
    let mut dir = unsafe { OwnedFd::from_raw_fd(fd) };
    let (last, folders) = parts.split_last().ok_or(Unreadable::NotBelowRoot)?;
    for part in folders {
        let name = cstr(part.as_bytes())?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: `dir` is an open directory and `name` a valid C string.
        let fd = unsafe { libc::openat(std::os::fd::AsRawFd::as_raw_fd(&dir), name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io(part));
        }
        // SAFETY: as above.
        dir = unsafe { OwnedFd::from_raw_fd(fd) };
    }
    let name = cstr(last.as_bytes())?;
    let flags = libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: as above.
    let fd = unsafe { libc::openat(std::os::fd::AsRawFd::as_raw_fd(&dir), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io(last));
    }
    // SAFETY: as above.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

#[cfg(not(unix))]
fn open_below(root: &Path, parts: &[&std::ffi::OsStr]) -> Result<std::fs::File, Unreadable> {
    // Without openat: check every part with symlink_metadata, then open (a small race remains on these systems).
    let mut path = root.to_path_buf();
    for part in parts {
        path.push(part);
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Unreadable::NotARegularFile(e.to_string()))?;
        if meta.file_type().is_symlink() {
            return Err(Unreadable::NotARegularFile(format!(
                "`{}` is a symbolic link",
                part.to_string_lossy()
            )));
        }
    }
    std::fs::File::open(&path).map_err(|e| Unreadable::Io(e.to_string()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_below_the_root_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sales/orders")).unwrap();
        std::fs::write(root.join("sales/orders/odcs.yaml"), "id: x\n").unwrap();
        std::fs::write(root.join("big.yaml"), vec![b'a'; 2048]).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("sales/domain.yaml")).unwrap();
        std::os::unix::fs::symlink(root.join("sales/orders"), root.join("sales/linked")).unwrap();
        let fifo = CString::new(root.join("sales/mesh.yaml").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(
            read_regular(root, Path::new("sales/orders/odcs.yaml"), 1024).unwrap(),
            b"id: x\n"
        );
        let refused = [
            "sales/domain.yaml",
            "sales/linked/odcs.yaml",
            "sales/mesh.yaml",
            "sales/orders",
            "sales/../sales/orders/odcs.yaml",
            "../etc/passwd",
            "/etc/passwd",
            "./sales/orders/odcs.yaml",
            "sales/missing.yaml",
            "/dev/zero",
        ];
        for rel in refused {
            assert!(
                read_regular(root, Path::new(rel), 1024).is_err(),
                "{rel} must not be read"
            );
        }
        assert_eq!(
            read_regular(root, Path::new("big.yaml"), 1024),
            Err(Unreadable::TooLarge(2048, 1024))
        );
    }

    use std::ffi::CString;
}
