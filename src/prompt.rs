//! Reading an MFA code from the controlling terminal itself (`/dev/tty`), never from stdin:
//! the CDK CLI owns stdin/stdout, and `credential_process` callers give us no stdin at all.
//!
//! Input is hidden. Ctrl-C restores the terminal first, then re-raises SIGINT so the CLI stops
//! as the user asked. With no terminal, opening `/dev/tty` fails at once (ENXIO): no hang.

use std::time::Duration;

/// How long a terminal prompt waits for the user before giving up.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, PartialEq, Eq)]
pub enum PromptError {
    NoTerminal(String),
    Cancelled,
    TimedOut,
    Io(String),
}

/// Lines for stderr held back while a prompt is on screen (`None` when no prompt is), so that
/// our own notices about other accounts cannot land in the middle of the prompt line.
static HELD_LINES: std::sync::Mutex<Option<Vec<String>>> = std::sync::Mutex::new(None);

/// Write one line to stderr in a single write (so it cannot interleave with other output), or
/// hold it until the prompt on screen has been answered.
pub fn stderr_line(line: &str) {
    let mut held = HELD_LINES.lock().unwrap_or_else(|e| e.into_inner());
    match held.as_mut() {
        Some(lines) => lines.push(line.to_string()),
        None => write_stderr(line),
    }
}

fn write_stderr(line: &str) {
    use std::io::Write;
    let line = crate::printable::printable(line, crate::printable::Lines::Escape);
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// Hold stderr lines from now until the returned guard is dropped, then write them.
fn hold_stderr() -> HoldGuard {
    *HELD_LINES.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
    HoldGuard
}

struct HoldGuard;

impl Drop for HoldGuard {
    fn drop(&mut self) {
        let lines = HELD_LINES.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        lines.iter().for_each(|l| write_stderr(l));
    }
}

/// Write `message` on its own line of the terminal (no prompt). Used for "wrong code, again".
pub fn tell(message: &str) -> Result<(), PromptError> {
    imp::tell(&crate::printable::printable(message, crate::printable::Lines::Escape))
}

/// Show `prompt` on its own line and read one line with echo off.
pub fn read_hidden(prompt: &str) -> Result<String, PromptError> {
    let _hold = hold_stderr();
    imp::read_hidden(&crate::printable::printable(prompt, crate::printable::Lines::Escape), PROMPT_TIMEOUT)
}

#[cfg(unix)]
mod imp {
    use super::PromptError;
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::time::{Duration, Instant};

    fn open_tty() -> Result<File, PromptError> {
        OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|e| PromptError::NoTerminal(e.to_string()))
    }

    pub fn tell(message: &str) -> Result<(), PromptError> {
        let mut tty = open_tty()?;
        write!(tty, "\r\n{message}\r\n").map_err(|e| PromptError::Io(e.to_string()))
    }

    /// Puts the terminal back as it was, whatever way the prompt ends.
    struct Restore {
        fd: i32,
        saved: libc::termios,
    }

    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.saved);
            }
        }
    }

    pub fn read_hidden(prompt: &str, timeout: Duration) -> Result<String, PromptError> {
        let mut tty = open_tty()?;
        let fd = tty.as_raw_fd();
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(PromptError::NoTerminal(std::io::Error::last_os_error().to_string()));
        }
        let mut raw = saved;
        // No echo, byte at a time, and Ctrl-C as a byte so we can restore the terminal first.
        raw.c_lflag &= !(libc::ECHO | libc::ICANON | libc::ISIG);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        let restore = Restore { fd, saved };
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &raw) } != 0 {
            return Err(PromptError::Io(std::io::Error::last_os_error().to_string()));
        }
        // Start on a fresh line: the CLI may have left its cursor mid-line.
        write!(tty, "\r\n{prompt}").and_then(|_| tty.flush()).map_err(|e| PromptError::Io(e.to_string()))?;

        let deadline = Instant::now() + timeout;
        let mut line = String::new();
        let outcome = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(PromptError::TimedOut);
            }
            let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            let ms = left.as_millis().min(i32::MAX as u128) as i32;
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                break Err(PromptError::Io(e.to_string()));
            }
            if n == 0 {
                continue;
            }
            let mut b = [0u8; 1];
            match tty.read(&mut b) {
                Ok(0) => break Err(PromptError::Cancelled),
                Ok(_) => match b[0] {
                    b'\r' | b'\n' => break Ok(line.clone()),
                    0x03 => break Err(PromptError::Cancelled), // Ctrl-C
                    0x04 if line.is_empty() => break Err(PromptError::Cancelled), // Ctrl-D
                    0x7f | 0x08 => {
                        line.pop();
                    }
                    0x15 => line.clear(), // Ctrl-U
                    c if c.is_ascii_graphic() || c == b' ' => line.push(c as char),
                    _ => {}
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(PromptError::Io(e.to_string())),
            }
        };
        let _ = write!(tty, "\r\n");
        drop(restore);
        if outcome == Err(PromptError::Cancelled) {
            // The user pressed Ctrl-C: with the terminal restored, deliver the SIGINT the terminal
            // would have sent to the whole foreground process group (npx, the CLI, …).
            unsafe {
                libc::kill(0, libc::SIGINT);
            }
        }
        outcome
    }
}

#[cfg(windows)]
mod imp {
    use super::PromptError;
    use std::time::Duration;

    pub fn tell(message: &str) -> Result<(), PromptError> {
        use std::io::Write;
        let mut con = std::fs::OpenOptions::new()
            .write(true)
            .open("CONOUT$")
            .map_err(|e| PromptError::NoTerminal(e.to_string()))?;
        writeln!(con, "\r\n{message}").map_err(|e| PromptError::Io(e.to_string()))
    }

    pub fn read_hidden(prompt: &str, _timeout: Duration) -> Result<String, PromptError> {
        // rpassword reads from CONIN$ with echo disabled.
        std::fs::OpenOptions::new().read(true).open("CONIN$").map_err(|e| PromptError::NoTerminal(e.to_string()))?;
        rpassword::prompt_password(format!("\r\n{prompt}")).map_err(|e| PromptError::Io(e.to_string()))
    }
}
