//! The terminal prompt: "MFA token for <serial> (profile <p>): " on its own line of the
//! controlling terminal (`/dev/tty` on unix, the console's `CONIN$`/`CONOUT$` on Windows), below
//! a line naming who waits for the code; input hidden, a time limit.
//! While it is on screen our own stderr lines are held back so they cannot land on its line.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
use unix as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

use std::time::{Duration, Instant};

use super::{listed, timeout, PromptError, Request};
use crate::printable::{printable, Lines};

/// Is there a terminal to ask on (without asking)?
pub fn available() -> bool {
    os::available()
}

pub fn ask(request: &Request<'_>) -> Result<String, PromptError> {
    let _hold = hold_stderr();
    // Why we ask again (if we do) and who waits, each on its own line, then the question: one
    // write, so that nothing can come in between.
    let lines: Vec<String> = request
        .note
        .map(str::to_string)
        .into_iter()
        .chain(waiting_line(request.waiting))
        .chain([format!("MFA token for {} (profile {}): ", request.serial, request.profile)])
        .map(|l| printable(&l, Lines::Escape).into_owned())
        .collect();
    os::read_hidden(&lines.join("\r\n"), timeout())
}

/// "cdk-mfa-rs: the code is for account 1… (profile a), account 2… (profile b) and 3 more".
fn waiting_line(waiting: &[String]) -> Option<String> {
    let (names, more) = listed(waiting);
    if names.is_empty() {
        return None;
    }
    let and_more = if more > 0 { format!(" and {more} more") } else { String::new() };
    Some(format!("cdk-mfa-rs: the code is for {}{and_more}", names.join(", ")))
}

/// The key loop both terminals share: keys from `next` (given the time left; `None`: none yet,
/// look at the clock again; an error, e.g. the end of input, ends the prompt) edit the line
/// until Enter, a cancel key or `timeout`; `shown` is told what each other key did, for the
/// terminal to show it.
pub(crate) fn read_line(
    timeout: Duration,
    mut next: impl FnMut(Duration) -> Result<Option<char>, PromptError>,
    mut shown: impl FnMut(&Key),
) -> Result<String, PromptError> {
    let deadline = Instant::now() + timeout;
    let mut line = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PromptError::TimedOut);
        }
        let Some(c) = next(left)? else { continue };
        match edit(&mut line, c) {
            Key::Done => return Ok(line),
            Key::Cancel => return Err(PromptError::Cancelled),
            key => shown(&key),
        }
    }
}

/// What one key does to the line being typed (the same keys on every terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Done,
    Cancel,
    Typed,
    /// This many characters were removed (backspace: 1, Ctrl-U: the whole line).
    Erased(usize),
    Ignored,
}

pub(crate) fn edit(line: &mut String, c: char) -> Key {
    match c {
        '\r' | '\n' => Key::Done,
        '\u{3}' => Key::Cancel,                    // Ctrl-C
        '\u{4}' if line.is_empty() => Key::Cancel, // Ctrl-D
        '\u{7f}' | '\u{8}' => Key::Erased(line.pop().map_or(0, |_| 1)),
        '\u{15}' => {
            // Ctrl-U
            let n = line.chars().count();
            line.clear();
            Key::Erased(n)
        }
        c if c.is_ascii_graphic() || c == ' ' => {
            line.push(c);
            Key::Typed
        }
        _ => Key::Ignored,
    }
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
    let line = printable(line, Lines::Escape);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &str) -> (String, Vec<Key>) {
        let mut line = String::new();
        let out = keys.chars().map(|c| edit(&mut line, c)).collect();
        (line, out)
    }

    #[test]
    fn the_line_above_names_who_waits() {
        assert_eq!(waiting_line(&[]), None);
        let two = ["account 1 (profile a)".to_string(), "account 2 (profile b)".into(), "account 1 (profile a)".into()];
        assert_eq!(
            waiting_line(&two).unwrap(),
            "cdk-mfa-rs: the code is for account 1 (profile a), account 2 (profile b)"
        );
        let many: Vec<String> = (0..7).map(|i| format!("account {i}")).collect();
        assert_eq!(
            waiting_line(&many).unwrap(),
            "cdk-mfa-rs: the code is for account 0, account 1, account 2, account 3 and 3 more"
        );
    }

    #[test]
    fn keys_edit_the_line() {
        let (line, keys) = typed("12x\u{8}3\u{7f}\u{7f}45\r");
        assert_eq!(line, "145");
        assert_eq!(keys.last(), Some(&Key::Done));
        let (line, keys) = typed("999\u{15}1");
        assert_eq!(line, "1");
        assert_eq!(keys[3], Key::Erased(3));
        assert_eq!(typed("\u{8}").1, vec![Key::Erased(0)]);
        assert_eq!(typed("\u{1b}").1, vec![Key::Ignored]);
    }

    /// `read_line` fed from a script of inputs; what `shown` saw.
    fn read_script(
        script: Vec<Result<Option<char>, PromptError>>,
        timeout: Duration,
    ) -> (Result<String, PromptError>, Vec<Key>) {
        let mut script = script.into_iter();
        let mut seen = Vec::new();
        let got = read_line(timeout, |_| script.next().unwrap_or(Ok(None)), |k| seen.push(k.clone()));
        (got, seen)
    }

    #[test]
    fn the_key_loop_ends_on_enter_cancel_an_input_error_or_the_deadline() {
        let chars = |s: &str| s.chars().map(|c| Ok(Some(c))).collect::<Vec<_>>();
        let long = Duration::from_secs(60);
        let (got, seen) = read_script(chars("12\u{8}3\u{1b}\r"), long);
        assert_eq!(got, Ok("13".to_string()));
        assert_eq!(seen, vec![Key::Typed, Key::Typed, Key::Erased(1), Key::Typed, Key::Ignored]);
        assert_eq!(read_script(chars("1\u{3}"), long).0, Err(PromptError::Cancelled));
        assert_eq!(
            read_script(vec![Ok(Some('1')), Ok(None), Err(PromptError::Cancelled)], long).0,
            Err(PromptError::Cancelled)
        );
        // Nothing typed: the deadline ends it.
        assert_eq!(read_script(vec![], Duration::from_millis(20)).0, Err(PromptError::TimedOut));
    }

    #[test]
    fn interrupt_and_end_of_input_cancel() {
        assert_eq!(typed("12\u{3}").1.last(), Some(&Key::Cancel));
        assert_eq!(typed("\u{4}").1, vec![Key::Cancel]);
        // Not on an empty line: ignored.
        assert_eq!(typed("1\u{4}").1.last(), Some(&Key::Ignored));
    }
}
