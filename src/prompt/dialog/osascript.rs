//! macOS: AppleScript's `display dialog … with hidden answer` through osascript, which prints the
//! answer on stdout and exits 1 on Cancel ("User canceled", -128). The texts reach the script
//! through the environment (`system attribute`), so no quoting of ours can break the script.

use std::time::Duration;

use super::DialogText;

pub const TEXT_VAR: &str = "CDK_MFA_RS_DIALOG_TEXT";
pub const TITLE_VAR: &str = "CDK_MFA_RS_DIALOG_TITLE";

pub fn script(own_limit: Duration) -> Vec<String> {
    vec![
        format!("set theText to system attribute \"{TEXT_VAR}\""),
        format!("set theTitle to system attribute \"{TITLE_VAR}\""),
        format!(
            "set answer to display dialog theText with title theTitle default answer \"\" with hidden answer \
             buttons {{\"Cancel\", \"OK\"}} default button \"OK\" cancel button \"Cancel\" with icon caution \
             giving up after {}",
            own_limit.as_secs()
        ),
        "if gave up of answer then error \"no code typed in time\" number 1".into(),
        "text returned of answer".into(),
    ]
}

pub fn args_and_env(text: &DialogText, own_limit: Duration) -> (Vec<String>, Vec<(String, String)>) {
    // One `-e` per line: osascript joins them into one script.
    let args = script(own_limit).into_iter().flat_map(|line| ["-e".to_string(), line]).collect();
    (args, vec![(TEXT_VAR.into(), text.message.clone()), (TITLE_VAR.into(), text.title.clone())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_answer_dialog_reads_its_texts_from_the_environment() {
        let t = DialogText { title: "cdk-mfa-rs: MFA code".into(), message: "say \"hi\" \\ end tell".into() };
        let (args, env) = args_and_env(&t, Duration::from_secs(185));
        assert_eq!(args.len(), 10);
        assert!(args.iter().step_by(2).all(|a| a == "-e"));
        let script = args.iter().skip(1).step_by(2).cloned().collect::<Vec<_>>().join("\n");
        assert!(script.contains("display dialog theText with title theTitle default answer \"\" with hidden answer"));
        assert!(script.contains("giving up after 185"));
        assert!(script.ends_with("text returned of answer"));
        // The texts are not in the script (so a quote in them cannot end a string literal).
        assert!(!script.contains("say"), "{script}");
        assert_eq!(env, [(TEXT_VAR.to_string(), t.message.clone()), (TITLE_VAR.to_string(), t.title.clone())]);
    }
}
