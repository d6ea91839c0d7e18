//! Back-in-time (VMware KB 67077): a target released before the installed
//! build is not a supported upgrade, whatever the version numbers say.

use super::Rule;
use crate::engine::Ctx;
use crate::finding::{Finding, Severity};
use esxup_version::vib::VibVersion;
use esxup_version::MoveKind;

pub const RULES: &[(&str, Rule)] = &[("back_in_time", back_in_time), ("known_build", known_build)];

pub const SRC_BACK_IN_TIME: &str = "VMware KB 67077 (back-in-time upgrades are not supported)";

/// VIBs of the host that the target image carries at a lower version:
/// `(name, host version, image version)`.
pub fn backwards_vibs(cx: &Ctx) -> Vec<(String, String, String)> {
    let (Some(img), Some(vibs)) = (cx.image, cx.facts.vibs.as_ref()) else {
        return Vec::new();
    };
    let mut v: Vec<(String, String, String)> = vibs
        .iter()
        .filter_map(|h| {
            let t = img.vib(&h.name)?;
            (VibVersion::parse(&h.version) > VibVersion::parse(&t.version))
                .then(|| (h.name.clone(), h.version.clone(), t.version.clone()))
        })
        .collect();
    v.sort();
    v
}

/// BACK_IN_TIME: the target's release date is before the installed build's.
pub fn back_in_time(cx: &Ctx, out: &mut Vec<Finding>) {
    let (Some(cur), Some(v), Some(b)) = (cx.current, cx.current_version, cx.current_build) else {
        return; // known_build reports the unknown build
    };
    let t = cx.target;
    if !matches!(v.classify(b, t.version, t.build), MoveKind::Upgrade | MoveKind::Update) {
        return;
    }
    if t.release_date >= cur.release_date {
        return;
    }
    let mut f = Finding::new("BACK_IN_TIME", Severity::Blocker, "check.back_in_time")
        .arg("current_name", &cur.name)
        .arg("current_build", cur.build)
        .arg("current_date", cur.release_date)
        .arg("target_name", &t.name)
        .arg("target_build", t.build)
        .arg("target_date", t.release_date)
        .evidence("product.build", cur.build)
        .evidence("kb.release_date(current)", cur.release_date)
        .evidence("kb.release_date(target)", t.release_date)
        .source(SRC_BACK_IN_TIME)
        .source("VMware KB 1033604 (roll back with Shift+R to the altbootbank build)");
    let back = backwards_vibs(cx);
    let list = if cx.image.is_none() {
        "@check.why.no_depot".to_string()
    } else if back.is_empty() {
        "-".to_string()
    } else {
        back.iter().map(|(n, h, t)| format!("{n} {h} > {t}")).collect::<Vec<_>>().join("; ")
    };
    for (n, h, t) in &back {
        f = f.evidence(&format!("vibs.{n}"), format!("{h} (target {t})"));
    }
    out.push(f.arg("vibs", list));
}

/// KB_UNKNOWN_BUILD: the installed build is not in the knowledge base, so
/// date and advisory checks cannot run.
pub fn known_build(cx: &Ctx, out: &mut Vec<Finding>) {
    match (cx.current_build, cx.current) {
        (None, _) => {}
        (Some(_), Some(_)) => {}
        // A knowledge-base gap, not a collection gap: the remedy is newer
        // data or a report, never "collect it on the host". What to say is `Kb::unknown_build`, the decision `esxup build`
        // prints too: newer than the data (update it) or a gap (report it).
        (Some(b), None) => {
            let mut f = Finding::new("KB_UNKNOWN_BUILD", Severity::Warning, "check.kb_unknown_build")
                .arg("build", b)
                .evidence("product.build", b)
                .evidence("kb.release(product.build)", "unknown");
            f = match cx.kb.unknown_build(b, None) {
                esxup_kb::UnknownBuild::NewerThanData { data_date, .. } => {
                    let date = data_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
                    f.arg("advice", "@check.kb_unknown_advice.newer")
                        .arg("data_date", &date)
                        .evidence("kb.data_date", &date)
                }
                esxup_kb::UnknownBuild::NotInData { .. } => {
                    f.arg("advice", "@check.kb_unknown_advice.missing")
                }
            };
            out.push(f.source("esxup knowledge base (data/releases/*.toml, data/README.md)"))
        }
    }
}
