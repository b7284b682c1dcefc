//! Tier enforcement with cgroups, written as plain cgroupfs files (v2, or v1 as on hosts where
//! the memory and cpu controllers are not on the unified hierarchy).
//!
//! Layout: one parent cgroup per workbench (`<hierarchy>/<cgroup_name>`), one leaf per sandbox
//! instance. The parent belongs to this workbench alone: leaves left behind by a crashed server
//! are killed and removed at start-up, and the parent is removed at shutdown. Processes join a
//! leaf before `exec` (see `spawn.rs`), so nothing a sandbox starts can escape its limits.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// CFS period for CPU quotas: 100 ms, the kernel default.
const CPU_PERIOD_US: u64 = 100_000;

/// The resource limits of one sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) vcpus: u32,
    pub(crate) memory_bytes: u64,
    pub(crate) pids_max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

/// This workbench's parent cgroup(s).
#[derive(Debug)]
pub(crate) struct Cgroups {
    version: Version,
    /// v2: one directory. v1: the memory, cpu and pids hierarchies, in that order.
    parents: Vec<PathBuf>,
}

/// The v1 controllers we need, by hierarchy directory name.
const V1_CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

impl Cgroups {
    /// Finds a usable hierarchy under `root`, creates this workbench's parent cgroup and sweeps
    /// leftovers in it. `Err` says why cgroups cannot be used (the caller falls back to rlimits).
    pub(crate) fn open(root: &Path, name: &str) -> io::Result<Cgroups> {
        let controllers = fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        let cgroups = if has("memory") && has("cpu") && has("pids") {
            // v2: children of the root get controllers only when the root's subtree enables
            // them; the same for children of our parent.
            let parent = root.join(name);
            write(&root.join("cgroup.subtree_control"), "+memory +cpu +pids")?;
            mkdir(&parent)?;
            write(&parent.join("cgroup.subtree_control"), "+memory +cpu +pids")?;
            Cgroups {
                version: Version::V2,
                parents: vec![parent],
            }
        } else {
            let mut parents = Vec::new();
            for controller in V1_CONTROLLERS {
                let hierarchy = root.join(controller);
                if !hierarchy.join("cgroup.procs").exists() {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "no cgroup v2 with memory+cpu+pids at {}, and no v1 {controller} \
                             hierarchy",
                            root.display()
                        ),
                    ));
                }
                let parent = hierarchy.join(name);
                mkdir(&parent)?;
                parents.push(parent);
            }
            Cgroups {
                version: Version::V1,
                parents,
            }
        };
        cgroups.sweep();
        Ok(cgroups)
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    /// Creates the leaf cgroup `leaf` with `limits` applied.
    pub(crate) fn create(&self, leaf: &str, limits: Limits) -> io::Result<SandboxCgroup> {
        let dirs: Vec<PathBuf> = self.parents.iter().map(|p| p.join(leaf)).collect();
        let cgroup = SandboxCgroup {
            version: self.version,
            dirs,
        };
        for dir in &cgroup.dirs {
            mkdir(dir)?;
        }
        if let Err(e) = cgroup.apply(limits) {
            cgroup.destroy();
            return Err(e);
        }
        Ok(cgroup)
    }

    /// Kills and removes every leaf (start-up: leftovers of a crashed server).
    fn sweep(&self) {
        for parent in &self.parents {
            let Ok(entries) = fs::read_dir(parent) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    let leaf = SandboxCgroup {
                        version: self.version,
                        dirs: vec![entry.path()],
                    };
                    tracing::warn!(cgroup = %entry.path().display(), "removing a leftover sandbox cgroup");
                    leaf.destroy();
                }
            }
        }
    }

    /// Removes every leaf, then the parent(s). Called at shutdown.
    pub(crate) fn remove(&self) {
        self.sweep();
        for parent in &self.parents {
            if let Err(e) = fs::remove_dir(parent)
                && e.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(cgroup = %parent.display(), error = %e, "could not remove the workbench cgroup");
            }
        }
    }
}

