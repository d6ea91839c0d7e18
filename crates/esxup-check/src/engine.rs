//! The engine: resolve the target, run every rule, and assemble the report
//! (verdict, method, exposures, recommendation).

use crate::finding::{Finding, Severity};
use crate::image::TargetImage;
use crate::report::*;
use crate::rules;
use crate::target::{ChosenBy, Target, TargetError, TargetSpec};
use esxup_facts::{HostFacts, SCHEMA_VERSION};
use esxup_kb::tables::{Tables, TablesError};
use esxup_kb::{FixStatus, Kb, Release};
use esxup_version::{Branch, Date, Version};

/// Why a check could not run at all (as opposed to findings about the host).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("check facts: schema version {found} is not supported (this esxup reads version {expected}); re-collect the facts with this esxup (`esxup collect`)")]
    SchemaVersion { found: u32, expected: u32 },
    #[error("check target: {0}")]
    Target(#[from] TargetError),
    #[error("check target auto: no release in the knowledge base can be recommended for this host ({0})")]
    NoAutoTarget(String),
    #[error("check tables: {0}")]
    Tables(#[from] TablesError),
}

/// Everything a rule may look at.
pub struct Ctx<'a> {
    pub kb: &'a Kb,
    pub tables: &'a Tables,
    pub facts: &'a HostFacts,
    /// Installed build and version from the facts.
    pub current_build: Option<u32>,
    pub current_version: Option<Version>,
    /// KB record of the installed build.
    pub current: Option<&'a Release>,
    pub target: &'a Release,
    pub image: Option<&'a TargetImage>,
    pub today: Date,
}

impl<'a> Ctx<'a> {
    /// The context of `facts` against `target`; the installed build, version
    /// and its KB record come from the facts.
    pub fn new(
        kb: &'a Kb,
        tables: &'a Tables,
        facts: &'a HostFacts,
        target: &'a Release,
        image: Option<&'a TargetImage>,
        today: Date,
    ) -> Ctx<'a> {
        let current_build = facts.product.as_ref().map(|p| p.build);
        Ctx {
            kb,
            tables,
            facts,
            current_build,
            current_version: facts.product.as_ref().map(|p| p.version),
            current: current_build.and_then(|b| kb.release(b)),
            target,
            image,
            today,
        }
    }

    pub fn target_branch(&self) -> Branch {
        self.target.version.branch()
    }
    pub fn current_branch(&self) -> Option<Branch> {
        self.current_version.map(|v| v.branch()).or_else(|| self.current.map(|r| r.version.branch()))
    }
    /// The move crosses into 7.0+ from 6.x.
    pub fn crosses_into_70(&self) -> bool {
        self.target_branch() >= Branch::new(7, 0)
            && self.current_branch().is_none_or(|b| b < Branch::new(7, 0))
    }
    /// A `key=value` (or bare `key`) kernel boot option is set to true.
    pub fn boot_option(&self, name: &str) -> Option<bool> {
        let opts = self.facts.boot_options.as_ref()?;
        Some(opts.iter().any(|o| {
            let (k, v) = o.split_once('=').unwrap_or((o.as_str(), "true"));
            k.trim().eq_ignore_ascii_case(name)
                && matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
        }))
    }
}

/// Checks a host against a target with the embedded CPU/device tables.
pub fn check(
    kb: &Kb,
    facts: &HostFacts,
    target: &TargetSpec,
    image: Option<&TargetImage>,
    today: Date,
) -> Result<CheckReport, CheckError> {
    check_with(kb, Tables::embedded()?, facts, target, image, today)
}

/// Options of a check run.
#[derive(Clone, Copy, Debug)]
pub struct CheckOptions {
    /// Compute the recommendation (alternatives, rollback) of a blocked host.
    /// Fleet summaries that print one line per host switch it off.
    pub recommend: bool,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions { recommend: true }
    }
}

/// [`check`] with explicit tables (`--kb DIR`).
pub fn check_with(
    kb: &Kb,
    tables: &Tables,
    facts: &HostFacts,
    spec: &TargetSpec,
    image: Option<&TargetImage>,
    today: Date,
) -> Result<CheckReport, CheckError> {
    check_with_options(kb, tables, facts, spec, image, today, CheckOptions::default())
}

