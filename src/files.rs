//! Writing files for the user, never over an existing one. Only the command line and
//! `snapsim::testing` write files, and both come here; nothing inside a simulation does.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do when a candidate name already holds exactly the bytes to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameBytes {
    /// Write another numbered copy anyway.
    WriteAnother,
    /// Return that file's path: it is the same thing written before.
    Reuse,
}

/// Writes `bytes` to `path`, or — if something already exists there — to the first free
/// `stem-2.ext`, `stem-3.ext`, …; returns where it went. Uses create-new, so a file that
/// appears meanwhile is never overwritten either.
pub fn write_new_file(path: &Path, bytes: &[u8], same: SameBytes) -> std::io::Result<PathBuf> {
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
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                if same == SameBytes::Reuse && std::fs::read(&candidate).is_ok_and(|existing| existing == bytes) {
                    return Ok(candidate);
                }
            }
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
