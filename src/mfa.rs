//! Where an MFA code comes from, in this order: `CDK_MFA_CODE` (at most one STS call per
//! process), the profile's `mfa_process`, then a prompt (terminal or dialog, see `prompt`).
//! Codes are checked locally (6 digits) before any STS call, and never logged, cached or put
//! in an error. A prompt asks at most `MAX_ATTEMPTS` times in all, then the process gives up.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::creds::Creds;
use crate::error::{Error, Result};
use crate::plan::Mfa;
use crate::prompt::{self, PromptError};
use crate::subprocess::{self, RunError};

/// Answers asked for per prompt in all, malformed ones and ones STS rejects alike (the AWS CLI
/// gives one try; a person mistyping deserves a few, a dialog answering junk does not get more).
pub const MAX_ATTEMPTS: usize = 3;

/// Before the first question of a prompt, other requests for the same MFA session get this long
/// to join it, so that the prompt names them all: the CDK CLI's concurrent requests for the
/// accounts of one deploy arrive a few milliseconds apart. Never spent when no prompt is shown.
pub const GATHER_WINDOW: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Env,
    Process,
    /// Typed by the user at a terminal or in a dialog.
    Prompt,
}

/// A code and where it came from (only a prompt may be asked again after a rejection).
pub struct Code {
    pub value: String,
    pub source: Source,
}

pub fn is_valid_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Process-wide state: how to prompt, whether `CDK_MFA_CODE` has been spent, and whether a
/// prompt has ended without a code (cancelled, timed out, or `MAX_ATTEMPTS` answers refused):
/// then no other request may prompt again while the process stops, and each gets that error
/// (one walk-away must not become one 180 s prompt per waiting account).
#[derive(Default)]
pub struct CodeSources {
    method: prompt::Method,
    env_code_used: AtomicBool,
    gave_up: std::sync::Mutex<Option<Error>>,
}

impl CodeSources {
    pub fn new(method: prompt::Method) -> CodeSources {
        CodeSources { method, ..Default::default() }
    }

    /// Was CDK_MFA_CODE set and already used (then it cannot serve this code)?
    fn env_code_spent(&self) -> bool {
        self.env_code_used.load(Ordering::SeqCst)
    }

    /// Get a code and make `call` (the STS call) with it. A prompted code that is not 6 digits
    /// (refused here, no STS call) or that STS rejects is asked again, `MAX_ATTEMPTS` in all.
    /// `waiting` says who waits for this code ("account … (profile …)"), named by the prompt.
    pub async fn with_code<W, F, Fu>(&self, mfa: &Mfa, waiting: W, call: F) -> Result<Creds>
    where
        W: Fn() -> Vec<String>,
        F: Fn(String) -> Fu,
        Fu: Future<Output = Result<Creds>>,
    {
        let mut note: Option<String> = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let left = MAX_ATTEMPTS - attempt;
            let code = self.next_code(mfa, note.as_deref(), attempt == 1, &waiting).await?;
            let prompted = code.source == Source::Prompt;
            let refused = if prompted && !is_valid_code(&code.value) {
                Refused::NotSixDigits
            } else {
                match call(code.value).await {
                    Err(e) if e.mfa_rejected && prompted => Refused::BySts,
                    done => return done,
                }
            };
            if left == 0 {
                return Err(self.give_up(Error::new(format!(
                    "no valid MFA code for {} after {MAX_ATTEMPTS} attempts (the last {}); nothing was cached; \
                     run again with the current code",
                    mfa.serial,
                    refused.said()
                ))));
            }
            note = Some(match refused {
                Refused::NotSixDigits => {
                    format!("cdk-mfa-rs: an MFA code is 6 digits; try again ({left} of {MAX_ATTEMPTS} attempts left).")
                }
                Refused::BySts => format!(
                    "cdk-mfa-rs: STS rejected that code for {} (wrong, or already used); enter the next code ({left} \
                     of {MAX_ATTEMPTS} attempts left).",
                    mfa.serial
                ),
            });
        }
        unreachable!("the last attempt returns")
    }

    /// From now on every request that needs a code gets `e` instead of a prompt.
    fn give_up(&self, e: Error) -> Error {
        *self.gave_up.lock().unwrap() = Some(e.clone());
        e
    }

    /// `first`: the first question of this prompt (the others join it then, see `GATHER_WINDOW`).
    async fn next_code(
        &self,
        mfa: &Mfa,
        retry_note: Option<&str>,
        first: bool,
        waiting: &impl Fn() -> Vec<String>,
    ) -> Result<Code> {
        if let Some(e) = self.gave_up.lock().unwrap().clone() {
            return Err(e);
        }
        if let Some(code) = std::env::var("CDK_MFA_CODE").ok().filter(|c| !c.trim().is_empty()) {
            if !self.env_code_used.swap(true, Ordering::SeqCst) {
                let code = code.trim().to_string();
                if !is_valid_code(&code) {
                    return Err(Error::new(format!(
                        "CDK_MFA_CODE is not a 6-digit code (needed for MFA device {}); set it to the current code",
                        mfa.serial
                    )));
                }
                return Ok(Code { value: code, source: Source::Env });
            }
        }
        if let Some(cmd) = &mfa.mfa_process {
            return run_mfa_process(cmd, mfa).await.map(|value| Code { value, source: Source::Process });
        }
        let method = self.method;
        if first && prompt::can_ask(method) {
            tokio::time::sleep(GATHER_WINDOW).await;
        }
        let waiting = waiting();
        let serial = mfa.serial.clone();
        let profile = mfa.profile.clone();
        let note = retry_note.map(str::to_string);
        let answer = tokio::task::spawn_blocking(move || {
            let request =
                prompt::Request { serial: &serial, profile: &profile, waiting: &waiting, note: note.as_deref() };
            prompt::ask_code(method, &request)
        })
        .await
        .map_err(|e| Error::new(format!("the MFA prompt failed: {e}")))?;
        match answer {
            Ok(value) => Ok(Code { value, source: Source::Prompt }),
            Err(e @ (PromptError::Cancelled | PromptError::TimedOut)) => {
                Err(self.give_up(prompt::error(e, &mfa.serial, &mfa.profile, self.env_code_spent())))
            }
            Err(e) => Err(prompt::error(e, &mfa.serial, &mfa.profile, self.env_code_spent())),
        }
    }
}

