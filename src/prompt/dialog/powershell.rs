//! Windows: a small Windows Forms dialog run by Windows PowerShell (present on every Windows):
//! a password box (`UseSystemPasswordChar`), OK and Cancel. It writes what was typed on stdout
//! and exits 1 on Cancel. The script goes as `-EncodedCommand` (no command-line quoting) and
//! reads its texts from the environment (no PowerShell quoting).

use std::time::Duration;

use super::DialogText;

pub const TEXT_VAR: &str = "CDK_MFA_RS_DIALOG_TEXT";
pub const TITLE_VAR: &str = "CDK_MFA_RS_DIALOG_TITLE";

pub fn script(own_limit: Duration) -> String {
    let lines = [
        "Add-Type -AssemblyName System.Windows.Forms",
        "Add-Type -AssemblyName System.Drawing",
        "[System.Windows.Forms.Application]::EnableVisualStyles()",
        "$form = New-Object System.Windows.Forms.Form",
        &format!("$form.Text = $env:{TITLE_VAR}"),
        "$form.FormBorderStyle = 'FixedDialog'; $form.MaximizeBox = $false; $form.MinimizeBox = $false",
        "$form.StartPosition = 'CenterScreen'; $form.TopMost = $true",
        "$form.AutoSize = $true; $form.AutoSizeMode = 'GrowAndShrink'",
        "$form.Padding = New-Object System.Windows.Forms.Padding(12)",
        "$panel = New-Object System.Windows.Forms.FlowLayoutPanel",
        "$panel.FlowDirection = 'TopDown'; $panel.AutoSize = $true; $panel.WrapContents = $false",
        "$label = New-Object System.Windows.Forms.Label",
        &format!("$label.Text = $env:{TEXT_VAR}"),
        "$label.AutoSize = $true; $label.MaximumSize = New-Object System.Drawing.Size(520, 0)",
        "$box = New-Object System.Windows.Forms.TextBox",
        "$box.UseSystemPasswordChar = $true; $box.Width = 240",
        "$buttons = New-Object System.Windows.Forms.FlowLayoutPanel",
        "$buttons.AutoSize = $true",
        "$ok = New-Object System.Windows.Forms.Button; $ok.Text = 'OK'; $ok.DialogResult = 'OK'",
        "$cancel = New-Object System.Windows.Forms.Button; $cancel.Text = 'Cancel'; $cancel.DialogResult = 'Cancel'",
        "$buttons.Controls.AddRange(@($ok, $cancel))",
        "$panel.Controls.AddRange(@($label, $box, $buttons))",
        "$form.Controls.Add($panel)",
        "$form.AcceptButton = $ok; $form.CancelButton = $cancel",
        "$timer = New-Object System.Windows.Forms.Timer",
        &format!("$timer.Interval = {}", own_limit.as_millis()),
        "$timer.Add_Tick({ $form.DialogResult = 'Cancel'; $form.Close() })",
        "$timer.Start()",
        "$form.Add_Shown({ $form.Activate(); $box.Focus() })",
        "if ($form.ShowDialog() -eq 'OK') { [Console]::Out.Write($box.Text); exit 0 } else { exit 1 }",
    ];
    lines.join("\n")
}

pub fn args_and_env(text: &DialogText, own_limit: Duration) -> (Vec<String>, Vec<(String, String)>) {
    let args = ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"]
        .into_iter()
        .map(String::from)
        .chain([encode_command(&script(own_limit))])
        .collect();
    (args, vec![(TEXT_VAR.into(), text.message.clone()), (TITLE_VAR.into(), text.title.clone())])
}

/// `-EncodedCommand` takes the script as base64 of its UTF-16LE bytes.
fn encode_command(script: &str) -> String {
    let bytes: Vec<u8> = script.encode_utf16().flat_map(u16::to_le_bytes).collect();
    base64(&bytes)
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ABC[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbase64(s: &str) -> Vec<u8> {
        const ABC: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let vals: Vec<u32> = s.bytes().filter(|b| *b != b'=').map(|b| ABC.find(b as char).unwrap() as u32).collect();
        let mut out = Vec::new();
        for c in vals.chunks(4) {
            let n = c.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
            out.extend((0..c.len() - 1).map(|i| (n >> (16 - 8 * i)) as u8));
        }
        out
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // The form PowerShell documents for -EncodedCommand: "dir" in UTF-16LE.
        assert_eq!(encode_command("dir"), "ZABpAHIA");
    }

    #[test]
    fn password_box_script_encoded_with_texts_from_the_environment() {
        let t = DialogText { title: "cdk-mfa-rs: MFA code".into(), message: "it's \"quoted\" $(calc)".into() };
        let (args, env) = args_and_env(&t, Duration::from_secs(185));
        assert_eq!(
            args[..6],
            ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand"]
        );
        assert_eq!(args.len(), 7);
        let utf16: Vec<u16> = unbase64(&args[6]).chunks(2).map(|b| u16::from_le_bytes([b[0], b[1]])).collect();
        let script = String::from_utf16(&utf16).unwrap();
        assert_eq!(script, super::script(Duration::from_secs(185)));
        assert!(script.contains("$box.UseSystemPasswordChar = $true"));
        assert!(script.contains("$timer.Interval = 185000"));
        assert!(script.contains("[Console]::Out.Write($box.Text); exit 0 } else { exit 1 }"));
        assert!(!script.contains("calc"), "the texts are not in the script");
        assert_eq!(env, [(TEXT_VAR.to_string(), t.message.clone()), (TITLE_VAR.to_string(), t.title.clone())]);
    }
}
