//! Asking the person at the machine for an MFA code, by one of the methods behind this seam:
//! `terminal` (the controlling terminal, never stdin: the CDK CLI owns stdin), `dialog` (a
//! desktop dialog, for runs without a terminal: IDE tasks, editor-run Makefiles, git hooks) and
//! `none`. `auto` takes the terminal when there is one, else a dialog when a desktop session and
//! a dialog program exist, else fails at once: nothing here ever waits for input that cannot come.
//!
//! What is typed is returned to the caller only: never logged, never on a command line.

mod dialog;
mod terminal;

use std::time::Duration;

use crate::error::Error;

pub use terminal::stderr_line;

/// How long one prompt (terminal or dialog) waits for the user before giving up, unless
/// `CDK_MFA_RS_PROMPT_TIMEOUT_SECONDS` says otherwise.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(180);

pub fn timeout() -> Duration {
    crate::env_var("CDK_MFA_RS_PROMPT_TIMEOUT_SECONDS")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .map_or(PROMPT_TIMEOUT, Duration::from_secs)
}

/// How to ask: `CDK_MFA_PROMPT`, else `mfaPrompt` in cdkmultiprofileplugin.json, else `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    #[default]
    Auto,
    Terminal,
    Dialog,
    None,
}

impl Method {
    /// The accepted spellings, for error messages.
    pub const CHOICES: &'static str = "\"auto\", \"terminal\", \"dialog\" or \"none\"";

    pub fn from_name(name: &str) -> Option<Method> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Method::Auto),
            "terminal" => Some(Method::Terminal),
            "dialog" => Some(Method::Dialog),
            "none" => Some(Method::None),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptError {
    NoTerminal(String),
    /// No dialog can be shown; says why and what to install or set.
    NoDialog(String),
    /// `auto` found neither a terminal nor a way to show a dialog (why not the dialog).
    NoTerminalNorDialog(String),
    /// The method is `none`.
    Off,
    Cancelled,
    TimedOut,
    Io(String),
}

/// One question: the device, the profile declaring it, who is waiting for its code, and why we
/// ask again (if we do).
pub struct Request<'a> {
    pub serial: &'a str,
    /// The AWS profile whose `mfa_serial` names the device (a chain may hold two devices).
    pub profile: &'a str,
    /// "account 111111111111 (profile dev)", …: named by the prompt (see `listed`).
    pub waiting: &'a [String],
    /// Shown before the question: "STS rejected that code …".
    pub note: Option<&'a str>,
}

/// Ask once, keeping to the method: the answer, trimmed. Whether it is a code at all, and how
/// often to ask again, is for the caller (`mfa`) to decide.
pub fn ask_code(method: Method, request: &Request<'_>) -> Result<String, PromptError> {
    ask(method, request).map(|answer| answer.trim().to_string())
}

/// Could a prompt be shown here and now (without showing one)?
pub fn can_ask(method: Method) -> bool {
    !matches!(availability(method), Availability::Nowhere { .. })
}

/// At most this many of those waiting are named in a prompt; the rest are counted.
pub const MAX_LISTED: usize = 4;

/// Those waiting, each once and sorted (requests arrive in no particular order), at most
/// `MAX_LISTED`, and how many more there are.
pub fn listed(waiting: &[String]) -> (Vec<&str>, usize) {
    let mut unique: Vec<&str> = waiting.iter().map(String::as_str).collect();
    unique.sort_unstable();
    unique.dedup();
    let more = unique.len().saturating_sub(MAX_LISTED);
    unique.truncate(MAX_LISTED);
    (unique, more)
}

fn ask(method: Method, request: &Request<'_>) -> Result<String, PromptError> {
    match method {
        Method::None => Err(PromptError::Off),
        Method::Terminal => terminal::ask(request),
        Method::Dialog => dialog::ask(request),
        Method::Auto => match terminal::ask(request) {
            Err(PromptError::NoTerminal(_)) => dialog::ask(request).map_err(|e| match e {
                PromptError::NoDialog(why) => PromptError::NoTerminalNorDialog(why),
                other => other,
            }),
            other => other,
        },
    }
}

/// Where a code would be asked here and now (for `doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Terminal,
    /// A dialog, shown by this program.
    Dialog(String),
    /// Nowhere: why, and (when a dialog is allowed) what a dialog needs here.
    Nowhere {
        why: String,
        for_a_dialog: Option<String>,
    },
}

pub fn availability(method: Method) -> Availability {
    let dialog = || dialog::available().map(|p| Availability::Dialog(p.display().to_string()));
    match method {
        Method::None => Availability::Nowhere {
            why: "prompting is off (CDK_MFA_PROMPT or mfaPrompt is \"none\")".into(),
            for_a_dialog: None,
        },
        Method::Terminal | Method::Auto if terminal::available() => Availability::Terminal,
        Method::Terminal => Availability::Nowhere { why: "no terminal here".into(), for_a_dialog: None },
        Method::Dialog => dialog().unwrap_or_else(|why| Availability::Nowhere {
            why: "no dialog can be shown here".into(),
            for_a_dialog: Some(why),
        }),
        Method::Auto => dialog()
            .unwrap_or_else(|why| Availability::Nowhere { why: "no terminal here".into(), for_a_dialog: Some(why) }),
    }
}

