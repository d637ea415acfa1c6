//! Unix: the command leads a new process group; killing the group (`kill(-pgid)`) reaches the
//! shell and everything it started that did not leave the group on purpose.

use std::os::unix::process::CommandExt as _;

pub fn shell(command_line: &str) -> tokio::process::Command {
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c").arg(command_line).process_group(0);
    tokio::process::Command::from(c)
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