/// [`check_with`] with [`CheckOptions`].
pub fn check_with_options(
    kb: &Kb,
    tables: &Tables,
    facts: &HostFacts,
    spec: &TargetSpec,
    image: Option<&TargetImage>,
    today: Date,
    opts: CheckOptions,
) -> Result<CheckReport, CheckError> {
    if facts.schema_version != SCHEMA_VERSION {
        return Err(CheckError::SchemaVersion { found: facts.schema_version, expected: SCHEMA_VERSION });
    }
    let current_build = facts.product.as_ref().map(|p| p.build);
    let current_version = facts.product.as_ref().map(|p| p.version);
    let current = current_build.and_then(|b| kb.release(b));

    let (target, auto) = match Target::resolve(kb, spec)? {
        Some(t) => (t, None),
        None => {
            let a = choose_auto(kb, tables, facts, current_build, current_version, current, today)?;
            let t = Target { spec: spec.clone(), chosen_by: ChosenBy::Auto, release: a.best.clone() };
            (t, Some(a))
        }
    };
    // Depot images only apply to the release they were built for; rules use it as given.
    let cx = Ctx::new(kb, tables, facts, &target.release, image, today);
    let findings = run_rules(&cx);
    let counts = Counts::of(&findings);
    let verdict = if counts.blockers > 0 {
        Verdict::Blocked
    } else if counts.warnings > 0 {
        Verdict::ReadyWithWarnings
    } else {
        Verdict::Ready
    };
    let method = method(&cx);
    let exposures = exposure_reports(&cx);
    let recommendation = match auto {
        Some(a) => Some(a.into_recommendation()),
        None if verdict == Verdict::Blocked && opts.recommend => Some(recommend_when_blocked(&cx, &findings)),
        None => hop_only(&cx),
    };
    let host = HostSummary {
        name: facts.hostname.clone(),
        source: facts.source.clone(),
        build: current_build,
        version: current_version,
        release: current.map(ReleaseRef::from),
        lifecycle: current_branch_of(current_version, current).map(|b| branch_lifecycle(kb, b, today)),
    };
    let move_kind = current_version
        .zip(current_build)
        .map(|(v, b)| v.classify(b, target.release.version, target.release.build));
    let target_summary = TargetSummary {
        spec: target.spec.clone(),
        chosen_by: target.chosen_by,
        release: ReleaseRef::from(&target.release),
        move_kind,
        lifecycle: Some(branch_lifecycle(kb, target.release.version.branch(), today)),
    };
    Ok(CheckReport {
        schema_version: REPORT_SCHEMA_VERSION,
        today,
        host,
        target: target_summary,
        verdict,
        counts,
        findings,
        method,
        recommendation,
        exposures,
    })
}

fn current_branch_of(v: Option<Version>, r: Option<&Release>) -> Option<Branch> {
    v.map(|v| v.branch()).or_else(|| r.map(|r| r.version.branch()))
}

/// Runs every rule family and orders the findings: blockers, warnings, info;
/// within a severity, in rule order.
pub fn run_rules(cx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (_, family) in rules::FAMILIES {
        for (_, rule) in family.iter() {
            rule(cx, &mut out);
        }
    }
    out.sort_by_key(|f| f.severity);
    out
}

fn branch_lifecycle(kb: &Kb, b: Branch, today: Date) -> BranchLifecycle {
    let l = kb.lifecycle(b);
    BranchLifecycle {
        branch: b,
        status: kb.status(b, today),
        end_of_general_support: l.and_then(|l| l.end_of_general_support),
        end_of_technical_guidance: l.and_then(|l| l.end_of_technical_guidance),
    }
}

fn method(cx: &Ctx) -> Method {
    let fw = cx.facts.firmware.as_ref();
    let sb = fw.and_then(|f| f.secure_boot);
    let mut reasons = Vec::new();
    let upgrade = cx.current_branch().is_none_or(|b| b < cx.target_branch());
    // An esxcli upgrade from 6.x does not keep the new VIB signatures, so
    // Secure Boot cannot stay on after it (research notes): only then is the
    // ISO required.
    let from_6x = upgrade && cx.current_branch().is_none_or(|b| b < Branch::new(7, 0));
    match sb {
        Some(true) if from_6x => {
            reasons.push(Message::new("check.method.secure_boot_iso"));
            return Method { kind: MethodKind::Iso, required: true, reasons };
        }
        None if from_6x => reasons.push(Message::new("check.method.secure_boot_unknown")),
        _ => {}
    }
    // A full image profile from the admin's depot (not a VIB list, not a
    // driver bundle): the admin chose esxcli with it.
    let depot_profile =
        cx.image.is_some_and(|i| !i.partial && !i.profile.is_empty() && i.simulated.is_some());
    if upgrade && depot_profile {
        reasons.push(Message::new("check.method.upgrade_esxcli_depot"));
        Method { kind: MethodKind::Esxcli, required: false, reasons }
    } else if upgrade {
        reasons.push(Message::new("check.method.upgrade_iso_or_esxcli"));
        Method { kind: MethodKind::Iso, required: false, reasons }
    } else {
        reasons.push(Message::new("check.method.update_esxcli"));
        Method { kind: MethodKind::Esxcli, required: false, reasons }
    }
}

