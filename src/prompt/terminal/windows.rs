//! The terminal prompt on Windows: the console itself (`CONIN$` / `CONOUT$`), never stdin (the
//! CDK CLI owns it). Echo and line editing are off and each typed character shows as `*`; key
//! events are read one at a time with a time limit, so no read blocks forever. Ctrl-C puts the
//! console mode back first, then sends the Ctrl-C the console would have sent to every process
//! on it. Without a console, opening `CONIN$` fails at once: no hang.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::windows::io::AsRawHandle;
use std::time::Duration;

use windows_sys::Win32::Foundation::{HANDLE, WAIT_OBJECT_0, WAIT_TIMEOUT};
use windows_sys::Win32::System::Console::{
    GenerateConsoleCtrlEvent, GetConsoleMode, ReadConsoleInputW, SetConsoleMode, CONSOLE_MODE, CTRL_C_EVENT,
    ENABLE_ECHO_INPUT, ENABLE_LINE_INPUT, ENABLE_PROCESSED_INPUT, INPUT_RECORD, KEY_EVENT,
};
use windows_sys::Win32::System::Threading::WaitForSingleObject;

use super::{read_line, Key};
use crate::prompt::PromptError;

fn io(e: std::io::Error) -> PromptError {
    PromptError::Io(format!("console: {e}"))
}

fn console_out() -> Result<File, PromptError> {
    OpenOptions::new().write(true).open("CONOUT$").map_err(|e| PromptError::NoTerminal(e.to_string()))
}

pub fn available() -> bool {
    OpenOptions::new().read(true).write(true).open("CONIN$").is_ok()
}

/// Puts the console input mode back as it was, whatever way the prompt ends.
struct Restore {
    handle: HANDLE,
    saved: CONSOLE_MODE,
}

impl Drop for Restore {
    fn drop(&mut self) {
        unsafe {
            SetConsoleMode(self.handle, self.saved);
        }
    }
}

pub fn read_hidden(prompt: &str, timeout: Duration) -> Result<String, PromptError> {
    // Read and write access: the console mode can only be changed through such a handle.
    let input =
        OpenOptions::new().read(true).write(true).open("CONIN$").map_err(|e| PromptError::NoTerminal(e.to_string()))?;
    let mut out = console_out()?;
    let handle = input.as_raw_handle() as HANDLE;
    let mut saved: CONSOLE_MODE = 0;
    if unsafe { GetConsoleMode(handle, &mut saved) } == 0 {
        return Err(PromptError::NoTerminal(std::io::Error::last_os_error().to_string()));
    }
    let restore = Restore { handle, saved };
    // No echo, key by key, and Ctrl-C as a character so the mode is restored before it acts.
    let raw = saved & !(ENABLE_ECHO_INPUT | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT);
    if unsafe { SetConsoleMode(handle, raw) } == 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    write!(out, "\r\n{prompt}").and_then(|_| out.flush()).map_err(io)?;

    let outcome = read_line(
        timeout,
        |left| next_key(handle, left),
        |key| {
            let echo = match key {
                Key::Typed => "*".to_string(),
                Key::Erased(n) => "\u{8} \u{8}".repeat(*n),
                _ => return,
            };
            let _ = out.write_all(echo.as_bytes()).and_then(|_| out.flush());
        },
    );
    let _ = write!(out, "\r\n");
    drop(restore);
    if outcome == Err(PromptError::Cancelled) {
        // With the mode restored, deliver the Ctrl-C to every process on this console (the CLI too).
        unsafe {
            GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
        }
    }
    outcome
}

/// The next character typed, waiting at most `left` (`None`: none yet, or an event that carries
/// none: mouse, focus, key-up).
fn next_key(handle: HANDLE, left: Duration) -> Result<Option<char>, PromptError> {
    let ms = left.as_millis().min(u32::MAX as u128 - 1) as u32;
    match unsafe { WaitForSingleObject(handle, ms) } {
        WAIT_OBJECT_0 => {}
        WAIT_TIMEOUT => return Ok(None),
        _ => return Err(io(std::io::Error::last_os_error())),
    }
    let mut record: INPUT_RECORD = unsafe { std::mem::zeroed() };
    let mut read = 0u32;
    if unsafe { ReadConsoleInputW(handle, &mut record, 1, &mut read) } == 0 {
        return Err(io(std::io::Error::last_os_error()));
    }
    if read == 0 || u32::from(record.EventType) != KEY_EVENT {
        return Ok(None);
    }
    let key = unsafe { record.Event.KeyEvent };
    let unit = unsafe { key.uChar.UnicodeChar };
    if key.bKeyDown == 0 || unit == 0 {
        return Ok(None);
    }
    // Ctrl-Z is the console's end-of-input key: on an empty line it cancels, as Ctrl-D does
    // (and elsewhere it is ignored, as Ctrl-D is).
    Ok(char::from_u32(u32::from(unit)).map(|c| if c == '\u{1a}' { '\u{4}' } else { c }))
}