/// The one-line error for a prompt that did not give a code. `profile` declares `mfa_serial`;
/// `env_code_spent`: CDK_MFA_CODE was set but already went to another STS call.
pub fn error(e: PromptError, serial: &str, profile: &str, env_code_spent: bool) -> Error {
    let mfa_process =
        format!("add mfa_process = <command that prints the code> to profile {profile} in your AWS config");
    let other_sources = if env_code_spent {
        format!("CDK_MFA_CODE serves one STS call and went to an earlier one (a chain with two MFA devices needs two codes); {mfa_process}")
    } else {
        format!("set CDK_MFA_CODE to the current code, or {mfa_process}")
    };
    Error::new(match e {
        PromptError::NoTerminal(_) => {
            format!("an MFA code for {serial} is needed but there is no terminal to ask on; {other_sources}")
        }
        PromptError::NoTerminalNorDialog(why) => format!(
            "an MFA code for {serial} is needed but there is no terminal to ask on; {other_sources}; \
             or, for a dialog, {why}"
        ),
        PromptError::NoDialog(why) => {
            format!("an MFA code for {serial} is needed but no dialog can be shown: {why}; or {other_sources}")
        }
        PromptError::Off => format!(
            "an MFA code for {serial} is needed and prompting is off (CDK_MFA_PROMPT or mfaPrompt is \"none\"); \
             {other_sources}"
        ),
        PromptError::Cancelled => format!("MFA prompt for {serial} cancelled; nothing was cached"),
        PromptError::TimedOut => format!(
            "no MFA code for {serial} was typed within {} s; run again when the device is at hand",
            timeout().as_secs()
        ),
        PromptError::Io(m) => format!("cannot ask for the MFA code for {serial}: {m}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        assert_eq!(Method::from_name("auto"), Some(Method::Auto));
        assert_eq!(Method::from_name(" Dialog "), Some(Method::Dialog));
        assert_eq!(Method::from_name("terminal"), Some(Method::Terminal));
        assert_eq!(Method::from_name("none"), Some(Method::None));
        assert_eq!(Method::from_name("zenity"), None);
        assert_eq!(Method::default(), Method::Auto);
    }

    #[test]
    fn no_way_to_ask_names_serial_env_mfa_process_and_what_to_install() {
        let serial = "arn:aws:iam::111111111111:mfa/u";
        let m = error(PromptError::NoTerminal("ENXIO".into()), serial, "p", false).to_string();
        for needle in [serial, "no terminal", "CDK_MFA_CODE", "mfa_process", "profile p"] {
            assert!(m.contains(needle), "{m}");
        }
        let m =
            error(PromptError::NoTerminalNorDialog("install zenity or kdialog".into()), serial, "p", false).to_string();
        for needle in [serial, "no terminal", "CDK_MFA_CODE", "mfa_process", "install zenity or kdialog"] {
            assert!(m.contains(needle), "{m}");
        }
        let m = error(PromptError::Off, serial, "p", false).to_string();
        assert!(m.contains("\"none\"") && m.contains("CDK_MFA_CODE"), "{m}");
        let m = error(PromptError::NoTerminal("ENXIO".into()), serial, "top", true).to_string();
        assert!(m.contains("went to an earlier one") && m.contains("mfa_process") && m.contains("profile top"), "{m}");
        assert!(!m.contains("set CDK_MFA_CODE"), "{m}");
    }

    #[test]
    fn none_is_available_nowhere_and_says_why() {
        let Availability::Nowhere { why, for_a_dialog } = availability(Method::None) else { panic!() };
        assert!(why.contains("prompting is off"), "{why}");
        assert_eq!(for_a_dialog, None);
    }

    #[test]
    fn none_never_asks() {
        let r = Request { serial: "s", profile: "p", waiting: &[], note: None };
        assert_eq!(ask_code(Method::None, &r), Err(PromptError::Off));
        assert!(!can_ask(Method::None));
    }

    #[test]
    fn listed_once_each_at_most_a_few() {
        let w = |n: usize| (0..n).map(|i| format!("account {i}")).collect::<Vec<_>>();
        let twice = ["b".to_string(), "a".into(), "b".into()];
        assert_eq!(listed(&twice), (vec!["a", "b"], 0));
        assert_eq!(listed(&w(MAX_LISTED)).1, 0);
        let many = w(MAX_LISTED + 3);
        let (names, more) = listed(&many);
        assert_eq!((names.len(), more), (MAX_LISTED, 3));
        assert_eq!(listed(&[]), (vec![], 0));
    }
}
