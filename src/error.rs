//! One error type whose message is what the user reads: it says what failed and what to fix.
//! Nothing secret may ever be put in a message (no keys, tokens or MFA codes).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    /// The code was rejected by STS (invalid or already used): a terminal prompt may ask again.
    pub mfa_rejected: bool,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error { message: message.into(), mfa_rejected: false }
    }

    pub fn mfa_rejected(message: impl Into<String>) -> Self {
        Error { message: message.into(), mfa_rejected: true }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefix context ("account 1111… (ForReading): ") onto the message.
    pub fn context(self, prefix: impl fmt::Display) -> Self {
        Error { message: format!("{prefix}: {}", self.message), ..self }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
