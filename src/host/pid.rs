//! The pid file, locked with flock(2) for as long as the daemon runs, so
//! that a second daemon on the same state refuses to start and says which
//! process holds it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The pid file, locked for as long as the daemon runs.
#[derive(Debug)]
pub struct PidLock {
    file: nix::fcntl::Flock<File>,
    path: PathBuf,
}

impl PidLock {
    /// Takes the lock or says which process holds it.
    pub fn take(path: &Path) -> io::Result<PidLock> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        let path = path.to_path_buf();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        // flock(2): held by the open file, so it survives daemon(3)'s
        // fork and goes away with the process, however it ends.
        use nix::fcntl::{Flock, FlockArg};
        let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut pid = String::new();
                if let Ok(f) = File::open(&path) {
                    let _ = f.take(64).read_to_string(&mut pid);
                }
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "tandem is already running (pid {}, lock {})",
                        pid.trim(),
                        path.display()
                    ),
                ));
            }
            Err((_, e)) => return Err(io::Error::from(e)),
        };
        let mut lock = PidLock { file, path };
        lock.write_pid()?;
        Ok(lock)
    }

    /// Writes this process's pid (again after daemonizing).
    pub fn write_pid(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        let mut f: &File = &self.file;
        f.write_all(format!("{}\n", std::process::id()).as_bytes())?;
        f.sync_all()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}
