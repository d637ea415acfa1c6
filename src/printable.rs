//! The one escaping step for everything we print (stderr lines, the companion command's
//! output, errors handed to the CDK CLI, the prompt): profile names, config values and ARNs
//! come from files a user may have copied from anywhere, and a control character in one
//! (OSC 52 writes the clipboard, `ESC[2K` erases a line) must reach the terminal as text.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether line breaks are the output's own layout (multi-line text) or must be escaped too
/// (one-line messages).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    Keep,
    Escape,
}

/// `text` with every control character (C0, DEL, C1) and bidirectional override written as a
/// visible escape (`\x1b`, `\u{202e}`); borrowed unchanged when there is none.
pub fn printable(text: &str, lines: Lines) -> Cow<'_, str> {
    let escape = |c: char| needs_escape(c, lines);
    if !text.chars().any(escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if !escape(c) => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char, lines: Lines) -> bool {
    match c {
        '\n' => lines == Lines::Escape,
        // Bidi controls reorder what the reader sees ("Trojan source").
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        c => c.is_control(),
    }
}

/// serde_json output made printable while staying valid JSON: serde_json escapes C0 controls in
/// strings but leaves DEL, C1 and bidi controls raw, and `printable`'s `\x9b` is not a JSON
/// escape. Each becomes `\u009b` instead (all are in the BMP); outside strings JSON holds no
/// control character but its own line breaks, which are kept.
pub fn printable_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| needs_escape(c, Lines::Keep)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if needs_escape(c, Lines::Keep) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_keeps_ordinary_text() {
        let osc52 = "prod\u{1b}]52;c;ZXZpbA==\u{7}";
        assert_eq!(printable(osc52, Lines::Escape), "prod\\x1b]52;c;ZXZpbA==\\x07");
        assert_eq!(printable("a\u{1b}[2Kb", Lines::Keep), "a\\x1b[2Kb");
        assert_eq!(printable("csi\u{9b}2K del\u{7f}", Lines::Keep), "csi\\x9b2K del\\x7f");
        assert_eq!(printable("evil\u{202e}txt", Lines::Keep), "evil\\u{202e}txt");
        assert_eq!(printable("one\ntwo\r", Lines::Escape), "one\\ntwo\\r");
        assert_eq!(printable("one\ntwo\t", Lines::Keep), "one\ntwo\\t");
        let plain = "profile dév → arn:aws:iam::111111111111:role/x ✓";
        assert!(matches!(printable_json(plain), Cow::Borrowed(p) if p == plain));
        assert!(matches!(printable(plain, Lines::Escape), Cow::Borrowed(p) if p == plain));
    }

    #[test]
    fn json_stays_valid_json_with_every_control_escaped() {
        let name = "a\u{9b}2K\u{7f}\u{202e}\u{1b}]52;x\u{7}\n";
        let json = serde_json::to_string_pretty(&serde_json::json!({ "profile": name })).unwrap();
        let out = printable_json(&json);
        assert!(!out.chars().any(|c| c != '\n' && c.is_control()), "{out}");
        assert_eq!(printable(&out, Lines::Keep), out, "nothing left for the output seam to escape");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["profile"], name);
    }
}
