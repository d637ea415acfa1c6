//! `cdk-mfa-rs status`: every account of the project, the profile or role it goes through, its
//! MFA device and cached session, as a table or `--json`. Makes no AWS call, prints no secret.

use std::collections::BTreeSet;

use chrono::Utc;
use serde_json::{json, Value};

use crate::cache::{Entry, Kind};
use crate::config::{Accounts, Mode, Route};
use crate::plan::Plan;
use crate::printable::printable_json;

use super::project::{session_entry, unmapped_example, Project};
use super::{expiry_text, iso, mode_name, print, relative, via, when, CliResult, Opts};

struct Row {
    account: String,
    modes: Vec<Mode>,
    plan: Result<Plan, String>,
}

pub(super) async fn status(opts: &Opts) -> CliResult<()> {
    let p = Project::load().await?;
    let mut rows: Vec<Row> = Vec::new();
    for account in p.accounts() {
        let plans: Vec<(Mode, Result<Plan, String>)> = [Mode::Read, Mode::Write]
            .into_iter()
            .filter_map(|m| match p.plan(&account, m) {
                Ok(Some(plan)) => Some((m, Ok(plan))),
                Ok(None) => None,
                Err(e) => Some((m, Err(e.message().to_string()))),
            })
            .collect();
        match plans.as_slice() {
            [(m1, a), (m2, b)] if a == b => {
                rows.push(Row { account: account.clone(), modes: vec![*m1, *m2], plan: a.clone() })
            }
            _ => rows.extend(plans.into_iter().map(|(m, plan)| Row { account: account.clone(), modes: vec![m], plan })),
        }
    }
    let every = p.config.assume_role.as_ref().filter(|ar| ar.accounts == Accounts::All);
    let entries: Vec<&Entry> = p.valid_entries().collect();
    let serials: BTreeSet<String> =
        rows.iter().filter_map(|r| r.plan.as_ref().ok()).flat_map(|p| p.mfa.iter().map(|m| m.serial.clone())).collect();
    let mut mfa_sessions: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.kind == Kind::MfaSession && e.label.mfa_serial.as_ref().is_some_and(|s| serials.contains(s)))
        .collect();
    mfa_sessions.sort_by_key(|e| (e.label.mfa_serial.clone(), e.label.profile.clone()));
    let now = Utc::now();
    // The plan of an account only the conventional role reaches: its MFA device and source.
    let other = every.map(|_| p.plan(&unmapped_example(&p.config), Mode::Write));
    let other_source = match &other {
        Some(Ok(Some(plan))) => Some(plan.source.clone()),
        _ => None,
    };

    if opts.has("json") {
        let session_json = |e: Option<&Entry>| match e.and_then(|e| e.credentials.expiration) {
            Some(t) => json!({ "expiration": iso(t), "expiresIn": relative(t, now), "expired": t <= now }),
            None => Value::Null,
        };
        let mut accounts = Vec::new();
        for r in &rows {
            for m in &r.modes {
                let mut o = json!({ "account": r.account, "mode": mode_name(*m) });
                match &r.plan {
                    Ok(plan) => {
                        let route = match p.config.route(&r.account, *m) {
                            Some(Route::Profile(name)) => json!({ "awsProfile": name }),
                            _ => json!({ "assumeRole": true }),
                        };
                        o["route"] = route;
                        o["target"] = json!(plan.target);
                        o["source"] = json!(plan.source);
                        o["roleArn"] = json!(plan.steps.last().map(|s| s.role_arn.clone()));
                        // The first device; a chain may hold more (mfaSerials, from the base up).
                        o["mfaSerial"] = json!(plan.mfa.first().map(|m| m.serial.clone()));
                        o["mfaSerials"] = json!(plan.mfa.iter().map(|m| m.serial.clone()).collect::<Vec<_>>());
                        o["plan"] = json!(plan.to_string());
                        o["session"] = session_json(session_entry(plan, entries.iter().copied()));
                        o["error"] = Value::Null;
                    }
                    Err(e) => o["error"] = json!(e),
                }
                accounts.push(o);
            }
        }
        let out = json!({
            "project": p.cwd.display().to_string(),
            "configFiles": p.config.files_read.iter().map(|f| f.display().to_string()).collect::<Vec<_>>(),
            "cacheDir": p.cache_dir.as_ref().map(|d| d.display().to_string()),
            "unfinishedWrites": p.unfinished_writes,
            "everyOtherAccount": every.map(|ar| json!({
                "readRoleName": ar.read_role_name,
                "writeRoleName": ar.write_role_name,
                "sourceProfile": ar.source_profile,
                "source": other_source,
            })),
            "accounts": accounts,
            "mfaSessions": mfa_sessions.iter().map(|e| {
                let mut o = json!({ "mfaSerial": e.label.mfa_serial, "profile": e.label.profile });
                if let Some(t) = e.credentials.expiration {
                    o["expiration"] = json!(iso(t));
                    o["expiresIn"] = json!(relative(t, now));
                    o["expired"] = json!(t <= now);
                }
                o
            }).collect::<Vec<_>>(),
        });
        print(&format!("{}\n", printable_json(&serde_json::to_string_pretty(&out).expect("JSON"))));
        return Ok(());
    }

    let mut text = String::new();
    text += &format!("project: {}\n", p.cwd.display());
    text += &format!(
        "configuration: {}\n",
        if p.config.files_read.is_empty() {
            "no file found".to_string()
        } else {
            p.config.files_read.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
        }
    );
    let unfinished = match p.unfinished_writes {
        0 => String::new(),
        n => format!(
            " ({n} unfinished write{} left by a process that died; `cdk-mfa-rs logout --all` removes {})",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        ),
    };
    text += &format!(
        "cache: {}{unfinished}\n\n",
        p.cache_dir
            .as_ref()
            .map_or("none (HOME and CDK_MFA_RS_CACHE_DIR are not set)".to_string(), |d| d.display().to_string())
    );
    if rows.is_empty() && every.is_none() {
        text +=
            "No account is mapped: add \"awsProfiles\": {\"<account>\": \"<profile>\"} to cdkmultiprofileplugin.json \
                 (or package.json), or an \"assumeRole\" section.\n";
        print(&text);
        return Ok(());
    }
    let mut table: Vec<[String; 5]> =
        vec![["ACCOUNT", "MODE", "VIA", "MFA DEVICE", "CACHED SESSION"].map(String::from)];
    let mut errors: Vec<String> = Vec::new();
    for r in &rows {
        let modes = r.modes.iter().map(|m| mode_name(*m)).collect::<Vec<_>>().join("/");
        match &r.plan {
            Ok(plan) => {
                let cached = match (
                    session_entry(plan, entries.iter().copied()),
                    !plan.mfa.is_empty() || !plan.steps.is_empty(),
                ) {
                    (Some(e), _) => e.credentials.expiration.map_or("cached, no expiry".into(), when),
                    (None, true) => "not cached".to_string(),
                    (None, false) => "- (not cached by cdk-mfa-rs)".to_string(),
                };
                table.push([
                    r.account.clone(),
                    modes,
                    format!("{} ({})", via(plan), plan.source),
                    devices(plan),
                    cached,
                ]);
            }
            Err(e) => {
                errors.push(format!("  {} ({modes}): {e}\n", r.account));
                table.push([r.account.clone(), modes, "ERROR (below)".to_string(), "-".to_string(), "-".to_string()]);
            }
        }
    }
    if let (Some(ar), Some(other)) = (every, other) {
        let mut src =
            ar.source_profile.as_ref().map_or("the default credentials".to_string(), |s| format!("profile {s}"));
        if let Some(kind) = &other_source {
            src += &format!(" ({kind})");
        }
        let mfa = match other {
            Ok(Some(plan)) => devices(&plan),
            Ok(None) => "-".to_string(),
            Err(e) => {
                errors.push(format!("  any other account: {e}\n"));
                "ERROR (below)".to_string()
            }
        };
        table.push([
            "any other".to_string(),
            "read/write".to_string(),
            format!("roles {} / {} via {src}", ar.read_role_name, ar.write_role_name),
            mfa,
            "-".to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..5).map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    for r in &table {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c == 4 {
                line += cell;
            } else {
                line += &format!("{cell:<w$}  ", w = widths[c]);
            }
        }
        text += line.trim_end();
        text += "\n";
    }
    if !mfa_sessions.is_empty() {
        text += "\nMFA sessions:\n";
        for e in &mfa_sessions {
            text += &format!(
                "  {} (keys of profile {}): {}\n",
                e.label.mfa_serial.as_deref().unwrap_or("?"),
                e.label.profile.as_deref().unwrap_or("?"),
                expiry_text(&e.credentials)
            );
        }
    }
    if !errors.is_empty() {
        text += "\nErrors:\n";
        text += &errors.concat();
        text += "Run `cdk-mfa-rs doctor` for what to fix.\n";
    }
    print(&text);
    Ok(())
}

/// The MFA DEVICE column: every device of the chain, from the base up, or "-".
fn devices(plan: &Plan) -> String {
    if plan.mfa.is_empty() {
        return "-".to_string();
    }
    plan.mfa.iter().map(|m| m.serial.as_str()).collect::<Vec<_>>().join(", ")
}
