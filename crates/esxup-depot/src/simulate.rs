//! Transaction simulation: what `esxcli software profile update` (or
//! `profile install`) would do to a host, decided VIB by VIB with the reason,
//! and the problems esxcli would report, in esxcli's wording.
//!
//! Rules (research README):
//! - every VIB implicitly provides `name = version` and replaces
//!   `name << version`;
//! - `profile update` upgrades installed VIBs, adds new ones, never removes;
//!   target VIBs older than the installed ones are skipped (unless
//!   `--allow-downgrades`), and the kept newer VIBs must still resolve;
//! - `profile install` replaces the image; VIBs not in the profile are
//!   removed only with `--ok-to-remove`;
//! - the result must resolve: dependencies, conflicts, obsoletes, acceptance
//!   level, hardware platform.

use crate::depot::Depot;
use crate::fasthash::FastMap;
use crate::host::{HostImage, HostVib};
use crate::model::{acceptance_short, ImageProfile, Vib, VibId};
use esxup_facts::AcceptanceLevel;
use esxup_version::vib::{Constraint, VibVersion};
use serde::Serialize;
use std::collections::HashMap;

/// `profile update` or `profile install`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    Update,
    Install,
}

/// esxcli options that change the transaction.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    pub mode: Mode,
    pub allow_downgrades: bool,
    pub ok_to_remove: bool,
}

/// One VIB and why it lands where it does.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub vib: String,
    pub reason: String,
    /// The other VIB the decision is about (replaced, newer, obsoleting...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// Kinds of transaction problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ProblemKind {
    DependencyError,
    Conflict,
    Obsoleted,
    AcceptanceError,
    HardwarePlatform,
    /// `profile install` would remove VIBs and `--ok-to-remove` was not given.
    RemovalNotAllowed,
    /// The profile names a VIB the depot metadata lacks.
    MissingVib,
    /// A community/partner VIB installs files outside the paths the
    /// extensibility rules allow (esxcli 7.0.1 refused ghettoVCB for this;
    /// reported as a warning: which releases enforce it is not known here).
    Extensibility,
}

impl ProblemKind {
    /// The tag esxcli-style output shows in brackets.
    pub fn tag(self) -> &'static str {
        match self {
            ProblemKind::DependencyError => "DependencyError",
            ProblemKind::Conflict => "Conflict",
            ProblemKind::Obsoleted => "Obsoleted",
            ProblemKind::AcceptanceError => "AcceptanceError",
            ProblemKind::HardwarePlatform => "HardwarePlatform",
            ProblemKind::RemovalNotAllowed => "RemovalNotAllowed",
            ProblemKind::MissingVib => "MissingVib",
            ProblemKind::Extensibility => "Extensibility",
        }
    }

    /// Whether esxcli would refuse the transaction.
    pub fn fails(self) -> bool {
        !matches!(self, ProblemKind::Obsoleted | ProblemKind::Extensibility)
    }
}

/// A problem with the resulting image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub vibs: Vec<String>,
    /// The constraint involved, if any (`vmkapi_2_2_0_0`, `esx-base >= 7.0.2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
}

/// The simulated outcome of applying an image profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transaction {
    pub profile: String,
    pub mode: Mode,
    pub allow_downgrades: bool,
    pub ok_to_remove: bool,
    pub installed: Vec<Decision>,
    pub removed: Vec<Decision>,
    pub skipped: Vec<Decision>,
    pub kept: Vec<Decision>,
    pub problems: Vec<Problem>,
    pub reboot_required: bool,
    pub reboot_reasons: Vec<String>,
    pub maintenance_mode_required: bool,
    pub maintenance_mode_reasons: Vec<String>,
    /// The acceptance level VIBs were checked against, and where it came from.
    pub acceptance_level: Option<AcceptanceLevel>,
    pub notes: Vec<String>,
}

impl Transaction {
    /// Whether esxcli would carry it out.
    pub fn succeeds(&self) -> bool {
        !self.problems.iter().any(|p| p.kind.fails())
    }
}

