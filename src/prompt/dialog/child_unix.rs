//! The dialog program in its own process group (unix), so that the whole group (the program
//! and anything it started) can be killed at the time limit.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

pub fn own_group(c: &mut Command) {
    c.process_group(0);
}

pub fn kill_group(child: &mut Child) {
    // The group id is the program's pid (process_group(0)).
    unsafe {
        libc::killpg(child.id() as libc::pid_t, libc::SIGKILL);
    }
    let _ = child.wait();
}

pub fn is_executable(m: &std::fs::Metadata) -> bool {
    m.permissions().mode() & 0o111 != 0
}