/// The first fixed build and release to name for a build of `version`
/// ([`esxup_kb::Fix::first_fixed_for`]: its update line's fix when the data
/// records one).
fn fix_on(f: Option<&esxup_kb::Fix>, version: Option<&Version>) -> (Option<u32>, Option<String>) {
    f.map(|f| {
        let (b, r) = f.first_fixed_for(version);
        (b, r.map(str::to_string))
    })
    .unwrap_or((None, None))
}

fn exposure_reports(cx: &Ctx) -> Vec<ExposureReport> {
    let (Some(branch), Some(build)) = (cx.current_branch(), cx.current_build) else {
        return Vec::new();
    };
    cx.kb
        .exposures_on(branch, build)
        .into_iter()
        .map(|e| {
            let a = e.advisory;
            let target_status = a.status_in(cx.target);
            let (workaround_exists, workaround) = match a.workaround_info() {
                esxup_kb::Workaround::Documented { text, .. } => (Some(true), Some(text.to_string())),
                esxup_kb::Workaround::NoneExists { quote } => (Some(false), Some(quote.to_string())),
                esxup_kb::Workaround::NotRecorded => (None, None),
            };
            ExposureReport {
                advisory: a.id.clone(),
                title: a.title.clone(),
                published: a.published,
                cves: a.cves.iter().map(|c| c.id.clone()).collect(),
                known_exploited: a.known_exploited(),
                max_cvss: a.max_cvss(),
                fix_build: fix_on(e.fix, cx.current_version.as_ref()).0,
                fix_release: fix_on(e.fix, cx.current_version.as_ref()).1,
                fixed_by_target: target_status.fixed(),
                target_status,
                target_fix_build: fix_on(a.fix_for(cx.target_branch()), Some(&cx.target.version)).0,
                target_fix_release: fix_on(a.fix_for(cx.target_branch()), Some(&cx.target.version)).1,
                target_fix_line: a
                    .fix_for(cx.target_branch())
                    .map(|f| f.fixed_line_label(Some(&cx.target.version))),
                workaround_kb: a.workaround_kb.clone(),
                workaround_service: a.workaround_service.clone(),
                workaround_in_place: rules::advisories::workaround_in_place(a, cx.facts),
                workaround_exists,
                workaround,
            }
        })
        .collect()
}

/// Findings that are about the hardware/host (not the chosen release): used
/// by auto to decide whether a branch can run here at all.
fn hardware_blockers(findings: &[Finding]) -> Vec<String> {
    const NOT_HARDWARE: &[&str] = &["UPGRADE_PATH", "BACK_IN_TIME", "UPDATE_PENDING", "MAINTENANCE_MODE"];
    let mut v: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Blocker && !NOT_HARDWARE.contains(&f.id.as_str()))
        .map(|f| f.id.clone())
        .collect();
    v.dedup();
    v
}

fn blocker_ids(findings: &[Finding]) -> Vec<String> {
    let mut v: Vec<String> =
        findings.iter().filter(|f| f.severity == Severity::Blocker).map(|f| f.id.clone()).collect();
    v.dedup();
    v
}

/// Known-exploited advisories the installed build is exposed to.
fn known_exploited(kb: &Kb, branch: Option<Branch>, build: Option<u32>) -> Vec<&esxup_kb::Advisory> {
    match (branch, build) {
        (Some(b), Some(n)) => {
            kb.exposures_on(b, n).into_iter().map(|e| e.advisory).filter(|a| a.known_exploited()).collect()
        }
        _ => kb.advisories().iter().filter(|a| a.known_exploited()).collect(),
    }
}