/// One VIB of the resulting image (borrowed from the host image or depot).
struct Entry<'a> {
    id: &'a str,
    name: &'a str,
    version: &'a VibVersion,
    meta: Option<&'a Vib>,
    acceptance: Option<AcceptanceLevel>,
}

impl<'a> Entry<'a> {
    fn from_host(h: &'a HostVib, depot: &'a Depot) -> Entry<'a> {
        let meta = depot.find_installed(&h.id, &h.vendor, &h.name, &h.version);
        Entry {
            id: meta.map(|m| m.id.as_str()).unwrap_or(h.id.as_str()),
            name: &h.name,
            version: &h.version,
            acceptance: h.acceptance.or(meta.and_then(|m| m.acceptance)),
            meta,
        }
    }
    fn from_vib(v: &'a Vib) -> Entry<'a> {
        Entry { id: &v.id, name: &v.name, version: &v.version, meta: Some(v), acceptance: v.acceptance }
    }
}

/// Whether `c` is satisfied by a VIB (its implicit `name = version`
/// provide, or an explicit provide).
fn provides(e: &Entry, c: &Constraint) -> bool {
    if e.name == c.name && c.version_matches(Some(e.version)) {
        return true;
    }
    e.meta
        .is_some_and(|m| m.provides.iter().any(|p| p.name == c.name && c.version_matches(p.version.as_ref())))
}

/// Whether `a` replaces (obsoletes) `b` through an explicit `replaces`.
fn explicitly_replaces<'a>(a: &Entry<'a>, b: &Entry) -> Option<&'a Constraint> {
    let m = a.meta?;
    m.replaces.iter().find(|c| provides(b, c))
}

