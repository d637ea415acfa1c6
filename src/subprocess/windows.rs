//! Windows: `cmd /C` in a new process group; on time-out `taskkill /T` ends the whole tree (cmd
//! and what it started), then the child itself is killed in case taskkill is unavailable.

use std::os::windows::process::CommandExt as _;

/// CREATE_NEW_PROCESS_GROUP: a Ctrl-C meant for the CDK CLI is not delivered to the command.
const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
/// CREATE_NO_WINDOW: no console window flashes up for a background command.
const CREATE_NO_WINDOW: u32 = 0x0800_0000;

use super::Owner;

pub fn shell(command_line: &str) -> std::process::Command {
    let mut c = std::process::Command::new("cmd");
    c.arg("/C").arg(command_line);
    c
}

/// A new process group; a program of ours (the dialog, whose output we capture whole) also gets
/// no console window of its own (its own window still shows).
pub fn own_group(c: &mut std::process::Command, owner: Owner) -> Foreground {
    let window = if owner == Owner::Us { CREATE_NO_WINDOW } else { 0 };
    c.creation_flags(CREATE_NEW_PROCESS_GROUP | window);
    Foreground
}

/// The console has no foreground job to hand over: a new process group still reads it.
pub struct Foreground;

impl Foreground {
    pub fn restore(&mut self, _child_pid: Option<u32>) {}
}

pub fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("taskkill")
            .args(["/T", "/F", "/PID", &pid.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .creation_flags(CREATE_NO_WINDOW)
            .status();
    }
    let _ = child.start_kill();
}