struct AutoChoice {
    best: Release,
    why: Vec<Message>,
    alternatives: Vec<Alternative>,
    hops: Vec<ReleaseRef>,
}

impl AutoChoice {
    fn into_recommendation(self) -> Recommendation {
        Recommendation {
            best: Some(ReleaseRef::from(&self.best)),
            why: self.why,
            alternatives: self.alternatives,
            hops: self.hops,
            rollback: None,
        }
    }
}

/// Whether VMware withdrew the release (the KB's `withdrawn` key: 7.0 U3,
/// U3a, U3b).
pub fn withdrawn(r: &Release) -> bool {
    r.withdrawn.is_some()
}

/// Newest release of a branch (highest version, then date, then build) that
/// was out by `today`, is not back in time for the host, not withdrawn, and
/// fixes every known-exploited advisory that has a fix there.
fn best_of_branch<'k>(
    kb: &'k Kb,
    branch: Branch,
    current: (Option<Date>, Option<Version>),
    today: Date,
    exploited: &[&esxup_kb::Advisory],
) -> Option<&'k Release> {
    let mut rels: Vec<&Release> = kb.branch_releases(branch).collect();
    rels.sort_by_key(|r| (r.version, r.release_date, r.build));
    rels.into_iter()
        .rev()
        .filter(|r| eligible(r, current, today))
        .find(|r| exploited.iter().all(|a| fixes_if_fixable(r, a)))
}

/// Releases of a branch worth recommending, best first: out by `today`, not
/// withdrawn, not back in time; those carrying every published fix of the
/// known-exploited advisories first, then by version, date and build.
fn branch_candidates<'k>(
    kb: &'k Kb,
    branch: Branch,
    current: (Option<Date>, Option<Version>),
    today: Date,
    exploited: &[&esxup_kb::Advisory],
) -> Vec<&'k Release> {
    let mut rels: Vec<&Release> =
        kb.branch_releases(branch).filter(|r| eligible(r, current, today)).collect();
    rels.sort_by_key(|r| {
        let fixes_all = exploited.iter().all(|a| fixes_if_fixable(r, a));
        std::cmp::Reverse((fixes_all, r.version, r.release_date, r.build))
    });
    rels
}

/// The release was out by `today`, is not withdrawn, and is not back in time
/// for the host (`current`: its release date and version, when known).
fn eligible(r: &Release, current: (Option<Date>, Option<Version>), today: Date) -> bool {
    let (current_date, current_version) = current;
    r.release_date <= today
        && !withdrawn(r)
        && current_date.is_none_or(|d| r.release_date >= d)
        && not_older_update(r, current_version)
}

/// On the installed branch, the release is not of an older update level.
fn not_older_update(r: &Release, current: Option<Version>) -> bool {
    current.is_none_or(|v| r.version.branch() != v.branch() || r.version >= v)
}

/// The release carries the fix of the advisory on its branch, or no build
/// of the branch can carry it (no fix published, or the branch not listed):
/// then no build of the branch can be preferred for it.
fn fixes_if_fixable(r: &Release, a: &esxup_kb::Advisory) -> bool {
    a.status_in(r) != FixStatus::NotFixed
}

