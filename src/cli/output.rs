//! Writing files for the user: never over an existing file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path`, or — if something already exists there — to the first free
/// `stem-2.ext`, `stem-3.ext`, …; returns where it went. Uses create-new, so a file that
/// appears meanwhile is never overwritten either.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    for attempt in 1u32.. {
        let candidate = if attempt == 1 { path.to_path_buf() } else { numbered(path, attempt) };
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                file.write_all(bytes)?;
                return Ok(candidate);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    unreachable!("u32 file-name suffixes ran out")
}

fn numbered(path: &Path, attempt: u32) -> PathBuf {
    let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or("file");
    let name = match path.extension().and_then(|extension| extension.to_str()) {
        Some(extension) => format!("{stem}-{attempt}.{extension}"),
        None => format!("{stem}-{attempt}"),
    };
    path.with_file_name(name)
}