/// One sandbox's cgroup (v1: one directory per hierarchy).
#[derive(Debug)]
pub(crate) struct SandboxCgroup {
    version: Version,
    dirs: Vec<PathBuf>,
}

impl SandboxCgroup {
    fn apply(&self, limits: Limits) -> io::Result<()> {
        let memory = limits.memory_bytes.to_string();
        let quota = u64::from(limits.vcpus) * CPU_PERIOD_US;
        let pids = limits.pids_max.to_string();
        match self.version {
            Version::V2 => {
                let dir = &self.dirs[0];
                write(&dir.join("memory.max"), &memory)?;
                // Absent when swap accounting is off; then there is no swap to limit.
                write_if_exists(&dir.join("memory.swap.max"), "0")?;
                // An OOM kills the whole sandbox, not one random process inside it.
                write_if_exists(&dir.join("memory.oom.group"), "1")?;
                write(&dir.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))?;
                write(&dir.join("pids.max"), &pids)?;
            }
            Version::V1 => {
                let [mem, cpu, pid] = [&self.dirs[0], &self.dirs[1], &self.dirs[2]];
                // memsw must stay >= limit, so the plain limit goes first.
                write(&mem.join("memory.limit_in_bytes"), &memory)?;
                write_if_exists(&mem.join("memory.memsw.limit_in_bytes"), &memory)?;
                write(&cpu.join("cpu.cfs_period_us"), &CPU_PERIOD_US.to_string())?;
                write(&cpu.join("cpu.cfs_quota_us"), &quota.to_string())?;
                write(&pid.join("pids.max"), &pids)?;
            }
        }
        Ok(())
    }

    /// `cgroup.procs` of every directory, opened for writing now, so a child can join with a
    /// plain `write` between fork and exec: the kernel checks the opener's credentials, so it
    /// works after the child has dropped to the sandbox uid.
    pub(crate) fn procs_files(&self) -> io::Result<Vec<fs::File>> {
        self.dirs
            .iter()
            .map(|d| {
                fs::OpenOptions::new()
                    .write(true)
                    .open(d.join("cgroup.procs"))
            })
            .collect()
    }

    /// OOM kills in this cgroup so far.
    pub(crate) fn oom_kills(&self) -> u64 {
        let file = match self.version {
            Version::V2 => "memory.events",
            Version::V1 => "memory.oom_control",
        };
        let text = fs::read_to_string(self.dirs[0].join(file)).unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Memory charged to the sandbox (RSS, page cache, tmpfs), in bytes.
    pub(crate) fn memory_bytes(&self) -> Option<u64> {
        let file = match self.version {
            Version::V2 => "memory.current",
            Version::V1 => "memory.usage_in_bytes",
        };
        fs::read_to_string(self.dirs[0].join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn pids(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for dir in &self.dirs {
            let text = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Sends SIGKILL to everything in the cgroup.
    pub(crate) fn kill_all(&self) {
        if self.version == Version::V2 && write(&self.dirs[0].join("cgroup.kill"), "1").is_ok() {
            return;
        }
        for pid in self.pids() {
            // Gone already is fine; anything else is retried by `destroy`'s loop.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    /// Kills what is left and removes the directories, waiting up to ~2 s for dying processes
    /// to leave (a cgroup with members cannot be removed). Blocking: call from a blocking
    /// context or `Drop`.
    pub(crate) fn destroy(&self) {
        for attempt in 0..400 {
            self.kill_all();
            let mut left = false;
            for dir in &self.dirs {
                match fs::remove_dir(dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(_) => left = true,
                }
            }
            if !left {
                return;
            }
            thread::sleep(Duration::from_millis(if attempt < 20 { 1 } else { 5 }));
        }
        tracing::warn!(cgroup = ?self.dirs, "a sandbox cgroup could not be removed");
    }
}

fn mkdir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        r => r,
    }
}

fn write(path: &Path, value: &str) -> io::Result<()> {
    fs::write(path, value).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn write_if_exists(path: &Path, value: &str) -> io::Result<()> {
    if path.exists() {
        write(path, value)
    } else {
        Ok(())
    }
}

/// CPUs this process may run on; sandboxes are pinned to subsets of these.
pub(crate) fn host_cpus() -> Vec<usize> {
    match nix::sched::sched_getaffinity(Pid::from_raw(0)) {
        Ok(set) => (0..nix::sched::CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(_) => vec![0],
    }
}

/// Physical memory (`MemTotal`).
pub(crate) fn host_memory_bytes() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The `vcpus` CPUs sandbox `slot` is pinned to: consecutive CPUs starting at a slot-dependent
/// offset, so sandboxes spread over the host; all of them when the tier is at least as large.
pub(crate) fn affinity(host: &[usize], slot: u32, vcpus: u32) -> Vec<usize> {
    let n = (vcpus as usize).clamp(1, host.len().max(1));
    if n >= host.len() {
        return host.to_vec();
    }
    let start = (slot as usize * n) % host.len();
    (0..n).map(|i| host[(start + i) % host.len()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_files(version: Version, dirs: &[&str], expected: &[(&str, &str)]) {
        let tmp = tempfile::tempdir().unwrap();
        let parents: Vec<PathBuf> = dirs.iter().map(|d| tmp.path().join(d)).collect();
        for p in &parents {
            fs::create_dir_all(p).unwrap();
        }
        // Files that exist only with swap accounting / newer kernels are written when present.
        for p in &parents {
            let leaf = p.join("leaf");
            fs::create_dir_all(&leaf).unwrap();
            for optional in [
                "memory.swap.max",
                "memory.oom.group",
                "memory.memsw.limit_in_bytes",
            ] {
                fs::write(leaf.join(optional), "").unwrap();
            }
        }
        let cgroups = Cgroups { version, parents };
        let limits = Limits {
            vcpus: 2,
            memory_bytes: 2 << 30,
            pids_max: 128,
        };
        cgroups.create("leaf", limits).unwrap();
        for (file, value) in expected {
            let got = fs::read_to_string(tmp.path().join(file)).unwrap();
            assert_eq!(got, *value, "{file}");
        }
    }

    #[test]
    fn v2_limits() {
        check_files(
            Version::V2,
            &["wb"],
            &[
                ("wb/leaf/memory.max", "2147483648"),
                ("wb/leaf/memory.swap.max", "0"),
                ("wb/leaf/memory.oom.group", "1"),
                ("wb/leaf/cpu.max", "200000 100000"),
                ("wb/leaf/pids.max", "128"),
            ],
        );
    }

    #[test]
    fn v1_limits() {
        check_files(
            Version::V1,
            &["memory/wb", "cpu/wb", "pids/wb"],
            &[
                ("memory/wb/leaf/memory.limit_in_bytes", "2147483648"),
                ("memory/wb/leaf/memory.memsw.limit_in_bytes", "2147483648"),
                ("cpu/wb/leaf/cpu.cfs_period_us", "100000"),
                ("cpu/wb/leaf/cpu.cfs_quota_us", "200000"),
                ("pids/wb/leaf/pids.max", "128"),
            ],
        );
    }

    #[test]
    fn affinity_spreads_and_caps() {
        let host = [0, 1, 2, 3];
        let cases: &[(u32, u32, &[usize])] = &[
            (0, 1, &[0]),
            (1, 1, &[1]),
            (5, 1, &[1]),
            (0, 2, &[0, 1]),
            (1, 2, &[2, 3]),
            (3, 2, &[2, 3]),
            (0, 4, &[0, 1, 2, 3]),
            (7, 8, &[0, 1, 2, 3]),
        ];
        for &(slot, vcpus, want) in cases {
            assert_eq!(
                affinity(&host, slot, vcpus),
                want,
                "slot {slot} vcpus {vcpus}"
            );
        }
        assert_eq!(affinity(&[0, 1], 3, 1), [1]);
    }
}