/// Why a prompted code was not taken.
#[derive(Clone, Copy)]
enum Refused {
    NotSixDigits,
    BySts,
}

impl Refused {
    fn said(self) -> &'static str {
        match self {
            Refused::NotSixDigits => "was not 6 digits",
            Refused::BySts => "was rejected by STS: wrong, or already used",
        }
    }
}

/// Errors name the profile and what went wrong, never the command: users keep TOTP seeds there.
async fn run_mfa_process(cmd: &str, mfa: &Mfa) -> Result<String> {
    let fail = |why: String| {
        Error::new(format!(
            "mfa_process of profile {} {why}; fix the command or remove mfa_process to be prompted",
            mfa.profile
        ))
    };
    // Same bound as credential_process (60 s unless CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS says otherwise).
    let done = match subprocess::run_shell(cmd, crate::base::base_timeout()).await {
        Ok(done) => done,
        Err(RunError::Start(e)) => return Err(fail(format!("could not start: {e}"))),
        Err(RunError::Io(e)) => return Err(fail(format!("failed: {e}"))),
        Err(RunError::TimedOut(limit)) => return Err(fail(format!("did not finish within {} s", limit.as_secs()))),
    };
    if !done.status.success() {
        return Err(fail(format!("exited with {}", done.status)));
    }
    let code = String::from_utf8_lossy(&done.stdout).trim().to_string();
    if !is_valid_code(&code) {
        // Do not echo what it printed: it may be a secret of some other kind.
        return Err(fail("did not print a 6-digit code".to_string()));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mfa(process: Option<&str>) -> Mfa {
        Mfa {
            serial: "arn:aws:iam::111111111111:mfa/u".into(),
            profile: "p".into(),
            mfa_process: process.map(str::to_string),
            step: 0,
        }
    }

    #[test]
    fn six_digits_only() {
        assert!(is_valid_code("012345"));
        for bad in ["12345", "1234567", "12345a", " 12345", "", "１２３４５６"] {
            assert!(!is_valid_code(bad), "{bad}");
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn mfa_process_success_failure_garbage() {
        assert_eq!(run_mfa_process("echo ' 654321 '", &mfa(None)).await.unwrap(), "654321");
        let e = run_mfa_process("exit 3", &mfa(None)).await.unwrap_err();
        assert!(e.message().contains("exited with exit status: 3"), "{e}");
        // What it printed is not echoed: it may be a secret of some other kind.
        let e = run_mfa_process("echo $((6*7))-printed", &mfa(None)).await.unwrap_err();
        assert!(e.message().contains("did not print a 6-digit code"), "{e}");
        assert!(!e.message().contains("42-printed"), "{e}");
    }
}
