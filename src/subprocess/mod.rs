//! Running a user's command (`mfa_process`, `credential_process`) through the shell with a time
//! limit, so that a time-out leaves nothing behind: the command runs in its own process group
//! (a job on Windows), the whole group is killed on time-out or cancellation, and the shell is
//! reaped (a long-lived Node process must not collect zombies). The command line is the user's
//! and may hold a secret (`oathtool --totp -b SEED`): callers never put it in a message.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

#[derive(Debug)]
pub enum RunError {
    /// The shell itself could not be started.
    Start(std::io::Error),
    /// Reading its output or waiting for it failed.
    Io(std::io::Error),
    TimedOut(Duration),
}

/// What a finished command left: its exit status and everything it printed on stdout. Its
/// stderr goes to ours (the user's tool may explain itself there).
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
}

/// The command's group, killed when dropped unless the shell has been reaped: a time-out, an
/// error or a cancelled future all end here.
struct Group {
    child: tokio::process::Child,
    /// The shell's pid, which is also the group id.
    pid: Option<u32>,
    reaped: bool,
    foreground: os::Foreground,
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            os::kill_group(&mut self.child);
            // Reap the shell now if it is already gone; otherwise tokio reaps it in the background.
            let _ = self.child.try_wait();
        }
        self.foreground.restore(self.pid);
    }
}

/// Run `command_line` with `sh -c` (`cmd /C` on Windows), stdin closed, stdout captured, for at
/// most `limit`.
pub async fn run_shell(command_line: &str, limit: Duration) -> Result<Finished, RunError> {
    let (mut command, mut foreground) = os::shell(command_line);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            foreground.restore(None);
            return Err(RunError::Start(e));
        }
    };
    let mut group = Group { pid: child.id(), child, reaped: false, foreground };
    let mut stdout = group.child.stdout.take().expect("piped");
    let run = async {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).await?;
        let status = group.child.wait().await?;
        Ok::<_, std::io::Error>((status, out))
    };
    let outcome = tokio::time::timeout(limit, run).await;
    match outcome {
        Ok(Ok((status, stdout))) => {
            group.reaped = true;
            Ok(Finished { status, stdout })
        }
        Ok(Err(e)) => Err(RunError::Io(e)),
        Err(_) => {
            os::kill_group(&mut group.child);
            // Bounded: SIGKILL cannot be ignored; the shell is gone within milliseconds.
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(5), group.child.wait()).await {
                group.reaped = true;
            }
            Err(RunError::TimedOut(limit))
        }
    }
}