/// Why a VIB lands where it does, kept as references until rendered
/// (formatting every reason of every dry-run costs more than deciding).
#[derive(Clone, Copy, Debug)]
enum Why<'a> {
    AlreadyInstalled { host: &'a str },
    ReplacedByNewer { target: &'a str, tv: &'a VibVersion, hv: &'a VibVersion },
    Upgrades { host: &'a str, tv: &'a VibVersion, hv: &'a VibVersion },
    DowngradedTo { target: &'a str, tv: &'a VibVersion, hv: &'a VibVersion, why: &'static str },
    Downgrades { host: &'a str, tv: &'a VibVersion, hv: &'a VibVersion, why: &'static str },
    SkippedDowngrade { host: &'a str, hv: &'a VibVersion, tv: &'a VibVersion },
    ObsoletedByInstalled { host: &'a str, c: &'a Constraint },
    New,
    ObsoletedBy { target: &'a str, c: &'a Constraint },
    NewerThanProfile { target: &'a str },
    SameVersion,
    NotInProfileUpdate,
    RemovedOkToRemove,
    RemovalBlocked,
}

/// One decision, not yet rendered.
#[derive(Clone, Copy, Debug)]
struct Dec<'a> {
    vib: &'a str,
    why: Why<'a>,
}

impl Dec<'_> {
    fn render(&self) -> Decision {
        let (reason, related): (String, Option<&str>) = match self.why {
            Why::AlreadyInstalled { host } => (format!("already installed ({host})"), Some(host)),
            Why::ReplacedByNewer { target, tv, hv } => {
                (format!("replaced by newer {target} ({tv} >> {hv})"), Some(target))
            }
            Why::Upgrades { host, tv, hv } => (format!("upgrades {host} ({tv} >> {hv})"), Some(host)),
            Why::DowngradedTo { target, tv, hv, why } => {
                (format!("downgraded to {target} ({tv} << {hv}; {why})"), Some(target))
            }
            Why::Downgrades { host, tv, hv, why } => {
                (format!("downgrades {host} ({tv} << {hv}; {why})"), Some(host))
            }
            Why::SkippedDowngrade { host, hv, tv } => (
                format!(
                    "installed {host} is newer ({hv} >> {tv}): a downgrade, skipped without --allow-downgrades"
                ),
                Some(host),
            ),
            Why::ObsoletedByInstalled { host, c } => {
                (format!("obsoleted by installed {host} (replaces {c})"), Some(host))
            }
            Why::New => ("new in the image profile".into(), None),
            Why::ObsoletedBy { target, c } => (format!("obsoleted by {target} (replaces {c})"), Some(target)),
            Why::NewerThanProfile { target } => (format!("newer than the profile's {target}"), Some(target)),
            Why::SameVersion => ("same version in the image profile".into(), None),
            Why::NotInProfileUpdate => {
                ("not in the image profile; profile update never removes VIBs".into(), None)
            }
            Why::RemovedOkToRemove => {
                ("not in the image profile; removed by profile install (--ok-to-remove)".into(), None)
            }
            Why::RemovalBlocked => (
                "not in the image profile: profile install would remove it, which needs --ok-to-remove".into(),
                None,
            ),
        };
        Decision { vib: self.vib.to_string(), reason, related: related.map(str::to_string) }
    }
}

/// Why a reboot or maintenance mode is needed, not yet rendered.
#[derive(Clone, Copy, Debug)]
enum Need<'a> {
    NotLiveInstallable(&'a str),
    NotLiveRemovable(&'a str),
    RemovedNotInDepot(&'a str),
    MaintenanceMode(&'a str),
}

impl Need<'_> {
    fn render(&self) -> String {
        match *self {
            Need::NotLiveInstallable(id) => format!("{id} is not live-installable"),
            Need::NotLiveRemovable(id) => format!("{id} is not live-removable"),
            Need::RemovedNotInDepot(id) => {
                format!("{id} is not in the depot; its removal is assumed to need a reboot")
            }
            Need::MaintenanceMode(id) => format!("{id} requires maintenance mode"),
        }
    }
}

/// A simulated transaction whose per-VIB reasons are rendered on demand
/// ([`DryRun::to_transaction`]); what [`simulate`] returns, rendered.
/// Problems and notes are rendered already (they are few).
#[derive(Debug)]
pub struct DryRun<'a> {
    profile: &'a str,
    opts: TxOptions,
    installed: Vec<Dec<'a>>,
    removed: Vec<Dec<'a>>,
    skipped: Vec<Dec<'a>>,
    kept: Vec<Dec<'a>>,
    /// What esxcli would report about the resulting image.
    pub problems: Vec<Problem>,
    reboot: Vec<Need<'a>>,
    maintenance: Vec<Need<'a>>,
    /// The acceptance level VIBs were checked against.
    pub acceptance_level: Option<AcceptanceLevel>,
    pub notes: Vec<String>,
}

impl DryRun<'_> {
    /// Whether esxcli would carry it out.
    pub fn succeeds(&self) -> bool {
        !self.problems.iter().any(|p| p.kind.fails())
    }
    /// Number of VIBs installed, removed, skipped and kept.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (self.installed.len(), self.removed.len(), self.skipped.len(), self.kept.len())
    }
    pub fn reboot_required(&self) -> bool {
        !self.reboot.is_empty()
    }
    pub fn maintenance_mode_required(&self) -> bool {
        !self.maintenance.is_empty()
    }
    /// Renders every decision and reason.
    pub fn to_transaction(&self) -> Transaction {
        let r = |v: &[Dec]| v.iter().map(Dec::render).collect::<Vec<_>>();
        Transaction {
            profile: self.profile.to_string(),
            mode: self.opts.mode,
            allow_downgrades: self.opts.allow_downgrades,
            ok_to_remove: self.opts.ok_to_remove,
            installed: r(&self.installed),
            removed: r(&self.removed),
            skipped: r(&self.skipped),
            kept: r(&self.kept),
            problems: self.problems.clone(),
            reboot_required: !self.reboot.is_empty(),
            reboot_reasons: self.reboot.iter().map(Need::render).collect(),
            maintenance_mode_required: !self.maintenance.is_empty(),
            maintenance_mode_reasons: self.maintenance.iter().map(Need::render).collect(),
            acceptance_level: self.acceptance_level,
            notes: self.notes.clone(),
        }
    }
}

/// Simulates applying `profile` from `depot` to `host`.
pub fn simulate(host: &HostImage, depot: &Depot, profile: &ImageProfile, opts: &TxOptions) -> Transaction {
    dry_run(host, depot, profile, opts).to_transaction()
}

/// [`simulate`] without rendering the reasons: every decision and problem
/// is made; the text of the per-VIB reasons is produced by
/// [`DryRun::to_transaction`] when wanted.
pub fn dry_run<'a>(
    host: &'a HostImage,
    depot: &'a Depot,
    profile: &'a ImageProfile,
    opts: &TxOptions,
) -> DryRun<'a> {
    let mut tx = DryRun {
        profile: &profile.name,
        opts: opts.clone(),
        installed: Vec::new(),
        removed: Vec::new(),
        skipped: Vec::new(),
        kept: Vec::new(),
        problems: Vec::new(),
        reboot: Vec::new(),
        maintenance: Vec::new(),
        acceptance_level: None,
        notes: Vec::new(),
    };

    let mut targets: Vec<&Vib> = Vec::with_capacity(profile.vib_ids.len());
    for id in &profile.vib_ids {
        match depot.vib(id) {
            Some(v) => targets.push(v),
            None => tx.problems.push(Problem {
                kind: ProblemKind::MissingVib,
                message: format!(
                    "VIB {id} is named by image profile {} but is not in the depot.",
                    profile.name
                ),
                vibs: vec![id.clone()],
                constraint: None,
            }),
        }
    }

    let hosts: Vec<Entry> = host.vibs.iter().map(|h| Entry::from_host(h, depot)).collect();
    // Name -> the last host VIB of that name.
    let mut host_by_name: FastMap<&str, usize> = FastMap::default();
    host_by_name.reserve(hosts.len());
    for (i, h) in hosts.iter().enumerate() {
        host_by_name.insert(h.name, i);
    }
    // Host VIBs with explicit replaces (the only ones that can obsolete a target).
    let replacers: Vec<usize> =
        (0..hosts.len()).filter(|&i| hosts[i].meta.is_some_and(|m| !m.replaces.is_empty())).collect();
    let mut host_removed: Vec<Option<Dec>> = vec![None; hosts.len()];
    let mut host_newer: Vec<Option<&str>> = vec![None; hosts.len()];
    // Whether a target has the same name and version as this host VIB.
    let mut host_same: Vec<bool> = vec![false; hosts.len()];
    let mut install: Vec<Entry> = Vec::with_capacity(targets.len());
    tx.installed.reserve(targets.len());

    for t in &targets {
        let te = Entry::from_vib(t);
        if let Some(&hi) = host_by_name.get(t.name.as_str()) {
            let h = &hosts[hi];
            let ord = t.version.cmp(h.version);
            if ord == std::cmp::Ordering::Equal {
                host_same[hi] = true;
            }
            match ord {
                std::cmp::Ordering::Equal => {
                    tx.skipped.push(Dec { vib: &t.id, why: Why::AlreadyInstalled { host: h.id } });
                    continue;
                }
                std::cmp::Ordering::Greater => {
                    host_removed[hi] = Some(Dec {
                        vib: h.id,
                        why: Why::ReplacedByNewer { target: &t.id, tv: &t.version, hv: h.version },
                    });
                    tx.installed.push(Dec {
                        vib: &t.id,
                        why: Why::Upgrades { host: h.id, tv: &t.version, hv: h.version },
                    });
                }
                std::cmp::Ordering::Less => {
                    if opts.allow_downgrades || opts.mode == Mode::Install {
                        let why = if opts.allow_downgrades {
                            "--allow-downgrades"
                        } else {
                            "profile install replaces the image"
                        };
                        host_removed[hi] = Some(Dec {
                            vib: h.id,
                            why: Why::DowngradedTo { target: &t.id, tv: &t.version, hv: h.version, why },
                        });
                        tx.installed.push(Dec {
                            vib: &t.id,
                            why: Why::Downgrades { host: h.id, tv: &t.version, hv: h.version, why },
                        });
                    } else {
                        tx.skipped.push(Dec {
                            vib: &t.id,
                            why: Why::SkippedDowngrade { host: h.id, hv: h.version, tv: &t.version },
                        });
                        host_newer[hi] = Some(&t.id);
                        continue;
                    }
                }
            }
        } else {
            // A host VIB that explicitly replaces the target obsoletes it.
            if opts.mode == Mode::Update {
                if let Some((h, c)) = replacers
                    .iter()
                    .filter(|&&i| host_removed[i].is_none())
                    .find_map(|&i| explicitly_replaces(&hosts[i], &te).map(|c| (&hosts[i], c)))
                {
                    tx.skipped.push(Dec { vib: &t.id, why: Why::ObsoletedByInstalled { host: h.id, c } });
                    continue;
                }
            }
            tx.installed.push(Dec { vib: &t.id, why: Why::New });
        }
        install.push(te);
    }

    // Explicit replaces of the installed VIBs obsolete further host VIBs:
    // for each host VIB, the first installed VIB (and its first constraint)
    // that replaces it.
    let install_replacers: Vec<&Entry> =
        install.iter().filter(|t| t.meta.is_some_and(|m| !m.replaces.is_empty())).collect();
    if !install_replacers.is_empty() {
        for (hi, h) in hosts.iter().enumerate() {
            if host_removed[hi].is_some() {
                continue;
            }
            if let Some((t, c)) =
                install_replacers.iter().find_map(|t| explicitly_replaces(t, h).map(|c| (t, c)))
            {
                host_removed[hi] = Some(Dec { vib: h.id, why: Why::ObsoletedBy { target: t.id, c } });
            }
        }
    }

    // Host VIBs left: kept (update) or removed (install).
    let mut final_image: Vec<&Entry> = Vec::with_capacity(hosts.len() + install.len());
    let mut blocked_removals = Vec::new();
    // The host VIB of each `tx.removed` decision.
    let mut removed_hosts: Vec<usize> = Vec::new();
    tx.kept.reserve(hosts.len());
    for (hi, h) in hosts.iter().enumerate() {
        if let Some(d) = host_removed[hi].take() {
            tx.removed.push(d);
            removed_hosts.push(hi);
            continue;
        }
        if let Some(t) = host_newer[hi] {
            tx.kept.push(Dec { vib: h.id, why: Why::NewerThanProfile { target: t } });
            final_image.push(h);
            continue;
        }
        if host_same[hi] {
            tx.kept.push(Dec { vib: h.id, why: Why::SameVersion });
            final_image.push(h);
            continue;
        }
        match opts.mode {
            Mode::Update => {
                tx.kept.push(Dec { vib: h.id, why: Why::NotInProfileUpdate });
                final_image.push(h);
            }
            Mode::Install if opts.ok_to_remove => {
                tx.removed.push(Dec { vib: h.id, why: Why::RemovedOkToRemove });
                removed_hosts.push(hi);
            }
            Mode::Install => {
                tx.kept.push(Dec { vib: h.id, why: Why::RemovalBlocked });
                blocked_removals.push(h.id.to_string());
                final_image.push(h);
            }
        }
    }
    if !blocked_removals.is_empty() {
        tx.problems.push(Problem {
            kind: ProblemKind::RemovalNotAllowed,
            message: format!(
                "Applying image profile {} would remove VIBs ({}). Use profile update to keep them, or --ok-to-remove to allow the removal.",
                profile.name,
                blocked_removals.join(", ")
            ),
            vibs: blocked_removals,
            constraint: None,
        });
    }
    final_image.extend(install.iter());

    validate(&final_image, &install, host, profile, &mut tx);

    // Reboot and maintenance mode, from what changes.
    for e in &install {
        if let Some(m) = e.meta {
            if m.needs_reboot() {
                tx.reboot.push(Need::NotLiveInstallable(e.id));
            }
            if m.maintenance_mode == Some(true) {
                tx.maintenance.push(Need::MaintenanceMode(e.id));
            }
        }
    }
    for &hi in &removed_hosts {
        let h = &hosts[hi];
        match h.meta {
            Some(m) if m.live_remove_allowed == Some(true) => {}
            Some(_) => tx.reboot.push(Need::NotLiveRemovable(h.id)),
            None => tx.reboot.push(Need::RemovedNotInDepot(h.id)),
        }
    }
    tx
}

