//! The dialog program on Windows: its own process group and no console window of its own (the
//! form still shows). The dialog lives inside the PowerShell process, so killing that process
//! closes it.

use std::os::windows::process::CommandExt;
use std::process::{Child, Command};

use windows_sys::Win32::System::Threading::{CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW};

pub fn own_group(c: &mut Command) {
    c.creation_flags(CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW);
}

pub fn kill_group(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

pub fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}
