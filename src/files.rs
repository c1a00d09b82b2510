//! Writing files for the user, never over an existing one. Only the command line,
//! `snapsim::testing` and the streaming run-file writer (`explore::run_file_stream`) write
//! files, and all come here; nothing inside a simulation does.

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

/// A file written under a temporary name beside its target (`.NAME.PID.partial`), and put
/// in place only once whole: a run file streamed while its run goes on. `place` gives it
/// the target's name, or the first free `stem-2.ext`, … (a hard link, so an existing file is
/// never overwritten, even one that appears meanwhile). Dropped unplaced, it is removed, so
/// the user never finds half a file.
#[derive(Debug)]
pub struct PendingFile {
    temporary: PathBuf,
    target: PathBuf,
    placed: bool,
}

impl PendingFile {
    /// Creates the temporary file beside `target` (and `target`'s folder, if missing).
    pub fn create(target: &Path) -> std::io::Result<(PendingFile, std::fs::File)> {
        if let Some(parent) = target.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let name = target.file_name().map_or_else(|| "file".into(), |name| name.to_string_lossy());
        for attempt in 1u32.. {
            let temporary = target.with_file_name(format!(".{name}.{}.{attempt}.partial", std::process::id()));
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&temporary) {
                Ok(file) => return Ok((PendingFile { temporary, target: target.to_path_buf(), placed: false }, file)),
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(error) => return Err(error),
            }
        }
        unreachable!("u32 file-name suffixes ran out")
    }

    /// Puts the (closed, whole) file at its target, or the first free numbered name; returns
    /// where it went.
    pub fn place(mut self) -> std::io::Result<PathBuf> {
        for attempt in 1u32.. {
            let candidate = if attempt == 1 { self.target.clone() } else { numbered(&self.target, attempt) };
            match std::fs::hard_link(&self.temporary, &candidate) {
                Ok(()) => {
                    self.placed = true;
                    std::fs::remove_file(&self.temporary)?;
                    return Ok(candidate);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
                // A file system without hard links: a rename, after looking (a file that
                // appears between the look and the rename would be replaced).
                Err(_) if !candidate.exists() => {
                    std::fs::rename(&self.temporary, &candidate)?;
                    self.placed = true;
                    return Ok(candidate);
                }
                Err(_) => {}
            }
        }
        unreachable!("u32 file-name suffixes ran out")
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.placed {
            // Best effort: the temporary may already be gone.
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

fn numbered(path: &Path, attempt: u32) -> PathBuf {
    let stem = path.file_stem().and_then(|stem| stem.to_str()).unwrap_or("file");
    let name = match path.extension().and_then(|extension| extension.to_str()) {
        Some(extension) => format!("{stem}-{attempt}.{extension}"),
        None => format!("{stem}-{attempt}"),
    };
    path.with_file_name(name)
}