fn validate(image: &[&Entry], install: &[Entry], host: &HostImage, profile: &ImageProfile, tx: &mut DryRun) {
    // Name -> entries providing it (implicit and explicit provides), in
    // image order: linked lists in one vector, no allocation per name.
    let providers = Providers::build(image);
    let unknown: Vec<&str> = image.iter().filter(|e| e.meta.is_none()).map(|e| e.id).collect();
    if !unknown.is_empty() {
        tx.notes.push(format!(
            "{} kept VIB(s) are not in the depot, so their dependencies and conflicts were not checked: {}",
            unknown.len(),
            unknown.join(", ")
        ));
    }
    for (i, e) in image.iter().enumerate() {
        let Some(m) = e.meta else { continue };
        for c in &m.depends {
            let ok = providers.of(c.name.as_str()).any(|j| provides(image[j], c));
            if !ok {
                tx.problems.push(Problem {
                    kind: ProblemKind::DependencyError,
                    message: format!(
                        "VIB {} requires {c}, but the requirement cannot be satisfied within the ImageProfile.",
                        e.id
                    ),
                    vibs: vec![e.id.to_string()],
                    constraint: Some(c.to_string()),
                });
            }
        }
        for c in &m.conflicts {
            for j in providers.of(c.name.as_str()) {
                if j != i && provides(image[j], c) {
                    let (a, b) =
                        if e.id < image[j].id { (&e.id, &image[j].id) } else { (&image[j].id, &e.id) };
                    let msg = format!("VIBs ({a}, {b}) are conflicting with each other.");
                    if !tx.problems.iter().any(|p| p.message == msg) {
                        tx.problems.push(Problem {
                            kind: ProblemKind::Conflict,
                            message: msg,
                            vibs: vec![a.to_string(), b.to_string()],
                            constraint: Some(c.to_string()),
                        });
                    }
                }
            }
        }
        for c in &m.replaces {
            for j in providers.of(c.name.as_str()) {
                if j != i && provides(image[j], c) {
                    tx.problems.push(Problem {
                        kind: ProblemKind::Obsoleted,
                        message: format!("VIB {} is obsoleted by {}", image[j].id, e.id),
                        vibs: vec![image[j].id.to_string(), e.id.to_string()],
                        constraint: Some(c.to_string()),
                    });
                }
            }
        }
    }

    // Acceptance: the host's level if known, else the profile's.
    let level = host.acceptance.or(profile.acceptance);
    tx.acceptance_level = level;
    match level {
        None => tx.notes.push("host acceptance level unknown: acceptance not checked".into()),
        Some(l) => {
            for e in install {
                if let Some(a) = e.acceptance {
                    if a < l {
                        tx.problems.push(Problem {
                            kind: ProblemKind::AcceptanceError,
                            message: format!(
                                "VIB {}'s acceptance level is {}, which is not compliant with the ImageProfile acceptance level {}",
                                e.id,
                                acceptance_short(a),
                                acceptance_short(l)
                            ),
                            vibs: vec![e.id.to_string()],
                            constraint: None,
                        });
                    }
                }
            }
        }
    }

    // Extensibility rules (vib20-extensibility.rng) for community/partner VIBs.
    for e in install {
        let Some(m) = e.meta else { continue };
        let bad = m.extensibility_violations();
        if let (false, Some(a)) = (bad.is_empty(), m.acceptance) {
            tx.problems.push(Problem {
                kind: ProblemKind::Extensibility,
                message: format!(
                    "VIB ({}) failed a check of extensibility rules for acceptance level '{}': {} file(s) outside the allowed paths ({}{})",
                    e.id,
                    acceptance_short(a),
                    bad.len(),
                    bad.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                    if bad.len() > 3 { ", ..." } else { "" }
                ),
                vibs: vec![e.id.to_string()],
                constraint: None,
            });
        }
    }

    // Hardware platform requirements.
    for e in install {
        let Some(m) = e.meta else { continue };
        if m.hw_platforms.is_empty() {
            continue;
        }
        let Some(vendor) = &host.hw_vendor else {
            tx.notes.push(format!("{} requires a hardware platform; the host's vendor is unknown", e.id));
            continue;
        };
        let ok = m.hw_platforms.iter().any(|p| {
            p.vendor.eq_ignore_ascii_case(vendor)
                && p.model
                    .as_ref()
                    .is_none_or(|pm| host.hw_model.as_ref().is_some_and(|hm| hm.eq_ignore_ascii_case(pm)))
        });
        if !ok {
            let wants: Vec<String> = m
                .hw_platforms
                .iter()
                .map(|p| match &p.model {
                    Some(md) => format!("{} {}", p.vendor, md),
                    None => p.vendor.clone(),
                })
                .collect();
            tx.problems.push(Problem {
                kind: ProblemKind::HardwarePlatform,
                message: format!(
                    "VIB {} requires hardware platform {}, but the host is {} {}",
                    e.id,
                    wants.join(" or "),
                    vendor,
                    host.hw_model.as_deref().unwrap_or("(model unknown)")
                ),
                vibs: vec![e.id.to_string()],
                constraint: None,
            });
        }
    }
}