fn choose_auto(
    kb: &Kb,
    tables: &Tables,
    facts: &HostFacts,
    current_build: Option<u32>,
    current_version: Option<Version>,
    current: Option<&Release>,
    today: Date,
) -> Result<AutoChoice, CheckError> {
    let cur_branch = current_branch_of(current_version, current);
    let cur_date = current.map(|r| r.release_date);
    let exploited = known_exploited(kb, cur_branch, current_build);
    let mut branches = kb.branches();
    branches.retain(|b| cur_branch.is_none_or(|c| *b >= c));
    branches.reverse();
    let mut chosen: Option<(Release, Vec<Message>)> = None;
    let mut hop_fallback: Option<Release> = None;
    let mut alternatives = Vec::new();
    for b in branches {
        // The newest release of the branch the hardware can run: usually the
        // newest one; older ones when a later update dropped this hardware
        // (8.0 U2 needs XSAVE).
        let mut picked: Option<(&Release, Vec<Finding>)> = None;
        let mut first: Option<(&Release, Vec<Finding>)> = None;
        // Hardware findings depend on the update level, not the build: one
        // blocked release of an update level stands for all of them.
        let mut blocked_levels: Vec<Version> = Vec::new();
        for r in branch_candidates(kb, b, (cur_date, current_version), today, &exploited).into_iter().take(80)
        {
            if blocked_levels.contains(&r.version) {
                continue;
            }
            if Some(r.build) == current_build {
                if first.is_none() {
                    first = Some((r, Vec::new()));
                }
                break;
            }
            let cx = Ctx::new(kb, tables, facts, r, None, today);
            let findings = run_rules(&cx);
            if hardware_blockers(&findings).is_empty() {
                picked = Some((r, findings));
                break;
            }
            blocked_levels.push(r.version);
            if first.is_none() {
                first = Some((r, findings));
            }
        }
        let Some((r, findings)) = picked.or(first) else {
            continue;
        };
        if Some(r.build) == current_build {
            // Already on the best build of this branch: staying is an option, not an upgrade.
            if chosen.is_none() {
                alternatives.push(Alternative {
                    release: ReleaseRef::from(r),
                    blockers: Vec::new(),
                    reasons: vec![Message::new("check.auto.already_there")],
                });
            }
            continue;
        }
        let hw = hardware_blockers(&findings);
        let needs_hop = findings.iter().any(|f| f.id == "UPGRADE_PATH" && f.severity == Severity::Blocker);
        let status = kb.status(b, today);
        if needs_hop && hw.is_empty() {
            // Reachable later through an intermediate branch: a runner-up, and
            // the fallback when no branch is reachable directly.
            let route =
                findings.iter().find(|f| f.id == "UPGRADE_PATH").and_then(|f| f.args.get("route").cloned());
            let reason = match route {
                Some(r) => Message::new("check.auto.runner_up_hop").arg("branch", b).arg("route", r),
                None => Message::new("check.auto.runner_up_blocked")
                    .arg("branch", b)
                    .arg("blockers", "UPGRADE_PATH"),
            };
            if hop_fallback.is_none() {
                hop_fallback = Some(r.clone());
            }
            alternatives.push(Alternative {
                release: ReleaseRef::from(r),
                blockers: blocker_ids(&findings),
                reasons: vec![reason],
            });
            continue;
        }
        if chosen.is_none() && hw.is_empty() {
            let mut why = vec![Message::new("check.auto.why_branch")
                .arg("branch", b)
                .arg("name", &r.name)
                .arg("build", r.build)];
            why.push(Message::new("check.auto.why_newest").arg("date", r.release_date));
            if let Some(d) = cur_date {
                why.push(
                    Message::new("check.auto.why_not_back_in_time")
                        .arg("date", r.release_date)
                        .arg("current_date", d),
                );
            }
            why.extend(exposure_why(&exploited, r));
            why.push(
                Message::new("check.auto.why_lifecycle")
                    .arg("branch", b)
                    .arg("status", lifecycle_word(status)),
            );
            chosen = Some((r.clone(), why));
        } else {
            let reasons = if hw.is_empty() {
                vec![Message::new("check.auto.runner_up_older_branch").arg("branch", b)]
            } else {
                vec![Message::new("check.auto.runner_up_blocked")
                    .arg("branch", b)
                    .arg("blockers", hw.join(", "))]
            };
            alternatives.push(Alternative {
                release: ReleaseRef::from(r),
                blockers: blocker_ids(&findings),
                reasons,
            });
        }
    }
    if chosen.is_none() {
        if let Some(r) = hop_fallback {
            let why = vec![
                Message::new("check.auto.why_branch")
                    .arg("branch", r.version.branch())
                    .arg("name", &r.name)
                    .arg("build", r.build),
                Message::new("check.auto.why_hop_only"),
            ];
            chosen = Some((r, why));
        }
    }
    let (best, why) = chosen.ok_or_else(|| {
        CheckError::NoAutoTarget(if alternatives.is_empty() {
            "the knowledge base has no newer release".to_string()
        } else {
            "every newer branch has a hardware blocker; run with an explicit --target to see them".to_string()
        })
    })?;
    let hops = match cur_branch {
        Some(c) => hop_releases(kb, c, best.version.branch(), cur_date, today),
        None => Vec::new(),
    };
    Ok(AutoChoice { best, why, alternatives, hops })
}

