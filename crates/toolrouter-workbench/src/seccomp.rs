//! The sandbox's seccomp filters, compiled once to BPF with seccompiler (pure Rust).
//!
//! The policy is a deny-list on top of namespaces, uid separation and capabilities: it removes
//! the kernel surfaces that a sandbox never needs and that are the usual first step of an
//! escape (ptrace, mounts, new namespaces, keyrings, bpf, perf, io_uring, module and kexec
//! calls). Denied calls fail with EPERM, so code sees an ordinary error instead of dying.
//!
//! Two programs, because one seccompiler filter has a single "match" action: `clone3` must fail
//! with ENOSYS (its flags live in memory a filter cannot read, and ENOSYS makes glibc fall back
//! to `clone`, whose flags the first filter checks), everything else with EPERM.

use std::collections::BTreeMap;
use std::io;

use nix::libc;
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// System calls no sandbox needs.
const DENIED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_fanotify_init,
    libc::SYS_syslog,
    libc::SYS_vhangup,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
];

/// `clone` flags that create namespaces (`CLONE_NEWTIME` shares its bit with the exit signal
/// in `clone`, so it is not checked there; `unshare` is denied outright).
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// Compiled filters, in the order they are installed.
#[derive(Debug, Clone)]
pub(crate) struct Filters {
    pub(crate) programs: Vec<BpfProgram>,
}

impl Filters {
    /// `deny_inet`: also refuse every socket family but `AF_UNIX` (the fallback has no network
    /// namespace to do that).
    pub(crate) fn compile(deny_inet: bool) -> io::Result<Filters> {
        let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(invalid)?;
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
            DENIED.iter().map(|&nr| (nr, Vec::new())).collect();
        let clone_rules = NAMESPACE_FLAGS
            .iter()
            .map(|&flag| {
                let flag = flag as u64;
                let cond = SeccompCondition::new(
                    0,
                    SeccompCmpArgLen::Qword,
                    SeccompCmpOp::MaskedEq(flag),
                    flag,
                )
                .map_err(invalid)?;
                SeccompRule::new(vec![cond]).map_err(invalid)
            })
            .collect::<io::Result<Vec<_>>>()?;
        rules.insert(libc::SYS_clone, clone_rules);
        if deny_inet {
            let not_unix = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Ne,
                libc::AF_UNIX as u64,
            )
            .map_err(invalid)?;
            rules.insert(
                libc::SYS_socket,
                vec![SeccompRule::new(vec![not_unix]).map_err(invalid)?],
            );
        }
        let deny = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EPERM as u32),
            arch,
        )
        .map_err(invalid)?;
        let clone3 = SeccompFilter::new(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .map_err(invalid)?;
        let programs = [deny, clone3]
            .into_iter()
            .map(|f| BpfProgram::try_from(f).map_err(invalid))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Filters { programs })
    }

    /// Each program as the raw `struct sock_filter` array bubblewrap's `--add-seccomp-fd` reads.
    pub(crate) fn raw(&self) -> Vec<Vec<u8>> {
        self.programs
            .iter()
            .map(|p| {
                let mut bytes = Vec::with_capacity(p.len() * 8);
                for ins in p {
                    bytes.extend_from_slice(&ins.code.to_ne_bytes());
                    bytes.push(ins.jt);
                    bytes.push(ins.jf);
                    bytes.extend_from_slice(&ins.k.to_ne_bytes());
                }
                bytes
            })
            .collect()
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("seccomp filter: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_for_both_modes() {
        for deny_inet in [false, true] {
            let f = Filters::compile(deny_inet).unwrap();
            assert_eq!(f.programs.len(), 2);
            let raw = f.raw();
            assert!(raw.iter().all(|p| !p.is_empty() && p.len() % 8 == 0));
        }
        // The inet rule adds instructions.
        let a = Filters::compile(false).unwrap().raw()[0].len();
        let b = Filters::compile(true).unwrap().raw()[0].len();
        assert!(b > a);
    }
}