/// Which entries of an image provide a name (implicitly or explicitly).
struct Providers<'a> {
    /// Name -> (first, last) link.
    heads: FastMap<&'a str, (u32, u32)>,
    /// (image index, next link or `u32::MAX`).
    links: Vec<(u32, u32)>,
}

impl<'a> Providers<'a> {
    fn build(image: &[&Entry<'a>]) -> Providers<'a> {
        let mut p = Providers { heads: FastMap::default(), links: Vec::with_capacity(image.len() * 2) };
        p.heads.reserve(image.len() * 2);
        for (i, e) in image.iter().enumerate() {
            p.add(e.name, i);
            if let Some(m) = e.meta {
                for pr in &m.provides {
                    p.add(pr.name.as_str(), i);
                }
            }
        }
        p
    }

    fn add(&mut self, name: &'a str, i: usize) {
        let link = self.links.len() as u32;
        self.links.push((i as u32, u32::MAX));
        match self.heads.get_mut(name) {
            Some((_, last)) => {
                self.links[*last as usize].1 = link;
                *last = link;
            }
            None => {
                self.heads.insert(name, (link, link));
            }
        }
    }

    fn of(&self, name: &str) -> impl Iterator<Item = usize> + '_ {
        let mut next = self.heads.get(name).map(|h| h.0).unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            if next == u32::MAX {
                return None;
            }
            let (i, n) = self.links[next as usize];
            next = n;
            Some(i as usize)
        })
    }
}

