//! kdialog (KDE): a password box, which prints what was typed on stdout and exits 1 on Cancel.
//! It has no time limit of its own; ours kills it.

use super::DialogText;

pub fn args(text: &DialogText) -> Vec<String> {
    vec!["--title".into(), text.title.clone(), "--password".into(), text.message.clone()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_box_with_title_and_text() {
        let t = DialogText { title: "cdk-mfa-rs: MFA code".into(), message: "device x".into() };
        assert_eq!(args(&t), ["--title", "cdk-mfa-rs: MFA code", "--password", "device x"]);
    }
}