/// The recommendation's sentences about the known-exploited advisories the
/// host is exposed to, grouped by what each says about `r`
/// ([`esxup_kb::Advisory::status_in`], the same decision as the findings).
pub fn exposure_why(exploited: &[&esxup_kb::Advisory], r: &Release) -> Vec<Message> {
    let mut out = Vec::new();
    for (status, key) in [
        (FixStatus::Fixed, "check.auto.why_fixes"),
        (FixStatus::NotListed, "check.auto.why_not_listed"),
        (FixStatus::NotFixed, "check.auto.why_not_fixed"),
        (FixStatus::NoFixPublished, "check.auto.why_unfixed"),
    ] {
        let ids: Vec<&str> =
            exploited.iter().filter(|a| a.status_in(r) == status).map(|a| a.id.as_str()).collect();
        if !ids.is_empty() {
            out.push(
                Message::new(key)
                    .arg("advisories", ids.join(", "))
                    .arg("branch", r.version.branch())
                    .arg("name", &r.name),
            );
        }
    }
    out
}

fn lifecycle_word(s: esxup_kb::LifecycleStatus) -> &'static str {
    match s {
        esxup_kb::LifecycleStatus::GeneralSupport => "@check.ui.general-support",
        esxup_kb::LifecycleStatus::TechnicalGuidance => "@check.ui.technical-guidance",
        esxup_kb::LifecycleStatus::EndOfLife => "@check.ui.end-of-life",
        esxup_kb::LifecycleStatus::Unknown => "@check.ui.unknown",
    }
}

/// The newest usable release of each intermediate branch.
fn hop_releases(kb: &Kb, from: Branch, to: Branch, cur_date: Option<Date>, today: Date) -> Vec<ReleaseRef> {
    kb.intermediate_hops(from, to)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| best_of_branch(kb, b, (cur_date, None), today, &[]).or_else(|| kb.latest(b)))
        .map(ReleaseRef::from)
        .collect()
}

fn hop_only(cx: &Ctx) -> Option<Recommendation> {
    let c = cx.current_branch()?;
    let hops = hop_releases(cx.kb, c, cx.target_branch(), cx.current.map(|r| r.release_date), cx.today);
    if hops.is_empty() {
        return None;
    }
    Some(Recommendation { best: None, why: Vec::new(), alternatives: Vec::new(), hops, rollback: None })
}

fn recommend_when_blocked(cx: &Ctx, findings: &[Finding]) -> Recommendation {
    let kb = cx.kb;
    let cur_date = cx.current.map(|r| r.release_date);
    let exploited = known_exploited(kb, cx.current_branch(), cx.current_build);
    let mut alternatives: Vec<Alternative> = Vec::new();
    let mut why = Vec::new();
    let back_in_time = findings.iter().any(|f| f.id == "BACK_IN_TIME");
    let tb = cx.target_branch();
    // 1. The same branch: the first release that is not back in time, and the newest.
    let mut same: Vec<&Release> = Vec::new();
    let not_here = |r: &&Release| Some(r.build) != cx.current_build && r.build != cx.target.build;
    let tb_cands: Vec<&Release> =
        branch_candidates(kb, tb, (cur_date, cx.current_version), cx.today, &exploited)
            .into_iter()
            .filter(not_here)
            .collect();
    if let Some(newest) = tb_cands.first() {
        same.push(newest);
    }
    // The newest build of the branch without a blocker here (8.0 U1 for a CPU
    // that 8.0 U2 refuses), when the newest has one.
    let working = tb_cands
        .iter()
        .take(24)
        .find(|r| blocker_ids(&run_rules(&Ctx { target: r, image: None, ..*cx })).is_empty());
    if let Some(w) = working.filter(|w| !same.iter().any(|r| r.build == w.build)) {
        same.push(w);
    }
    if let Some(d) = cur_date {
        let first = kb.branch_releases(tb).filter(not_here).find(|r| {
            r.release_date >= d
                && r.release_date <= cx.today
                && !withdrawn(r)
                && not_older_update(r, cx.current_version)
        });
        if let Some(first) = first.filter(|f| !same.iter().any(|r| r.build == f.build)) {
            same.push(first);
        }
    }
    // 2. Other branches, newest first.
    let mut others: Vec<&Release> = kb
        .branches()
        .into_iter()
        .rev()
        .filter(|b| *b != tb && cx.current_branch().is_none_or(|c| *b >= c))
        .filter_map(|b| best_of_branch(kb, b, (cur_date, cx.current_version), cx.today, &exploited))
        .filter(|r| Some(r.build) != cx.current_build)
        .collect();
    // 0. With a hop route, the first hop is the next step.
    let hop_first: Vec<&Release> = match cx.current_branch() {
        Some(c) => kb
            .intermediate_hops(c, tb)
            .unwrap_or_default()
            .into_iter()
            .take(1)
            .filter_map(|b| best_of_branch(kb, b, (cur_date, cx.current_version), cx.today, &exploited))
            .collect(),
        None => Vec::new(),
    };
    let mut candidates = hop_first;
    candidates.append(&mut same);
    candidates.append(&mut others);
    let mut best: Option<ReleaseRef> = None;
    for r in candidates.into_iter().take(8) {
        if r.build == cx.target.build {
            continue;
        }
        if alternatives.len() >= 4 && best.is_some() {
            break;
        }
        let sub = Ctx { target: r, image: None, ..*cx };
        let f = run_rules(&sub);
        let blockers = blocker_ids(&f);
        let mut reasons = Vec::new();
        if let Some(d) = cur_date {
            if r.release_date >= d {
                reasons.push(
                    Message::new("check.recommend.not_back_in_time")
                        .arg("date", r.release_date)
                        .arg("current_date", d),
                );
            }
        }
        if r.version.branch() == tb {
            reasons.push(Message::new("check.recommend.same_branch").arg("branch", tb));
        }
        if blockers.is_empty() && best.is_none() {
            best = Some(ReleaseRef::from(r));
            why.push(Message::new("check.recommend.works").arg("name", &r.name).arg("build", r.build));
        }
        if alternatives.len() < 4 {
            alternatives.push(Alternative { release: ReleaseRef::from(r), blockers, reasons });
        }
    }
    let rollback = if back_in_time { rollback_route(cx) } else { None };
    let hops = match cx.current_branch() {
        Some(c) => hop_releases(kb, c, tb, cur_date, cx.today),
        None => Vec::new(),
    };
    Recommendation { best, why, alternatives, hops, rollback }
}