/// Installed VIBs that the profile would take back in time: same name, the
/// profile's version sorts lower (esximage order). The seed's vmkusb case.
pub fn backwards_vibs(host: &HostImage, profile: &ImageProfile) -> Vec<(VibId, VibId)> {
    let by_name: HashMap<&str, &HostVib> = host.vibs.iter().map(|h| (h.name.as_str(), h)).collect();
    let mut out = Vec::new();
    for id in &profile.vib_ids {
        let Some(t) = VibId::parse(id) else { continue };
        if let Some(h) = by_name.get(t.name.as_str()) {
            if h.version > t.version {
                out.push((h.vib_id(), t));
            }
        }
    }
    out
}

/// [`simulate`] against many profiles, spread over the available cores
/// (what `dry-run against every profile of a depot` needs). Results are in
/// the order of `profiles`.
pub fn simulate_many(
    host: &HostImage,
    depot: &Depot,
    profiles: &[ImageProfile],
    opts: &TxOptions,
) -> Vec<Transaction> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 16);
    let chunk = profiles.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = profiles
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || part.iter().map(|p| simulate(host, depot, p, opts)).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .zip(profiles.chunks(chunk))
            .flat_map(|(h, part)| {
                // A panicking worker is a bug; redo its part here so the caller
                // still gets one transaction per profile.
                h.join().unwrap_or_else(|_| part.iter().map(|p| simulate(host, depot, p, opts)).collect())
            })
            .collect()
    })
}
