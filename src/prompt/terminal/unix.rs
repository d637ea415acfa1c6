//! The terminal prompt on unix: `/dev/tty` itself, never stdin (the CDK CLI owns stdin/stdout,
//! and `credential_process` callers give us no stdin at all). Input is hidden. Ctrl-C restores
//! the terminal first, then re-raises SIGINT so the CLI stops as the user asked. With no
//! terminal, opening `/dev/tty` fails at once (ENXIO): no hang.

use super::read_line;
use crate::prompt::PromptError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::time::Duration;

fn open_tty() -> Result<File, PromptError> {
    OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|e| PromptError::NoTerminal(e.to_string()))
}

pub fn available() -> bool {
    open_tty().is_ok()
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

    let outcome = read_line(timeout, |left| next_key(&mut tty, left), |_| {});
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

/// The next byte typed, waiting at most `left` (`None`: none yet, or the wait or read was
/// interrupted); the end of input cancels.
fn next_key(tty: &mut File, left: Duration) -> Result<Option<char>, PromptError> {
    let mut pfd = libc::pollfd { fd: tty.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = left.as_millis().min(i32::MAX as u128) as i32;
    let n = unsafe { libc::poll(&mut pfd, 1, ms) };
    if n < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok(None);
        }
        return Err(PromptError::Io(e.to_string()));
    }
    if n == 0 {
        return Ok(None);
    }
    let mut b = [0u8; 1];
    match tty.read(&mut b) {
        Ok(0) => Err(PromptError::Cancelled),
        Ok(_) => Ok(Some(b[0] as char)),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(None),
        Err(e) => Err(PromptError::Io(e.to_string())),
    }
}
