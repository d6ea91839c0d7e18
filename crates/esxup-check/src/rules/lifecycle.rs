//! Lifecycle of the installed and the target branch on the report's day.

use super::Rule;
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_kb::LifecycleStatus;

pub const RULES: &[(&str, Rule)] = &[("lifecycle", lifecycle)];

fn milestone(cx: &Ctx, b: esxup_version::Branch) -> (String, String) {
    let l = cx.kb.lifecycle(b);
    let f = |d: Option<esxup_version::Date>| d.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
    (f(l.and_then(|l| l.end_of_general_support)), f(l.and_then(|l| l.end_of_technical_guidance)))
}

/// LIFECYCLE_CURRENT / LIFECYCLE_TARGET.
pub fn lifecycle(cx: &Ctx, out: &mut Vec<Finding>) {
    if let Some(b) = cx.current_branch() {
        let (egs, etg) = milestone(cx, b);
        let st = cx.kb.status(b, cx.today);
        let key_sev = match st {
            LifecycleStatus::EndOfLife => Some(("check.lifecycle_current_eol", Severity::Warning)),
            LifecycleStatus::TechnicalGuidance => Some(("check.lifecycle_current_tg", Severity::Info)),
            _ => None,
        };
        if let Some((k, s)) = key_sev {
            out.push(
                Finding::new("LIFECYCLE_CURRENT", s, k)
                    .arg("branch", b)
                    .arg("egs", egs)
                    .arg("etg", etg)
                    .evidence("product.version", b)
                    .sources(cx.kb.lifecycle(b).map(|l| l.sources.clone()).unwrap_or_default()),
            );
        }
    }
    let tb = cx.target_branch();
    let (egs, etg) = milestone(cx, tb);
    let st = cx.kb.status(tb, cx.today);
    let key_sev = match st {
        LifecycleStatus::EndOfLife => Some(("check.lifecycle_target_eol", Severity::Warning)),
        LifecycleStatus::TechnicalGuidance => Some(("check.lifecycle_target_tg", Severity::Info)),
        LifecycleStatus::Unknown => Some(("check.lifecycle_target_unknown", Severity::Info)),
        LifecycleStatus::GeneralSupport => None,
    };
    if let Some((k, s)) = key_sev {
        out.push(
            Finding::new("LIFECYCLE_TARGET", s, k)
                .arg("branch", tb)
                .arg("egs", egs)
                .arg("etg", etg)
                .evidence("target.version", cx.target.version)
                .sources(cx.kb.lifecycle(tb).map(|l| l.sources.clone()).unwrap_or_default()),
        );
    }
}
