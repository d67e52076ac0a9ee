//! What the daemon keeps on disk: its generation (bumped and synced at
//! every start, like Heartbeat's hb_generation), the generations last
//! seen from the other nodes (so a replayed capture is refused after a
//! restart), and this node's Heartbeat uuid. The pid file that stops a
//! second daemon is `host::pid`.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Where the control socket, pid file and generation files live.
#[derive(Debug, Clone)]
pub struct Paths {
    pub state: PathBuf,
    pub run: PathBuf,
}

impl Paths {
    /// The standard places, or everything in `dir` when given (several
    /// daemons on one host: `tandem demo`, tests).
    pub fn new(dir: Option<&Path>) -> Paths {
        match dir {
            Some(d) => Paths {
                state: d.to_path_buf(),
                run: d.to_path_buf(),
            },
            None => Paths {
                state: PathBuf::from("/var/lib/tandem"),
                run: PathBuf::from("/run/tandem"),
            },
        }
    }

    pub fn control(&self) -> PathBuf {
        self.run.join("control")
    }

    pub fn pid(&self) -> PathBuf {
        self.run.join("tandem.pid")
    }

    fn generation(&self) -> PathBuf {
        self.state.join("generation")
    }

    fn peers(&self) -> PathBuf {
        self.state.join("peers")
    }
}

/// Writes `text` to `path` atomically and durably: a temporary file,
/// fsync, rename, fsync of the directory.
fn write_synced(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("new");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn read_small(path: &Path) -> io::Result<String> {
    let mut s = String::new();
    File::open(path)?.take(64 * 1024).read_to_string(&mut s)?;
    Ok(s)
}

/// This node's generation for this start: the last one plus one, synced
/// to disk before any frame is sent.
pub fn next_generation(paths: &Paths) -> io::Result<u32> {
    fs::create_dir_all(&paths.state)?;
    let path = paths.generation();
    let last = match read_small(&path) {
        Ok(s) => s.trim().parse::<u32>().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not a generation number", path.display()),
            )
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    let next = last
        .checked_add(1)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "generation number exhausted"))?;
    write_synced(&path, &format!("{next}\n"))?;
    Ok(next)
}

/// `hbgenmethod time`: the start time in seconds, for a node whose disk
/// does not keep a counter. Never backwards: if a generation file is
/// there and the clock is behind it, this waits for the clock (`wait`
/// is told how far behind it is, once) rather than reuse a generation
/// the other nodes would refuse as a replay. The file is updated when it
/// can be.
pub fn time_generation(paths: &Paths, wait: &mut dyn FnMut(u32, u32)) -> io::Result<u32> {
    let path = paths.generation();
    let last = read_small(&path)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
            .unwrap_or(0)
    };
    let mut told = false;
    let mut t = now();
    while t <= last {
        if !told {
            told = true;
            wait(t, last);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        t = now();
    }
    if fs::create_dir_all(&paths.state).is_ok() {
        // Diskless: a read-only or missing state directory is fine.
        let _ = write_synced(&path, &format!("{t}\n"));
    }
    Ok(t)
}

/// The generations last recorded for `nodes` (None where unknown).
pub fn known_generations(paths: &Paths, nodes: &[String]) -> Vec<Option<u32>> {
    let text = read_small(&paths.peers()).unwrap_or_default();
    nodes
        .iter()
        .map(|n| {
            text.lines().find_map(|l| {
                let (name, g) = l.split_once(' ')?;
                (name == n).then(|| g.trim().parse().ok()).flatten()
            })
        })
        .collect()
}

/// Records the generations known now (one line per node).
pub fn record_generations(paths: &Paths, nodes: &[String], gens: &[Option<u32>]) -> io::Result<()> {
    let mut text = String::new();
    for (n, g) in nodes.iter().zip(gens) {
        if let Some(g) = g {
            text.push_str(&format!("{n} {g}\n"));
        }
    }
    write_synced(&paths.peers(), &text)
}

/// This node's 16-byte identity for Heartbeat peers, who remember nodes
/// by it: the one Heartbeat itself used on this host
/// (/var/lib/heartbeat/hb_uuid) when it is there, so that a migrated node
/// stays the node its partner knows; otherwise one made once and kept in
/// the state directory (as hex).
pub fn heartbeat_uuid(paths: &Paths) -> io::Result<[u8; 16]> {
    if let Ok(bytes) = fs::read("/var/lib/heartbeat/hb_uuid") {
        if let Ok(uuid) = <[u8; 16]>::try_from(bytes.as_slice()) {
            return Ok(uuid);
        }
    }
    let path = paths.state.join("heartbeat-uuid");
    if let Ok(text) = read_small(&path) {
        let text = text.trim();
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        if let Some(uuid) = bytes.and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()) {
            return Ok(uuid);
        }
    }
    let mut uuid = [0u8; 16];
    File::open("/dev/urandom")?.read_exact(&mut uuid)?;
    // RFC 4122 version 4, as Heartbeat's libuuid makes them.
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    fs::create_dir_all(&paths.state)?;
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    write_synced(&path, &format!("{hex}\n"))?;
    Ok(uuid)
}
