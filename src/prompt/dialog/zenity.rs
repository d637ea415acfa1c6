//! zenity (GNOME and most Linux desktops): a text entry with hidden text, which prints what was
//! typed on stdout and exits 1 on Cancel.

use std::time::Duration;

use super::DialogText;

pub fn args(text: &DialogText, own_limit: Duration) -> Vec<String> {
    vec![
        "--entry".into(),
        "--hide-text".into(),
        "--title".into(),
        text.title.clone(),
        "--text".into(),
        // The entry's label reads `_` as a mnemonic marker: double it to show it.
        text.message.replace('_', "__"),
        "--width".into(),
        "460".into(),
        "--timeout".into(),
        own_limit.as_secs().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_entry_titled_with_underscores_kept() {
        let t = DialogText { title: "cdk-mfa-rs: MFA code".into(), message: "profile my_dev".into() };
        let a = args(&t, Duration::from_secs(185));
        assert_eq!(a[..4], ["--entry", "--hide-text", "--title", "cdk-mfa-rs: MFA code"]);
        assert_eq!(a[4..6], ["--text", "profile my__dev"]);
        assert_eq!(a[a.len() - 2..], ["--timeout", "185"]);
    }
}
