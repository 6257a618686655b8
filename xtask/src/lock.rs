//! The pipeline lock: an OS file lock on `artifacts/.lock`, so two pipelines never write the
//! same artifacts folder at once. The OS releases it when the holder exits, even when killed.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A held pipeline lock; released on drop.
#[derive(Debug)]
pub struct PipelineLock {
    _file: File,
    path: PathBuf,
}

/// What [`PipelineLock::try_acquire`] found.
#[derive(Debug)]
pub enum TryLock {
    /// The lock is ours.
    Acquired(PipelineLock),
    /// Another process holds it; its pid as it wrote it in the file, if readable.
    Busy { holder: Option<String> },
}

impl PipelineLock {
    /// Takes the lock if it is free.
    pub fn try_acquire(path: &Path) -> anyhow::Result<TryLock> {
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(TryLock::Acquired(Self::record(file, path)?)),
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .map(|_| text.trim().to_owned())
                    .filter(|t| !t.is_empty());
                Ok(TryLock::Busy { holder })
            }
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Takes the lock, waiting for it if another pipeline holds it; `on_wait` is called once
    /// before waiting, with the holder's pid if known.
    pub fn acquire(path: &Path, on_wait: impl FnOnce(Option<&str>)) -> anyhow::Result<Self> {
        match Self::try_acquire(path)? {
            TryLock::Acquired(lock) => Ok(lock),
            TryLock::Busy { holder } => {
                on_wait(holder.as_deref());
                let file = open(path)?;
                file.lock()
                    .with_context(|| format!("waiting for the lock {}", path.display()))?;
                Self::record(file, path)
            }
        }
    }

    /// [`acquire`](Self::acquire), telling the user on stderr who holds the lock before waiting.
    pub fn acquire_announced(path: &Path) -> anyhow::Result<Self> {
        Self::acquire(path, |holder| {
            let holder = holder
                .map(|pid| format!(" (pid {pid})"))
                .unwrap_or_default();
            eprintln!(
                "xtask: another pipeline{holder} holds {}; waiting for it to finish",
                path.display()
            );
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes our pid into the (locked) file, for the message of a waiting pipeline.
    fn record(mut file: File, path: &Path) -> anyhow::Result<Self> {
        let write = |file: &mut File| -> std::io::Result<()> {
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{}", std::process::id())
        };
        write(&mut file).with_context(|| format!("writing {}", path.display()))?;
        Ok(PipelineLock {
            _file: file,
            path: path.to_owned(),
        })
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening the lock file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artifacts/.lock");
        let TryLock::Acquired(lock) = PipelineLock::try_acquire(&path).unwrap() else {
            panic!("free lock was busy")
        };
        match PipelineLock::try_acquire(&path).unwrap() {
            TryLock::Busy { holder } => assert_eq!(holder, Some(std::process::id().to_string())),
            TryLock::Acquired(_) => panic!("a held lock was acquired twice"),
        }
        drop(lock);
        assert!(matches!(
            PipelineLock::try_acquire(&path).unwrap(),
            TryLock::Acquired(_)
        ));
    }

    #[test]
    fn acquire_waits_for_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".lock");
        let held = PipelineLock::acquire(&path, |_| panic!("a free lock made us wait")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let lock = PipelineLock::acquire(&path, |holder| {
                    tx.send(holder.map(str::to_owned)).unwrap()
                })
                .unwrap();
                drop(lock);
            })
        };
        let holder = rx.recv().unwrap();
        assert_eq!(holder, Some(std::process::id().to_string()));
        assert!(!waiter.is_finished());
        drop(held);
        waiter.join().unwrap();
    }
}