/// Shift+R to the altbootbank build, then the original target (KB 1033604).
fn rollback_route(cx: &Ctx) -> Option<Rollback> {
    let alt = cx.facts.altbootbank.as_ref()?;
    let build = alt.build?;
    if Some(build) == cx.current_build {
        return None;
    }
    let rel = cx.kb.release(build);
    let safe = rel.map(|r| r.release_date <= cx.target.release_date);
    let mut steps = vec![
        Message::new("check.rollback.step_backup"),
        Message::new("check.rollback.step_shift_r")
            .arg("build", build)
            .arg("date", rel.map(|r| r.release_date.to_string()).unwrap_or_else(|| "?".into())),
        Message::new("check.rollback.step_verify").arg("build", build),
        Message::new("check.rollback.step_upgrade")
            .arg("name", &cx.target.name)
            .arg("build", cx.target.build),
    ];
    if safe != Some(true) {
        steps.push(Message::new("check.rollback.not_safe"));
    }
    Some(Rollback {
        build,
        release: rel.map(ReleaseRef::from),
        back_in_time_safe: safe,
        then: ReleaseRef::from(cx.target),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdrawn_70_u3_builds_are_never_candidates() {
        let kb = Kb::embedded().expect("embedded knowledge base");
        let pulled = [18644231, 18825058, 18905247];
        for b in pulled {
            assert!(kb.release(b).is_some_and(withdrawn), "{b} carries the KB's withdrawn key");
        }
        assert!(kb.release(19193900).is_some_and(|r| !withdrawn(r)), "7.0 U3c is the re-release");
        // By the end of 2021 all three were out (and pulled), U3c was not yet.
        let today: Date = "2021-12-31".parse().unwrap();
        let out: Vec<u32> = kb
            .branch_releases(Branch::new(7, 0))
            .filter(|r| r.release_date <= today)
            .map(|r| r.build)
            .collect();
        assert!(pulled.iter().all(|b| out.contains(b)));
        let cands = branch_candidates(kb, Branch::new(7, 0), (None, None), today, &[]);
        assert!(!cands.is_empty());
        assert!(
            cands.iter().all(|r| !pulled.contains(&r.build)),
            "{:?}",
            cands.iter().map(|r| r.build).collect::<Vec<_>>()
        );
        let best = best_of_branch(kb, Branch::new(7, 0), (None, None), today, &[]).expect("a 7.0 release");
        assert!(!pulled.contains(&best.build) && best.version < Version::new(7, 0, 3), "{}", best.name);
    }
}
