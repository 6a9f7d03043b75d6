//! Reading a file of the user's folder without trusting what the path points to: regular files only (never through
//! a symbolic link, never a FIFO, socket or device, which could block a worker or never end), and capped in size.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest manifest (YAML) or SQL transform meshbox reads.
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The path names something other than a regular file (its kind, e.g. "a symbolic link", "a FIFO").
    NotRegular(&'static str),
    /// Larger than the cap; the size is in bytes.
    TooLarge(u64),
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotRegular(kind) => {
                write!(
                    f,
                    "it is {kind}, not a regular file; meshbox reads only regular files in the mesh folder"
                )
            }
            ReadError::TooLarge(size) => write!(
                f,
                "it holds {} bytes; meshbox reads files of at most {} MiB here",
                size,
                MAX_MANIFEST_BYTES / (1024 * 1024)
            ),
            ReadError::Io(e) => write!(f, "cannot read the file: {e}"),
        }
    }
}

/// What kind of file system entry `meta` describes, in words, when it is not a regular file.
pub fn irregular_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let ft = meta.file_type();
    if ft.is_file() {
        return None;
    }
    if ft.is_symlink() {
        return Some("a symbolic link");
    }
    if ft.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
        if ft.is_block_device() || ft.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading only if it is a regular file: never follows a final symbolic link and never blocks on
/// a FIFO (opened non-blocking, then checked on the open handle, so a swap between check and open cannot fool it).
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && let Some(kind) = irregular_kind(&meta)
    {
        return Err(ReadError::NotRegular(kind));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return ReadError::NotRegular("a symbolic link");
        }
        ReadError::Io(e)
    })?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if let Some(kind) = irregular_kind(&meta) {
        return Err(ReadError::NotRegular(kind));
    }
    Ok(file)
}

/// Reads a whole regular file of at most `max` bytes.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max {
        return Err(ReadError::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The file may grow between the size check and the read: never read more than the cap.
    file.take(max + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The text of a manifest re-read after the scan (history, source views), or None when it is no longer a regular
/// UTF-8 file within the cap: a file swapped for a FIFO between scan and read never blocks the reader.
pub fn read_manifest_text(path: &Path) -> Option<String> {
    String::from_utf8(read_regular(path, MAX_MANIFEST_BYTES).ok()?).ok()
}

/// 1-based line and column (in characters) of byte offset `at` in `bytes`, for an encoding error.
pub fn line_and_column(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.yaml");
        std::fs::write(&f, "name: x\n").unwrap();
        assert_eq!(read_regular(&f, 100).unwrap(), b"name: x\n");
        assert!(matches!(read_regular(&f, 3), Err(ReadError::TooLarge(8))));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_fifos_and_devices_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        assert!(matches!(
            read_regular(&link, 1 << 20),
            Err(ReadError::NotRegular("a symbolic link"))
        ));
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(read_regular(&zero, 1 << 20), Err(ReadError::NotRegular(_))));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 1 << 20),
            Err(ReadError::NotRegular("a device"))
        ));
        let fifo = dir.path().join("mesh.yaml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        // Without a writer, a blocking open would never return; this returns at once.
        assert!(matches!(
            read_regular(&fifo, 1 << 20),
            Err(ReadError::NotRegular("a FIFO (named pipe)"))
        ));
        assert!(matches!(
            read_regular(dir.path(), 1 << 20),
            Err(ReadError::NotRegular("a folder"))
        ));
    }

    #[test]
    fn encoding_errors_have_a_line_and_column() {
        let text = b"name: a\ndescription: h\xc3\xa9 \xff\n";
        let at = String::from_utf8(text.to_vec()).unwrap_err().utf8_error().valid_up_to();
        assert_eq!(line_and_column(text, at), (2, 17));
    }
}
