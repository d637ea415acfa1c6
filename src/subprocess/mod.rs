//! Running a user's command (`mfa_process`, `credential_process`) through the shell, or a
//! program of ours (the MFA dialog), with a time limit, so that a time-out leaves nothing behind:
//! the command runs in its own process group (a job on Windows), the whole group is killed on
//! time-out or cancellation, and the shell is reaped (a long-lived Node process must not collect
//! zombies). A user's command line may hold a secret (`oathtool --totp -b SEED`): callers never
//! put it in a message.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

#[cfg(unix)]
#[path = "unix.rs"]
mod os;
#[cfg(windows)]
#[path = "windows.rs"]
mod os;

/// More than any credential_process JSON, MFA code or dialog answer: a command that prints
/// without end (`yes`) is stopped here instead of filling memory until its time limit.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// Read to the end, or fail once more than `MAX_OUTPUT` bytes came (the group is then killed).
async fn read_bounded(r: &mut (impl AsyncRead + Unpin), out: &mut Vec<u8>) -> std::io::Result<()> {
    r.take(MAX_OUTPUT + 1).read_to_end(out).await?;
    if out.len() as u64 > MAX_OUTPUT {
        return Err(std::io::Error::other("it printed more than 1 MiB, far more than expected; it was stopped"));
    }
    Ok(())
}

#[derive(Debug)]
pub enum RunError {
    /// The shell itself could not be started.
    Start(std::io::Error),
    /// Reading its output or waiting for it failed.
    Io(std::io::Error),
    TimedOut(Duration),
}

/// Whose command it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The user's (`mfa_process`, `credential_process`): its stderr goes to ours (the user's
    /// tool may explain itself there) and, on a terminal, it is the foreground job while it runs.
    User,
    /// Ours (the MFA dialog): its stderr is captured, it gets no terminal and, on Windows, no
    /// console window of its own.
    Us,
}

/// What a finished command left: its exit status, everything it printed on stdout, and on
/// stderr when that was captured (`Owner::Us`).
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
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
    run(os::shell(command_line), Owner::User, limit).await
}

/// Run `command` (program, arguments, environment) in its own process group, stdin closed,
/// stdout captured, for at most `limit`.
pub async fn run(mut command: std::process::Command, owner: Owner, limit: Duration) -> Result<Finished, RunError> {
    let mut foreground = os::own_group(&mut command, owner);
    let mut command = tokio::process::Command::from(command);
    let err = if owner == Owner::Us { Stdio::piped() } else { Stdio::inherit() };
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(err);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            foreground.restore(None);
            return Err(RunError::Start(e));
        }
    };
    let mut group = Group { pid: child.id(), child, reaped: false, foreground };
    let mut stdout = group.child.stdout.take().expect("piped");
    let mut stderr = group.child.stderr.take();
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        // Both pipes at once, so that neither can fill up and stall the command.
        let read_err = async {
            match stderr.as_mut() {
                Some(e) => read_bounded(e, &mut err).await,
                None => Ok(()),
            }
        };
        tokio::try_join!(read_bounded(&mut stdout, &mut out), read_err)?;
        let status = group.child.wait().await?;
        Ok::<_, std::io::Error>((status, out, err))
    };
    let outcome = tokio::time::timeout(limit, run).await;
    match outcome {
        Ok(Ok((status, stdout, stderr))) => {
            group.reaped = true;
            Ok(Finished { status, stdout, stderr })
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A command that prints without end (`credential_process = yes` filled 1.4 GB in 4 s) is
    /// stopped at the output bound, well before its time limit, and its group is killed.
    #[tokio::test]
    async fn endless_output_is_stopped_at_the_bound() {
        let started = std::time::Instant::now();
        let r = run_shell("head -c 3000000 /dev/zero; sleep 171", Duration::from_secs(20)).await;
        match r {
            Err(RunError::Io(e)) => assert!(e.to_string().contains("printed more than 1 MiB"), "{e}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("finished"),
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        let small = run_shell("head -c 1000 /dev/zero", Duration::from_secs(20)).await.unwrap();
        assert_eq!(small.stdout.len(), 1000);
    }
}
