//! Unix: the command leads a new process group; killing the group (`kill(-pgid)`) reaches the
//! shell and everything it started that did not leave the group on purpose. When we are the
//! terminal's foreground job, the command's group is made the foreground while it runs (as a
//! shell does), so that a tool asking on /dev/tty (a password manager unlocking) can read
//! instead of being stopped by SIGTTIN.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt as _;

use super::Owner;

pub fn shell(command_line: &str) -> std::process::Command {
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c").arg(command_line);
    c
}

/// A new process group for `c`; a user's command also gets the terminal's foreground (a program
/// of ours, the dialog, never reads the terminal).
pub fn own_group(c: &mut std::process::Command, owner: Owner) -> Foreground {
    c.process_group(0);
    let tty = if owner == Owner::User { foreground_terminal() } else { None };
    if let Some(fd) = tty.as_ref().map(AsRawFd::as_raw_fd) {
        // SAFETY: runs in the forked child before exec and calls only async-signal-safe functions.
        unsafe {
            c.pre_exec(move || {
                libc::setpgid(0, 0);
                with_sigttou_blocked(|| libc::tcsetpgrp(fd, libc::getpid()));
                Ok(())
            });
        }
    }
    Foreground { tty }
}

/// `/dev/tty` when our process group is its foreground job; closed on exec.
fn foreground_terminal() -> Option<OwnedFd> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open("/dev/tty")
        .ok()?;
    // SAFETY: plain syscalls on a descriptor we own.
    let ours = unsafe { libc::tcgetpgrp(tty.as_raw_fd()) == libc::getpgrp() };
    ours.then(|| tty.into())
}

/// A background process changing the foreground job gets SIGTTOU unless it blocks it; the
/// mask is per thread, so this touches only the calling thread.
fn with_sigttou_blocked(f: impl FnOnce() -> libc::c_int) {
    // SAFETY: sigset manipulation on local values; pthread_sigmask affects this thread only.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTTOU);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
        f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

/// The terminal handed to the command's group, if it was; given back by `restore`.
pub struct Foreground {
    tty: Option<OwnedFd>,
}

impl Foreground {
    /// Take the terminal back for our group, unless someone else (the user's shell) has moved
    /// it elsewhere than the command's group meanwhile.
    pub fn restore(&mut self, child_pid: Option<u32>) {
        let Some(tty) = self.tty.take() else { return };
        let fd = tty.as_raw_fd();
        // SAFETY: plain syscalls on a descriptor we own.
        let current = unsafe { libc::tcgetpgrp(fd) };
        if child_pid.is_none_or(|pid| current == pid as libc::pid_t) {
            with_sigttou_blocked(|| unsafe { libc::tcsetpgrp(fd, libc::getpgrp()) });
        }
    }
}

pub fn kill_group(child: &mut tokio::process::Child) {
    // `id()` is None once the shell was reaped: then its group id may belong to someone else.
    if let Some(pid) = child.id() {
        // SAFETY: plain syscall; the group is ours (created by `process_group(0)` above).
        unsafe {
            libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
        }
    }
}
